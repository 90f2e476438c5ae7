"""Ingest: real files written to tmp_path (or copied from the shared corpus) through `extract`."""

from __future__ import annotations

import codecs
import gzip
import shutil
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.errors import IngestError
from store.ingest import SUPPORTED, Extracted, Limits, Sandbox, extract, iter_source_files
from store.ingest.html import preclean
from store.ingest.pdftext import clean_pages
from store.sanitize import has_surrogates, ingest_clean
from tests.conftest import PDFS, REPO, SAMPLES


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    """One extraction worker for the module, as an import batch would use."""
    with Sandbox() as worker:
        yield worker


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def refused(path: Path, limits: Limits | None = None, sandbox: Sandbox | None = None) -> str:
    with pytest.raises(IngestError) as caught:
        extract(path, limits, sandbox)
    assert str(caught.value) == f"{path.name}: {caught.value.reason}"
    assert caught.value.path == path
    return caught.value.reason


def assert_clean(doc: Extracted) -> None:
    """What every extracted document promises the store."""
    assert not has_surrogates(doc.text)
    assert ingest_clean(doc.text) == (doc.text, 0)


# -- text files: decoding -------------------------------------------------------------------

HELLO = "Hello wörld\nline2 “quoted” — café\n"


@pytest.mark.parametrize(
    "data, encoding",
    [
        (codecs.BOM_UTF8 + HELLO.encode("utf-8"), "UTF-8 (BOM)"),
        (HELLO.encode("utf-16"), "UTF-16LE (BOM)"),  # Python writes the BOM, little-endian
        (codecs.BOM_UTF16_BE + HELLO.encode("utf-16-be"), "UTF-16BE (BOM)"),
        (HELLO.encode("utf-32"), "UTF-32LE (BOM)"),
        (HELLO.encode("utf-8"), "utf-8"),
    ],
)
def test_bom_and_utf8_decode_without_warnings(tmp_path: Path, data: bytes, encoding: str) -> None:
    doc = extract(write(tmp_path, "a.txt", data))
    assert doc.text == HELLO  # the BOM is gone, so the same text hashes the same
    assert doc.metadata["encoding"] == encoding
    assert doc.warnings == []
    assert doc.format == "txt" and doc.title == "a" and doc.page_starts is None
    assert doc.source == str((tmp_path / "a.txt").resolve())


def test_utf16le_without_bom_is_detected(tmp_path: Path) -> None:
    doc = extract(write(tmp_path, "a.txt", HELLO.encode("utf-16-le")))
    assert doc.text == HELLO
    assert doc.warnings == ["decoded as UTF-16LE (no byte-order mark)"]


def test_cp1252_fallback_decodes_legacy_western_text(tmp_path: Path) -> None:
    text = "The “naïve” café owner said — twice — that the façade cost €40. " * 50
    doc = extract(write(tmp_path, "legacy.txt", text.encode("cp1252")))
    assert doc.text == text
    assert doc.metadata["encoding"] == "cp1252"
    assert doc.warnings == ["decoded as cp1252 (not UTF-8)"]


CZECH = "Příliš žluťoučký kůň úpěl ďábelské ódy, řekl Šťastný. " * 20


def test_central_european_text_needs_its_encoding_named(tmp_path: Path) -> None:
    path = write(tmp_path, "czech.txt", CZECH.encode("cp1250"))
    guessed = extract(path)
    assert guessed.text != CZECH and guessed.metadata["encoding"] == "cp1252"
    named = extract(path, encoding="cp1250")
    assert named.text == CZECH
    assert named.metadata["encoding"] == "cp1250 (given)" and named.warnings == []


@pytest.mark.parametrize(
    ("data", "encoding", "text"),
    [
        (codecs.BOM_UTF8 + "žluťoučký".encode(), "utf-8", "žluťoučký"),
        (codecs.BOM_UTF16_BE + "kůň".encode("utf-16-be"), "utf-16", "kůň"),
        (codecs.BOM_UTF16_LE + "kůň".encode("utf-16-le"), "utf-16-le", "kůň"),
        ("Съешь же ещё".encode("koi8-r"), "koi8-r", "Съешь же ещё"),
    ],
)
def test_a_named_encoding_drops_its_own_bom(tmp_path, data, encoding, text) -> None:
    assert extract(write(tmp_path, "t.txt", data), encoding=encoding).text == text


def test_a_wrong_named_encoding_warns_and_binary_stays_refused(tmp_path: Path) -> None:
    damaged = extract(write(tmp_path, "u.txt", b"ok \xff\xfe end"), encoding="utf-8")
    assert damaged.text == "ok \ufffd\ufffd end"
    assert damaged.warnings[0].startswith("invalid utf-8 at byte 3")
    png = write(tmp_path, "image.txt", b"\x89PNG\r\n\x1a\n" + bytes(64))
    with pytest.raises(IngestError, match=r"binary file \(PNG image\) named .txt"):
        extract(png, encoding="cp1250")
    for bad in ("no-such-codec", "rot13"):
        with pytest.raises(IngestError, match="encoding"):
            extract(write(tmp_path, "x.txt", b"plain"), encoding=bad)


def test_short_latin1_word_is_cp1252_not_a_detector_guess(tmp_path: Path) -> None:
    doc = extract(write(tmp_path, "w.txt", "naïve".encode("latin-1")))
    assert doc.text == "naïve"


def test_invalid_utf8_bytes_decode_with_a_warning(tmp_path: Path) -> None:
    doc = extract(write(tmp_path, "bad.txt", b"caf\xe9 au lait \xff\xfe broken \xc3"))
    assert doc.text == "café au lait ÿþ broken Ã"
    assert "decoded as cp1252 (not UTF-8)" in doc.warnings
    assert_clean(doc)


def test_mostly_utf8_keeps_utf8_and_counts_the_damage(tmp_path: Path) -> None:
    data = "naïve café — fine".encode() + b" \xff end"
    doc = extract(write(tmp_path, "mixed.txt", data))
    assert doc.text == "naïve café — fine \ufffd end"
    assert doc.warnings == ["1 invalid UTF-8 sequence(s) replaced with U+FFFD"]


def test_utf8_encoded_surrogate_never_reaches_the_text(tmp_path: Path) -> None:
    doc = extract(write(tmp_path, "cesu.txt", b"ok \xed\xa0\x80 bad"))
    assert_clean(doc)


def test_non_western_legacy_text_uses_the_detector_hint(tmp_path: Path) -> None:
    text = "Привет, как дела? Это тестовый текст на русском языке. " * 20
    doc = extract(write(tmp_path, "ru.txt", text.encode("cp1251")))
    assert doc.text == text
    assert doc.metadata["encoding"] == "cp1251"
    assert "guessed by charset detection" in doc.warnings[0]


# -- text files: refusals -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, data, reason",
    [
        (
            "elf.txt",
            b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8,
            "binary file (ELF executable) named .txt",
        ),
        (
            "png.txt",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
            "binary file (PNG image) named .txt",
        ),
        ("gz.md", gzip.compress(b"hello " * 1000), "binary file (gzip data) named .md"),
        ("doc.txt", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "binary file (PDF data) named .txt"),
        (
            "nul.txt",
            b"text\x00\x00\x01\x02\x00more" * 50,
            "binary file, not text (NUL bytes in the first 8 KB) named .txt",
        ),
    ],
)
def test_binary_named_as_text_is_refused(
    tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    assert refused(write(tmp_path, name, data)) == reason


def test_the_python_binary_named_txt_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "python.txt", Path(sys.executable).resolve().read_bytes()[:200_000])
    assert refused(path).startswith("binary file (")


def test_empty_and_blank_files_are_refused(tmp_path: Path) -> None:
    assert refused(write(tmp_path, "empty.txt", b"")) == "empty file"
    assert refused(write(tmp_path, "blank.md", b" \r\n\t\x1b\n")) == (
        "no text (only whitespace or control characters)"
    )


def test_size_limits_are_checked_before_reading(tmp_path: Path) -> None:
    big = write(tmp_path, "big.txt", b"x" * 2048)
    assert refused(big, Limits(max_file_bytes=1024)) == (
        "file is 2 KB, over the 1 KB size limit (Limits.max_file_bytes)"
    )
    page = write(tmp_path, "page.html", b"<p>" + b"x" * 5000 + b"</p>")
    assert refused(page, Limits(max_html_bytes=4096)) == (
        "HTML file is 4.9 KB, over the 4 KB limit for HTML (Limits.max_html_bytes)"
    )


def test_extracted_text_cap(tmp_path: Path) -> None:
    path = write(tmp_path, "long.txt", "word " * 100)
    assert refused(path, Limits(max_chars=100)) == (
        "500 characters of text, over the limit of 100 (Limits.max_chars)"
    )


def test_missing_folder_and_unsupported_paths(tmp_path: Path) -> None:
    assert refused(tmp_path / "nope.txt") == "no such file"
    folder = tmp_path / "dir.txt"
    folder.mkdir()
    assert refused(folder) == "a folder, not a file"
    assert refused(write(tmp_path, "notes.odt", b"PK\x03\x04")).startswith(
        "unsupported file type .odt (supported: .txt"
    )


# -- text files: cleaning -------------------------------------------------------------------


def test_controls_are_removed_counted_and_offsets_follow(tmp_path: Path) -> None:
    raw = "Title\r\nab\x1b[2J\x1b]0;PWNED\x07cdef\x7f\x9b31m gh\rend\r\n"
    doc = extract(write(tmp_path, "esc.txt", raw.encode("utf-8")))
    # ESC, BEL, DEL and C1 CSI removed; CRLF and CR become LF. (A NUL makes the file binary.)
    assert doc.text == "Title\nab[2J]0;PWNEDcdef31m gh\nend\n"
    assert doc.metadata["controls_removed"] == 5
    assert "5 control characters removed" in doc.warnings
    assert doc.text[doc.text.index("gh") :].startswith("gh\nend")
    assert_clean(doc)


def test_text_is_nfc(tmp_path: Path) -> None:
    doc = extract(write(tmp_path, "nfc.txt", "cafe\u0301 and A\u030a".encode()))
    assert doc.text == "café and Å"
    assert len(doc.text) == 10


def test_markdown_is_source_text_titled_by_its_first_heading(tmp_path: Path) -> None:
    source = "```\n# not a title\n```\nintro\n\n# The *Real* Title #\n\n## Section\ntext\n"
    doc = extract(write(tmp_path, "notes.md", source))
    assert doc.format == "md"
    assert doc.text == source
    assert doc.title == "The *Real* Title"
    untitled = extract(write(tmp_path, "plain-notes.markdown", "just text\n"))
    assert untitled.title == "plain-notes"


def test_markdown_front_matter_and_bylines_give_title_author_and_date(tmp_path: Path) -> None:
    front = (
        '---\ntitle: "Notes on Faction"\nauthor: [Ada Lovelace, Charles Babbage]\n'
        "date: 2024-03-09T10:00:00Z\ntags: [a, b]\n---\n\n# Heading that is not the title\n"
    )
    doc = extract(write(tmp_path, "front.md", front))
    assert (doc.title, doc.author, doc.published) == (
        "Notes on Faction",
        "Ada Lovelace",
        "2024-03-09",
    )
    assert doc.text == front  # the source as written, front matter included
    sample = extract(SAMPLES / "federalist-no-10.md")
    assert (sample.title, sample.author) == ("The Federalist No. 10", "James Madison")
    byline = extract(write(tmp_path, "by.md", "# Title\n\nBy Jane Q. Doe\n\nText.\n"))
    assert byline.author == "Jane Q. Doe"
    plain = extract(write(tmp_path, "bold.md", "# Title\n\n**Important** things first.\n"))
    assert plain.author is None  # a bold word in a sentence is not a byline


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(min_size=1, max_size=600))
def test_any_bytes_named_txt_give_clean_text_or_a_reason(tmp_path: Path, data: bytes) -> None:
    path = write(tmp_path, "fuzz.txt", data)
    try:
        doc = extract(path)
    except IngestError as error:
        assert error.reason
        return
    assert_clean(doc)
    assert doc.text.strip()


# -- HTML -----------------------------------------------------------------------------------


def paragraphs(n: int, topic: str = "trade") -> str:
    return "".join(
        f"<p>Paragraph {i}: an ordinary sentence number {i} about {topic} policy, tariffs and "
        f"the effects of item {i * 7} on prices and wages in the provinces.</p>\n"
        for i in range(n)
    )


PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Tariffs and Prices | Example Gazette</title>
<meta name="author" content="Ada Example">
<meta property="og:title" content="Tariffs and Prices">
<meta property="article:published_time" content="2021-03-04T10:00:00Z">
<link rel="canonical" href="https://gazette.example.org/2021/tariffs">
<link rel="stylesheet" href="http://evil.example/site.css">
<script src="http://evil.example/tracker.js"></script>
<script>document.write('SCRIPTTEXT'); fetch('http://evil.example/x')</script>
<style>p { color: red } /* STYLETEXT */</style>
</head><body>
<header><nav><a href="/">Home</a> | <a href="/about">NAVTEXT About us</a></nav></header>
<aside class="sidebar"><h3>Related</h3><div class="newsletter">Subscribe SIDEBARTEXT</div></aside>
<main><article><h1>Tariffs and Prices</h1>
BODY
<img src="http://evil.example/beacon.gif">
<iframe src="http://evil.example/frame">IFRAMETEXT</iframe>
<noscript>NOSCRIPTTEXT</noscript>
</article></main>
<footer><p>FOOTERTEXT © Example Gazette</p><a href="/privacy">Privacy</a></footer>
</body></html>"""


def test_html_main_text_and_metadata(tmp_path: Path, sandbox: Sandbox) -> None:
    path = write(tmp_path, "page.html", PAGE.replace("BODY", paragraphs(8)))
    started = time.monotonic()
    doc = extract(path, sandbox=sandbox)
    # Remote <img>, <link>, <script> and <iframe> are never fetched: a fetch would hang here
    # (no network) or trip the worker's audit hook, which reports as a warning.
    assert time.monotonic() - started < 10
    assert not [w for w in doc.warnings if "blocked" in w]
    assert "Paragraph 0: an ordinary sentence" in doc.text
    assert "Paragraph 7:" in doc.text
    for leaked in (
        "SCRIPTTEXT",
        "STYLETEXT",
        "NAVTEXT",
        "SIDEBARTEXT",
        "FOOTERTEXT",
        "IFRAMETEXT",
        "NOSCRIPTTEXT",
        "evil.example",
    ):
        assert leaked not in doc.text
    assert doc.format == "html"
    assert doc.title == "Tariffs and Prices"
    assert doc.author == "Ada Example"
    assert doc.published == "2021-03-04"
    assert doc.source == "https://gazette.example.org/2021/tariffs"
    assert doc.metadata["canonical_url"] == doc.source
    assert doc.metadata["file"] == str(path.resolve())
    assert doc.page_starts is None
    assert_clean(doc)


def test_html_without_canonical_url_keeps_the_file_path(tmp_path: Path, sandbox: Sandbox) -> None:
    head = "<head><title>Local page</title></head>"
    page = f"<html>{head}<body><article>{paragraphs(5)}</article></body></html>"
    doc = extract(write(tmp_path, "local.htm", page), sandbox=sandbox)
    assert doc.source == str((tmp_path / "local.htm").resolve())
    assert doc.title == "Local page"
    assert doc.published is None


def test_an_escape_entity_does_not_lose_the_page(tmp_path: Path, sandbox: Sandbox) -> None:
    hostile = "<p>HOSTILE &#27;[2J clear &#x1b;]0;PWNED&#x7; title \x1b[31mraw &#0; END</p>"
    article = paragraphs(3) + hostile + paragraphs(3, "fishing")
    page = f"<html><body><article>{article}</article></body></html>"
    doc = extract(write(tmp_path, "esc.html", page), sandbox=sandbox)
    line = next(line for line in doc.text.splitlines() if "HOSTILE" in line)
    assert "\x1b" not in line and "\x07" not in line
    assert "PWNED" in line and "END" in line
    assert "fishing" in doc.text
    assert doc.metadata["controls_removed"] >= 4
    assert_clean(doc)


def test_preclean_drops_only_control_references() -> None:
    cleaned, removed = preclean("a&#27;b&#x1B;c&#0007d&#10;e&#x9b;f\x1bg&amp;&#233;")
    assert cleaned == "abcd&#10;e&#x9b;fg&amp;&#233;"
    assert removed == 4


def test_html_in_a_legacy_charset(tmp_path: Path, sandbox: Sandbox) -> None:
    page = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
        f"<title>Caf\xe9</title></head><body><article>{paragraphs(4)}"
        "<p>The na\xefve caf\xe9 owner \u2013 twice.</p></article></body></html>"
    )
    doc = extract(write(tmp_path, "legacy.html", page.encode("cp1252")), sandbox=sandbox)
    assert "The naïve café owner – twice." in doc.text
    assert doc.title == "Café"


def test_html_without_main_text_is_refused(tmp_path: Path, sandbox: Sandbox) -> None:
    page = "<html><body><img src=x><script>var a = 1</script></body></html>"
    assert refused(write(tmp_path, "empty.html", page), sandbox=sandbox) == "no main text found"


def test_binary_named_html_is_refused_before_parsing(tmp_path: Path) -> None:
    path = write(tmp_path, "pic.html", b"\x89PNG\r\n\x1a\n" + bytes(200))
    assert refused(path) == "binary file (PNG image) named .html"


def test_sample_page(sandbox: Sandbox) -> None:
    doc = extract(SAMPLES / "common-sense.html", sandbox=sandbox)
    assert doc.author == "Thomas Paine"
    assert doc.published == "1776-01-10"  # older than htmldate's default earliest date
    assert "Subscribe" not in doc.text


def test_worker_is_silent_and_offline() -> None:
    """In a hardened worker, fd 1 and 2 go nowhere, and DNS and connections are refused."""
    code = (
        "import os, socket, sys\n"
        "from store.ingest.sandbox import _harden\n"
        "notes = []\n"
        "_harden(2**31, notes)\n"
        "os.write(2, b'NOISE ON STDERR')\n"
        "print('NOISE ON STDOUT', flush=True)\n"
        "refused = 0\n"
        "for attempt in (lambda: socket.getaddrinfo('example.org', 80),\n"
        "                lambda: socket.socket().connect(('127.0.0.1', 9))):\n"
        "    try:\n"
        "        attempt()\n"
        "    except PermissionError:\n"
        "        refused += 1\n"
        "expected = ['blocked socket.getaddrinfo during extraction',\n"
        "            'blocked socket.connect during extraction']\n"
        "sys.exit(42 if refused == 2 and notes == expected else 3)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=REPO, timeout=60)
    assert done.returncode == 42
    assert done.stderr == b"" and done.stdout == b""


# -- PDF ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, pages",
    [
        ("pdflatex-4-pages.pdf", 4),
        ("pdflatex-outline.pdf", 4),
        ("multicolumn.pdf", 3),
        ("minimal-document.pdf", 1),
        ("habibi.pdf", 1),
    ],
)
def test_pdf_page_starts_locate_every_page(
    tmp_path: Path, sandbox: Sandbox, name: str, pages: int
) -> None:
    from pypdf import PdfReader

    path = Path(shutil.copy(PDFS / name, tmp_path / name))
    doc = extract(path, sandbox=sandbox)
    assert doc.format == "pdf"
    assert doc.page_starts is not None and len(doc.page_starts) == pages
    assert doc.page_starts[0] == 0
    raw = [ingest_clean(page.extract_text())[0] for page in PdfReader(path).pages]
    expected, _ = clean_pages(raw)  # ligatures, hyphens, running lines: page by page
    for start, text in zip(doc.page_starts, expected, strict=True):
        assert doc.text[start : start + len(text)] == text
    assert doc.text == "\n\n".join(expected)
    assert "\f" not in doc.text
    assert_clean(doc)


def test_pdf_metadata_title_author_date(sandbox: Sandbox) -> None:
    doc = extract(SAMPLES / "a-modest-proposal.pdf", sandbox=sandbox)
    assert doc.title == "A Modest Proposal"
    assert doc.author == "Jonathan Swift"
    assert doc.published == "1729-01-01"
    assert doc.metadata["pages"] == len(doc.page_starts)


def test_image_only_pdf_has_no_extractable_text(tmp_path: Path, sandbox: Sandbox) -> None:
    # Its pages carry one label word ("Background") under each image, and no real text.
    path = Path(shutil.copy(PDFS / "imagemagick-images.pdf", tmp_path / "scan.pdf"))
    assert refused(path, sandbox=sandbox) == "no extractable text: scanned?"


def test_password_protected_pdf_is_refused(tmp_path: Path, sandbox: Sandbox) -> None:
    path = Path(shutil.copy(PDFS / "libreoffice-writer-password.pdf", tmp_path / "locked.pdf"))
    assert refused(path, sandbox=sandbox) == "encrypted PDF needs a password"


def test_owner_only_encryption_opens_and_user_password_does_not(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    from pypdf import PdfWriter

    source = PDFS / "minimal-document.pdf"
    plain = extract(source, sandbox=sandbox)
    for name, user in (("owner-only.pdf", ""), ("user-password.pdf", "secret")):
        writer = PdfWriter(clone_from=source)
        writer.encrypt(user_password=user, owner_password="owner", algorithm="AES-256")
        writer.write(tmp_path / name)
    opened = extract(tmp_path / "owner-only.pdf", sandbox=sandbox)
    assert opened.text == plain.text
    assert opened.metadata["encrypted"] is True
    assert refused(tmp_path / "user-password.pdf", sandbox=sandbox) == (
        "encrypted PDF needs a password"
    )


def build_pdf(objects: list[bytes]) -> bytes:
    """A minimal PDF with a correct xref from object bodies (object 1 is the catalog)."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
ONE_PAGE = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
PAGE_OBJ = (
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
    b"/Resources << /Font << /F1 5 0 R >> >> >>"
)
FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def stream(data: bytes, *, flate: bool = False) -> bytes:
    if flate:
        return (
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
        )
    return b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def deflate(chunk: bytes, times: int) -> bytes:
    packer = zlib.compressobj(9)
    return b"".join(packer.compress(chunk) for _ in range(times)) + packer.flush()


def test_escape_inside_pdf_text_is_removed(tmp_path: Path, sandbox: Sandbox) -> None:
    text = b"BT /F1 12 Tf 72 720 Td (Hello \\033[2J \\033]0;PWNED\\007 world) Tj ET"
    path = write(tmp_path, "esc.pdf", build_pdf([CATALOG, ONE_PAGE, PAGE_OBJ, stream(text), FONT]))
    doc = extract(path, sandbox=sandbox)
    assert doc.text == "Hello [2J ]0;PWNED world"
    assert doc.metadata["controls_removed"] == 3
    assert doc.title == "esc"


def hostile_pdfs(tmp_path: Path) -> dict[str, Path]:
    real = (PDFS / "pdflatex-4-pages.pdf").read_bytes()
    escape = stream(b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET")
    cases = {
        "trunc50.pdf": real[: len(real) // 2],
        "trunc1k.pdf": real[:1024],
        "no_xref.pdf": real.replace(b"startxref", b"startxrex").replace(b"\nxref", b"\nxrex"),
        "loop_kids.pdf": build_pdf(
            [CATALOG, b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>", PAGE_OBJ, escape, FONT]
        ),
        "no_pages.pdf": build_pdf([CATALOG, b"<< /Type /Pages /Kids [] /Count 0 >>"]),
    }
    return {name: write(tmp_path, name, data) for name, data in cases.items()}


def test_damaged_pdfs_give_one_clear_line(tmp_path: Path, sandbox: Sandbox) -> None:
    for name, path in hostile_pdfs(tmp_path).items():
        reason = refused(path, sandbox=sandbox)
        assert reason.startswith(("not a readable PDF (", "no extractable text")), (name, reason)
        assert "\n" not in reason and len(reason) < 200
    assert extract(PDFS / "minimal-document.pdf", sandbox=sandbox).text


def test_files_named_pdf_that_are_not_pdfs(tmp_path: Path) -> None:
    html = write(tmp_path, "page.pdf", b"<html><body>not a pdf</body></html>")
    assert refused(html) == "not a PDF file (it holds HTML)"
    png = write(tmp_path, "image.pdf", b"\x89PNG\r\n\x1a\n" + bytes(100))
    assert refused(png) == "not a PDF file (it holds PNG image)"


def test_a_slow_pdf_times_out_and_the_next_file_still_imports(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    extract(PDFS / "minimal-document.pdf", sandbox=sandbox)  # a warm worker
    spawns = sandbox.spawns
    operators = b"BT /F1 12 Tf (AAAAAAAAAAAAAAAAAAAAAAAAAAAA) Tj ET\n" * 20000
    slow = build_pdf(
        [CATALOG, ONE_PAGE, PAGE_OBJ, stream(deflate(operators, 10), flate=True), FONT]
    )
    path = write(tmp_path, "slow.pdf", slow)  # about 40 s of pypdf work
    started = time.monotonic()
    assert refused(path, Limits(timeout=0.5), sandbox) == (
        "took longer than 0.5 s to extract (Limits.timeout)"
    )
    assert time.monotonic() - started < 5
    assert extract(PDFS / "minimal-document.pdf", sandbox=sandbox).text
    assert sandbox.spawns == spawns + 1


def test_memory_cap_gives_one_line_and_the_worker_recovers(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    # 100 MB of spaces in one flate stream (a 100 KB file): pypdf inflates up to 75 MB.
    bomb = build_pdf(
        [CATALOG, ONE_PAGE, PAGE_OBJ, stream(deflate(b" " * 2**20, 100), flate=True), FONT]
    )
    path = write(tmp_path, "bomb.pdf", bomb)
    assert refused(path, Limits(memory_bytes=100 * 2**20), sandbox) == (
        "needs more than 100 MB of memory (Limits.memory_bytes)"
    )
    assert refused(path, sandbox=sandbox).startswith("not a readable PDF (page 1: Limit reached")
    assert extract(PDFS / "minimal-document.pdf", sandbox=sandbox).text


def test_one_worker_serves_a_batch(tmp_path: Path) -> None:
    for i in range(5):
        write(
            tmp_path,
            f"p{i}.html",
            f"<html><body><article>{paragraphs(4, f'topic{i}')}</article></body></html>",
        )
    with Sandbox() as worker:
        docs = [extract(path, sandbox=worker) for path in sorted(tmp_path.glob("*.html"))]
        docs.append(extract(PDFS / "minimal-document.pdf", sandbox=worker))
        assert worker.spawns == 1
    assert len({doc.text for doc in docs}) == 6


def test_extract_works_standalone() -> None:
    doc = extract(PDFS / "minimal-document.pdf")
    assert doc.page_starts == [0]


# -- folders --------------------------------------------------------------------------------


def test_iter_source_files_walks_folders_sorted_skipping_hidden_and_unsupported(
    tmp_path: Path,
) -> None:
    root = tmp_path / "lib"
    for name in (
        "b.txt",
        "a.md",
        "sub/c.pdf",
        "sub/deeper/d.HTML",
        "sub/e.htm",
        "notes.odt",
        ".hidden.txt",
        ".git/config.txt",
        "sub/.cache/x.md",
        "z.text",
        "y.markdown",
    ):
        write(root, name, b"x")
    explicit = write(tmp_path, "report.odt", b"x")
    found = list(
        iter_source_files([root / "b.txt", root, explicit, root / "sub", tmp_path / "gone.txt"])
    )
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "lib/b.txt",  # as given first; its second sighting in the folder is skipped
        "lib/a.md",
        "lib/sub/c.pdf",
        "lib/sub/deeper/d.HTML",
        "lib/sub/e.htm",
        "lib/y.markdown",
        "lib/z.text",
        "report.odt",  # named explicitly: extract will say why it is refused
        "gone.txt",
    ]


def test_supported_extensions() -> None:
    assert SUPPORTED == {
        ".txt": "txt",
        ".text": "txt",
        ".md": "md",
        ".markdown": "md",
        ".html": "html",
        ".htm": "html",
        ".pdf": "pdf",
        ".epub": "epub",
        ".docx": "docx",
    }


def test_plain_text_title_and_author_from_byline_and_gutenberg_header(tmp_path: Path) -> None:
    from store.ingest.text import plain_text_metadata

    assert plain_text_metadata("Close\nNews\n\nA Short Title\n\nBy Jane Q. Doe\n\nBody text.") == (
        "A Short Title",
        "Jane Q. Doe",
    )
    assert plain_text_metadata("Title: Emma\nAuthor: Jane Austen\n\nChapter 1") == (
        "Emma",
        "Jane Austen",
    )
    assert plain_text_metadata("Just prose. By the way, nothing here.") == (None, None)
