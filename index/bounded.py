"""whoosh's phrase matching, bounded in time from inside the loop that runs away.

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
