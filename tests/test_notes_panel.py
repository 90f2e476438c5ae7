"""The reader's notes panel on a document with many notes: keys, order and what it draws."""

from __future__ import annotations

from pathlib import Path

from tests.apptools import sample_service, screen_text, settle
from tui.app import make_app
from tui.screens.reader import ReaderScreen
from tui.service import Service
from tui.widgets.annotation_list import AnnotationList
from tui.widgets.reader_view import ReaderView

NOTES = 400


async def test_a_panel_of_many_notes_walks_with_the_keys_and_jumps_to_the_text(
    tmp_path: Path,
) -> None:
    service = sample_service(tmp_path)
    doc = service.library.resolve_document("Federalist")
    step = (len(doc.text) - 40) // NOTES
    for n in range(NOTES):
        service.annotate(doc.id, n * step, n * step + 20, note=f"note number {n}")
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_document(doc.id)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReaderScreen)
        panel = screen.query_one("#annotations", AnnotationList)
        assert panel.option_count == NOTES
        shown = screen_text(app)
        assert "note number 0" in shown and "note number 30" not in shown  # only what fits
        await pilot.press("tab", "end")
        await settle(pilot)
        assert panel.highlighted == NOTES - 1
        assert f"note number {NOTES - 1}" in screen_text(app)  # scrolled to the last one
        await pilot.press("up", "up", "enter")
        await settle(pilot)
        chosen = panel.annotation_at(NOTES - 3)
        reader = screen.query_one("#reader", ReaderView)
        assert reader.has_focus and reader.cursor == chosen.start
        assert chosen.note == f"note number {NOTES - 3}"


async def test_a_new_highlight_a_deletion_and_a_recolour_show_in_the_panel(
    tmp_path: Path,
) -> None:
    service = sample_service(tmp_path)
    doc = service.library.resolve_document("Federalist")
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_document(doc.id, doc.text.index("The friend of popular governments"))
        await settle(pilot)
        screen = app.screen
        panel = screen.query_one("#annotations", AnnotationList)
        before = panel.option_count
        await pilot.press("s", "t", *"faction", "enter")
        await settle(pilot)
        assert panel.option_count == before + 1
        [new] = [a for a in service.library.annotations(doc.id) if "faction" in a.tags]
        assert new.exact.startswith("The friend of popular governments")
        assert screen.reader.spans_at(new.start)[0].tag_colour == screen.colours["faction"]
        # The codebook recoloured on the tags screen: back in the reader, the span follows.
        await pilot.press("f5")
        await settle(pilot)
        service.update_tag("faction", colour="#123456")
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert screen.reader.spans_at(new.start)[0].tag_colour == "#123456"
        await pilot.press("x")
        await settle(pilot)
        assert panel.option_count == before
        assert service.library.annotation(new.id).deleted
        # The write was indexed by a worker, not on the event loop; the search finds the rest.
        assert not service.index_behind()


async def until(pilot, condition, seconds: float = 10.0) -> bool:  # noqa: ANN001
    """Wait for the app to show what another process did (it polls once a second)."""
    for _ in range(int(seconds * 10)):
        if condition():
            return True
        await pilot.pause(0.1)
    return condition()


async def test_the_app_follows_what_another_process_writes(tmp_path: Path) -> None:
    service = sample_service(tmp_path)
    doc = service.library.resolve_document("Federalist")
    app = make_app(service)
    other = Service(service.library_path, service.config_dir)  # another connection, as a shell
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        extra = tmp_path / "minutes.txt"
        extra.write_text("Minutes of the meeting.\n\nThe committee met at noon.\n", "utf-8")
        [done] = list(other.import_files([extra]))
        assert done.status == "imported"
        assert await until(pilot, lambda: "7 documents" in screen_text(app))
        app.open_document(doc.id)
        await settle(pilot)
        panel = app.screen.query_one("#annotations", AnnotationList)
        before = panel.option_count
        start = doc.text.index("The friend of popular governments")
        other.annotate(doc.id, start, start + 30, note="written from another shell")
        assert await until(pilot, lambda: panel.option_count == before + 1)
        assert "written from another shell" in screen_text(app)
    other.close()


async def test_a_poll_that_meets_a_screen_being_taken_down_passes_it_by(tmp_path: Path) -> None:
    # CI caught the once-a-second tick landing while the app shut a reader down: its widgets
    # were gone, and the tick failed the app. The tick now passes such a screen by.
    from tests.apptools import poll_library

    service = sample_service(tmp_path)
    doc = service.library.resolve_document("Federalist")
    other = Service(service.library_path, service.config_dir)
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_document(doc.id)
        await settle(pilot)
        await app.screen.query_one("#reader").remove()  # as the shut-down takes it apart
        start = doc.text.index("The friend of popular governments")
        other.annotate(doc.id, start, start + 30, note="while it closes")
        poll_library(app)
        await settle(pilot)
        assert app.return_code is None  # the app is still running
    other.close()
