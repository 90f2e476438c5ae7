"""The records margin keeps, as frozen dataclasses read from the library."""

from __future__ import annotations

import bisect
import json
import uuid
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime, timezone
from pathlib import PurePath


def format_time(stamp: datetime) -> str:
    """A time as margin stores it (its one time format): UTC, ISO 8601, milliseconds, a Z."""
    utc = stamp.astimezone(timezone.utc)
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now() -> str:
    """The current time as stored (see `format_time`)."""
    return format_time(datetime.now(timezone.utc))


def new_id() -> str:
    """A fresh record id (a random UUID)."""
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Author:
    """Who wrote a record: a stable id that never changes, and the name shown beside it."""

    id: str
    name: str


@dataclass(frozen=True)
class Document:
    """One imported source and its extracted text."""

    id: str
    title: str
    author: str | None
    published: str | None
    source: str | None
    format: str
    sha256: str
    text: str
    page_starts: list[int] | None
    metadata: dict = field(hash=False)
    imported_at: str

    def page_of(self, offset: int) -> int | None:
        """The 1-based page holding `offset`, for documents that have pages."""
        if not self.page_starts:
            return None
        return max(1, bisect.bisect_right(self.page_starts, offset))

    def position_label(self, offset: int) -> str:
        """Where `offset` is, as a reader cites it: "p. 3", an EPUB chapter's title, or "41%"."""
        page = self.page_of(offset)
        chapters = self.metadata.get("chapters") if self.format == "epub" else None
        if page is not None and isinstance(chapters, list) and 1 <= page <= len(chapters):
            return str(chapters[page - 1])  # an EPUB's pages are its chapters
        if page is not None:
            return f"p. {page}"
        return f"{round(100 * offset / max(1, len(self.text)))}%"


@dataclass(frozen=True)
class DocumentSummary:
    """A document as the library lists it, with counts of its notes."""

    id: str
    title: str
    author: str | None
    format: str
    source: str | None
    length: int
    imported_at: str
    highlights: int
    claims: int
    claims_without_evidence: int
    claims_reviewed: int
    moved: int
    orphaned: int


@dataclass(frozen=True)
class Annotation:
    """A highlight or a claim on a span of a document's text."""

    id: str
    document_id: str
    start: int
    end: int
    exact: str
    prefix: str
    suffix: str
    role: str
    note: str
    author_id: str
    author_name: str
    created: str
    modified: str
    deleted: bool
    anchor_state: str
    anchor_step: str
    tags: tuple[str, ...] = ()

    @property
    def is_claim(self) -> bool:
        return self.role == "claim"


@dataclass(frozen=True)
class Tag:
    """A code of the codebook; `count` is the number of live annotations carrying it."""

    id: str
    name: str
    colour: str
    description: str
    created: str
    count: int = 0


@dataclass(frozen=True)
class Link:
    """Evidence for (or against) a claim: a relation between two annotations."""

    id: str
    claim_id: str
    evidence_id: str
    relation: str
    note: str
    author_id: str
    author_name: str
    created: str
    modified: str
    deleted: bool


@dataclass(frozen=True)
class Review:
    """One verdict on a claim; reviews are never changed, only added."""

    id: str
    claim_id: str
    verdict: str
    comment: str
    reviewer_id: str
    reviewer_name: str
    created: str


@dataclass(frozen=True)
class Change:
    """One entry of the change log that the index follows."""

    seq: int
    entity: str
    id: str
    op: str


@dataclass(frozen=True)
class ClaimSummary:
    """A claim as the claims board lists it: its evidence counts and latest verdict."""

    claim: Annotation
    document_title: str
    supports: int
    contradicts: int
    context: int
    evidence_not_ok: int
    verdict: str | None
    reviewer_name: str | None
    reviewed_at: str | None

    @property
    def evidence(self) -> int:
        return self.supports + self.contradicts + self.context


def to_json(record: object) -> object:
    """A record (or a list of them) as plain JSON values: what every `--json` prints.

    Dataclasses become objects with their fields, tuples become lists; a record with its own
    `to_json` (a search hit, an import result) is asked for it, so each shape has one writer.
    """
    own = getattr(record, "to_json", None)
    if callable(own):
        return own()
    if is_dataclass(record) and not isinstance(record, type):
        return {f.name: to_json(getattr(record, f.name)) for f in fields(record)}
    if isinstance(record, dict):
        return {str(k): to_json(v) for k, v in record.items()}
    if isinstance(record, list | tuple | set | frozenset):
        items = [to_json(v) for v in record]
        # A set has no order of its own: sorted by its JSON text, so output is stable.
        if isinstance(record, set | frozenset):
            items.sort(key=lambda item: json.dumps(item, sort_keys=True))
        return items
    if isinstance(record, PurePath):
        return str(record)
    return record
