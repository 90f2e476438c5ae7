"""Catching the index up in a spawned child process: bulk indexing holds the GIL, so in a
thread it made every search of the app 30-40x slower; in a child it costs the app nothing."""

from __future__ import annotations

import multiprocessing
import os
import time
from multiprocessing.connection import Connection
from pathlib import Path

from index.helper import _background, die_with_parent
from index.sync import IndexBusy, Progress, SearchIndex
from store.errors import MarginError
from store.processes import start_child

# -- catching up in a child process ------------------------------------------------------------


def _child_sync(library_path: str, index_dir: str, conn: Connection) -> None:
    """The child's side of sync_in_child: sync, report progress, never write to the terminal."""
    try:
        # Off the terminal entirely: a library's print or traceback must not draw over the
        # app, and the child has no business with the keyboard.
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.close(devnull)
    except OSError:
        pass
    from store.library import Library

    die_with_parent()
    _background()
    last = [0.0]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.1 or done >= total:
            last[0] = now
            conn.send(("progress", done, total))

    try:
        with Library(library_path) as lib:
            search_index = SearchIndex(Path(index_dir))
            try:
                applied = search_index.sync(lib, progress=report)
            finally:
                search_index.close()
        conn.send(("done", applied))
    except IndexBusy as busy:
        conn.send(("busy", str(busy)))
    except BaseException as error:  # noqa: BLE001 - everything goes back to the parent
        conn.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        conn.close()


class IndexSyncFailed(MarginError):
    """Catching the index up in a child process failed; the message says how."""


def sync_in_child(
    library_path: Path | str, index_dir: Path | str, on_progress: Progress | None = None
) -> int:
    """Run `SearchIndex(index_dir).sync()` in a spawned child process; returns the entries applied.

    Bulk indexing holds the GIL: in a thread it made every search of the app 30-40x slower,
    in a child it costs the app nothing (performance.md). Progress comes back over a pipe.
    The caller refreshes its own searcher afterwards (`SearchIndex.refresh()`).
    """
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_child_sync,
        args=(str(library_path), str(index_dir), sender),
        name="margin-index-sync",
        daemon=True,
    )
    start_child(child)
    sender.close()
    outcome: tuple | None = None
    try:
        while outcome is None:
            if receiver.poll(0.1):
                try:
                    message = receiver.recv()
                except EOFError:
                    break
                if message[0] == "progress":
                    if on_progress is not None:
                        on_progress(message[1], message[2])
                else:
                    outcome = message
            elif not child.is_alive() and not receiver.poll(0):
                break
        child.join()
    finally:
        if child.is_alive():  # the parent was interrupted: the commit is atomic, stop it
            child.terminate()
            child.join()
        receiver.close()
    if outcome is None:
        raise IndexSyncFailed(
            f"the indexing process stopped without finishing (exit code {child.exitcode}); "
            "the next sync continues from where it got to"
        )
    if outcome[0] == "busy":
        raise IndexBusy(outcome[1])
    if outcome[0] == "error":
        raise IndexSyncFailed(f"indexing failed: {outcome[1]}")
    return int(outcome[1])
