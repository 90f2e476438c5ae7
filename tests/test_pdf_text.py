"""PDF text as a reader sees it (issue 10): ligatures as letters, words broken at a line end
joined, running headers, footers and page numbers out of the text, the page map exact, and
`import --update` moving old notes onto the cleaned text.

The PDF is built here: a Times-Roman font whose /Differences map two codes to the glyphs
"fi" and "fl", which pypdf reads as U+FB01 and U+FB02, as it reads pdfTeX's ligatures.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from store.ingest import Sandbox, extract
from store.ingest.pdftext import Cleaning, clean_pages, join_hyphens
from store.library import Library
from tests.conftest import NewDoc
from tui.cli import cli

HEADER = "The Harbour Review \u00b7 Spring 2024"
# One list of lines per page; "\x80" is the "fi" ligature glyph, "\x81" the "fl" one.
PAGES = [
    [
        HEADER,
        "Fishing crews lost eleven weeks at sea. The \x80rst boats went out",
        "in February, when the harbour master counted forty-one of them in",
        "a line. Prices rose by a third at the quay, a rise that the mer-",
        "chants say has not reached the crews. The nets were \x80lled again.",
        "1",
    ],
    [
        HEADER,
        "The merchants kept their books open late. A well-known skipper said",
        "the season was short but the prices were good, and the cafe on the",
        "quay stayed open. The \x81ags on the masts were new, and the well-",
        "known names were painted again on the bows of the boats.",
        "2",
    ],
    [
        HEADER,
        "By March the council had counted the losses. The merchants agreed",
        "that the winter had cost each crew eleven weeks of work.",
        "3",
    ],
]


def pdf_string(line: str) -> bytes:
    data = line.encode("latin-1")  # one byte a character: \x80 and \x81 stay codes
    return b"(" + data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def make_pdf(path: Path, pages: list[list[str]] = PAGES) -> Path:
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog, pages_id = add(b""), add(b"")
    font = add(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman /Encoding << /Type /Encoding "
        b"/BaseEncoding /WinAnsiEncoding /Differences [128 /fi /fl] >> >>"
    )
    kids = []
    for lines in pages:
        ops = [b"BT /F1 11 Tf 14 TL 72 740 Td"]
        ops += [pdf_string(line) + b" Tj T*" for line in lines[:-1]]
        ops.append(b"ET BT /F1 9 Tf 300 40 Td " + pdf_string(lines[-1]) + b" Tj ET")
        stream = b"\n".join(ops)
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] "
                b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
                % (pages_id, font, content)
            )
        )
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id
    objects[pages_id - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(bytes(out))
    return path


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    worker = Sandbox()
    yield worker
    worker.close()


def test_stored_text_has_letters_whole_words_and_no_running_lines(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    doc = extract(make_pdf(tmp_path / "review.pdf"), sandbox=sandbox)
    text = doc.text
    assert not re.search("[\ufb00-\ufb06]", text)
    assert "The first boats went out" in text and "nets were filled again" in text
    assert "The flags on the masts" in text
    assert "a line. Prices rose by a third at the quay, a rise that the merchants\nsay" in text
    # "well-|known" stays hyphenated: the document writes "well-known", never "wellknown"
    assert "and the well-known\nnames were painted" in text
    assert HEADER not in text and "Spring" not in text
    assert not re.search(r"(?m)^\d+$", text)  # no page number left on a line of its own
    assert doc.metadata["cleaning"] == {
        "ligatures": 3,
        "hyphens_joined": 1,
        "hyphens_kept": 1,
        "running_lines_removed": 3,
        "page_numbers_removed": 3,
    }
    # The page map is exact for the cleaned text.
    pages = doc.text.split("\n\n")
    assert doc.page_starts == [0, len(pages[0]) + 2, len(pages[0]) + len(pages[1]) + 4]
    assert doc.text[doc.page_starts[2] :].startswith("By March the council")


def test_search_finds_the_cleaned_words_on_their_page(tmp_path: Path) -> None:
    lib_path = tmp_path / "library.margin"
    runner = CliRunner()
    pdf = make_pdf(tmp_path / "review.pdf")
    result = runner.invoke(cli, ["--library", str(lib_path), "import", str(pdf)])
    assert result.exit_code == 0, result.output
    for query, page in (("merchants say", 1), ("filled", 1), ("flags", 2), ("Spring", None)):
        result = runner.invoke(cli, ["--library", str(lib_path), "search", query, "--json"])
        assert result.exit_code == 0, result.output
        hits = json.loads(result.output)["hits"]
        if page is None:
            assert hits == []
        else:
            assert hits and hits[0]["page"] == page, (query, hits)


def test_update_moves_old_notes_onto_the_cleaned_text(tmp_path: Path, sandbox: Sandbox) -> None:
    pdf = make_pdf(tmp_path / "review.pdf")
    # The text as the previous margin stored it: raw pages, ligatures and all.
    from pypdf import PdfReader

    raw = [page.extract_text() for page in PdfReader(pdf).pages]
    old_text = "\n\n".join(raw)
    assert "\ufb01lled" in old_text and "mer-\nchants" in old_text
    lib_path = tmp_path / "library.margin"
    lib = Library(lib_path)
    starts = [0, len(raw[0]) + 2, len(raw[0]) + len(raw[1]) + 4]
    old, _ = lib.add_document(
        NewDoc(
            text=old_text,
            title="review",
            source=str(pdf.resolve()),
            format="pdf",
            page_starts=starts,
        )
    )
    from store.records import Author

    me = Author(id="11111111-1111-4111-8111-111111111111", name="Alice")
    quoted = "The nets were \ufb01lled again."
    start = old_text.index(quoted)
    made = lib.annotate(old.id, start, start + len(quoted), author=me)
    lib.close()

    result = CliRunner().invoke(cli, ["--library", str(lib_path), "import", "--update", str(pdf)])
    assert result.exit_code == 0, result.output
    assert "updated" in result.output
    lib = Library(lib_path)
    doc = lib.document(old.id)
    note = lib.annotation(made.id)
    assert "\ufb01" not in doc.text
    assert doc.text[note.start : note.end] == "The nets were filled again."
    lib.close()


def test_hyphen_decisions_follow_the_documents_vocabulary() -> None:
    cleaning = Cleaning()
    pages = ["a co-\noperative and a cooperative\nthe anti-\nwar and anti-war days\nSouth-\nEast x"]
    (text,) = join_hyphens(pages, cleaning)
    assert (
        text == "a cooperative\nand a cooperative\nthe anti-war\nand anti-war days\nSouth-\nEast x"
    )
    assert (cleaning.hyphens_joined, cleaning.hyphens_kept) == (1, 1)


def test_a_lone_number_is_a_page_number_only_when_it_rises_with_the_pages() -> None:
    pages, cleaning = clean_pages(["Intro\nlines\n7", "More\nlines\n7", "Last\nlines\n7"])
    assert pages == ["Intro\nlines\n7", "More\nlines\n7", "Last\nlines\n7"]
    assert cleaning.page_numbers == 0
    pages, cleaning = clean_pages(["Intro\nlines\n- 12 -", "More\nlines\n- 13 -"])
    assert pages == ["Intro\nlines", "More\nlines"]


def test_unattested_breaks_follow_the_documents_habit() -> None:
    # A word processor's PDF: its attested line-end hyphens are compounds, so an unknown one
    # keeps its hyphen.
    compounds = "a long-\nterm plan and a long-term view\nthe co-\nowner spoke"
    (text,) = join_hyphens([compounds], cleaning := Cleaning())
    assert "the co-owner\nspoke" in text and "long-term\nplan" in text
    assert (cleaning.hyphens_joined, cleaning.hyphens_kept) == (0, 2)
    # A typeset PDF: its attested breaks are broken words, so an unknown one joins.
    broken = "the gov-\nernment and the government\nthe rhon-\ncus sem"
    (text,) = join_hyphens([broken], cleaning := Cleaning())
    assert "the rhoncus\nsem" in text
    assert (cleaning.hyphens_joined, cleaning.hyphens_kept) == (2, 0)
