"""Write samples/sources/on-liberty-introductory.docx: John Stuart Mill, *On Liberty* (1859,
public domain), the opening of Chapter I, from Project Gutenberg eBook #34901, as a Word
document made with python-docx (margin's own dependency for reading .docx), so the sample's
making is plain to see.

usage: python samples/tools/make_docx.py GUTENBERG_TXT OUT_DOCX
The document is committed as a sample source; run this only to make it again. Besides Mill's
paragraphs it holds what a report in Word holds: a title, headings, a bulleted and a numbered
list, a table, and core properties (title, author, date: the year of publication).
"""

import re
import sys
from datetime import datetime, timezone

import docx

PARAGRAPHS = 6


def opening(path: str) -> list[str]:
    text = open(path, encoding="utf-8").read()
    start = text.index("INTRODUCTORY.\n") + len("INTRODUCTORY.\n")
    body = text[start : text.index("CHAPTER II.", start)]
    paragraphs = [re.sub(r"\s+", " ", p).strip() for p in re.split(r"\n\s*\n", body)]
    return [p for p in paragraphs if p][:PARAGRAPHS]


def main(source: str, out: str) -> None:
    document = docx.Document()
    document.add_heading("On Liberty", level=0)
    document.add_paragraph("John Stuart Mill, 1859. Chapter I, the opening paragraphs.")
    document.add_heading("Reading notes", level=1)
    for line in (
        "The subject is civil, or social, liberty, not the liberty of the will.",
        "Old struggles set subjects against rulers; the new danger is the tyranny of the majority.",
    ):
        document.add_paragraph(line, style="List Bullet")
    for line in ("Read the chapter once without notes.", "Mark each claim about society."):
        document.add_paragraph(line, style="List Number")
    table = document.add_table(rows=1, cols=2)
    for cell, text in zip(table.rows[0].cells, ("Chapter", "Subject"), strict=True):
        cell.text = text
    for row in (
        ("I", "Introductory"),
        ("II", "Of the Liberty of Thought and Discussion"),
        ("III", "Of Individuality, as One of the Elements of Well-Being"),
    ):
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = text
    document.add_heading("Chapter I. Introductory", level=1)
    for paragraph in opening(source):
        document.add_paragraph(paragraph)
    props = document.core_properties
    props.title = "On Liberty, Chapter I: Introductory"
    props.author = "John Stuart Mill"
    props.created = props.modified = datetime(1859, 1, 1, tzinfo=timezone.utc)
    props.last_modified_by = "margin samples"
    props.revision = 1
    document.save(out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
