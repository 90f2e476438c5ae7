"""The reader's wrap index: rows cover the text exactly once, fit the width, and map back."""

from __future__ import annotations

import random

import pytest
from rich.cells import cell_len

from tui.widgets.wrapped_text import _NOT_NARROW, WrappedText, display


def rows_of(wrapped: WrappedText) -> list[str]:
    return [wrapped.text[s:e] for s, e, _ in map(wrapped.row_span, range(wrapped.row_count))]


def check_invariants(wrapped: WrappedText) -> None:
    """Rows partition every line, fit the width, break greedily, and offsets map both ways."""
    text, width = wrapped.text, wrapped.width
    covered = []
    for row in range(wrapped.row_count):
        start, end, last = wrapped.row_span(row)
        covered.extend(range(start, end))
        if last:
            assert end == len(text) or text[end] == "\n"
        cells = wrapped.cells(start, end)
        if not last and text[end - 1] == " ":
            # The space may hang past the edge; the words before it fit.
            assert wrapped.cells(start, end - 1) <= width
        elif end - start > 1 and not (not last and wrapped.cells(start, end - 1) == 0):
            assert cells <= width, (row, text[start:end])
        if not last and text[end - 1] != " ":
            # A hard break only when no space was there to break at, and only when full.
            assert " " not in text[start:end]
            assert wrapped.cells(start, end) + wrapped.char_cells(end) > width
        if not last and text[end - 1] == " ":
            # Greedy: the next word would not have fitted on this row.
            line_end = wrapped.line_span(wrapped.line_of_offset(start))[1]
            space = text.find(" ", end, line_end)
            next_word_end = line_end if space < 0 else space
            # (A line's own trailing space cannot hang: the last row keeps a cell after it.)
            trailing = next_word_end == line_end - 1
            assert wrapped.cells(start, next_word_end) > width or trailing
    newlines = {i for i, c in enumerate(text) if c == "\n"}
    assert sorted(covered) == sorted(set(range(len(text))) - newlines)
    for offset in range(len(text) + 1):
        row, x = wrapped.offset_to_row(offset)
        start, end, last = wrapped.row_span(row)
        assert start <= offset <= end
        assert offset < end or last
        if wrapped.is_stop(offset):
            assert wrapped.row_x_to_offset(row, x) == offset, (offset, row, x)


def test_greedy_wrap_on_spaces() -> None:
    wrapped = WrappedText("the quick brown fox jumps over the lazy dog", 10)
    assert rows_of(wrapped) == ["the quick ", "brown fox ", "jumps over ", "the lazy ", "dog"]
    assert wrapped.row_count == 5
    check_invariants(wrapped)


def test_width_changes_rewrap_and_zero_means_unwrapped() -> None:
    text = "alpha beta gamma delta\n\nepsilon"
    wrapped = WrappedText(text)
    assert wrapped.row_count == 3  # one row per line until it has a width
    for width in (1, 2, 5, 6, 11, 40):
        wrapped.rewrap(width)
        check_invariants(wrapped)
    wrapped.rewrap(6)
    assert rows_of(wrapped) == ["alpha ", "beta ", "gamma ", "delta", "", "epsilo", "n"]


def test_long_lines_without_spaces_break_hard() -> None:
    wrapped = WrappedText("x" * 25 + "\nshort", 10)
    assert rows_of(wrapped) == ["x" * 10, "x" * 10, "x" * 5, "short"]
    assert wrapped.offset_to_row(10) == (1, 0)
    assert wrapped.offset_to_row(25) == (2, 5)  # the newline: end of the line's last row
    assert wrapped.row_x_to_offset(0, 99) == 9  # a full row stops before the next row's start
    check_invariants(wrapped)


def test_wide_glyphs_take_two_cells() -> None:
    text = "\u4e2d\u6587\u5b57\u7b26\u4e2d\u6587\u5b57\u7b26 ok \U0001f600 end"
    wrapped = WrappedText(text, 7)
    assert not wrapped.is_narrow(0)
    assert rows_of(wrapped)[0] == text[:3]  # 6 cells; a fourth glyph would make 8
    assert wrapped.offset_to_row(2) == (0, 4)
    assert wrapped.row_x_to_offset(0, 5) == 2  # the right half of a glyph is that glyph
    emoji = text.index("\U0001f600")
    row, x = wrapped.offset_to_row(emoji + 1)
    assert x - wrapped.offset_to_row(emoji)[1] == 2
    for row in range(wrapped.row_count):
        start, end, _ = wrapped.row_span(row)
        assert cell_len(display(text[start:end]).rstrip(" ")) <= 7
    check_invariants(wrapped)


def test_tabs_and_controls_are_one_cell_each() -> None:
    text = "a\tb\x1b[31mc\x00d\u202ee\x9bf"
    wrapped = WrappedText(text, 80)
    shown = display(text)
    assert len(shown) == len(text) == cell_len(shown)
    assert (
        "\t" not in shown and "\x1b" not in shown and "\x00" not in shown and "\u202e" not in shown
    )
    assert wrapped.offset_to_row(text.index("b")) == (0, 2)
    assert wrapped.offset_to_row(text.index("f")) == (0, text.index("f"))


def test_combining_marks_share_their_glyph_cell() -> None:
    text = "cafe\u0301 au lait"
    wrapped = WrappedText(text, 20)
    accent = text.index("\u0301")
    assert not wrapped.is_stop(accent)
    assert wrapped.next_stop(accent - 1) == accent + 1
    assert wrapped.previous_stop(accent + 1) == accent - 1
    assert wrapped.offset_to_row(accent + 1)[1] == 4  # c a f e\u0301 take four cells
    check_invariants(wrapped)


def test_the_fast_path_agrees_with_rich() -> None:
    """Every character the index counts as one cell is one cell as the strip measures it."""
    pattern = _NOT_NARROW.pattern
    sample = [chr(c) for c in range(0x0, 0x3000) if chr(c) != "\n"]
    narrow = [c for c in sample if not _NOT_NARROW.match(c)]
    assert len(narrow) > 1500, pattern[:80]
    assert all(cell_len(display(c)) == 1 for c in narrow)


ALPHABET = [
    "a",
    "b",
    "word",
    " ",
    " ",
    " ",
    "\n",
    "\t",
    "\u4e2d",
    "\U0001f600",
    "e\u0301",
    "\x1b",
    "-",
]


@pytest.mark.parametrize("seed", range(12))
def test_random_texts_round_trip(seed: int) -> None:
    rng = random.Random(seed)
    text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 300)))
    wrapped = WrappedText(text)
    for width in (1, 2, 3, 7, 16, 33):
        wrapped.rewrap(width)
        check_invariants(wrapped)


def test_line_of_offset_and_line_span() -> None:
    wrapped = WrappedText("one\n\nthree\n")
    assert wrapped.line_count == 4
    assert [wrapped.line_of_offset(o) for o in range(12)] == [0, 0, 0, 0, 1, 2, 2, 2, 2, 2, 2, 3]
    assert wrapped.line_span(2) == (5, 10)
    assert wrapped.line_span(3) == (11, 11)
