"""Teams in the app (issue 12): a conflict kept whole with a key, or edited in the note editor
opened on both versions; the empty list says what became of the conflicts."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from textual.widgets import Input, TextArea

from store.records import Author
from tests.apptools import notices, sample_service, screen_text, settle
from tui.app import make_app
from tui.dialogs.ask import AskDialog
from tui.dialogs.note import NoteDialog
from tui.screens.conflicts import ConflictsScreen
from tui.service import Service

ANA = Author(id="33333333-3333-4333-8333-333333333333", name="Ana")
BEN = Author(id="44444444-4444-4444-8444-444444444444", name="Ben")
QUOTE = "The latent causes of faction are thus sown in the nature of man"


def _conflict(tmp_path: Path) -> tuple[Service, str]:
    ana = sample_service(tmp_path / "ana", author=ANA)
    ben = sample_service(tmp_path / "ben", author=BEN)
    note = ana.annotate_quote("Federalist", QUOTE, note="first", tags=["faction"])
    first = tmp_path / "first.margin.jsonld"
    ana.export_notes("bundle", first)
    ben.import_notes(first)
    ben.set_note(note.id, "ben's reading")
    ana.set_note(note.id, "ana's reading")
    ana.toggle_tag(note.id, "human-nature")
    second = tmp_path / "second.margin.jsonld"
    ana.export_notes("bundle", second)
    ben.import_notes(second)
    return ben, note.id


async def test_keep_both_with_a_key_and_the_list_says_what_happened(tmp_path: Path) -> None:
    ben, note_id = _conflict(tmp_path)
    app = make_app(ben)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        app.action_conflicts()
        await settle(pilot)
        assert isinstance(app.screen, ConflictsScreen)
        shown = screen_text(app)
        assert "Federalist" in shown and "latent causes" in shown
        assert "Mine (Ben)" in shown and "Theirs (Ana" in shown
        await pilot.press("b")
        await settle(pilot)
        kept = ben.library.annotation(note_id)
        assert kept.note == "Ben: ben's reading\n\nAna: ana's reading"
        assert set(kept.tags) == {"faction", "human-nature"}
        assert kept.editor_name == "Ben"
        assert "1 settled (1 kept both)" in screen_text(app)
        assert "by Ben" in screen_text(app)


async def test_edit_opens_the_note_editor_on_both_versions(tmp_path: Path) -> None:
    ben, note_id = _conflict(tmp_path)
    app = make_app(ben)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        app.action_conflicts()
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, NoteDialog)
        editor = app.screen.query_one(TextArea)
        assert editor.text == "Ben: ben's reading\n\nAna: ana's reading"
        editor.text = "Both: the causes are in human nature"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConflictsScreen)
        assert ben.library.annotation(note_id).note == "Both: the causes are in human nature"
        assert ben.conflicts() == []
        assert "1 edited" in screen_text(app)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
async def test_sync_from_the_library_screen(tmp_path: Path) -> None:
    remote = tmp_path / "team.git"
    subprocess.run(["git", "init", "--bare", "-q", str(remote)], check=True)
    ana = sample_service(tmp_path / "ana", author=ANA)
    note = ana.annotate_quote("Federalist", QUOTE, note="ana's reading")
    app = make_app(ana)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, AskDialog)
        app.screen.query_one(Input).value = str(remote)
        await pilot.press("enter")
        await settle(pilot)
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert "synced with origin (main)" in notices(app) and "pushed" in notices(app)
        await pilot.press("s")  # set up now: s syncs at once
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert "nothing to push" in notices(app)
    ben = sample_service(tmp_path / "ben", author=BEN)
    ben.sync_notes(init=str(remote))
    assert ben.library.annotation(note.id).note == "ana's reading"
