"""Parsers of untrusted files run in a spawned worker with a time limit and a memory cap.

One worker serves many files: a spawn costs a fresh Python plus the parser imports, so a folder
of 100 pages should not pay that 100 times. The worker is killed and replaced after a timeout,
a crash or running out of memory, and leaves on its own after `idle_timeout` seconds without
work. Inside it, `RLIMIT_AS` caps memory, fds 0-2 point at /dev/null (the TUI draws on the
terminal; pypdf and lxml may write to it), an audit hook refuses sockets, DNS and new
processes, and library warnings (`logging`, `warnings`) are collected and sent back with the
result. `spawn`, never `fork`: the parent may be a threaded Textual app.

`RLIMIT_AS` is not enforced on macOS; there the time limit is the guard.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import signal
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from store.errors import IngestError
from store.processes import start_child

DEFAULT_IDLE_TIMEOUT = 30.0
# The parent retires a worker this much before the worker's own idle exit, so a job is never
# sent to a worker that is just leaving.
_IDLE_MARGIN = 2.0
_MAX_WARNINGS = 20
_BLOCKED_EVENTS = frozenset(
    {
        "socket.connect",
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyaddr",
        "socket.sendto",
        "socket.sendmsg",
        "urllib.Request",
        "subprocess.Popen",
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.fork",
    }
)


# -- the worker (runs in the spawned child) -------------------------------------------------


def _harden(memory_bytes: int, notes: list[str]) -> None:
    """Cap memory, silence the standard streams, refuse network and processes, catch warnings."""
    import logging
    import resource
    import warnings

    try:
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ValueError, OSError):  # not enforceable here (macOS): the timeout still holds
        pass
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)

    def audit(event: str, args: tuple[Any, ...]) -> None:
        if event in _BLOCKED_EVENTS:
            notes.append(f"blocked {event} during extraction")
            raise PermissionError(f"{event} is not allowed while extracting a file")

    sys.addaudithook(audit)

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            library = record.name.split(".", 1)[0]
            try:
                notes.append(f"{library}: {record.getMessage()}")
            except Exception:  # a badly formatted library message must not stop extraction
                notes.append(f"{library}: {record.msg!r}")

    root = logging.getLogger()
    root.handlers[:] = [Collect(logging.WARNING)]
    root.setLevel(logging.WARNING)
    # "always": in a reused worker the default filter would report a warning for one file only.
    warnings.simplefilter("always")
    warnings.filterwarnings("ignore", category=ResourceWarning)
    warnings.showwarning = lambda message, category, *_a, **_k: notes.append(
        f"{category.__name__}: {message}"
    )


def _tidy(notes: list[str]) -> list[str]:
    """Library warnings cleaned to one short line each, de-duplicated and capped in number.

    pypdf repeats one warning per font with the font's dictionary appended: the text before
    the first `{` decides what counts as the same warning.
    """
    from store.sanitize import clean_field

    unique: dict[str, str] = {}
    for note in notes:
        line = clean_field(note, 160)
        unique.setdefault(line.split("{", 1)[0][:100], line)
    lines = list(unique.values())
    if len(lines) > _MAX_WARNINGS:
        more = len(lines) - _MAX_WARNINGS
        lines = lines[:_MAX_WARNINGS] + [f"... and {more} more library warnings"]
    return lines


def _serve(conn: Connection, memory_bytes: int, idle_timeout: float) -> None:
    """Answer extraction requests until told to stop, idle too long, or the parent is gone."""
    notes: list[str] = []
    _harden(memory_bytes, notes)
    from store.ingest.decode import Refused

    def run(kind: str, path: str, max_chars: int) -> dict[str, Any]:
        if kind == "html":
            from store.ingest.html import extract_html

            return extract_html(path, max_chars)
        if kind == "pdf":
            from store.ingest.pdf import extract_pdf

            return extract_pdf(path, max_chars)
        if kind == "epub":
            from store.ingest.epub import extract_epub

            return extract_epub(path, max_chars)
        if kind == "docx":
            from store.ingest.docx import extract_docx

            return extract_docx(path, max_chars)
        raise Refused(f"no sandboxed extractor for {kind}")

    while True:
        try:
            if not conn.poll(idle_timeout):
                return
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request[0] != "extract":
            return
        _, kind, path, max_chars = request
        notes.clear()
        leave = False
        try:
            payload = run(kind, path, max_chars)
            payload["library_warnings"] = _tidy(notes)
            reply: tuple[Any, ...] = ("ok", payload)
        except Refused as refused:
            reply = ("refused", refused.reason)
        except MemoryError:
            reply, leave = ("memory", None), True
        except RecursionError:
            reply = ("refused", "too deeply nested to read")
        except OSError as error:
            reply = ("refused", f"cannot read the file ({error.strerror or error})")
        except Exception as error:
            from store.sanitize import clean_field

            reason = clean_field(f"{type(error).__name__}: {error}", 160)
            reply = ("refused", f"the extractor failed ({reason})")
        try:
            conn.send(reply)
        except MemoryError:
            conn.send(("memory", None))
            leave = True
        if leave:  # after MemoryError the interpreter's state is suspect: start afresh
            return


# -- the parent side ------------------------------------------------------------------------


def _seconds(value: float) -> str:
    return f"{value:g}"


class Sandbox:
    """A spawned extraction worker reused across files; use as a context manager for a batch."""

    def __init__(self, idle_timeout: float = DEFAULT_IDLE_TIMEOUT) -> None:
        self.idle_timeout = idle_timeout
        self.spawns = 0
        self._lock = threading.Lock()
        self._process: Any = None
        self._conn: Connection | None = None
        self._memory_bytes = 0
        self._last_used = 0.0
        self._owner_pid = os.getpid()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self, memory_bytes: int) -> None:
        context = multiprocessing.get_context("spawn")
        parent_end, child_end = context.Pipe(duplex=True)
        process = context.Process(
            target=_serve,
            args=(child_end, memory_bytes, self.idle_timeout),
            name="margin-extract",
            daemon=True,
        )
        start_child(process)
        child_end.close()
        self._process, self._conn = process, parent_end
        self._memory_bytes = memory_bytes
        self._last_used = time.monotonic()
        self._owner_pid = os.getpid()
        self.spawns += 1

    def _stop(self, *, kill: bool) -> int | None:
        """End the worker (politely unless `kill`); returns its exit code."""
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if process is None:
            return None
        if process.pid is not None and self._owner_pid != os.getpid():
            return None  # a forked copy of this object: the worker belongs to the parent
        if not kill and conn is not None and process.is_alive():
            try:
                conn.send(("quit",))
            except OSError:
                kill = True
            process.join(2)
        if process.is_alive():
            process.kill()
        process.join(5)
        if conn is not None:
            conn.close()
        return process.exitcode

    def _ready(self, memory_bytes: int) -> None:
        fresh_enough = time.monotonic() - self._last_used < self.idle_timeout - _IDLE_MARGIN
        if (
            self._process is None
            or self._owner_pid != os.getpid()
            or not self._process.is_alive()
            or self._memory_bytes != memory_bytes
            or not fresh_enough
        ):
            if self._owner_pid == os.getpid():
                self._stop(kill=False)
            else:
                self._process = self._conn = None
            self._start(memory_bytes)

    def run(self, kind: str, path: Path, limits: Any) -> dict[str, Any]:
        """Extract one file in the worker; returns the payload or raises IngestError."""
        with self._lock:
            self._ready(limits.memory_bytes)
            assert self._conn is not None
            try:
                self._conn.send(("extract", kind, str(path), limits.max_chars))
                answered = self._conn.poll(limits.timeout)
            except OSError:
                answered = True  # the worker is gone; recv below says so
            if not answered:
                self._stop(kill=True)
                raise IngestError(
                    path,
                    f"took longer than {_seconds(limits.timeout)} s to extract (Limits.timeout)",
                )
            try:
                status, payload = self._conn.recv()
            except (EOFError, OSError):
                code = self._stop(kill=True)
                raise IngestError(path, self._died(code, limits.memory_bytes)) from None
            self._last_used = time.monotonic()
            if status == "ok":
                return payload
            if status == "memory":
                self._stop(kill=False)
                raise IngestError(path, self._memory_reason(limits.memory_bytes))
            raise IngestError(path, payload)

    @staticmethod
    def _memory_reason(memory_bytes: int) -> str:
        return f"needs more than {memory_bytes >> 20} MB of memory (Limits.memory_bytes)"

    def _died(self, code: int | None, memory_bytes: int) -> str:
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return (
                f"the extractor stopped unexpectedly ({name}); it may have needed more than "
                f"{memory_bytes >> 20} MB of memory (Limits.memory_bytes)"
            )
        return f"the extractor stopped unexpectedly (exit code {code})"

    def close(self) -> None:
        """Stop the worker, if one is running."""
        with self._lock:
            self._stop(kill=False)


_shared: Sandbox | None = None
_shared_lock = threading.Lock()


def shared_sandbox() -> Sandbox:
    """The process-wide sandbox `extract` uses when it is given none (one worker, reused)."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared._owner_pid != os.getpid():  # noqa: SLF001 - this module's own Sandbox
            _shared = Sandbox()
        return _shared


@atexit.register
def _close_shared() -> None:
    if _shared is not None and _shared._owner_pid == os.getpid():  # noqa: SLF001 - this module's own Sandbox
        _shared.close()
