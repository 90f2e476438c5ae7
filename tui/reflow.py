"""Show hard-wrapped text as flowing paragraphs, keeping every offset.

PDF text and plain-text books carry the line breaks of their layout (PDF lines of 85-90
characters, Gutenberg's 70). At a narrower reader each such line wraps and leaves an orphaned
word on a row of its own. `reflow` returns text of the same length in which a break inside a
paragraph is a space, so the reader wraps paragraphs instead of lines, while offsets,
selections, highlights and quotes stay those of the stored text.

A break is kept where it means something: blank lines, a short line (a paragraph's end, a
heading), a next line that is indented or starts a list item. Text whose lines do not cluster
just under one width (poetry, code, lists, tables) is left alone.
"""

from __future__ import annotations

import re
from itertools import chain

_LIST_START = re.compile(r"[-*+\u2022\u2013\u2014>|]|\d{1,3}[.)]\s|[A-Za-z][.)]\s")
_SAMPLE = 300_000  # characters read to decide: the layout of a book does not change midway


def wrap_width(text: str) -> int | None:
    """The width the text was hard-wrapped at, or None when it does not look hard-wrapped."""
    text = text[:_SAMPLE]
    lengths = [len(line) for line in text.split("\n") if line.strip()]
    if len(lengths) < 20:
        return None
    ordered = sorted(lengths)
    width = ordered[int(len(ordered) * 0.9)]
    if width < 40:
        return None
    # Hard-wrapped prose: most lines end within a few words of the width.
    near = sum(1 for n in lengths if width - 15 <= n <= width + 5)
    if near < 0.6 * len(lengths):
        return None
    # Verse clusters at one length too, but its lines start with capitals; a wrapped prose
    # line goes on mid-sentence, in lower case more often than not.
    lines = text.split("\n")
    follow = [
        b.lstrip()[:1] for a, b in zip(lines, lines[1:], strict=False) if a.strip() and b.strip()
    ]
    letters = [c for c in follow if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) > 0.6 * len(letters):
        return None
    return width


def reflow(text: str, width: int | None = None) -> str:
    """`text` with the line breaks inside hard-wrapped paragraphs turned into spaces.

    The result has the same length as `text`; only "\\n" characters change. Unchanged when
    the text does not look hard-wrapped (see `wrap_width`).
    """
    width = width or wrap_width(text)
    if width is None:
        return text
    # A non-blank line of at least width - 20 characters, then a line that is not blank,
    # indented or a list item: the break between them becomes a space. Lines and a list of
    # separators: 22 ms for War and Peace (a regex took 37), inside the first-paint budget.
    shortest = width - 20
    starts_list = _LIST_START.match
    lines = text.split("\n")
    breaks = [
        " "
        if len(line) >= shortest
        and after
        and after[0] not in " \t"
        and not starts_list(after)
        and not line.isspace()
        else "\n"
        for line, after in zip(lines, lines[1:], strict=False)
    ]
    breaks.append("")
    return "".join(chain.from_iterable(zip(lines, breaks, strict=True)))
