"""The one API that the command line and the app both call: no Textual here.

Every write commits in the store first, then brings the index up to date, so a crash between
the two loses nothing (the next sync catches up from the change log).
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rapidfuzz import fuzz

from index.errors import IndexBusy
from store.agreement import (
    Agreement,
    Span,
    TagAgreement,
    compare_coders,
    compare_taggers,
    verdict_ratings,
)
from store.citation import citation
from store.errors import IngestError, InvalidInput, MarginError, NotFound
from store.ingest import Limits, extract, iter_source_files
from store.library import TAG_PALETTE as TAG_PALETTE  # re-exported for the codebook screen
from store.library import Library, tag_name, text_sha256
from store.library import parse_colour as parse_colour  # re-exported for the CLI
from store.profile import load_profile, rename_profile
from store.quotes import find_quote, fold
from store.records import (
    Annotation,
    Author,
    ClaimSummary,
    Document,
    DocumentSummary,
    Link,
    Review,
    Tag,
    now,
)
from store.sanitize import terminal_safe
from store.schema import EXPORT_FORMATS as EXPORT_FORMATS  # re-exported for the screens
from store.signing import KeyRing, KnownAuthor
from store.staleness import Staleness
from store.versions import UpdateReport, update_document

log = logging.getLogger(__name__)


class _OnFirstUse:
    """A module imported when first used: `margin list` or `search` needs none of the
    exchange code (0.09 s of imports and its memory, issue 11)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)


exchange = _OnFirstUse("store.exchange")

Progress = Callable[[int, int], None]
SMALL_BACKLOG = 50
"""Changes a search applies before answering (a few notes just saved; one costs ~10 ms)."""


def _report_types() -> dict[str, Any]:
    """What an export or an import reports, as data each caller renders in its own way."""
    return {
        "ExportReport": exchange.ExportSummary | exchange.QdpxReport,
        "ImportReport": exchange.MergeReport | exchange.QdpxReport,
        "MergeReport": exchange.MergeReport,
        "Conflict": exchange.Conflict,
    }


if TYPE_CHECKING:
    from index import SearchIndex, SearchResult
    from index.suggest import Suggestion, Suggestions
    from store.exchange import ExportSummary, MergeReport, QdpxReport
    from store.exchange.gitsync import SyncReport

    ExportReport = ExportSummary | QdpxReport
    ImportReport = MergeReport | QdpxReport


def __getattr__(name: str) -> Any:
    # The report types import the exchange code: only a screen that shows them asks.
    if name in ("ExportReport", "ImportReport", "MergeReport", "Conflict"):
        return _report_types()[name]
    if name == "SearchResult":  # re-exported for the search screen
        from index import SearchResult

        return SearchResult
    if name in ("Suggestion", "Suggestions"):  # re-exported for the claim screen
        from index import suggest

        return getattr(suggest, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
            "update": (
                {
                    "in_place": self.report.ok,
                    "moved": len(self.report.moved),
                    "orphaned": len(self.report.orphaned),
                }
                if self.report is not None
                else None
            ),
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
    index_later: Callable[[], None] | None = field(default=None, repr=False)
    """Set by the app: after a write, bring the index up to date off the event loop (call
    `sync_index_after_write` in a worker). The command line leaves it None and syncs in place."""

    def __post_init__(self) -> None:
        self.library_path = Path(self.library_path)
        self._local = threading.local()
        self._index: SearchIndex | None = None
        self._index_lock = threading.RLock()
        self._undo: list[_Undo] = []
        self._keys: KeyRing | None = None
        self.index_deferred: str | None = None
        """Set when a write was saved but the index could not follow: the line to show."""
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
        from index import index_dir_for

        return index_dir_for(self.library_path)

    @property
    def index(self) -> SearchIndex:
        with self._index_lock:
            if self._index is None:
                from index import SearchIndex

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

    def sync_index(self, progress: Progress | None = None, *, wait: bool = True) -> int:
        """Apply the library's new changes to the index here; returns how many were applied."""
        with self._index_lock:
            return self.index.sync(self.library, progress=progress, wait=wait)

    def sync_index_saved(self, progress: Progress | None = None, *, wait: bool = True) -> bool:
        """After a write that committed: bring the index up to date, or say why it could not.

        The write is done either way (the change log holds it), so a busy index, a full disk or
        any other OSError of the index becomes `index_deferred`, one line, never an error: an
        `annotate` that exited 1 with `OSError: [Errno 28]` after saving made users think the
        note was lost (issue 15). Returns True when the index is in step."""
        try:
            self.sync_index(progress, wait=wait)
        except (MarginError, OSError) as error:
            self.index_deferred = deferred_line(error)
            log.info("index sync deferred: %s", error)
            return False
        return True

    def sync_index_in_child(self, progress: Progress | None = None) -> None:
        """Catch the index up in a child process (bulk work that would starve this process)."""
        from index import sync_in_child

        sync_in_child(self.library_path, self.index_dir, progress)
        with self._index_lock:
            self.index.refresh()

    def index_behind(self) -> bool:
        """True when the index is missing, unusable or has changes still to apply."""
        with self._index_lock:
            index_seq, store_seq = self.index.index_state(self.library)
        return index_seq != store_seq

    def _after_write(self) -> None:
        if self.index_later is not None:
            self.index_later()
            return
        # The store has the change; the next sync picks it up. A note never waits for another
        # process's indexing (an annotate waited 10.8 s after saving: issue 15).
        self.sync_index_saved(wait=False)

    def data_version(self) -> int:
        """Changes when someone else (another process or thread) has written to the library."""
        return self.library.data_version()

    def sync_index_after_write(self) -> str | None:
        """In a worker thread: apply the latest writes to the index, then close the thread's
        connection. The store has every change already, so a failure here is no error: it
        returns the one line to show (`index_deferred`), and the next sync catches up from
        the change log."""
        try:
            return None if self.sync_index_saved() else self.index_deferred
        finally:
            lib = getattr(self._local, "library", None)
            if lib is not None:
                lib.close()
                self._local.library = None

    @property
    def keys(self) -> KeyRing:
        """This profile's signing key and the people it knows (made on first use)."""
        if self._keys is None or self._keys.me != self.author:
            self._keys = KeyRing.load(self.config_dir, self.author)
        return self._keys

    def _signer(self) -> Callable[[dict], dict] | None:
        # A first key cannot be written to a full disk: the export still goes out, unsigned
        # (its records then count as unverified for whoever receives them).
        try:
            return self.keys.sign
        except OSError as error:
            log.warning("exporting unsigned: %s", error)
            return None

    def authors(self) -> list[KnownAuthor]:
        """The people this profile knows, with their key fingerprints (this person first)."""
        return self.keys.authors()

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
            if path.is_dir():  # met in a walk: a folder we may not list, or a link not followed
                yield ImportResult(path, "failed", reason=_folder_reason(path))
                continue
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
            except OSError as error:  # one unreadable path aborted the whole batch (issue 15)
                yield ImportResult(path, "failed", reason=error.strerror or str(error))
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

    def search(
        self, query: str, *, limit: int = 20, on_rebuild: Callable[[str], None] | None = None
    ) -> SearchResult:
        """Ranked hits from what is indexed now, with how many changes are still pending.

        A reader never does the writer's work: with a CLI import of 25 books running, one
        search that caught the index up first took 171 s (issue 11). Only a backlog of a few
        notes (a note just saved) is applied first, and only when nobody holds the index; a
        missing or broken index is still rebuilt here, since nothing else would answer.
        """
        with self._index_lock:
            index = self.index
            library = self.library
            try:
                index.catch_up_small(library, SMALL_BACKLOG)
            except (MarginError, OSError) as error:
                log.info("searching without the last notes: %s", error)
            result = index.search(library, query, limit=limit, on_rebuild=on_rebuild)
            return dataclasses.replace(result, pending=index.pending(library))

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
            f"{annotation.role} added",
            lambda: self.library.set_deleted(annotation.id, True, editor=self.author),
        )
        self._after_write()
        return annotation

    def set_role(self, annotation_id: str, role: str) -> Annotation:
        """Make an annotation a claim or a plain highlight."""
        before = self.library.annotation(annotation_id)
        after = self.library.update_annotation(annotation_id, role=role, editor=self.author)
        self._push_undo(
            f"{role} set",
            lambda: self.library.update_annotation(
                annotation_id, role=before.role, editor=self.author
            ),
        )
        self._after_write()
        return after

    def set_note(self, annotation_id: str, note: str) -> Annotation:
        """Write or replace an annotation's note."""
        before = self.library.annotation(annotation_id)
        after = self.library.update_annotation(annotation_id, note=note, editor=self.author)
        self._push_undo(
            "note changed",
            lambda: self.library.update_annotation(
                annotation_id, note=before.note, editor=self.author
            ),
        )
        self._after_write()
        return after

    def set_tags(self, annotation_id: str, names: Iterable[str]) -> Annotation:
        """Replace an annotation's tags (new names create tags)."""
        before = self.library.annotation(annotation_id)
        after = self.library.set_tags(annotation_id, list(names), editor=self.author)
        self._push_undo(
            "tags changed",
            lambda: self.library.set_tags(annotation_id, before.tags, editor=self.author),
        )
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
        after = self.library.update_annotation(
            annotation_id, start=start, end=end, editor=self.author
        )
        self._push_undo("re-attached", lambda: self._restore_anchor(before))
        self._after_write()
        return after

    def _restore_anchor(self, before: Annotation) -> None:
        self.library.restore_anchor(
            before.id,
            start=before.start,
            end=before.end,
            exact=before.exact,
            prefix=before.prefix,
            suffix=before.suffix,
            state=before.anchor_state,
            step=before.anchor_step,
        )

    def delete_annotation(self, annotation_id: str) -> Annotation:
        """Delete an annotation (a tombstone, so the deletion travels and can be undone)."""
        annotation = self.library.set_deleted(annotation_id, True, editor=self.author)
        self._push_undo(
            "annotation deleted",
            lambda: self.library.set_deleted(annotation_id, False, editor=self.author),
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
        self._push_undo(
            "link added", lambda: self.library.set_link_deleted(link.id, True, editor=self.author)
        )
        self._after_write()
        return link

    def unlink(self, link_id: str) -> Link:
        """Remove a link between a claim and its evidence."""
        link = self.library.set_link_deleted(link_id, True, editor=self.author)
        self._push_undo(
            "link removed",
            lambda: self.library.set_link_deleted(link_id, False, editor=self.author),
        )
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

    def export_report(
        self,
        fmt: str,
        out: Path,
        *,
        document: str | None = None,
        tag: str | None = None,
        claims_only: bool = False,
        with_sources: bool = False,
        publisher_url: str | None = None,
    ) -> ExportReport:
        """Export notes in one of EXPORT_FORMATS; returns what was written, as data.

        Every filter means the same in every format; a format that cannot honour one refuses
        it rather than ignore it: a report for people names its sources but carries no texts.
        """
        if publisher_url is not None and fmt != "claimreview":
            raise InvalidInput("--publisher-url is the base of ClaimReview urls: claimreview only")
        if fmt == "qdc" and (document or tag or claims_only or with_sources):
            raise InvalidInput(
                "qdc is the codebook alone (the tags): --doc, --tag, --claims-only and "
                "--with-sources do not apply; use qdpx for notes"
            )
        if with_sources and fmt in ("markdown", "csv", "claimreview"):
            raise InvalidInput(
                f"--with-sources embeds the document texts, which {fmt} does not carry: "
                "use bundle or folder (qdpx always carries them)"
            )
        lib = self.library
        ids = [lib.resolve_document(document).id] if document else None
        filters = {"document_ids": ids, "tag": tag, "claims_only": claims_only}
        out = Path(out)
        if fmt == "bundle":
            return exchange.export_bundle(
                lib, out, with_sources=with_sources, sign=self._signer(), **filters
            )
        if fmt == "folder":
            return exchange.export_folder(
                lib, out, with_sources=with_sources, sign=self._signer(), **filters
            )
        if fmt == "markdown":
            return exchange.export_markdown(lib, out, **filters)
        if fmt == "csv":
            return exchange.export_csv(lib, out, **filters)
        if fmt == "claimreview":
            from store.exchange import claimreview

            if publisher_url is not None:  # set once, for every later export
                claimreview.save_publisher(self.config_dir, publisher_url)
            base = claimreview.load_publisher(self.config_dir)
            return exchange.export_claimreview(lib, out, publisher_url=base, **filters)
        if fmt == "qdpx":
            return exchange.export_qdpx(lib, out, **filters)
        if fmt == "qdc":
            return exchange.export_qdc(lib, out)
        raise InvalidInput(f"unknown format {fmt!r}: one of {', '.join(EXPORT_FORMATS)}")

    def export_notes(
        self,
        fmt: str,
        out: Path,
        *,
        document: str | None = None,
        tag: str | None = None,
        claims_only: bool = False,
        with_sources: bool = False,
        publisher_url: str | None = None,
    ) -> list[str]:
        """Export notes in one of EXPORT_FORMATS; returns the lines of the report."""
        return self.export_report(
            fmt,
            out,
            document=document,
            tag=tag,
            claims_only=claims_only,
            with_sources=with_sources,
            publisher_url=publisher_url,
        ).lines()

    def import_report(self, source: Path) -> ImportReport:
        """Merge notes: a margin bundle (file or folder), W3C annotations from any tool,
        Hypothesis JSON, Kindle clippings, Readwise CSV or REFI-QDA (.qdpx, .qde, .qdc); what
        happened, as data: counts, where notes were placed, conflicts, orphans, refusals."""
        # Which tool wrote it is told by the content (store.exchange.router), not the name.
        source = Path(source)
        keys = self.keys
        report = exchange.merge_any(
            self.library,
            source,
            author=self.author,
            check=lambda item: keys.check(item, source.name),
        )
        keys.save()  # the people met on first use, once the merge has committed
        self._after_write()
        return report

    def import_notes(self, source: Path) -> list[str]:
        """Merge a colleague's notes (bundle file, folder bundle or .qdpx); the report's lines."""
        return self.import_report(source).lines()

    def conflicts(self) -> list[exchange.Conflict]:
        """Merge conflicts waiting for a decision."""
        return exchange.list_conflicts(self.library)

    def resolve_conflict(self, conflict_id: str, keep: str, note: str | None = None) -> None:
        """Keep my version, take theirs, keep both, or keep `note` (an edit of the two)."""
        exchange.resolve_conflict(
            self.library,
            conflict_id,
            keep,  # type: ignore[arg-type]  # checked there, one line when wrong
            note=note,
            editor=self.author,
        )
        self._after_write()

    def sync_notes(self, remote: str | None = None, *, init: str | None = None) -> SyncReport:
        """`margin sync`: with `init` (a path or URL git accepts), clone the team's notes
        repository first; then export, commit, pull, push and merge what came in."""
        from store.exchange import gitsync

        if init is not None:
            gitsync.init(self.library_path, init)
        report = gitsync.sync(
            self.library, self.library_path, author=self.author, remote=remote or "origin"
        )
        self._after_write()
        return report

    def notes_repository(self) -> Path | None:
        """The clone of the team's notes repository `margin sync` uses, or None before
        `margin sync --init`."""
        from store.exchange.gitsync import notes_repository

        repo = notes_repository(self.library_path)
        return repo if (repo / ".git").exists() else None

    def conflict_draft(self, conflict_id: str) -> str:
        """Both versions' notes joined under each writer's name: what the note editor opens on
        when a conflict is settled by an edit."""
        conflict = self.conflict(conflict_id)
        return exchange.joined_note(conflict.mine, conflict.theirs)

    def conflicts_settled(self) -> str:
        """What became of the conflicts, for a list with none open."""
        return exchange.settled_summary(self.library)

    def conflict(self, conflict_id: str) -> exchange.Conflict:
        """One stored conflict (open or settled), with its document and quote."""
        for found in exchange.list_conflicts(self.library, include_resolved=True):
            if found.id == conflict_id:
                return found
        raise NotFound(f"no conflict with id {conflict_id}")

    # -- checks ---------------------------------------------------------------------------

    def backup(self, target: Path) -> None:
        """Write a consistent copy of the library to `target`."""
        self.library.backup(Path(target))

    # -- reads for the screens and the CLI ---------------------------------------------------

    def text_around(
        self, document_id: str, offset: int, *, before: int, length: int
    ) -> tuple[int, str] | None:
        """(start, text) of `length` characters of a document from `before` characters ahead
        of `offset`, without loading the whole text; None when the document is gone."""
        start = max(0, offset - before)
        text = self.library.text_at(document_id, start, length)
        return None if text is None else (start, text)

    def tag_examples(self, name: str, limit: int = 8) -> list[tuple[str, str]]:
        """(quote, document title) of the newest notes carrying a tag (or one nested under it)."""
        return self.library.recent_quotes(name, limit)

    def documents(self) -> list[DocumentSummary]:
        """The documents with their counts of notes, for the library screen."""
        return self.library.documents()

    def document(self, document_id: str) -> Document:
        """One document, text included."""
        return self.library.document(document_id)

    def deletion_preview(self, document_id: str) -> tuple[DocumentSummary, int, int]:
        """What deleting a document takes with it: (summary, notes, links to other documents)."""
        lib = self.library
        return (
            lib.document_summary(document_id),
            lib.count_notes(document_id),
            lib.links_to_other_documents(document_id),
        )

    def annotation(self, annotation_id: str) -> Annotation:
        """One annotation (tombstones too)."""
        return self.library.annotation(annotation_id)

    def annotations(self, document_id: str) -> list[Annotation]:
        """A document's live annotations in text order."""
        return self.library.annotations(document_id)

    def evidence_ids(self, document_id: str) -> set[str]:
        """The annotations of a document linked as evidence to some claim."""
        return self.library.evidence_ids(document_id)

    def tags(self) -> list[Tag]:
        """The codebook with counts."""
        return self.library.tags()

    def claims(self, **filters: object) -> list[ClaimSummary]:
        """The claims board (filters as Library.claims: document_id, no_evidence, unreviewed,
        verdict, tag, order)."""
        return self.library.claims(**filters)  # type: ignore[arg-type]

    def reviews(self, claim_id: str) -> list[Review]:
        """The verdicts on a claim, oldest first."""
        return self.library.reviews(claim_id)

    def evidence_links(self, claim_id: str) -> list[Link]:
        """A claim's live links to its evidence, oldest first."""
        return self.library.links(claim_id=claim_id)

    def resolve_document(self, ref: str) -> Document:
        """A document named by id, id prefix, title or path (as the CLI's arguments name it)."""
        return self.library.resolve_document(ref)

    def resolve_annotation(self, ref: str) -> Annotation:
        """An annotation named by id or a unique id prefix."""
        return self.library.resolve_annotation(ref)

    def quick_problems(self) -> list[str]:
        """SQLite's quick check of the library file (empty when sound)."""
        return self.library.quick_problems()

    def rebuild_index(self, progress: Progress | None = None) -> int:
        """Build the search index again from the library; returns the documents indexed."""
        with self._index_lock:
            self.index.rebuild(self.library, progress=progress)
        return len(self.library.document_ids())

    def version_candidate(self, path: Path) -> DocumentSummary | None:
        """The document a file may be a new version of, judged by its name (no reading).

        For a file not imported before from this path whose name, without version marks
        ("-v2", "_final", "(1)", dates), is close to a document's file name or title:
        report-v2.pdf for report.pdf. None for folders and for paths imported before (those
        become new versions by rule).
        """
        path = Path(path)
        if not path.is_file() or self.library.document_by_source(str(path.resolve())):
            return None
        mine = _bare_name(path.name)
        best: tuple[float, DocumentSummary | None] = (0.0, None)
        for summary in self.library.documents():
            names = [fold(summary.title)]
            if summary.source and "://" not in summary.source:
                names.append(_bare_name(Path(summary.source).name))
            score = max(
                fuzz.ratio(mine, name) if _numbers(name) == _numbers(mine) else 0.0
                for name in names
            )
            if score > best[0]:
                best = (score, summary)
        # 85 lets "report-v2"/"report" and "Annual report 2024 final"/"annual report 2024" by
        # and stops "notes"/"report" (36); names whose numbers differ ("federalist-no-10" and
        # "-51", 94 by letters) are different documents, not versions.
        return best[1] if best[0] >= 85 else None

    def export_target_taken(self, fmt: str, out: Path) -> str | None:
        """Why exporting `fmt` to `out` would overwrite something, or None (see the function)."""
        return export_target_taken(fmt, out)

    # -- the command line's twins of the app's actions ------------------------------------

    def import_version(
        self, path: Path, document_ref: str, *, encoding: str | None = None
    ) -> ImportResult:
        """Import `path` as a new version of the document named by id, id prefix or title.

        A new file name for a new version (report-v2.pdf for report.pdf): the document keeps
        its id and its notes, re-anchored; its source becomes the new path, so the next import
        of that path updates it again. A DOC that names no document (or several) raises.
        """
        lib = self.library
        document = lib.resolve_document(document_ref)
        path = Path(path)
        try:
            extracted = extract(path, self.limits, encoding=encoding)
            report = update_document(lib, document.id, extracted)
            if extracted.source != document.source:
                lib.set_source(document.id, extracted.source)
        except IngestError as error:
            return ImportResult(path, "failed", reason=error.reason)
        except MarginError as error:
            return ImportResult(path, "failed", reason=str(error))
        if not report.changed:
            return ImportResult(path, "duplicate", title=document.title, document_id=document.id)
        return ImportResult(
            path,
            "updated",
            title=document.title,
            document_id=document.id,
            warnings=tuple(report.lines()[1:]),
            report=report,
        )

    def check_report(self) -> CheckReport:
        """Health and damage told apart: orphaned notes are a normal state after a new version
        (notes to look at); damage is a file SQLite finds broken, an anchor that points outside
        or off its text, or an index that a sync cannot bring into step."""
        lib = self.library
        damage = lib.integrity_problems()
        notes: list[str] = []
        if damage:  # reading further could fail on the broken pages
            return CheckReport(damage, notes)
        lengths = lib.text_lengths()
        for annotation in lib.annotations():
            quote = " ".join(annotation.exact.split())[:40]
            if annotation.anchor_state == "orphaned":
                notes.append(
                    f"annotation {annotation.id[:8]}: orphaned by a new version of its document "
                    f"(quote {quote!r} not found): re-attach it in the reader, or delete it"
                )
                continue
            length = lengths.get(annotation.document_id)
            if length is None or not 0 <= annotation.start <= annotation.end <= length:
                damage.append(
                    f"annotation {annotation.id[:8]}: anchor {annotation.start}-{annotation.end} "
                    f"lies outside its document's text ({length or 0} characters)"
                )
                continue
            text = lib.text_at(
                annotation.document_id, annotation.start, annotation.end - annotation.start
            )
            if text != annotation.exact:
                damage.append(
                    f"annotation {annotation.id[:8]}: its quote no longer matches the text at "
                    f"{annotation.start}-{annotation.end}"
                )
        with self._index_lock:
            try:
                self.index.sync(lib)
            except IndexBusy as busy:  # another process is writing it: not damage, try later
                notes.append(f"index: not checked, {busy}")
            else:
                damage += self.index.verify(lib)  # each line says "index: ..." already
        return CheckReport(damage, notes)

    def remove_tag(self, annotation_id: str, name: str) -> Annotation:
        """Take one tag off one annotation (the tag stays in the codebook)."""
        current = self.library.annotation(annotation_id)
        name = tag_name(name)
        if name not in current.tags:
            carried = ", ".join(current.tags) or "no tags"
            raise NotFound(f"annotation {annotation_id[:8]} has no tag {name!r} ({carried})")
        return self.set_tags(annotation_id, [t for t in current.tags if t != name])

    def unlink_pair(self, claim_id: str, evidence_id: str) -> Link:
        """Remove the live link between a claim and a piece of evidence."""
        found = self.library.links(claim_id=claim_id, evidence_id=evidence_id)
        if not found:
            raise NotFound(f"{evidence_id[:8]} is not linked as evidence to claim {claim_id[:8]}")
        removed = found[0]
        for link in found:
            removed = self.unlink(link.id)
        return removed

    def resolve_conflict_ref(
        self, ref: str, keep: str, note: str | None = None
    ) -> exchange.Conflict:
        """Resolve the open conflict named by id or a unique id prefix (4+ characters)."""
        known = exchange.list_conflicts(self.library, include_resolved=True)
        found = [c for c in known if c.id == ref] or [
            c for c in known if len(ref) >= 4 and c.id.startswith(ref)
        ]
        if not found:
            raise NotFound(f"no conflict matches {ref!r}")
        if len(found) > 1:
            raise InvalidInput(f"{ref!r} matches {len(found)} conflicts; give more of the id")
        self.resolve_conflict(found[0].id, keep, note)
        return found[0]

    def restore(self, backup: Path, *, force: bool = False) -> RestoreReport:
        """Replace the library with a backup (made by `backup`), keeping a safety copy.

        Refused when the library has changes newer than the backup, unless `force`: a
        restore that silently dropped a day's notes is what a backup is meant to prevent.
        The backup file itself is only read; the index is rebuilt from the restored library.
        """
        backup = Path(backup)
        target = self.library_path
        if not backup.is_file():
            raise NotFound(f"{backup}: no such file")
        if target.exists() and backup.resolve() == target.resolve():
            raise InvalidInput(f"{backup} is the library itself")
        staged = target.with_name(f".{target.name}.restoring-{os.getpid()}")
        staged.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copyfile(backup, staged)
            try:
                incoming = Library(staged)  # migrated on the copy, never on the backup
            except MarginError as error:
                # The reason names the staging copy, which the person never sees.
                reason = str(error).replace(f"{staged}: ", "").replace(str(staged), "the file")
                if "margin library" not in reason:
                    reason = f"not a margin library ({reason})"
                raise InvalidInput(f"{backup}: {reason}") from error
            try:
                damage = incoming.integrity_problems()
                if damage:
                    raise InvalidInput(f"{backup}: {damage[0]}")
                theirs = incoming.last_change()
                documents = len(incoming.document_ids())
                notes = len(incoming.annotations())
            finally:
                incoming.close()
            mine = self.library.last_change()
            if not force and (mine[0] > theirs[0] or mine[1] > theirs[1]):
                raise InvalidInput(
                    f"{target} has changes newer than {backup} (last change "
                    f"{mine[1] or 'unknown'}, the backup's {theirs[1] or 'none'}): "
                    "--force replaces it all the same, keeping a safety copy"
                )
            safety = None
            if mine[0]:
                stamp = now().replace("-", "").replace(":", "").replace(".", "")
                safety = target.with_name(f"{target.stem}.before-restore-{stamp}{target.suffix}")
                self.library.backup(safety)
            self.close()
            wal = Path(f"{target}-wal")
            if wal.exists() and wal.stat().st_size:
                # The last connection's close empties the WAL: one still there is another
                # process (the app?) holding the library, whose writes would be lost.
                self.library  # noqa: B018 - reopen: nothing was replaced
                raise InvalidInput(f"{target} is open in another margin: close it first")
            os.replace(staged, target)
            for suffix in ("-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            shutil.rmtree(self.index_dir, ignore_errors=True)
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{staged}{suffix}").unlink(missing_ok=True)
        self._undo.clear()
        self.library  # noqa: B018 - open the restored file
        self._after_write()
        return RestoreReport(backup, target, safety, documents, notes)

    def retitle(
        self,
        document_ref: str,
        title: str | None = None,
        *,
        author: str | None = None,
        published: str | None = None,
    ) -> Document:
        """Name a document (by id or title): title, author, date; the index follows."""
        document = self.library.resolve_document(document_ref)
        named = self.library.retitle(document.id, title, author=author, published=published)
        self._after_write()
        return named

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
        # The rule of `search`: a reader never does the writer's work, only a small backlog.
        with self._index_lock:
            index = self.index
            try:
                index.catch_up_small(lib, SMALL_BACKLOG)
            except (MarginError, OSError) as error:
                log.info("suggesting without the last notes: %s", error)
            found = index.suggest(lib, claim.exact, exclude=exclude, limit=limit)
            found = replace(found, pending=index.pending(lib))
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


@dataclass(frozen=True)
class CheckReport:
    """What `check` found: damage (exit 1) and notes to look at (a sound library may have them)."""

    damage: list[str]
    notes: list[str]

    @property
    def sound(self) -> bool:
        return not self.damage

    def to_json(self) -> dict:
        return {"sound": self.sound, "damage": self.damage, "notes": self.notes}


@dataclass(frozen=True)
class RestoreReport:
    """What a restore replaced, and where the replaced library was kept."""

    backup: Path
    library: Path
    safety_copy: Path | None
    documents: int
    notes: int

    def line(self) -> str:
        kept = f"; the replaced library is kept at {self.safety_copy}" if self.safety_copy else ""
        return (
            f"restored {self.library} from {self.backup}: {self.documents} documents, "
            f"{self.notes} notes{kept}"
        )

    def to_json(self) -> dict:
        return {
            "backup": str(self.backup),
            "library": str(self.library),
            "safety_copy": str(self.safety_copy) if self.safety_copy else None,
            "documents": self.documents,
            "notes": self.notes,
        }


def export_target_taken(fmt: str, out: Path) -> str | None:
    """Why an export to `out` would overwrite something (None when the place is free).

    A folder bundle margin wrote before is free: exporting into it again is how two people
    share one folder in git (their files stay, one's own are brought up to date).
    """
    out = Path(out)
    if fmt == "folder":
        if not out.is_dir() or not any(out.iterdir()):
            return None if not out.exists() or out.is_dir() else f"{out} exists and is not a folder"
        if all(child.name.startswith(".") or child.is_dir() for child in out.iterdir()) and any(
            (out / kind).is_dir() for kind in ("annotations", "documents", "tags")
        ):
            return None
        return f"{out} is a folder with files in it, not a margin folder bundle"
    if out.is_dir():
        return f"{out} is a folder; give a file name"
    if out.exists():
        return f"{out} exists"
    return None


_VERSION_MARK = re.compile(
    r"([-_ .]*\b(v|ver|version|rev)[-_ .]?\d+|[-_ .]*\b(draft|final|new|copy|updated|revised)"
    r"|\s*\(\d+\)|[-_ .]\d{4}-?\d\d-?\d\d)$",
    re.IGNORECASE,
)


def _bare_name(name: str) -> str:
    """A file name without extension and version marks, folded: "Report_v2 (1).pdf" -> "report"."""
    stem = (name.rsplit(".", 1)[0] if "." in name else name).replace("_", " ")
    while True:
        shorter = _VERSION_MARK.sub("", stem)
        if shorter == stem or not shorter:
            break
        stem = shorter
    return fold(stem.replace("_", " ").replace("-", " "))


def _numbers(name: str) -> list[str]:
    return re.findall(r"\d+", name)


def deferred_line(error: BaseException) -> str:
    """One line for a write that committed while the index could not follow it."""
    if isinstance(error, IndexBusy):
        reason = "the other margin process has finished writing the index"
    elif isinstance(error, OSError):
        where = f" ({error.filename})" if error.filename else ""
        reason = f"the index can be written again: {error.strerror or error}{where}"
    else:
        reason = f"the index can be written again: {error}"
    return f"saved; search will catch up when {reason} (or run `margin reindex`)"


def nothing_taken(report: ImportReport) -> bool:
    """True when a merge refused records and took none: the command exits 1 (a bundle whose
    every record was refused exited 0, issue 15)."""
    if isinstance(report, exchange.MergeReport):
        taken = report.added + report.updated + report.unchanged + report.kept_newer
        return bool(report.rejected) and not (taken or report.conflicts)
    return bool(report.refused) and not any(report.counts.values())


def _folder_reason(path: Path) -> str:
    if path.is_symlink():
        return "a link to a folder: not followed (it could loop); import its target by name"
    try:
        with os.scandir(path):
            pass
    except OSError as error:
        return f"folder cannot be read ({error.strerror or error}); its files were skipped"
    return "a folder met in the walk; import it by name"
