"""Conflicts: two versions of one record that a merge would not choose between, stored until
the user keeps one (store.exchange.merge.resolve_conflict)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from store.errors import NotFound
from store.library import Library
from store.sanitize import clip


@dataclass(frozen=True)
class Conflict:
    """Two versions of one record that merge would not choose between."""

    id: str
    entity: str
    record_id: str
    reason: str
    mine: dict
    theirs: dict
    source: str
    detected: str
    resolved: str | None = None
    resolution: str | None = None
    resolved_by: str | None = None
    # What a person recognises it by: the document's title and the quote (a link: its claim's).
    document: str = ""
    quote: str = ""

    @property
    def mine_editor(self) -> str:
        """Who made this library's version."""
        return _name_of(self.mine)

    @property
    def theirs_editor(self) -> str:
        """Who made the sender's version."""
        return _name_of(self.theirs)

    def to_json(self) -> dict:
        """Every field, and who made each version."""
        out = {k: v for k, v in self.__dict__.items()}
        out.update(mine_editor=self.mine_editor, theirs_editor=self.theirs_editor)
        return out

    def line(self) -> str:
        """One line for the user: what, where, and the reason (which names both editors)."""
        where = ""
        if self.document:
            where += f" on {clip(self.document, 40)}"
        if self.quote:
            where += f" \u201c{clip(' '.join(self.quote.split()), 50)}\u201d"
        return f"{self.entity} {self.record_id[:8]}{where}: {self.reason}"


def _name_of(version: dict) -> str:
    return str(version.get("editor_name") or version.get("author_name") or "someone")


def conflict_from_row(row: dict) -> Conflict:
    """A stored conflict row as a Conflict."""
    return Conflict(
        id=row["id"],
        entity=row["entity"],
        record_id=row["record_id"],
        reason=row["reason"],
        mine=json.loads(row["mine"]),
        theirs=json.loads(row["theirs"]),
        source=row["source"],
        detected=row["detected"],
        resolved=row["resolved"],
        resolution=row["resolution"],
        resolved_by=row.get("resolved_by"),
    )


def list_conflicts(lib: Library, *, include_resolved: bool = False) -> list[Conflict]:
    """The conflicts merges have stored, oldest first (open ones only unless asked), each with
    its document's title and quote."""
    found = []
    for row in lib.conflict_rows(include_resolved=include_resolved):
        conflict = conflict_from_row(row)
        found.append(replace(conflict, **_whereabouts(lib, conflict)))
    return found


def _whereabouts(lib: Library, conflict: Conflict) -> dict[str, Any]:
    annotation_id = conflict.record_id
    if conflict.entity == "link":
        annotation_id = str(conflict.mine.get("claim_id") or conflict.theirs.get("claim_id"))
    note = lib.annotation_row(annotation_id)
    if note is None:
        return {"quote": str(conflict.mine.get("exact", ""))}
    try:
        title = lib.document(note.document_id).title
    except NotFound:
        title = ""
    return {"document": title, "quote": note.exact}


def settled_summary(lib: Library) -> str:
    """What became of the conflicts, for a list with none open: how many were settled, how,
    and the last one; or that no merge has left any."""
    settled = [c for c in list_conflicts(lib, include_resolved=True) if c.resolved]
    if not settled:
        return "No conflicts: no merge has left one to settle."
    ways = {"mine": "kept mine", "theirs": "took theirs", "both": "kept both", "edit": "edited"}
    counts: dict[str, int] = {}
    for c in settled:
        counts[c.resolution or "theirs"] = counts.get(c.resolution or "theirs", 0) + 1
    how = ", ".join(f"{n} {ways.get(k, k)}" for k, n in counts.items())
    last = max(settled, key=lambda c: c.resolved or "")
    by = f" by {last.resolved_by}" if last.resolved_by else ""
    where = f" on {clip(last.document, 40)}" if last.document else ""
    when = (last.resolved or "")[:16].replace("T", " ")
    return (
        f"No open conflicts: {len(settled)} settled ({how}); the last at {when} UTC{by}, "
        f"{last.entity} {last.record_id[:8]}{where}."
    )
