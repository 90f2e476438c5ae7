"""Plain text and Markdown, decoded in this process (no parser runs on them).

Markdown stays as its source text: margin shows and anchors notes on what the author wrote.
Only the title is read from it, the first `# ` heading outside fenced code.
"""

from __future__ import annotations

import re

from store.ingest.decode import Decoded, decode_text
from store.sanitize import clean_field

_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_H1 = re.compile(r"^ {0,3}#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")


def decode(data: bytes) -> Decoded:
    """Decode a text file's bytes; raises NotText for binary data (see store.ingest.decode)."""
    return decode_text(data)


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
