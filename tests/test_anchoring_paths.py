"""Every path that anchors a note places it by the same ranked decision: a new version of a
document (`import --update`) and re-attaching an orphan. Merge is in test_match_quote.py."""

from __future__ import annotations

from pathlib import Path

from tui.service import Service

SPRING = "In spring the orchard was full; we had pears."
AUTUMN = "In autumn the market was empty; we had plums."  # as long, "we had" at the same offset
OLD = f"{SPRING} {AUTUMN} The pears went to market at dawn.\n"


def _service(tmp_path: Path) -> Service:
    return Service(tmp_path / "library.margin", tmp_path / "config")


def _annotate(service: Service, document_id: str, text: str, phrase: str, **kw):  # noqa: ANN201
    at = text.index(phrase)
    return service.annotate(document_id, at, at + len(phrase), **kw)


def test_a_new_version_follows_the_context_not_the_old_offset_and_says_why_a_note_is_orphaned(
    tmp_path: Path,
) -> None:
    """The two sentences swap: the old offset still reads "we had", but in autumn's words; a
    careful reader follows the note to spring's "we had pears"."""
    source = tmp_path / "orchard.txt"
    source.write_text(OLD, encoding="utf-8")
    service = _service(tmp_path)
    [first] = list(service.import_files([source]))
    note = _annotate(service, first.document_id, OLD, "we had", note="which one?")
    gone = _annotate(service, first.document_id, OLD, "at dawn")

    new = f"{AUTUMN} {SPRING} The pears went to market.\n"
    assert new[note.start : note.end] == "we had"  # the old offset holds the quote ...
    source.write_text(new, encoding="utf-8")
    [again] = list(service.import_files([source], update=True))
    moved = service.library.annotation(note.id)
    assert (moved.anchor_state, moved.start) == ("moved", new.index("we had pears"))
    assert moved.note == "which one?"
    assert service.library.annotation(gone.id).anchor_state == "orphaned"
    assert any("at dawn" in line and "(not found)" in line for line in again.report.lines())
    service.close()


def test_reattaching_an_orphan_to_a_stretch_that_holds_its_quote_takes_the_quote(
    tmp_path: Path,
) -> None:
    source = tmp_path / "orchard.txt"
    source.write_text(OLD, encoding="utf-8")
    service = _service(tmp_path)
    [first] = list(service.import_files([source]))
    note = _annotate(service, first.document_id, OLD, "went to market", note="keep me")
    # The quote now stands twice, each time in other words than before: orphaned.
    new = "Cargo ships went to market by sea. Farm carts went to market by road.\n"
    source.write_text(new, encoding="utf-8")
    [again] = list(service.import_files([source], update=True))
    assert service.library.annotation(note.id).anchor_state == "orphaned"
    assert "(only found out of context)" in "\n".join(again.report.lines())

    # The person selects the second sentence: the note takes its own words inside it.
    fixed = service.reattach(note.id, new.index("Farm"), new.index("road.") + 5)
    assert (fixed.exact, fixed.anchor_state, fixed.note) == ("went to market", "ok", "keep me")
    assert fixed.start == new.index("went to market", new.index("Farm"))
    # A stretch without the quote is taken as chosen.
    service.undo()
    assert service.library.annotation(note.id).anchor_state == "orphaned"
    fixed = service.reattach(note.id, new.index("Cargo"), new.index(" went"))
    assert (fixed.exact, fixed.anchor_step) == ("Cargo ships", "position")
    service.close()
