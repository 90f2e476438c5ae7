"""The reader widget as a user drives it: real keys and mouse through Pilot, in a tiny host app.

Each test asserts on offsets (what the store keeps), on the messages the widget posts, and on
the strips it draws (what reaches the terminal).
"""

from __future__ import annotations

import unicodedata

from rich.style import Style
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from tests.conftest import CORPUS, SEED, needs_corpus
from tui.widgets.reader_view import CLAIM_MARK, EVIDENCE_MARK, GUTTER, ReaderView, Span
from tui.widgets.wrapped_text import display

LONG = (
    "The reader opens long paragraphs without trouble. "
    "Every row of this one is wrapped by the widget itself, so offsets and rows must agree at "
    "each break, with nothing lost and nothing doubled on the way down the screen. "
    "A sentence ends here! "
    "And the last sentence of the paragraph closes it."
)
HARD = (
    "This paragraph is hard-wrapped the way Project Gutenberg\n"
    "ships its books, each line a little under seventy columns\n"
    "wide. A sentence can run over a line break like this one\n"
    "does, and the paragraph runs on to a short last line.\n"
    "Like this."
)
FILLER = "\n\n".join(
    f"Filler paragraph {n} keeps the document long enough to scroll through several pages "
    f"of rows, so that paging and jumping have somewhere to go."
    for n in range(80)
)
TEXT = f"Opening line.\n\n{LONG}\n\n{HARD}\n\n{FILLER}\n"


class Host(App[None]):
    """A reader on its own, with a status line under it and an escape that counts."""

    BINDINGS = [Binding("escape", "went_back", "Back")]
    CSS = "ReaderView { height: 1fr; } #below { height: 4; }"

    def __init__(
        self, text: str = TEXT, spans: list[Span] | None = None, jump: tuple[int, int] | None = None
    ):
        super().__init__()
        self.text, self.spans, self.jump = text, spans or [], jump
        self.went_back = 0
        self.bells = 0

    def compose(self) -> ComposeResult:
        yield ReaderView(id="reader")
        yield Static("status", id="below")

    def on_mount(self) -> None:
        reader = self.query_one(ReaderView)
        reader.load_text(self.text)
        reader.set_spans(self.spans)
        if self.jump:
            reader.go_to(*self.jump)  # before the first layout: the scroll waits for it
        reader.focus()

    def action_went_back(self) -> None:
        self.went_back += 1

    def bell(self) -> None:
        self.bells += 1


def messages(seen: list, kind: type) -> list:
    """Messages of one kind, once each (the hook sees a bubbling message at every node)."""
    found, ids = [], set()
    for message in seen:
        if isinstance(message, kind) and id(message) not in ids:
            ids.add(id(message))
            found.append(message)
    return found


def drawn(reader: ReaderView) -> list[list[tuple[str, Style, int | None]]]:
    """Per visible row: (character, style, offset) for every cell the widget draws."""
    wrapped = reader.wrapped
    rows = []
    for y in range(reader.scrollable_content_region.height):
        strip = reader.render_line(y)
        row = reader.scroll_offset.y + y
        start, end, last = wrapped.row_span(row) if row < wrapped.row_count else (0, -1, False)
        stop = end + 1 if last else end
        cells: list[tuple[str, Style, int | None]] = []
        for segment in strip:
            for char in segment.text:
                index = len(cells) - GUTTER
                offset = start + index if 0 <= index and start + index < stop else None
                cells.append((char, segment.style, offset))
        rows.append(cells)
    return rows


def offsets_styled(reader: ReaderView, test) -> set[int]:  # noqa: ANN001
    return {o for row in drawn(reader) for _, style, o in row if o is not None and test(style)}


def visible_rows(reader: ReaderView) -> range:
    top = reader.scroll_offset.y
    return range(top, top + reader.scrollable_content_region.height)


@needs_corpus
async def test_opens_a_big_book_drawing_only_the_rows_on_screen() -> None:
    books = sorted(CORPUS.glob("*.txt"), key=lambda p: p.stat().st_size, reverse=True)
    text = ""
    for book in books:
        text += book.read_text(encoding="utf-8")
        if len(text) >= 8_000_000:
            break
    text = text[:8_000_000]
    app = Host(text)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        reader = app.query_one(ReaderView)
        height = reader.scrollable_content_region.height
        assert reader.virtual_size.height == reader.wrapped.row_count > 100_000
        for y, row in enumerate(drawn(reader)):  # the book's first rows, exactly
            start, end, _ = reader.wrapped.row_span(y)
            assert "".join(c for c, _, o in row if o is not None and o < end) == display(
                text[start:end]
            )
        assert "Project Gutenberg" in "".join(c for c, _, _ in drawn(reader)[1])
        # About once per visible row (a second frame follows the scrollbar's first layout).
        assert height <= reader.render_count <= 3 * height
        await pilot.press("pagedown")
        assert reader.render_count <= 5 * height


async def test_a_jump_before_layout_opens_at_its_place_a_third_down() -> None:
    target = TEXT.index("Filler paragraph 50 ")
    app = Host(jump=(target, 16))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        reader = app.query_one(ReaderView)
        assert reader.cursor == target and reader.hit == (target, target + 16)
        row, _ = reader.wrapped.offset_to_row(target)
        height = reader.scrollable_content_region.height
        assert row - reader.scroll_offset.y == height // 3
        hit_bg = reader.get_component_rich_style("reader--hit").bgcolor
        assert offsets_styled(reader, lambda s: s.bgcolor == hit_bg) == set(
            range(target + 1, target + 16)
        )
        await pilot.resize_terminal(70, 30)
        await pilot.pause()
        assert reader.wrapped.offset_to_row(target)[0] in visible_rows(reader)


async def test_keyboard_selection_is_exact_across_wraps_and_blank_lines() -> None:
    seen: list = []
    app = Host()
    async with app.run_test(size=(60, 20), message_hook=seen.append) as pilot:
        reader = app.query_one(ReaderView)
        start = TEXT.index("Every row")
        reader.place_cursor(start)
        selection_bg = reader.get_component_rich_style("reader--selection").bgcolor
        steps = (
            ["shift+right"] * 70
            + ["shift+down"] * 3
            + ["shift+end", "shift+down", "shift+down", "shift+pagedown", "shift+up", "shift+home"]
        )
        for key in steps:
            await pilot.press(key)
            low, high = reader.selection
            assert low == start < high
            assert reader.selected_text == TEXT[low:high]
            changed = messages(seen, ReaderView.SelectionChanged)[-1]
            assert (changed.start, changed.end, changed.cursor) == (low, high, reader.cursor)
            # What is drawn as selected is exactly the selection, where it is on screen.
            shown = offsets_styled(reader, lambda s: s.bgcolor == selection_bg)
            on_screen = {o for row in drawn(reader) for _, _, o in row if o is not None}
            assert shown == set(range(low, high)) & on_screen
        assert "\n\n" in reader.selected_text  # it ran over blank lines
        await pilot.press("escape")
        assert reader.selection == (reader.cursor, reader.cursor)
        assert app.went_back == 0


async def test_escape_clears_a_selection_first_and_then_goes_back() -> None:
    app = Host()
    async with app.run_test(size=(60, 20)) as pilot:
        reader = app.query_one(ReaderView)
        await pilot.press("shift+right", "shift+right", "escape")
        assert reader.selection == (2, 2) and app.went_back == 0
        await pilot.press("escape")
        assert app.went_back == 1  # nothing to clear: the key went on to the screen and app


async def test_v_starts_a_selection_that_plain_moves_extend() -> None:
    app = Host()
    async with app.run_test(size=(60, 20)) as pilot:
        reader = app.query_one(ReaderView)
        at = TEXT.index("reader opens")
        reader.place_cursor(at)
        await pilot.press("v", "w", "w")
        assert reader.selecting and reader.selected_text == "reader opens "
        await pilot.press("b")
        assert reader.selected_text == "reader "
        await pilot.press("v")  # again: drop it
        assert not reader.selecting and reader.selection == (reader.cursor, reader.cursor)
        await pilot.press("right")
        assert reader.selection == (reader.cursor, reader.cursor)


async def test_s_and_p_select_the_sentence_and_the_paragraph() -> None:
    app = Host()
    async with app.run_test(size=(60, 20)) as pilot:
        reader = app.query_one(ReaderView)
        reader.place_cursor(TEXT.index("nothing lost"))
        await pilot.press("s")
        assert reader.selected_text.startswith(
            "Every row of this one"
        ) and reader.selected_text.endswith("screen.")
        await pilot.press("p")
        assert reader.selected_text == LONG
        reader.place_cursor(TEXT.index("over a line break"))
        await pilot.press("s")
        assert reader.selected_text == (
            "A sentence can run over a line break like this one\n"
            "does, and the paragraph runs on to a short last line."
        )
        await pilot.press("p")
        assert reader.selected_text == HARD
        reader.place_cursor(TEXT.index("\n\n") + 1)  # on a blank line: the next paragraph
        await pilot.press("p")
        assert reader.selected_text == LONG


async def test_selection_across_a_paragraph_break_includes_the_newlines() -> None:
    app = Host()
    async with app.run_test(size=(60, 20)) as pilot:
        reader = app.query_one(ReaderView)
        start = TEXT.index("closes it.")
        reader.place_cursor(start)
        await pilot.press("shift+down", "shift+down", "shift+end")
        low, high = reader.selection
        assert reader.selected_text == TEXT[start:high]
        assert reader.selected_text.startswith("closes it.\n\nThis paragraph")
        selection_bg = reader.get_component_rich_style("reader--selection").bgcolor
        newline = TEXT.index("\n", start)
        assert {newline, newline + 1} <= offsets_styled(reader, lambda s: s.bgcolor == selection_bg)


async def test_a_selection_may_start_inside_a_highlight_and_is_drawn_over_it() -> None:
    word = TEXT.index("long paragraphs")
    span = Span(word, word + len("long paragraphs"), "h1", "highlight", "#e5c07b")
    app = Host(spans=[span])
    async with app.run_test(size=(60, 20)) as pilot:
        reader = app.query_one(ReaderView)
        reader.place_cursor(word + 5)
        await pilot.press(*["shift+right"] * 20)
        assert reader.selection == (word + 5, word + 25)
        assert reader.selected_text == TEXT[word + 5 : word + 25]
        assert reader.spans_at(word + 5) == [span]
        selection_bg = reader.get_component_rich_style("reader--selection").bgcolor
        assert offsets_styled(reader, lambda s: s.bgcolor == selection_bg) == set(
            range(word + 5, word + 25)
        )
        # The part of the highlight outside the selection keeps its colour.
        base_bg = reader.rich_style.bgcolor
        highlighted = offsets_styled(reader, lambda s: s.bgcolor not in (selection_bg, base_bg))
        assert highlighted - {reader.cursor} == set(range(word, word + 5))


async def test_mouse_drag_click_and_double_click() -> None:
    app = Host()
    async with app.run_test(size=(60, 20)) as pilot:
        reader = app.query_one(ReaderView)
        assert reader.allow_select is False
        await pilot.mouse_down(ReaderView, offset=(GUTTER + 2, 2))
        await pilot.hover(ReaderView, offset=(GUTTER + 12, 2))
        await pilot.mouse_up(ReaderView, offset=(GUTTER + 12, 2))
        start, end = reader.offset_at(GUTTER + 2, 2), reader.offset_at(GUTTER + 12, 2)
        assert reader.selection == (start, end) and end - start == 10
        assert reader.selected_text == TEXT[start:end]
        assert not app.screen.selections  # Textual's own screen selection stays off
        # A click moves the cursor and drops the selection.
        await pilot.click(ReaderView, offset=(GUTTER + 5, 4))
        assert reader.cursor == reader.offset_at(GUTTER + 5, 4)
        assert reader.selection == (reader.cursor, reader.cursor)
        # A double-click selects the word under it.
        await pilot.click(ReaderView, offset=(GUTTER + 5, 4), times=2)
        low, high = reader.selection
        assert low <= reader.offset_at(GUTTER + 5, 4) < high
        assert (
            reader.selected_text.isalpha()
            and not TEXT[high].isalpha()
            and not TEXT[low - 1].isalpha()
        )
        # Dragging past the bottom edge scrolls and keeps selecting.
        height = reader.scrollable_content_region.height
        await pilot.mouse_down(ReaderView, offset=(GUTTER, 0))
        origin = reader.cursor
        await pilot.hover(ReaderView, offset=(GUTTER + 3, height + 2))
        await pilot.mouse_up(ReaderView, offset=(GUTTER + 3, height + 2))
        assert reader.scroll_offset.y > 0
        low, high = reader.selection
        assert low == origin and reader.wrapped.offset_to_row(high)[0] >= height
        assert reader.selected_text == TEXT[low:high]


async def test_brackets_go_between_annotations_and_enter_activates_one() -> None:
    first, second = TEXT.index("Opening"), TEXT.index("long paragraphs")
    third = TEXT.index("Filler paragraph 3 ")
    spans = [
        Span(second, second + 15, "wide", "highlight", None),
        Span(second + 5, second + 15, "narrow", "claim", "#61afef"),
        Span(first, first + 7, "open", "highlight", "#98c379"),
        Span(third, third + 20, "far", "highlight", None),
    ]
    seen: list = []
    app = Host(spans=spans)
    async with app.run_test(size=(60, 20), message_hook=seen.append) as pilot:
        reader = app.query_one(ReaderView)
        await pilot.press("right_square_bracket")
        assert reader.cursor == second
        moved = messages(seen, ReaderView.CursorMoved)[-1]
        assert moved.offset == second and [s.id for s in moved.spans] == ["wide"]
        await pilot.press("right_square_bracket")
        assert reader.cursor == second + 5
        await pilot.press("enter")
        activated = messages(seen, ReaderView.HighlightActivated)
        assert [a.span.id for a in activated] == ["narrow"]  # the one drawn on top
        await pilot.press("right_square_bracket")
        assert reader.cursor == third and reader.wrapped.offset_to_row(third)[0] in visible_rows(
            reader
        )
        await pilot.press("right_square_bracket")
        assert reader.cursor == third and app.bells == 1  # no further annotation: bell, no move
        for expected in (second + 5, second, first):
            await pilot.press("left_square_bracket")
            assert reader.cursor == expected
        await pilot.press("left_square_bracket")
        assert reader.cursor == first and app.bells == 2


async def test_highlights_claims_and_overlaps_are_drawn_on_their_ranges() -> None:
    para = TEXT.index("Every row")
    wide = Span(para, para + 40, "wide", "highlight", "#e5c07b")
    narrow = Span(para + 10, para + 20, "narrow", "highlight", "#c678dd")
    claim = Span(para + 15, para + 60, "claim", "claim", None)
    evidence = Span(
        TEXT.index("This paragraph"),
        TEXT.index("This paragraph") + 4,
        "ev",
        "highlight",
        None,
        True,
    )
    app = Host(spans=[wide, narrow, claim, evidence])
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        reader = app.query_one(ReaderView)
        reader.place_cursor(len(TEXT))  # cursor out of the way
        reader.scroll_to(y=0, animate=False)
        cells = {o: style for row in drawn(reader) for _, style, o in row if o is not None}
        base = reader.rich_style.bgcolor
        colour = lambda o: cells[o].bgcolor  # noqa: E731
        assert {colour(o) for o in range(para, para + 10)} == {colour(para)} != {base}
        assert {colour(o) for o in range(para + 10, para + 20)} == {colour(para + 10)}
        assert colour(para + 10) not in (colour(para), base)  # the narrower span wins
        assert colour(para + 20) == colour(para)
        assert colour(para - 1) == base and colour(para + 60) == base
        underlined = {o for o, s in cells.items() if s.underline and s.bold}
        assert underlined == set(range(para + 15, para + 60))  # survives the highlights over it
        # The gutter marks exactly the claim's rows (monochrome terminals see it too) and evidence.
        claim_rows = [
            any(o in range(para + 15, para + 60) for _, _, o in row) for row in drawn(reader)
        ]
        marks = [row[0][0] for row in drawn(reader)]
        assert [m == CLAIM_MARK for m in marks] == claim_rows
        evidence_row = reader.wrapped.offset_to_row(evidence.start)[0] - reader.scroll_offset.y
        assert marks[evidence_row] == EVIDENCE_MARK


async def test_resize_rewraps_keeping_the_first_character_cursor_and_selection() -> None:
    app = Host()
    async with app.run_test(size=(120, 30)) as pilot:
        reader = app.query_one(ReaderView)
        target = TEXT.index("Filler paragraph 20 ")
        reader.go_to(target)
        await pilot.press(*["shift+right"] * 8)
        await pilot.pause()
        first = reader.first_visible_offset
        before = reader.cursor, reader.selection
        await pilot.resize_terminal(80, 30)
        await pilot.pause()
        width = reader.scrollable_content_region.width
        assert reader.wrapped.width == width - GUTTER - 1
        assert reader.wrapped.offset_to_row(first)[0] in visible_rows(reader)
        assert (reader.cursor, reader.selection) == before
        for row in drawn(reader):
            assert len(row) == width
            assert all(o is None for c, _, o in row[width - 1 :] if c != " ")


HOSTILE = (
    "Start \x1b[31mred\x1b[0m csi \x1b[2J osc \x1b]52;c;aGVsbG8=\x07 c1 \x9b31m "
    "bidi \u202egnp.exe\u202c nul \x00 del \x7f bell \x07 tab\there ls\u2028ps\u2029 "
    "[bold]not bold[/bold] [@click=app.quit]click[/] [link=https://x.invalid]link[/link] "
    "cafe\u0301 \u8a9e\u8a00 then the target word."
)


async def test_hostile_text_renders_as_inert_visible_cells() -> None:
    target = HOSTILE.index("target")
    app = Host(HOSTILE, spans=[Span(target, target + 6, "t", "highlight", "#e5c07b")])
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        reader = app.query_one(ReaderView)
        reader.place_cursor(0)
        rows = drawn(reader)
        shown = "".join(c for row in rows for c, _, _ in row)
        bad = {
            c
            for c in shown
            if unicodedata.category(c) == "Cc"
            or "\u202a" <= c <= "\u202e"
            or "\u2066" <= c <= "\u2069"
        }
        assert not bad
        assert "[bold]not bold[/bold]" in shown and "[@click=app.quit]click[/]" in shown
        assert "[link=https://x.invalid]link[/link]" in shown
        assert all(not style.meta and not style.link for row in rows for _, style, _ in row)
        # Offsets stay true after every replaced character: the highlight lands on the word.
        base = reader.rich_style.bgcolor
        lit = {
            o
            for row in rows
            for c, s, o in row
            if o not in (None, reader.cursor) and s.bgcolor != base
        }
        assert lit == set(range(target, target + 6))
        assert "".join(c for row in rows for c, _, o in row if o in lit) == "target"
        # What is selected is the original text, escape sequences and all.
        reader.select(0, HOSTILE.index(" csi"))
        assert reader.selected_text == "Start \x1b[31mred\x1b[0m"


async def test_arrows_keep_the_goal_column_and_edges_move_by_row_and_document() -> None:
    app = Host()
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        reader = app.query_one(ReaderView)
        hard_row = reader.wrapped.offset_to_row(TEXT.index("This paragraph"))[0]
        start, end, _ = reader.wrapped.row_span(hard_row - 2)
        assert end - start < 30  # the long paragraph's short last row, then a blank one
        reader.place_cursor(reader.wrapped.row_x_to_offset(hard_row, 30))
        await pilot.press("up", "up", "up")
        assert reader.wrapped.offset_to_row(reader.cursor) == (hard_row - 3, 30)
        await pilot.press("down", "down", "down")
        assert reader.wrapped.offset_to_row(reader.cursor) == (hard_row, 30)
        await pilot.press("home")
        assert reader.cursor == TEXT.index("This paragraph")
        await pilot.press("end")
        start, end, last = reader.wrapped.row_span(hard_row)
        assert reader.cursor == (end if last else end - 1)  # a row's end, not the next row's start
        await pilot.press("G")
        assert reader.cursor == len(TEXT)
        assert reader.wrapped.offset_to_row(len(TEXT))[0] in visible_rows(reader)
        await pilot.press("g")
        assert reader.cursor == 0 and reader.scroll_offset.y == 0
        await pilot.press("w", "w")
        assert reader.cursor == TEXT.index("The reader")
        await pilot.press("b")
        assert reader.cursor == TEXT.index("line.")
        await pilot.press("pagedown")
        assert reader.scroll_offset.y > 0 and reader.wrapped.offset_to_row(reader.cursor)[
            0
        ] in visible_rows(reader)
        assert 0 < reader.percent < 100


def snapshot_app() -> Host:
    text = SEED.read_text(encoding="utf-8")

    def at(phrase: str, length: int | None = None) -> tuple[int, int]:
        start = text.index(phrase)
        return start, start + (length or len(phrase))

    spans = [
        Span(
            *at("Party Secretary Xi Jinping delivered his opening speech"),
            "h1",
            "highlight",
            "#e5c07b",
        ),
        Span(*at("Xi Jinping"), "h2", "highlight", "#c678dd"),  # inside h1: drawn on top
        Span(*at("better tell China"), "h3", "highlight", None),
        Span(
            *at("He also outlined that the global technological revolution was prompting shifts"),
            "c1",
            "claim",
            None,
        ),
        Span(
            *at("global cooperation initiatives like the Global Development Initiative"),
            "c2",
            "claim",
            "#61afef",
        ),
        Span(*at("Beijing has sought to gain buy-in"), "e1", "highlight", "#98c379", True),
        Span(*at("\u8bdd\u8bed\u6743"), "w1", "highlight", "#e06c75"),
    ]
    return Host(text, spans)


def test_snapshot_of_highlights_claims_overlaps_and_a_selection(snap_compare) -> None:  # noqa: ANN001
    async def run_before(pilot) -> None:  # noqa: ANN001
        reader = pilot.app.query_one(ReaderView)
        reader.place_cursor(pilot.app.text.index("delivered his"))
        await pilot.press(*["shift+right"] * 16)

    assert snap_compare(snapshot_app(), terminal_size=(120, 40), run_before=run_before)
