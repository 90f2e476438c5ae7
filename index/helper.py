"""A helper process that shares bulk indexing (a batch of at least HELPER_MIN_CHARS): it writes
half the batch's documents as a segment of its own, without the lock, and the lock holder
commits that segment with its own in one TOC. The app's indexing child runs at niceness 10
(measured on 2 cores: catch-up 27.5 s instead of 47.4 s; see index.sync), and its helper with
it; a command's own import runs at the caller's priority."""

from __future__ import annotations

import logging
import os
import pickle
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from whoosh import index as whoosh_index

from index.store_reader import _add_stored, _segment_of
from index.whoosh_writer import HELPER_TEMP, LIMIT_MB, _discard, _Writer
from store.library import StoreReader

log = logging.getLogger(__name__)

# Niceness of the indexing child and its helper, so searches in the app come first.
BACKGROUND_NICENESS = 10

# -- a helper process -----------------------------------------------------------------------------


def _helper_main() -> None:
    """A helper process: index the documents it is sent into a new segment of the given index,
    without the lock (the process holding it commits that segment with its own). Jobs and
    answers are pickles over stdin and stdout; nothing else is written to either."""
    from store.library import Library

    # No nice() here: a helper inherits its parent's priority. The app's background child is
    # niced, so its helper is; a CLI import is foreground work, and its helper at nice 10 got
    # 3-4 % of a core on a busy machine (10 books 2.0-2.8x slower for the same CPU, issue 11).
    die_with_parent()
    jobs, answers = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # stray prints must not corrupt the answers
    with Library(sys.argv[1]) as lib:
        while True:
            try:
                job = pickle.load(jobs)
            except EOFError:
                return
            if job is None:
                return
            folder, doc_ids = job
            writer = None
            try:
                ix = whoosh_index.open_dir(folder)
                writer = _Writer(ix, _lk=False, private_temp=True, limitmb=LIMIT_MB)
                for doc_id in doc_ids:
                    _add_stored(writer, lib.reader, doc_id)
                answer: tuple = ("segment", writer.finish_segment())
            except BaseException as error:  # noqa: BLE001 - the parent indexes them instead
                if writer is not None:
                    _discard(writer)
                answer = ("error", f"{type(error).__name__}: {error}")
            pickle.dump(answer, answers, protocol=pickle.HIGHEST_PROTOCOL)
            answers.flush()


def die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies: after 58 of 120 kill -9s of a
    margin command its helper ran on for about 7 s (issue 15). Elsewhere a no-op; the helper
    still stops at the end of its job, when its stdin closes. Linux sends the signal when the
    parent *thread* ends: every helper and child is waited for by the call that started it."""
    parent = os.getppid()
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _background() -> None:
    """Lower this process's CPU priority: bulk indexing yields to the app it works for."""
    try:
        os.nice(max(0, BACKGROUND_NICENESS - os.nice(0)))
    except (AttributeError, OSError):  # pragma: no cover - no nice() here
        pass


class _Helper:
    """A second process sharing bulk indexing (2 cores measured). Started with subprocess, not
    forked, so it inherits no lock (research W1: procs=2 workers, forked, held the write
    lock after a crash) and needs no `__main__` guard in whatever script runs us."""

    def __init__(self, library_path: Path) -> None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from index.helper import _helper_main; _helper_main()",
                str(library_path),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )

    def start(self, folder: Path, doc_ids: list[str]) -> bool:
        try:
            stdin = self._process.stdin
            assert stdin is not None  # opened with stdin=PIPE
            pickle.dump((str(folder), doc_ids), stdin, protocol=2)
            stdin.flush()
            return True
        except OSError:
            return False

    def result(self) -> object | None:
        """The helper's segment, or None when it failed (the caller indexes those itself)."""
        try:
            kind, value = pickle.load(self._process.stdout)  # type: ignore[arg-type]
        except (EOFError, OSError, pickle.UnpicklingError):
            return None
        if kind == "error":
            log.warning("index helper failed: %s", value)
            return None
        return value

    def close(self) -> None:
        try:
            stdin = self._process.stdin
            assert stdin is not None  # opened with stdin=PIPE
            pickle.dump(None, stdin, protocol=2)
            stdin.close()
        except OSError:
            pass
        try:
            self._process.wait(5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()


def _remove_helper_scratch(folder: Path) -> None:
    # Scratch folders of helpers that died; only called by the lock holder, whose own
    # helper is idle then.
    for path in folder.glob(f"*.{HELPER_TEMP}*.tmp"):
        shutil.rmtree(path, ignore_errors=True)


def _helped(helpers: list, theirs: set[str], ix: object, db: StoreReader) -> Callable[[], list]:
    """What commit_with adds: the helper's segment, or (when it failed) one made here."""

    def more() -> list:
        if not theirs:
            return []
        segment = helpers[0].result()
        if segment is not None:
            return [segment]
        return _segment_of(ix, db, theirs)

    return more
