"""The search index through a real library and a real whoosh index: passages, sync, rebuilds,
locks and catching up in a child process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import index as whoosh_index

import index.sync as sync_module
from index import IndexBusy, SearchIndex, index_dir_for, sync_in_child
from index.passages import MAX_CHARS, split_passages
from index.schema import TEXT_ANALYZER, fast_terms
from store.library import Library
from store.records import Author
from tests.conftest import REPO, SEED, NewDoc

BOB = Author(id="22222222-2222-4222-8222-222222222222", name="Bob Reviewer")


def seed_doc() -> NewDoc:
    return NewDoc(
        text=SEED.read_text(encoding="utf-8"),
        title="Xi's Pitch to the Global South on Technological Governance",
        author="Kenton Thibaut",
        source=str(SEED),
    )


@pytest.fixture
def index(library: Library) -> SearchIndex:
    search_index = SearchIndex(index_dir_for(library.path))
    yield search_index
    search_index.close()


def hits_of(search_index: SearchIndex, lib: Library, query: str) -> list[tuple]:
    return [
        (h.kind, h.document_id, h.offset, h.snippet, h.annotation_id)
        for h in search_index.search(lib, query, limit=50).hits
    ]


# -- passages ------------------------------------------------------------------------------------


def test_passages_of_the_seed_are_paragraph_spans_within_bounds(seed_text: str) -> None:
    passages = split_passages(seed_text)
    assert passages == split_passages(seed_text)  # deterministic
    assert [p.ordinal for p in passages] == list(range(len(passages)))
    for before, after in zip(passages, passages[1:], strict=False):
        assert before.end <= after.start
    for p in passages:
        piece = seed_text[p.start : p.end]
        assert piece == piece.strip() and 0 < len(piece) <= MAX_CHARS
    senegal = seed_text.index("data center in Senegal")
    assert any(p.start <= senegal < p.end for p in passages)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet="abc xyz.!?\n\t", min_size=0, max_size=400),
            st.text(alphabet="w", min_size=1500, max_size=4000),  # one enormous token
            st.just("\n\n"),
            st.just("Short. Sentences. Here.\n\n" * 40),
        ),
        max_size=12,
    )
)
def test_passages_cover_every_word_once_and_stay_bounded(parts: list[str]) -> None:
    text = "".join(parts)
    passages = split_passages(text)
    covered = [False] * len(text)
    for p in passages:
        assert 0 <= p.start < p.end <= len(text)
        assert p.end - p.start <= MAX_CHARS
        assert not text[p.start].isspace() and not text[p.end - 1].isspace()
        for i in range(p.start, p.end):
            assert not covered[i]
            covered[i] = True
    assert all(covered[i] for i, char in enumerate(text) if not char.isspace())


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_fast_indexing_yields_exactly_the_analyzers_terms(text: str) -> None:
    expected: dict[str, list[int]] = {}
    for token in TEXT_ANALYZER(text, positions=True):
        expected.setdefault(token.text, []).append(token.pos)
    assert fast_terms(text) == expected


# -- the seed article ----------------------------------------------------------------------------


def test_phrase_and_word_find_the_data_center_passage(library: Library, index: SearchIndex) -> None:
    doc, _ = library.add_document(seed_doc())
    assert index.sync(library) >= 1
    result = index.search(library, '"data center" Senegal')
    assert result.total == 1 and not result.timed_out
    hit = result.hits[0]
    assert hit.kind == "passage" and hit.document_id == doc.id
    assert hit.title.startswith("Xi's Pitch")
    assert doc.text[hit.offset : hit.offset + hit.length] == "data center"
    assert hit.page is None
    marked = [hit.snippet[s:e] for s, e in hit.marks]
    assert marked == ["data center", "Senegal"]
    assert "\n" not in hit.snippet and len(hit.snippet) <= 240
    assert hit.to_json()["offset"] == hit.offset
    assert set(hit.to_json()) == {
        "kind",
        "document_id",
        "title",
        "offset",
        "length",
        "page",
        "snippet",
        "marks",
        "score",
        "annotation_id",
        "role",
        "note",
        "chapter",
    }


def test_pdf_hits_carry_their_page(library: Library, index: SearchIndex) -> None:
    pages = ["First page about harbours.", "Second page about the lighthouse keeper."]
    text = "\n\n".join(pages)
    library.add_document(
        NewDoc(text=text, format="pdf", page_starts=[0, text.index("Second")], title="Pages")
    )
    index.sync(library)
    hit = index.search(library, "lighthouse").hits[0]
    assert hit.page == 2 and text[hit.offset : hit.offset + hit.length] == "lighthouse"


# -- annotations ---------------------------------------------------------------------------------


def test_annotations_are_found_by_note_tag_role_author_and_evidence(
    library: Library, index: SearchIndex, alice: Author
) -> None:
    doc, _ = library.add_document(seed_doc())
    text = doc.text
    start = text.index("Huawei is funding")
    claim = library.annotate(
        doc.id,
        start,
        start + len("Huawei is funding"),
        author=alice,
        role="claim",
        note="state loans behind the bid",
        tags=["econ/trade"],
    )
    s2 = text.index("digital sovereignty")
    evidence = library.annotate(doc.id, s2, s2 + 19, author=BOB, tags=["politics"])
    index.sync(library)

    def ids(query: str) -> set[str | None]:
        hits = index.search(library, query).hits
        return {h.annotation_id for h in hits if h.kind == "annotation"}

    assert ids("bid") == {claim.id}  # a word of the note only
    assert ids("tag:econ") == {claim.id}  # the parent of econ/trade
    assert ids("tag:econ/trade") == {claim.id}
    assert ids("tag:politics") == {evidence.id}
    assert ids("is:claim") == {claim.id}
    assert ids("is:highlight") == {evidence.id}
    assert ids("is:note") == {claim.id}
    assert ids("author:alice") == {claim.id}
    assert ids(f"author:{BOB.id}") == {evidence.id}
    assert ids('author:"bob reviewer"') == {evidence.id}
    assert ids("no:evidence") == {claim.id}
    assert ids("has:evidence") == set()
    hit = next(h for h in index.search(library, "bid").hits if h.kind == "annotation")
    assert (hit.offset, hit.length, hit.role) == (start, len("Huawei is funding"), "claim")
    assert hit.note == "state loans behind the bid"
    assert [hit.snippet[s:e] for s, e in hit.marks] == ["bid"]

    link = library.link(claim.id, evidence.id, author=alice)
    index.sync(library)
    assert ids("has:evidence") == {claim.id} and ids("no:evidence") == set()
    library.set_link_deleted(link.id)
    index.sync(library)
    assert ids("no:evidence") == {claim.id}
    library.set_link_deleted(link.id, False)
    library.set_deleted(evidence.id)  # the evidence goes: the claim has none left
    index.sync(library)
    assert ids("no:evidence") == {claim.id} and ids("tag:politics") == set()


def test_tag_rename_merge_and_annotation_delete_are_reflected(
    library: Library, index: SearchIndex, alice: Author
) -> None:
    doc, _ = library.add_document(seed_doc())
    a = library.annotate(doc.id, 0, 5, author=alice, tags=["econ/trade"])
    b = library.annotate(doc.id, 10, 20, author=alice, tags=["trade"])
    index.sync(library)
    library.rename_tag("econ/trade", "economy/exports")
    index.sync(library)
    assert hits_of(index, library, "tag:econ") == []
    assert {h[4] for h in hits_of(index, library, "tag:economy")} == {a.id}
    library.merge_tags("trade", "economy/exports")
    index.sync(library)
    assert {h[4] for h in hits_of(index, library, "tag:economy/exports")} == {a.id, b.id}
    library.set_deleted(a.id)
    index.sync(library)
    assert {h[4] for h in hits_of(index, library, "tag:economy")} == {b.id}
    library.delete_tag("economy/exports")
    index.sync(library)
    assert hits_of(index, library, "tag:economy") == []
    assert index.verify(library) == []


def test_document_delete_removes_its_passages_and_notes(
    library: Library, index: SearchIndex, alice: Author
) -> None:
    seed, _ = library.add_document(seed_doc())
    other, _ = library.add_document(NewDoc("The lighthouse keeper kept a journal.", title="Log"))
    claim = library.annotate(seed.id, 0, 5, author=alice, role="claim")
    evidence = library.annotate(other.id, 4, 14, author=alice, note="the keeper's log")
    library.link(claim.id, evidence.id, author=alice)
    index.sync(library)
    assert hits_of(index, library, "lighthouse") and hits_of(index, library, "has:evidence")
    library.delete_document(other.id)  # cascades the evidence and its link, logs no link change
    index.sync(library)
    assert hits_of(index, library, "lighthouse") == []
    assert hits_of(index, library, "keeper") == []
    assert [h[4] for h in hits_of(index, library, "no:evidence")] == [claim.id]
    assert index.verify(library) == []
    assert index.index_state(library) == (library.max_seq(), library.max_seq())


def test_small_batches_give_the_same_index(
    library: Library, index: SearchIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync_module, "BATCH_CHARS", 4000)
    for n in range(5):
        text = f"Chapter {n}. " + "The whale surfaced again. " * 300
        library.add_document(NewDoc(text, title=f"C{n}"))
    library.add_document(seed_doc())
    progress: list[tuple[int, int]] = []
    index.sync(library, progress=lambda d, t: progress.append((d, t)))
    assert progress[-1][0] == progress[-1][1] and len(progress) > 6
    assert index.search(library, "whale").total == sum(
        len(split_passages(library.document(d).text))
        for d in library.document_ids()
        if "whale" in library.document(d).text
    )
    assert index.verify(library) == []


# -- rebuilds ------------------------------------------------------------------------------------


def test_deleting_the_index_folder_then_searching_rebuilds_and_answers_the_same(
    library: Library, index: SearchIndex, alice: Author
) -> None:
    doc, _ = library.add_document(seed_doc())
    library.annotate(doc.id, 0, 30, author=alice, note="opening of the article", tags=["intro"])
    index.sync(library)
    queries = ['"data center" Senegal', "tag:intro", "discourse power", "gover*"]
    before = {q: hits_of(index, library, q) for q in queries}
    index.close()
    shutil.rmtree(index_dir_for(library.path))
    again = SearchIndex(index_dir_for(library.path))
    try:
        assert {q: hits_of(again, library, q) for q in queries} == before
        assert (index_dir_for(library.path) / "ix" / "MAIN_WRITELOCK").exists()
    finally:
        again.close()


def test_an_index_with_garbage_in_its_files_is_rebuilt(
    library: Library, index: SearchIndex
) -> None:
    library.add_document(seed_doc())
    index.sync(library)
    before = hits_of(index, library, '"data center" Senegal')
    index.close()
    for path in (index_dir_for(library.path) / "ix").iterdir():
        if path.name != "MAIN_WRITELOCK":
            path.write_bytes(os.urandom(64) + b"garbage")
    fresh = SearchIndex(index_dir_for(library.path))
    try:
        assert hits_of(fresh, library, '"data center" Senegal') == before
        assert fresh.verify(library) == []
    finally:
        fresh.close()


def test_an_index_ahead_of_the_store_is_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "library.margin"
    with Library(path) as lib:
        lib.add_document(NewDoc("Old text about lighthouses.", title="Old"))
        lib.add_document(NewDoc("More text about harbours.", title="More"))
        search_index = SearchIndex(index_dir_for(path))
        search_index.sync(lib)
        search_index.close()
    path.unlink()  # the library is replaced by another with a shorter change log
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    with Library(path) as lib:
        lib.add_document(NewDoc("A new library about whales.", title="New"))
        search_index = SearchIndex(index_dir_for(path))
        try:
            assert search_index.index_state(lib)[0] is None  # unusable as it is
            assert [h.title for h in search_index.search(lib, "whales").hits] == ["New"]
            assert search_index.search(lib, "lighthouses").hits == []
            assert search_index.index_state(lib) == (1, 1)
        finally:
            search_index.close()


def test_an_index_of_another_library_with_the_same_seq_is_rebuilt(tmp_path: Path) -> None:
    first, second = tmp_path / "a.margin", tmp_path / "b.margin"
    with Library(first) as a, Library(second) as b:
        a.add_document(NewDoc("Text about lighthouses.", title="A"))
        b.add_document(NewDoc("Text about whales.", title="B"))
        search_index = SearchIndex(index_dir_for(first))
        search_index.sync(a)
        search_index.close()
        shutil.copytree(index_dir_for(first), index_dir_for(second))
        search_index = SearchIndex(index_dir_for(second))
        try:
            assert [h.title for h in search_index.search(b, "whales").hits] == ["B"]
        finally:
            search_index.close()


def test_an_index_of_another_schema_is_rebuilt(library: Library, index: SearchIndex) -> None:
    from whoosh import fields

    library.add_document(seed_doc())
    folder = index_dir_for(library.path) / "ix"
    folder.mkdir(parents=True)
    old = fields.Schema(pid=fields.ID(stored=True), body=fields.TEXT())
    whoosh_index.create_in(str(folder), old)
    assert index.search(library, "Senegal").total == 1


# -- locks ---------------------------------------------------------------------------------------


def test_a_writer_abandoned_by_a_failure_in_this_process_is_recovered(
    library: Library, index: SearchIndex
) -> None:
    library.add_document(seed_doc())
    index.sync(library)
    kept: list[BaseException] = []

    def failing_batch() -> None:
        writer = whoosh_index.open_dir(str(index_dir_for(library.path) / "ix")).writer()
        writer.add_document(kind="passage", text="half written")
        raise ValueError("a bad document")

    try:
        failing_batch()
    except ValueError as error:
        kept.append(error)  # as a Textual worker keeps .error: the writer stays referenced
    library.add_document(NewDoc("The lighthouse keeper's journal.", title="Log"))
    began = time.monotonic()
    assert index.sync(library) == 1
    assert time.monotonic() - began < 5
    assert index.search(library, "lighthouse").total == 1
    assert index.search(library, '"half written"').total == 0
    assert (index_dir_for(library.path) / "ix" / "MAIN_WRITELOCK").exists()
    kept.clear()


HOLDER = textwrap.dedent(
    """
    import sys, time
    from whoosh import index
    ix = index.open_dir(sys.argv[1])
    writer = ix.writer()
    print("HOLDING", flush=True)
    sys.stdin.readline()
    writer.cancel()
    """
)


def test_a_writer_held_by_another_process_makes_sync_busy_then_succeed(
    library: Library, index: SearchIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync_module, "LOCK_TIMEOUT", 0.5)
    library.add_document(seed_doc())
    index.sync(library)
    folder = index_dir_for(library.path) / "ix"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert holder.stdout.readline().strip() == "HOLDING"
        library.add_document(NewDoc("The lighthouse keeper's journal.", title="Log"))
        with pytest.raises(IndexBusy) as busy:
            index.sync(library)
        assert f"pid {holder.pid}" in str(busy.value)
        assert (folder / "MAIN_WRITELOCK").exists()
        assert index.search(library, "lighthouse").total == 0  # stale, not broken
    finally:
        holder.communicate("go\n", timeout=20)
    assert index.sync(library) == 1
    assert index.search(library, "lighthouse").total == 1


# -- a child process -----------------------------------------------------------------------------


def test_sync_in_child_catches_up_and_the_parent_sees_it_after_refresh(
    library: Library, index: SearchIndex
) -> None:
    library.add_document(seed_doc())
    index.sync(library)
    assert index.search(library, "lighthouse").total == 0
    library.add_document(NewDoc("The lighthouse keeper's journal.", title="Log"))
    progress: list[tuple[int, int]] = []
    applied = sync_in_child(
        library.path, index_dir_for(library.path), lambda d, t: progress.append((d, t))
    )
    assert applied == 1 and progress and progress[-1][0] == progress[-1][1]
    index.refresh()
    assert index.search(library, "lighthouse").total == 1
    assert index.verify(library) == []


def test_index_dir_is_beside_the_library(tmp_path: Path) -> None:
    assert index_dir_for(tmp_path / "my.margin") == tmp_path / "my.margin.index"


KILLED_SYNC = textwrap.dedent(
    """
    import sys
    from store.library import Library
    from index import SearchIndex, index_dir_for
    import time
    lib = Library(sys.argv[1])
    def progress(done, total):
        # Past a quarter and short of half the work: say so and wait there to be killed, so
        # the kill lands mid-work by construction, not by a sleep a machine's speed decides.
        if total and total // 4 <= done < total // 2:
            print(f"HALFWAY {done} {total}", flush=True)
            time.sleep(600)
    print("SYNCING", flush=True)
    SearchIndex(index_dir_for(lib.path)).sync(lib, progress=progress)
    print("DONE", flush=True)
    """
)


def test_a_sync_killed_midway_leaves_an_index_the_next_sync_completes(
    library: Library, index: SearchIndex
) -> None:
    import random
    import signal

    library.add_document(seed_doc())
    index.sync(library)
    rnd = random.Random(3)
    vocabulary = [f"w{n}" for n in range(3000)]
    for n in range(6):
        paragraphs = [" ".join(rnd.choices(vocabulary, k=120)) for _ in range(500)]
        library.add_document(NewDoc("\n\n".join(paragraphs) + f"\n\nmarker{n}", title=f"Big {n}"))
    # Small batches, so the child commits several times before it is killed.
    env = dict(os.environ, PYTHONPATH=str(REPO))
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import index.sync as s; s.BATCH_CHARS = 600_000\n" + KILLED_SYNC,
            str(library.path),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=env,
    )
    assert child.stdout.readline().strip() == "SYNCING"
    line = child.stdout.readline().split()
    assert line and line[0] == "HALFWAY", line  # not DONE: the child waits mid-work
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    index_seq, store_seq = index.index_state(library)
    assert index_seq is not None and index_seq < store_seq  # the kill landed mid-work
    index.sync(library)
    assert index.index_state(library) == (store_seq, store_seq)
    assert [index.search(library, f"marker{n}").total for n in range(6)] == [1] * 6
    assert index.verify(library) == []


@pytest.mark.parametrize("helpers", [0, 1])
def test_bulk_work_shared_with_a_helper_process_gives_the_same_index(
    library: Library, index: SearchIndex, monkeypatch: pytest.MonkeyPatch, helpers: int
) -> None:
    monkeypatch.setattr(sync_module, "HELPERS", helpers)
    monkeypatch.setattr(sync_module, "HELPER_MIN_CHARS", 1)
    monkeypatch.setattr(sync_module, "BATCH_CHARS", 20_000)
    for n in range(6):
        text = f"Chapter {n} of the voyage. " + "The whale surfaced near the ship. " * 400
        library.add_document(NewDoc(text, title=f"Voyage {n}"))
    index.sync(library)  # a catch-up, split between this process and the helper
    assert index.search(library, "whale").total == sum(
        len(split_passages(library.document(d).text)) for d in library.document_ids()
    )
    assert {h.title for h in index.search(library, "chapter", limit=50).hits} == {
        f"Voyage {n}" for n in range(6)
    }
    assert index.verify(library) == []
    folder = index_dir_for(library.path)
    index.rebuild(library)  # a rebuild, split the same way
    assert index.search(library, "whale").total == sum(
        len(split_passages(library.document(d).text)) for d in library.document_ids()
    )
    assert not list((folder / "ix").glob("*.tmp"))  # no scratch folder left behind
    assert index.verify(library) == []
