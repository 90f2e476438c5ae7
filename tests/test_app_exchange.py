"""Export and merge from the library screen; conflicts resolved with a key."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from store.records import Author
from tests.apptools import notices, sample_service, screen_text, settle
from tui.app import make_app
from tui.screens.conflicts import ConflictsScreen

ANA = Author(id="33333333-3333-4333-8333-333333333333", name="Ana")
BEN = Author(id="44444444-4444-4444-8444-444444444444", name="Ben")


async def test_export_a_bundle_then_merge_it_in_another_library(tmp_path: Path) -> None:
    ana = sample_service(tmp_path / "ana", author=ANA)
    claim = ana.annotate_quote(
        "Xi's Pitch",
        "the construction of a $79-million data center in Senegal",
        role="claim",
        note="check the loan terms",
    )
    out = tmp_path / "ana.margin.jsonld"
    app = make_app(ana)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("x", "enter")  # the first format: a notes bundle
        await pilot.pause()
        path = app.screen.query_one("#export-path", Input)
        path.value = str(out)
        await pilot.press("enter")
        await settle(pilot)
        assert out.exists()
        assert "1 annotation," in notices(app)

    ben = sample_service(tmp_path / "ben", author=BEN)
    app = make_app(ben)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await pilot.pause()
        app.screen.query_one("#import-path", Input).value = str(out)
        await pilot.press("enter")
        await settle(pilot)
        merged = ben.library.annotation(claim.id)
        assert (merged.note, merged.author_id) == ("check the loan terms", ANA.id)
        assert "1 added" in notices(app) or "added" in notices(app)


async def test_a_note_edited_on_both_sides_is_a_conflict_resolved_with_a_key(
    tmp_path: Path,
) -> None:
    ana = sample_service(tmp_path / "ana", author=ANA)
    ben = sample_service(tmp_path / "ben", author=BEN)
    note = ana.annotate_quote(
        "Federalist",
        "The latent causes of faction are thus sown in the nature of man",
        note="first",
    )
    first = tmp_path / "first.margin.jsonld"
    ana.export_notes("bundle", first)
    ben.import_notes(first)
    ben.set_note(note.id, "ben's reading")
    ana.set_note(note.id, "ana's reading")
    second = tmp_path / "second.margin.jsonld"
    ana.export_notes("bundle", second)
    report = ben.import_notes(second)
    assert any("conflict" in line for line in report[1:]), report
    assert ben.library.annotation(note.id).note == "ben's reading"  # nothing overwritten

    app = make_app(ben)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.action_conflicts()
        await settle(pilot)
        assert isinstance(app.screen, ConflictsScreen)
        assert len(app.screen.conflicts) == 1
        await pilot.press("t")
        await settle(pilot)
        assert ben.library.annotation(note.id).note == "ana's reading"
        assert ben.conflicts() == []


async def test_import_with_the_i_key_and_a_named_encoding(tmp_path: Path) -> None:
    czech = "Příliš žluťoučký kůň úpěl ďábelské ódy. " * 20
    source = tmp_path / "czech.txt"
    source.write_bytes(czech.encode("cp1250"))
    service = sample_service(tmp_path / "lib")
    before = service.library.document_ids()
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await pilot.pause()
        app.screen.query_one("#import-path", Input).value = str(source)
        await pilot.press("tab", *"klingon", "enter")
        await settle(pilot)
        assert "Encoding: unknown encoding 'klingon'" in notices(app)
        assert service.library.document_ids() == before  # the dialog stays; nothing stored
        await pilot.press(*["backspace"] * 7, *"cp1250", "enter")
        await settle(pilot)
        (new,) = set(service.library.document_ids()) - set(before)
        assert service.library.document(new).text == czech
        assert "czech" in screen_text(app)
        found = service.search("žluťoučký")
        assert [hit.document_id for hit in found.hits] == [new]


async def test_the_merge_notice_points_to_conflicts_only_when_the_report_has_some(
    tmp_path: Path,
) -> None:
    ana = sample_service(tmp_path / "ana", author=ANA)
    ben = sample_service(tmp_path / "ben", author=BEN)
    note = ana.annotate_quote(
        "Federalist",
        "The latent causes of faction are thus sown in the nature of man",
        note="first",
    )
    ana.set_tags(note.id, ["conflict zone"])
    first = tmp_path / "first.margin.jsonld"
    ana.export_notes("bundle", first)
    ben.import_notes(first)
    ana.set_note(note.id, "ana's reading")
    ben.set_note(note.id, "ben's reading")
    second = tmp_path / "second.margin.jsonld"
    ana.export_notes("bundle", second)
    app = make_app(ben)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await pilot.pause()
        app.screen.query_one("#import-path", Input).value = str(second)
        await pilot.press("enter")
        await settle(pilot)
        assert "1 conflicts" in notices(app)
        assert "Open the conflicts with ctrl+p" in notices(app)

    # A tag named "conflict zone" whose colour differs here puts "conflict " in a notice line:
    # the report says 0 conflicts, so the app must not send anyone to the conflicts screen.
    quiet = sample_service(tmp_path / "quiet", author=BEN)
    quiet.create_tag("conflict zone", colour="#000000")
    app = make_app(quiet)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await pilot.pause()
        app.screen.query_one("#import-path", Input).value = str(first)
        await pilot.press("enter")
        await settle(pilot)
        assert "0 conflicts" in notices(app)
        assert "'conflict zone': kept this library's colour" in notices(app)
        assert "Open the conflicts" not in notices(app)


async def test_merging_kindle_clippings_from_the_library_screen_reports_each_part(
    tmp_path: Path,
) -> None:
    from tests.conftest import FIXTURES

    service = sample_service(tmp_path / "me", author=ANA)
    book = FIXTURES / "foreign" / "pride-and-prejudice-chapter-1.txt"
    assert [r.status for r in service.import_files([book])] == ["imported"]
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await pilot.pause()
        clippings = FIXTURES / "foreign" / "My Clippings.txt"
        app.screen.query_one("#import-path", Input).value = str(clippings)
        await pilot.press("enter")
        await settle(pilot)
        shown = notices(app)
        assert "My Clippings.txt (Kindle clippings): " in shown
        assert "missing: 'The Art of War' by 'Sun Tzu' is not in this library" in shown
        assert "import the book first" in shown
        assert "orphaned: annotation " in shown
        assert "placed: 'It is a truth universally acknowledged" in shown
    highlights = [a for a in service.library.annotations() if a.anchor_state != "orphaned"]
    assert len(highlights) == 2
