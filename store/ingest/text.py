"""Plain text and Markdown, decoded in this process (no parser runs on them).

Markdown stays as its source text: margin shows and anchors notes on what the author wrote.
Only the title is read from it, the first `# ` heading outside fenced code.
"""

from __future__ import annotations

import re

from store.ingest.decode import Decoded, decode_text
from store.sanitize import clean_field

_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_FRONT_FIELD = re.compile(r"^(title|author|authors|date)[ \t]*:[ \t]*(.+?)[ \t]*$", re.I | re.M)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# "**James Madison**, *Daily Advertiser*, 1787": a bold name opening a line near the top.
_BOLD_BYLINE = re.compile(
    r"^\*\*([A-Z][\w.\u2019'-]*(?:\s+[A-Z][\w.\u2019'-]*){1,4})\*\*(?:[,;]|\s*$)"
)
_H1 = re.compile(r"^ {0,3}#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")


def decode(data: bytes) -> Decoded:
    """Decode a text file's bytes; raises NotText for binary data (see store.ingest.decode)."""
    return decode_text(data)


def markdown_metadata(text: str) -> tuple[str | None, str | None, str | None]:
    """Title, author and date (YYYY-MM-DD) of a Markdown file.

    From YAML front matter when it has them (Jekyll, Hugo, Obsidian and pandoc write it),
    else the first `# ` heading and a byline near the top ("By Jane Doe", or a bold name
    opening a line).
    """
    title = author = published = None
    front = _FRONT_MATTER.match(text)
    if front:
        for key, raw in _FRONT_FIELD.findall(front.group(1)):
            value = raw.strip().strip("\"'").strip("[]").split(",")[0].strip().strip("\"'")
            key = key.lower()
            if key == "title" and value:
                title = clean_field(value, 500)
            elif key in ("author", "authors") and value:
                author = clean_field(value, 200)
            elif key == "date" and _ISO_DATE.match(value):
                published = value[:10]
    plain_title, plain_author = plain_text_metadata(text)
    title = title or markdown_title(text) or plain_title
    author = author or plain_author
    if author is None:
        for line in text[:3000].split("\n")[:15]:
            bold = _BOLD_BYLINE.match(line.strip())
            if bold:
                author = clean_field(bold.group(1), 200)
                break
    return title, author, published


def markdown_title(text: str) -> str | None:
    """The first level-one ATX heading (`# Title`) outside fenced code blocks, if any."""
    fence: str | None = None
    for line in text.split("\n", 5000)[:5000]:
        opened = _FENCE.match(line)
        if opened:
            if fence is None:
                fence = opened.group(1)
            elif opened.group(1) == fence:
                fence = None
            continue
        if fence is None:
            heading = _H1.match(line)
            if heading:
                title = clean_field(heading.group(1), 500)
                if title:
                    return title
    return None


_BYLINE = re.compile(
    r"^\s*by\s+([A-Z][\w.\u2019'-]*(?:\s+[A-Z][\w.\u2019'-]*){0,4})\s*$", re.IGNORECASE
)
_FIELD = re.compile(r"^\s*(Title|Author):\s*(.+?)\s*$")


def plain_text_metadata(text: str) -> tuple[str | None, str | None]:
    """Title and author from the head of a plain text: `Title:`/`Author:` lines (as in
    Project Gutenberg files), or a byline ("By Jane Doe") under a short title line."""
    lines = [line.strip() for line in text[:5000].split("\n")]
    fields: dict[str, str] = {}
    for line in lines[:80]:
        found = _FIELD.match(line)
        if found and found.group(1) not in fields:
            fields[found.group(1)] = clean_field(found.group(2), 500)
    if "Title" in fields:
        return fields["Title"], fields.get("Author")
    shown = [line for line in lines if line][:30]
    for i, line in enumerate(shown[1:], start=1):
        byline = _BYLINE.match(line)
        if byline:
            title = shown[i - 1]
            if len(title) <= 150 and not title.endswith("."):
                return clean_field(title, 500), clean_field(byline.group(1), 200)
            return None, clean_field(byline.group(1), 200)
    return None, None
