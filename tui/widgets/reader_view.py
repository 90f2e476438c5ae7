"""The reader: one document drawn row by row, only the rows on screen, with a keyboard and
mouse cursor, a selection in character offsets, and the annotations painted in place.

A `ScrollView` on Textual's Line API over `WrappedText`, because a multi-megabyte book must
open at once: measured, this design paints an 8 MB book's first screen in about 0.1 s where a
read-only TextArea took 7 s (`shared/research/reader-widget.md`). Offsets are the store's
offsets; the widget knows nothing of the store and reports what happens by messages.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from itertools import pairwise
from typing import NamedTuple

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.actions import SkipAction
from textual.binding import Binding
from textual.cache import LRUCache
from textual.color import Color, ColorParseError
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.widgets.wrapped_text import WrappedText, display

GUTTER = 2  # a mark column (claims, evidence) and a space
CLAIM_MARK = "\u258c"  # ▌
EVIDENCE_MARK = "\u2506"  # ┆
SPAN_CHUNK = 4096  # spans are bucketed by offset // SPAN_CHUNK

_WORD = re.compile(r"\w+(?:['\u2019]\w+)*")
_WORD_START = re.compile(r"(?<!\w)(?<!\w['\u2019])\w")
_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*(?=\s|$)")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr st jr sr vs etc e.g i.e cf no vol p pp fig prof gen col capt lt mt rev".split()
)
# A line this long is a paragraph of its own (reflowed text); shorter non-blank lines in a
# row are one hard-wrapped paragraph when the earlier one is not a short last line.
_HARD_WRAP_MAX = 100
_HARD_WRAP_MIN = 40


class Span(NamedTuple):
    """What the reader needs of an annotation to draw it."""

    start: int
    """First character, an offset into the document text."""
    end: int
    """One past the last character."""
    id: str
    role: str
    """Either "highlight" or "claim"."""
    tag_colour: str | None = None
    """Background colour of its (first) tag, such as "#e5c07b"; None for the default."""
    evidence: bool = False
    """Linked as evidence for a claim: gets a gutter mark."""


class ReaderView(ScrollView, can_focus=True, inherit_bindings=False):
    """A document with a cursor, a selection and annotations, drawn from `Span`s."""

    ALLOW_SELECT = False  # our selection is in character offsets; the screen's is in cells

    COMPONENT_CLASSES = {
        "reader--cursor",
        "reader--selection",
        "reader--hit",
        "reader--highlight",
        "reader--claim",
        "reader--gutter-claim",
        "reader--gutter-evidence",
    }

    DEFAULT_CSS = """
    ReaderView {
        overflow-y: scroll;
        overflow-x: hidden;
        background: $surface;
        color: $foreground;
        & > .reader--cursor { background: $foreground; color: $background; }
        & > .reader--selection { background: $primary 55%; }
        & > .reader--hit { background: $accent 55%; text-style: bold; }
        & > .reader--highlight { background: $warning 30%; }
        & > .reader--claim { background: $error 20%; text-style: bold underline; }
        & > .reader--gutter-claim { color: $error; text-style: bold; }
        & > .reader--gutter-evidence { color: $success; }
    }
    """

    # fmt: off
    # One line per key: keys, action, description, id, shown in the footer, tooltip.
    _KEYS = (
        ("up",                   "cursor_row(-1)",               "Up",                  "reader-up",               False, "Up one row"),
        ("down",                 "cursor_row(1)",                "Down",                "reader-down",             False, "Down one row"),
        ("left",                 "cursor_char(-1)",              "Left",                "reader-left",             False, "Back one character"),
        ("right",                "cursor_char(1)",               "Right",               "reader-right",            False, "On one character"),
        ("pageup",               "cursor_page(-1)",              "Page up",             "reader-page-up",          False, "Up a screen"),
        ("pagedown,space",       "cursor_page(1)",               "Page down",           "reader-page-down",        False, "Down a screen"),
        ("home",                 "cursor_row_edge(False)",       "Row start",           "reader-home",             False, "Start of the row"),
        ("end",                  "cursor_row_edge(True)",        "Row end",             "reader-end",              False, "End of the row"),
        ("g",                    "cursor_document_edge(False)",  "Top",                 "reader-top",              False, "Start of the document"),
        ("G",                    "cursor_document_edge(True)",   "Bottom",              "reader-bottom",           False, "End of the document"),
        ("w",                    "cursor_word(1)",               "Next word",           "reader-next-word",        False, "Start of the next word"),
        ("b",                    "cursor_word(-1)",              "Previous word",       "reader-previous-word",    False, "Start of the previous word"),
        ("shift+up",             "cursor_row(-1, True)",         "Select up",           "reader-select-up",        False, "Extend the selection up a row"),
        ("shift+down",           "cursor_row(1, True)",          "Select down",         "reader-select-down",      False, "Extend the selection down a row"),
        ("shift+left",           "cursor_char(-1, True)",        "Select left",         "reader-select-left",      False, "Extend the selection back a character"),
        ("shift+right",          "cursor_char(1, True)",         "Select right",        "reader-select-right",     False, "Extend the selection on a character"),
        ("shift+pageup",         "cursor_page(-1, True)",        "Select page up",      "reader-select-page-up",   False, "Extend the selection up a screen"),
        ("shift+pagedown",       "cursor_page(1, True)",         "Select page down",    "reader-select-page-down", False, "Extend the selection down a screen"),
        ("shift+home",           "cursor_row_edge(False, True)", "Select to row start", "reader-select-home",      False, "Extend the selection to the start of the row"),
        ("shift+end",            "cursor_row_edge(True, True)",  "Select to row end",   "reader-select-end",       False, "Extend the selection to the end of the row"),
        ("v",                    "toggle_selecting",             "Select",              "reader-select",           True,  "Start a selection at the cursor (moving extends it); again to drop it"),
        ("s",                    "select_sentence",              "Sentence",            "reader-select-sentence",  False, "Select the sentence under the cursor"),
        ("p",                    "select_paragraph",             "Paragraph",           "reader-select-paragraph", False, "Select the paragraph under the cursor"),
        ("escape",               "clear_selection",              "Clear selection",     "reader-clear-selection",  False, "Clear the selection (with none, the screen's escape applies)"),
        ("right_square_bracket", "next_annotation",              "Next note",           "reader-next-note",        True,  "Go to the next annotation"),
        ("left_square_bracket",  "previous_annotation",          "Previous note",       "reader-previous-note",    True,  "Go to the previous annotation"),
        ("enter",                "activate",                     "Open note",           "reader-activate",         False, "Open the annotation under the cursor"),
    )
    # fmt: on
    BINDINGS = [
        Binding(keys, action, description, id=id_, show=shown, tooltip=tooltip)
        for keys, action, description, id_, shown, tooltip in _KEYS
    ]

    class SelectionChanged(Message):
        """The selection changed: text[start:end]; start == end means there is none."""

        def __init__(self, reader: ReaderView, start: int, end: int, cursor: int) -> None:
            super().__init__()
            self.reader = reader
            self.start = start
            self.end = end
            self.cursor = cursor

        @property
        def control(self) -> ReaderView:
            return self.reader

    class CursorMoved(Message):
        """The cursor moved to `offset`; `spans` are the annotations covering it."""

        def __init__(self, reader: ReaderView, offset: int, spans: tuple[Span, ...]) -> None:
            super().__init__()
            self.reader = reader
            self.offset = offset
            self.spans = spans

        @property
        def control(self) -> ReaderView:
            return self.reader

    class HighlightActivated(Message):
        """Enter on an annotation (the narrowest one under the cursor)."""

        def __init__(self, reader: ReaderView, span: Span) -> None:
            super().__init__()
            self.reader = reader
            self.span = span

        @property
        def control(self) -> ReaderView:
            return self.reader

    def __init__(
        self,
        text: str = "",
        *,
        name: str | None = None,
        id: str | None = None,  # noqa: A002
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        # A plain attribute, not a reactive: a reactive would repaint every row on each move.
        self.cursor = 0
        self._anchor: int | None = None
        self._sticky = False  # `v` mode: plain moves extend the selection
        self._hit: tuple[int, int] | None = None
        self._goal_x: int | None = None
        self._pending_jump: int | None = None
        self._drag_origin: int | None = None
        self._spans: list[Span] = []
        self._span_starts: list[int] = []
        self._span_rank: list[int] = []  # drawing order: wider first, narrower/later on top
        self._buckets: dict[int, list[int]] = {}
        self._spans_version = 0
        self._row_cache: LRUCache[tuple, Strip] = LRUCache(1024)
        self._style_cache: dict[str, Style] = {}
        self._tag_style_cache: dict[str, Style | None] = {}
        self.render_count = 0  # render_line calls, for tests that check only visible rows draw
        self.wrapped = WrappedText(text)

    # -- content ---------------------------------------------------------------------------

    def load_text(self, text: str) -> None:
        """Show a new document; the cursor goes to its start."""
        self.wrapped = WrappedText(text)
        self.cursor = 0
        self._anchor = None
        self._sticky = False
        self._hit = None
        self._goal_x = None
        self._pending_jump = None
        self._rebucket()
        self._row_cache.clear()
        self.virtual_size = Size(0, 0)
        if self.is_mounted:
            self.scroll_to(y=0, animate=False, force=True)
        self.refresh()

    @property
    def text(self) -> str:
        return self.wrapped.text

    def set_spans(self, spans: Iterable[Span]) -> None:
        """Replace the annotations drawn; zero-length spans are ignored."""
        ordered = sorted(
            ((span, n) for n, span in enumerate(spans) if span.end > span.start),
            key=lambda item: (item[0].start, -item[0].end, item[1]),
        )
        self._spans = [span for span, _ in ordered]
        self._span_starts = [span.start for span in self._spans]
        # Rank for drawing: wider spans under narrower ones; among equals, later input on top.
        by_draw = sorted(
            range(len(ordered)),
            key=lambda i: (-(ordered[i][0].end - ordered[i][0].start), ordered[i][1]),
        )
        self._span_rank = [0] * len(ordered)
        for rank, index in enumerate(by_draw):
            self._span_rank[index] = rank
        self._rebucket()
        self._spans_version += 1
        self._row_cache.clear()
        self.refresh()

    @property
    def spans(self) -> list[Span]:
        """The annotations drawn, by start."""
        return list(self._spans)

    def _rebucket(self) -> None:
        buckets: dict[int, list[int]] = {}
        for index, span in enumerate(self._spans):
            for chunk in range(span.start // SPAN_CHUNK, (span.end - 1) // SPAN_CHUNK + 1):
                buckets.setdefault(chunk, []).append(index)
        self._buckets = buckets

    def _span_indices(self, start: int, end: int) -> list[int]:
        """Indices of spans overlapping [start, end), in drawing order."""
        buckets = self._buckets
        if not buckets:
            return []
        found: set[int] = set()
        spans = self._spans
        for chunk in range(start // SPAN_CHUNK, max(start, end - 1) // SPAN_CHUNK + 1):
            for index in buckets.get(chunk, ()):
                span = spans[index]
                if span.start < end and span.end > start:
                    found.add(index)
        rank = self._span_rank
        return sorted(found, key=rank.__getitem__)

    def spans_at(self, offset: int) -> list[Span]:
        """The annotations covering an offset, widest first (the last one is drawn on top)."""
        return [self._spans[i] for i in self._span_indices(offset, offset + 1)]

    # -- state -----------------------------------------------------------------------------

    @property
    def selection(self) -> tuple[int, int]:
        """(start, end) of the selection; start == end == cursor when there is none."""
        if self._anchor is None:
            return self.cursor, self.cursor
        return min(self._anchor, self.cursor), max(self._anchor, self.cursor)

    @property
    def selected_text(self) -> str:
        start, end = self.selection
        return self.text[start:end]

    @property
    def selecting(self) -> bool:
        """True in `v` mode, where plain moves extend the selection."""
        return self._sticky

    @property
    def hit(self) -> tuple[int, int] | None:
        """The range marked as a jump or find target, if any."""
        return self._hit

    @property
    def percent(self) -> int:
        """Where the cursor is, in percent of the text."""
        return round(100 * self.cursor / max(1, len(self.text)))

    @property
    def first_visible_offset(self) -> int:
        """The first character on screen."""
        if self.wrapped.width <= 0:
            return 0
        return self.wrapped.row_span(self.scroll_offset.y)[0]

    # -- commands --------------------------------------------------------------------------

    def go_to(self, offset: int, length: int = 0, select: bool = False) -> None:
        """Put the cursor on an offset with its row a third of the way down, marking `length`
        characters as the hit (or selecting them). Before the first layout the scroll waits
        for it."""
        offset = self._clamp(offset)
        end = self._clamp(offset + length)
        self._hit = (offset, end) if end > offset else None
        if select and end > offset:
            self._apply(end, offset, sticky=False, scroll=False)
        else:
            self._apply(offset, None, sticky=False, scroll=False)
        if self._laid_out():
            self._scroll_to_third(offset)
        else:
            self._pending_jump = offset
        self.refresh()

    def place_cursor(self, offset: int) -> None:
        """Move the cursor without selecting (any selection goes), scrolling only if needed."""
        self._apply(self._clamp(offset), None, sticky=False)

    def select(self, start: int, end: int) -> None:
        """Select text[start:end]; the cursor goes to its end."""
        start, end = sorted((self._clamp(start), self._clamp(end)))
        self._apply(end, start, sticky=False)

    def clear_selection(self) -> None:
        """Drop the selection and `v` mode; the cursor stays."""
        self._apply(self.cursor, None, sticky=False, scroll=False)

    def next_span(self) -> bool:
        """Move the cursor to the next annotation's start; False (and a bell) after the last."""
        index = bisect_right(self._span_starts, self.cursor)
        if index >= len(self._spans):
            self.app.bell()
            return False
        self._jump_to_span(self._spans[index].start)
        return True

    def previous_span(self) -> bool:
        """Move the cursor to the previous annotation's start; False (and a bell) at the first."""
        index = bisect_left(self._span_starts, self.cursor) - 1
        if index < 0:
            self.app.bell()
            return False
        self._jump_to_span(self._spans[index].start)
        return True

    def _jump_to_span(self, offset: int) -> None:
        self._apply(offset, None, sticky=False, scroll=False)
        if self._laid_out():
            row = self.wrapped.offset_to_row(offset)[0]
            top = self.scroll_offset.y
            if not top <= row < top + self._height():
                self._scroll_to_third(offset)

    def offset_at(self, x: int, y: int) -> int:
        """The offset drawn at a cell of the widget's content (x includes the gutter)."""
        if not self._ensure_wrapped():
            return 0
        row = min(max(0, self.scroll_offset.y + y), self.wrapped.row_count - 1)
        return self.wrapped.row_x_to_offset(row, x - GUTTER)

    def word_at(self, offset: int) -> tuple[int, int] | None:
        """(start, end) of the word around an offset, if it is on one."""
        text = self.text
        low = max(0, offset - 200)
        for match in _WORD.finditer(text, low, min(len(text), offset + 200)):
            if match.start() <= offset < match.end():
                return match.start(), match.end()
            if match.start() > offset:
                break
        return None

    def paragraph_at(self, offset: int) -> tuple[int, int] | None:
        """(start, end) of the paragraph at an offset, or the next one from a blank line.

        A blank line ends a paragraph; a line longer than a hard-wrapped one is a paragraph of
        its own; hard-wrapped lines run on until a short last line.
        """
        wrapped, text = self.wrapped, self.text
        count = wrapped.line_count

        def span(line: int) -> tuple[int, int]:
            return wrapped.line_span(line)

        def blank(line: int) -> bool:
            start, end = span(line)
            return end - start < 10_000 and not text[start:end].strip()

        def joins(upper: int) -> bool:
            """Whether line `upper` runs on into the next line."""
            if upper + 1 >= count or blank(upper) or blank(upper + 1):
                return False
            start, end = span(upper)
            low, high = span(upper + 1)
            return _HARD_WRAP_MIN <= end - start <= _HARD_WRAP_MAX and high - low <= _HARD_WRAP_MAX

        line = wrapped.line_of_offset(offset)
        for _ in range(1000):
            if line >= count or not blank(line):
                break
            line += 1
        if line >= count or blank(line):
            return None
        first = last = line
        while first > 0 and joins(first - 1) and line - first < 1000:
            first -= 1
        while joins(last) and last - line < 1000:
            last += 1
        start, end = span(first)[0], span(last)[1]
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        return (start, end) if end > start else None

    def sentence_at(self, offset: int) -> tuple[int, int] | None:
        """(start, end) of the sentence at an offset (the next one from between sentences)."""
        paragraph = self.paragraph_at(offset)
        if paragraph is None:
            return None
        para_start, para_end = paragraph
        offset = max(offset, para_start)
        text = self.text
        start = para_start
        for match in _SENTENCE_END.finditer(text, para_start, para_end):
            word = text[max(para_start, match.start() - 6) : match.start()].split()
            before = word[-1].lower() if word else ""
            if before in _ABBREVIATIONS or (len(before) == 1 and before.isalpha()):
                continue
            end = match.end()
            if offset < end:
                return self._trim(start, end)
            start = end
        return self._trim(start, para_end)

    def _trim(self, start: int, end: int) -> tuple[int, int] | None:
        text = self.text
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        return (start, end) if end > start else None

    # -- cursor and selection core -----------------------------------------------------------

    def _clamp(self, offset: int) -> int:
        return min(max(0, offset), len(self.text))

    def _laid_out(self) -> bool:
        return self._ensure_wrapped()

    def _height(self) -> int:
        return max(1, self.scrollable_content_region.height)

    def _overlay_rows(self) -> tuple[int, int] | None:
        """First and last rows touched by cursor, selection and hit."""
        if self.wrapped.width <= 0:
            return None
        offsets = [self.cursor, *self.selection]
        if self._hit:
            offsets += self._hit
        rows = [self.wrapped.offset_to_row(o)[0] for o in (min(offsets), max(offsets))]
        return rows[0], rows[1]

    def _refresh_rows(self, *ranges: tuple[int, int] | None) -> None:
        if self.wrapped.width <= 0:
            self.refresh()
            return
        top = self.scroll_offset.y
        bottom = top + self._height() - 1
        for found in ranges:
            if found is None:
                continue
            first, last = max(found[0], top), min(found[1], bottom)
            if first <= last:
                self.refresh_lines(first, last - first + 1)

    def _apply(
        self,
        cursor: int,
        anchor: int | None,
        *,
        sticky: bool | None = None,
        keep_goal: bool = False,
        scroll: bool = True,
    ) -> None:
        """Set cursor and anchor, redraw the rows that changed, scroll, and say so."""
        old_cursor, old_selection = self.cursor, self.selection
        old_rows = self._overlay_rows()
        self.cursor = cursor
        if sticky is not None:
            self._sticky = sticky
        if anchor == cursor and not self._sticky:
            anchor = None  # an empty selection is no selection
        elif anchor is None and self._sticky:
            anchor = cursor
        self._anchor = anchor
        if not keep_goal:
            self._goal_x = None
        if self._hit and not self._hit[0] <= cursor <= self._hit[1]:
            self._hit = None
        self._refresh_rows(old_rows, self._overlay_rows())
        if scroll:
            self._scroll_cursor_visible()
        selection = self.selection
        # An empty selection moving along with the cursor is no change of selection.
        if selection != old_selection and (
            selection[1] > selection[0] or old_selection[1] > old_selection[0]
        ):
            self.post_message(self.SelectionChanged(self, selection[0], selection[1], cursor))
        if cursor != old_cursor:
            self.post_message(self.CursorMoved(self, cursor, tuple(self.spans_at(cursor))))

    def _move(self, offset: int, extend: bool, *, keep_goal: bool = False) -> None:
        offset = self._clamp(offset)
        if extend or self._sticky:
            anchor = self._anchor if self._anchor is not None else self.cursor
        else:
            anchor = None
        self._apply(offset, anchor, keep_goal=keep_goal)

    def _scroll_cursor_visible(self) -> None:
        if not self._laid_out():
            return
        row = self.wrapped.offset_to_row(self.cursor)[0]
        top, height = self.scroll_offset.y, self._height()
        if row < top:
            self.scroll_to(y=row, animate=False, force=True)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False, force=True)

    def _scroll_to_third(self, offset: int) -> None:
        row = self.wrapped.offset_to_row(offset)[0]
        self.scroll_to(y=max(0, row - self._height() // 3), animate=False, force=True)

    # -- actions ---------------------------------------------------------------------------

    def action_cursor_char(self, delta: int, extend: bool = False) -> None:
        wrapped = self.wrapped
        offset = wrapped.next_stop(self.cursor) if delta > 0 else wrapped.previous_stop(self.cursor)
        self._move(offset, extend)

    def action_cursor_row(self, delta: int, extend: bool = False) -> None:
        if not self._laid_out():
            return
        self._move_rows(delta, extend)

    def _move_rows(self, delta: int, extend: bool) -> None:
        wrapped = self.wrapped
        row, x = wrapped.offset_to_row(self.cursor)
        if self._goal_x is None:
            self._goal_x = x
        target = min(max(0, row + delta), wrapped.row_count - 1)
        if target == row:
            # Already on the first or last row: go to its edge, as editors do.
            offset = 0 if delta < 0 else len(self.text)
        else:
            offset = wrapped.row_x_to_offset(target, self._goal_x)
        self._move(offset, extend, keep_goal=target != row)

    def action_cursor_page(self, delta: int, extend: bool = False) -> None:
        if not self._laid_out():
            return
        height = self._height()
        step = max(1, height - 1)
        top = self.scroll_offset.y
        self.scroll_to(y=top + delta * step, animate=False, force=True)
        self._move_rows(delta * step, extend)

    def action_cursor_row_edge(self, end: bool, extend: bool = False) -> None:
        if not self._laid_out():
            return
        row, _ = self.wrapped.offset_to_row(self.cursor)
        start, stop, last = self.wrapped.row_span(row)
        if not end:
            self._move(start, extend)
        else:
            self._move(stop if last else max(start, stop - 1), extend)

    def action_cursor_document_edge(self, end: bool) -> None:
        self._move(len(self.text) if end else 0, False)

    def action_cursor_word(self, direction: int) -> None:
        text, cursor = self.text, self.cursor
        if direction > 0:
            match = _WORD_START.search(text, cursor + 1)
            self._move(match.start() if match else len(text), False)
            return
        window = 256
        while True:
            low = max(0, cursor - window)
            starts = [m.start() for m in _WORD_START.finditer(text, low, cursor)]
            # A match at the window's edge may be mid-word: widen unless at the text start.
            starts = [s for s in starts if s > low or low == 0]
            if starts or low == 0:
                self._move(starts[-1] if starts else 0, False)
                return
            window *= 4

    def action_toggle_selecting(self) -> None:
        if self._sticky:
            self._apply(self.cursor, None, sticky=False, scroll=False)
        else:
            self._apply(self.cursor, self.cursor, sticky=True, scroll=False)

    def action_select_sentence(self) -> None:
        found = self.sentence_at(self.cursor)
        if found is None:
            self.app.bell()
            return
        self.select(*found)

    def action_select_paragraph(self) -> None:
        found = self.paragraph_at(self.cursor)
        if found is None:
            self.app.bell()
            return
        self.select(*found)

    def action_clear_selection(self) -> None:
        if self._anchor is None and not self._sticky:
            raise SkipAction()  # nothing to clear: let the screen's escape go back
        self.clear_selection()

    def action_next_annotation(self) -> None:
        self.next_span()

    def action_previous_annotation(self) -> None:
        self.previous_span()

    def action_activate(self) -> None:
        spans = self.spans_at(self.cursor)
        if not spans:
            raise SkipAction()
        narrowest = min(reversed(spans), key=lambda s: s.end - s.start)
        self.post_message(self.HighlightActivated(self, narrowest))

    # -- mouse -----------------------------------------------------------------------------

    def on_mouse_down(self, event: events.MouseDown) -> None:
        if event.button != 1:
            return
        self.focus()
        if not self._ensure_wrapped():
            return
        position = event.get_content_offset_capture(self)
        offset = self.offset_at(position.x, position.y)
        if event.shift:
            self._move(offset, True)
        else:
            self._apply(offset, None, sticky=False)
        self._drag_origin = self._anchor if event.shift and self._anchor is not None else offset
        self.capture_mouse()
        event.stop()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        origin = self._drag_origin
        if origin is None:
            return
        position = event.get_content_offset_capture(self)
        height = self._height()
        y = position.y
        if y < 0:
            self.scroll_to(y=self.scroll_offset.y + y, animate=False, force=True)
            y = 0
        elif y >= height:
            self.scroll_to(y=self.scroll_offset.y + y - height + 1, animate=False, force=True)
            y = height - 1
        # Like an editor's: the selection runs from the cell pressed to the cell under the
        # pointer, the way the cursor sits before a character.
        self._apply(self.offset_at(position.x, y), origin)

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._drag_origin is not None:
            self._drag_origin = None
            self.release_mouse()

    def on_click(self, event: events.Click) -> None:
        if event.chain == 2:
            position = event.get_content_offset_capture(self)
            found = self.word_at(self.offset_at(position.x, position.y))
            if found:
                self.select(*found)

    # -- wrapping --------------------------------------------------------------------------

    def _ensure_wrapped(self) -> bool:
        """Wrap to the current width if it changed, keeping the first visible character at the
        top; False while the widget has no width yet."""
        width = self.scrollable_content_region.width
        if width <= 0:
            return False
        text_width = max(1, width - GUTTER - 1)  # one cell reserved: hanging space or cursor
        wrapped = self.wrapped
        if text_width == wrapped.width:
            return True
        first = None
        cursor_visible = False
        if wrapped.width > 0:
            top = self.scroll_offset.y
            first = wrapped.row_span(top)[0]
            cursor_row = wrapped.offset_to_row(self.cursor)[0]
            cursor_visible = top <= cursor_row < top + self._height()
        wrapped.rewrap(text_width)
        self._row_cache.clear()
        self.virtual_size = Size(width, wrapped.row_count)
        if self._pending_jump is not None:
            self._scroll_to_third(self._pending_jump)
            self._pending_jump = None
        elif first is not None:
            self.scroll_to(y=wrapped.offset_to_row(first)[0], animate=False, force=True)
            if cursor_visible:
                self._scroll_cursor_visible()
        self.refresh()
        return True

    # -- drawing ---------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._style_cache.clear()
        self._tag_style_cache.clear()
        self._row_cache.clear()

    def _style(self, name: str) -> Style:
        style = self._style_cache.get(name)
        if style is None:
            if name == "base":
                style = self.rich_style
            elif name == "claim-text":
                full = self.get_component_rich_style("reader--claim")
                style = Style(bold=full.bold, underline=full.underline, italic=full.italic)
            elif name in ("reader--highlight", "reader--claim"):
                style = Style(bgcolor=self.get_component_rich_style(name).bgcolor)
            else:
                style = self.get_component_rich_style(name)
            self._style_cache[name] = style
        return style

    def _tag_style(self, colour: str) -> Style | None:
        """A background from a tag colour, toned towards the reader's background."""
        if colour not in self._tag_style_cache:
            try:
                tag = Color.parse(colour)
            except ColorParseError:
                self._tag_style_cache[colour] = None
            else:
                background = self.background_colors[1]
                self._tag_style_cache[colour] = Style(
                    bgcolor=tag.blend(background, 0.45).rich_color
                )
        return self._tag_style_cache[colour]

    def _span_style(self, span: Span) -> Style:
        if span.tag_colour:
            style = self._tag_style(span.tag_colour)
            if style is not None:
                return style
        return self._style("reader--claim" if span.role == "claim" else "reader--highlight")

    def render_lines(self, crop: Region) -> list[Strip]:
        # Wrap here, not on Resize: the first frame comes before the Resize event.
        self._ensure_wrapped()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        self.render_count += 1
        width = self.scrollable_content_region.width
        wrapped = self.wrapped
        row = self.scroll_offset.y + y
        if wrapped.width <= 0 or row >= wrapped.row_count:
            return Strip.blank(width, self._style("base"))
        start, end, last = wrapped.row_span(row)
        stop = end + 1 if last else end

        def clip(pair: tuple[int, int] | None) -> tuple[int, int] | None:
            if pair is None or pair[1] <= start or pair[0] >= stop:
                return None
            return max(start, pair[0]), min(stop, pair[1])

        selection = clip(self.selection if self._anchor is not None else None)
        hit = clip(self._hit)
        cursor = self.cursor if start <= self.cursor < stop else -1
        key = (row, wrapped.width, width, self._spans_version, selection, hit, cursor)
        strip = self._row_cache.get(key)
        if strip is None:
            strip = self._build_row(start, end, last, selection, hit, cursor, width)
            self._row_cache[key] = strip
        return strip

    def _build_row(
        self,
        start: int,
        end: int,
        last: bool,
        selection: tuple[int, int] | None,
        hit: tuple[int, int] | None,
        cursor: int,
        width: int,
    ) -> Strip:
        stop = end + 1 if last else end
        shown = display(self.text[start:end])
        if last:
            shown += " "  # the newline's cell: the cursor at a line's end, a selection across it
        base = self._style("base")
        spans = [self._spans[i] for i in self._span_indices(start, stop)]
        points = {start, stop}
        for span in spans:
            points.add(max(start, span.start))
            points.add(min(stop, span.end))
        for pair in (selection, hit):
            if pair:
                points.update(pair)
        if cursor >= 0:
            points.add(cursor)
            points.add(min(stop, self.wrapped.next_stop(cursor)))
        claim_text = self._style("claim-text")
        segments: list[Segment] = []
        if any(span.role == "claim" for span in spans):
            segments.append(Segment(CLAIM_MARK, base + self._style("reader--gutter-claim")))
        elif any(span.evidence for span in spans):
            segments.append(Segment(EVIDENCE_MARK, base + self._style("reader--gutter-evidence")))
        else:
            segments.append(Segment(" ", base))
        segments.append(Segment(" " * (GUTTER - 1), base))
        for a, b in pairwise(sorted(points)):
            style = base
            on_top = None
            claim = False
            for span in spans:
                if span.start <= a < span.end:
                    on_top = span
                    claim = claim or span.role == "claim"
            if on_top is not None:
                style += self._span_style(on_top)
            if hit and hit[0] <= a < hit[1]:
                style += self._style("reader--hit")
            if selection and selection[0] <= a < selection[1]:
                style += self._style("reader--selection")
            if a == cursor:
                style += self._style("reader--cursor")
            if claim:
                style += claim_text  # the underline survives every layer above
            segments.append(Segment(shown[a - start : b - start], style))
        # Pad to the width here, so the strip is built once with its length known.
        line = self.wrapped.line_of_offset(start)
        used = GUTTER + (len(shown) if self.wrapped.is_narrow(line) else cell_len(shown))
        if used > width:
            return Strip(segments).crop(0, width)
        if used < width:
            segments.append(Segment(" " * (width - used), base))
        return Strip(segments, width)
