"""Kindle's `My Clippings.txt`: every highlight and note a Kindle keeps, book after book.

The file is plain text (UTF-8, often with a byte-order mark); each clipping is a title line
("Title (Author)"), a line "- Your Highlight on page 5 | Location 72-73 | Added on Monday,
March 2, 2020 10:15:32 PM" (older Kindles: "- Highlight Loc. 72-73 | Added on ..."), a blank
line, the text, and a line of ten "=". A note is its own clipping at the location where its
highlight ends: it becomes the note of that highlight (or is refused, with no highlight there).
Bookmarks carry no text and are counted, not kept. Times are the Kindle's local clock, read
as UTC (the file says no zone); a date in another language is left out and the stated default
used. The book is found in the library by title and author.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from store.records import format_time

from .foreign import DocumentRef, ForeignNote, ForeignRead, text_field
from .untrusted import DEFAULT_LIMITS, BundleError, Limits, RecordError, show

FORMAT = "Kindle clippings"
SEPARATOR = "=========="

_TITLE = re.compile(r"^(?P<title>.*?)\s*(?:\((?P<author>[^()]*)\))?\s*$")
_KIND = re.compile(r"\b(highlight|note|bookmark|markierung|notiz|lesezeichen|surlignement)\b", re.I)
_LOCATION = re.compile(r"(?:location|loc\.|position|emplacement)\s*(\d+)(?:\s*-\s*(\d+))?", re.I)
_ADDED = re.compile(r"added on\s+(.+)$", re.I)
_KINDS = {
    "highlight": "highlight",
    "markierung": "highlight",
    "surlignement": "highlight",
    "note": "note",
    "notiz": "note",
    "bookmark": "bookmark",
    "lesezeichen": "bookmark",
}


def looks_like_kindle(text: str) -> bool:
    """True for a My Clippings file: clippings closed by ten '=' after a '- Your ...' line."""
    head = text[:20_000]
    return SEPARATOR in head and bool(re.search(r"^\ufeff?- ", head, re.M))


@dataclass
class _Clipping:
    title: str
    author: str | None
    kind: str
    start: int | None
    end: int | None
    added: str | None
    text: str
    number: int


def _time(value: str) -> str | None:
    for form in ("%A, %B %d, %Y %I:%M:%S %p", "%A, %d %B %Y %H:%M:%S", "%A, %B %d, %Y, %I:%M %p"):
        try:
            return format_time(datetime.strptime(value.strip(), form).replace(tzinfo=timezone.utc))
        except ValueError:
            continue
    return None


def _clippings(text: str, limits: Limits) -> tuple[list[_Clipping], list[str]]:
    found, refused = [], []
    for number, block in enumerate(text.lstrip("\ufeff").split(SEPARATOR), 1):
        lines = [line.strip("\ufeff\r ") for line in block.strip("\r\n").split("\n")]
        if not any(lines):
            continue
        where = f"clipping #{number}"
        if len(lines) < 2 or not lines[1].startswith("-"):
            refused.append(f"{where}: not a clipping (no '- Your ...' line under the title)")
            continue
        match = _TITLE.match(lines[0])
        title = (match.group("title") if match else lines[0]).strip()
        author = match.group("author") if match else None
        kind_match = _KIND.search(lines[1])
        kind = _KINDS[kind_match.group(1).lower()] if kind_match else "highlight"
        location = _LOCATION.search(lines[1])
        start = int(location.group(1)) if location else None
        end = int(location.group(2) or location.group(1)) if location else None
        added = _ADDED.search(lines[1])
        body = "\n".join(lines[2:]).strip()
        try:
            body = text_field(body, "the clipping", limits.note)
        except RecordError as error:
            refused.append(f"{where}: {error}")
            continue
        found.append(
            _Clipping(
                title=title,
                author=(author or "").strip() or None,
                kind=kind,
                start=start,
                end=end,
                added=_time(added.group(1)) if added else None,
                text=body,
                number=number,
            )
        )
    return found, refused


def read_kindle(raw: bytes, name: str, limits: Limits = DEFAULT_LIMITS) -> ForeignRead:
    """The highlights (with their notes) of a My Clippings file; one line for what is not kept."""
    if len(raw) > limits.max_bytes:
        raise BundleError(f"{name}: over the limit of {limits.max_bytes / 1e6:.0f} MB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BundleError(f"{name}: not UTF-8 text (a Kindle writes UTF-8)") from None
    read = ForeignRead(format=FORMAT, name=name)
    clippings, read.refused = _clippings(text, limits)
    highlights: list[tuple[_Clipping, ForeignNote]] = []
    bookmarks = 0
    for clip in clippings:
        if clip.kind == "bookmark":
            bookmarks += 1
            continue
        if clip.kind == "note":
            continue
        if not clip.text:
            read.refused.append(f"clipping #{clip.number}: a highlight with no text")
            continue
        note = ForeignNote(
            key=f"{clip.title}\x1f{clip.start}\x1f{clip.text}",
            original_id=None,
            document=DocumentRef(title=clip.title, author=clip.author),
            exact=clip.text,
            creator=None,
            created=clip.added,
        )
        highlights.append((clip, note))
        read.notes.append(note)
    for clip in clippings:
        if clip.kind != "note":
            continue
        # A note is written where its highlight ends (Kindle keeps no link between them).
        owner = next(
            (
                note
                for high, note in highlights
                if high.title == clip.title
                and high.start is not None
                and clip.start is not None
                and high.start <= clip.start <= (high.end or high.start)
            ),
            None,
        )
        if owner is None:
            read.refused.append(
                f"clipping #{clip.number}: a note on {show(clip.title, 50)} at location "
                f"{clip.start} with no highlight there: margin keeps notes on passages"
            )
            continue
        owner.note = (owner.note + "\n\n" if owner.note else "") + clip.text
    if bookmarks:
        read.notices.append(f"{bookmarks} bookmarks (a place, no text) not kept")
    return read
