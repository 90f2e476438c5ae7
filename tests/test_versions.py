"""A new version of a document keeps its id and every note, re-anchored, in one transaction."""

from __future__ import annotations

import shutil
from pathlib import Path

from store.library import Library
from tests.conftest import SEED, on_disk
from tui.service import Service

CLAIM = "the construction of a $79-million data center in Senegal"
GONE = "Xi pledged that the People\u2019s Republic of China (PRC) would"


def _service(tmp_path: Path) -> Service:
    return Service(tmp_path / "library.margin", tmp_path / "config")


def test_update_reanchors_and_keeps_every_note(tmp_path: Path) -> None:
    source = tmp_path / "article.txt"
    shutil.copy(SEED, source)
    source.chmod(0o644)
    service = _service(tmp_path)
    [first] = list(service.import_files([source]))
    text = source.read_text(encoding="utf-8")
    doc_id = first.document_id
    start = text.index(CLAIM)
    claim = service.annotate(
        doc_id, start, start + len(CLAIM), role="claim", note="check loan terms"
    )
    start = text.index(GONE)
    doomed = service.annotate(doc_id, start, start + len(GONE), tags=["speech"])
    old_sha = service.library.document(doc_id).sha256

    edited = "Editor's note: this article was corrected.\n\n" + text.replace(
        GONE, "Xi said nothing"
    )
    source.write_text(edited, encoding="utf-8")
    [again] = list(service.import_files([source], update=True))
    assert again.status == "updated" and again.document_id == doc_id
    assert [a.id for a in again.report.moved] == [claim.id]
    assert [a.id for a in again.report.orphaned] == [doomed.id]

    lib = service.library
    assert on_disk(lib)["documents"].count == 1
    moved = lib.annotation(claim.id)
    assert (moved.anchor_state, moved.note) == ("moved", "check loan terms")
    assert edited[moved.start : moved.end] == CLAIM
    orphan = lib.annotation(doomed.id)
    assert (orphan.anchor_state, orphan.exact, orphan.tags) == ("orphaned", GONE, ("speech",))
    assert [r["sha256"] for r in on_disk(lib)["document_versions"].rows] == [old_sha]
    summary = lib.document_summary(doc_id)
    assert (summary.moved, summary.orphaned) == (1, 1)
    report = service.check_report()  # an orphan is a note to look at, not damage
    assert report.sound and any("orphaned" in note for note in report.notes)

    hits = service.search("corrected").hits
    assert hits and hits[0].document_id == doc_id

    # The user re-attaches the orphan to a span of the new text.
    start = edited.index("Xi said nothing")
    fixed = service.reattach(doomed.id, start, start + len("Xi said nothing"))
    assert (fixed.anchor_state, fixed.exact) == ("ok", "Xi said nothing")
    service.close()


def test_same_text_again_is_a_duplicate_not_a_version(tmp_path: Path) -> None:
    source = tmp_path / "article.txt"
    shutil.copy(SEED, source)
    service = _service(tmp_path)
    list(service.import_files([source]))
    [again] = list(service.import_files([source], update=True))
    assert again.status == "duplicate"
    assert on_disk(Library(tmp_path / "library.margin"))["document_versions"].count == 0
    service.close()


async def test_a_new_version_in_the_app_keeps_notes_and_orphans_can_be_reattached(
    tmp_path: Path,
) -> None:
    from tests.apptools import settle
    from tui.app import make_app
    from tui.screens.reader import ReaderScreen
    from tui.widgets.annotation_list import AnnotationList

    source = tmp_path / "article.txt"
    shutil.copy(SEED, source)
    source.chmod(0o644)
    service = _service(tmp_path)
    [first] = list(service.import_files([source]))
    text = source.read_text(encoding="utf-8")
    start = text.index(GONE)
    doomed = service.annotate(first.document_id, start, start + len(GONE), note="keep me")
    start = text.index(CLAIM)
    kept = service.annotate(first.document_id, start, start + len(CLAIM), role="claim")
    source.write_text(text.replace(GONE, "Xi said nothing"), encoding="utf-8")

    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.screen.import_paths([source])  # the library screen's import: a re-import is a version
        await settle(pilot)
        assert on_disk(service.library)["documents"].count == 1
        shown = "\n".join(n.message for n in app._notifications)
        assert "1 new version" in shown and "new versions" not in shown
        assert service.library.annotation(doomed.id).anchor_state == "orphaned"
        assert service.library.annotation(kept.id).anchor_state == "moved"
        app.open_document(first.document_id)
        await settle(pilot)
        assert isinstance(app.screen, ReaderScreen)
        panel = app.screen.query_one("#annotations", AnnotationList)
        labels = [str(panel.label_at(i)) for i in range(panel.option_count)]
        assert "orphaned" in labels[-1] and "Xi pledged" in labels[-1]
        new_text = service.library.document(first.document_id).text
        app.screen.reader.go_to(new_text.index("Xi said nothing"))
        await pilot.press("v", *["right"] * len("Xi said nothing"), "tab", "end", "enter")
        await settle(pilot)
        fixed = service.library.annotation(doomed.id)
        assert (fixed.anchor_state, fixed.exact, fixed.note) == ("ok", "Xi said nothing", "keep me")
