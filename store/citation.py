"""A quote with its citation, as a reader pastes it into their own writing."""

from __future__ import annotations

from store.records import Annotation, Document


def citation(document: Document, start: int) -> str:
    """Title, author and page (or position) of an offset in a document."""
    parts = [document.title]
    if document.author:
        parts.append(document.author)
    if document.published:
        parts.append(document.published[:10])
    parts.append(document.position_label(start))
    return ", ".join(parts)


def quote_with_citation(document: Document, start: int, end: int) -> str:
    """The text between start and end in quotation marks, followed by its citation."""
    quote = " ".join(document.text[start:end].split())
    return f"\u201c{quote}\u201d ({citation(document, start)})"


def annotation_citation(document: Document, annotation: Annotation) -> str:
    """An annotation's quote with its citation."""
    return quote_with_citation(document, annotation.start, annotation.end)
