"""The library of record, through the real SQLite file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from store.db import connect
from store.errors import InvalidInput, LibraryError, NotFound
from store.library import Library, tag_name
from store.migrations import MIGRATIONS, SCHEMA_VERSION, migrate, version
from tests.conftest import NewDoc, on_disk

TEXT = "The port was built in 2019. Critics say the loans were opaque.\n\nA second paragraph."


def test_new_library_is_wal_with_foreign_keys_and_current_schema(library: Library) -> None:
    assert library._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert library._db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert library._db.execute("PRAGMA busy_timeout").fetchone()[0] == 10_000
    assert version(library._db) == SCHEMA_VERSION
    assert {
        "documents",
        "annotations",
        "tags",
        "annotation_tags",
        "links",
        "reviews",
        "changes",
        "document_versions",
    } <= set(on_disk(library).table_names())


def test_same_text_twice_adds_nothing(library: Library) -> None:
    first, added = library.add_document(NewDoc(TEXT))
    again, added_again = library.add_document(NewDoc(TEXT, title="Other name"))
    assert added and not added_again
    assert again.id == first.id
    assert on_disk(library)["documents"].count == 1
    assert [c.entity for c in library.changes_since(0)] == ["document"]


def test_annotation_keeps_quote_and_context_and_logs_the_change(library, alice) -> None:
    doc, _ = library.add_document(NewDoc(TEXT))
    start = TEXT.index("Critics")
    end = TEXT.index("opaque.") + len("opaque.")
    claim = library.annotate(doc.id, start, end, author=alice, role="claim", tags=["econ/debt"])
    row = on_disk(library)["annotations"].get(claim.id)
    assert row["exact"] == "Critics say the loans were opaque."
    assert row["prefix"] == TEXT[:start][-32:]
    assert row["suffix"] == TEXT[end : end + 32]
    assert (row["author_id"], row["author_name"]) == (alice.id, "Alice")
    assert claim.tags == ("econ/debt",)
    assert [(c.entity, c.op) for c in library.changes_since(1)] == [
        ("tag", "insert"),
        ("annotation", "insert"),
    ]


@pytest.mark.parametrize("span", [(-1, 3), (5, 5), (10, 4), (0, 10_000)])
def test_spans_outside_the_text_are_refused(library, alice, span) -> None:
    doc, _ = library.add_document(NewDoc(TEXT))
    with pytest.raises(InvalidInput):
        library.annotate(doc.id, *span, author=alice)
    assert on_disk(library)["annotations"].count == 0


def test_a_failed_action_leaves_nothing_behind(library, alice) -> None:
    doc, _ = library.add_document(NewDoc(TEXT))
    seq = library.max_seq()
    with pytest.raises(InvalidInput):
        library.annotate(doc.id, 0, 4, author=alice, tags=["fine", "   "])
    assert on_disk(library)["annotations"].count == 0
    assert on_disk(library)["tags"].count == 0
    assert library.max_seq() == seq


def test_links_reviews_and_counts(library, alice) -> None:
    doc, _ = library.add_document(NewDoc(TEXT))
    claim = library.annotate(doc.id, 0, 27, author=alice, role="claim")
    lonely = library.annotate(doc.id, 28, 62, author=alice, role="claim")
    evidence = library.annotate(doc.id, 64, 83, author=alice)
    link = library.link(claim.id, evidence.id, author=alice, relation="contradicts", note="dates")
    assert library.links(claim_id=claim.id) == [link]
    library.review(claim.id, "partly-supported", reviewer=alice, comment="one source")
    library.review(claim.id, "supported", reviewer=alice)
    assert [r.verdict for r in library.reviews(claim.id)] == ["partly-supported", "supported"]
    summary = library.document_summary(doc.id)
    assert (summary.highlights, summary.claims, summary.claims_without_evidence) == (1, 2, 1)
    assert summary.claims_reviewed == 1
    with pytest.raises(InvalidInput):
        library.link(evidence.id, claim.id, author=alice)  # evidence is not a claim
    with pytest.raises(InvalidInput):
        library.review(evidence.id, "supported", reviewer=alice)
    with pytest.raises(InvalidInput):
        library.review(claim.id, "maybe", reviewer=alice)
    library.set_deleted(evidence.id)
    assert library.document_summary(doc.id).claims_without_evidence == 2
    assert lonely.id in {a.id for a in library.annotations(doc.id, role="claim")}


def test_tombstone_keeps_the_row(library, alice) -> None:
    doc, _ = library.add_document(NewDoc(TEXT))
    note = library.annotate(doc.id, 0, 8, author=alice, note="check")
    library.set_deleted(note.id)
    assert library.annotations(doc.id) == []
    kept = library.annotations(doc.id, include_deleted=True)
    assert [(a.id, a.deleted, a.note) for a in kept] == [(note.id, True, "check")]
    library.set_deleted(note.id, False)
    assert [a.id for a in library.annotations(doc.id)] == [note.id]


def test_rename_and_merge_tags_touch_every_annotation_and_nothing_else(library, alice) -> None:
    doc, _ = library.add_document(NewDoc(TEXT))
    a = library.annotate(doc.id, 0, 8, author=alice, tags=["trade", "loans"])
    b = library.annotate(doc.id, 10, 20, author=alice, tags=["trade"])
    c = library.annotate(doc.id, 30, 40, author=alice, tags=["other"])
    library.rename_tag("trade", "econ/trade")
    assert library.annotation(a.id).tags == ("econ/trade", "loans")
    assert library.annotation(b.id).tags == ("econ/trade",)
    library.merge_tags("loans", "econ/trade")
    assert library.annotation(a.id).tags == ("econ/trade",)
    assert library.annotation(c.id).tags == ("other",)
    assert [(t.name, t.count) for t in library.tags()] == [("econ/trade", 2), ("other", 1)]
    with pytest.raises(InvalidInput):
        library.rename_tag("other", "econ/trade")
    assert library.delete_tag("other") == 1
    assert library.annotation(c.id).tags == ()


def test_renaming_or_merging_a_tag_takes_the_tags_nested_under_it(library, alice) -> None:
    doc, _ = library.add_document(NewDoc(TEXT))
    a = library.annotate(doc.id, 0, 8, author=alice, tags=["gov", "gov/digital"])
    b = library.annotate(doc.id, 10, 20, author=alice, tags=["gov/digital/5g", "govt"])
    library.rename_tag("gov", "policy")
    assert library.annotation(a.id).tags == ("policy", "policy/digital")
    assert library.annotation(b.id).tags == ("govt", "policy/digital/5g")  # govt is not under gov
    library.ensure_tag("state/digital")
    with pytest.raises(InvalidInput, match="'state/digital' exists; merge instead"):
        library.rename_tag("policy", "state")
    assert library.annotation(a.id).tags == ("policy", "policy/digital")  # all or nothing
    library.merge_tags("policy", "state")
    assert library.annotation(a.id).tags == ("state", "state/digital")
    assert library.annotation(b.id).tags == ("govt", "state/digital/5g")
    assert [t.name for t in library.tags()] == [
        "govt",
        "state",
        "state/digital",
        "state/digital/5g",
    ]
    with pytest.raises(InvalidInput, match="inside"):
        library.merge_tags("state", "state/digital")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("#econ", "econ"), ("##Foo Bar/", "Foo Bar"), (" a//b/ ", "a/b"), ("#econ/#x", "econ/#x")],
)
def test_tag_names_lose_the_hash_people_type_and_stray_slashes(typed, stored) -> None:
    assert tag_name(typed) == stored


def test_delete_document_takes_its_notes(library, alice) -> None:
    doc, _ = library.add_document(NewDoc(TEXT))
    other, _ = library.add_document(NewDoc("Another text entirely, with a claim."))
    claim = library.annotate(other.id, 0, 7, author=alice, role="claim")
    evidence = library.annotate(doc.id, 0, 8, author=alice)
    library.link(claim.id, evidence.id, author=alice)
    assert library.delete_document(doc.id) == 1
    assert on_disk(library)["annotations"].count == 1
    assert on_disk(library)["links"].count == 0
    assert ("annotation", evidence.id, "delete") in [
        (c.entity, c.id, c.op) for c in library.changes_since(0)
    ]
    with pytest.raises(NotFound):
        library.document(doc.id)


def test_resolve_document_by_id_prefix_and_title(library) -> None:
    doc, _ = library.add_document(NewDoc(TEXT, title="Ports and Loans"))
    library.add_document(NewDoc("x y z", title="Ports of call"))
    assert library.resolve_document(doc.id[:6]).id == doc.id
    assert library.resolve_document("and loans").id == doc.id
    with pytest.raises(InvalidInput, match="matches 2 documents"):
        library.resolve_document("ports")
    with pytest.raises(NotFound):
        library.resolve_document("nothing like it")


def test_migrations_from_every_old_version(tmp_path: Path) -> None:
    for start in range(SCHEMA_VERSION):
        path = tmp_path / f"v{start}.margin"
        db = connect(path)
        migrate(db, target=start)
        assert version(db) == start
        if start >= 1:
            db["documents"].insert(
                {
                    "id": "d1",
                    "title": "Old",
                    "format": "txt",
                    "sha256": "ab",
                    "text": "old text",
                    "length": 8,
                    "metadata": "{}",
                    "imported_at": "2026-01-01T00:00:00.000Z",
                }
            )
        db.conn.close()
        lib = Library(path)
        assert version(lib._db) == SCHEMA_VERSION
        if start >= 1:
            assert lib.document("d1").text == "old text"
        lib.close()


def test_a_newer_library_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.margin"
    Library(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    conn.close()
    with pytest.raises(LibraryError, match="newer margin"):
        Library(path)


def test_a_file_that_is_not_a_library_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(LibraryError, match="not a margin library"):
        Library(path)


def test_backup_is_a_consistent_copy(library, alice, tmp_path: Path) -> None:
    doc, _ = library.add_document(NewDoc(TEXT))
    library.annotate(doc.id, 0, 8, author=alice)
    target = tmp_path / "copy.margin"
    library.backup(target)
    copy = sqlite_utils.Database(target)
    assert copy["annotations"].count == 1
    assert copy["documents"].count == 1
    with pytest.raises(InvalidInput):
        library.backup(target)


def test_notes_are_cleaned_like_documents(library, alice) -> None:
    doc, _ = library.add_document(NewDoc(TEXT))
    a = library.annotate(doc.id, 0, 8, author=alice, note="see \x1b]0;PWNED\x07 here\r\nnext")
    assert a.note == "see ]0;PWNED here\nnext"


def test_find_quote_exact_folded_missing_and_ambiguous(seed_text: str) -> None:
    from store.quotes import find_quote

    start, end = find_quote(seed_text, "data center in Senegal")
    assert seed_text[start:end] == "data center in Senegal"
    typed = (
        "Xi pledged that the People's Republic of China (PRC) would \"better tell China's story\""
    )
    start, end = find_quote(seed_text, typed)
    assert seed_text[start:end].startswith("Xi pledged") and seed_text[start:end].endswith(
        "story\u201d"
    )
    with pytest.raises(InvalidInput, match="not in the document"):
        find_quote(seed_text, "a sentence nobody wrote")
    with pytest.raises(InvalidInput, match="places"):
        find_quote(seed_text, "GDI")


def test_evidence_ids_of_a_document(library, alice) -> None:
    doc, _ = library.add_document(NewDoc(TEXT))
    other, _ = library.add_document(NewDoc("Another text with a claim in it."))
    claim = library.annotate(other.id, 0, 7, author=alice, role="claim")
    used = library.annotate(doc.id, 0, 8, author=alice)
    unused = library.annotate(doc.id, 10, 20, author=alice)
    link = library.link(claim.id, used.id, author=alice)
    assert library.evidence_ids(doc.id) == {used.id}
    library.set_link_deleted(link.id)
    assert library.evidence_ids(doc.id) == set()
    assert unused.id not in library.evidence_ids(doc.id)
