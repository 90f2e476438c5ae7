"""whoosh's read side, patched in two places (whoosh-reloaded 2.7.5, pinned with the writer's).

1. Segment files are not copied into memory when a segment is opened.
2. Phrase matching is bounded in time from inside the loop that runs away.

Segment files. whoosh maps each segment file and opens every part of it as a `BufferFile`,
whose constructor copies the part into a `BytesIO`: `margin search whale` on the 75-book
library held 104 MiB of copies of a 109 MB index and peaked at 255 MiB (issue 11: under
120 MB). The parts are read in place instead, through a small file interface over the map.

Phrase matching.

`TimeLimitCollector` looks at the clock only when a match is collected. A phrase of common
words spends its time between matches: the span matcher steps through every passage holding
all the words ("of the of the" walks nearly all of them) and checks each one's positions,
so `"of the of the"` ran 17.9 s on 150 books with a 2 s limit, and a limit that fired left
an answer nobody was told was partial (issue 11). This module puts the same deadline inside
that loop: `SpanWrappingMatcher._find_next` (whoosh-reloaded 2.7.5, pinned for the writer
patches too) raises `TimeLimit` once the deadline of the search running in this thread has
passed, and the search reports what it had found, marked partial.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from whoosh.filedb.structfile import BufferFile
from whoosh.query.spans import SpanWrappingMatcher
from whoosh.searching import TimeLimit

# How many passages the loop steps through between looks at the clock: one look costs about
# as much as one step, so every 256 keeps the overhead under 1%.
CHECK_EVERY = 256

_searches = threading.local()


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Phrase matching in this thread stops with `TimeLimit` once `seconds` have passed."""
    _searches.at = time.monotonic() + seconds
    try:
        yield
    finally:
        _searches.at = None


def _find_next(self: SpanWrappingMatcher) -> bool | None:
    # whoosh's own loop, with a look at the clock every CHECK_EVERY steps.
    if not self.is_active():
        return None
    at = getattr(_searches, "at", None)
    child = self.child
    moved = False
    spans = self._get_spans()
    steps = 0
    while child.is_active() and not spans:
        moved = child.next() or moved
        if not child.is_active():
            return True
        spans = self._get_spans()
        steps += 1
        if at is not None and steps % CHECK_EVERY == 0 and time.monotonic() > at:
            raise TimeLimit
    self._spans = spans
    return moved


SpanWrappingMatcher._find_next = _find_next  # noqa: SLF001 - the patch this module is for


# -- segment files, read in place ---------------------------------------------------------------


class _View:
    """The file interface whoosh reads a segment part through (seek, tell, read), over the
    mapped buffer itself: `read` copies the bytes asked for, never the whole part."""

    __slots__ = ("_buf", "_pos", "_end")

    def __init__(self, buf: memoryview | bytes) -> None:
        self._buf = memoryview(buf) if not isinstance(buf, memoryview) else buf
        self._pos = 0
        self._end = len(self._buf)

    def seek(self, offset: int, whence: int = 0) -> int:
        base = (0, self._pos, self._end)[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def read(self, size: int = -1) -> bytes:
        start = self._pos
        stop = self._end if size is None or size < 0 else min(self._end, start + size)
        self._pos = max(start, stop)
        return bytes(self._buf[start:stop])

    def readline(self, size: int = -1) -> bytes:
        rest = bytes(self._buf[self._pos : self._end if size < 0 else self._pos + size])
        cut = rest.find(b"\n") + 1 or len(rest)
        self._pos += cut
        return rest[:cut]

    def __iter__(self):  # noqa: ANN204 - as a file's
        line = self.readline()
        while line:
            yield line
            line = self.readline()

    def close(self) -> None:
        self._buf = memoryview(b"")


def _buffer_init(
    self: BufferFile, buf: memoryview | bytes, name: str | None = None, onclose: object = None
) -> None:
    self._buf = buf
    self._name = name
    self.file = _View(buf)
    self.onclose = onclose
    self.is_real = False
    self.is_closed = False


BufferFile.__init__ = _buffer_init
