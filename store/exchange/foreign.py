"""Notes written by other tools, on their way into margin: what every reader yields, how their
documents are found here, and how they become a checked bundle for the one merge.

Every reader (`foreign_w3c`, `hypothesis`, `kindle`, `readwise`) turns its file into
`ForeignNote`s and one line per record it cannot read. This module then:
- gives each note a stable margin id: a UUID 5 of the tool, the file's own id for the note
  (or, where the tool has none, the note's book, place and quote), so the same input always
  maps to the same note and merging twice adds nothing;
- finds its document in the library by margin's id, by the text's hash, by URL (the
  document's source or a canonical or source URL in its metadata), or by title and author;
  a note whose document is not here is listed once per document ("import the book first"),
  and placed by the next merge after the import;
- leaves the positions out where they do not fit, so the merge anchors the quote through
  `store.anchoring` (ranked; an unplaceable quote is an orphan, reported);
- fills a missing creator or time with a stated default: "unknown, from FILE", the file's
  modification time (said in the report).
The merge itself (`merge.merge_bundle`) writes, through `Library`, in one transaction.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from store.anchoring import quote_at
from store.errors import InvalidInput, NotFound
from store.library import Library, tag_name
from store.records import Document, format_time
from store.sanitize import clean_field, ingest_clean

from .checks import parse_time
from .untrusted import Limits, RecordError, show
from .validate import Bundle, InAnnotation

# Fixed for ever: changing it would give every imported note a new id on the next merge.
_NAMESPACE = uuid.UUID("6f1c1c52-8a39-4c55-9d55-3b9a3c1e0d13")


def stable_id(*parts: str) -> str:
    """The margin id of a foreign record: the same parts always give the same UUID."""
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts)))


@dataclass(frozen=True)
class DocumentRef:
    """What a foreign note says about its document; any of it may be missing."""

    ids: tuple[str, ...] = ()
    sha256: str | None = None
    urls: tuple[str, ...] = ()
    title: str | None = None
    author: str | None = None

    def label(self) -> str:
        """The document as the report names it."""
        if self.urls:  # a page is known by its address (its title may be anyone's)
            return show(self.urls[0], 80) + (f" ({show(self.title, 50)})" if self.title else "")
        if self.title:
            return show(self.title, 60) + (f" by {show(self.author, 40)}" if self.author else "")
        if self.ids:
            return show(self.ids[0], 60)
        return "an unnamed document"


@dataclass
class ForeignNote:
    """One highlight or note as another tool wrote it, before its document is found."""

    key: str  # the tool's id for it, or what identifies it where the tool has none
    original_id: str | None
    document: DocumentRef
    exact: str
    prefix: str = ""
    suffix: str = ""
    start: int | None = None
    end: int | None = None
    note: str = ""
    tags: tuple[str, ...] = ()
    creator: str | None = None
    created: str | None = None
    modified: str | None = None
    # Where the tool already names the note or its creator by a urn:uuid (margin's own form),
    # that id is kept as it is.
    uuid: str | None = None
    creator_uuid: str | None = None


@dataclass
class ForeignRead:
    """Everything one reader got from one file."""

    format: str
    name: str
    notes: list[ForeignNote] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    originals: dict[str, str] = field(default_factory=dict)  # margin id -> the tool's id


# -- small readers' helpers ------------------------------------------------------------------


def text_field(value: Any, what: str, limit: int) -> str:
    """A string of a foreign record, cleaned as data (RecordError when not a string or too long)."""
    if value is None:
        return ""
    if type(value) is not str:
        raise RecordError(f"{what} is not a string")
    if len(value) > limit:
        raise RecordError(f"{what} is {len(value):,} characters, over the limit of {limit:,}")
    return ingest_clean(value)[0]


def tag_of(value: Any, limits: Limits) -> str | None:
    """A tag name, or None when it is empty once cleaned."""
    if type(value) is not str or len(value) > limits.tag:
        raise RecordError(f"a tag must be a string of at most {limits.tag} characters")
    try:
        return tag_name(value)
    except InvalidInput:
        return None


def time_of(value: Any, what: str) -> str | None:
    """A foreign time in margin's form; None when missing (RecordError when unreadable)."""
    if value in (None, ""):
        return None
    try:
        return format_time(parse_time(value))
    except RecordError as error:
        raise RecordError(f"{what} {error}") from None


def normal_url(url: str) -> str:
    """A URL as compared: scheme and host in lower case, no fragment, no trailing slash, and
    http and https taken as the same page."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip()
    scheme = parts.scheme.lower()
    if scheme == "http":
        scheme = "https"
    path = parts.path.rstrip("/")
    return urlunsplit((scheme, parts.netloc.lower(), path, parts.query, ""))


def _words(text: str | None) -> list[str]:
    folded = unicodedata.normalize("NFKD", text or "").casefold()
    return re.findall(r"[^\W_]+", folded)


def _title_key(title: str | None) -> str:
    # "Pride and Prejudice: A Novel" and "Pride and Prejudice" are one book: cut at the colon.
    head = re.split(r"[:;(\[]", title or "", maxsplit=1)[0]
    return " ".join(_words(head))


def _authors_agree(mine: str | None, theirs: str | None) -> bool:
    # "Austen, Jane" and "Jane Austen"; a book with no author given agrees with any.
    if not mine or not theirs:
        return True
    a, b = set(_words(mine)), set(_words(theirs))
    return bool(a & b)


_URL_KEYS = ("canonical_url", "canonical", "url", "source_url", "original_url")


class DocumentFinder:
    """Finds the document a foreign note belongs to, among those in the library."""

    def __init__(self, lib: Library) -> None:
        self.lib = lib
        self._by_url: dict[str, str] | None = None
        self._by_title: dict[str, list[tuple[str, str | None]]] | None = None
        self._docs: dict[str, Document] = {}
        self._by_metadata: dict[str, str] | None = None
        self.ambiguous: dict[str, int] = {}  # a book's label -> how many documents match it

    def _document(self, document_id: str) -> Document | None:
        if document_id not in self._docs:
            try:
                self._docs[document_id] = self.lib.document(document_id)
            except NotFound:
                return None
        return self._docs[document_id]

    def _indexes(self) -> None:
        by_url: dict[str, str] = {}
        by_title: dict[str, list[tuple[str, str | None]]] = {}
        for summary in self.lib.documents():
            if summary.source and "://" in summary.source:
                by_url.setdefault(normal_url(summary.source), summary.id)
            by_title.setdefault(_title_key(summary.title), []).append((summary.id, summary.author))
        self._by_url, self._by_title = by_url, by_title

    def _metadata_urls(self) -> dict[str, str]:
        # The URLs in documents' metadata, read only when a URL is not a document's source:
        # it loads every document (the metadata travels with the text).
        if self._by_metadata is None:
            found: dict[str, str] = {}
            for document_id in self.lib.document_ids():
                doc = self._document(document_id)
                metadata = (
                    doc.metadata if doc is not None and isinstance(doc.metadata, dict) else {}
                )
                for key in _URL_KEYS:
                    value = metadata.get(key)
                    if type(value) is str and "://" in value:
                        found.setdefault(normal_url(value), document_id)
                self._docs.pop(document_id, None)  # keep only the documents notes land on
            self._by_metadata = found
        return self._by_metadata

    def find(self, ref: DocumentRef) -> Document | None:
        """The library's document for `ref`, or None."""
        for ident in ref.ids:
            found = self._document(ident.removeprefix("urn:uuid:"))
            if found is not None:
                return found
        if ref.sha256:
            found = self.lib.document_by_sha(ref.sha256)
            if found is not None:
                return found
        if ref.urls or ref.title:
            if self._by_url is None:
                self._indexes()
            assert self._by_url is not None and self._by_title is not None
            for url in ref.urls:
                hit = self._by_url.get(normal_url(url))
                if hit is not None:
                    return self._document(hit)
            for url in ref.urls:
                hit = self._metadata_urls().get(normal_url(url))
                if hit is not None:
                    return self._document(hit)
            if ref.title and not ref.urls:  # a web page is known by its address, not its title
                agreeing = [
                    doc_id
                    for doc_id, author in self._by_title.get(_title_key(ref.title), [])
                    if _authors_agree(author, ref.author)
                ]
                if len(agreeing) == 1:
                    return self._document(agreeing[0])
                if agreeing:
                    self.ambiguous[ref.label()] = len(agreeing)
        return None


def file_time(path: Path) -> str:
    """The stated default time of a note that carries none: its file's modification time."""
    try:
        stamp = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
    except OSError:
        stamp = datetime(1970, 1, 1, tzinfo=timezone.utc)
    return format_time(stamp)


def to_bundle(lib: Library, read: ForeignRead, path: Path) -> tuple[Bundle, list[str]]:
    """The notes whose documents are here, as a bundle for the merge; and one line per document
    that is not here. `read.originals` maps each margin id to the tool's own id."""
    finder = DocumentFinder(lib)
    bundle = Bundle(name=read.name, rejected=list(read.refused))
    missing: dict[str, tuple[DocumentRef, int]] = {}
    default_time = file_time(path)
    unknown = f"unknown, from {path.name}"
    undated = unnamed = 0
    seen: set[str] = set()
    for note in read.notes:
        doc = finder.find(note.document)
        if doc is None:
            key = note.document.label()
            ref, count = missing.get(key, (note.document, 0))
            missing[key] = (ref, count + 1)
            continue
        record_id = note.uuid or stable_id(read.format, note.key)
        if record_id in seen:
            bundle.rejected.append(f"{read.format} note {show(note.key, 60)}: appears twice")
            continue
        seen.add(record_id)
        if note.original_id and note.uuid is None:
            read.originals[record_id] = note.original_id
        held = lib.annotation_row(record_id)
        creator = clean_field(note.creator or "", 200)
        author_id = note.creator_uuid or stable_id("creator", read.format, creator)
        if not creator:
            unnamed += 1
            # The stated default; a note merged before keeps the name it was given then, so
            # the same note from another file (or a copy with a new date) is the same version.
            creator = held.author_name if held is not None else unknown
        created = note.created or note.modified
        if created is None:
            undated += 1
            created = held.created if held is not None else default_time
        modified = max(note.modified or created, created)
        if note.created is None and note.modified is None and held is not None:
            modified = held.modified
        start, end = note.start, note.end
        fits = start is not None and end is not None and start < end <= len(doc.text)
        exact, prefix, suffix = note.exact, note.prefix, note.suffix
        if not exact:
            if not fits:
                bundle.rejected.append(
                    f"{read.format} note {show(note.original_id or note.key, 60)}: gives only "
                    f"positions, and they are outside {show(doc.title, 50)}"
                )
                continue
            assert start is not None and end is not None
            cut = quote_at(doc.text, start, end)
            exact, prefix, suffix = cut.exact, cut.prefix, cut.suffix
        elif not fits:
            start = end = None  # positions that do not fit this text: found by quote
        bundle.annotations.append(
            InAnnotation(
                id=record_id,
                document_id=doc.id,
                text_sha256=None,
                start=start,
                end=end,
                exact=exact,
                prefix=prefix,
                suffix=suffix,
                role="highlight",
                note=note.note,
                tags=tuple(sorted(set(note.tags))),
                author_id=author_id,
                author_name=creator,
                created=created,
                modified=modified,
                deleted=False,
                previous=None,
            )
        )
    if unnamed:
        read.notices.append(f"{unnamed} notes name no creator: credited to {unknown!r}")
    if undated:
        read.notices.append(
            f"{undated} notes carry no time: dated {default_time}, when {path.name} was last saved"
        )
    lines = [
        f"{key}: {finder.ambiguous[key]} documents here have this title and author: {count} "
        "notes not merged; retitle all but one, then merge again"
        if key in finder.ambiguous
        else f"{key} is not in this library: {count} notes not merged; import the "
        f"{'page' if ref.urls else 'book'} first, then merge again"
        for key, (ref, count) in sorted(missing.items())
    ]
    return bundle, lines
