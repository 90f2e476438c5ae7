"""When a verdict's ground moved: the pure rule comparing what a verdict judged with now.

A verdict records its ground (table `review_grounds`): the claim's quote and anchor state and
the evidence links with each piece of evidence's anchor state. The claim's latest verdict is
stale when, since then, the claim's words changed (a new version of its document moved it,
or it was re-attached), the claim lost its anchor, or evidence was added, removed (link or
evidence deleted) or orphaned. A new verdict records a new ground, which clears it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Ground:
    """What a verdict judged."""

    review_id: str
    quote: str
    """The claim's words when the verdict was given."""
    claim_state: str
    """The claim's anchor state then (ok, moved, orphaned)."""
    evidence: dict[str, str]
    """Live evidence links then: link id -> the evidence annotation's anchor state."""


@dataclass(frozen=True)
class Staleness:
    """How a claim's ground moved since its latest verdict (nothing moved: not `stale`)."""

    claim_id: str
    review_id: str
    verdict: str
    verdict_created: str
    text_changed: bool = False
    claim_orphaned: bool = False
    added: tuple[str, ...] = ()
    """Link ids of evidence linked since the verdict."""
    removed: tuple[str, ...] = ()
    """Link ids of evidence unlinked (or deleted) since the verdict."""
    orphaned: tuple[str, ...] = ()
    """Link ids whose evidence lost its anchor since the verdict."""

    @property
    def stale(self) -> bool:
        return bool(
            self.text_changed or self.claim_orphaned or self.added or self.removed or self.orphaned
        )

    def reasons(self) -> list[str]:
        """Short reasons, for the board's column and the CLI."""
        found = []
        if self.text_changed:
            found.append("claim text changed")
        if self.claim_orphaned:
            found.append("claim orphaned")
        for count, word in (
            (len(self.added), "added"),
            (len(self.removed), "removed"),
            (len(self.orphaned), "orphaned"),
        ):
            if count:
                found.append(f"{count} {word}")
        return found

    def describe(self) -> str:
        """One line for the claim screen: what changed since the verdict of which day."""
        day = verdict_day(self.verdict_created)
        parts = []
        if self.text_changed:
            parts.append(f"the claim's words changed since the verdict of {day}")
        if self.claim_orphaned:
            parts.append(f"the claim lost its place in its document since the verdict of {day}")
        evidence = [r for r in self.reasons() if r[0].isdigit()]
        if evidence:
            parts.append(f"evidence changed since the verdict of {day}: {', '.join(evidence)}")
        return "; ".join(parts)

    def to_json(self) -> dict:
        return {
            "stale": self.stale,
            "review_id": self.review_id,
            "verdict": self.verdict,
            "verdict_created": self.verdict_created,
            "text_changed": self.text_changed,
            "claim_orphaned": self.claim_orphaned,
            "added": list(self.added),
            "removed": list(self.removed),
            "orphaned": list(self.orphaned),
            "reasons": self.reasons(),
        }


def verdict_day(created: str) -> str:
    """'12 March 2026' for a stored time (the stored string itself if it does not parse)."""
    try:
        moment = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return created
    return f"{moment.day} {moment:%B %Y}"


def compare(
    ground: Ground,
    *,
    claim_id: str,
    verdict: str,
    verdict_created: str,
    quote: str,
    claim_state: str,
    evidence: dict[str, str],
) -> Staleness:
    """The claim now (`quote`, `claim_state`, live links -> evidence state) against `ground`."""
    then, current = ground.evidence, evidence
    return Staleness(
        claim_id=claim_id,
        review_id=ground.review_id,
        verdict=verdict,
        verdict_created=verdict_created,
        text_changed=quote != ground.quote,
        claim_orphaned=claim_state == "orphaned" and ground.claim_state != "orphaned",
        added=tuple(sorted(set(current) - set(then))),
        removed=tuple(sorted(set(then) - set(current))),
        orphaned=tuple(
            sorted(
                link_id
                for link_id, state in current.items()
                if state == "orphaned" and then.get(link_id, "orphaned") != "orphaned"
            )
        ),
    )
