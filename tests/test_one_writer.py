"""One owner per row: every public write of `Library` appends to the change log inside the
same transaction as the rows it changes, which is what lets the index follow the library.

Each write runs with SQLite's statement trace on the library's own connection; the test reads
the trace back as transactions (BEGIN IMMEDIATE ... COMMIT) and asserts that every one that
changed a table the index follows also inserted into `changes`, and that the change log grew.
A new public method of Library must be listed here as a read or a write, or this test fails.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from store.library import Library
from store.records import Author, Document, Link, Review
from tests.conftest import NewDoc, on_disk

TEXT = "The port was built in 2019. Critics say the loans were opaque.\n\nA second paragraph."
ALICE = Author(id="11111111-1111-4111-8111-111111111111", name="Alice")

# Tables the index follows (DESIGN.md "changes"): a write to one must be logged.
FOLLOWED = ("documents", "annotations", "annotation_tags", "tags", "links", "reviews")
_WRITE = re.compile(
    r"^\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE|DELETE\s+FROM)\s+[\"\[]?(\w+)", re.IGNORECASE
)

READS = {
    "annotation",
    "annotation_row",
    "annotations",
    "backup",  # writes another file, not this one
    "changes_since",
    "claims",
    "close",
    "conflict_row",
    "conflict_rows",
    "open_conflict",
    "count_notes",
    "document",
    "document_by_sha",
    "document_by_source",
    "document_ids",
    "document_summary",
    "documents",
    "evidence_ids",
    "exchange_base",
    "exists",
    "find_tag",
    "get_link",
    "integrity_problems",
    "known_versions",
    "last_change",
    "link_row",
    "links",
    "links_to_other_documents",
    "live_annotation_at",
    "live_link",
    "max_seq",
    "data_version",
    "own_span",
    "quick_problems",
    "read_only",
    "reader",
    "recent_quotes",
    "resolve_annotation",
    "resolve_document",
    "review_row",
    "reviews",
    "staleness",
    "tag",
    "tag_alias",
    "tag_count",
    "tags",
    "text_at",
    "text_lengths",
    "snapshot",  # an export's transaction: write() normally, a read with a full disk
    "write",  # a transaction for the caller's writes, each tested below
}
# The exchange bookkeeping (store/ledger.py) is not followed by the index: no log entry.
LEDGER = {
    "add_conflict",
    "add_history",
    "add_import",
    "mark_resolved",
    "remember_version",
    "settle_conflicts",
}
# What a verdict judged (review_grounds, issue 16) is read by the board, not by the index: a
# ground is written in its verdict's transaction, whose `reviews` row is logged; no entry of its own.
GROUNDS = {"record_missing_grounds"}


class World:
    """A library with a document, a claim, a highlight as its evidence, a tag and a link."""

    def __init__(self, path: Path) -> None:
        self.lib = Library(path)
        self.doc, _ = self.lib.add_document(NewDoc(TEXT))
        start = TEXT.index("Critics")
        self.claim = self.lib.annotate(
            self.doc.id, start, start + 6, author=ALICE, role="claim", tags=["econ"]
        )
        self.evidence = self.lib.annotate(self.doc.id, 4, 8, author=ALICE)
        self.link = self.lib.link(self.claim.id, self.evidence.id, author=ALICE)


def _writes(w: World) -> dict[str, Callable[[], object]]:
    lib = w.lib
    other = "22222222-2222-4222-8222-222222222222"
    return {
        "add_document": lambda: lib.add_document(NewDoc("A new text.")),
        "delete_document": lambda: lib.delete_document(w.doc.id),
        "annotate": lambda: lib.annotate(w.doc.id, 0, 3, author=ALICE),
        "update_annotation": lambda: lib.update_annotation(w.claim.id, note="why"),
        "set_deleted": lambda: lib.set_deleted(w.evidence.id),
        "set_tags": lambda: lib.set_tags(w.claim.id, ["trade"]),
        "ensure_tag": lambda: lib.ensure_tag("new"),
        "rename_tag": lambda: lib.rename_tag("econ", "economy"),
        "merge_tags": lambda: lib.merge_tags("econ", "trade"),
        "update_tag": lambda: lib.update_tag("econ", colour="#123456"),
        "delete_tag": lambda: lib.delete_tag("econ"),
        "link": lambda: lib.link(w.claim.id, w.evidence.id, author=ALICE, relation="context"),
        "set_link_deleted": lambda: lib.set_link_deleted(w.link.id),
        "review": lambda: lib.review(w.claim.id, "supported", reviewer=ALICE),
        "set_source": lambda: lib.set_source(w.doc.id, "/tmp/a-document-v2.txt"),
        "retitle": lambda: lib.retitle(w.doc.id, "A new title", author="Alice", published="2024"),
        "put_naming": lambda: lib.put_naming(
            w.doc.id, title="Named", author=None, published=None, named_at="2026-01-01T00:00:00Z"
        ),
        "put_document": lambda: lib.put_document(
            replace(w.doc, id=other, text="Another text.", imported_at="2026-01-01T00:00:00Z")
        ),
        "replace_text": lambda: lib.replace_text(w.doc.id, NewDoc("The port. " + TEXT)),
        "restore_anchor": lambda: lib.restore_anchor(
            w.claim.id,
            start=0,
            end=3,
            exact="The",
            prefix="",
            suffix=" port",
            state="moved",
            step="exact",
        ),
        "put_annotation": lambda: lib.put_annotation(
            replace(w.claim, id=other, note="from a bundle", tags=("econ", "bundle"))
        ),
        "put_link": lambda: lib.put_link(
            Link(
                id=other,
                claim_id=w.claim.id,
                evidence_id=w.evidence.id,
                relation="contradicts",
                note="",
                author_id=ALICE.id,
                author_name=ALICE.name,
                created="2026-01-01T00:00:00.000Z",
                modified="2026-01-01T00:00:00.000Z",
                deleted=False,
            )
        ),
        "put_review": lambda: lib.put_review(
            Review(
                id=other,
                claim_id=w.claim.id,
                verdict="unsupported",
                comment="",
                reviewer_id=ALICE.id,
                reviewer_name=ALICE.name,
                created="2026-01-01T00:00:00.000Z",
            )
        ),
    }


def _snapshot(lib: Library) -> dict[str, list[dict]]:
    return {table: list(on_disk(lib)[table].rows) for table in FOLLOWED}


def _transactions(statements: list[str]) -> list[list[str]]:
    found: list[list[str]] = []
    current: list[str] | None = None
    for sql in statements:
        head = sql.strip().upper()
        if head.startswith("BEGIN"):
            current = []
        elif head.startswith(("COMMIT", "ROLLBACK")):
            if current is not None and head.startswith("COMMIT"):
                found.append(current)
            current = None
        elif current is not None:
            current.append(sql)
        else:
            assert not _WRITE.match(sql), f"a write outside a transaction: {sql}"
    return found


def test_every_public_method_is_known_as_a_read_or_a_write(tmp_path: Path) -> None:
    w = World(tmp_path / "library.margin")
    public = {
        name
        for name, _ in inspect.getmembers(Library)
        if not name.startswith("_") and name not in ("path",)
    }
    listed = READS | LEDGER | GROUNDS | set(_writes(w))
    assert public - listed == set(), "a new Library method: list it as a read or test its write"
    assert listed - public == set()


def _names() -> list[str]:
    return [
        "add_document",
        "annotate",
        "delete_document",
        "delete_tag",
        "ensure_tag",
        "link",
        "merge_tags",
        "put_annotation",
        "put_document",
        "put_link",
        "put_naming",
        "put_review",
        "rename_tag",
        "replace_text",
        "restore_anchor",
        "retitle",
        "review",
        "set_deleted",
        "set_link_deleted",
        "set_source",
        "set_tags",
        "update_annotation",
        "update_tag",
    ]


@pytest.mark.parametrize("name", _names())
def test_each_write_logs_its_change_in_the_same_transaction(tmp_path: Path, name: str) -> None:
    w = World(tmp_path / "library.margin")
    writes = _writes(w)
    assert set(writes) == set(_names())
    before = w.lib.max_seq()
    before_rows = _snapshot(w.lib)
    statements: list[str] = []
    w.lib._db.conn.set_trace_callback(statements.append)
    try:
        writes[name]()
    finally:
        w.lib._db.conn.set_trace_callback(None)
    transactions = _transactions(statements)
    changed = [
        tx
        for tx in transactions
        if any((m := _WRITE.match(sql)) and m.group(1).lower() in FOLLOWED for sql in tx)
    ]
    assert changed, f"{name} changed no table the index follows"
    for tx in changed:
        logged = [sql for sql in tx if re.match(r"\s*INSERT INTO changes", sql, re.IGNORECASE)]
        assert logged, f"{name}: a transaction wrote rows without a change-log entry: {tx}"
    assert w.lib.max_seq() > before
    assert _snapshot(w.lib) != before_rows, f"{name} changed nothing stored"
    w.lib.close()


def test_a_put_that_fails_validation_writes_nothing(tmp_path: Path) -> None:
    w = World(tmp_path / "library.margin")
    before = w.lib.max_seq()
    with pytest.raises(Exception, match="not inside"):
        w.lib.put_annotation(replace(w.claim, start=0, end=10_000))
    with pytest.raises(Exception, match="already in the library"):
        w.lib.put_document(replace(w.doc, imported_at="2026-01-01T00:00:00Z"))
    assert isinstance(w.doc, Document)
    assert w.lib.max_seq() == before
    assert w.lib.annotation(w.claim.id).start == w.claim.start
    w.lib.close()


def test_recording_missing_grounds_writes_only_grounds_in_one_transaction(tmp_path: Path) -> None:
    w = World(tmp_path / "library.margin")
    review = w.lib.review(w.claim.id, "supported", reviewer=ALICE)
    disk = on_disk(w.lib)
    with disk.conn:  # as a verdict merged before its ground was recorded
        disk.execute("DELETE FROM review_grounds")
    disk.close()
    before_seq, before_rows = w.lib.max_seq(), _snapshot(w.lib)
    statements: list[str] = []
    w.lib._db.conn.set_trace_callback(statements.append)
    try:
        assert w.lib.record_missing_grounds() == 1
    finally:
        w.lib._db.conn.set_trace_callback(None)
    [tx] = _transactions(statements)
    written = {m.group(1).lower() for sql in tx if (m := _WRITE.match(sql))}
    assert written == {"review_grounds"}
    assert (w.lib.max_seq(), _snapshot(w.lib)) == (before_seq, before_rows)
    ground = on_disk(w.lib)["review_grounds"].get(review.id)
    assert ground["quote"] == w.claim.exact
    assert w.lib.record_missing_grounds() == 0
    w.lib.close()
