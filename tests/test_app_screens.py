"""The library, search, claims and codebook screens, driven with the keys a person presses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, OptionList

from tests.apptools import (
    REVIEWER,
    document_id,
    notices,
    sample_app,
    sample_service,
    screen_lines,
    screen_text,
    settle,
)
from tests.conftest import on_disk
from tui.app import make_app
from tui.screens.claim import ClaimScreen
from tui.screens.claims import ClaimsScreen
from tui.screens.library import LibraryScreen
from tui.screens.reader import ReaderScreen
from tui.screens.search import SearchScreen
from tui.screens.tags import TagsScreen


async def test_library_lists_filters_and_quits(tmp_path: Path) -> None:
    app = sample_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LibraryScreen)
        table = app.screen.query_one("#documents", DataTable)
        assert table.row_count == 6  # the six samples
        await pilot.press("f", *"federal")
        await pilot.pause()
        assert table.row_count == 1
        assert "The Federalist No. 10" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert table.row_count == 6
        await pilot.press("ctrl+q")
    assert app.return_code == 0


async def test_delete_asks_with_the_number_of_notes(tmp_path: Path) -> None:
    service = sample_service(tmp_path)
    doc = document_id(service, "Federalist")
    text = service.library.document(doc).text
    evidence = service.annotate(doc, 0, 20)
    service.annotate(doc, 30, 60, role="claim")
    elsewhere = service.annotate(document_id(service, "Xi"), 0, 30, role="claim")
    service.link(elsewhere.id, evidence.id)  # a claim in another document rests on it
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f", *"federal", "enter")
        await pilot.press("delete")
        await pilot.pause()
        shown = " ".join(screen_text(app).replace("\u2588", " ").split())  # no dialog border
        assert (
            "and the 2 notes on it? 1 link to claims or evidence in other documents goes" in shown
        )
        await pilot.press("n")
        await pilot.pause()
        assert on_disk(service.library)["documents"].count == 6
        await pilot.press("delete")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert on_disk(service.library)["documents"].count == 5
        assert [a.id for a in service.library.annotations()] == [elsewhere.id]
        assert service.library.links() == []
        assert text  # the document's text went with it
        assert app.screen.query_one("#documents", DataTable).row_count == 0  # still filtered


async def test_search_hits_open_the_reader_at_the_match(tmp_path: Path) -> None:
    app = sample_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        assert isinstance(app.screen, SearchScreen)
        await pilot.press(*'"data center" senegal')
        await pilot.pause(0.4)
        await settle(pilot)
        hits = app.screen.query_one("#hits", OptionList)
        assert hits.option_count >= 1
        assert "Senegal" in screen_text(app)
        first = app.screen.result.hits[0]
        await pilot.press("enter")  # from the query: run and move into the results
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReaderScreen)
        reader = app.screen.reader
        assert reader.cursor == first.offset
        text = app.service.library.document(first.document_id).text
        assert text[first.offset : first.offset + 11].lower() == "data center"


async def test_a_malformed_query_says_why_and_the_app_goes_on(tmp_path: Path) -> None:
    app = sample_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *'"data center')
        await pilot.pause(0.4)
        await settle(pilot)
        assert "is not closed" in screen_text(app)
        query = app.screen.query_one("#query", Input)
        query.value = ""
        await pilot.press(*"nosuchfield:x")
        await pilot.pause(0.4)
        await settle(pilot)
        assert "nosuchfield" in screen_text(app)
        await pilot.press("ctrl+u", *"faction")
        await pilot.pause(0.4)
        await settle(pilot)
        assert app.screen.query_one("#hits", OptionList).option_count > 0


def _claim_with_two_documents(service):  # noqa: ANN001, ANN202
    lib = service.library
    xi = lib.resolve_document("Xi's Pitch")
    fed = lib.resolve_document("Federalist")
    paine = lib.resolve_document("Common Sense")
    claim = service.annotate_quote(
        xi.id, "democracies must better compete with the PRC", role="claim"
    )
    first = service.annotate_quote(
        fed.id, "The latent causes of faction are thus sown in the nature of man"
    )
    second = service.annotate_quote(paine.id, "Society in every state is a blessing")
    service.link(claim.id, first.id, relation="supports", note="Madison on faction")
    service.link(claim.id, second.id, relation="contradicts")
    return claim, first, second


async def test_claim_opens_beside_evidence_from_two_documents_and_takes_a_verdict(
    tmp_path: Path,
) -> None:
    service = sample_service(tmp_path)
    claim, _, _ = _claim_with_two_documents(service)
    lonely = service.annotate_quote(
        "Modest Proposal", "a young healthy child well nursed", role="claim"
    )
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        assert isinstance(app.screen, ClaimsScreen)
        await pilot.press("n")  # no evidence
        await pilot.pause()
        assert [s.claim.id for s in app.screen.claims] == [lonely.id]
        await pilot.press("a", "down", "enter")  # claims sort by document: Modest Proposal first
        await pilot.pause()
        assert isinstance(app.screen, ClaimScreen)
        shown = screen_text(app)
        assert "supports" in shown and "contradicts" in shown
        assert "The Federalist No. 10" in shown and "Common Sense" in shown
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("down", "enter")  # partly supported
        await pilot.press(*"one source only", "enter")
        await settle(pilot)
        [review] = service.library.reviews(claim.id)
        assert (review.verdict, review.comment, review.reviewer_id) == (
            "partly-supported",
            "one source only",
            REVIEWER.id,
        )
        assert "partly supported" in screen_text(app) and "one source only" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert "partly supported" in screen_text(app)


async def test_codebook_rename_and_merge_change_every_annotation_and_nothing_else(
    tmp_path: Path,
) -> None:
    service = sample_service(tmp_path)
    doc = document_id(service, "Federalist")
    a = service.annotate(doc, 0, 10, tags=["trade"])
    b = service.annotate(doc, 20, 30, tags=["trade", "loans"])
    c = service.annotate(doc, 40, 50, tags=["other"])
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        assert isinstance(app.screen, TagsScreen)
        assert [t.name for t in app.screen.tags] == ["loans", "other", "trade"]
        await pilot.press("down", "down", "r", "ctrl+u", *"econ/trade", "enter")
        await settle(pilot)
        lib = service.library
        assert lib.annotation(a.id).tags == ("econ/trade",)
        assert lib.annotation(b.id).tags == ("econ/trade", "loans")
        await pilot.press("home")
        await pilot.pause()
        assert app.screen._current().name == "econ/trade"
        await pilot.press("down", "m", *"econ/trade", "enter")  # loans into econ/trade
        await settle(pilot)
        assert lib.annotation(b.id).tags == ("econ/trade",)
        assert lib.annotation(c.id).tags == ("other",)
        assert [(t.name, t.count) for t in lib.tags()] == [("econ/trade", 2), ("other", 1)]
        assert service.search("tag:econ").total == 2


async def test_codebook_takes_sub_tags_along_and_names_tags_as_stored(tmp_path: Path) -> None:
    service = sample_service(tmp_path)
    doc = document_id(service, "Federalist")
    a = service.annotate(doc, 0, 10, tags=["gov", "gov/digital"])
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await pilot.pause()
        await pilot.press("a", *"#Foo Bar/", "enter")
        await settle(pilot)
        assert "Added #Foo Bar" in notices(app) and "#Foo Bar/" not in notices(app)
        assert [t.name for t in service.library.tags()] == ["Foo Bar", "gov", "gov/digital"]
        await pilot.press("home", "down", "r", "ctrl+u", *"policy", "enter")
        await settle(pilot)
        assert service.library.annotation(a.id).tags == ("policy", "policy/digital")
        lines = screen_text(app)
        assert "policy/digital" in lines and "gov" not in lines.replace("governance", "")
        (row,) = [line for line in screen_lines(app) if "policy/digital" in line]
        assert "  policy/digital" in row  # indented under its parent


async def test_a_deleted_index_is_rebuilt_in_the_background_at_start(tmp_path: Path) -> None:
    import shutil

    service = sample_service(tmp_path)
    service.close()
    shutil.rmtree(service.index_dir)
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert not service.index_behind()
        assert service.search("faction").total > 0


async def test_the_palette_offers_the_screen_keys_and_opens_documents(tmp_path: Path) -> None:
    service = sample_service(tmp_path)
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"federalist")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReaderScreen)
        assert app.screen.document.title == "The Federalist No. 10"
        await pilot.press("ctrl+p", *"reader: paragraph")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(pilot)
        start, end = app.screen.reader.selection
        assert end > start  # the palette ran the reader's "select paragraph"


async def test_claims_board_filters_by_document(tmp_path: Path) -> None:
    service = sample_service(tmp_path)
    _claim_with_two_documents(service)
    service.annotate_quote("Modest Proposal", "a young healthy child well nursed", role="claim")
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert {s.document_title for s in app.screen.claims} == {"A Modest Proposal"}
        await pilot.press("d")
        await pilot.pause()
        assert len(app.screen.claims) == 2


async def test_claims_board_never_combines_unreviewed_with_a_verdict(tmp_path: Path) -> None:
    service = sample_service(tmp_path)
    reviewed = service.annotate_quote("Modest Proposal", "a young healthy child", role="claim")
    service.review(reviewed.id, "supported")
    open_one = service.annotate_quote("Federalist", "The latent causes of faction", role="claim")
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c", "u")
        await pilot.pause()
        assert [s.claim.id for s in app.screen.claims] == [open_one.id]
        await pilot.press("v")  # verdict: supported (the first of the cycle)
        await pilot.pause()
        assert "unreviewed" not in _filters(app) and "verdict supported" in _filters(app)
        assert [s.claim.id for s in app.screen.claims] == [reviewed.id]
        await pilot.press("u")
        await pilot.pause()
        assert "verdict" not in _filters(app) and "unreviewed" in _filters(app)
        assert [s.claim.id for s in app.screen.claims] == [open_one.id]


def _filters(app) -> str:  # noqa: ANN001
    """The claims board's line of filters ("2 claims · all · by document")."""
    return next(line for line in screen_lines(app) if "\u00b7 by " in line)


async def test_the_search_preview_shows_a_hard_wrapped_book_as_paragraphs_with_the_hit(
    tmp_path: Path,
) -> None:
    # A Gutenberg text keeps its 70-column lines; the preview, narrower, wrapped each of them
    # and left a word or two alone on a row, started mid-word, and at 80x24 the hit was below
    # the preview's last row.
    import textwrap

    from tests.apptools import sample_service

    words = "the quick brown fox jumps over a lazy dog while margins fill with notes".split()
    paragraphs = [
        textwrap.fill(" ".join(words[(n + i) % len(words)] for i in range(90)), width=70)
        for n in range(40)
    ]
    paragraphs[20] = paragraphs[20].replace("lazy", "xylophone", 1)
    book = tmp_path / "wrapped-book.txt"
    book.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    service = sample_service(tmp_path / "lib")
    list(service.import_files([book]))
    service.sync_index()
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"xylophone", "enter")
        await settle(pilot)
        preview = app.screen.query_one("#preview")
        rows = [
            line[preview.region.x : preview.region.right].strip(" \u258f")
            for line in screen_lines(app)[preview.region.y : preview.region.bottom]
        ]
        assert any("xylophone" in row for row in rows), rows
        inside = [row for row in rows[1:-1] if row]
        # Flowing paragraphs: no row is a word or two left over from a longer line.
        assert all(len(row) > preview.region.width // 2 for row in inside[:-1] if row), rows
        assert rows[0].split()[0] in words, rows  # a whole word first


async def test_a_search_with_changes_pending_asks_again_until_they_are_indexed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process (margin import, the app's indexing child) catches the index up; nothing
    # told the search screen, which said "0 hits · 1 change still being indexed" for good.
    import tui.screens.search
    from tests.apptools import sample_service

    monkeypatch.setattr(tui.screens.search, "PENDING_RECHECK", 0.05)
    service = sample_service(tmp_path)
    book = tmp_path / "ledger.txt"
    book.write_text("The quartermaster's ledger.\n\nSeventeen barrels of zwieback.\n", "utf-8")
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        [done] = list(service.import_files([book]))  # in the store, not yet in the index
        assert done.status == "imported"
        await pilot.press("slash", *"zwieback", "enter")
        await settle(pilot)
        assert "still being indexed" in app.screen.sub_title
        service.sync_index()  # the other process's work
        await pilot.pause(0.2)
        await settle(pilot)
        assert app.screen.sub_title == "1 hit"
        assert "zwieback" in screen_text(app)


async def test_a_book_of_millions_of_characters_leaves_the_import_date_whole(
    tmp_path: Path,
) -> None:
    # War and Peace showed as "3228k": one character wider, and at 120 columns the last
    # column lost its day ("2026-12-0").
    from tests.apptools import sample_service

    service = sample_service(tmp_path)
    book = tmp_path / "long-book.txt"
    book.write_text(("All happy families are alike. " * 40 + "\n\n") * 1000, encoding="utf-8")
    [done] = list(service.import_files([book]))
    assert done.status == "imported"
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        [row] = [line for line in screen_lines(app) if "long-book" in line]
        assert "1.2M" in row
        assert re.search(r"\d{4}-\d\d-\d\d\s*$", row.rstrip(" \u258f")), row


async def test_the_claim_screen_cuts_its_context_at_whole_words(tmp_path: Path) -> None:
    # The context was cut at a character count: "…l economic and security arrangements".
    service = sample_service(tmp_path)
    claim = service.annotate_quote("Xi's Pitch", "democracies must better compete", role="claim")
    text = service.library.document(claim.document_id).text
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("a")
        await pilot.pause()
        row = [s.claim.id for s in app.screen.claims].index(claim.id)
        await pilot.press(*["down"] * row, "enter")
        await settle(pilot)
        assert isinstance(app.screen, ClaimScreen)
        [first] = [line for line in screen_lines(app) if line.lstrip().startswith("\u2026")][:1]
        words = first.lstrip()[1:].split()[:2]
        assert re.search(r"(^|\s)" + re.escape(" ".join(words)), " ".join(text.split())), first


async def test_an_import_of_a_known_text_says_which_document_it_is(tmp_path: Path) -> None:
    # A QA pass imported a renamed copy and was told only "0 imported, 1 already there".
    import shutil

    from tests.conftest import SEED

    service = sample_service(tmp_path)
    copy = tmp_path / "renamed-copy.txt"
    shutil.copy(SEED, copy)
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.screen.import_paths([copy])
        await settle(pilot)
        said = notices(app)
        assert "0 imported, 1 already there" in said
        assert "renamed-copy.txt: the same text as \u201cXi\u2019s Pitch" in said
