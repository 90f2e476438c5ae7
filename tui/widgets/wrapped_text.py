"""A lazy soft-wrap index over one document string: rows <-> character offsets.

Pure Python (rich's cell widths only, no Textual), so it is unit-tested on its own and the
reader widget stays a thin layer over it. Offsets are Python `str` indices into the document,
the same numbers the store keeps for annotations; rows change on every width change.

Every character is drawn in exactly one place: a tab shows as one space and control
characters as the visible glyph `store.sanitize.terminal_safe` gives them, so offset `i` is
always the `i`-th character of a row's display string. Wide glyphs take two cells,
combining marks none.

The whole-document pass (`rewrap`) only counts rows per line; where a line breaks is worked
out again when a row is shown and kept for a few thousand lines.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_right
from collections import OrderedDict
from functools import lru_cache
from itertools import accumulate, compress
from operator import sub

from rich.cells import cell_len, get_character_cell_size, split_graphemes

from store.sanitize import terminal_safe

BREAK_CACHE_LINES = 4096
WIDTH_CACHE_LINES = 256


def display(text: str) -> str:
    """Text as the reader draws it: one visible character per character, tabs as a space."""
    return terminal_safe(text).replace("\t", " ")


def _char_cells(char: str) -> int:
    return cell_len(display(char))


def _narrow_class() -> str:
    """A regex class of characters that always take exactly one cell once displayed.

    Built from rich's own widths at import (about 2 ms), so the fast path can never disagree
    with what the strip measures.
    """
    candidates = [
        (0x00, 0x09),
        (0x0B, 0x7E),
        (0x7F, 0x2FF),
        (0x370, 0x52F),
        (0x2010, 0x205E),
        (0x2066, 0x2069),
        (0x2500, 0x25FC),
    ]
    ranges: list[tuple[int, int]] = []
    for low, high in candidates:
        for code in range(low, high + 1):
            if _char_cells(chr(code)) != 1:
                continue
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )


# Anything that is not a one-cell character (and not the line break itself).
_NOT_NARROW = re.compile(f"[^\n{_narrow_class()}]")
_NEWLINE = re.compile("\n")


class WrappedText:
    """Soft-wrap index over one `str`: greedy on spaces, hard breaks for long words.

    `width` is the number of cells a row may fill. A row that ends at a space may hold one
    more cell (the space hangs past the edge), and the last row of a line leaves room for one
    cell after it (where the cursor sits at the end of the line): the caller reserves one cell.
    A width of 0 or less means not wrapped: one row per line.
    """

    def __init__(self, text: str = "", width: int = 0) -> None:
        self.text = text
        # Arrays, not lists: an 8 MB book has 160,000 lines, and an int object costs 28 bytes.
        self.line_starts = array("l", [0, *map(re.Match.end, _NEWLINE.finditer(text))])
        starts = self.line_starts
        # Each line's length plus its newline, for finding the lines that need wrapping.
        self._line_sizes = array("l", map(sub, starts[1:], starts))
        self._line_sizes.append(len(text) - starts[-1] + 1)
        self.all_narrow = text.isascii() or _NOT_NARROW.search(text) is None
        # Per line: 0 not known yet, 1 narrow (one cell per char), 2 has other widths.
        self._narrow_lines = bytearray(len(starts))
        self._cum_cache: OrderedDict[int, array] = OrderedDict()
        self.width = 0
        self.row_starts = array("l", range(len(starts) + 1))
        self._breaks = lru_cache(maxsize=BREAK_CACHE_LINES)(self._compute_breaks)
        if width > 0:
            self.rewrap(width)

    # -- sizes -----------------------------------------------------------------------------

    @property
    def line_count(self) -> int:
        return len(self.line_starts)

    @property
    def row_count(self) -> int:
        return self.row_starts[-1]

    def line_span(self, line: int) -> tuple[int, int]:
        """(start, end) of a logical line, the end before its newline."""
        start = self.line_starts[line]
        return start, start + self._line_sizes[line] - 1

    def line_of_offset(self, offset: int) -> int:
        return bisect_right(self.line_starts, max(0, offset)) - 1

    # -- widths ----------------------------------------------------------------------------

    def is_narrow(self, line: int) -> bool:
        """True when every character of the line takes one cell."""
        if self.all_narrow:
            return True
        known = self._narrow_lines[line]
        if not known:
            start, end = self.line_span(line)
            known = 2 if _NOT_NARROW.search(self.text, start, end) else 1
            self._narrow_lines[line] = known
        return known == 1

    def _cum(self, line: int) -> array:
        """Cells before each character of a (not narrow) line: cum[i] for the line's i-th char."""
        cache = self._cum_cache
        found = cache.get(line)
        if found is not None:
            cache.move_to_end(line)
            return found
        start, end = self.line_span(line)
        shown = display(self.text[start:end])
        if "\u200d" in shown or "\ufe0f" in shown:
            # Joined emoji: measure by grapheme as rich does; the whole width on the first char.
            widths = [0] * len(shown)
            for first, _last, cells in split_graphemes(shown)[0]:
                widths[first] = cells
        else:
            widths = list(map(get_character_cell_size, shown))
        found = array("l", accumulate(widths, initial=0))
        cache[line] = found
        if len(cache) > WIDTH_CACHE_LINES:
            cache.popitem(last=False)
        return found

    def cells(self, start: int, end: int) -> int:
        """Cells taken by text[start:end], which must lie within one line."""
        line = self.line_of_offset(start)
        if self.is_narrow(line):
            return end - start
        base = self.line_starts[line]
        cum = self._cum(line)
        return cum[end - base] - cum[start - base]

    def char_cells(self, offset: int) -> int:
        """Cells taken by the character at offset (a newline or the end counts as one)."""
        if offset >= len(self.text) or self.text[offset] == "\n":
            return 1
        return self.cells(offset, offset + 1)

    # -- wrapping --------------------------------------------------------------------------

    def rewrap(self, width: int) -> None:
        """Count the rows of every line at a new width: O(document), breaks found later."""
        self.width = width
        self._breaks = lru_cache(maxsize=BREAK_CACHE_LINES)(self._compute_breaks)
        starts, sizes = self.line_starts, self._line_sizes
        if width <= 0:
            self.row_starts = array("l", range(len(starts) + 1))
            return
        counts = [1] * len(starts)
        # Only lines that might not fit are looked at one by one (C-speed filter first).
        threshold = width + 1 if self.all_narrow else width // 2 + 1
        for line in compress(range(len(starts)), map(threshold.__lt__, sizes)):
            start = starts[line]
            end = start + sizes[line] - 1
            if self.is_narrow(line):
                if end - start > width:
                    counts[line] = self._count_narrow(start, end)
            else:
                counts[line] = len(self._compute_breaks(line)) + 1
        self.row_starts = array("l", accumulate(counts, initial=0))

    def _count_narrow(self, start: int, end: int) -> int:
        text, width = self.text, self.width
        rows, pos = 1, start
        while end - pos > width:
            limit = pos + width
            if text[limit] == " " and limit + 1 < end:
                pos = limit + 1
            else:
                space = text.rfind(" ", pos, limit)
                pos = space + 1 if space >= pos else limit
            rows += 1
        return rows

    def _compute_breaks(self, line: int) -> tuple[int, ...]:
        """Offsets where the line's rows after the first begin."""
        text, width = self.text, self.width
        start, end = self.line_span(line)
        breaks: list[int] = []
        if width <= 0:
            return ()
        pos = start
        if self.is_narrow(line):
            while end - pos > width:
                limit = pos + width
                if text[limit] == " " and limit + 1 < end:
                    pos = limit + 1
                else:
                    space = text.rfind(" ", pos, limit)
                    pos = space + 1 if space >= pos else limit
                breaks.append(pos)
            return tuple(breaks)
        cum = self._cum(line)
        total = cum[end - start]
        while total - cum[pos - start] > width:
            # The furthest char boundary that keeps the row within width.
            limit = start + bisect_right(cum, cum[pos - start] + width) - 1
            if text[limit] == " " and limit + 1 < end:
                nxt = limit + 1
            else:
                space = text.rfind(" ", pos, limit)
                if space >= pos:
                    nxt = space + 1
                else:
                    nxt = limit
                    # Never split a glyph from its combining marks.
                    while nxt > pos + 1 and cum[nxt + 1 - start] == cum[nxt - start]:
                        nxt -= 1
                    if nxt <= pos:  # one glyph wider than the row
                        nxt = pos + 1
                        while nxt < end and cum[nxt + 1 - start] == cum[nxt - start]:
                            nxt += 1
            if nxt >= end:
                break
            breaks.append(nxt)
            pos = nxt
        return tuple(breaks)

    # -- mapping ---------------------------------------------------------------------------

    def _line_of_row(self, row: int) -> int:
        row = min(max(0, row), self.row_count - 1)
        return bisect_right(self.row_starts, row) - 1

    def row_span(self, row: int) -> tuple[int, int, bool]:
        """(start, end, last): the chars of a row, and whether it is its line's last row.

        The end of a row that is not last is the start of the next row; the end of a last row
        is the line's newline (or the end of the text).
        """
        row = min(max(0, row), self.row_count - 1)
        line = bisect_right(self.row_starts, row) - 1
        line_start, line_end = self.line_span(line)
        first_row = self.row_starts[line]
        if self.row_starts[line + 1] - first_row == 1:
            return line_start, line_end, True
        breaks = self._breaks(line)
        section = row - first_row
        start = breaks[section - 1] if section else line_start
        if section < len(breaks):
            return start, breaks[section], False
        return start, line_end, True

    def offset_to_row(self, offset: int) -> tuple[int, int]:
        """(row, x) of an offset; x in cells from the row's start."""
        offset = min(max(0, offset), len(self.text))
        line = bisect_right(self.line_starts, offset) - 1
        row = self.row_starts[line]
        start = self.line_starts[line]
        if self.row_starts[line + 1] - row > 1:
            breaks = self._breaks(line)
            section = bisect_right(breaks, offset)
            if section:
                start = breaks[section - 1]
            row += section
        return row, self.cells(start, offset)

    def row_x_to_offset(self, row: int, x: int) -> int:
        """The offset drawn at cell x of a row, clamped to the row.

        On a row that is not its line's last, the end is the next row's first offset, so the
        result stops one short of it.
        """
        start, end, last = self.row_span(row)
        limit = end if last else max(start, end - 1)
        x = max(0, x)
        line = self.line_of_offset(start)
        if self.is_narrow(line):
            return min(start + x, limit)
        base = self.line_starts[line]
        cum = self._cum(line)
        target = cum[start - base] + x
        offset = base + bisect_right(cum, target, start - base, limit - base + 1) - 1
        offset = min(max(start, offset), limit)
        while offset > start and offset < end and cum[offset + 1 - base] == cum[offset - base]:
            offset -= 1
        return offset

    # -- steps -----------------------------------------------------------------------------

    def is_stop(self, offset: int) -> bool:
        """Whether the cursor may rest here: not inside a glyph's combining marks."""
        if offset <= 0 or offset >= len(self.text) or self.text[offset] == "\n":
            return True
        line = self.line_of_offset(offset)
        if self.is_narrow(line):
            return True
        base = self.line_starts[line]
        cum = self._cum(line)
        return cum[offset + 1 - base] != cum[offset - base]

    def next_stop(self, offset: int) -> int:
        size = len(self.text)
        offset = min(offset + 1, size)
        while offset < size and not self.is_stop(offset):
            offset += 1
        return offset

    def previous_stop(self, offset: int) -> int:
        offset = max(offset - 1, 0)
        while offset > 0 and not self.is_stop(offset):
            offset -= 1
        return offset
