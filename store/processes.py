"""Starting a spawned child process safely from the CLI, the app or a test.

Two traps of multiprocessing's "spawn", each met here:
- It starts a resource-tracker process the first time, handing it `sys.stderr.fileno()`.
  Textual replaces `sys.stderr` with a capture whose `fileno()` is -1, so inside the app every
  spawn failed with "bad value(s) in fds_to_keep": the importer's sandbox (every HTML and PDF)
  and the indexing child. Tests missed it: the test process had started the tracker before
  any app ran.
- The child re-runs the parent's main script so that pickled functions from it resolve: slow
  for the CLI, and a script without an `if __name__ == "__main__"` guard starts its work
  again in the child. Nothing margin runs in a child lives in `__main__`.
"""

from __future__ import annotations

import os
import sys
import threading
import types
from multiprocessing.process import BaseProcess

_start_lock = threading.Lock()  # sys.modules and sys.stderr are swapped for the start


def _has_real_fd(stream: object) -> bool:
    try:
        return stream is not None and stream.fileno() >= 0  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return False


def start_child(process: BaseProcess) -> None:
    """`process.start()` with an empty `__main__` and a `sys.stderr` that has a descriptor.

    Without a real stderr (inside the app) the tracker gets /dev/null: its warnings must not
    draw over the screen.
    """
    with _start_lock:
        main = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        saved = sys.stderr
        sink = None if _has_real_fd(saved) else open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
        try:
            if sink is not None:
                sys.stderr = sink
            process.start()
        finally:
            sys.stderr = saved
            if sink is not None:
                sink.close()
            if main is not None:
                sys.modules["__main__"] = main
            else:
                del sys.modules["__main__"]
