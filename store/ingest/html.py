"""Main text and metadata of a saved web page, via trafilatura; runs inside the sandbox child.

No network: `trafilatura.bare_extraction` on a string parses it with lxml (whose parser has
`no_network` on) and never downloads; its date finder (htmldate) receives the parsed tree, not
a URL, so it fetches nothing either. Only trafilatura's `fetch_url`/spider/feeds modules touch
the network and nothing here calls them. The sandbox child also installs an audit hook that
refuses any Python socket connection or DNS lookup, so a future library change cannot fetch
an `<img src>` or `<link href>` behind our back.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from store.ingest.decode import Refused, decode_html, length_reason
from store.sanitize import clean_field, ingest_clean

# Numeric character references, decimal or hex, with or without the closing semicolon.
_REF = re.compile(r"&#(?:[xX]0*([0-9a-fA-F]{1,6})|0*([0-9]{1,7}));?")
# Raw C0 controls other than TAB, LF and CR, and DEL.
_RAW_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_URL = re.compile(r"https?://[^\s<>\"']{1,2000}", re.ASCII)


def preclean(source: str) -> tuple[str, int]:
    """Drop raw C0 controls and numeric references to them; return the page and how many went.

    One `&#27;` anywhere makes trafilatura discard the whole page (reliability.md F6), so these
    go before it parses anything.
    """
    removed = 0

    def reference(match: re.Match[str]) -> str:
        nonlocal removed
        code = int(match.group(1), 16) if match.group(1) else int(match.group(2))
        if (code < 0x20 and code not in (0x09, 0x0A, 0x0D)) or code == 0x7F:
            removed += 1
            return ""
        return match.group(0)

    source = _REF.sub(reference, source)
    source, raw = _RAW_CONTROLS.subn("", source)
    return source, removed + raw


def _field(value: Any) -> str | None:
    """A metadata value cleaned to one line, or None when empty."""
    if not isinstance(value, str):
        return None
    value = clean_field(value)
    return value or None


_LINE_BREAKS = re.compile(r"[ \t]*\n\s*")


def extract_html(path: str, max_chars: int) -> dict[str, Any]:
    """Main text (no navigation, footers or scripts) and page metadata of one HTML file."""
    import trafilatura

    decoded = decode_html(Path(path).read_bytes())
    source, dropped = preclean(decoded.text)
    options: dict[str, Any] = dict(
        # Metadata and markup only (meta tags, <time>, JSON-LD): no guessing a date from the
        # text, which also keeps dateparser (1.8 s to load) out of the worker. Historical
        # pages are real: htmldate's default earliest date is 1995.
        date_extraction_params={
            "original_date": True,
            "extensive_search": False,
            "min_date": "1000-01-01",
            "max_date": date.today().isoformat(),
        },
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        deduplicate=False,
        output_format="python",
    )
    document: Any = trafilatura.bare_extraction(source, **options)
    if document is None or not (document.text or "").strip():
        # A short page can fall under the balanced thresholds; recall mode keeps more.
        document = trafilatura.bare_extraction(source, favor_recall=True, **options)
    if document is None or not (document.text or "").strip():
        raise Refused("no main text found")
    text, removed = ingest_clean(document.text)
    # trafilatura puts one block (paragraph, heading, list item) per line. A blank line between
    # blocks makes them paragraphs, as in every other format: the reader spaces them and
    # the index cuts passages at them (one line each, the page was one huge paragraph).
    text = _LINE_BREAKS.sub("\n\n", text.strip())
    if len(text) > max_chars:
        raise Refused(length_reason(len(text), max_chars))
    url = _field(document.url)
    canonical = url if url and _URL.fullmatch(url) else None
    published = _field(document.date)
    return {
        "text": text,
        "title": _field(document.title),
        "author": _field(document.author),
        "published": published,
        "canonical_url": canonical,
        "sitename": _field(document.sitename),
        "language": _field(document.language),
        "encoding": decoded.encoding,
        "controls_removed": removed + dropped,
        "warnings": list(decoded.warnings),
    }
