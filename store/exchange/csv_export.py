"""CSV for spreadsheets: one row per live annotation, with its document, page, offsets, quote,
role, tags, note, author, dates and links. Cells that a spreadsheet would run as a formula
(starting with = + - @ or a tab/CR) get a leading apostrophe (CSV injection)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from pathlib import Path

from store.library import Library

from .bundle import ExportSummary, select

COLUMNS = (
    "document_id",
    "document",
    "author_of_document",
    "page",
    "position",
    "start",
    "end",
    "quote",
    "role",
    "tags",
    "note",
    "author",
    "author_id",
    "created",
    "modified",
    "anchor_state",
    "verdict",
    "links",
    "annotation_id",
)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def csv_text(
    lib: Library,
    *,
    document_ids: list[str] | None = None,
    tag: str | None = None,
    claims_only: bool = False,
) -> tuple[str, int]:
    """The CSV as a string and its number of rows."""
    chosen = select(
        lib, document_ids=document_ids, tag=tag, claims_only=claims_only, include_deleted=False
    )
    links = defaultdict(list)
    for link in chosen.links:
        links[link.claim_id].append(f"{link.relation} evidence {link.evidence_id}")
        links[link.evidence_id].append(f"{link.relation} claim {link.claim_id}")
    verdicts = {}
    for review in chosen.reviews:  # oldest first: the last one stays
        verdicts[review.claim_id] = review.verdict
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    rows = 0
    for a in chosen.annotations:
        doc = chosen.documents[a.document_id]
        page = doc.page_of(a.start)
        writer.writerow(
            [
                _cell(v)
                for v in (
                    a.document_id,
                    doc.title,
                    doc.author or "",
                    "" if page is None else page,
                    doc.position_label(a.start),
                    a.start,
                    a.end,
                    a.exact,
                    a.role,
                    "; ".join(a.tags),
                    a.note,
                    a.author_name,
                    a.author_id,
                    a.created,
                    a.modified,
                    a.anchor_state,
                    verdicts.get(a.id, ""),
                    "; ".join(links.get(a.id, [])),
                    a.id,
                )
            ]
        )
        rows += 1
    return buffer.getvalue(), rows


def export_csv(
    lib: Library,
    out: Path,
    *,
    document_ids: list[str] | None = None,
    tag: str | None = None,
    claims_only: bool = False,
) -> ExportSummary:
    """Write one CSV row per annotation (UTF-8, header row, RFC 4180 quoting)."""
    text, rows = csv_text(lib, document_ids=document_ids, tag=tag, claims_only=claims_only)
    data = text.encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    return ExportSummary(
        path=out, annotations=rows, files=1, bytes=len(data), annotations_only=True
    )
