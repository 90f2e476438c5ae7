"""The library of record: documents, annotations, tags, links and reviews in one SQLite file.

Every public method that writes is one transaction (BEGIN IMMEDIATE) and appends to the
`changes` log in that same transaction, so the index can follow the library exactly and a
crash leaves each action fully in or fully out. Reads return materialised records: no row
generator outlives a call, since a half-read one holds a snapshot and grows the WAL.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

from store import db as dbmod
from store.anchoring import CONTEXT, Quote, anchor_within, quote_at
from store.errors import InvalidInput, LibraryError, NotFound
from store.ledger import ExchangeLedger
from store.migrations import migrate
from store.quotes import fold
from store.records import (
    Annotation,
    Author,
    Change,
    ClaimSummary,
    Document,
    DocumentSummary,
    Link,
    Review,
    Tag,
    new_id,
    now,
)
from store.sanitize import clean_field, ingest_clean
from store.schema import ANCHOR_STATES, RELATIONS, ROLES, VERDICTS
from store.staleness import Ground, Staleness, compare

# Readable on dark and on light themes; new tags take the next one.
TAG_PALETTE = (
    "#e5c07b",  # amber
    "#61afef",  # blue
    "#98c379",  # green
    "#c678dd",  # violet
    "#e06c75",  # red
    "#56b6c2",  # cyan
    "#d19a66",  # orange
    "#a9a1e1",  # lavender
    "#7fbf7f",  # sage
)
MAX_NOTE = 100_000


class NewDocument(Protocol):
    """What an importer hands the library (store.ingest.Extracted fits)."""

    text: str
    title: str
    author: str | None
    published: str | None
    source: str
    format: str
    page_starts: list[int] | None
    metadata: dict


def text_sha256(text: str) -> str:
    """The hash that identifies a document's text (UTF-8 of the cleaned text)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _document(row: dict[str, Any]) -> Document:
    return Document(
        id=row["id"],
        title=row["title"],
        author=row["author"],
        published=row["published"],
        source=row["source"],
        format=row["format"],
        sha256=row["sha256"],
        text=row["text"],
        page_starts=json.loads(row["page_starts"]) if row["page_starts"] else None,
        metadata=json.loads(row["metadata"] or "{}"),
        imported_at=row["imported_at"],
    )


def _annotation(row: dict[str, Any], tags: Sequence[str] = ()) -> Annotation:
    return Annotation(
        id=row["id"],
        document_id=row["document_id"],
        start=row["start"],
        end=row["end"],
        exact=row["exact"],
        prefix=row["prefix"],
        suffix=row["suffix"],
        role=row["role"],
        note=row["note"],
        author_id=row["author_id"],
        author_name=row["author_name"],
        created=row["created"],
        modified=row["modified"],
        deleted=bool(row["deleted"]),
        anchor_state=row["anchor_state"],
        anchor_step=row["anchor_step"],
        tags=tuple(sorted(tags)),
        editor_id=row.get("editor_id") or row["author_id"],
        editor_name=row.get("editor_name") or row["author_name"],
    )


# A note's tag names, joined with the unit separator (which `tag_name` never lets into a name).
_TAG_NAMES = (
    "(SELECT group_concat(t.name, char(31)) FROM annotation_tags at "
    "JOIN tags t ON t.id = at.tag_id WHERE at.annotation_id = annotations.id) AS tag_names"
)


def _split_tags(joined: str | None) -> list[str]:
    return joined.split("\x1f") if joined else []


def _link(row: dict[str, Any]) -> Link:
    return Link(
        **{
            **row,
            "deleted": bool(row["deleted"]),
            "editor_id": row.get("editor_id") or row["author_id"],
            "editor_name": row.get("editor_name") or row["author_name"],
        }
    )


def _edited_by(editor: Author | None) -> dict[str, Any]:
    # A change made by a person names them; one made by margin itself (re-anchoring, undo of
    # a merge) leaves the last editor in place.
    if editor is None:
        return {"modified": now()}
    return {"modified": now(), "editor_id": editor.id, "editor_name": editor.name}


_SUMMARY_SQL = """
SELECT d.id, d.title, d.author, d.format, d.source, d.length, d.imported_at,
  (SELECT count(*) FROM annotations a
     WHERE a.document_id = d.id AND NOT a.deleted AND a.role = 'highlight') AS highlights,
  (SELECT count(*) FROM annotations a
     WHERE a.document_id = d.id AND NOT a.deleted AND a.role = 'claim') AS claims,
  (SELECT count(*) FROM annotations a
     WHERE a.document_id = d.id AND NOT a.deleted AND a.role = 'claim'
       AND NOT EXISTS (SELECT 1 FROM links l JOIN annotations e ON e.id = l.evidence_id
                       WHERE l.claim_id = a.id AND NOT l.deleted AND NOT e.deleted))
     AS claims_without_evidence,
  (SELECT count(*) FROM annotations a
     WHERE a.document_id = d.id AND NOT a.deleted AND a.role = 'claim'
       AND EXISTS (SELECT 1 FROM reviews r WHERE r.claim_id = a.id)) AS claims_reviewed,
  (SELECT count(*) FROM annotations a
     WHERE a.document_id = d.id AND NOT a.deleted AND a.anchor_state = 'moved') AS moved,
  (SELECT count(*) FROM annotations a
     WHERE a.document_id = d.id AND NOT a.deleted AND a.anchor_state = 'orphaned') AS orphaned
FROM documents d
"""


class Library(ExchangeLedger):
    """One margin library file. Open one per thread; close it when done."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._db = dbmod.connect(self.path)
        try:
            migrate(self._db)
        except sqlite3.DatabaseError as error:
            self._db.conn.close()
            raise LibraryError(f"{self.path}: {dbmod.explain(error)}") from error

    def close(self) -> None:
        """Close the connection (the WAL is checkpointed by SQLite on the last close)."""
        self._db.conn.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing -------------------------------------------------------------------------

    def _rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict]:
        cursor = self._db.execute(sql, params)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _log(self, entity: str, record_id: str, op: str) -> None:
        self._db.execute(
            "INSERT INTO changes (entity, id, op) VALUES (?, ?, ?)", (entity, record_id, op)
        )

    def write(self):  # noqa: ANN201 - a context manager, see store.db.write
        """A write transaction for several calls that must land together."""
        return dbmod.write(self._db)

    @property
    def read_only(self) -> bool:
        """True when the disk was full at open, so the library is read-only (issue 15)."""
        return dbmod.read_only(self._db)

    def snapshot(self):  # noqa: ANN201 - a context manager
        """A write transaction for an export (it remembers what it exported), or with a full
        disk a read transaction: the export still comes out, only its lineage is not kept."""
        return dbmod.read(self._db) if self.read_only else dbmod.write(self._db)

    def _in_write(self) -> bool:
        return self._db.conn.in_transaction

    def _tx(self):  # noqa: ANN202
        # Join the caller's transaction when there is one, so batches stay atomic.
        if self._in_write():
            return _Joined(self._db)
        return dbmod.write(self._db)

    # -- documents ------------------------------------------------------------------------

    def add_document(self, new: NewDocument) -> tuple[Document, bool]:
        """Store an extracted document; returns it and False when the same text was there."""
        sha = text_sha256(new.text)
        with self._tx():
            existing = self._rows("SELECT * FROM documents WHERE sha256 = ?", [sha])
            if existing:
                return _document(existing[0]), False
            doc_id = new_id()
            self._db.table("documents").insert(
                {
                    "id": doc_id,
                    "title": clean_field(new.title or "untitled", 500) or "untitled",
                    "author": clean_field(new.author, 500) if new.author else None,
                    "published": clean_field(new.published, 100) if new.published else None,
                    "source": new.source,
                    "format": new.format,
                    "sha256": sha,
                    "text": new.text,
                    "length": len(new.text),
                    "page_starts": json.dumps(new.page_starts) if new.page_starts else None,
                    "metadata": json.dumps(new.metadata or {}, ensure_ascii=False, sort_keys=True),
                    "imported_at": now(),
                }
            )
            self._log("document", doc_id, "insert")
        return self.document(doc_id), True

    def document(self, document_id: str) -> Document:
        """The document with this id, text included."""
        rows = self._rows("SELECT * FROM documents WHERE id = ?", [document_id])
        if not rows:
            raise NotFound(f"no document with id {document_id}")
        return _document(rows[0])

    def document_by_sha(self, sha256: str) -> Document | None:
        """The document whose text has this hash, if any."""
        rows = self._rows("SELECT * FROM documents WHERE sha256 = ?", [sha256])
        return _document(rows[0]) if rows else None

    def document_by_source(self, source: str) -> Document | None:
        """The most recently imported document from this path or URL, if any."""
        rows = self._rows(
            "SELECT * FROM documents WHERE source = ? ORDER BY imported_at DESC LIMIT 1", [source]
        )
        return _document(rows[0]) if rows else None

    def resolve_document(self, ref: str) -> Document:
        """A document named by id, id prefix (4+ characters) or a unique part of its title.

        Titles match without regard to case or to typographic quotes and dashes.
        """
        rows = self._rows("SELECT id FROM documents WHERE id = ?", [ref])
        if not rows and len(ref) >= 4:
            rows = self._rows("SELECT id FROM documents WHERE id LIKE ? || '%'", [ref])
        ids = [r["id"] for r in rows]
        if not ids:
            wanted = fold(ref)
            titles = self._rows("SELECT id, title FROM documents")
            ids = [r["id"] for r in titles if fold(r["title"]) == wanted] or [
                r["id"] for r in titles if wanted in fold(r["title"])
            ]
        if not ids:
            raise NotFound(f"no document matches {ref!r}")
        if len(ids) > 1:
            raise InvalidInput(
                f"{ref!r} matches {len(ids)} documents; give more of the title or the id"
            )
        return self.document(ids[0])

    def documents(self) -> list[DocumentSummary]:
        """Every document with counts of its notes, oldest import first."""
        rows = self._rows(_SUMMARY_SQL + " ORDER BY d.imported_at, d.title")
        return [DocumentSummary(**row) for row in rows]

    def document_summary(self, document_id: str) -> DocumentSummary:
        """One document's line of the library list."""
        rows = self._rows(_SUMMARY_SQL + " WHERE d.id = ?", [document_id])
        if not rows:
            raise NotFound(f"no document with id {document_id}")
        return DocumentSummary(**rows[0])

    def document_ids(self) -> list[str]:
        """The ids of all documents."""
        return [r["id"] for r in self._rows("SELECT id FROM documents ORDER BY id")]

    def count_notes(self, document_id: str) -> int:
        """How many live annotations a document carries (said before deleting it)."""
        return self._db.execute(
            "SELECT count(*) FROM annotations WHERE document_id = ? AND NOT deleted",
            [document_id],
        ).fetchone()[0]

    def links_to_other_documents(self, document_id: str) -> int:
        """Live links between this document's notes and claims or evidence in other documents:
        what deleting it would cut elsewhere (said before deleting it)."""
        return self._db.execute(
            "SELECT count(*) FROM links l "
            "JOIN annotations c ON c.id = l.claim_id JOIN annotations e ON e.id = l.evidence_id "
            "WHERE NOT l.deleted AND NOT c.deleted AND NOT e.deleted "
            "AND (c.document_id = ?) != (e.document_id = ?)",
            [document_id, document_id],
        ).fetchone()[0]

    def delete_document(self, document_id: str) -> int:
        """Remove a document with its annotations and their links; returns the notes removed."""
        with self._tx():
            self.document_summary(document_id)
            annotation_ids = [
                r["id"]
                for r in self._rows(
                    "SELECT id FROM annotations WHERE document_id = ?", [document_id]
                )
            ]
            notes = self.count_notes(document_id)
            self._db.execute("DELETE FROM documents WHERE id = ?", [document_id])
            for annotation_id in annotation_ids:
                self._log("annotation", annotation_id, "delete")
            self._log("document", document_id, "delete")
        return notes

    # -- annotations ----------------------------------------------------------------------

    def annotate(
        self,
        document_id: str,
        start: int,
        end: int,
        *,
        author: Author,
        role: str = "highlight",
        note: str = "",
        tags: Iterable[str] = (),
    ) -> Annotation:
        """Add a highlight or claim on text[start:end], with its quote and context."""
        if role not in ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        with self._tx():
            length = self._length(document_id)
            if not (0 <= start < end <= length):
                raise InvalidInput(f"span {start}-{end} is not inside the document (0-{length})")
            stamp = now()
            annotation_id = new_id()
            # Only the span and its context are read, and the row goes in as plain SQL: the
            # whole text per note and sqlite-utils' insert made 5,000 notes on War and Peace
            # cost 12 ms each (issue 11).
            low = max(0, start - CONTEXT)
            window = self.text_at(document_id, low, end + CONTEXT - low) or ""
            near = quote_at(window, start - low, end - low)
            quote = Quote(near.exact, near.prefix, near.suffix, start, end)
            self._put(
                "annotations",
                annotation_id,
                {
                    "document_id": document_id,
                    "start": start,
                    "end": end,
                    "exact": quote.exact,
                    "prefix": quote.prefix,
                    "suffix": quote.suffix,
                    "role": role,
                    "note": _note(note),
                    "author_id": author.id,
                    "author_name": author.name,
                    "editor_id": author.id,
                    "editor_name": author.name,
                    "created": stamp,
                    "modified": stamp,
                    "deleted": 0,
                    "anchor_state": "ok",
                    "anchor_step": "position",
                },
                insert=True,
            )
            for name in tags:
                self._attach_tag(annotation_id, name)
            self._log("annotation", annotation_id, "insert")
        return self.annotation(annotation_id)

    def _text(self, document_id: str) -> str:
        row = self._db.execute("SELECT text FROM documents WHERE id = ?", [document_id]).fetchone()
        if row is None:
            raise NotFound(f"no document with id {document_id}")
        return row[0]

    def _put(self, table: str, record_id: str, values: dict[str, Any], *, insert: bool) -> None:
        # Plain SQL: sqlite-utils' insert() inspects the table on every call, which was most
        # of the time of merging 1,000 notes (0.14 s of 0.24 s, profiled).
        names = list(values)
        if insert:
            columns = ", ".join(f'"{n}"' for n in ["id", *names])
            marks = ", ".join("?" * (len(names) + 1))
            self._db.execute(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                [record_id, *values.values()],
            )
        else:
            assignments = ", ".join(f'"{n}" = ?' for n in names)
            self._db.execute(
                f"UPDATE {table} SET {assignments} WHERE id = ?", [*values.values(), record_id]
            )

    def _length(self, document_id: str) -> int:
        # The stored length, not len() of the text: a merge checks each of its notes against
        # it, and reading a 2 MB text per note made merging 1,000 notes 60% slower.
        row = self._db.execute(
            "SELECT length FROM documents WHERE id = ?", [document_id]
        ).fetchone()
        if row is None:
            raise NotFound(f"no document with id {document_id}")
        return row[0]

    def text_at(self, document_id: str, start: int, length: int) -> str | None:
        """`length` characters of a document's text from `start` (clipped at its end), read
        without loading the whole text; None when there is no such document."""
        row = self._db.execute(
            "SELECT substr(text, ?, ?) FROM documents WHERE id = ?",
            [start + 1, length, document_id],
        ).fetchone()
        return None if row is None else row[0]

    def recent_quotes(self, tag: str, limit: int = 8) -> list[tuple[str, str]]:
        """(quote, document title) of the newest live annotations carrying a tag or a tag
        nested under it."""
        rows = self._db.execute(
            "SELECT a.exact, d.title FROM annotations a "
            "JOIN annotation_tags at ON at.annotation_id = a.id "
            "JOIN tags t ON t.id = at.tag_id JOIN documents d ON d.id = a.document_id "
            "WHERE (t.name = ? OR t.name LIKE ? || '/%') AND NOT a.deleted "
            "ORDER BY a.created DESC LIMIT ?",
            [tag, tag, limit],
        ).fetchall()
        return [(exact, title) for exact, title in rows]

    def annotation(self, annotation_id: str) -> Annotation:
        """The annotation with this id (tombstones too)."""
        rows = self._rows("SELECT * FROM annotations WHERE id = ?", [annotation_id])
        if not rows:
            raise NotFound(f"no annotation with id {annotation_id}")
        return _annotation(rows[0], self._tags_of([annotation_id]).get(annotation_id, ()))

    def resolve_annotation(self, ref: str) -> Annotation:
        """An annotation named by id or a unique id prefix (4+ characters)."""
        rows = self._rows("SELECT id FROM annotations WHERE id = ?", [ref])
        if not rows and len(ref) >= 4:
            rows = self._rows("SELECT id FROM annotations WHERE id LIKE ? || '%'", [ref])
        if not rows:
            raise NotFound(f"no annotation matches {ref!r}")
        if len(rows) > 1:
            raise InvalidInput(f"{ref!r} matches {len(rows)} annotations; give more of the id")
        return self.annotation(rows[0]["id"])

    def own_span(self, document_id: str, start: int, end: int, author_id: str) -> Annotation | None:
        """This author's live annotation on exactly text[start:end], if there is one."""
        rows = self._rows(
            'SELECT id FROM annotations WHERE document_id = ? AND start = ? AND "end" = ? '
            "AND author_id = ? AND deleted = 0 ORDER BY created LIMIT 1",
            [document_id, start, end, author_id],
        )
        return self.annotation(rows[0]["id"]) if rows else None

    def annotations(
        self,
        document_id: str | None = None,
        *,
        role: str | None = None,
        include_deleted: bool = False,
    ) -> list[Annotation]:
        """Annotations in document order, filtered by document and role."""
        sql, params = _select(
            "annotations", {"document_id": document_id, "role": role}, include_deleted
        )
        # The tags come in the same query: a second pass over chunks of ids took a third of
        # the 58 ms that 5,000 notes of one book cost to read.
        sql = sql.replace("SELECT *", f"SELECT *, {_TAG_NAMES}", 1)
        rows = self._rows(sql + ' ORDER BY document_id, start, "end", created', params)
        return [_annotation(r, _split_tags(r.pop("tag_names"))) for r in rows]

    def _tags_of(self, annotation_ids: Sequence[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        # Chunked: SQLite caps the number of bound parameters.
        for i in range(0, len(annotation_ids), 500):
            chunk = annotation_ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for annotation_id, name in self._db.execute(
                f"SELECT at.annotation_id, t.name FROM annotation_tags at "
                f"JOIN tags t ON t.id = at.tag_id WHERE at.annotation_id IN ({marks})",
                chunk,
            ).fetchall():
                found.setdefault(annotation_id, []).append(name)
        return found

    def update_annotation(
        self,
        annotation_id: str,
        *,
        role: str | None = None,
        note: str | None = None,
        start: int | None = None,
        end: int | None = None,
        editor: Author | None = None,
    ) -> Annotation:
        """Change an annotation's role, note or span (a new span re-takes quote and context);
        `editor` is who made the change."""
        with self._tx():
            current = self.annotation(annotation_id)
            values: dict[str, Any] = _edited_by(editor)
            if role is not None:
                if role not in ROLES:
                    raise InvalidInput(f"role must be one of {', '.join(ROLES)}, not {role!r}")
                values["role"] = role
            if note is not None:
                values["note"] = _note(note)
            if start is not None or end is not None:
                text = self._text(current.document_id)
                s = current.start if start is None else start
                e = current.end if end is None else end
                if not (0 <= s < e <= len(text)):
                    raise InvalidInput(f"span {s}-{e} is not inside the document")
                step = "position"
                if current.anchor_state == "orphaned":
                    s, e, step = _orphan_in_span(text, current, s, e)
                quote = quote_at(text, s, e)
                values.update(
                    start=s,
                    end=e,
                    exact=quote.exact,
                    prefix=quote.prefix,
                    suffix=quote.suffix,
                    anchor_state="ok",
                    anchor_step=step,
                )
            self._db.table("annotations").update(annotation_id, values)
            self._log("annotation", annotation_id, "update")
        return self.annotation(annotation_id)

    def set_deleted(
        self, annotation_id: str, deleted: bool = True, *, editor: Author | None = None
    ) -> Annotation:
        """Tombstone an annotation (or bring it back); its links go quiet with it."""
        with self._tx():
            self.annotation(annotation_id)
            self._db.table("annotations").update(
                annotation_id, {"deleted": int(deleted), **_edited_by(editor)}
            )
            self._log("annotation", annotation_id, "update")
        return self.annotation(annotation_id)

    def set_tags(
        self, annotation_id: str, names: Iterable[str], *, editor: Author | None = None
    ) -> Annotation:
        """Replace an annotation's tags (new names create tags)."""
        with self._tx():
            self.annotation(annotation_id)
            self._db.execute("DELETE FROM annotation_tags WHERE annotation_id = ?", [annotation_id])
            for name in names:
                self._attach_tag(annotation_id, name)
            self._db.table("annotations").update(annotation_id, _edited_by(editor))
            self._log("annotation", annotation_id, "update")
        return self.annotation(annotation_id)

    def _attach_tag(self, annotation_id: str, name: str) -> None:
        tag = self.ensure_tag(name)
        self._db.execute(
            "INSERT OR IGNORE INTO annotation_tags (annotation_id, tag_id) VALUES (?, ?)",
            [annotation_id, tag.id],
        )

    # -- tags -----------------------------------------------------------------------------

    def tags(self) -> list[Tag]:
        """The codebook, by name, each with the number of live annotations carrying it."""
        rows = self._rows(
            "SELECT t.*, (SELECT count(*) FROM annotation_tags at JOIN annotations a "
            "ON a.id = at.annotation_id WHERE at.tag_id = t.id AND NOT a.deleted) AS count "
            "FROM tags t ORDER BY t.name"
        )
        return [Tag(**row) for row in rows]

    def tag(self, name: str) -> Tag:
        """The tag with this name."""
        rows = self._rows("SELECT *, 0 AS count FROM tags WHERE name = ?", [name])
        if not rows:
            raise NotFound(f"no tag named {name!r}")
        return Tag(**rows[0])

    def ensure_tag(self, name: str, colour: str | None = None, description: str = "") -> Tag:
        """The tag with this name, created (with the next palette colour) when missing."""
        name = tag_name(name)
        rows = self._rows("SELECT *, 0 AS count FROM tags WHERE name = ?", [name])
        if rows:
            return Tag(**rows[0])
        with self._tx():
            used = self._db.execute("SELECT count(*) FROM tags").fetchone()[0]
            tag = Tag(
                id=new_id(),
                name=name,
                colour=colour or TAG_PALETTE[used % len(TAG_PALETTE)],
                description=clean_field(description, 2000),
                created=now(),
            )
            self._db.table("tags").insert({k: v for k, v in tag.__dict__.items() if k != "count"})
            self._log("tag", tag.id, "insert")
        return tag

    def _annotations_tagged(self, tag_id: str) -> list[str]:
        return [
            r[0]
            for r in self._db.execute(
                "SELECT annotation_id FROM annotation_tags WHERE tag_id = ?", [tag_id]
            ).fetchall()
        ]

    def _sub_tags(self, name: str) -> list[dict]:
        """Tags nested under `name` (`econ/trade` under `econ`), shallowest first."""
        return self._rows(
            "SELECT id, name FROM tags WHERE substr(name, 1, ?) = ? ORDER BY length(name), name",
            [len(name) + 1, name + "/"],
        )

    def _alias(self, old: str, new: str | None) -> None:
        """Remember that tag `old` is now `new` (None: deleted), for bundles that still use
        the old name; names that pointed at `old` now point at `new` too."""
        self._db.execute("UPDATE tag_aliases SET new = ? WHERE new = ?", [new, old])
        self._db.execute(
            "INSERT INTO tag_aliases (old, new) VALUES (?, ?) "
            "ON CONFLICT (old) DO UPDATE SET new = excluded.new",
            [old, new],
        )
        if new is not None:
            self._db.execute("DELETE FROM tag_aliases WHERE old = ?", [new])

    def tag_alias(self, name: str) -> tuple[bool, str | None]:
        """(True, what the tag is called now, or None when it was deleted) for a tag this
        library renamed, merged or deleted; (False, name) for any other name."""
        rows = self._rows("SELECT new FROM tag_aliases WHERE old = ?", [name])
        if not rows or self._rows("SELECT id FROM tags WHERE name = ?", [name]):
            return False, name
        return True, rows[0]["new"]

    def _retag(self, tag_id: str, name: str) -> None:
        old = self._db.execute("SELECT name FROM tags WHERE id = ?", [tag_id]).fetchone()[0]
        self._alias(old, name)
        self._db.table("tags").update(tag_id, {"name": name})
        self._log("tag", tag_id, "update")
        for annotation_id in self._annotations_tagged(tag_id):
            self._log("annotation", annotation_id, "update")

    def _fold(self, source_id: str, target_id: str) -> None:
        names = dict(
            self._db.execute(
                "SELECT id, name FROM tags WHERE id IN (?, ?)", [source_id, target_id]
            ).fetchall()
        )
        self._alias(names[source_id], names[target_id])
        moved = self._annotations_tagged(source_id)
        self._db.execute(
            "INSERT OR IGNORE INTO annotation_tags (annotation_id, tag_id) "
            "SELECT annotation_id, ? FROM annotation_tags WHERE tag_id = ?",
            [target_id, source_id],
        )
        self._db.execute("DELETE FROM tags WHERE id = ?", [source_id])
        self._log("tag", source_id, "delete")
        for annotation_id in moved:
            self._log("annotation", annotation_id, "update")

    def rename_tag(self, old: str, new: str) -> Tag:
        """Rename a tag and the tags nested under it (`econ` to `economy` takes `econ/trade`
        to `economy/trade`), everywhere, in one transaction."""
        new = tag_name(new)
        with self._tx():
            tag = self.tag(old)
            if new == tag.name:
                return tag
            moves = [(tag.id, new)] + [
                (sub["id"], new + sub["name"][len(tag.name) :]) for sub in self._sub_tags(tag.name)
            ]
            for _, name in moves:
                if self._rows("SELECT id FROM tags WHERE name = ?", [name]):
                    raise InvalidInput(f"a tag named {name!r} exists; merge instead")
            for tag_id, name in moves:
                self._retag(tag_id, name)
        return self.tag(new)

    def merge_tags(self, source: str, target: str) -> Tag:
        """Move every use of tag `source` onto `target` and remove `source`; tags nested under
        `source` move under `target`, folding into any of the same name there."""
        with self._tx():
            src = self.tag(source)
            dst = self.ensure_tag(target)
            if src.id == dst.id:
                raise InvalidInput("a tag cannot be merged into itself")
            if dst.name.startswith(src.name + "/"):
                raise InvalidInput(f"#{dst.name} is inside #{src.name}; rename instead")
            for sub in self._sub_tags(src.name):
                name = dst.name + sub["name"][len(src.name) :]
                there = self._rows("SELECT id FROM tags WHERE name = ?", [name])
                if there:
                    self._fold(sub["id"], there[0]["id"])
                else:
                    self._retag(sub["id"], name)
            self._fold(src.id, dst.id)
        return self.tag(dst.name)

    def update_tag(
        self, name: str, *, colour: str | None = None, description: str | None = None
    ) -> Tag:
        """Recolour a tag or change its description."""
        with self._tx():
            tag = self.tag(name)
            values: dict[str, Any] = {}
            if colour is not None:
                values["colour"] = parse_colour(colour)
            if description is not None:
                values["description"] = clean_field(description, 2000)
            if values:
                self._db.table("tags").update(tag.id, values)
                self._log("tag", tag.id, "update")
        return self.tag(name)

    def delete_tag(self, name: str) -> int:
        """Remove a tag from the codebook and from every annotation; returns how many carried it."""
        with self._tx():
            tag = self.tag(name)
            tagged = self._annotations_tagged(tag.id)
            self._alias(tag.name, None)
            self._db.execute("DELETE FROM tags WHERE id = ?", [tag.id])
            self._log("tag", tag.id, "delete")
            for annotation_id in tagged:
                self._log("annotation", annotation_id, "update")
        return len(tagged)

    # -- links ----------------------------------------------------------------------------

    def link(
        self,
        claim_id: str,
        evidence_id: str,
        *,
        author: Author,
        relation: str = "supports",
        note: str = "",
    ) -> Link:
        """Link an annotation as evidence for a claim."""
        if relation not in RELATIONS:
            raise InvalidInput(f"relation must be one of {', '.join(RELATIONS)}, not {relation!r}")
        with self._tx():
            claim = self.annotation(claim_id)
            evidence = self.annotation(evidence_id)
            if claim.role != "claim":
                raise InvalidInput("evidence can only be linked to a claim")
            if claim.id == evidence.id:
                raise InvalidInput("a claim cannot be its own evidence")
            if claim.deleted or evidence.deleted:
                raise InvalidInput("cannot link a deleted annotation")
            stamp = now()
            link_id = new_id()
            self._db.table("links").insert(
                {
                    "id": link_id,
                    "claim_id": claim.id,
                    "evidence_id": evidence.id,
                    "relation": relation,
                    "note": _note(note),
                    "author_id": author.id,
                    "author_name": author.name,
                    "editor_id": author.id,
                    "editor_name": author.name,
                    "created": stamp,
                    "modified": stamp,
                    "deleted": 0,
                }
            )
            self._log("link", link_id, "insert")
        return self.get_link(link_id)

    def get_link(self, link_id: str) -> Link:
        """The link with this id."""
        rows = self._rows("SELECT * FROM links WHERE id = ?", [link_id])
        if not rows:
            raise NotFound(f"no link with id {link_id}")
        return _link(rows[0])

    def links(
        self,
        *,
        claim_id: str | None = None,
        evidence_id: str | None = None,
        include_deleted: bool = False,
    ) -> list[Link]:
        """Links of a claim, or to a piece of evidence, oldest first."""
        sql, params = _select(
            "links", {"claim_id": claim_id, "evidence_id": evidence_id}, include_deleted
        )
        return [_link(r) for r in self._rows(sql + " ORDER BY created, rowid", params)]

    def evidence_ids(self, document_id: str) -> set[str]:
        """The annotations of a document that are linked as evidence to some claim."""
        return {
            row[0]
            for row in self._db.execute(
                "SELECT DISTINCT l.evidence_id FROM links l JOIN annotations a "
                "ON a.id = l.evidence_id WHERE a.document_id = ? AND NOT l.deleted",
                [document_id],
            ).fetchall()
        }

    def set_link_deleted(
        self, link_id: str, deleted: bool = True, *, editor: Author | None = None
    ) -> Link:
        """Tombstone a link (or bring it back)."""
        with self._tx():
            self.get_link(link_id)
            self._db.table("links").update(link_id, {"deleted": int(deleted), **_edited_by(editor)})
            self._log("link", link_id, "update")
        return self.get_link(link_id)

    # -- reviews --------------------------------------------------------------------------

    def review(self, claim_id: str, verdict: str, *, reviewer: Author, comment: str = "") -> Review:
        """Record a verdict on a claim (appended; earlier verdicts stay in the history)."""
        if verdict not in VERDICTS:
            raise InvalidInput(f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
        with self._tx():
            claim = self.annotation(claim_id)
            if claim.role != "claim":
                raise InvalidInput("only a claim takes a verdict")
            review = Review(
                id=new_id(),
                claim_id=claim.id,
                verdict=verdict,
                comment=_note(comment),
                reviewer_id=reviewer.id,
                reviewer_name=reviewer.name,
                created=now(),
            )
            self._db.table("reviews").insert(review.__dict__)
            self._record_ground(review.id, claim.id)
            self._log("review", review.id, "insert")
        return review

    def reviews(self, claim_id: str | None = None) -> list[Review]:
        """The verdicts on a claim (or all), oldest first."""
        if claim_id is None:
            rows = self._rows("SELECT * FROM reviews ORDER BY created, rowid")
        else:
            rows = self._rows(
                "SELECT * FROM reviews WHERE claim_id = ? ORDER BY created, rowid", [claim_id]
            )
        return [Review(**r) for r in rows]

    # -- claims board -----------------------------------------------------------------------

    def claims(
        self,
        *,
        document_id: str | None = None,
        no_evidence: bool = False,
        unreviewed: bool = False,
        verdict: str | None = None,
        tag: str | None = None,
        order: str = "document",
    ) -> list[ClaimSummary]:
        """Live claims with evidence counts and latest verdict, filtered as the board asks.

        Args:
            tag: a tag name; its children (`econ` takes `econ/trade`) count too.
            order: "document" (by document, then position) or "date" (newest first).
        """
        where = ["a.role = 'claim'", "NOT a.deleted"]
        params: list[Any] = []
        if document_id is not None:
            where.append("a.document_id = ?")
            params.append(document_id)
        if tag is not None:
            where.append(
                "EXISTS (SELECT 1 FROM annotation_tags at JOIN tags t ON t.id = at.tag_id "
                "WHERE at.annotation_id = a.id AND (t.name = ? OR t.name LIKE ? || '/%'))"
            )
            params += [tag, tag]
        sql = f"""
            SELECT a.id AS claim_id, d.title AS document_title,
              sum(CASE WHEN l.relation = 'supports' THEN 1 ELSE 0 END) AS supports,
              sum(CASE WHEN l.relation = 'contradicts' THEN 1 ELSE 0 END) AS contradicts,
              sum(CASE WHEN l.relation = 'context' THEN 1 ELSE 0 END) AS context,
              sum(CASE WHEN e.anchor_state != 'ok' THEN 1 ELSE 0 END) AS evidence_not_ok,
              (SELECT r.verdict FROM reviews r WHERE r.claim_id = a.id
                 ORDER BY r.created DESC, r.rowid DESC LIMIT 1) AS verdict,
              (SELECT r.reviewer_name FROM reviews r WHERE r.claim_id = a.id
                 ORDER BY r.created DESC, r.rowid DESC LIMIT 1) AS reviewer_name,
              (SELECT max(r.created) FROM reviews r WHERE r.claim_id = a.id) AS reviewed_at
            FROM annotations a
            JOIN documents d ON d.id = a.document_id
            LEFT JOIN links l ON l.claim_id = a.id AND NOT l.deleted
              AND EXISTS (SELECT 1 FROM annotations x WHERE x.id = l.evidence_id AND NOT x.deleted)
            LEFT JOIN annotations e ON e.id = l.evidence_id
            WHERE {" AND ".join(where)}
            GROUP BY a.id
        """
        rows = self._rows(sql, params)
        by_id = {a.id: a for a in self._annotations_by_id([r["claim_id"] for r in rows])}
        found = []
        for row in rows:
            claim = by_id[row.pop("claim_id")]
            fields: dict[str, Any] = {k: (v or 0) if k in _COUNTS else v for k, v in row.items()}
            summary = ClaimSummary(claim=claim, **fields)
            if no_evidence and summary.evidence:
                continue
            if unreviewed and summary.verdict is not None:
                continue
            if verdict is not None and summary.verdict != verdict:
                continue
            found.append(summary)
        if order == "date":
            found.sort(key=lambda s: s.claim.created, reverse=True)
        else:
            found.sort(key=lambda s: (s.document_title.casefold(), s.claim.start))
        return found

    def _annotations_by_id(self, ids: Sequence[str]) -> list[Annotation]:
        found: list[Annotation] = []
        for i in range(0, len(ids), 500):
            chunk = list(ids[i : i + 500])
            marks = ",".join("?" * len(chunk))
            rows = self._rows(f"SELECT * FROM annotations WHERE id IN ({marks})", chunk)
            tags = self._tags_of([r["id"] for r in rows])
            found += [_annotation(r, tags.get(r["id"], ())) for r in rows]
        return found

    # -- change log -----------------------------------------------------------------------

    def data_version(self) -> int:
        """A number that changes when another connection (another process, or another thread
        of this one) commits to the library: SQLite's `PRAGMA data_version`, a cheap poll."""
        return self._db.execute("PRAGMA data_version").fetchone()[0]

    def max_seq(self) -> int:
        """The newest change-log sequence number (0 for an empty library)."""
        return self._db.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]

    def changes_since(self, seq: int, limit: int = 10_000) -> list[Change]:
        """Change-log entries after `seq`, oldest first, at most `limit`."""
        return [
            Change(*row)
            for row in self._db.execute(
                "SELECT seq, entity, id, op FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
                [seq, limit],
            ).fetchall()
        ]

    def integrity_problems(self) -> list[str]:
        """What SQLite's own checks find wrong with the file (empty when sound)."""
        try:
            problems = [
                row[0]
                for row in self._db.execute("PRAGMA integrity_check").fetchall()
                if row[0] != "ok"
            ]
            problems += [
                f"foreign key: {row[0]} row {row[1]} points at a missing {row[2]}"
                for row in self._db.execute("PRAGMA foreign_key_check").fetchall()
            ]
        except sqlite3.DatabaseError as error:  # damage bad enough to stop the check itself
            return [dbmod.explain(error)]
        if problems and not problems[0].startswith("foreign key"):
            problems.insert(
                0, dbmod.explain(sqlite3.DatabaseError("database disk image is malformed"))
            )
        return problems

    def quick_problems(self) -> list[str]:
        """SQLite's quick check of the file's structure (12-60 ms on the 57 MB corpus library).

        Run before the app opens, so damage is one clear line instead of a failure mid-session.
        """
        try:
            found = [row[0] for row in self._db.execute("PRAGMA quick_check").fetchall()]
        except sqlite3.DatabaseError as error:
            return [dbmod.explain(error)]
        if found == ["ok"]:
            return []
        return [dbmod.explain(sqlite3.DatabaseError("database disk image is malformed")), *found]

    def backup(self, target: Path) -> None:
        """A consistent copy of the library at `target` (VACUUM INTO; copying the file is not)."""
        if target.exists():
            raise InvalidInput(f"{target} exists; choose a new file name")
        target.parent.mkdir(parents=True, exist_ok=True)
        self._db.execute("VACUUM INTO ?", [str(target)])

    # -- import-grade writes: records that arrive whole (merge, .qdpx, new versions, undo) ----
    # Each validates what it writes and appends to `changes` in the same transaction, so the
    # index follows every write whoever asked for it; callers never touch the connection.

    def exists(self, entity: str, record_id: str) -> bool:
        """True when a document, annotation, link or review with this id is stored."""
        table = _TABLES[entity]
        return bool(self._rows(f"SELECT 1 AS x FROM {table} WHERE id = ?", [record_id]))

    def find_tag(self, name: str) -> Tag | None:
        """The tag with exactly this name, or None."""
        rows = self._rows("SELECT *, 0 AS count FROM tags WHERE name = ?", [name])
        return Tag(**rows[0]) if rows else None

    def tag_count(self) -> int:
        """How many tags the codebook holds."""
        return self._db.execute("SELECT count(*) FROM tags").fetchone()[0]

    def live_annotation_at(self, document_id: str, start: int, end: int) -> Annotation | None:
        """The oldest live annotation (anyone's) on exactly text[start:end], if there is one."""
        rows = self._rows(
            'SELECT id FROM annotations WHERE document_id = ? AND start = ? AND "end" = ? '
            "AND NOT deleted ORDER BY created, id LIMIT 1",
            [document_id, start, end],
        )
        return self.annotation(rows[0]["id"]) if rows else None

    def live_link(self, claim_id: str, evidence_id: str, relation: str) -> Link | None:
        """The live link with this claim, evidence and relation, if there is one."""
        rows = self._rows(
            "SELECT * FROM links WHERE claim_id = ? AND evidence_id = ? AND relation = ? "
            "AND NOT deleted LIMIT 1",
            [claim_id, evidence_id, relation],
        )
        return _link(rows[0]) if rows else None

    def put_document(self, doc: Document) -> Document:
        """Store a document that arrives whole, with its id and time (a bundle, a .qdpx).

        Its hash is taken from its text; an id or a text already stored is refused.
        """
        sha = text_sha256(doc.text)
        with self._tx():
            if self.exists("document", doc.id):
                raise InvalidInput(f"document {doc.id} is already in the library")
            if self.document_by_sha(sha) is not None:
                raise InvalidInput(f"the text of document {doc.id} is already in the library")
            self._db.table("documents").insert(
                {
                    "id": doc.id,
                    # As it comes: a bundle's reader and the .qdpx importer clean and cap it.
                    "title": doc.title or "untitled",
                    "author": doc.author,
                    "published": doc.published,
                    "source": doc.source,
                    "format": doc.format,
                    "sha256": sha,
                    "text": doc.text,
                    "length": len(doc.text),
                    "page_starts": json.dumps(doc.page_starts) if doc.page_starts else None,
                    "metadata": json.dumps(doc.metadata or {}, ensure_ascii=False, sort_keys=True),
                    "imported_at": doc.imported_at,
                }
            )
            self._log("document", doc.id, "insert")
        return self.document(doc.id)

    def put_naming(
        self,
        document_id: str,
        *,
        title: str,
        author: str | None,
        published: str | None,
        named_at: str,
    ) -> Document:
        """Give a document the title, author and date a bundle carries, named at `named_at`
        (a colleague's `margin retitle` newer than ours: the merge decides, this stores)."""
        with self._tx():
            metadata = dict(self.document(document_id).metadata)
            metadata["named_at"] = named_at
            self._db.table("documents").update(
                document_id,
                {
                    # As it comes: the bundle's reader cleans and caps it.
                    "title": title or "untitled",
                    "author": author,
                    "published": published,
                    "metadata": json.dumps(metadata, ensure_ascii=False, sort_keys=True),
                },
            )
            self._log("document", document_id, "update")
        return self.document(document_id)

    def replace_text(self, document_id: str, new: NewDocument) -> Document:
        """Give a document a new text (a new version), remembering the old text's hash.

        Its annotations are not moved here: the caller re-anchors each (`restore_anchor`) in
        the same transaction (see store.versions).
        """
        sha = text_sha256(new.text)
        with self._tx():
            current = self.document(document_id)
            other = self.document_by_sha(sha)
            if other is not None and other.id != document_id:
                raise InvalidInput(f"this text is already in the library as {other.title!r}")
            self._db.execute(
                "INSERT OR REPLACE INTO document_versions "
                "(document_id, sha256, text_length, replaced_at) VALUES (?, ?, ?, ?)",
                [document_id, current.sha256, len(current.text), now()],
            )
            self._db.table("documents").update(
                document_id,
                {
                    "text": new.text,
                    "sha256": sha,
                    "length": len(new.text),
                    "page_starts": json.dumps(new.page_starts) if new.page_starts else None,
                    "metadata": json.dumps(
                        dict(new.metadata or {}), ensure_ascii=False, sort_keys=True
                    ),
                    "imported_at": now(),
                },
            )
            self._log("document", document_id, "update")
        return self.document(document_id)

    def restore_anchor(
        self,
        annotation_id: str,
        *,
        start: int,
        end: int,
        exact: str,
        prefix: str,
        suffix: str,
        state: str,
        step: str,
    ) -> Annotation:
        """Set an annotation's anchor exactly as given (a re-anchoring, an undo), nothing else.

        The span must lie inside the document's text unless the annotation is orphaned (an
        orphan keeps its old span, which a shorter new text may no longer hold).
        """
        if state not in ANCHOR_STATES:
            raise InvalidInput(f"anchor state must be one of {', '.join(ANCHOR_STATES)}")
        with self._tx():
            current = self.annotation(annotation_id)
            length = self._length(current.document_id)
            if not 0 <= start <= end or (state != "orphaned" and end > length):
                raise InvalidInput(f"span {start}-{end} is not inside the document (0-{length})")
            self._put(
                "annotations",
                annotation_id,
                {
                    "start": start,
                    "end": end,
                    "exact": exact,
                    "prefix": prefix,
                    "suffix": suffix,
                    "anchor_state": state,
                    "anchor_step": step,
                },
                insert=False,
            )
            self._log("annotation", annotation_id, "update")
        return self.annotation(annotation_id)

    def put_annotation(self, annotation: Annotation) -> str:
        """Store an annotation that arrives whole (id, author, times, anchor, tags as given),
        adding it or replacing the stored row; returns "insert" or "update".

        Tags are named; a name not in the codebook is added to it.
        """
        a = annotation
        if a.role not in ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ROLES)}, not {a.role!r}")
        if a.anchor_state not in ANCHOR_STATES:
            raise InvalidInput(f"anchor state must be one of {', '.join(ANCHOR_STATES)}")
        with self._tx():
            length = self._length(a.document_id)
            # An orphan keeps its old span, which a shorter new text may no longer hold.
            if not 0 <= a.start <= a.end or (a.anchor_state != "orphaned" and a.end > length):
                raise InvalidInput(
                    f"annotation {a.id}: span {a.start}-{a.end} is not inside its document "
                    f"(0-{length})"
                )
            values = {
                "document_id": a.document_id,
                "start": a.start,
                "end": a.end,
                "exact": a.exact,
                "prefix": a.prefix,
                "suffix": a.suffix,
                "role": a.role,
                "note": _note(a.note),
                "author_id": a.author_id,
                "author_name": a.author_name,
                "editor_id": a.editor_id or a.author_id,
                "editor_name": a.editor_name or a.author_name,
                "created": a.created,
                "modified": a.modified,
                "deleted": int(a.deleted),
                "anchor_state": a.anchor_state,
                "anchor_step": a.anchor_step,
            }
            op = "update" if self.exists("annotation", a.id) else "insert"
            self._put("annotations", a.id, values, insert=op == "insert")
            self._db.execute("DELETE FROM annotation_tags WHERE annotation_id = ?", [a.id])
            for name in a.tags:
                self._attach_tag(a.id, name)
            self._log("annotation", a.id, op)
        return op

    def put_link(self, link: Link) -> str:
        """Store a link that arrives whole (id, author, times as given), adding it or replacing
        the stored row; returns "insert" or "update". Both ends must be stored."""
        if link.relation not in RELATIONS:
            raise InvalidInput(f"relation must be one of {', '.join(RELATIONS)}")
        with self._tx():
            for end in (link.claim_id, link.evidence_id):
                if not self.exists("annotation", end):
                    raise InvalidInput(f"link {link.id}: annotation {end} is not in the library")
            values = {
                "claim_id": link.claim_id,
                "evidence_id": link.evidence_id,
                "relation": link.relation,
                "note": _note(link.note),
                "author_id": link.author_id,
                "author_name": link.author_name,
                "editor_id": link.editor_id or link.author_id,
                "editor_name": link.editor_name or link.author_name,
                "created": link.created,
                "modified": link.modified,
                "deleted": int(link.deleted),
            }
            op = "update" if self.exists("link", link.id) else "insert"
            self._put("links", link.id, values, insert=op == "insert")
            self._log("link", link.id, op)
        return op

    def put_review(self, review: Review) -> Review:
        """Store a verdict that arrives whole (id, reviewer, time as given); verdicts are never
        changed, so an id already stored is refused."""
        if review.verdict not in VERDICTS:
            raise InvalidInput(f"verdict must be one of {', '.join(VERDICTS)}")
        with self._tx():
            if self.exists("review", review.id):
                raise InvalidInput(f"verdict {review.id} is already in the library")
            self.annotation(review.claim_id)
            values = {**review.__dict__, "comment": _note(review.comment)}
            del values["id"]
            self._put("reviews", review.id, values, insert=True)
            self._log("review", review.id, "insert")
        return review

    def review_row(self, review_id: str) -> Review | None:
        """The verdict with this id, or None."""
        rows = self._rows("SELECT * FROM reviews WHERE id = ?", [review_id])
        return Review(**rows[0]) if rows else None

    def link_row(self, link_id: str) -> Link | None:
        """The link with this id (tombstones too), or None."""
        rows = self._rows("SELECT * FROM links WHERE id = ?", [link_id])
        return _link(rows[0]) if rows else None

    def annotation_row(self, annotation_id: str) -> Annotation | None:
        """The annotation with this id (tombstones too), or None."""
        try:
            return self.annotation(annotation_id)
        except NotFound:
            return None

    # -- for the command line's new versions and restore ---------------------------------

    def set_source(self, document_id: str, source: str) -> Document:
        """Record where a document's current version was read from (a new file for a new version)."""
        with self._tx():
            self.document(document_id)
            self._db.table("documents").update(document_id, {"source": source})
            self._log("document", document_id, "update")
        return self.document(document_id)

    def retitle(
        self,
        document_id: str,
        title: str | None = None,
        *,
        author: str | None = None,
        published: str | None = None,
    ) -> Document:
        """Name a document: its title, author and date as the reader wants them shown.

        An empty author or date clears it; None leaves it. The time of the change goes in the
        document's metadata (`named_at`), which bundles carry, so a merge keeps the newer
        naming. The index re-files the document's passages under the new title.
        """
        changes: dict[str, Any] = {}
        if title is not None:
            cleaned = clean_field(title, 500)
            if not cleaned:
                raise InvalidInput("a title cannot be empty")
            changes["title"] = cleaned
        if author is not None:
            changes["author"] = clean_field(author, 500) or None
        if published is not None:
            changes["published"] = _date(published)
        if not changes:
            raise InvalidInput("nothing to change: give a title, an author or a date")
        with self._tx():
            document = self.document(document_id)
            metadata = dict(document.metadata)
            metadata["named_at"] = now()
            changes["metadata"] = json.dumps(metadata, ensure_ascii=False, sort_keys=True)
            self._db.table("documents").update(document_id, changes)
            self._log("document", document_id, "update")
        return self.document(document_id)

    def last_change(self) -> tuple[int, str]:
        """(the change log's last seq, the time of the newest stored record, or "")."""
        newest = self._db.execute(
            "SELECT max(t) FROM (SELECT max(imported_at) AS t FROM documents "
            "UNION ALL SELECT max(modified) FROM annotations "
            "UNION ALL SELECT max(modified) FROM links "
            "UNION ALL SELECT max(created) FROM reviews "
            "UNION ALL SELECT max(created) FROM tags)"
        ).fetchone()[0]
        return self.max_seq(), newest or ""

    def text_lengths(self) -> dict[str, int]:
        """Each document's id with the length of its stored text (as SQLite counts it now, not
        the recorded `length`: `check` compares anchors against the text itself)."""
        return dict(self._db.execute("SELECT id, length(text) FROM documents").fetchall())

    @property
    def reader(self) -> StoreReader:
        """Read-only SQL over the library, for the index's catch-up (SELECT and WITH only)."""
        return _Reader(self._db)

    # -- what verdicts judged (store.staleness) -------------------------------------------

    def _live_evidence(self, claim_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        """For each claim: its live links (evidence not deleted) -> the evidence's anchor state."""
        found: dict[str, dict[str, str]] = {claim_id: {} for claim_id in claim_ids}
        for i in range(0, len(claim_ids), 500):
            chunk = list(claim_ids[i : i + 500])
            marks = ",".join("?" * len(chunk))
            for claim_id, link_id, state in self._db.execute(
                "SELECT l.claim_id, l.id, e.anchor_state FROM links l "
                "JOIN annotations e ON e.id = l.evidence_id "
                f"WHERE l.claim_id IN ({marks}) AND NOT l.deleted AND NOT e.deleted",
                chunk,
            ).fetchall():
                found[claim_id][link_id] = state
        return found

    def _record_ground(self, review_id: str, claim_id: str) -> None:
        # Called inside the verdict's own transaction, so a verdict never exists without it.
        claim = self.annotation(claim_id)
        self._db.table("review_grounds").insert(
            {
                "review_id": review_id,
                "quote": claim.exact,
                "claim_state": claim.anchor_state,
                "evidence": json.dumps(self._live_evidence([claim_id])[claim_id], sort_keys=True),
                "recorded": now(),
            },
            replace=True,
        )

    def record_missing_grounds(self) -> int:
        """Give verdicts that arrived without a ground (by merge or REFI-QDA import) the ground
        the claim has here now; returns how many were recorded.

        A bundle carries the verdict, not what its reviewer saw, so a merged verdict is judged
        against this library as it stands when it arrives, and goes stale when that moves.
        """
        with self._tx():
            missing = self._rows(
                "SELECT r.id, r.claim_id FROM reviews r "
                "WHERE NOT EXISTS (SELECT 1 FROM review_grounds g WHERE g.review_id = r.id)"
            )
            for row in missing:
                self._record_ground(row["id"], row["claim_id"])
        return len(missing)

    def staleness(self, claim_ids: Sequence[str] | None = None) -> dict[str, Staleness]:
        """For each live claim with a verdict (or those given): how its ground moved since its
        latest verdict. Claims whose latest verdict has no recorded ground are left out."""
        sql = """
            SELECT a.id AS claim_id, a.exact, a.anchor_state, r.id AS review_id, r.verdict,
                   r.created, g.review_id AS ground_id, g.quote, g.claim_state, g.evidence
            FROM annotations a
            JOIN reviews r ON r.id = (SELECT r2.id FROM reviews r2 WHERE r2.claim_id = a.id
                                      ORDER BY r2.created DESC, r2.rowid DESC LIMIT 1)
            JOIN review_grounds g ON g.review_id = r.id
            WHERE a.role = 'claim' AND NOT a.deleted
        """
        rows = self._rows(sql)
        if claim_ids is not None:
            wanted = set(claim_ids)
            rows = [r for r in rows if r["claim_id"] in wanted]
        evidence = self._live_evidence([r["claim_id"] for r in rows])
        return {
            row["claim_id"]: compare(
                Ground(
                    row["ground_id"],
                    row["quote"],
                    row["claim_state"],
                    json.loads(row["evidence"] or "{}"),
                ),
                claim_id=row["claim_id"],
                verdict=row["verdict"],
                verdict_created=row["created"],
                quote=row["exact"],
                claim_state=row["anchor_state"],
                evidence=evidence[row["claim_id"]],
            )
            for row in rows
        }


_TABLES = {
    "document": "documents",
    "annotation": "annotations",
    "link": "links",
    "review": "reviews",
}


class StoreReader(Protocol):
    """What the index may do with the library's file: read it."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor: ...


class _Reader:
    """Read-only access to the library's connection: the index reads rows in bulk with its own
    SQL (one query per batch, not a record per row), but never writes."""

    def __init__(self, db: Any) -> None:
        self._db = db

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Run a SELECT (or WITH ... SELECT) and return its cursor."""
        if sql.lstrip().split(None, 1)[0].upper() not in ("SELECT", "WITH"):
            raise ValueError("the store reader only reads")
        return self._db.execute(sql, params)


_COUNTS = {"supports", "contradicts", "context", "evidence_not_ok"}


class _Joined:
    """A no-op transaction for calls made inside a caller's transaction."""

    def __init__(self, db: Any) -> None:
        self._db = db

    def __enter__(self) -> Any:
        return self._db

    def __exit__(self, *exc: object) -> None:
        return None


def _select(table: str, equal: dict[str, Any], include_deleted: bool) -> tuple[str, list[Any]]:
    """SELECT * from a table with tombstones, where each non-None value must match."""
    wanted = {column: value for column, value in equal.items() if value is not None}
    where = [f"{column} = ?" for column in wanted]
    if not include_deleted:
        where.append("NOT deleted")
    sql = f"SELECT * FROM {table}" + (" WHERE " + " AND ".join(where) if where else "")
    return sql, list(wanted.values())


def tag_name(name: str) -> str:
    """A tag name as stored: cleaned, spaces folded, no leading "#", slashes trimmed; an empty
    one is refused."""
    # A leading "#" is how tags are shown, so people type it; it is not part of the name.
    bare = clean_field(name, 200).strip().lstrip("#")
    cleaned = "/".join(part.strip() for part in bare.split("/") if part.strip())
    if not cleaned:
        raise InvalidInput(f"{name!r} is not a tag name")
    return cleaned


def parse_colour(value: str) -> str:
    """A colour as stored: #rrggbb, lower case; anything else is refused."""
    value = value.strip().lower()
    if re.fullmatch(r"#[0-9a-f]{6}", value):
        return value
    if re.fullmatch(r"#[0-9a-f]{3}", value):
        return "#" + "".join(c * 2 for c in value[1:])
    raise InvalidInput(f"{value!r} is not a colour: write it as #rrggbb")


def _note(text: str) -> str:
    if len(text) > MAX_NOTE:
        raise InvalidInput(f"a note is at most {MAX_NOTE:,} characters")
    return ingest_clean(text)[0]


def _date(value: str) -> str | None:
    """A document date as stored: YYYY, YYYY-MM or YYYY-MM-DD; empty clears it."""
    value = value.strip()
    if not value:
        return None
    if re.fullmatch(r"\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?", value):
        return value
    raise InvalidInput(f"{value!r} is not a date: write it as YYYY, YYYY-MM or YYYY-MM-DD")


def _orphan_in_span(text: str, orphan: Annotation, start: int, end: int) -> tuple[int, int, str]:
    """Where an orphan's own quote stands inside the stretch a person chose to re-attach it to
    (exactly or folded; by context when it stands there twice), else the stretch as chosen."""
    quote = Quote(orphan.exact, orphan.prefix, orphan.suffix, orphan.start, orphan.end)
    found = anchor_within(text, quote, start, end)
    if found.state == "orphaned":
        return start, end, "position"
    return found.start, found.end, found.step
