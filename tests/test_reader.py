"""The reader, driven with the keys a person presses; assertions on the screen and the rows."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from textual.widgets import Input

from tests.apptools import REVIEWER, notices, sample_service, screen_lines, screen_text, settle
from tests.conftest import CORPUS, needs_corpus, on_disk
from tui.app import make_app
from tui.screens.library import LibraryScreen
from tui.screens.reader import ReaderScreen
from tui.service import Service
from tui.widgets.reader_view import ReaderView

CLAIM = "democracies must better compete with the PRC\u2019s model"
EVIDENCE = "Senegalese President Macky Sall praised the move"


async def open_reader(pilot, service: Service, title: str, phrase: str | None = None) -> ReaderView:  # noqa: ANN001
    doc = service.library.resolve_document(title)
    offset = doc.text.index(phrase) if phrase else None
    pilot.app.open_document(doc.id, offset)
    await settle(pilot)
    assert isinstance(pilot.app.screen, ReaderScreen)
    return pilot.app.screen.reader


def rows(service: Service) -> list[dict]:
    return list(on_disk(service.library).query("SELECT * FROM annotations ORDER BY created, rowid"))


@pytest.fixture
def service(tmp_path: Path) -> Service:
    return sample_service(tmp_path)


async def test_select_with_v_and_highlight(service: Service) -> None:
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        reader = await open_reader(pilot, service, "Xi's Pitch", CLAIM)
        await pilot.press("v", *["right"] * len(CLAIM), "h")
        await settle(pilot)
        [row] = rows(service)
        text = service.library.resolve_document("Xi's Pitch").text
        assert (row["exact"], row["role"]) == (CLAIM, "highlight")
        assert text[row["start"] : row["end"]] == CLAIM
        assert row["prefix"] == text[row["start"] - 32 : row["start"]]
        assert row["suffix"] == text[row["end"] : row["end"] + 32]
        assert row["author_id"] == REVIEWER.id
        assert reader.selection == (reader.cursor, reader.cursor)  # the selection is used up
        assert service.search(f'"{CLAIM[:30]}"').hits


async def test_sentence_claim_tag_note_and_quick_tag(service: Service) -> None:
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_reader(pilot, service, "Xi's Pitch", CLAIM)
        await pilot.press("s", "c")
        await settle(pilot)
        [claim] = rows(service)
        assert claim["role"] == "claim"
        assert claim["exact"].startswith("If democratic collaboration") and claim["exact"].endswith(
            "vision."
        )
        await pilot.press("t", *"governance/digital", "enter")
        await settle(pilot)
        await pilot.press("n", *"asserted, not argued", "ctrl+s")
        await settle(pilot)
        annotation = service.library.annotation(claim["id"])
        assert annotation.tags == ("governance/digital",)
        assert annotation.note == "asserted, not argued"
        # A second passage tagged with the codebook's first tag by its number.
        await pilot.press("right_square_bracket")  # nothing after: stays
        reader = app.screen.reader
        text = reader.text
        reader.go_to(text.index(EVIDENCE))
        await pilot.press("s", "1")
        await settle(pilot)
        second = service.library.annotations(role="highlight")[0]
        assert second.exact.startswith("At the most recent meeting") and second.tags == (
            "governance/digital",
        )
        assert "asserted, not argued" in screen_text(app)


async def test_link_evidence_with_relation(service: Service) -> None:
    xi = service.library.resolve_document("Xi's Pitch")
    claim = service.annotate_quote(
        xi.id, "the construction of a $79-million data center in Senegal", role="claim"
    )
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        reader = await open_reader(pilot, service, "Xi's Pitch", EVIDENCE)
        await pilot.press("v", *["right"] * len(EVIDENCE), "e")
        await pilot.pause()
        await pilot.press(*"data center", "enter")
        await pilot.pause()
        await pilot.press("down", "enter")  # contradicts
        await settle(pilot)
        [link] = service.library.links(claim_id=claim.id)
        evidence = service.library.annotation(link.evidence_id)
        assert (link.relation, evidence.exact) == ("contradicts", EVIDENCE)
        assert reader.text[evidence.start : evidence.end] == EVIDENCE


async def test_delete_is_a_tombstone_and_undo_brings_it_back(service: Service) -> None:
    xi = service.library.resolve_document("Xi's Pitch")
    made = service.annotate_quote(xi.id, EVIDENCE)
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_reader(pilot, service, "Xi's Pitch", EVIDENCE)
        await pilot.press("x")
        await settle(pilot)
        assert service.library.annotation(made.id).deleted
        assert service.library.annotations(xi.id) == []
        await pilot.press("u")
        await settle(pilot)
        assert not service.library.annotation(made.id).deleted


async def test_copy_with_citation(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    seen = []
    app = make_app(service)
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await open_reader(pilot, service, "Modest Proposal", "a\nyoung healthy child")
        await pilot.press("v", *["right"] * len("a young healthy child"), "y")
        await settle(pilot)
        # The line break inside the quote becomes a space in the citation.
        assert (
            app.last_copied
            == "\u201ca young healthy child\u201d (A Modest Proposal, Jonathan Swift, 1729-01-01, p. 2)"
        )
        assert app.clipboard == app.last_copied  # the OSC 52 route: no display here
        assert "OSC 52" in notices(app)


async def test_find_in_document_and_escape_back(service: Service) -> None:
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        reader = await open_reader(pilot, service, "Federalist")
        await pilot.press("slash", *"faction")
        await pilot.pause()
        first = reader.text.lower().index("faction")
        assert reader.cursor == first
        await pilot.press("enter")
        await pilot.pause()
        assert reader.has_focus and reader.cursor == first
        await pilot.press("greater_than_sign")
        assert reader.cursor == reader.text.lower().index("faction", first + 1)
        await pilot.press("less_than_sign")
        assert reader.cursor == first
        await pilot.press("slash", *"zzzz", "escape")
        await pilot.pause()
        assert reader.cursor == first and not app.screen.query_one("#find", Input).display
        await pilot.press("v", "right", "right", "escape")
        assert reader.selection == (reader.cursor, reader.cursor)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LibraryScreen)


async def test_keys_need_a_selection_and_say_so(service: Service) -> None:
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_reader(pilot, service, "Federalist")
        await pilot.press("h")
        await settle(pilot)
        assert "Select some text first" in notices(app)
        assert rows(service) == []


WEIRD = (
    "Wide: \u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8 and emoji \U0001f600\U0001f30d here.\n"
    "Tab\there and a very long line " + "x" * 300 + " end.\n\nSecond paragraph starts here.\n"
)


def _weird_library(tmp_path: Path) -> Service:
    source = tmp_path / "weird.txt"
    source.write_text(WEIRD, encoding="utf-8")
    service = Service(tmp_path / "weird.margin", tmp_path / "config")
    list(service.import_files([source]))
    service.sync_index()
    return service


async def test_offsets_with_wide_characters_tabs_and_long_lines(tmp_path: Path) -> None:
    service = _weird_library(tmp_path)
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        reader = await open_reader(pilot, service, "weird")
        reader.go_to(WEIRD.index("\u8a9e"))
        await pilot.press("v", *["right"] * 3, "h")
        await settle(pilot)
        reader.go_to(WEIRD.index("\U0001f600"))
        await pilot.press("shift+right", "shift+right", "h")
        await settle(pilot)
        reader.go_to(WEIRD.index("\there"))
        await pilot.press("shift+right", "shift+right", "h")
        await settle(pilot)
        reader.go_to(WEIRD.index("end."))
        await pilot.press("v", "down", "down", "h")  # across the paragraph break
        await settle(pilot)
        quotes = [r["exact"] for r in rows(service)]
        assert quotes[:3] == ["\u8a9e\u306e\u30c6", "\U0001f600\U0001f30d", "\th"]
        assert "\n\n" in quotes[3] and quotes[3].startswith("end.")
        for row in rows(service):
            assert WEIRD[row["start"] : row["end"]] == row["exact"]
        for line in screen_lines(app):
            assert "\t" not in line


async def test_a_selection_starting_inside_a_highlight_and_overlaps(service: Service) -> None:
    xi = service.library.resolve_document("Xi's Pitch")
    outer = service.annotate_quote(xi.id, CLAIM, tags=["governance"])
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        reader = await open_reader(pilot, service, "Xi's Pitch")
        inside = outer.start + len("democracies must ")
        reader.go_to(inside)
        await pilot.press("v", *["right"] * 30, "h")
        await settle(pilot)
        new = [a for a in service.library.annotations(xi.id) if a.id != outer.id][0]
        assert (new.start, new.end) == (inside, inside + 30)
        assert len(reader.spans_at(inside + 1)) == 2
        # Pressing n on the overlap edits the narrower (newer) one, which is drawn on top.
        assert reader.cursor == inside
        await pilot.press("n", *"inner", "ctrl+s")
        await settle(pilot)
        assert service.library.annotation(new.id).note == "inner"
        assert service.library.annotation(outer.id).note == ""


HOSTILE = (
    "Plain start. ESC\x1b[31mred\x1b[0m CSI and OSC52 \x1b]52;c;ZXZpbA==\x07 then C1 \x9b2J "
    "bidi \u202eevil\u202c and markup [bold]not bold[/bold] [@click=app.quit]click[/] "
    "[link=https://example.org]x[/link] end.\n"
)


async def test_hostile_text_renders_inert(tmp_path: Path) -> None:
    source = tmp_path / "report[bold].txt"
    source.write_text(HOSTILE, encoding="utf-8")
    service = Service(tmp_path / "hostile.margin", tmp_path / "config")
    [result] = list(service.import_files([source]))
    assert result.status == "imported"
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "report[bold]" in screen_text(app)
        reader = await open_reader(pilot, service, "report")
        shown = screen_text(app)
        assert "[bold]not bold[/bold]" in shown and "[@click=app.quit]click[/]" in shown
        for line in screen_lines(app):
            assert not re.search(
                r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", line
            ), line
        # Clicking the would-be action does nothing; the app is still here.
        await pilot.click(ReaderView, offset=(60, 0))
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, ReaderScreen)
        assert reader.text == service.library.document(result.document_id).text


async def test_resize_rewraps_without_losing_the_place(service: Service) -> None:
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        reader = await open_reader(pilot, service, "Federalist", "faction")
        await pilot.press("v", "right", "right", "right")
        before = (reader.cursor, reader.selection)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await pilot.pause()
        assert (reader.cursor, reader.selection) == before
        top = int(reader.scroll_offset.y)
        row, _ = reader.wrapped.offset_to_row(reader.cursor)
        assert top <= row < top + reader.size.height
        for line in screen_lines(app):
            assert len(line) <= 80


async def test_mouse_drag_selects_and_double_click_selects_a_word(service: Service) -> None:
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        reader = await open_reader(pilot, service, "Federalist")
        await pilot.mouse_down(ReaderView, offset=(2, 2))
        await pilot.hover(ReaderView, offset=(12, 2))
        await pilot.mouse_up(ReaderView, offset=(12, 2))
        start, end = reader.selection
        assert end - start == 10
        assert reader.selected_text == reader.text[start:end]
        await pilot.click(ReaderView, offset=(4, 2), times=2)
        await pilot.pause()
        word = reader.selected_text
        assert word and re.fullmatch(r"\w[\w'\u2019-]*", word)


@needs_corpus
async def test_a_big_book_renders_only_what_is_on_screen(tmp_path: Path) -> None:
    book = max(CORPUS.glob("*.txt"), key=lambda p: p.stat().st_size)
    service = Service(tmp_path / "big.margin", tmp_path / "config")
    list(service.import_files([book]))
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        doc_id = service.library.document_ids()[0]
        app.open_document(doc_id, 1_500_000)
        await settle(pilot)
        reader = app.screen.reader
        assert reader.virtual_size.height == reader.wrapped.row_count > 10_000
        assert reader.render_count < 5 * reader.size.height
        row, _ = reader.wrapped.offset_to_row(1_500_000)
        top = int(reader.scroll_offset.y)
        assert top <= row < top + reader.size.height
        assert reader.cursor == 1_500_000


async def test_a_library_locked_by_another_margin_is_a_message_not_a_crash(
    service: Service,
) -> None:
    # Another margin (here, a second connection) holds the write lock longer than we wait.
    other = sqlite3.connect(service.library.path, isolation_level=None)
    service.library._db.execute("PRAGMA busy_timeout = 200")  # the real wait is 10 s
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_reader(pilot, service, "Xi's Pitch", CLAIM)
        other.execute("BEGIN IMMEDIATE")
        await pilot.press("v", *["right"] * len(CLAIM), "h")
        await settle(pilot)
        assert "the library is busy (another margin is writing); try again" in notices(app)
        assert rows(service) == [] and app.is_running
        other.execute("ROLLBACK")
        await pilot.press("h")  # the selection is still there: try again
        await settle(pilot)
        assert [row["exact"] for row in rows(service)] == [CLAIM]
    other.close()


async def test_a_cancelled_tag_note_or_link_dialog_leaves_nothing(service: Service) -> None:
    xi = service.library.resolve_document("Xi's Pitch")
    service.annotate_quote(xi.id, "the construction of a $79-million data center", role="claim")
    before = rows(service)
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_reader(pilot, service, "Xi's Pitch", EVIDENCE)
        for key in ("t", "n", "e"):
            await pilot.press("s", key)
            await pilot.pause()
            await pilot.press("escape")
            await settle(pilot)
            assert rows(service) == before, key
        await pilot.press("s", "n", *"ask Dakar", "ctrl+s")  # confirmed: now it is made
        await settle(pilot)
        made = [r for r in rows(service) if r not in before]
        assert [(r["role"], r["note"]) for r in made] == [("highlight", "ask Dakar")]


async def test_marking_the_same_words_again_changes_the_one_annotation(service: Service) -> None:
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_reader(pilot, service, "Xi's Pitch", EVIDENCE)
        await pilot.press("s", "h")
        await settle(pilot)
        await pilot.press("s", "h")
        await settle(pilot)
        assert "Already a highlight here" in notices(app)
        await pilot.press("s", "c")
        await settle(pilot)
        await pilot.press("s", "t", *"infrastructure", "enter")
        await settle(pilot)
        (only,) = rows(service)
        assert only["role"] == "claim" and EVIDENCE in only["exact"]
        assert service.library.annotation(only["id"]).tags == ("infrastructure",)


async def test_a_pdf_reads_as_paragraphs_r_shows_the_layout_and_quotes_stay_exact(
    service: Service,
) -> None:
    across = "travel in the\ncountry, when"  # a line break of the PDF's layout
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        reader = await open_reader(pilot, service, "Modest Proposal", "travel in the")
        assert any("in the country, when" in row for row in screen_lines(app))
        stored = service.library.resolve_document("Modest Proposal").text
        start = stored.index(across)
        reader.select(start, start + len(across))
        await pilot.press("h")
        await settle(pilot)
        (row,) = rows(service)
        assert row["exact"] == across  # the stored text, break and all
        await pilot.press("r")
        await settle(pilot)
        assert "Lines as laid out" in notices(app)
        # The text column only: the notes panel quotes the new highlight with spaces.
        assert not any("in the country, when" in line[:82] for line in screen_lines(app))
        assert reader.cursor == start  # the place is kept
        await pilot.press("r")
        await settle(pilot)
        assert any("in the country, when" in line for line in screen_lines(app))


async def test_find_crosses_line_breaks_keeps_offsets_after_sharp_s_and_says_when_it_wraps(
    tmp_path: Path,
) -> None:
    service = sample_service(tmp_path)
    source = tmp_path / "strasse.txt"
    source.write_text("Die Straße ist lang.\n" + "Ein Wort. " * 50 + "\nthe long\nroad home.\n")
    (result,) = service.import_files([source])
    text = service.library.document(result.document_id).text
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        pilot.app.open_document(result.document_id)
        await settle(pilot)
        reader = app.screen.reader
        await pilot.press("slash", *"LONG ROAD", "enter")  # across a line break, any case
        await pilot.pause()
        assert reader.cursor == text.index("long\nroad")  # casefold() put it 1 further on
        await pilot.press("greater_than_sign")
        await pilot.pause()
        assert reader.cursor == text.index("long\nroad")
        assert "Wrapped to the first match" in notices(app)


async def test_a_tag_the_note_has_comes_off_with_t_or_its_number(service: Service) -> None:
    xi = service.library.resolve_document("Xi's Pitch")
    made = service.annotate_quote(xi.id, EVIDENCE, tags=["infrastructure", "senegal"])
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_reader(pilot, service, "Xi's Pitch", EVIDENCE)
        await pilot.press("t")
        await pilot.pause()
        assert "A tag it has comes off" in screen_text(app)
        assert "keys 1 infrastructure · 2 senegal" in screen_text(app)
        await pilot.press(*"#senegal", "enter")
        await settle(pilot)
        assert service.library.annotation(made.id).tags == ("infrastructure",)
        assert "Took #senegal off" in notices(app)
        await pilot.press("1")  # the codebook's first tag: infrastructure, which it has
        await settle(pilot)
        assert service.library.annotation(made.id).tags == ()
        await pilot.press("1")
        await settle(pilot)
        assert service.library.annotation(made.id).tags == ("infrastructure",)
        await pilot.press("u")  # undo takes back the last toggle
        await settle(pilot)
        assert service.library.annotation(made.id).tags == ()


async def test_a_note_typed_in_one_burst_then_ctrl_s_keeps_every_letter(service: Service) -> None:
    # Keys that arrive together (a fast typist, a paste without bracketed paste, tmux
    # send-keys) reach the app in one read. A priority ctrl+s ran before the editor had taken
    # the letters queued ahead of it: "Note saved", and the note stored empty.
    from textual import events

    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_reader(pilot, service, "Xi's Pitch", CLAIM)
        await pilot.press("s", "h")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        for char in "typed fast":
            app.post_message(events.Key("space" if char == " " else char, char))
        app.post_message(events.Key("ctrl+s", None))
        await settle(pilot)
        [row] = rows(service)
        assert row["note"] == "typed fast"


async def test_find_as_you_type_says_not_found_once_not_per_keystroke(service: Service) -> None:
    # Each keystroke of a word not in the text toasted "Not found: ..." four deep over it.
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_reader(pilot, service, "Federalist")
        await pilot.press("slash", *"zzzq")
        await pilot.pause()
        find = app.screen.query_one("#find", Input)
        assert "Not found" not in notices(app)
        assert find.has_class("-invalid")  # the red border says it meanwhile
        await pilot.press("enter")
        await pilot.pause()
        assert notices(app).count("Not found") == 1
