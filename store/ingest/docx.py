"""A Word (.docx) document's text and core properties, via python-docx; runs in the sandbox.

python-docx reads the document in body order (paragraphs and tables interleaved, as
`iter_inner_content` gives them) and knows each paragraph's style, so headings, list items
and tables need no OOXML of our own. The archive passes the .qdpx guard first
(store.ingest.archive): python-docx opens any zip it is given.
"""

from __future__ import annotations

import re
from typing import Any

from store.ingest.archive import open_archive
from store.ingest.decode import Refused, length_reason
from store.sanitize import clean_field, ingest_clean

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_SPACES = re.compile(r"[ \t]+")


def _short(error: BaseException) -> str:
    return clean_field(str(error), 100) or type(error).__name__


def _is_list_item(paragraph: Any) -> tuple[bool, bool]:
    """(is a list item, is numbered): from its numbering properties or its list style."""
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    ppr = paragraph._p.pPr  # noqa: SLF001 - python-docx has no public API for numbering
    has_numbering = ppr is not None and ppr.find(f"{_W}numPr") is not None
    if style.startswith("List Number"):
        return True, True
    if style.startswith(("List Bullet", "List Paragraph")) or has_numbering:
        return True, False
    return False, False


def _paragraph_text(paragraph: Any) -> str:
    # python-docx gives a soft line break as "\n" and a tab as "\t"; a tab is a space here.
    return "\n".join(_SPACES.sub(" ", line).strip() for line in paragraph.text.split("\n")).strip()


def _table_lines(table: Any) -> list[str]:
    lines = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            if text and (not cells or cells[-1] != text):  # a merged cell repeats itself
                cells.append(text)
        if cells:
            lines.append(" | ".join(cells))
    return lines


def extract_docx(path: str, max_chars: int) -> dict[str, Any]:
    """Paragraphs, headings, list items and table rows as paragraphs; core properties."""
    archive, members = open_archive(path, "Word document")
    archive.close()
    if "word/document.xml" not in members:
        raise Refused("not a readable Word document (no word/document.xml)")
    import docx
    from docx.table import Table

    try:
        document = docx.Document(path)
    except Exception as error:  # python-docx raises several kinds on a damaged package
        raise Refused(f"not a readable Word document ({_short(error)})") from None
    blocks: list[str] = []
    number = 0
    total = 0
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            found = _table_lines(item)
            number = 0
        else:
            text = _paragraph_text(item)
            if not text:
                continue
            listed, numbered = _is_list_item(item)
            if listed:
                number = number + 1 if numbered else 0
                text = (f"{number}. " if numbered else "- ") + text
            else:
                number = 0
            found = [text]
        for block in found:
            total += len(block) + 2
            if total > max_chars + 2:
                raise Refused(length_reason(total, max_chars))
            blocks.append(block)
    text, removed = ingest_clean("\n\n".join(blocks))
    if not text.strip():
        raise Refused("no text in the Word document")
    props = document.core_properties
    created = props.created
    return {
        "text": text,
        "title": clean_field(props.title or "", 500) or None,
        "author": clean_field(props.author or "", 500) or None,
        "published": created.date().isoformat() if created is not None else None,
        "language": clean_field(props.language or "", 50) or None,
        "controls_removed": removed,
        "warnings": [],
    }
