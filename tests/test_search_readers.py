"""Searching never does the writer's work: it answers from the index as it is, says what is
still pending, applies only a few just-saved notes, and stops a runaway phrase saying so."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

import index.query
import index.whoosh_reader
from index.helper import _Helper
from tests.apptools import sample_service
from tui.cli import cli
from tui.service import Service


def test_a_search_answers_without_indexing_an_import_and_says_it_is_pending(
    tmp_path: Path,
) -> None:
    service = sample_service(tmp_path)  # samples imported and indexed
    book = tmp_path / "ledger.txt"
    book.write_text("The quartermaster's ledger.\n\nSeventeen barrels of zwieback.\n", "utf-8")
    [done] = list(service.import_files([book]))  # in the store, not yet in the index
    assert done.status == "imported"
    result = service.search("zwieback")
    assert result.hits == [] and result.pending > 0 and result.partial
    assert result.to_json()["pending"] == result.pending
    assert service.index_behind()  # the search left the catch-up to the importer
    service.sync_index()  # what the importer (or the app's background child) does
    again = service.search("zwieback")
    assert [h.title for h in again.hits] == ["ledger"] and again.pending == 0
    assert not again.partial


def test_a_note_just_saved_is_found_by_the_next_search(tmp_path: Path) -> None:
    service = sample_service(tmp_path)
    other = Service(service.library_path, service.config_dir)  # another process's write
    doc = other.library.resolve_document("Federalist")
    start = doc.text.index("The friend of popular governments")
    other.library.annotate(
        doc.id, start, start + 33, author=other.author, note="quixotic marginalia"
    )
    assert service.index_behind()
    result = service.search("quixotic")
    assert [h.note for h in result.hits] == ["quixotic marginalia"] and result.pending == 0
    other.close()


def test_a_phrase_of_words_that_never_meet_is_cut_at_the_deadline_and_said_partial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = sample_service(tmp_path)
    # 600 paragraphs, each a passage holding "of" and "the" but never "of the".
    paragraph = "the " + "word " * 240 + "of"
    book = tmp_path / "common.txt"
    book.write_text("\n\n".join(paragraph for _ in range(600)), "utf-8")
    list(service.import_files([book]))
    service.sync_index()
    complete = service.search('"of the"')
    assert not complete.timed_out  # within the limit, the answer is whole
    # The phrase's deadline already passed (the collector's own 2 s are not): no match is
    # ever collected for the collector to check the clock on, so only the deadline inside
    # phrase matching can stop it, 256 passages on.
    monkeypatch.setattr(index.query, "deadline", lambda seconds: index.whoosh_reader.deadline(-1.0))
    cut = service.search('"of the"')
    assert cut.timed_out and cut.partial and cut.to_json()["partial"] is True


def test_the_index_helper_runs_at_its_parent_priority(tmp_path: Path) -> None:
    service = sample_service(tmp_path)
    helper = _Helper(service.library_path)
    try:
        # One job answered (an error on a folder with no index): the helper is past start-up.
        assert helper.start(tmp_path / "no-index", [])
        helper.result()
        pid = helper._process.pid  # noqa: SLF001 - the process whose priority is the point
        assert os.getpriority(os.PRIO_PROCESS, pid) == os.getpriority(os.PRIO_PROCESS, 0)
    finally:
        helper.close()


def test_margin_search_says_on_stderr_what_is_still_being_indexed(tmp_path: Path) -> None:
    service = sample_service(tmp_path)
    book = tmp_path / "ledger.txt"
    book.write_text("Seventeen barrels of zwieback.\n", "utf-8")
    list(service.import_files([book]))  # stored; an importer elsewhere is still indexing
    service.close()
    result = CliRunner().invoke(
        cli, ["--library", str(service.library_path), "search", "zwieback", "--json"]
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["hits"] == [] and answer["pending"] > 0 and answer["partial"] is True
    assert "still being indexed" in result.stderr and result.stderr.count("\n") == 1


def test_a_search_reads_the_index_in_place_and_copies_no_segment(tmp_path: Path) -> None:
    # whoosh copied every part of every segment into memory when it opened it: 104 MiB of
    # copies for the 75-book index, a 255 MiB peak for `margin search whale` (issue 11).
    import gc
    from io import BytesIO

    from whoosh.filedb.structfile import BufferFile

    service = sample_service(tmp_path)
    assert service.search("Senegal").hits
    parts = [o for o in gc.get_objects() if isinstance(o, BufferFile) and not o.is_closed]
    assert parts, "the index's segments are read through BufferFile"
    assert not [p for p in parts if isinstance(p.file, BytesIO)]
