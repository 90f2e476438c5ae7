"""The merge rule for one record that both sides hold: a pure function of the two versions,
their authors and times, and what this library remembers of earlier exchanges.

Kept apart from the merge's reading and writing so each case is a row of a table test
(tests/test_merge_rule.py), as Hypothesis's anchoring tests do for `match-quote`.
"""

from __future__ import annotations

from enum import StrEnum

from .validate import normal_time


class Outcome(StrEnum):
    """What the merge does with one incoming record."""

    ADDED = "added"
    """Not here yet: stored as it comes."""
    UNCHANGED = "unchanged"
    """The same version is here."""
    KEPT_NEWER = "kept_newer"
    """Theirs is older than ours (or a version already seen): ours stays."""
    UPDATED = "updated"
    """Theirs replaces ours: same author, derived from ours or newer, ours unedited since."""
    CONFLICT_AUTHOR = "conflict_author"
    """Another author's version of a record: never overwritten, kept as a conflict."""
    CONFLICT_BOTH = "conflict_both"
    """Both sides edited the record since they last exchanged it."""
    CONFLICT_SAME_TIME = "conflict_same_time"
    """Two different versions with the same modified time and no history to choose by."""

    @property
    def is_conflict(self) -> bool:
        """True for the outcomes stored as a conflict for the user to settle."""
        return self.name.startswith("CONFLICT_")


def decide(
    *,
    mine: str,
    theirs: str,
    previous: str | None,
    known: set[str],
    base: tuple[str, str | None] | None,
    local_author: str,
    their_author: str,
    local_modified: str,
    their_modified: str,
) -> Outcome:
    """The merge rule (store.exchange.merge's docstring has it in words).

    Args:
        mine, theirs: the versions (digests) of the record here and in the bundle.
        previous: the version theirs says it was derived from, if it says.
        known: every version of the record this library has seen.
        base: (version, parent) this library's record was last equal to when exchanged.
    """
    if theirs == mine:
        return Outcome.UNCHANGED
    if theirs in known:
        return Outcome.KEPT_NEWER  # a version already seen here: an old copy
    if local_author != their_author:
        return Outcome.CONFLICT_AUTHOR
    if previous is not None and previous == mine:
        return Outcome.UPDATED  # derived from exactly what we hold
    if previous is not None and previous in known:
        return Outcome.CONFLICT_BOTH  # derived from a version we have since moved on from
    newer = normal_time(their_modified) > normal_time(local_modified)
    if base is None:  # never exchanged from here: the newer wins
        if newer:
            return Outcome.UPDATED
        if normal_time(their_modified) < normal_time(local_modified):
            return Outcome.KEPT_NEWER
        return Outcome.CONFLICT_SAME_TIME
    if base[0] == mine:  # nothing edited here since the last exchange
        return Outcome.UPDATED if newer else Outcome.KEPT_NEWER
    return Outcome.CONFLICT_BOTH
