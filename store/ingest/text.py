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
