"""Locks on the index folder (research/reliability.md W1-W5): whoosh's write lock is a kernel
flock that dies with its process, so the lock file is never deleted; a writer our own process
abandoned (an exception kept alive holds it) is found and released."""

from __future__ import annotations

import errno
import gc
import logging
import os
import time
from pathlib import Path

from whoosh.writing import SegmentWriter

from index.errors import IndexBusy as IndexBusy  # re-exported: raised here
from index.whoosh_writer import _ACTIVE, _discard

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: whoosh's own lock still guards writers
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)


def _reclaim_abandoned(folder: Path) -> int:
    """Release writers of this process on `folder` that nobody is using (a failed writer whose
    exception is kept alive, as a Textual worker keeps `.error`); returns how many."""
    gc.collect()  # an unreferenced writer releases its lock when collected
    target = os.path.realpath(folder)
    reclaimed = 0
    for obj in gc.get_objects():
        if not isinstance(obj, SegmentWriter) or id(obj) in _ACTIVE:
            continue
        lock = getattr(obj, "writelock", None)
        if lock is None or getattr(lock, "fd", None) is None:
            continue
        storage_folder = getattr(getattr(obj, "storage", None), "folder", None)
        if storage_folder and os.path.realpath(storage_folder) == target:
            log.warning("releasing an index writer abandoned by a failure in this process")
            _discard(obj)
            reclaimed += 1
    return reclaimed


def _lock_holder(lock_path: Path) -> int | None:
    """The pid holding a flock on `lock_path`, from /proc/locks (Linux), if it can be told."""
    try:
        inode = os.stat(lock_path).st_ino
        with open("/proc/locks", encoding="ascii", errors="replace") as locks:
            for line in locks:
                fields = line.split()
                # 1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF
                if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5].endswith(f":{inode}"):
                    return int(fields[4])
    except (OSError, ValueError):
        return None
    return None


def _same_file(fd: int, path: Path) -> bool:
    try:
        held, current = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (held.st_dev, held.st_ino) == (current.st_dev, current.st_ino)


class _FolderLock:
    """An flock on a file that is never deleted, taken with a timeout."""

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self.fd: int | None = None

    def __enter__(self) -> _FolderLock:
        if fcntl is None:  # pragma: no cover
            return self
        self.fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o644)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES):
                    os.close(self.fd)
                    raise
            if time.monotonic() > deadline:
                os.close(self.fd)
                self.fd = None
                holder = _lock_holder(self.path)
                raise IndexBusy(
                    "the search index is being rebuilt by another margin process"
                    + (f" (pid {holder})" if holder else "")
                    + "; try again when it finishes"
                )
            time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
