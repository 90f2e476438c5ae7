"""The records margin keeps, as frozen dataclasses read from the library."""

from __future__ import annotations

import bisect
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone


def now() -> str:
    """The current time as stored: UTC, ISO 8601, milliseconds, with a Z."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
