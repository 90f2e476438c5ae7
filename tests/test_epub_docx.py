"""EPUB and Word import (issue 10): chapters in spine order acting as pages, metadata from the
package and the document properties, and every bad archive refused in one line with
nothing stored."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from store.ingest import Sandbox, extract
from store.library import Library
from tests.conftest import SAMPLES, on_disk
from tui.cli import cli

EPUB = SAMPLES / "war-and-peace-book-one.epub"
DOCX = SAMPLES / "on-liberty-introductory.docx"


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    worker = Sandbox()
    yield worker
    worker.close()


def run(library: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--library", str(library), *args], catch_exceptions=False)
    return result.exit_code, result.output


def epub2(members: dict[str, str | bytes] | None = None, spine: str = "") -> bytes:
    """A small EPUB 2 (NCX table of contents), with members to add or replace."""
    opf = f"""<?xml version="1.0"?>
<package xmlns="http://www.idpf.org/2007/opf" version="2.0" unique-identifier="id">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:title>Two Letters</dc:title><dc:creator>Ann Writer</dc:creator>
<dc:creator>Ben Writer</dc:creator><dc:date>1851-03-02T00:00:00Z</dc:date>
<dc:language>en</dc:language></metadata>
<manifest>
<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>
<item id="b" href="text/second.html" media-type="application/xhtml+xml"/>
<item id="a" href="text/first.html" media-type="application/xhtml+xml"/>
</manifest>
<spine toc="ncx">{spine or '<itemref idref="a"/><itemref idref="b"/>'}</spine></package>"""
    ncx = """<?xml version="1.0"?>
<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1"><navMap>
<navPoint id="n1" playOrder="1"><navLabel><text>The First Letter</text></navLabel>
<content src="text/first.html"/></navPoint>
<navPoint id="n2" playOrder="2"><navLabel><text>The Second Letter</text></navLabel>
<content src="text/second.html#top"/></navPoint></navMap></ncx>"""
    first = (
        "<html><body><h1>I</h1><p>Dear Natásha,\nthe <em>crème</em> was\n"
        "excellent&nbsp;today.</p><ul><li>one</li><li>two</li></ul></body></html>"
    )
    second = "<html><body><p>The second letter, with the <b>answer</b>.</p></body></html>"
    files: dict[str, str | bytes] = {
        "META-INF/container.xml": (
            '<?xml version="1.0"?><container version="1.0" '
            'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="OPS/book.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>"
        ),
        "OPS/book.opf": opf,
        "OPS/toc.ncx": ncx,
        "OPS/text/first.html": first,
        "OPS/text/second.html": second,
    }
    files.update(members or {})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("mimetype", "application/epub+zip", zipfile.ZIP_STORED)
        for name, content in files.items():
            book.writestr(name, content)
    return out.getvalue()


def test_sample_epub_chapters_in_order_with_titles_and_metadata(sandbox: Sandbox) -> None:
    doc = extract(EPUB, sandbox=sandbox)
    assert doc.format == "epub"
    assert doc.title == "War and Peace: Book One (Chapters I\u2013III)"
    assert doc.author == "Leo Tolstoy" and doc.published == "1869"
    assert doc.metadata["chapters"] == [
        "Chapter I: Anna Pávlovna's reception",
        "Chapter II: The drawing room fills",
        "Chapter III: The vicomte's story",
    ]
    assert doc.page_starts is not None and len(doc.page_starts) == 3  # the cover has no text
    assert doc.text.startswith("Chapter I\n\n\u201cWell, Prince, so Genoa and Lucca")
    for start, number in zip(doc.page_starts, ("I", "II", "III"), strict=True):
        assert doc.text[start:].startswith(f"Chapter {number}\n\n")
    assert "Anna Pávlovna Schérer, maid of honor" in doc.text


def test_epub2_with_ncx_follows_the_spine_not_the_manifest(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    path = tmp_path / "letters.epub"
    path.write_bytes(epub2())
    doc = extract(path, sandbox=sandbox)
    assert doc.title == "Two Letters" and doc.author == "Ann Writer, Ben Writer"
    assert doc.published == "1851-03-02"
    assert doc.metadata["chapters"] == ["The First Letter", "The Second Letter"]
    assert doc.text == (
        "I\n\nDear Natásha, the crème was excellent\u00a0today.\n\n- one\n\n- two"
        "\n\nThe second letter, with the answer."
    ).replace("\u00a0", " ")


def test_epub_chapters_name_hits_citations_and_the_status_bar(tmp_path: Path) -> None:
    lib_path = tmp_path / "library.margin"
    code, output = run(lib_path, "import", str(EPUB))
    assert code == 0, output
    code, output = run(lib_path, "search", "vicomte Natasha OR Mortemart", "--json")
    hits = json.loads(output)["hits"]
    assert hits and all(hit["chapter"].startswith("Chapter ") for hit in hits)
    code, plain = run(lib_path, "search", "Mortemart")
    assert "(Chapter II: The drawing room fills)" in plain or "(Chapter III" in plain
    lib = Library(lib_path)
    (row,) = on_disk(lib)["documents"].rows
    doc = lib.document(row["id"])
    from store.citation import citation

    assert citation(doc, doc.page_starts[1] + 5).endswith(
        "Leo Tolstoy, 1869, Chapter II: The drawing room fills"
    )
    lib.close()


def test_sample_docx_paragraphs_headings_lists_tables_and_properties(sandbox: Sandbox) -> None:
    doc = extract(DOCX, sandbox=sandbox)
    assert doc.format == "docx" and doc.page_starts is None
    assert (doc.title, doc.author, doc.published) == (
        "On Liberty, Chapter I: Introductory",
        "John Stuart Mill",
        "1859-01-01",
    )
    parts = doc.text.split("\n\n")
    assert parts[0] == "On Liberty"
    assert "Reading notes" in parts and "Chapter I. Introductory" in parts
    assert "- The subject is civil, or social, liberty, not the liberty of the will." in parts
    assert "2. Mark each claim about society." in parts
    assert "Chapter | Subject" in parts and "II | Of the Liberty of Thought and Discussion" in parts
    assert any(
        p.startswith("The subject of this Essay is not the so-called Liberty") for p in parts
    )


def test_docx_imports_and_is_searchable(tmp_path: Path) -> None:
    lib_path = tmp_path / "library.margin"
    code, output = run(lib_path, "import", str(DOCX))
    assert code == 0 and output.startswith("imported"), output
    code, output = run(lib_path, "search", '"struggle between liberty and authority"', "--json")
    hits = json.loads(output)["hits"]
    assert [hit["title"] for hit in hits][:1] == ["On Liberty, Chapter I: Introductory"]


def bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    encryption = (
        '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
        'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData>'
        '<enc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>'
        '<enc:CipherData><enc:CipherReference URI="OPS/text/first.html"/></enc:CipherData>'
        "</enc:EncryptedData></encryption>"
    )
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("META-INF/container.xml", "<container/>")
        archive.writestr("OPS/huge.html", b"\0" * 30_000_000)
    outside = io.BytesIO()
    with zipfile.ZipFile(outside, "w") as archive:
        archive.writestr("META-INF/container.xml", "<container/>")
        archive.writestr("../../evil.html", "<p>x</p>")
    cases = {
        "drm.epub": (epub2({"META-INF/encryption.xml": encryption}), "DRM-protected EPUB"),
        "bomb.epub": (bomb.getvalue(), "zip bomb?"),
        "outside.epub": (outside.getvalue(), "climbs out of the archive"),
        "href-outside.epub": (
            epub2(
                {
                    "OPS/book.opf": epub2_opf_with_href("../../../etc/passwd"),
                }
            ),
            "points outside the archive",
        ),
        "corrupt.epub": (epub2()[:600], "not a readable EPUB"),
        "corrupt.docx": (DOCX.read_bytes()[:2000], "not a readable Word document"),
        "notes.doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "save it as .docx"),
        "renamed.docx": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "save it as .docx"),
        "text.epub": (b"just some text, not a book", "not a .epub file"),
    }
    found = {}
    for name, (data, reason) in cases.items():
        path = tmp_path / "bad" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        found[name] = (path, reason)
    return found


def epub2_opf_with_href(href: str) -> str:
    return (
        '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="2.0">'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>x</dc:title></metadata>'
        f'<manifest><item id="a" href="{href}" media-type="application/xhtml+xml"/></manifest>'
        '<spine><itemref idref="a"/></spine></package>'
    )


def test_bad_books_and_documents_get_one_line_and_change_nothing(tmp_path: Path) -> None:
    lib_path = tmp_path / "library.margin"
    run(lib_path, "import", str(DOCX))
    lib = Library(lib_path)
    before = (on_disk(lib)["documents"].count, lib.max_seq())
    lib.close()
    cases = bad_files(tmp_path)
    code, output = run(
        lib_path,
        "import",
        str(tmp_path / "bad"),
        *[str(path) for name, (path, _) in cases.items() if name == "notes.doc"],
    )
    assert code == 1
    assert "Traceback" not in output
    lines = output.strip().splitlines()
    for name, (_, reason) in cases.items():
        mine = [line for line in lines if f"/{name}:" in line]
        assert len(mine) == 1, (name, output)
        assert mine[0].startswith("failed") and reason in mine[0], (name, mine[0])
    lib = Library(lib_path)
    assert (on_disk(lib)["documents"].count, lib.max_seq()) == before
    lib.close()


def test_font_obfuscation_is_not_drm(tmp_path: Path, sandbox: Sandbox) -> None:
    encryption = (
        '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
        'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData>'
        '<enc:EncryptionMethod Algorithm="http://www.idpf.org/2008/embedding"/>'
        '<enc:CipherData><enc:CipherReference URI="OPS/font.otf"/></enc:CipherData>'
        "</enc:EncryptedData></encryption>"
    )
    path = tmp_path / "fonts.epub"
    path.write_bytes(epub2({"META-INF/encryption.xml": encryption}))
    assert extract(path, sandbox=sandbox).metadata["chapters"][0] == "The First Letter"


async def test_the_reader_status_bar_names_the_chapter(tmp_path: Path) -> None:
    from tests.apptools import sample_service, screen_text, settle
    from tui.app import make_app

    service = sample_service(tmp_path)
    doc = service.library.resolve_document("War and Peace")
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_document(doc.id, doc.page_starts[1] + 40)
        await settle(pilot)
        assert "Chapter II: The drawing room fills" in screen_text(app)
    service.close()
