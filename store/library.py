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
from store.errors import InvalidInput, LibraryError, NotFound
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
from store.schema import RELATIONS, ROLES, VERDICTS
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
# Characters of context kept each side of a quote, to find it again when the text changes.
CONTEXT = 32


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
    )


def _link(row: dict[str, Any]) -> Link:
    return Link(**{**row, "deleted": bool(row["deleted"])})


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


class Library:
    """One margin library file. Open one per thread; close it when done."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.db = dbmod.connect(self.path)
        try:
            migrate(self.db)
        except sqlite3.DatabaseError as error:
            self.db.conn.close()
            raise LibraryError(f"{self.path}: {dbmod.explain(error)}") from error

    def close(self) -> None:
        """Close the connection (the WAL is checkpointed by SQLite on the last close)."""
        self.db.conn.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing -------------------------------------------------------------------------

    def _rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict]:
        cursor = self.db.execute(sql, params)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _log(self, entity: str, record_id: str, op: str) -> None:
        self.db.execute(
            "INSERT INTO changes (entity, id, op) VALUES (?, ?, ?)", (entity, record_id, op)
        )

    def write(self):  # noqa: ANN201 - a context manager, see store.db.write
        """A write transaction for several calls that must land together."""
        return dbmod.write(self.db)

    def _in_write(self) -> bool:
        return self.db.conn.in_transaction

    def _tx(self):  # noqa: ANN202
        # Join the caller's transaction when there is one, so batches stay atomic.
        if self._in_write():
            return _Joined(self.db)
        return dbmod.write(self.db)

    # -- documents ------------------------------------------------------------------------

    def add_document(self, new: NewDocument) -> tuple[Document, bool]:
        """Store an extracted document; returns it and False when the same text was there."""
        sha = text_sha256(new.text)
        with self._tx():
            existing = self._rows("SELECT * FROM documents WHERE sha256 = ?", [sha])
            if existing:
                return _document(existing[0]), False
            doc_id = new_id()
            self.db.table("documents").insert(
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
        return self.db.execute(
            "SELECT count(*) FROM annotations WHERE document_id = ? AND NOT deleted",
            [document_id],
        ).fetchone()[0]

    def links_to_other_documents(self, document_id: str) -> int:
        """Live links between this document's notes and claims or evidence in other documents:
        what deleting it would cut elsewhere (said before deleting it)."""
        return self.db.execute(
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
            self.db.execute("DELETE FROM documents WHERE id = ?", [document_id])
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
            text = self._text(document_id)
            if not (0 <= start < end <= len(text)):
                raise InvalidInput(f"span {start}-{end} is not inside the document (0-{len(text)})")
            stamp = now()
            annotation_id = new_id()
            self.db.table("annotations").insert(
                {
                    "id": annotation_id,
                    "document_id": document_id,
                    "start": start,
                    "end": end,
                    "exact": text[start:end],
                    "prefix": text[max(0, start - CONTEXT) : start],
                    "suffix": text[end : end + CONTEXT],
                    "role": role,
                    "note": _note(note),
                    "author_id": author.id,
                    "author_name": author.name,
                    "created": stamp,
                    "modified": stamp,
                    "deleted": 0,
                    "anchor_state": "ok",
                    "anchor_step": "position",
                }
            )
            for name in tags:
                self._attach_tag(annotation_id, name)
            self._log("annotation", annotation_id, "insert")
        return self.annotation(annotation_id)

    def _text(self, document_id: str) -> str:
        row = self.db.execute("SELECT text FROM documents WHERE id = ?", [document_id]).fetchone()
        if row is None:
            raise NotFound(f"no document with id {document_id}")
        return row[0]

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
        rows = self._rows(sql + ' ORDER BY document_id, start, "end", created', params)
        tags = self._tags_of([r["id"] for r in rows]) if rows else {}
        return [_annotation(r, tags.get(r["id"], ())) for r in rows]

    def _tags_of(self, annotation_ids: Sequence[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        # Chunked: SQLite caps the number of bound parameters.
        for i in range(0, len(annotation_ids), 500):
            chunk = annotation_ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for annotation_id, name in self.db.execute(
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
    ) -> Annotation:
        """Change an annotation's role, note or span (a new span re-takes quote and context)."""
        with self._tx():
            current = self.annotation(annotation_id)
            values: dict[str, Any] = {"modified": now()}
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
                values.update(
                    start=s,
                    end=e,
                    exact=text[s:e],
                    prefix=text[max(0, s - CONTEXT) : s],
                    suffix=text[e : e + CONTEXT],
                    anchor_state="ok",
                    anchor_step="position",
                )
            self.db.table("annotations").update(annotation_id, values)
            self._log("annotation", annotation_id, "update")
        return self.annotation(annotation_id)

    def set_deleted(self, annotation_id: str, deleted: bool = True) -> Annotation:
        """Tombstone an annotation (or bring it back); its links go quiet with it."""
        with self._tx():
            self.annotation(annotation_id)
            self.db.table("annotations").update(
                annotation_id, {"deleted": int(deleted), "modified": now()}
            )
            self._log("annotation", annotation_id, "update")
        return self.annotation(annotation_id)

    def set_tags(self, annotation_id: str, names: Iterable[str]) -> Annotation:
        """Replace an annotation's tags (new names create tags)."""
        with self._tx():
            self.annotation(annotation_id)
            self.db.execute("DELETE FROM annotation_tags WHERE annotation_id = ?", [annotation_id])
            for name in names:
                self._attach_tag(annotation_id, name)
            self.db.table("annotations").update(annotation_id, {"modified": now()})
            self._log("annotation", annotation_id, "update")
        return self.annotation(annotation_id)

    def _attach_tag(self, annotation_id: str, name: str) -> None:
        tag = self.ensure_tag(name)
        self.db.execute(
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
            used = self.db.execute("SELECT count(*) FROM tags").fetchone()[0]
            tag = Tag(
                id=new_id(),
                name=name,
                colour=colour or TAG_PALETTE[used % len(TAG_PALETTE)],
                description=clean_field(description, 2000),
                created=now(),
            )
            self.db.table("tags").insert({k: v for k, v in tag.__dict__.items() if k != "count"})
            self._log("tag", tag.id, "insert")
        return tag

    def _annotations_tagged(self, tag_id: str) -> list[str]:
        return [
            r[0]
            for r in self.db.execute(
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
        self.db.execute("UPDATE tag_aliases SET new = ? WHERE new = ?", [new, old])
        self.db.execute(
            "INSERT INTO tag_aliases (old, new) VALUES (?, ?) "
            "ON CONFLICT (old) DO UPDATE SET new = excluded.new",
            [old, new],
        )
        if new is not None:
            self.db.execute("DELETE FROM tag_aliases WHERE old = ?", [new])

    def tag_alias(self, name: str) -> tuple[bool, str | None]:
        """(True, what the tag is called now, or None when it was deleted) for a tag this
        library renamed, merged or deleted; (False, name) for any other name."""
        rows = self._rows("SELECT new FROM tag_aliases WHERE old = ?", [name])
        if not rows or self._rows("SELECT id FROM tags WHERE name = ?", [name]):
            return False, name
        return True, rows[0]["new"]

    def _retag(self, tag_id: str, name: str) -> None:
        old = self.db.execute("SELECT name FROM tags WHERE id = ?", [tag_id]).fetchone()[0]
        self._alias(old, name)
        self.db.table("tags").update(tag_id, {"name": name})
        self._log("tag", tag_id, "update")
        for annotation_id in self._annotations_tagged(tag_id):
            self._log("annotation", annotation_id, "update")

    def _fold(self, source_id: str, target_id: str) -> None:
        names = dict(
            self.db.execute(
                "SELECT id, name FROM tags WHERE id IN (?, ?)", [source_id, target_id]
            ).fetchall()
        )
        self._alias(names[source_id], names[target_id])
        moved = self._annotations_tagged(source_id)
        self.db.execute(
            "INSERT OR IGNORE INTO annotation_tags (annotation_id, tag_id) "
            "SELECT annotation_id, ? FROM annotation_tags WHERE tag_id = ?",
            [target_id, source_id],
        )
        self.db.execute("DELETE FROM tags WHERE id = ?", [source_id])
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
                self.db.table("tags").update(tag.id, values)
                self._log("tag", tag.id, "update")
        return self.tag(name)

    def delete_tag(self, name: str) -> int:
        """Remove a tag from the codebook and from every annotation; returns how many carried it."""
        with self._tx():
            tag = self.tag(name)
            tagged = self._annotations_tagged(tag.id)
            self._alias(tag.name, None)
            self.db.execute("DELETE FROM tags WHERE id = ?", [tag.id])
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
            self.db.table("links").insert(
                {
                    "id": link_id,
                    "claim_id": claim.id,
                    "evidence_id": evidence.id,
                    "relation": relation,
                    "note": _note(note),
                    "author_id": author.id,
                    "author_name": author.name,
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
            for row in self.db.execute(
                "SELECT DISTINCT l.evidence_id FROM links l JOIN annotations a "
                "ON a.id = l.evidence_id WHERE a.document_id = ? AND NOT l.deleted",
                [document_id],
            ).fetchall()
        }

    def set_link_deleted(self, link_id: str, deleted: bool = True) -> Link:
        """Tombstone a link (or bring it back)."""
        with self._tx():
            self.get_link(link_id)
            self.db.table("links").update(link_id, {"deleted": int(deleted), "modified": now()})
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
            self.db.table("reviews").insert(review.__dict__)
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

    def max_seq(self) -> int:
        """The newest change-log sequence number (0 for an empty library)."""
        return self.db.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]

    def changes_since(self, seq: int, limit: int = 10_000) -> list[Change]:
        """Change-log entries after `seq`, oldest first, at most `limit`."""
        return [
            Change(*row)
            for row in self.db.execute(
                "SELECT seq, entity, id, op FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
                [seq, limit],
            ).fetchall()
        ]

    def integrity_problems(self) -> list[str]:
        """What SQLite's own checks find wrong with the file (empty when sound)."""
        try:
            problems = [
                row[0]
                for row in self.db.execute("PRAGMA integrity_check").fetchall()
                if row[0] != "ok"
            ]
            problems += [
                f"foreign key: {row[0]} row {row[1]} points at a missing {row[2]}"
                for row in self.db.execute("PRAGMA foreign_key_check").fetchall()
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
            found = [row[0] for row in self.db.execute("PRAGMA quick_check").fetchall()]
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
        self.db.execute("VACUUM INTO ?", [str(target)])

    # -- what verdicts judged (store.staleness) -------------------------------------------

    def _live_evidence(self, claim_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        """For each claim: its live links (evidence not deleted) -> the evidence's anchor state."""
        found: dict[str, dict[str, str]] = {claim_id: {} for claim_id in claim_ids}
        for i in range(0, len(claim_ids), 500):
            chunk = list(claim_ids[i : i + 500])
            marks = ",".join("?" * len(chunk))
            for claim_id, link_id, state in self.db.execute(
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
        self.db.table("review_grounds").insert(
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


_COUNTS = {"supports", "contradicts", "context", "evidence_not_ok"}


class _Joined:
    """A no-op transaction for calls made inside a caller's transaction."""

    def __init__(self, db: Any) -> None:
        self.db = db

    def __enter__(self) -> Any:
        return self.db

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
