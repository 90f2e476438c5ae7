"""What exchanging notes remembers: the versions each side has seen, the conflicts that wait
for a decision, the rows a merge replaced, and the merges made (schema version 3).

A part of `Library` (it inherits this class), so the library stays the one writer of its
tables; merge and export call these methods, never the connection. These tables are
bookkeeping, not notes: the index does not follow them, so they write no change-log entry.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from store import db as dbmod
from store.records import Author, new_id, now


class ExchangeLedger:
    """The exchange tables' reads and writes (mixed into `Library`)."""

    _db: Any

    def _rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict]:
        raise NotImplementedError  # Library's

    def exchange_base(self, entity: str, record_id: str) -> tuple[str, str | None] | None:
        """(version, parent) this library's record was last equal to when exchanged, or None."""
        row = self._db.execute(
            "SELECT version, parent FROM exchange_base WHERE entity = ? AND record_id = ?",
            [entity, record_id],
        ).fetchone()
        return (row[0], row[1]) if row else None

    def known_versions(self, entity: str, record_id: str) -> set[str]:
        """Every version of a record this library has seen (exported or merged)."""
        return {
            r[0]
            for r in self._db.execute(
                "SELECT version FROM exchange_versions WHERE entity = ? AND record_id = ?",
                [entity, record_id],
            ).fetchall()
        }

    def remember_version(
        self, entity: str, record_id: str, version: str, parent: str | None, *, base: bool
    ) -> None:
        """Remember a version as seen, and (base=True) as the one this library now holds."""
        if dbmod.read_only(self._db):  # a full disk: the export goes out, its lineage is not kept
            return
        self._db.execute(
            "INSERT OR IGNORE INTO exchange_versions (entity, record_id, version, parent, seen) "
            "VALUES (?, ?, ?, ?, ?)",
            [entity, record_id, version, parent, now()],
        )
        if base and self.exchange_base(entity, record_id) != (version, parent):
            self._db.execute(
                "INSERT OR REPLACE INTO exchange_base (entity, record_id, version, parent) "
                "VALUES (?, ?, ?, ?)",
                [entity, record_id, version, parent],
            )

    def add_conflict(
        self,
        entity: str,
        record_id: str,
        *,
        reason: str,
        mine: dict,
        theirs: dict,
        theirs_version: str,
        source: str,
    ) -> dict:
        """Store a conflict (once per version of theirs); returns the stored row."""
        self._db.execute(
            "INSERT OR IGNORE INTO exchange_conflicts (id, entity, record_id, reason, mine, "
            "theirs, theirs_version, source, detected) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                new_id(),
                entity,
                record_id,
                reason,
                json.dumps(mine, ensure_ascii=False, sort_keys=True),
                json.dumps(theirs, ensure_ascii=False, sort_keys=True),
                theirs_version,
                source,
                now(),
            ],
        )
        return self._rows(
            "SELECT * FROM exchange_conflicts WHERE entity = ? AND record_id = ? "
            "AND theirs_version = ?",
            [entity, record_id, theirs_version],
        )[0]

    def conflict_rows(self, *, include_resolved: bool = False) -> list[dict]:
        """Stored conflicts, oldest first (open ones only unless asked)."""
        sql = "SELECT * FROM exchange_conflicts"
        if not include_resolved:
            sql += " WHERE resolved IS NULL"
        return self._rows(sql + " ORDER BY detected, record_id")

    def conflict_row(self, conflict_id: str) -> dict | None:
        """The stored conflict with this id, or None."""
        rows = self._rows("SELECT * FROM exchange_conflicts WHERE id = ?", [conflict_id])
        return rows[0] if rows else None

    def settle_conflicts(self, entity: str, record_id: str, version: str) -> None:
        """Close the open conflicts whose other version is now the one held here."""
        self._db.execute(
            "UPDATE exchange_conflicts SET resolved = ?, resolution = 'theirs' WHERE entity = ? "
            "AND record_id = ? AND theirs_version = ? AND resolved IS NULL",
            [now(), entity, record_id, version],
        )

    def mark_resolved(self, conflict_id: str, keep: str, by: str | None = None) -> None:
        """Record how a conflict was settled ("mine", "theirs", "both" or "edit") and by whom."""
        self._db.execute(
            "UPDATE exchange_conflicts SET resolved = ?, resolution = ?, resolved_by = ? "
            "WHERE id = ?",
            [now(), keep, by, conflict_id],
        )

    def open_conflict(self, entity: str, record_id: str, theirs_version: str) -> dict | None:
        """The open conflict already stored for this version of theirs, or None."""
        rows = self._rows(
            "SELECT * FROM exchange_conflicts WHERE entity = ? AND record_id = ? "
            "AND theirs_version = ? AND resolved IS NULL",
            [entity, record_id, theirs_version],
        )
        return rows[0] if rows else None

    def add_history(self, import_id: str, entity: str, record_id: str, previous: dict) -> None:
        """Keep the row a merge is about to replace."""
        self._db.execute(
            "INSERT INTO exchange_history (import_id, entity, record_id, previous, replaced_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [
                import_id,
                entity,
                record_id,
                json.dumps(previous, ensure_ascii=False, sort_keys=True),
                now(),
            ],
        )

    def add_import(
        self, import_id: str, *, source: str, sha256: str | None, importer: Author, summary: str
    ) -> None:
        """Record a merge that changed something, with who made it."""
        self._db.table("exchange_imports").insert(
            {
                "id": import_id,
                "source": source,
                "sha256": sha256,
                "imported_at": now(),
                "importer_id": importer.id,
                "importer_name": importer.name,
                "summary": summary,
            }
        )
