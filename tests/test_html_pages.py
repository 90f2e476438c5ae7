"""Saved web pages of several kinds, imported as a reader sees them (issue 10).

The pages in tests/fixtures/html are written for these tests in the shape of real ones: an
mdBook documentation page (rustdoc's book), a news article, a static-site blog post, a
Wikipedia article and a meta-refresh redirect stub.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from store.ingest import Sandbox, extract
from store.library import Library
from tests.conftest import REPO, on_disk
from tui.cli import cli

PAGES = REPO / "tests" / "fixtures" / "html"


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    worker = Sandbox()
    yield worker
    worker.close()


def run(library: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--library", str(library), *args], catch_exceptions=False)
    return result.exit_code, result.output


def paragraphs(text: str) -> list[str]:
    return text.split("\n\n")


def test_documentation_page_keeps_paragraphs_whole_with_inline_code(sandbox: Sandbox) -> None:
    doc = extract(PAGES / "mdbook-what-is-rustdoc.html", sandbox=sandbox)
    assert doc.title == "What is rustdoc?"
    parts = paragraphs(doc.text)
    assert parts[0] == "What is rustdoc?"
    assert parts[1] == (
        "The standard Rust distribution ships with a tool called rustdoc. Its job is to "
        "generate documentation for Rust projects. On a fundamental level, Rustdoc takes as "
        "an argument either a crate root or a Markdown file, and produces HTML, CSS, and "
        "JavaScript."
    )
    # em, code and a inside a paragraph never cut it
    assert (
        "We'll then run rustdoc on our code. We can use the --crate-name flag to give our "
        "crate a name, as rustdoc would otherwise pick one from the file name, and other "
        "flags change the output folder."
    ) in parts
    # pre keeps its lines, as one paragraph
    assert "$ cargo new docs --lib\n$ cd docs" in parts
    assert "/// foo is a function\nfn foo() {}" in parts
    assert "- The doc directory holds the generated pages, one per item." in parts
    assert "Note: rustdoc is also used by cargo doc, which passes the right flags for you." in parts
    # the hidden help dialog, the search box and the template give nothing
    for hidden in ("Keyboard shortcuts", "Press", "Search results", "Copy to clipboard"):
        assert hidden not in doc.text


def test_news_article_title_from_og_title_and_typography_kept(sandbox: Sandbox) -> None:
    doc = extract(PAGES / "news-article.html", sandbox=sandbox)
    assert doc.title == "Harbour towns count the cost of the long winter"
    assert doc.author == "Maren Holt"
    assert doc.published == "2024-02-19"
    assert doc.source == "https://courier.example.com/news/2024/feb/19/harbour-towns-winter"
    parts = paragraphs(doc.text)
    assert (
        "When the storms finally eased in the second week of February, the boats of "
        "Port Elvan went out together, forty-one of them, in a line that the harbour "
        "master said he had not seen since 1987."
    ) in parts
    assert "A season\u2019s takings in six weeks" in parts
    for leaked in ("cookies", "Related", "Ferry", "All rights reserved"):
        assert leaked not in doc.text


def test_blog_post_lists_tables_and_title_without_the_blog_name(sandbox: Sandbox) -> None:
    doc = extract(PAGES / "blog-post.html", sandbox=sandbox)
    assert doc.title == "Notes on reading slowly"
    assert doc.published == "2023-11-05"
    parts = paragraphs(doc.text)
    assert "Search the blog" not in doc.text  # a `hidden` overlay
    assert parts[0] == "Notes on reading slowly"
    assert "2. Read with a pen, and mark only what you would quote." in parts
    assert "Pass | Minutes" in parts and "Second | 65" in parts


def test_wikipedia_page_title_without_the_site(sandbox: Sandbox) -> None:
    doc = extract(PAGES / "wiki-natasha-rostova.html", sandbox=sandbox)
    assert doc.title == "Natásha Rostóva"
    assert doc.source == "https://en.wikipedia.org/wiki/Nat%C3%A1sha_Rost%C3%B3va"
    assert "Jump to content" not in doc.text and "Main page" not in doc.text
    assert any(
        p.startswith("Natásha Rostóva (Russian: Наталья Ростова) is a")
        for p in paragraphs(doc.text)
    )


def test_redirect_stub_is_refused_naming_its_target(tmp_path: Path) -> None:
    lib_path = tmp_path / "library.margin"
    code, output = run(lib_path, "import", str(PAGES / "redirect-stub.html"))
    assert code != 0
    line = [line for line in output.splitlines() if "redirect-stub.html" in line]
    assert len(line) == 1, output
    assert "a redirect page to https://doc.rust-lang.org/rustdoc/what-is-rustdoc.html" in line[0]
    assert "Traceback" not in output
    lib = Library(lib_path)
    assert on_disk(lib)["documents"].count == 0
    lib.close()


def test_imported_pages_are_stored_titled_and_searchable(tmp_path: Path) -> None:
    lib_path = tmp_path / "library.margin"
    code, output = run(lib_path, "import", str(PAGES))
    assert "redirect page" in output  # the stub is refused, the batch goes on
    lib = Library(lib_path)
    titles = sorted(row["title"] for row in on_disk(lib)["documents"].rows)
    lib.close()
    assert titles == [
        "Harbour towns count the cost of the long winter",
        "Natásha Rostóva",
        "Notes on reading slowly",
        "What is rustdoc?",
    ]
    # A phrase across what was a source line break is found, as one passage.
    code, output = run(lib_path, "search", '"Its job is to generate documentation"', "--json")
    assert code == 0, output
    hits = json.loads(output)["hits"]
    assert [hit["title"] for hit in hits] == ["What is rustdoc?"]
    assert "Its job is to generate documentation" in hits[0]["snippet"]


def test_only_overlays_named_as_such_are_dropped(tmp_path: Path, sandbox: Sandbox) -> None:
    body = "".join(
        f"<p>Paragraph {i}: butter, sugar and flour, creamed for the cookies of week {i}.</p>"
        for i in range(6)
    )
    page = (
        "<html><head><title>Cookies | Baking Notes</title></head><body>"
        '<div class="cookie-banner"><p>We use cookies. Accept?</p></div>'
        '<div class="modal" style="display: none"><h1>Sign up</h1></div>'
        f'<article class="post-cookie-recipes"><h1>Cookies</h1>{body}</article></body></html>'
    )
    path = tmp_path / "cookies.html"
    path.write_text(page, encoding="utf-8")
    doc = extract(path, sandbox=sandbox)
    assert doc.title == "Cookies"
    assert "Paragraph 5: butter, sugar and flour" in doc.text
    assert "We use cookies" not in doc.text and "Sign up" not in doc.text
