"""Merge a colleague's bundle into the library: one transaction, nothing of anyone overwritten.

Rules (DESIGN.md "Exchange", research/standards.md 5.3, reliability.md R5):
- records are matched by id; documents by id, then text sha256, then source URL (web
  addresses only); new records are added, tombstones too;
- a different author's version of an id never overwrites: it is stored as a conflict (both
  versions kept) that the user resolves later (`resolve_conflict`); a tombstone from another
  author is such a conflict too;
- the same author's version wins when it is newer, unless both sides changed the record
  since they last exchanged it: that is a conflict as well. To tell the two apart, every
  export and merge remembers the versions it has seen (`exchange_versions`) and the version
  the local record was last equal to (`exchange_base`); an exported record names the version
  it was derived from (`margin:previous`);
- verdicts are append-only; tag colours and descriptions already here are kept;
- where the receiver's text differs, annotations are re-anchored by quote and context
  (store.anchoring); those not found are stored as orphaned and listed, never dropped;
- annotations on a document that is neither here nor in the bundle are listed, not stored.
Every write appends to `changes` in the same transaction. Merging the same bundle twice
changes nothing.

Tables this module owns (created with CREATE TABLE IF NOT EXISTS inside the transaction;
to become a schema migration): see `DDL`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from store import schema
from store.errors import InvalidInput, NotFound
from store.library import CONTEXT, TAG_PALETTE, Library
from store.records import Annotation, Author, Document, Link, new_id, now

from .validate import (
    DEFAULT_LIMITS,
    Bundle,
    InAnnotation,
    InDocument,
    InLink,
    InReview,
    Limits,
    normal_time,
    read_bundle,
    show,
)

# The exchange tables are part of the schema (version 3); see store.schema.V3.
DDL = schema.V3


def ensure_tables(lib: Library) -> None:
    """Create the exchange tables when missing (call inside a write transaction)."""
    for statement in DDL.split(";"):
        if statement.strip():
            lib.db.execute(statement)


def _has_tables(lib: Library) -> bool:
    return bool(
        lib.db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'exchange_conflicts'"
        ).fetchone()
    )


# -- versions --------------------------------------------------------------------------------------


def _digest(payload: list) -> str:
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(data.encode("utf-8")).hexdigest()


def annotation_version(a: Annotation | InAnnotation) -> str:
    """The version of an annotation: what its author controls, not where it sits in a text."""
    return _digest(
        [
            a.author_id,
            a.role,
            a.note,
            sorted(a.tags),
            bool(a.deleted),
            normal_time(a.created),
            normal_time(a.modified),
        ]
    )


def link_version(link: Link | InLink) -> str:
    """The version of a link."""
    return _digest(
        [
            link.author_id,
            link.claim_id,
            link.evidence_id,
            link.relation,
            link.note,
            bool(link.deleted),
            normal_time(link.created),
            normal_time(link.modified),
        ]
    )


def _base(lib: Library, entity: str, record_id: str) -> tuple[str, str | None] | None:
    row = lib.db.execute(
        "SELECT version, parent FROM exchange_base WHERE entity = ? AND record_id = ?",
        [entity, record_id],
    ).fetchone()
    return (row[0], row[1]) if row else None


def _known(lib: Library, entity: str, record_id: str) -> set[str]:
    return {
        r[0]
        for r in lib.db.execute(
            "SELECT version FROM exchange_versions WHERE entity = ? AND record_id = ?",
            [entity, record_id],
        ).fetchall()
    }


def _remember(
    lib: Library, entity: str, record_id: str, version: str, parent: str | None, *, base: bool
) -> None:
    lib.db.execute(
        "INSERT OR IGNORE INTO exchange_versions (entity, record_id, version, parent, seen) "
        "VALUES (?, ?, ?, ?, ?)",
        [entity, record_id, version, parent, now()],
    )
    if base and _base(lib, entity, record_id) != (version, parent):
        lib.db.execute(
            "INSERT OR REPLACE INTO exchange_base (entity, record_id, version, parent) "
            "VALUES (?, ?, ?, ?)",
            [entity, record_id, version, parent],
        )


def export_parent(lib: Library, entity: str, record_id: str, version: str) -> str | None:
    """The version an exported record derives from (and remember that it was exported)."""
    found = _base(lib, entity, record_id)
    if found is None:
        parent = None
    elif found[0] == version:
        parent = found[1]
    else:
        parent = found[0]  # edited here since it was last exchanged
    _remember(lib, entity, record_id, version, parent, base=True)
    return parent


# -- reports ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Conflict:
    """Two versions of one record that merge would not choose between."""

    id: str
    entity: str
    record_id: str
    reason: str
    mine: dict
    theirs: dict
    source: str
    detected: str
    resolved: str | None = None
    resolution: str | None = None

    def line(self) -> str:
        """One line for the user."""
        return f"{self.entity} {self.record_id}: {self.reason}"


@dataclass
class MergeReport:
    """What a merge did: counts, and one line for every record that needs a look."""

    source: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_newer: int = 0
    conflicts: list[Conflict] = field(default_factory=list)
    orphaned: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    counts: dict[str, Counter] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        """True when the merge wrote notes (added, updated or new conflicts)."""
        return bool(self.added or self.updated)

    def count(self, entity: str, outcome: str) -> None:
        """Count one record's outcome."""
        self.counts.setdefault(entity, Counter())[outcome] += 1
        if outcome in ("added", "updated", "unchanged", "kept_newer"):
            setattr(self, outcome, getattr(self, outcome) + 1)

    def summary(self) -> str:
        """The report's first line."""
        return (
            f"{self.source}: {self.added} added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.kept_newer} kept newer, "
            f"{len(self.conflicts)} conflicts, {len(self.orphaned)} orphaned, "
            f"{len(self.rejected)} rejected"
            + (f", {len(self.skipped)} documents missing" if self.skipped else "")
        )

    def lines(self) -> list[str]:
        """The whole report, one line per item, for the CLI and the app."""
        found = [self.summary()]
        found += [f"  conflict  {c.line()}" for c in self.conflicts]
        found += [f"  orphaned  {line}" for line in self.orphaned]
        found += [f"  missing   {line}" for line in self.skipped]
        found += [f"  rejected  {line}" for line in self.rejected]
        found += [f"  note      {line}" for line in self.notices]
        return found


# -- the merge -------------------------------------------------------------------------------------


_WEB = re.compile(r"https?://\S+", re.IGNORECASE)


def _annotation_row(row: dict, tags: list[str]) -> Annotation:
    return Annotation(**{**row, "deleted": bool(row["deleted"]), "tags": tuple(sorted(tags))})


class _Merger:
    def __init__(self, lib: Library, report: MergeReport, source: str, import_id: str) -> None:
        self.lib = lib
        self.report = report
        self.source = source
        self.import_id = import_id
        self.docs: dict[str, Document | None] = {}
        self.bundle_docs: dict[str, InDocument] = {}
        self.missing: Counter = Counter()
        self.skipped_ids: set[str] = set()
        self.tag_ids: dict[str, str | None] = {}
        self.said_aliases: set[str] = set()
        self._anchoring: Any = None
        self.anchored: dict[tuple[str, str], Any] = {}

    # documents ------------------------------------------------------------------------------
    def _local_document(self, row_id: str) -> Document | None:
        try:
            return self.lib.document(row_id)
        except NotFound:
            return None

    def documents(self, incoming: list[InDocument]) -> None:
        for doc in incoming:
            self.bundle_docs[doc.id] = doc
            local = (
                self._local_document(doc.id)
                or self.lib.document_by_sha(doc.sha256)
                or (
                    self.lib.document_by_source(doc.source)
                    if doc.source and _WEB.fullmatch(doc.source)
                    else None
                )
            )
            if local is not None:
                self.docs[doc.id] = self._newer_naming(local, doc)
                continue
            if doc.text is None:
                self.docs[doc.id] = None
                continue
            self.docs[doc.id] = self._insert_document(doc)

    def _newer_naming(self, local: Document, doc: InDocument) -> Document:
        """The local document, with the bundle's title, author and date when they were set
        later (`margin retitle` stamps `named_at`; an import is never newer than a naming)."""
        found = doc.metadata.get("named_at") if isinstance(doc.metadata, dict) else None
        theirs = found if isinstance(found, str) else ""
        mine = local.metadata.get("named_at")
        ours = mine if isinstance(mine, str) else ""
        same = (local.title, local.author, local.published) == (
            doc.title,
            doc.author,
            doc.published,
        )
        if same or ours >= theirs:
            newer = not same and theirs and ours > theirs
            self.report.count("document", "kept_newer" if newer else "unchanged")
            return local
        metadata = dict(local.metadata)
        metadata["named_at"] = theirs
        self.lib.db.table("documents").update(
            local.id,
            {
                "title": doc.title,
                "author": doc.author,
                "published": doc.published,
                "metadata": json.dumps(metadata, ensure_ascii=False, sort_keys=True),
            },
        )
        self.lib._log("document", local.id, "update")
        self.report.count("document", "updated")
        return self.lib.document(local.id)

    def _insert_document(self, doc: InDocument) -> Document:
        from store.library import text_sha256
        from store.sanitize import ingest_clean

        text = ingest_clean(doc.text or "")[0]
        sha = text_sha256(text)
        same = self.lib.document_by_sha(sha)
        if same is not None:  # the cleaned text is one we hold
            self.report.count("document", "unchanged")
            return same
        if text != doc.text:
            self.report.notices.append(
                f"document {doc.id}: its text held control characters; they were removed and "
                "its annotations re-anchored"
            )
        self.lib.db.table("documents").insert(
            {
                "id": doc.id,
                "title": doc.title,
                "author": doc.author,
                "published": doc.published,
                "source": doc.source,
                "format": doc.format,
                "sha256": sha,
                "text": text,
                "length": len(text),
                "page_starts": json.dumps(doc.page_starts) if doc.page_starts else None,
                "metadata": json.dumps(doc.metadata or {}, ensure_ascii=False, sort_keys=True),
                "imported_at": now(),
            }
        )
        self.lib._log("document", doc.id, "insert")
        self.report.count("document", "added")
        return self.lib.document(doc.id)

    def document_for(self, document_id: str) -> Document | None:
        if document_id not in self.docs:
            self.docs[document_id] = self._local_document(document_id)
        return self.docs[document_id]

    # tags ------------------------------------------------------------------------------------
    def _renamed(self, name: str) -> tuple[bool, str | None]:
        """(True, the name here or None) for a tag this library renamed, merged or deleted:
        a colleague's older bundle must not bring it back. Said once per name."""
        aliased, now = self.lib.tag_alias(name)
        if aliased and name not in self.said_aliases:
            self.said_aliases.add(name)
            self.report.notices.append(
                f"tag {show(name)}: deleted here, so not brought back"
                if now is None
                else f"tag {show(name)} is {show(now)} here: their notes take {show(now)}"
            )
        return aliased, now

    def tags(self, incoming: list) -> None:
        for tag in incoming:
            aliased, now = self._renamed(tag.name)
            if aliased:
                if now is not None:
                    self.tag_ids[tag.name] = self._tag_id(now)
                continue
            rows = self.lib._rows("SELECT * FROM tags WHERE name = ?", [tag.name])
            if not rows:
                made = self.lib.ensure_tag(tag.name, tag.colour, tag.description)
                self.tag_ids[made.name] = made.id
                self.report.count("tag", "added")
                continue
            local = rows[0]
            self.tag_ids[tag.name] = local["id"]
            differs = [
                f"{what} {show(mine, 40)} (theirs {show(theirs, 40)})"
                for what, mine, theirs in (
                    ("colour", local["colour"], tag.colour),
                    ("description", local["description"], tag.description),
                )
                if theirs is not None and mine != theirs
            ]
            if differs:
                self.report.notices.append(
                    f"tag {show(tag.name)}: kept this library's " + ", ".join(differs)
                )
            self.report.count("tag", "unchanged")

    def _tag_id(self, name: str) -> str | None:
        """The local id for a tag name of theirs (made when new); None: deleted here."""
        if name not in self.tag_ids:
            aliased, now = self._renamed(name)
            if aliased:
                self.tag_ids[name] = self._tag_id(now) if now is not None else None
                return self.tag_ids[name]
            rows = self.lib._rows("SELECT id FROM tags WHERE name = ?", [name])
            if rows:
                self.tag_ids[name] = rows[0]["id"]
            else:
                used = self.lib.db.execute("SELECT count(*) FROM tags").fetchone()[0]
                made = self.lib.ensure_tag(name, TAG_PALETTE[used % len(TAG_PALETTE)])
                self.tag_ids[name] = made.id
                self.report.count("tag", "added")
        return self.tag_ids[name]

    def _set_tags(self, annotation_id: str, names: tuple[str, ...]) -> None:
        self.lib.db.execute("DELETE FROM annotation_tags WHERE annotation_id = ?", [annotation_id])
        for name in names:
            tag_id = self._tag_id(name)
            if tag_id is not None:
                self.lib.db.execute(
                    "INSERT OR IGNORE INTO annotation_tags (annotation_id, tag_id) VALUES (?, ?)",
                    [annotation_id, tag_id],
                )

    # placing a quote in the local text ------------------------------------------------------
    def _in_place(self, inc: InAnnotation, doc: Document) -> bool:
        # The sender's offsets hold in this text: nothing to search for.
        return (
            inc.text_sha256 in (None, doc.sha256)
            and inc.start is not None
            and inc.end is not None
            and inc.end <= len(doc.text)
            and doc.text[inc.start : inc.end] == inc.exact
        )

    def _quote(self, inc: InAnnotation) -> Any:
        start = inc.start if inc.start is not None else 0
        end = inc.end if inc.end is not None else start + len(inc.exact)
        return self.anchoring().Quote(inc.exact, inc.prefix, inc.suffix, start, end)

    def anchoring(self) -> Any:
        if self._anchoring is None:
            from store import anchoring  # imported when first needed

            self._anchoring = anchoring
        return self._anchoring

    def anchor_ahead(self, group: list[InAnnotation], doc: Document) -> None:
        """Find many quotes in one text at once (the text is folded once, not per quote)."""
        found = self.anchoring().anchor_all(doc.text, [self._quote(inc) for inc in group])
        for inc, where in zip(group, found, strict=True):
            self.anchored[(inc.id, doc.id)] = where

    def place(self, inc: InAnnotation, doc: Document) -> dict:
        text = doc.text
        if self._in_place(inc, doc):
            return {
                "start": inc.start,
                "end": inc.end,
                "exact": inc.exact,
                "prefix": inc.prefix,
                "suffix": inc.suffix,
                "anchor_state": "ok",
                "anchor_step": "position",
            }
        found = self.anchored.pop((inc.id, doc.id), None)
        if found is None:
            found = self.anchoring().anchor(text, self._quote(inc))
        start = inc.start if inc.start is not None else 0
        end = inc.end if inc.end is not None else start + len(inc.exact)
        if found.state != "orphaned" and found.start is not None and found.end is not None:
            s, e = found.start, found.end
            return {
                "start": s,
                "end": e,
                "exact": text[s:e],
                "prefix": text[max(0, s - CONTEXT) : s],
                "suffix": text[e : e + CONTEXT],
                "anchor_state": found.state,
                "anchor_step": found.step,
            }
        s = min(start, len(text))
        e = min(max(end, s), len(text))
        return {
            "start": s,
            "end": e,
            "exact": inc.exact,
            "prefix": inc.prefix,
            "suffix": inc.suffix,
            "anchor_state": "orphaned",
            "anchor_step": getattr(found, "step", "orphaned"),
        }

    def _orphan_line(self, inc: InAnnotation, doc: Document) -> None:
        quote = " ".join(inc.exact.split())[:60]
        self.report.orphaned.append(
            f"annotation {inc.id} on {show(doc.title, 50)}: quote {show(quote, 70)} not found in "
            "this library's text; stored as orphaned"
        )

    # annotations ----------------------------------------------------------------------------
    def _local_annotation(self, annotation_id: str) -> Annotation | None:
        rows = self.lib._rows("SELECT * FROM annotations WHERE id = ?", [annotation_id])
        if not rows:
            return None
        tags = [
            r[0]
            for r in self.lib.db.execute(
                "SELECT t.name FROM annotation_tags at JOIN tags t ON t.id = at.tag_id "
                "WHERE at.annotation_id = ?",
                [annotation_id],
            ).fetchall()
        ]
        return _annotation_row(rows[0], tags)

    def annotations(self, incoming: list[InAnnotation]) -> None:
        plans: list[tuple[InAnnotation, Document, Annotation | None, str, str]] = []
        for inc in incoming:
            doc = self.document_for(inc.document_id)
            if doc is None:
                self.missing[inc.document_id] += 1
                self.skipped_ids.add(inc.id)
                continue
            if (
                inc.text_sha256 in (None, doc.sha256)
                and inc.end is not None
                and inc.end > len(doc.text)
            ):
                self.report.rejected.append(
                    f"annotation {inc.id}: end {inc.end} is past the end of its document "
                    f"({len(doc.text)} characters)"
                )
                self.skipped_ids.add(inc.id)
                continue
            local = self._local_annotation(inc.id)
            version = annotation_version(inc)
            if local is None:
                plans.append((inc, doc, None, "added", version))
                continue
            if local.document_id != doc.id:
                self.report.rejected.append(
                    f"annotation {inc.id}: the bundle puts it on another document than this library"
                )
                continue
            outcome = self.decide(
                "annotation",
                inc.id,
                local.author_id,
                inc.author_id,
                annotation_version(local),
                version,
                inc.previous,
                local.modified,
                inc.modified,
            )
            plans.append((inc, doc, local, outcome, version))
        # Quotes that must be searched for, a document at a time.
        groups: dict[str, tuple[Document, list[InAnnotation]]] = {}
        for inc, doc, local, outcome, _ in plans:
            if outcome in ("added", "updated") and not self._in_place(inc, doc):
                if not (local is not None and self._same_span(inc, doc, local)):
                    groups.setdefault(doc.id, (doc, []))[1].append(inc)
        for doc, group in groups.values():
            self.anchor_ahead(group, doc)
        for inc, doc, local, outcome, version in plans:
            if outcome == "added":
                self._write_annotation(inc, doc, None)
                _remember(self.lib, "annotation", inc.id, version, inc.previous, base=True)
                self.report.count("annotation", "added")
            else:
                self._apply("annotation", outcome, inc, local, version, doc)

    @staticmethod
    def _same_span(inc: InAnnotation, doc: Document, local: Annotation) -> bool:
        return (
            inc.exact == local.exact
            and inc.start == local.start
            and inc.end == local.end
            and inc.text_sha256 in (None, doc.sha256)
        )

    def _write_annotation(self, inc: InAnnotation, doc: Document, local: Annotation | None) -> None:
        values = {
            "role": inc.role,
            "note": inc.note,
            "author_id": inc.author_id,
            "author_name": inc.author_name,
            "created": inc.created,
            "modified": inc.modified,
            "deleted": int(inc.deleted),
        }
        if local is not None and self._same_span(inc, doc, local):
            placed: dict = {}
        else:
            placed = self.place(inc, doc)
            if placed["anchor_state"] == "orphaned":
                self._orphan_line(inc, doc)
        if local is None:
            self.lib.db.table("annotations").insert(
                {"id": inc.id, "document_id": doc.id, **values, **placed}
            )
            self.lib._log("annotation", inc.id, "insert")
        else:
            self._history("annotation", local.id, asdict(local))
            self.lib.db.table("annotations").update(inc.id, {**values, **placed})
            self.lib._log("annotation", inc.id, "update")
        self._set_tags(inc.id, inc.tags)

    def decide(
        self,
        entity: str,
        record_id: str,
        local_author: str,
        their_author: str,
        mine: str,
        theirs: str,
        previous: str | None,
        local_modified: str,
        their_modified: str,
    ) -> str:
        """The merge rule for one record (see the module docstring)."""
        if theirs == mine:
            return "unchanged"
        known = _known(self.lib, entity, record_id)
        if theirs in known:
            return "kept_newer"  # a version already seen here: an old copy
        if local_author != their_author:
            return "conflict:author"
        if previous is not None and previous == mine:
            return "updated"  # derived from exactly what we hold
        if previous is not None and previous in known:
            return "conflict:both"  # derived from a version we have since moved on from
        base = _base(self.lib, entity, record_id)
        newer = normal_time(their_modified) > normal_time(local_modified)
        if base is None:  # never exchanged from here: the newer wins
            if newer:
                return "updated"
            if normal_time(their_modified) < normal_time(local_modified):
                return "kept_newer"
            return "conflict:same-time"
        if base[0] == mine:  # nothing edited here since the last exchange
            return "updated" if newer else "kept_newer"
        return "conflict:both"

    def _settle(self, entity: str, record_id: str, version: str) -> None:
        # An open conflict whose other version is now the one held here is over.
        self.lib.db.execute(
            "UPDATE exchange_conflicts SET resolved = ?, resolution = 'theirs' WHERE entity = ? "
            "AND record_id = ? AND theirs_version = ? AND resolved IS NULL",
            [now(), entity, record_id, version],
        )

    def _apply(
        self, entity: str, outcome: str, inc: Any, local: Any, version: str, doc: Any
    ) -> None:
        if outcome in ("unchanged", "updated"):
            self._settle(entity, inc.id, version)
        if outcome == "unchanged":
            base = _base(self.lib, entity, inc.id)
            if base is None or base[0] != version:
                _remember(self.lib, entity, inc.id, version, inc.previous, base=True)
            self.report.count(entity, "unchanged")
        elif outcome == "kept_newer":
            _remember(self.lib, entity, inc.id, version, inc.previous, base=False)
            self.report.count(entity, "kept_newer")
        elif outcome == "updated":
            if entity == "annotation":
                self._write_annotation(inc, doc, local)
            else:
                self._write_link(inc, local)
            _remember(self.lib, entity, inc.id, version, inc.previous, base=True)
            self.report.count(entity, "updated")
        else:
            self._conflict(entity, outcome.split(":", 1)[1], inc, local, version, doc)

    def _conflict(
        self, entity: str, why: str, inc: Any, local: Any, version: str, doc: Any
    ) -> None:
        owner = f"{local.author_name} ({local.author_id[:8]})"
        sender = f"{inc.author_name} ({inc.author_id[:8]})"
        what = "a deletion" if inc.deleted and not local.deleted else "a version"
        reason = {
            "author": f"{sender} sent {what} of a record by {owner}; this library's is kept",
            "both": f"edited here and by the sender since the last exchange ({owner}); "
            "this library's is kept",
            "same-time": "two versions with the same modified time; this library's is kept",
        }[why]
        theirs = asdict(inc)
        if doc is not None:
            theirs["local_document_id"] = doc.id
        row = {
            "id": new_id(),
            "entity": entity,
            "record_id": inc.id,
            "reason": reason,
            "mine": json.dumps(asdict(local), ensure_ascii=False, sort_keys=True),
            "theirs": json.dumps(theirs, ensure_ascii=False, sort_keys=True),
            "theirs_version": version,
            "source": self.source,
            "detected": now(),
        }
        self.lib.db.execute(
            "INSERT OR IGNORE INTO exchange_conflicts (id, entity, record_id, reason, mine, "
            "theirs, "
            "theirs_version, source, detected) VALUES (:id, :entity, :record_id, :reason, :mine, "
            ":theirs, :theirs_version, :source, :detected)",
            row,
        )
        stored = self.lib._rows(
            "SELECT * FROM exchange_conflicts WHERE entity = ? AND record_id = ? "
            "AND theirs_version = ?",
            [entity, inc.id, version],
        )[0]
        self.report.conflicts.append(_conflict(stored))
        self.report.counts.setdefault(entity, Counter())["conflict"] += 1

    def _history(self, entity: str, record_id: str, previous: dict) -> None:
        self.lib.db.execute(
            "INSERT INTO exchange_history (import_id, entity, record_id, previous, replaced_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [
                self.import_id,
                entity,
                record_id,
                json.dumps(previous, ensure_ascii=False, sort_keys=True),
                now(),
            ],
        )

    # links ------------------------------------------------------------------------------------
    def _end_missing(self, kind: str, record: str, end_id: str) -> bool:
        exists = self.lib.db.execute("SELECT 1 FROM annotations WHERE id = ?", [end_id]).fetchone()
        if exists:
            return False
        if end_id not in self.skipped_ids:
            self.report.rejected.append(
                f"{kind} {record}: annotation {end_id} is neither in this library nor in the bundle"
            )
        return True

    def links(self, incoming: list[InLink]) -> None:
        for inc in incoming:
            if self._end_missing("link", inc.id, inc.claim_id) or self._end_missing(
                "link", inc.id, inc.evidence_id
            ):
                continue
            rows = self.lib._rows("SELECT * FROM links WHERE id = ?", [inc.id])
            version = link_version(inc)
            if not rows:
                self._write_link(inc, None)
                _remember(self.lib, "link", inc.id, version, inc.previous, base=True)
                self.report.count("link", "added")
                continue
            local = Link(**{**rows[0], "deleted": bool(rows[0]["deleted"])})
            outcome = self.decide(
                "link",
                inc.id,
                local.author_id,
                inc.author_id,
                link_version(local),
                version,
                inc.previous,
                local.modified,
                inc.modified,
            )
            self._apply("link", outcome, inc, local, version, None)

    def _write_link(self, inc: InLink, local: Link | None) -> None:
        values = {
            "claim_id": inc.claim_id,
            "evidence_id": inc.evidence_id,
            "relation": inc.relation,
            "note": inc.note,
            "author_id": inc.author_id,
            "author_name": inc.author_name,
            "created": inc.created,
            "modified": inc.modified,
            "deleted": int(inc.deleted),
        }
        if local is None:
            self.lib.db.table("links").insert({"id": inc.id, **values})
            self.lib._log("link", inc.id, "insert")
        else:
            self._history("link", local.id, asdict(local))
            self.lib.db.table("links").update(inc.id, values)
            self.lib._log("link", inc.id, "update")

    # reviews ----------------------------------------------------------------------------------
    def reviews(self, incoming: list[InReview]) -> None:
        # The export's order, whatever order a folder listed them in.
        for inc in sorted(incoming, key=lambda r: (r.claim_id, r.created, r.id)):
            if self._end_missing("verdict", inc.id, inc.claim_id):
                continue
            rows = self.lib._rows("SELECT * FROM reviews WHERE id = ?", [inc.id])
            if not rows:
                self.lib.db.table("reviews").insert(asdict(inc))
                self.lib._log("review", inc.id, "insert")
                self.report.count("review", "added")
                continue
            local = rows[0]
            same = (
                all(
                    local[k] == getattr(inc, k)
                    for k in ("claim_id", "verdict", "comment", "reviewer_id")
                )
                and normal_time(local["created"]) == inc.created
            )
            if same:
                self.report.count("review", "unchanged")
            else:
                self.report.rejected.append(
                    f"verdict {inc.id}: a different verdict with this id is stored here; "
                    "verdicts are never changed"
                )

    # missing documents ------------------------------------------------------------------------
    def missing_lines(self) -> None:
        for document_id, count in sorted(self.missing.items()):
            doc = self.bundle_docs.get(document_id)
            name = f"{show(doc.title, 50)} (sha256 {doc.sha256[:12]}\u2026)" if doc else document_id
            self.report.skipped.append(
                f"document {name} is not in this library and the bundle carries no text for it: "
                f"{count} annotations (and their links and verdicts) not merged; import the "
                "document or ask for a bundle made --with-sources, then merge again"
            )


def _conflict(row: dict) -> Conflict:
    return Conflict(
        id=row["id"],
        entity=row["entity"],
        record_id=row["record_id"],
        reason=row["reason"],
        mine=json.loads(row["mine"]),
        theirs=json.loads(row["theirs"]),
        source=row["source"],
        detected=row["detected"],
        resolved=row["resolved"],
        resolution=row["resolution"],
    )


def merge_bundle(
    lib: Library, bundle: Bundle, *, author: Author, sha256: str | None = None
) -> MergeReport:
    """Merge an already checked bundle in one transaction (see `merge`)."""
    report = MergeReport(source=bundle.name, rejected=list(bundle.rejected))
    with lib.write():
        ensure_tables(lib)
        import_id = new_id()
        merger = _Merger(lib, report, bundle.name, import_id)
        merger.documents(bundle.documents)
        merger.tags(bundle.tags)
        merger.annotations(bundle.annotations)
        merger.links(bundle.links)
        merger.reviews(bundle.reviews)
        merger.missing_lines()
        if report.changed or report.conflicts:
            lib.db.table("exchange_imports").insert(
                {
                    "id": import_id,
                    "source": bundle.name,
                    "sha256": sha256,
                    "imported_at": now(),
                    "importer_id": author.id,
                    "importer_name": author.name,
                    "summary": report.summary(),
                }
            )
    return report


def merge(
    lib: Library, source: Path, *, author: Author, limits: Limits | None = None
) -> MergeReport:
    """Merge a bundle file or folder into the library in one transaction and report what happened.

    Raises BundleError (one line) when the file as a whole cannot be read; a bad record only
    adds a line to `rejected`.
    """
    bundle = read_bundle(Path(source), limits or DEFAULT_LIMITS)
    sha = None
    if Path(source).is_file():
        sha = hashlib.sha256(Path(source).read_bytes()).hexdigest()
    return merge_bundle(lib, bundle, author=author, sha256=sha)


# -- conflicts -------------------------------------------------------------------------------------


def list_conflicts(lib: Library, *, include_resolved: bool = False) -> list[Conflict]:
    """The conflicts merges have stored, oldest first (open ones only unless asked)."""
    if not _has_tables(lib):
        return []
    sql = "SELECT * FROM exchange_conflicts"
    if not include_resolved:
        sql += " WHERE resolved IS NULL"
    return [_conflict(r) for r in lib._rows(sql + " ORDER BY detected, record_id")]


def resolve_conflict(lib: Library, conflict_id: str, keep: Literal["mine", "theirs"]) -> None:
    """Settle a stored conflict: keep this library's version ("mine") or the sender's ("theirs")."""
    if keep not in ("mine", "theirs"):
        raise InvalidInput(f"keep must be 'mine' or 'theirs', not {keep!r}")
    if not _has_tables(lib):
        raise NotFound(f"no conflict with id {conflict_id}")
    with lib.write():
        rows = lib._rows("SELECT * FROM exchange_conflicts WHERE id = ?", [conflict_id])
        if not rows:
            raise NotFound(f"no conflict with id {conflict_id}")
        conflict = _conflict(rows[0])
        if conflict.resolved:
            raise InvalidInput(f"conflict {conflict_id} was resolved on {conflict.resolved}")
        version = rows[0]["theirs_version"]
        entity, record_id = conflict.entity, conflict.record_id
        theirs = dict(conflict.theirs)
        local_doc = theirs.pop("local_document_id", None)
        report = MergeReport(source=conflict.source)
        merger = _Merger(lib, report, conflict.source, new_id())
        if keep == "mine":
            _remember(lib, entity, record_id, version, theirs.get("previous"), base=False)
            current = _current_version(lib, entity, record_id)
            if current is not None:
                # The next export names their version as the parent of ours, so the sender
                # takes ours as a newer version instead of seeing the conflict again.
                _remember(lib, entity, record_id, current, version, base=True)
        else:
            inc: InAnnotation | InLink
            local: Annotation | Link | None
            if entity == "annotation":
                theirs["tags"] = tuple(theirs["tags"])
                inc = InAnnotation(**theirs)
                try:
                    doc = lib.document(local_doc)
                except NotFound:
                    raise InvalidInput(
                        f"conflict {conflict_id}: its document is no longer in the library"
                    ) from None
                local = merger._local_annotation(record_id)
                merger._write_annotation(inc, doc, local)
            else:
                inc = InLink(**theirs)
                for end in (inc.claim_id, inc.evidence_id):
                    if (
                        lib.db.execute("SELECT 1 FROM annotations WHERE id = ?", [end]).fetchone()
                        is None
                    ):
                        raise InvalidInput(f"conflict {conflict_id}: annotation {end} is gone")
                rows = lib._rows("SELECT * FROM links WHERE id = ?", [record_id])
                local = Link(**{**rows[0], "deleted": bool(rows[0]["deleted"])}) if rows else None
                merger._write_link(inc, local)
            _remember(lib, entity, record_id, version, inc.previous, base=True)
        lib.db.execute(
            "UPDATE exchange_conflicts SET resolved = ?, resolution = ? WHERE id = ?",
            [now(), keep, conflict_id],
        )


def _current_version(lib: Library, entity: str, record_id: str) -> str | None:
    if entity == "annotation":
        rows = lib._rows("SELECT * FROM annotations WHERE id = ?", [record_id])
        if not rows:
            return None
        tags = [
            r[0]
            for r in lib.db.execute(
                "SELECT t.name FROM annotation_tags at JOIN tags t ON t.id = at.tag_id "
                "WHERE at.annotation_id = ?",
                [record_id],
            ).fetchall()
        ]
        return annotation_version(_annotation_row(rows[0], tags))
    rows = lib._rows("SELECT * FROM links WHERE id = ?", [record_id])
    if not rows:
        return None
    return link_version(Link(**{**rows[0], "deleted": bool(rows[0]["deleted"])}))
