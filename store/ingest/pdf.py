"""Text of a PDF page by page, via pypdf; runs inside the sandbox child.

Pages are cleaned one by one (store.ingest.pdftext: ligatures, hyphens, running headers and
page numbers) and joined with a blank line, so `page_starts[i]` is the offset
of page i+1 in the stored text and a position maps to a page with `bisect`.
"""

from __future__ import annotations

from typing import Any

from store.ingest.decode import Refused
from store.ingest.pdftext import clean_pages
from store.sanitize import clean_field, ingest_clean

PAGE_SEPARATOR = "\n\n"
# A page with an image and less text than this is taken for a scan with a label or watermark
# ("Background", "Scanned with ..."), not for a text page.
LABEL_CHARS = 32


def _short(error: BaseException) -> str:
    """One short line describing a library exception."""
    message = clean_field(str(error), 120)
    return message or type(error).__name__


def _field(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = clean_field(value)
    return value or None


def _has_images(page: Any) -> bool:
    """True when the page draws an image or a form XObject (which may hold one)."""
    try:
        resources = page.get("/Resources")
        xobjects = resources.get_object().get("/XObject") if resources is not None else None
        if xobjects is None:
            return False
        return any(
            ref.get_object().get("/Subtype") in ("/Image", "/Form")
            for ref in xobjects.get_object().values()
        )
    except Exception:  # a damaged resource dictionary: judge the page by its text alone
        return False


def _has_text_layer(text: str, page: Any) -> bool:
    """True when the page's text is real content, not nothing or a label on a scanned image."""
    chars = sum(1 for c in text if not c.isspace())
    if chars == 0:
        return False
    return chars >= LABEL_CHARS or not _has_images(page)


def _metadata(reader: Any, warnings: list[str]) -> dict[str, Any]:
    """Title, author and creation date from the document information dictionary."""
    found: dict[str, Any] = {"title": None, "author": None, "published": None}
    try:
        info = reader.metadata
        if info is None:
            return found
        found["title"] = _field(info.title)
        found["author"] = _field(info.author)
        try:
            created = info.creation_date
        except Exception:  # a malformed date string is common and harmless
            created = None
        if created is not None:
            found["published"] = created.date().isoformat()
    except Exception as error:
        warnings.append(f"document information unreadable ({_short(error)})")
    return found


def extract_pdf(path: str, max_chars: int) -> dict[str, Any]:
    """Cleaned text of every page, with the offset where each page starts."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    warnings: list[str] = []
    try:
        reader = PdfReader(path, strict=False)
    except MemoryError:
        raise
    except Exception as error:
        raise Refused(f"not a readable PDF ({_short(error)})") from None
    encrypted = False
    try:
        if reader.is_encrypted:
            encrypted = True
            if not reader.decrypt(""):
                raise Refused("encrypted PDF needs a password")
        page_count = len(reader.pages)
    except Refused:
        raise
    except DependencyError as error:
        raise Refused(f"encrypted PDF cannot be opened ({_short(error)})") from None
    except MemoryError:
        raise
    except Exception as error:
        raise Refused(f"not a readable PDF ({_short(error)})") from None
    if page_count == 0:
        raise Refused("not a readable PDF (no pages)")

    pages: list[str] = []
    failures: list[str] = []
    removed = 0
    total = 0
    for number in range(1, page_count + 1):
        try:
            raw = reader.pages[number - 1].extract_text() or ""
        except MemoryError:
            raise
        except Exception as error:
            failures.append(f"page {number}: {_short(error)}")
            raw = ""
        text, count = ingest_clean(raw)
        removed += count
        total += len(text) + len(PAGE_SEPARATOR)
        if total > max_chars + len(PAGE_SEPARATOR):
            raise Refused(
                f"more than {max_chars:,} characters of text by page {number} of {page_count} "
                "(Limits.max_chars)"
            )
        pages.append(text)
    if len(failures) == page_count:
        raise Refused(f"not a readable PDF ({failures[0]})")
    if not any(_has_text_layer(text, reader.pages[i]) for i, text in enumerate(pages)):
        if failures:
            raise Refused(f"not a readable PDF ({failures[0]})")
        raise Refused("no extractable text: scanned?")
    warnings.extend(f"{failure} (no text from that page)" for failure in failures)
    # Ligatures, line-end hyphens, running headers and page numbers: before the page map is
    # made, so it stays exact for the text the reader shows.
    pages, cleaning = clean_pages(pages)

    page_starts: list[int] = []
    offset = 0
    for page in pages:
        page_starts.append(offset)
        offset += len(page) + len(PAGE_SEPARATOR)
    found = _metadata(reader, warnings)
    return {
        "text": PAGE_SEPARATOR.join(pages),
        "page_starts": page_starts,
        **found,
        "pages": page_count,
        "encrypted": encrypted,
        "controls_removed": removed,
        "cleaning": cleaning.to_json(),
        "warnings": warnings,
    }
