"""Forward-only migrations keyed by `PRAGMA user_version`.

Each step runs in its own BEGIN IMMEDIATE transaction together with the version bump, so a
crash leaves the file at the old version or the new one, never between.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import sqlite_utils

from store import schema
from store.errors import LibraryError


def _script(sql: str) -> Callable[[sqlite3.Connection], None]:
    def run(conn: sqlite3.Connection) -> None:
        for statement in sql.split(";"):
            if statement.strip():
                conn.execute(statement)

    return run


# MIGRATIONS[n] takes a library from version n to n + 1.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _script(schema.V1),
    _script(schema.V2),
    _script(schema.V3),
    _script(schema.V4),
    _script(schema.V5),
]
SCHEMA_VERSION = len(MIGRATIONS)


def version(db: sqlite_utils.Database) -> int:
    """The schema version recorded in the file."""
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite_utils.Database, target: int = SCHEMA_VERSION) -> int:
    """Bring the library up to `target`; returns the version it started from."""
    start = version(db)
    if start > SCHEMA_VERSION:
        raise LibraryError(
            f"this library was written by a newer margin (schema {start}, this one knows "
            f"{SCHEMA_VERSION}); upgrade margin to open it"
        )
    conn = db.conn
    for step in range(start, target):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-read under the lock: another process may have migrated meanwhile.
            if version(db) != step:
                conn.execute("ROLLBACK")
                continue
            MIGRATIONS[step](conn)
            conn.execute(f"PRAGMA user_version = {step + 1}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return start
