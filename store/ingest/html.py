"""Main text and metadata of a saved web page, via trafilatura; runs inside the sandbox child.

No network: `trafilatura.bare_extraction` on a string parses it with lxml (whose parser has
`no_network` on) and never downloads; its date finder (htmldate) receives the parsed tree, not
a URL, so it fetches nothing either. Only trafilatura's `fetch_url`/spider/feeds modules touch
the network and nothing here calls them. The sandbox child also installs an audit hook that
refuses any Python socket connection or DNS lookup, so a future library change cannot fetch
an `<img src>` or `<link href>` behind our back.
"""

from __future__ import annotations

import copy
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
_SPACE_RUN = re.compile(r"\s+")
# Blocks of trafilatura's output tree (its XML vocabulary): each one is a paragraph of ours.
_BLOCKS = {"p", "head", "list", "item", "quote", "code", "table", "row", "cell", "div", "lb"}
_CONTAINERS = {"quote", "div", "item", "cell"}
# Elements a reader never sees: they must give neither text nor a title (an mdBook page's
# hidden help dialog titled every rustdoc page "Keyboard shortcuts").
_INVISIBLE_TAGS = ("dialog", "template", "noscript")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
# Overlays a page's own stylesheet hides (mdBook's "#mdbook-help-container", search boxes,
# cookie banners): named so by the page, so the name is the only sign we get offline.
# Whole words only: an article classed "post-cookie-recipes" stays.
_OVERLAY = re.compile(
    r"(?:^|[-_\s])(?:help-(?:container|popup)|modal|popup|cookie-(?:banner|notice|consent|bar)"
    r"|consent-banner)(?:$|[-_\s])",
    re.IGNORECASE,
)
_TITLE_SEPARATORS = re.compile(r"\s+[-|\u2013\u2014\u00b7\u2022:]{1,2}\s+")
_REFRESH = re.compile(r"^\s*(\d+(?:\.\d+)?)?\s*[;,]?\s*(?:url\s*=\s*)?['\"]?([^'\"]*)", re.I)
# A page that redirects with at most this little text of its own is a stub, not a document.
STUB_CHARS = 500


def _inline(element: Any) -> str:
    """The text of an element as one line: source newlines and indents are only spaces."""
    return _SPACE_RUN.sub(" ", "".join(element.itertext())).strip()


def _code_block(element: Any) -> str:
    """A preformatted block: its lines kept, trailing blank lines dropped."""
    return "".join(element.itertext()).strip("\n").rstrip()


def _is_block(element: Any) -> bool:
    """True for a block of the tree; `code` is a block only when preformatted (a `pre` in
    the page: trafilatura nests it, or it spans lines), else it is inline like `em`."""
    tag = element.tag
    if tag == "code":
        nested = len(element) > 0 and element[0].tag == "code"
        return nested or "\n" in "".join(element.itertext())
    return tag in _BLOCKS and tag != "lb"


def _has_blocks(element: Any) -> bool:
    return any(_is_block(child) for child in element)


def _paragraphs(element: Any, out: list[str], bullet: str = "") -> None:
    """Append one paragraph per block of trafilatura's tree under `element`."""
    if element.text and element.text.strip() and element.tag in _CONTAINERS:
        out.append(bullet + _SPACE_RUN.sub(" ", element.text).strip())
        bullet = ""
    for child in element:
        tag = child.tag
        if tag == "list":
            numbered = (child.get("rend") or "").lower() == "ol"
            items = [item for item in child if item.tag == "item"]
            for number, item in enumerate(items, 1):
                mark = f"{number}. " if numbered else "- "
                if _has_blocks(item):
                    _paragraphs(item, out, mark)
                else:
                    text = _inline(item)
                    if text:
                        out.append(mark + text)
        elif tag == "code" and _is_block(child):
            text = _code_block(child)
            if text:
                out.append(text)
        elif tag == "table":
            for row in child.iter("row"):
                cells = [_inline(cell) for cell in row if cell.tag == "cell"]
                line = " | ".join(cell for cell in cells if cell)
                if line:
                    out.append(line)
        elif tag in _CONTAINERS and _has_blocks(child):
            _paragraphs(child, out, bullet)
            bullet = ""
        elif tag in _BLOCKS or tag in ("graphic", "hi", "ref"):
            text = _inline(child)
            if text:
                out.append(bullet + text)
                bullet = ""
        if child.tail and child.tail.strip():
            out.append(_SPACE_RUN.sub(" ", child.tail).strip())


def _hide_invisible(tree: Any) -> None:
    """Remove what a reader of the page never sees, before anything reads the page."""
    doomed = []
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag in _INVISIBLE_TAGS:
            doomed.append(element)
            continue
        get = element.get
        if (
            get("hidden") is not None
            or (get("aria-hidden") or "").lower() == "true"
            or _HIDDEN_STYLE.search(get("style") or "")
            or (element.tag not in ("html", "body") and _OVERLAY.search(get("id") or ""))
            or (element.tag not in ("html", "body") and _OVERLAY.search(get("class") or ""))
        ):
            doomed.append(element)
    for element in doomed:
        parent = element.getparent()
        if parent is None:
            continue
        # Keep the text that follows the element: it belongs to the parent.
        if element.tail:
            previous = element.getprevious()
            if previous is not None:
                previous.tail = (previous.tail or "") + element.tail
            else:
                parent.text = (parent.text or "") + element.tail
        parent.remove(element)


def _redirect_target(tree: Any) -> str | None:
    """Where a `<meta http-equiv="refresh">` sends the reader, if it names a page."""
    for meta in tree.iter("meta"):
        if (meta.get("http-equiv") or "").strip().lower() != "refresh":
            continue
        match = _REFRESH.match(meta.get("content") or "")
        target = clean_field(match.group(2), 500) if match else ""
        if target:
            return target
    return None


def _meta(tree: Any, *names: str) -> str | None:
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or "").strip().lower()
        if key in names:
            value = _field(meta.get("content"))
            if value:
                return value
    return None


def _main_h1(tree: Any) -> str | None:
    """The page's own first-level heading: inside main or article, else the first one."""
    for scope in ("main", "article", "body"):
        for root in tree.iter(scope):
            for h1 in root.iter("h1"):
                if any(a.tag in ("nav", "header", "footer") for a in h1.iterancestors()) and (
                    scope == "body"
                ):
                    continue
                text = _field(" ".join(h1.itertext()))
                if text:
                    return text
    return None


def _same(a: str, b: str) -> bool:
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


def _clean_title(title: str, h1: str | None, site: str | None) -> str:
    """A `<title>` without the site's name: "What is rustdoc? - The rustdoc book" -> "What is
    rustdoc?". Cut only where the page says so (a part equal to its h1, or to its site name),
    so a title that merely holds a dash is kept whole."""
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    if h1:
        for part in parts:
            if _same(part, h1):
                return part.strip()
        # The h1 may itself hold a separator ("Foo - Bar | Site").
        match = re.match(re.escape(h1), title, re.IGNORECASE)
        if match and _TITLE_SEPARATORS.match(title, match.end()):
            return title[: match.end()].strip()
    if site:
        if _same(parts[-1], site):
            return title[: title.rfind(parts[-1])].rstrip(" -|:\u2013\u2014\u00b7\u2022")
        if _same(parts[0], site):
            return title[len(parts[0]) :].lstrip(" -|:\u2013\u2014\u00b7\u2022")
    return title


def _title(tree: Any, sitename: str | None) -> str | None:
    """What the page says it is: og:title, else `<title>` without the site name, else its h1."""
    site = _meta(tree, "og:site_name", "application-name") or sitename
    h1 = _main_h1(tree)
    og = _meta(tree, "og:title", "twitter:title")
    if og:
        return _clean_title(og, h1, site)
    for element in tree.iter("title"):
        title = _field("".join(element.itertext()))
        if title:
            return _clean_title(title, h1, site)
    return h1


def extract_html(path: str, max_chars: int) -> dict[str, Any]:
    """Main text (no navigation, footers or scripts) and page metadata of one HTML file."""
    import lxml.html
    import trafilatura

    decoded = decode_html(Path(path).read_bytes())
    source, dropped = preclean(decoded.text)
    try:
        tree = lxml.html.document_fromstring(source)
    except Exception:  # lxml refuses a document with nothing it can parse
        raise Refused("no main text found") from None
    _hide_invisible(tree)
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
        # Keeps <code>, <em> ... inside their paragraph in the tree we read blocks from.
        include_formatting=True,
        deduplicate=False,
        output_format="python",
    )
    # trafilatura strips and rewrites the tree it is given: it gets its own copy.
    document: Any = trafilatura.bare_extraction(copy.deepcopy(tree), **options)
    if document is None or not (document.text or "").strip():
        # A short page can fall under the balanced thresholds; recall mode keeps more.
        document = trafilatura.bare_extraction(copy.deepcopy(tree), favor_recall=True, **options)
    target = _redirect_target(tree)
    found = "" if document is None else (document.text or "").strip()
    if target and len(found) <= STUB_CHARS:
        raise Refused(f"a redirect page to {target}: import that page instead")
    if document is None or not found:
        raise Refused("no main text found")
    # One paragraph per block of the page (p, heading, list item, quote, table row, code
    # block), separated by a blank line as in every other format; inline elements and the
    # source's line breaks never cut a paragraph (rustdoc pages were one per source line).
    blocks: list[str] = []
    if document.body is not None:
        _paragraphs(document.body, blocks)
    raw = "\n\n".join(blocks) if blocks else _LINE_BREAKS.sub("\n\n", document.text.strip())
    text, removed = ingest_clean(raw)
    if len(text) > max_chars:
        raise Refused(length_reason(len(text), max_chars))
    url = _field(document.url)
    canonical = url if url and _URL.fullmatch(url) else None
    published = _field(document.date)
    return {
        "text": text,
        "title": _title(tree, _field(document.sitename)) or _field(document.title),
        "author": _field(document.author),
        "published": published,
        "canonical_url": canonical,
        "sitename": _field(document.sitename),
        "language": _field(document.language),
        "encoding": decoded.encoding,
        "controls_removed": removed + dropped,
        "warnings": list(decoded.warnings),
    }
