"""In the app as in the CLI: a file named like a document already there is offered as its new
version, and an export that would overwrite something asks first."""

from __future__ import annotations

import shutil
from pathlib import Path

from textual.widgets import Input

from tests.apptools import notices, sample_service, settle
from tests.conftest import SEED
from tui.app import make_app
from tui.dialogs.confirm import ConfirmDialog

QUOTE = "Beijing has identified both the digital realm"
INTRO = "A new first paragraph, written after the notes were made.\n\n"


def _versions(tmp_path: Path):  # noqa: ANN202
    service = sample_service(tmp_path / "lib")
    note = service.annotate_quote("Xi's Pitch", QUOTE, note="key claim")
    second = tmp_path / "xi-pitch-to-the-global-south-v2.txt"
    second.write_text(INTRO + SEED.read_text(encoding="utf-8"), encoding="utf-8")
    return service, note, second


async def _import(app, pilot, path: Path, answer: str) -> str:  # noqa: ANN001
    await pilot.press("i")
    await pilot.pause()
    app.screen.query_one("#import-path", Input).value = str(path)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, ConfirmDialog)
    question = app.screen.question
    await pilot.press(answer)
    await settle(pilot)
    return question


async def test_a_file_named_like_a_document_is_offered_as_its_new_version(tmp_path: Path) -> None:
    service, note, second = _versions(tmp_path)
    before = service.library.document_ids()
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        question = await _import(app, pilot, second, "y")
        assert "looks like a new version of" in question and "Xi" in question
        assert "1 new version" in notices(app) and "new versions" not in notices(app)
    assert service.library.document_ids() == before  # no second document
    moved = service.library.annotation(note.id)
    assert moved.note == "key claim" and moved.start == note.start + len(INTRO)
    assert service.library.document(note.document_id).source == str(second.resolve())


async def test_no_imports_the_look_alike_as_a_separate_document(tmp_path: Path) -> None:
    service, note, second = _versions(tmp_path)
    before = service.library.document_ids()
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await _import(app, pilot, second, "n")
    assert len(service.library.document_ids()) == len(before) + 1
    assert service.library.annotation(note.id).start == note.start  # untouched


async def test_an_export_over_an_existing_file_asks_first(tmp_path: Path) -> None:
    service = sample_service(tmp_path / "lib")
    service.annotate_quote("Xi's Pitch", QUOTE)
    out = tmp_path / "mine.margin.jsonld"
    shutil.copy(SEED, out)  # someone's file, already there
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for answer in ("n", "y"):
            await pilot.press("x", "enter")  # the first format: a notes bundle
            await pilot.pause()
            app.screen.query_one("#export-path", Input).value = str(out)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmDialog)
            assert "exists. Overwrite it?" in app.screen.question
            await pilot.press(answer)
            await settle(pilot)
            if answer == "n":
                assert out.read_bytes() == SEED.read_bytes()
    assert out.read_bytes() != SEED.read_bytes() and b"Annotation" in out.read_bytes()


async def test_escape_on_the_version_question_imports_nothing(tmp_path: Path) -> None:
    # Three ways out of that question: yes, no (a separate document) and escape, which backs
    # out of the import altogether, as escape does in every other dialog.
    service, note, second = _versions(tmp_path)
    before = service.library.document_ids()
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await _import(app, pilot, second, "escape")
        assert not isinstance(app.screen, ConfirmDialog)
    assert service.library.document_ids() == before
    assert service.library.annotation(note.id).start == note.start
