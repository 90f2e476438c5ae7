"""An EPUB's chapters in reading order, as text, with the book's metadata; runs in the sandbox.

Read with zipfile and lxml, not a book library: the package is three small XML files
(container.xml, the OPF package, the navigation document) and the archive must pass the
.qdpx guard before anything is read from it (store.ingest.archive). Chapters follow the
spine; each chapter's start goes in `page_starts`, so a chapter is to an EPUB what a page is
to a PDF (the status bar, search hits and citations name it), and its title, from the
navigation document (EPUB 3) or the NCX (EPUB 2), else its first heading, is kept in the
document's metadata as `chapters`.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any
from urllib.parse import unquote, urldefrag

from store.ingest.archive import open_archive, read_member
from store.ingest.decode import Refused, length_reason
from store.sanitize import clean_field, ingest_clean

CHAPTER_SEPARATOR = "\n\n"
_SPACE = re.compile(r"\s+")
_DECLARED = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]{1,40})")
_OPF = "{http://www.idpf.org/2007/opf}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_CONTAINER = "{urn:oasis:names:tc:opendocument:xmlns:container}"
_NCX = "{http://www.daisy.org/z3986/2005/ncx/}"
_EPUB = "{http://www.idpf.org/2007/ops}"
# Font obfuscation (IDPF, Adobe) lists fonts in encryption.xml without any DRM on the text.
_FONT_OBFUSCATION = {
    "http://www.idpf.org/2008/embedding",
    "http://ns.adobe.com/pdf/enc#RC",
}
_XHTML_TYPES = {"application/xhtml+xml", "text/html", "application/x-dtbook+xml"}
_BLOCK = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "pre", "blockquote", "tr", "dt", "dd",
    "figcaption", "caption", "div", "section", "article", "ul", "ol", "dl", "table", "tbody",
    "thead", "tfoot", "body", "main", "aside", "header", "footer", "figure", "hr", "address",
}  # fmt: skip
_CONTAINERS = _BLOCK - {"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "tr", "dt", "dd"}
_SKIP = {"script", "style", "head", "title", "nav", "template"}


def _xml(data: bytes, name: str) -> Any:
    """Parse package XML safely: no DTD, no entities, no network."""
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=True
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise Refused(f"{name} is not readable XML ({str(error)[:80]})") from None
    if root is None:
        raise Refused(f"{name} is not readable XML")
    return root


def _xhtml(data: bytes) -> Any:
    """A chapter: XHTML read with the HTML parser, which knows &nbsp; and forgives."""
    import lxml.html

    # XHTML is UTF-8 unless its XML declaration says otherwise; lxml's HTML parser would take
    # undeclared bytes for Latin-1 ("NatÃ¡sha").
    declared = _DECLARED.match(data[:200])
    encoding = declared.group(1).decode("ascii") if declared else "utf-8"
    try:
        parser = lxml.html.HTMLParser(encoding=encoding, no_network=True)
        return lxml.html.document_fromstring(data, parser=parser)
    except Exception:  # an empty or unparseable chapter, or an unknown encoding: no text
        return None


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _inline(element: Any) -> str:
    parts = []
    for node in element.iter():
        name = _local(node.tag)
        if name in _SKIP and node is not element:
            continue
        if name == "br":
            parts.append(" ")
        if node.text and not any(_local(a.tag) in _SKIP for a in _ancestors(node, element)):
            parts.append(node.text)
        if node is not element and node.tail:
            parts.append(node.tail)
    return _SPACE.sub(" ", "".join(parts)).strip()


def _ancestors(node: Any, stop: Any) -> list[Any]:
    found = []
    while node is not None and node is not stop:
        found.append(node)
        node = node.getparent()
    return found


def _has_block(element: Any) -> bool:
    return any(_local(child.tag) in _BLOCK for child in element.iterdescendants())


def _blocks(element: Any, out: list[str], mark: str = "") -> None:
    """One paragraph per block: p, headings, list items, quotes, table rows, pre."""
    name = _local(element.tag)
    if name in _SKIP:
        return
    if name == "pre":
        text = "".join(element.itertext()).strip("\n").rstrip()
        if text:
            out.append(text)
        return
    if name == "tr":
        cells = [_inline(c) for c in element if _local(c.tag) in ("td", "th")]
        line = " | ".join(c for c in cells if c)
        if line:
            out.append(line)
        return
    if name not in _CONTAINERS or not _has_block(element):
        text = _inline(element)
        if text:
            out.append(mark + text)
        return
    if element.text and element.text.strip():
        out.append(mark + _SPACE.sub(" ", element.text).strip())
        mark = ""
    numbered = name == "ol"
    number = 0
    for child in element:
        child_mark = ""
        if _local(child.tag) == "li":
            number += 1
            child_mark = f"{number}. " if numbered else "- "
        _blocks(child, out, child_mark or mark)
        mark = ""
        if child.tail and child.tail.strip():
            out.append(_SPACE.sub(" ", child.tail).strip())


def _first_heading(root: Any) -> str | None:
    for element in root.iter():
        if _local(element.tag) in ("h1", "h2", "h3"):
            text = clean_field(_inline(element), 300)
            if text:
                return text
    return None


def _meta(package: Any, name: str) -> list[str]:
    metadata = package.find(f"{_OPF}metadata")
    if metadata is None:
        return []
    values = []
    for element in metadata.iter(f"{_DC}{name}"):
        value = clean_field("".join(element.itertext()), 500)
        if value:
            values.append(value)
    return values


def _member_path(base: str, href: str) -> str | None:
    """The archive path an href of a file in `base` names, or None when it leaves the book."""
    href = unquote(urldefrag(href)[0])
    if not href or re.match(r"^[a-z][a-z0-9+.-]*:", href, re.IGNORECASE) or href.startswith("/"):
        return None
    joined = posixpath.normpath(posixpath.join(base, href))
    if joined.startswith("../") or joined == "..":
        return None
    return joined


def _titles_from_nav(root: Any, base: str) -> dict[str, str]:
    titles: dict[str, str] = {}
    for nav in root.iter():
        if _local(nav.tag) != "nav":
            continue
        kind = nav.get(f"{_EPUB}type") or nav.get("epub:type") or ""
        if "toc" not in kind.split():
            continue
        for link in nav.iter():
            if _local(link.tag) == "a" and link.get("href"):
                path = _member_path(base, link.get("href"))
                text = clean_field(_inline(link), 300)
                if path and text and path not in titles:
                    titles[path] = text
    return titles


def _titles_from_ncx(root: Any, base: str) -> dict[str, str]:
    titles: dict[str, str] = {}
    for point in root.iter(f"{_NCX}navPoint"):
        label = point.find(f"{_NCX}navLabel/{_NCX}text")
        content = point.find(f"{_NCX}content")
        if label is None or content is None or not content.get("src"):
            continue
        path = _member_path(base, content.get("src"))
        text = clean_field("".join(label.itertext()), 300)
        if path and text and path not in titles:
            titles[path] = text
    return titles


def _check_drm(archive: Any, members: dict[str, Any]) -> None:
    info = members.get("META-INF/encryption.xml")
    if info is None:
        return
    root = _xml(read_member(archive, info), "META-INF/encryption.xml")
    algorithms = {
        method.get("Algorithm", "")
        for method in root.iter()
        if _local(method.tag) == "encryptionmethod"
    }
    if algorithms - _FONT_OBFUSCATION:
        raise Refused(
            "DRM-protected EPUB (META-INF/encryption.xml): its text is encrypted and cannot "
            "be read; import a DRM-free copy"
        )


def extract_epub(path: str, max_chars: int) -> dict[str, Any]:
    """The chapters' text in spine order, where each starts, their titles, and the metadata."""
    archive, members = open_archive(path, "EPUB")
    with archive:
        container = members.get("META-INF/container.xml")
        if container is None:
            raise Refused("not a readable EPUB (no META-INF/container.xml)")
        _check_drm(archive, members)
        root = _xml(read_member(archive, container), "META-INF/container.xml")
        rootfile = root.find(f".//{_CONTAINER}rootfile")
        opf_path = _member_path("", rootfile.get("full-path", "")) if rootfile is not None else None
        if opf_path is None:
            raise Refused("not a readable EPUB (container.xml names no package file)")
        if opf_path not in members:
            raise Refused(f"not a readable EPUB (package file {opf_path} is missing)")
        package = _xml(read_member(archive, members[opf_path]), opf_path)
        base = posixpath.dirname(opf_path)
        manifest: dict[str, dict[str, str]] = {}
        for item in package.iter(f"{_OPF}item"):
            href, item_id = item.get("href"), item.get("id")
            if not href or not item_id:
                continue
            member = _member_path(base, href)
            if member is None:
                raise Refused(f"EPUB item {clean_field(href, 80)} points outside the archive")
            manifest[item_id] = {
                "path": member,
                "type": item.get("media-type", ""),
                "properties": item.get("properties", ""),
            }

        titles: dict[str, str] = {}
        nav = next((i for i in manifest.values() if "nav" in i["properties"].split()), None)
        if nav is not None and nav["path"] in members:
            nav_root = _xhtml(read_member(archive, members[nav["path"]]))
            if nav_root is not None:
                titles = _titles_from_nav(nav_root, posixpath.dirname(nav["path"]))
        spine = package.find(f"{_OPF}spine")
        if not titles and spine is not None and spine.get("toc") in manifest:
            ncx = manifest[spine.get("toc")]
            if ncx["path"] in members:
                ncx_root = _xml(read_member(archive, members[ncx["path"]]), ncx["path"])
                titles = _titles_from_ncx(ncx_root, posixpath.dirname(ncx["path"]))

        chapters: list[str] = []
        names: list[str] = []
        warnings: list[str] = []
        total = 0
        removed = 0
        refs = [] if spine is None else list(spine.iter(f"{_OPF}itemref"))
        for ref in refs:
            item = manifest.get(ref.get("idref", ""))
            if item is None or item["type"] not in _XHTML_TYPES:
                continue
            info = members.get(item["path"])
            if info is None:
                warnings.append(f"chapter {item['path']} is missing from the archive")
                continue
            chapter = _xhtml(read_member(archive, info))
            if chapter is None:
                continue
            body = chapter.find(".//body")
            blocks: list[str] = []
            _blocks(body if body is not None else chapter, blocks)
            text, count = ingest_clean("\n\n".join(blocks))
            if not text.strip():
                continue  # a cover image or an empty page: no chapter to read
            removed += count
            total += len(text) + len(CHAPTER_SEPARATOR)
            if total > max_chars + len(CHAPTER_SEPARATOR):
                raise Refused(length_reason(total, max_chars))
            chapters.append(text)
            names.append(
                titles.get(item["path"]) or _first_heading(chapter) or f"Chapter {len(names) + 1}"
            )
    if not chapters:
        raise Refused("no text in the EPUB's chapters")
    starts: list[int] = []
    offset = 0
    for chapter_text in chapters:
        starts.append(offset)
        offset += len(chapter_text) + len(CHAPTER_SEPARATOR)
    dates = _meta(package, "date")
    published = dates[0][:10] if dates and re.match(r"\d{4}(-\d\d){0,2}", dates[0]) else None
    if published:
        published = re.match(r"\d{4}(-\d\d){0,2}", published).group(0)  # type: ignore[union-attr]
    languages = _meta(package, "language")
    return {
        "text": CHAPTER_SEPARATOR.join(chapters),
        "page_starts": starts,
        "chapters": names,
        "title": next(iter(_meta(package, "title")), None),
        "author": ", ".join(_meta(package, "creator")) or None,
        "published": published,
        "language": languages[0] if languages else None,
        "controls_removed": removed,
        "warnings": warnings,
    }
