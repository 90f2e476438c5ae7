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

The exchange tables (schema version 3) are written by `Library` (store.ledger), like every
other table.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Set
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from store.errors import InvalidInput, NotFound
from store.library import Library
from store.records import Annotation, Author, Document, Link, new_id, now

from .conflicts import Conflict, conflict_from_row
from .lineage import annotation_version, link_version
from .rule import Outcome, decide
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

# -- reports ---------------------------------------------------------------------------------------


@dataclass
class MergeReport:
    """What a merge did: counts, and one line for every record that needs a look."""

    source: str
    format: str = "margin bundle"  # which tool wrote the file (store.exchange.router)
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
    placed: list[str] = field(default_factory=list)  # where each new note landed

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
            f"{self.source} ({self.format}): {self.added} added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.kept_newer} kept newer, "
            f"{len(self.conflicts)} conflicts, {len(self.orphaned)} orphaned, "
            f"{len(self.rejected)} rejected"
            + (f", {len(self.skipped)} documents missing" if self.skipped else "")
        )

    def lines(self) -> list[str]:
        """The whole report, one line per item, for the CLI and the app."""
        found = [self.summary()]
        found += [f"  placed    {line}" for line in self.placed]
        found += [f"  conflict  {c.line()}" for c in self.conflicts]
        found += [f"  orphaned  {line}" for line in self.orphaned]
        found += [f"  missing   {line}" for line in self.skipped]
        found += [f"  rejected  {line}" for line in self.rejected]
        found += [f"  note      {line}" for line in self.notices]
        return found


# -- the merge -------------------------------------------------------------------------------------


_WEB = re.compile(r"https?://\S+", re.IGNORECASE)


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
        self.unverified: dict[str, str] = {}
        self.tag_ids: dict[str, str | None] = {}
        # New tags of theirs that their notes carry: made only when a note carrying one is
        # written, so a tag that came only with a version that lost a conflict is not added.
        self.pending_tags: dict[str, Any] = {}
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
        named = self.lib.put_naming(
            local.id,
            title=doc.title,
            author=doc.author,
            published=doc.published,
            named_at=theirs,
        )
        self.report.count("document", "updated")
        return named

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
        added = self.lib.put_document(
            Document(
                id=doc.id,
                title=doc.title,
                author=doc.author,
                published=doc.published,
                source=doc.source,
                format=doc.format,
                sha256=sha,
                text=text,
                page_starts=doc.page_starts,
                # Of the sender's metadata only the naming time arrives (store.exchange.validate).
                metadata=dict(doc.metadata or {}),
                imported_at=now(),
            )
        )
        self.report.count("document", "added")
        return added

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

    def tags(self, incoming: list, carried: Set[str] = frozenset()) -> None:
        """Their codebook; `carried`: the tag names their notes carry (made when one is used)."""
        for tag in incoming:
            aliased, now = self._renamed(tag.name)
            if aliased:
                if now is not None:
                    self.tag_ids[tag.name] = self._tag_id(now)
                continue
            local = self.lib.find_tag(tag.name)
            if local is None and tag.name in carried:
                self.pending_tags[tag.name] = tag
                continue
            if local is None:
                made = self.lib.ensure_tag(tag.name, tag.colour, tag.description)
                self.tag_ids[made.name] = made.name
                self.report.count("tag", "added")
                continue
            self.tag_ids[tag.name] = local.name
            differs = [
                f"{what} {show(mine, 40)} (theirs {show(theirs, 40)})"
                for what, mine, theirs in (
                    ("colour", local.colour, tag.colour),
                    ("description", local.description, tag.description),
                )
                if theirs is not None and mine != theirs
            ]
            if differs:
                self.report.notices.append(
                    f"tag {show(tag.name)}: kept this library's " + ", ".join(differs)
                )
            self.report.count("tag", "unchanged")

    def _tag_id(self, name: str) -> str | None:
        """The local name for a tag name of theirs (made when new); None: deleted here."""
        if name not in self.tag_ids:
            aliased, now = self._renamed(name)
            if aliased:
                self.tag_ids[name] = self._tag_id(now) if now is not None else None
                return self.tag_ids[name]
            local = self.lib.find_tag(name)
            pending = self.pending_tags.pop(name, None)
            if local is not None:
                self.tag_ids[name] = local.name
            elif pending is not None:
                made = self.lib.ensure_tag(name, pending.colour, pending.description)
                self.tag_ids[name] = made.name
                self.report.count("tag", "added")
            else:
                made = self.lib.ensure_tag(name)  # the next palette colour
                self.tag_ids[name] = made.name
                self.report.count("tag", "added")
        return self.tag_ids[name]

    def _local_tags(self, names: tuple[str, ...]) -> tuple[str, ...]:
        """Their tag names as named here (renamed, merged; deleted ones left out)."""
        found = (self._tag_id(name) for name in names)
        return tuple(dict.fromkeys(name for name in found if name is not None))

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
        return self.anchoring().Quote(
            inc.exact, inc.prefix, inc.suffix, start, end, has_position=inc.start is not None
        )

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
            quote = self.anchoring().quote_at(text, found.start, found.end)
            return {
                "start": quote.start,
                "end": quote.end,
                "exact": quote.exact,
                "prefix": quote.prefix,
                "suffix": quote.suffix,
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
            "reason": getattr(found, "reason", "") or "not found",  # for the report, not stored
        }

    def _orphan_line(self, inc: InAnnotation, doc: Document, reason: str = "not found") -> None:
        quote = " ".join(inc.exact.split())[:60]
        self.report.orphaned.append(
            f"annotation {inc.id} on {show(doc.title, 50)}: quote {show(quote, 70)} {reason} in "
            "this library's text; stored as orphaned"
        )

    # annotations ----------------------------------------------------------------------------
    def local_annotation(self, annotation_id: str) -> Annotation | None:
        return self.lib.annotation_row(annotation_id)

    def annotations(self, incoming: list[InAnnotation]) -> None:
        plans: list[tuple[InAnnotation, Document, Annotation | None, Outcome, str]] = []
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
            local = self.local_annotation(inc.id)
            version = annotation_version(inc)
            if local is None and self._refuse_unverified(inc.id):
                continue
            if local is None:
                plans.append((inc, doc, None, Outcome.ADDED, version))
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
                self._claimed(inc),
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
            if outcome in (Outcome.ADDED, Outcome.UPDATED) and not self._in_place(inc, doc):
                if not (local is not None and self._same_span(inc, doc, local)):
                    groups.setdefault(doc.id, (doc, []))[1].append(inc)
        for doc, group in groups.values():
            self.anchor_ahead(group, doc)
        for inc, doc, local, outcome, version in plans:
            if outcome is Outcome.ADDED:
                self.write_annotation(inc, doc, None)
                self.lib.remember_version("annotation", inc.id, version, inc.previous, base=True)
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

    def write_annotation(self, inc: InAnnotation, doc: Document, local: Annotation | None) -> None:
        if local is not None and self._same_span(inc, doc, local):
            placed: dict = {
                "start": local.start,
                "end": local.end,
                "exact": local.exact,
                "prefix": local.prefix,
                "suffix": local.suffix,
                "anchor_state": local.anchor_state,
                "anchor_step": local.anchor_step,
            }
        else:
            placed = self.place(inc, doc)
            if placed["anchor_state"] == "orphaned":
                self._orphan_line(inc, doc, placed.pop("reason"))
        if local is not None:
            self.lib.add_history(self.import_id, "annotation", local.id, asdict(local))
        self.lib.put_annotation(
            Annotation(
                id=inc.id,
                document_id=doc.id,
                role=inc.role,
                note=inc.note,
                author_id=inc.author_id,
                author_name=inc.author_name,
                editor_id=inc.editor_id or inc.author_id,
                editor_name=inc.editor_name or inc.author_name,
                created=inc.created,
                modified=inc.modified,
                deleted=bool(inc.deleted),
                tags=self._local_tags(tuple(inc.tags)),
                **placed,
            )
        )

    def _refuse_unverified(self, record_id: str) -> bool:
        """A new record claiming a known person without their signature: one refused line."""
        line = self.unverified.get(record_id)
        if line is None:
            return False
        self.report.rejected.append(line)
        self.skipped_ids.add(record_id)
        return True

    def _claimed(self, inc: Any) -> str:
        # An unsigned record in a known person's name is nobody's: the rule then keeps ours
        # and stores theirs as a conflict, never an update (issue 15: "1 updated", no conflict).
        return f"unverified:{inc.author_id}" if inc.id in self.unverified else inc.author_id

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
    ) -> Outcome:
        """The merge rule for one record (store.exchange.rule), with what this library knows."""
        return decide(
            mine=mine,
            theirs=theirs,
            previous=previous,
            known=self.lib.known_versions(entity, record_id),
            base=self.lib.exchange_base(entity, record_id),
            local_author=local_author,
            their_author=their_author,
            local_modified=local_modified,
            their_modified=their_modified,
        )

    def _settle(self, entity: str, record_id: str, version: str) -> None:
        # An open conflict whose other version is now the one held here is over.
        self.lib.settle_conflicts(entity, record_id, version)

    def _apply(
        self, entity: str, outcome: Outcome, inc: Any, local: Any, version: str, doc: Any
    ) -> None:
        if outcome in (Outcome.UNCHANGED, Outcome.UPDATED):
            self._settle(entity, inc.id, version)
        if outcome is Outcome.UNCHANGED:
            base = self.lib.exchange_base(entity, inc.id)
            if base is None or base[0] != version:
                self.lib.remember_version(entity, inc.id, version, inc.previous, base=True)
            self.report.count(entity, "unchanged")
        elif outcome is Outcome.KEPT_NEWER:
            self.lib.remember_version(entity, inc.id, version, inc.previous, base=False)
            self.report.count(entity, "kept_newer")
        elif outcome is Outcome.UPDATED:
            if entity == "annotation":
                self.write_annotation(inc, doc, local)
            else:
                self.write_link(inc, local)
            self.lib.remember_version(entity, inc.id, version, inc.previous, base=True)
            self.report.count(entity, "updated")
        else:
            self._conflict(entity, outcome, inc, local, version, doc)

    def _conflict(
        self, entity: str, why: Outcome, inc: Any, local: Any, version: str, doc: Any
    ) -> None:
        owner = f"{local.author_name} ({local.author_id[:8]})"
        sender = f"{inc.author_name} ({inc.author_id[:8]})"
        what = "a deletion" if inc.deleted and not local.deleted else "a version"
        here, there = _changed_by(local), _changed_by(inc)
        reason = {
            Outcome.CONFLICT_AUTHOR: f"{sender} sent {what} of a record by {owner}; "
            f"changed here by {here}, theirs by {there}; this library's is kept",
            Outcome.CONFLICT_BOTH: f"edited on both sides since the last exchange: here by "
            f"{here}, theirs by {there}; this library's is kept",
            Outcome.CONFLICT_SAME_TIME: f"two versions with the same modified time: here by "
            f"{here}, theirs by {there}; this library's is kept",
        }[why]
        already = self.lib.open_conflict(entity, inc.id, version)
        if already is not None:  # merged before and still open: the same conflict, not a new one
            self.report.notices.append(
                f"conflict {already['id'][:8]} on {entity} {inc.id} is still open "
                "(merged before): see `margin conflicts`"
            )
            self.report.count(entity, "conflict_open")
            return
        theirs = asdict(inc)
        if doc is not None:
            theirs["local_document_id"] = doc.id
        stored = self.lib.add_conflict(
            entity,
            inc.id,
            reason=reason,
            mine=asdict(local),
            theirs=theirs,
            theirs_version=version,
            source=self.source,
        )
        self.report.conflicts.append(conflict_from_row(stored))
        self.report.counts.setdefault(entity, Counter())["conflict"] += 1

    # links ------------------------------------------------------------------------------------
    def _end_missing(self, kind: str, record: str, end_id: str) -> bool:
        if self.lib.exists("annotation", end_id):
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
            local = self.lib.link_row(inc.id)
            version = link_version(inc)
            if local is None and self._refuse_unverified(inc.id):
                continue
            if local is None:
                self.write_link(inc, None)
                self.lib.remember_version("link", inc.id, version, inc.previous, base=True)
                self.report.count("link", "added")
                continue
            outcome = self.decide(
                "link",
                inc.id,
                local.author_id,
                self._claimed(inc),
                link_version(local),
                version,
                inc.previous,
                local.modified,
                inc.modified,
            )
            self._apply("link", outcome, inc, local, version, None)

    def write_link(self, inc: InLink, local: Link | None) -> None:
        if local is not None:
            self.lib.add_history(self.import_id, "link", local.id, asdict(local))
        self.lib.put_link(
            Link(
                id=inc.id,
                claim_id=inc.claim_id,
                evidence_id=inc.evidence_id,
                relation=inc.relation,
                note=inc.note,
                author_id=inc.author_id,
                author_name=inc.author_name,
                editor_id=inc.editor_id or inc.author_id,
                editor_name=inc.editor_name or inc.author_name,
                created=inc.created,
                modified=inc.modified,
                deleted=bool(inc.deleted),
            )
        )

    # reviews ----------------------------------------------------------------------------------
    def reviews(self, incoming: list[InReview]) -> None:
        # The export's order, whatever order a folder listed them in.
        for inc in sorted(incoming, key=lambda r: (r.claim_id, r.created, r.id)):
            if self._end_missing("verdict", inc.id, inc.claim_id):
                continue
            if self._refuse_unverified(inc.id):  # a verdict in someone's name, unsigned
                continue
            local = self.lib.review_row(inc.id)
            if local is None:
                self.lib.put_review(inc)
                self.report.count("review", "added")
                continue
            same = (
                all(
                    getattr(local, k) == getattr(inc, k)
                    for k in ("claim_id", "verdict", "comment", "reviewer_id")
                )
                and normal_time(local.created) == inc.created
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


def _changed_by(record: Any) -> str:
    """ "Bob (3f2a9c1e) at 2026-12-03 08:12 UTC": who made a version and when."""
    who = record.editor_id or record.author_id
    name = record.editor_name or record.author_name
    stamp = normal_time(record.modified)
    return f"{name} ({who[:8]}) at {stamp[:10]} {stamp[11:16]} UTC"


def merge_bundle(
    lib: Library, bundle: Bundle, *, author: Author, sha256: str | None = None
) -> MergeReport:
    """Merge an already checked bundle in one transaction (see `merge`)."""
    report = MergeReport(source=bundle.name, rejected=list(bundle.rejected))
    with lib.write():
        import_id = new_id()
        merger = _Merger(lib, report, bundle.name, import_id)
        merger.unverified = bundle.unverified
        merger.documents(bundle.documents)
        merger.tags(bundle.tags, {name for a in bundle.annotations for name in a.tags})
        merger.annotations(bundle.annotations)
        merger.links(bundle.links)
        merger.reviews(bundle.reviews)
        # A bundle carries verdicts, not what their reviewers saw: each merged verdict judges
        # this library as it stands once the whole bundle is in (issue 16), in this transaction.
        lib.record_missing_grounds()
        merger.missing_lines()
        if report.changed or report.conflicts:
            lib.add_import(
                import_id,
                source=bundle.name,
                sha256=sha256,
                importer=author,
                summary=report.summary(),
            )
    return report


def merge(
    lib: Library,
    source: Path,
    *,
    author: Author,
    limits: Limits | None = None,
    check: Callable[[dict], str | None] | None = None,
) -> MergeReport:
    """Merge a bundle file or folder into the library in one transaction and report what happened.

    Raises BundleError (one line) when the file as a whole cannot be read; a bad record only
    adds a line to `rejected` (`check`: the signature check, see store.signing).
    """
    bundle = read_bundle(Path(source), limits or DEFAULT_LIMITS, check)
    sha = None
    if Path(source).is_file():
        sha = hashlib.sha256(Path(source).read_bytes()).hexdigest()
    return merge_bundle(lib, bundle, author=author, sha256=sha)


# -- conflicts -------------------------------------------------------------------------------------


RESOLUTIONS = ("mine", "theirs", "both", "edit")


def resolve_conflict(
    lib: Library,
    conflict_id: str,
    keep: Literal["mine", "theirs", "both", "edit"],
    *,
    note: str | None = None,
    editor: Author | None = None,
) -> None:
    """Settle a stored conflict.

    "mine" keeps this library's version, "theirs" takes the sender's; "both" keeps both notes,
    each under the name of the person who wrote that version, with the tags of both; "edit"
    stores `note` (the user's edit of the two) with the tags of both. "both" and "edit" are a
    new change by `editor`, which the sender takes as newer than theirs at the next exchange.
    """
    if keep not in RESOLUTIONS:
        raise InvalidInput(f"keep must be one of {', '.join(RESOLUTIONS)}, not {keep!r}")
    if keep == "edit" and note is None:
        raise InvalidInput("an edit of a conflict needs the note to keep")
    with lib.write():
        row = lib.conflict_row(conflict_id)
        if row is None:
            raise NotFound(f"no conflict with id {conflict_id}")
        conflict = conflict_from_row(row)
        if conflict.resolved:
            raise InvalidInput(f"conflict {conflict_id} was resolved on {conflict.resolved}")
        version = row["theirs_version"]
        entity, record_id = conflict.entity, conflict.record_id
        theirs = dict(conflict.theirs)
        local_doc = theirs.pop("local_document_id", None)
        report = MergeReport(source=conflict.source)
        merger = _Merger(lib, report, conflict.source, new_id())
        if keep in ("both", "edit"):
            _join(lib, merger, entity, record_id, theirs, note if keep == "edit" else None, editor)
        if keep != "theirs":
            lib.remember_version(entity, record_id, version, theirs.get("previous"), base=False)
            current = _current_version(lib, entity, record_id)
            if current is not None:
                # The next export names their version as the parent of ours, so the sender
                # takes ours as a newer version instead of seeing the conflict again.
                lib.remember_version(entity, record_id, current, version, base=True)
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
                local = merger.local_annotation(record_id)
                merger.write_annotation(inc, doc, local)
            else:
                inc = InLink(**theirs)
                for end in (inc.claim_id, inc.evidence_id):
                    if not lib.exists("annotation", end):
                        raise InvalidInput(f"conflict {conflict_id}: annotation {end} is gone")
                merger.write_link(inc, lib.link_row(record_id))
            lib.remember_version(entity, record_id, version, inc.previous, base=True)
        lib.mark_resolved(conflict_id, keep, editor.name if editor else None)


def joined_note(mine: dict | Any, theirs: dict) -> str:
    """Both notes, each under the name of the person who wrote that version (one note when
    they say the same, or when one side has none)."""
    ours = mine["note"] if isinstance(mine, dict) else mine.note
    their = theirs.get("note", "")
    if not their or their == ours:
        return ours
    if not ours:
        return their
    mine_name = _name_of(mine if isinstance(mine, dict) else asdict(mine))
    return f"{mine_name}: {ours}\n\n{_name_of(theirs)}: {their}"


def _name_of(version: dict) -> str:
    return version.get("editor_name") or version.get("author_name") or "someone"


def _join(
    lib: Library,
    merger: _Merger,
    entity: str,
    record_id: str,
    theirs: dict,
    edited: str | None,
    editor: Author | None,
) -> None:
    """Write the union of this library's version and theirs (or the user's edit of them)."""
    who: dict[str, Any] = {"editor_id": editor.id, "editor_name": editor.name} if editor else {}
    if entity == "annotation":
        local = lib.annotation_row(record_id)
        if local is None:
            raise InvalidInput(f"annotation {record_id} is no longer in the library")
        tags = merger._local_tags(tuple(theirs.get("tags", ())))  # noqa: SLF001 - same module
        lib.add_history(merger.import_id, "annotation", record_id, asdict(local))
        lib.put_annotation(
            replace(
                local,
                note=joined_note(local, theirs) if edited is None else edited,
                tags=tuple(dict.fromkeys([*local.tags, *tags])),
                role="claim" if "claim" in (local.role, theirs.get("role")) else local.role,
                deleted=local.deleted and bool(theirs.get("deleted")),
                modified=now(),
                **who,
            )
        )
        return
    link = lib.link_row(record_id)
    if link is None:
        raise InvalidInput(f"link {record_id} is no longer in the library")
    lib.add_history(merger.import_id, "link", record_id, asdict(link))
    lib.put_link(
        replace(
            link,
            note=joined_note(link, theirs) if edited is None else edited,
            deleted=link.deleted and bool(theirs.get("deleted")),
            modified=now(),
            **who,
        )
    )


def _current_version(lib: Library, entity: str, record_id: str) -> str | None:
    if entity == "annotation":
        annotation = lib.annotation_row(record_id)
        return annotation_version(annotation) if annotation is not None else None
    link = lib.link_row(record_id)
    return link_version(link) if link is not None else None
