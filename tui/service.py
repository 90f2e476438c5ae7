"""The one API that the command line and the app both call: no Textual here.

Every write commits in the store first, then brings the index up to date, so a crash between
the two loses nothing (the next sync catches up from the change log).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from index import IndexBusy, SearchIndex, SearchResult, index_dir_for, sync_in_child
from index.suggest import Suggestion, Suggestions
from store import exchange
from store.agreement import (
    Agreement,
    Span,
    TagAgreement,
    compare_coders,
    compare_taggers,
    verdict_ratings,
)
from store.citation import citation
from store.errors import IngestError, InvalidInput, MarginError
from store.ingest import Limits, extract, iter_source_files
from store.library import Library, tag_name, text_sha256
from store.profile import load_profile, rename_profile
from store.quotes import find_quote
from store.records import Annotation, Author, ClaimSummary, Link, Review, Tag
from store.sanitize import terminal_safe
from store.staleness import Staleness
from store.versions import UpdateReport, update_document

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
EXPORT_FORMATS = ("bundle", "folder", "markdown", "csv", "claimreview", "qdpx")


@dataclass(frozen=True)
class ImportResult:
    """What became of one file: imported, duplicate (same text already there) or failed."""

    path: Path
    status: str
    title: str = ""
    document_id: str | None = None
    reason: str = ""
    warnings: tuple[str, ...] = ()
    report: UpdateReport | None = None

    def line(self) -> str:
        """One line for the user, naming the file."""
        if self.status == "imported":
            extra = f" ({'; '.join(self.warnings)})" if self.warnings else ""
            return f"imported  {self.path}: {self.title}{extra}"
        if self.status == "updated" and self.report is not None:
            return "updated   " + "\n".join(
                [f"{self.path}: " + self.report.lines()[0], *self.warnings]
            )
        if self.status == "duplicate":
            return f"duplicate {self.path}: same text as {self.title!r}, nothing added"
        return f"failed    {self.path}: {self.reason}"

    def to_json(self) -> dict:
        return {
            "path": str(self.path),
            "status": self.status,
            "title": self.title,
            "document_id": self.document_id,
            "reason": self.reason,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class AgreementReport:
    """Reviewers compared, with the names to show and the claims they disagree on."""

    agreement: Agreement
    names: dict[str, str]
    """Reviewer id -> the name shown."""
    claims: dict[str, ClaimSummary]
    """The claims of `agreement.disagreements`, for their quote and document."""

    def name(self, reviewer_id: str) -> str:
        return self.names.get(reviewer_id, reviewer_id[:8])

    def to_json(self) -> dict:
        data = self.agreement.to_json()
        data["names"] = self.names
        data["disagreements"] = [
            {
                "claim_id": claim_id,
                "document_title": self.claims[claim_id].document_title,
                "quote": self.claims[claim_id].claim.exact,
                "verdicts": verdicts,
            }
            for claim_id, verdicts in self.agreement.disagreements.items()
        ]
        return data


@dataclass
class _Undo:
    description: str
    run: Callable[[], object]


@dataclass
class Service:
    """margin's operations on one library, for one person (the profile in `config_dir`)."""

    library_path: Path
    config_dir: Path
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        self.library_path = Path(self.library_path)
        self._local = threading.local()
        self._index: SearchIndex | None = None
        self._index_lock = threading.RLock()
        self._undo: list[_Undo] = []
        self.author: Author = load_profile(self.config_dir)
        self.library  # noqa: B018 - open (and migrate) now, so a bad file fails early

    # -- plumbing -------------------------------------------------------------------------

    @property
    def library(self) -> Library:
        """This thread's connection to the library (sqlite3 refuses to share one)."""
        lib = getattr(self._local, "library", None)
        if lib is None:
            lib = Library(self.library_path)
            self._local.library = lib
        return lib

    @property
    def index_dir(self) -> Path:
        return index_dir_for(self.library_path)

    @property
    def index(self) -> SearchIndex:
        with self._index_lock:
            if self._index is None:
                self._index = SearchIndex(self.index_dir)
            return self._index

    def close(self) -> None:
        """Close the index and this thread's library connection."""
        with self._index_lock:
            if self._index is not None:
                self._index.close()
                self._index = None
        lib = getattr(self._local, "library", None)
        if lib is not None:
            lib.close()
            self._local.library = None

    def sync_index(self, progress: Progress | None = None) -> int:
        """Apply the library's new changes to the index here; returns how many were applied."""
        with self._index_lock:
            return self.index.sync(self.library, progress=progress)

    def sync_index_in_child(self, progress: Progress | None = None) -> None:
        """Catch the index up in a child process (bulk work that would starve this process)."""
        sync_in_child(self.library_path, self.index_dir, progress)
        with self._index_lock:
            self.index.refresh()

    def index_behind(self) -> bool:
        """True when the index is missing, unusable or has changes still to apply."""
        with self._index_lock:
            index_seq, store_seq = self.index.index_state(self.library)
        return index_seq != store_seq

    def _after_write(self) -> None:
        try:
            self.sync_index()
        except IndexBusy as busy:
            # The store has the change; the next sync picks it up.
            log.info("index sync deferred: %s", busy)

    def rename(self, name: str) -> Author:
        """Change the display name shown beside this person's notes."""
        self.author = rename_profile(self.config_dir, name)
        return self.author

    # -- import ---------------------------------------------------------------------------

    def import_files(
        self,
        paths: Iterable[Path],
        *,
        update: bool = False,
        encoding: str | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> Iterator[ImportResult]:
        """Import files and folders (recursively), yielding one result per file.

        Each file is one transaction, so a failure or a crash leaves it fully in or out and
        the rest of the batch goes on. The index is not touched: call `sync_index` (or
        `sync_index_in_child`) after, so documents are readable before they are searchable.

        Args:
            update: a file already imported from the same path with another text becomes a
                new version of that document (its notes re-anchored), not a new document.
            encoding: the encoding of .txt and .md files, instead of detecting it; check
                the name first with `store.ingest.decode.known_encoding`.
        """
        lib = self.library
        for path in iter_source_files(Path(p) for p in paths):
            if should_stop():
                return
            try:
                extracted = extract(path, self.limits, encoding=encoding)
                previous = lib.document_by_source(extracted.source) if update else None
                if previous is not None and previous.sha256 != text_sha256(extracted.text):
                    report = update_document(lib, previous.id, extracted)
                    yield ImportResult(
                        path,
                        "updated",
                        title=previous.title,
                        document_id=previous.id,
                        warnings=tuple(report.lines()[1:]),
                        report=report,
                    )
                    continue
                document, added = lib.add_document(extracted)
            except IngestError as error:
                yield ImportResult(path, "failed", reason=error.reason)
                continue
            except MarginError as error:
                yield ImportResult(path, "failed", reason=str(error))
                continue
            yield ImportResult(
                path,
                "imported" if added else "duplicate",
                title=document.title,
                document_id=document.id,
                warnings=tuple(extracted.warnings) if added else (),
            )

    def count_sources(self, paths: Iterable[Path]) -> int:
        """How many files an import of `paths` will look at (for a progress total)."""
        return sum(1 for _ in iter_source_files(Path(p) for p in paths))

    def delete_document(self, document_id: str) -> int:
        """Remove a document and its notes; returns how many notes went with it."""
        removed = self.library.delete_document(document_id)
        self._after_write()
        return removed

    # -- search ---------------------------------------------------------------------------

    def search(self, query: str, *, limit: int = 20) -> SearchResult:
        """Ranked hits for a query; the index is caught up (or rebuilt) first."""
        with self._index_lock:
            try:
                self.index.sync(self.library)
            except IndexBusy as busy:
                log.info("searching a slightly stale index: %s", busy)
            return self.index.search(self.library, query, limit=limit)

    # -- annotating -----------------------------------------------------------------------

    def annotate(
        self,
        document_id: str,
        start: int,
        end: int,
        *,
        role: str = "highlight",
        note: str = "",
        tags: Iterable[str] = (),
    ) -> Annotation:
        """Highlight (or mark as a claim) text[start:end] of a document.

        The same words marked again by the same person give one annotation, not two on top of
        each other: the existing one becomes a claim if asked, takes the note given and gains
        the tags. A colleague's annotation on the same words stays theirs.
        """
        existing = self.library.own_span(document_id, start, end, self.author.id)
        if existing is not None:
            result = existing
            if role == "claim" and existing.role != "claim":
                result = self.set_role(existing.id, "claim")
            if note and note != existing.note:
                result = self.set_note(existing.id, note)
            added = [name for name in map(tag_name, tags) if name not in existing.tags]
            if added:
                result = self.set_tags(existing.id, [*existing.tags, *added])
            return result
        annotation = self.library.annotate(
            document_id, start, end, author=self.author, role=role, note=note, tags=tags
        )
        self._push_undo(
            f"{annotation.role} added", lambda: self.library.set_deleted(annotation.id, True)
        )
        self._after_write()
        return annotation

    def set_role(self, annotation_id: str, role: str) -> Annotation:
        """Make an annotation a claim or a plain highlight."""
        before = self.library.annotation(annotation_id)
        after = self.library.update_annotation(annotation_id, role=role)
        self._push_undo(
            f"{role} set", lambda: self.library.update_annotation(annotation_id, role=before.role)
        )
        self._after_write()
        return after

    def set_note(self, annotation_id: str, note: str) -> Annotation:
        """Write or replace an annotation's note."""
        before = self.library.annotation(annotation_id)
        after = self.library.update_annotation(annotation_id, note=note)
        self._push_undo(
            "note changed", lambda: self.library.update_annotation(annotation_id, note=before.note)
        )
        self._after_write()
        return after

    def set_tags(self, annotation_id: str, names: Iterable[str]) -> Annotation:
        """Replace an annotation's tags (new names create tags)."""
        before = self.library.annotation(annotation_id)
        after = self.library.set_tags(annotation_id, list(names))
        self._push_undo("tags changed", lambda: self.library.set_tags(annotation_id, before.tags))
        self._after_write()
        return after

    def toggle_tag(self, annotation_id: str, name: str) -> tuple[Annotation, bool]:
        """Add the tag, or take it off when the annotation has it; (annotation, added)."""
        current = self.library.annotation(annotation_id)
        name = tag_name(name)
        if name in current.tags:
            return self.set_tags(annotation_id, [t for t in current.tags if t != name]), False
        return self.set_tags(annotation_id, [*current.tags, name]), True

    def own_annotation_at(self, document_id: str, start: int, end: int) -> Annotation | None:
        """My live annotation on exactly text[start:end] (what a new mark there would repeat)."""
        return self.library.own_span(document_id, start, end, self.author.id)

    def reattach(self, annotation_id: str, start: int, end: int) -> Annotation:
        """Anchor an orphaned (or misplaced) annotation to a span the user chose."""
        before = self.library.annotation(annotation_id)
        after = self.library.update_annotation(annotation_id, start=start, end=end)
        self._push_undo("re-attached", lambda: self._restore_anchor(before))
        self._after_write()
        return after

    def _restore_anchor(self, before: Annotation) -> None:
        with self.library.write():
            self.library.db["annotations"].update(
                before.id,
                {
                    "start": before.start,
                    "end": before.end,
                    "exact": before.exact,
                    "prefix": before.prefix,
                    "suffix": before.suffix,
                    "anchor_state": before.anchor_state,
                    "anchor_step": before.anchor_step,
                },
            )
            self.library._log("annotation", before.id, "update")

    def delete_annotation(self, annotation_id: str) -> Annotation:
        """Delete an annotation (a tombstone, so the deletion travels and can be undone)."""
        annotation = self.library.set_deleted(annotation_id, True)
        self._push_undo(
            "annotation deleted", lambda: self.library.set_deleted(annotation_id, False)
        )
        self._after_write()
        return annotation

    def link(
        self, claim_id: str, evidence_id: str, *, relation: str = "supports", note: str = ""
    ) -> Link:
        """Link evidence to a claim."""
        link = self.library.link(
            claim_id, evidence_id, author=self.author, relation=relation, note=note
        )
        self._push_undo("link added", lambda: self.library.set_link_deleted(link.id, True))
        self._after_write()
        return link

    def unlink(self, link_id: str) -> Link:
        """Remove a link between a claim and its evidence."""
        link = self.library.set_link_deleted(link_id, True)
        self._push_undo("link removed", lambda: self.library.set_link_deleted(link_id, False))
        self._after_write()
        return link

    def review(self, claim_id: str, verdict: str, comment: str = "") -> Review:
        """Record a verdict on a claim (appended to its history)."""
        review = self.library.review(claim_id, verdict, reviewer=self.author, comment=comment)
        self._after_write()
        return review

    def annotate_quote(
        self,
        document_ref: str,
        quote: str,
        *,
        role: str = "highlight",
        note: str = "",
        tags: Iterable[str] = (),
    ) -> Annotation:
        """Annotate the one place a quote stands in a document named by id or title."""
        document = self.library.resolve_document(document_ref)
        start, end = find_quote(document.text, quote)
        return self.annotate(document.id, start, end, role=role, note=note, tags=tags)

    # -- codebook -------------------------------------------------------------------------

    def rename_tag(self, old: str, new: str) -> Tag:
        """Rename a tag everywhere (one transaction)."""
        tag = self.library.rename_tag(old, new)
        self._after_write()
        return tag

    def merge_tags(self, source: str, target: str) -> Tag:
        """Fold tag `source` into `target`."""
        tag = self.library.merge_tags(source, target)
        self._after_write()
        return tag

    def update_tag(
        self, name: str, *, colour: str | None = None, description: str | None = None
    ) -> Tag:
        """Recolour a tag or change its description."""
        tag = self.library.update_tag(name, colour=colour, description=description)
        self._after_write()
        return tag

    def create_tag(self, name: str, *, colour: str | None = None, description: str = "") -> Tag:
        """Add a tag to the codebook."""
        tag = self.library.ensure_tag(name, colour=colour, description=description)
        self._after_write()
        return tag

    def delete_tag(self, name: str) -> int:
        """Remove a tag from the codebook and every annotation; returns how many carried it."""
        count = self.library.delete_tag(name)
        self._after_write()
        return count

    def _push_undo(self, description: str, run: Callable[[], object]) -> None:
        self._undo.append(_Undo(description, run))
        del self._undo[:-100]

    def undo(self) -> str:
        """Reverse this session's last change; returns what was undone."""
        if not self._undo:
            raise InvalidInput("nothing to undo")
        step = self._undo.pop()
        step.run()
        self._after_write()
        return step.description

    # -- exchange -------------------------------------------------------------------------

    def export_notes(
        self,
        fmt: str,
        out: Path,
        *,
        document: str | None = None,
        tag: str | None = None,
        claims_only: bool = False,
        with_sources: bool = False,
    ) -> list[str]:
        """Export notes in one of EXPORT_FORMATS; returns the lines of the report."""
        lib = self.library
        ids = [lib.resolve_document(document).id] if document else None
        filters = {"document_ids": ids, "tag": tag, "claims_only": claims_only}
        out = Path(out)
        if fmt == "bundle":
            return [exchange.export_bundle(lib, out, with_sources=with_sources, **filters).line()]
        if fmt == "folder":
            return [exchange.export_folder(lib, out, with_sources=with_sources, **filters).line()]
        if fmt == "markdown":
            return [exchange.export_markdown(lib, out, **filters).line()]
        if fmt == "csv":
            return [exchange.export_csv(lib, out, **filters).line()]
        if fmt == "claimreview":
            return [exchange.export_claimreview(lib, out).line()]
        if fmt == "qdpx":
            return exchange.export_qdpx(lib, out).lines()
        raise InvalidInput(f"unknown format {fmt!r}: one of {', '.join(EXPORT_FORMATS)}")

    def import_notes(self, source: Path) -> list[str]:
        """Merge a colleague's notes (bundle file, folder bundle or .qdpx); the report's lines."""
        source = Path(source)
        if source.suffix.lower() == ".qdpx":
            lines = exchange.import_qdpx(self.library, source, author=self.author).lines()
        else:
            lines = exchange.merge(self.library, source, author=self.author).lines()
        # Verdicts arrive without what their reviewer saw: they judge this library as it is.
        self.library.record_missing_grounds()
        self._after_write()
        return lines

    def conflicts(self) -> list[exchange.Conflict]:
        """Merge conflicts waiting for a decision."""
        return exchange.list_conflicts(self.library)

    def resolve_conflict(self, conflict_id: str, keep: str) -> None:
        """Keep my version or take theirs."""
        exchange.resolve_conflict(self.library, conflict_id, keep)
        self._after_write()

    # -- checks ---------------------------------------------------------------------------

    def check(self) -> list[str]:
        """Problems with the library: integrity, index not in step, anchors that do not match."""
        lib = self.library
        problems = lib.integrity_problems()
        for annotation in lib.annotations():
            if annotation.anchor_state == "orphaned":
                problems.append(
                    f"annotation {annotation.id[:8]}: orphaned (quote {annotation.exact[:40]!r} "
                    "no longer found in its document)"
                )
                continue
            text = lib.db.execute(
                "SELECT substr(text, ?, ?) FROM documents WHERE id = ?",
                [annotation.start + 1, annotation.end - annotation.start, annotation.document_id],
            ).fetchone()
            if text is None or text[0] != annotation.exact:
                problems.append(
                    f"annotation {annotation.id[:8]}: its quote no longer matches the text at "
                    f"{annotation.start}-{annotation.end}"
                )
        with self._index_lock:
            try:
                self.index.sync(lib)
            except IndexBusy as busy:
                problems.append(f"index: {busy}")
            else:
                problems += self.index.verify(lib)
        return problems

    def backup(self, target: Path) -> None:
        """Write a consistent copy of the library to `target`."""
        self.library.backup(Path(target))

    # -- reviewers (issue 16) -------------------------------------------------------------

    def staleness(self, claim_ids: Iterable[str] | None = None) -> dict[str, Staleness]:
        """Claims whose latest verdict's ground moved since (see store.staleness), by claim id."""
        found = self.library.staleness(None if claim_ids is None else list(claim_ids))
        return {claim_id: s for claim_id, s in found.items() if s.stale}

    def suggest(self, claim_id: str, *, limit: int = 10) -> Suggestions:
        """Passages of the library most like a claim's words (index.suggest), leaving out the
        claim's own passage and the evidence already linked to it."""
        lib = self.library
        claim = lib.annotation(claim_id)
        if claim.role != "claim":
            raise InvalidInput("suggestions are for claims; this annotation is a highlight")
        if limit < 1:
            raise InvalidInput("--limit must be at least 1")
        exclude: dict[str, list[tuple[int, int]]] = {claim.document_id: [(claim.start, claim.end)]}
        for link in lib.links(claim_id=claim_id):
            evidence = lib.annotation(link.evidence_id)
            if not evidence.deleted:
                exclude.setdefault(evidence.document_id, []).append((evidence.start, evidence.end))
        with self._index_lock:
            try:
                self.index.sync(lib)
            except IndexBusy as busy:
                log.info("suggesting from a slightly stale index: %s", busy)
            found = self.index.suggest(lib, claim.exact, exclude=exclude, limit=limit)
        documents = {doc_id: lib.document(doc_id) for doc_id in {h.document_id for h in found.hits}}
        hits = [
            replace(h, citation=terminal_safe(citation(documents[h.document_id], h.start)))
            for h in found.hits
        ]
        return replace(found, hits=hits)

    def link_suggestion(self, claim_id: str, suggestion: Suggestion, relation: str) -> Link:
        """Mark the suggested sentence (a highlight, or my existing one there) and link it."""
        evidence = self.annotate(suggestion.document_id, suggestion.start, suggestion.end)
        return self.link(claim_id, evidence.id, relation=relation)

    def agreement(self) -> AgreementReport:
        """How far reviewers agree on the claims two or more of them judged (store.agreement)."""
        lib = self.library
        claims = {s.claim.id: s for s in lib.claims()}
        reviews = lib.reviews()
        names = {r.reviewer_id: r.reviewer_name for r in reviews}  # the latest name shown
        found = compare_coders(verdict_ratings(reviews, set(claims)))
        # Disagreements in the board's order (by document, then position), not by id.
        order = {claim_id: n for n, claim_id in enumerate(claims)}
        found = replace(
            found,
            disagreements=dict(
                sorted(found.disagreements.items(), key=lambda item: order[item[0]])
            ),
        )
        return AgreementReport(
            found, names, {claim_id: claims[claim_id] for claim_id in found.disagreements}
        )

    def judged_by_me(self) -> set[str]:
        """The claims I have given a verdict (the reviewer's queue leaves them out)."""
        return {r.claim_id for r in self.library.reviews() if r.reviewer_id == self.author.id}

    def tag_agreement(self) -> tuple[list[TagAgreement], dict[str, str]]:
        """How far coders agree, tag by tag, on the documents two or more of them annotated;
        with the names to show (author id -> name)."""
        lib = self.library
        annotations = lib.annotations()
        coders_of: dict[str, set[str]] = {}
        names: dict[str, str] = {}
        for a in annotations:
            coders_of.setdefault(a.document_id, set()).add(a.author_id)
            names[a.author_id] = a.author_name
        spans = [
            Span(a.document_id, a.author_id, tag, a.start, a.end)
            for a in annotations
            if a.anchor_state != "orphaned"
            for tag in a.tags
        ]
        lengths = {d.id: d.length for d in lib.documents()}
        return compare_taggers(spans, lengths, coders_of), names
