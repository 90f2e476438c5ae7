"""Reading the store for the index: documents and annotations in bulk, by the library's
read-only reader (`Library.reader`, SELECT only), and added to a whoosh writer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from whoosh.writing import SegmentWriter

from index.passages import split_passages
from index.schema import (
    KIND_ANNOTATION,
    KIND_PASSAGE,
    tag_terms,
)
from index.whoosh_writer import LIMIT_MB, _discard, _Writer
from store.library import StoreReader
from store.records import Change

# -- reading the store ---------------------------------------------------------------------------


class IndexedLibrary(Protocol):
    """What the index needs of a library: where it is, its change log, and reading it."""

    path: Path

    @property
    def reader(self) -> StoreReader: ...

    def max_seq(self) -> int: ...

    def changes_since(self, seq: int, limit: int = 10_000) -> list[Change]: ...


def _chunks(items: list, size: int = 500) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class _Annotation:
    id: str
    document_id: str
    exact: str
    note: str
    role: str
    author_id: str
    author_name: str
    deleted: bool
    title: str
    tags: list[str]
    evidence: list[str]


def _annotations(db: StoreReader, ids: list[str]) -> dict[str, _Annotation]:
    """The named annotations (those still stored), with tags, title and live evidence."""
    found: dict[str, _Annotation] = {}
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        rows = db.execute(
            f"SELECT a.id, a.document_id, a.exact, a.note, a.role, a.author_id, a.author_name, "
            f"a.deleted, d.title FROM annotations a JOIN documents d ON d.id = a.document_id "
            f"WHERE a.id IN ({marks})",
            chunk,
        ).fetchall()
        for row in rows:
            found[row[0]] = _Annotation(
                row[0], row[1], row[2], row[3], row[4], row[5], row[6], bool(row[7]), row[8], [], []
            )
        for annotation_id, name in db.execute(
            f"SELECT at.annotation_id, t.name FROM annotation_tags at "
            f"JOIN tags t ON t.id = at.tag_id WHERE at.annotation_id IN ({marks})",
            chunk,
        ).fetchall():
            if annotation_id in found:
                found[annotation_id].tags.append(name)
        for claim_id, evidence_id in db.execute(
            f"SELECT l.claim_id, l.evidence_id FROM links l "
            f"JOIN annotations e ON e.id = l.evidence_id "
            f"WHERE l.claim_id IN ({marks}) AND NOT l.deleted AND NOT e.deleted",
            chunk,
        ).fetchall():
            if claim_id in found:
                found[claim_id].evidence.append(evidence_id)
    return found


def _add_annotation(writer: SegmentWriter, a: _Annotation) -> None:
    flags = [a.role] + (["note"] if a.note.strip() else [])
    fields: dict[str, object] = {
        "kind": KIND_ANNOTATION,
        "uid": a.id,
        "doc_id": a.document_id,
        "key": ("a", a.id),
        # Tag names are words of the note too: typing "governance" finds what carries it.
        "text": f"{a.exact}\n{a.note}\n{' '.join(a.tags)}",
        "doc": f"{a.title} {a.document_id}",
        "author": f"{a.author_name} {a.author_id}",
        "is": ",".join(flags),
    }
    if a.tags:
        fields["tag"] = tag_terms(a.tags)
    if a.role == "claim":
        if a.evidence:
            fields["has"] = "evidence"
            fields["ev"] = ",".join(sorted(set(a.evidence)))
        else:
            fields["no"] = "evidence"
    writer.add_document(**fields)


def _length_row(db: StoreReader, doc_id: str) -> tuple | None:
    sql = "SELECT length FROM documents WHERE id = ?"
    return db.execute(sql, [doc_id]).fetchone()


def _add_stored(writer: SegmentWriter, db: StoreReader, doc_id: str) -> int:
    """Add a stored document's passages; returns its length in characters (0 when gone)."""
    row = db.execute("SELECT title, author, text FROM documents WHERE id = ?", [doc_id]).fetchone()
    if row is None:
        return 0
    _add_document(writer, doc_id, row[0], row[1], row[2])
    return len(row[2])


def _segment_of(ix: object, db: StoreReader, doc_ids: Iterable[str]) -> list:
    """The documents indexed here into a segment of their own (no lock: the caller holds it)."""
    writer = _Writer(ix, _lk=False, private_temp=True, limitmb=LIMIT_MB)
    try:
        for doc_id in sorted(doc_ids):
            _add_stored(writer, db, doc_id)
        segment = writer.finish_segment()
        return [] if segment is None else [segment]
    except BaseException:
        _discard(writer)
        raise


def _length_of(db: StoreReader, doc_ids: Iterable[str]) -> int:
    total = 0
    for doc_id in doc_ids:
        row = _length_row(db, doc_id)
        total += row[0] if row else 0
    return total


def _byte_spans(text: str, passages: list) -> list[tuple[int, int]]:
    """Each passage's (UTF-8 byte offset, byte length) in the text, for blob reads of snippets."""
    if text.isascii():
        return [(p.start, p.end - p.start) for p in passages]
    spans = []
    position = byte = 0
    for p in passages:
        byte += len(text[position : p.start].encode("utf-8", "surrogatepass"))
        length = len(text[p.start : p.end].encode("utf-8", "surrogatepass"))
        spans.append((byte, length))
        byte += length
        position = p.end
    return spans


def _add_document(
    writer: SegmentWriter, doc_id: str, title: str, author: str | None, text: str
) -> int:
    """Add a document's passages; returns how many."""
    title_value = f"{title} {doc_id}"
    passages = split_passages(text)
    add = writer.add_document
    spans = _byte_spans(text, passages)
    for passage, (byte_start, byte_length) in zip(passages, spans, strict=True):
        add(
            kind=KIND_PASSAGE,
            doc_id=doc_id,
            key=("p", doc_id, passage.start, passage.end, byte_start, byte_length),
            text=text[passage.start : passage.end],
            doc=title_value,
            author=author or None,
        )
    return len(passages)


def _split(db: StoreReader, doc_ids: list[str]) -> tuple[list[str], list[str]]:
    """Two groups of about equal text, largest documents first: (ours, the helper's)."""
    lengths = []
    for doc_id in doc_ids:
        row = _length_row(db, doc_id)
        if row is not None:
            lengths.append((row[0], doc_id))
    ours: list[str] = []
    theirs: list[str] = []
    mine = other = 0
    for length, doc_id in sorted(lengths, reverse=True):
        if mine <= other:
            ours.append(doc_id)
            mine += length
        else:
            theirs.append(doc_id)
            other += length
    return ours, theirs
