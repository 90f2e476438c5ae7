"""Open a library file with the settings every connection needs, and run writes safely.

Each thread opens its own connection (sqlite3 refuses to share one). Every write starts with
BEGIN IMMEDIATE: a deferred BEGIN that reads then writes fails at once with "database is
locked" when another process writes, whatever busy_timeout says.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from store.errors import LibraryError

BUSY_TIMEOUT_MS = 10_000

# SQLite's messages, said so that a user knows what to do.
_ERRORS = {
    "database is locked": "the library is busy (another margin is writing); try again",
    "database or disk is full": "the disk is full; nothing was written",
    "disk I/O error": "the disk refused the write (full, or a quota); nothing was written",
    "file is not a database": "this file is not a margin library",
    "database disk image is malformed": (
        "the library file is damaged (SQLite: database disk image is malformed); restore your "
        "last backup, or salvage what is left: sqlite3 FILE .recover | sqlite3 NEW.margin"
    ),
    "attempt to write a readonly database": "the library is read-only",
}


def explain(error: sqlite3.Error) -> str:
    """One line for a user, from an sqlite3 error."""
    text = str(error)
    for needle, said in _ERRORS.items():
        if needle in text:
            return said
    return text


class _Rescue(sqlite3.Connection):
    """A read-only connection opened because the disk is full: reads, exports and backups to
    another disk still work; a write is refused with a line that says why (issue 15)."""


FULL_DISK_READ_ONLY = (
    "the disk is full, so the library was opened read-only: free some space and try again "
    "(reading, exporting and backing up to another disk still work)"
)


def _full(error: sqlite3.Error) -> bool:
    text = str(error)
    return "disk is full" in text or "disk I/O error" in text


def connect(path: Path) -> sqlite_utils.Database:
    """A connection to the library at `path` with WAL, busy_timeout and foreign keys on.

    With a full disk, SQLite cannot create the WAL's -shm file (32 KB), so even `margin list`
    failed (issue 15); an existing library then opens read-only and immutable instead.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = None
    try:
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise LibraryError(f"{path}: could not switch the library to WAL (got {mode})")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.DatabaseError as error:
        if conn is not None:
            conn.close()
        if _full(error) and path.is_file() and path.stat().st_size:
            return _read_only(path, error)
        raise LibraryError(f"{path}: {explain(error)}") from error
    return sqlite_utils.Database(conn)


def _read_only(path: Path, cause: sqlite3.Error) -> sqlite_utils.Database:
    # immutable=1: SQLite reads the file as it is, without the -shm it cannot create. Safe
    # enough for a rescue: nobody can write to a full disk either.
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, factory=_Rescue)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as error:
        raise LibraryError(f"{path}: {explain(cause)}") from error
    return sqlite_utils.Database(conn)


def read_only(db: sqlite_utils.Database) -> bool:
    """True when the library was opened read-only because the disk is full."""
    return isinstance(db.conn, _Rescue)


def _said(error: sqlite3.DatabaseError) -> bool:
    # Locked, disk full, I/O, damage: the user's situation. A constraint broken is our bug.
    return isinstance(error, sqlite3.OperationalError) or type(error) is sqlite3.DatabaseError


@contextmanager
def write(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One write transaction: BEGIN IMMEDIATE, commit on success, roll back on any exception.

    A locked, full or damaged library raises LibraryError with a line for the user (every
    screen reports a MarginError and goes on); nothing of the transaction is kept.
    """
    conn = db.conn
    if isinstance(conn, _Rescue):
        raise LibraryError(FULL_DISK_READ_ONLY)
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    except sqlite3.DatabaseError as error:  # at BEGIN, in the body or at COMMIT
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if _said(error):
            raise LibraryError(explain(error)) from error
        raise


@contextmanager
def read(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One read transaction: a consistent snapshot for a caller that reads several tables."""
    conn = db.conn
    conn.execute("BEGIN")
    try:
        yield db
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")
