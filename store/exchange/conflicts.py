"""Conflicts: two versions of one record that a merge would not choose between, stored until
the user keeps one (store.exchange.merge.resolve_conflict)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from store.library import Library


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

    def line(self) -> str:
        """One line for the user."""
        return f"{self.entity} {self.record_id}: {self.reason}"


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
    )


def list_conflicts(lib: Library, *, include_resolved: bool = False) -> list[Conflict]:
    """The conflicts merges have stored, oldest first (open ones only unless asked)."""
    return [conflict_from_row(r) for r in lib.conflict_rows(include_resolved=include_resolved)]
