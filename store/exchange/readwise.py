"""Readwise's CSV export: one highlight a row, with its book, note and tags.

Columns (Readwise, "Export to CSV"): Highlight, Book Title, Book Author, Amazon Book ID, Note,
Color, Tags, Location Type, Location, Highlighted at, Document tags. Tags are separated by
commas. "Highlighted at" is read with its zone (UTC when none is written). The book is found in
the library by title and author; the row's own key is its book, location and quote.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

from store.records import format_time

from .foreign import DocumentRef, ForeignNote, ForeignRead, tag_of, text_field
from .untrusted import DEFAULT_LIMITS, BundleError, Limits, RecordError

FORMAT = "Readwise CSV"
_NEEDED = ("Highlight", "Book Title")


def looks_like_readwise(text: str) -> bool:
    """True when the first line is a Readwise header."""
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    return all(column in first for column in _NEEDED)


def _time(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    try:
        stamp = datetime.fromisoformat(value.replace(" ", "T", 1))
    except ValueError:
        raise RecordError(f"'Highlighted at' {value[:40]!r} is not a time") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return format_time(stamp)


def read_readwise(raw: bytes, name: str, limits: Limits = DEFAULT_LIMITS) -> ForeignRead:
    """Every row of a Readwise CSV as a highlight; one line per row that cannot be read."""
    if len(raw) > limits.max_bytes:
        raise BundleError(f"{name}: over the limit of {limits.max_bytes / 1e6:.0f} MB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BundleError(f"{name}: not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames or not all(c in reader.fieldnames for c in _NEEDED):
        raise BundleError(f"{name}: not a Readwise CSV (no 'Highlight' and 'Book Title' columns)")
    read = ForeignRead(format=FORMAT, name=name)
    try:
        for number, row in enumerate(reader, 2):
            where = f"row {number}"
            if len(read.notes) + len(read.refused) >= limits.max_items:
                raise BundleError(f"{name}: over the limit of {limits.max_items:,} rows")
            try:
                exact = text_field(row.get("Highlight"), "the highlight", limits.exact).strip()
                title = text_field(row.get("Book Title"), "the title", limits.title).strip()
                if not exact:
                    raise RecordError("has no highlight text")
                if not title:
                    raise RecordError("names no book")
                author = text_field(row.get("Book Author"), "the author", limits.title).strip()
                location = (row.get("Location") or "").strip()
                tags = [
                    t
                    for t in (tag_of(x.strip(), limits) for x in (row.get("Tags") or "").split(","))
                    if t
                ]
                read.notes.append(
                    ForeignNote(
                        key=f"{title}\x1f{location}\x1f{exact}",
                        original_id=None,
                        document=DocumentRef(title=title, author=author or None),
                        exact=exact,
                        note=text_field(row.get("Note"), "the note", limits.note).strip(),
                        tags=tuple(tags),
                        created=_time(row.get("Highlighted at") or ""),
                    )
                )
            except RecordError as error:
                read.refused.append(f"{where}: {error}")
    except csv.Error as error:
        read.refused.append(f"{name}: the CSV breaks off ({error}); the rows before were read")
    return read
