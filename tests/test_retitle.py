"""Documents you can name (issue 10): `margin retitle`, the library's `n` dialog, the name
travelling in bundles (the newer naming wins), and the source column telling twins apart."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from store.exchange import export_bundle, merge
from store.library import Library
from tests.apptools import notices, sample_service, screen_text, settle
from tests.conftest import NewDoc, on_disk
from tests.test_exchange import ALICE, BOB
from tui.app import make_app
from tui.cli import cli
from tui.dialogs.retitle import RetitleDialog
from tui.screens.library import source_label

PAGES = Path(__file__).parent / "fixtures" / "html"


def run(library: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--library", str(library), *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_cli_retitle_changes_title_author_date_and_what_search_finds(tmp_path: Path) -> None:
    lib_path = tmp_path / "library.margin"
    run(lib_path, "import", str(PAGES / "blog-post.html"))
    code, output = run(
        lib_path,
        "retitle",
        "reading slowly",
        "Slow Reading, a method",
        "--author",
        "Ines Field",
        "--date",
        "2023-11",
        "--json",
    )
    assert code == 0, output
    named = json.loads(output)
    assert (named["title"], named["author"], named["published"]) == (
        "Slow Reading, a method",
        "Ines Field",
        "2023-11",
    )
    lib = Library(lib_path)
    doc = lib.document(named["id"])
    assert doc.title == "Slow Reading, a method" and doc.author == "Ines Field"
    assert "named_at" in doc.metadata
    lib.close()
    code, output = run(lib_path, "search", "doc:method", "--json")
    assert json.loads(output)["hits"][0]["title"] == "Slow Reading, a method"
    code, output = run(lib_path, "search", "doc:notes", "--json")
    assert json.loads(output)["hits"] == []


def test_cli_retitle_refuses_bad_input_in_one_line_and_changes_nothing(tmp_path: Path) -> None:
    lib_path = tmp_path / "library.margin"
    run(lib_path, "import", str(PAGES / "blog-post.html"))
    for args, reason in (
        (("reading slowly", "--date", "5 Nov"), "is not a date"),
        (("reading slowly", "  "), "a title cannot be empty"),
        (("reading slowly",), "nothing to change"),
        (("no such document", "X"), "no document matches"),
    ):
        result = CliRunner().invoke(cli, ["--library", str(lib_path), "retitle", *args])
        assert result.exit_code == 2, result.output
        assert reason in result.output and len(result.output.strip().splitlines()) == 1
    lib = Library(lib_path)
    (row,) = on_disk(lib)["documents"].rows
    assert row["title"] == "Notes on reading slowly" and row["published"] == "2023-11-05"
    lib.close()


def test_a_naming_travels_in_a_bundle_and_the_newer_one_wins(tmp_path: Path) -> None:
    a, b = Library(tmp_path / "a.margin"), Library(tmp_path / "b.margin")
    text = "A report on harbours.\n\nIt has two paragraphs.\n"
    doc, _ = a.add_document(NewDoc(text, title="report-final-v2", source="/tmp/report.txt"))
    b.add_document(NewDoc(text, title="report-final-v2", source="/home/b/report.txt"))
    a.retitle(doc.id, "Harbour report", author="Port Authority", published="2024")
    export_bundle(a, tmp_path / "a.jsonld", with_sources=False)
    report = merge(b, tmp_path / "a.jsonld", author=BOB)
    (row,) = on_disk(b)["documents"].rows
    assert (row["title"], row["author"], row["published"]) == (
        "Harbour report",
        "Port Authority",
        "2024",
    )
    assert report.counts["document"]["updated"] == 1
    # B names it again later; A's older naming coming back does not undo it.
    b.retitle(row["id"], "Harbour report (annotated)")
    merge(b, tmp_path / "a.jsonld", author=BOB)
    assert b.document(row["id"]).title == "Harbour report (annotated)"
    # and B's naming goes back to A
    export_bundle(b, tmp_path / "b.jsonld", with_sources=False)
    merge(a, tmp_path / "b.jsonld", author=ALICE)
    assert a.document(doc.id).title == "Harbour report (annotated)"
    a.close()
    b.close()


def test_source_label_names_the_site_or_the_file() -> None:
    assert source_label("https://www.example.org/a/b.html") == "example.org"
    assert source_label("https://doc.rust-lang.org/rustdoc/what-is-rustdoc.html") == (
        "doc.rust-lang.org"
    )
    assert source_label("/home/me/papers/report.pdf") == "report.pdf"
    assert source_label(None) == ""


async def test_library_n_names_the_selected_document(tmp_path: Path) -> None:
    service = sample_service(tmp_path)
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "federalist-" in screen_text(app)  # the source column
        await pilot.press("down", "down")  # The Federalist No. 10
        await pilot.press("n")
        await pilot.pause()
        title = app.screen.query_one("#retitle-title")
        assert title.value == "The Federalist No. 10"
        title.value = ""
        await pilot.press(*"Federalist 10", "tab", "tab")
        date = app.screen.query_one("#retitle-date")
        date.value = ""
        await pilot.press(*"1787-11-22", "enter")
        await settle(pilot)
        doc = service.library.resolve_document("Federalist 10")
        assert (doc.title, doc.author, doc.published) == (
            "Federalist 10",
            "James Madison",
            "1787-11-22",
        )
        assert "Named Federalist 10." in notices(app)
        assert "Federalist 10 " in screen_text(app)
        # a bad date is said in one line and changes nothing
        await pilot.press("n")
        await pilot.pause()
        app.screen.query_one("#retitle-date").value = "someday"
        await pilot.press("enter")
        await settle(pilot)
        # Refused: the dialog stays open with the typing and the reason under it.
        assert isinstance(app.screen, RetitleDialog)
        assert app.screen.query_one("#retitle-date").value == "someday"
        assert "'someday' is not a date" in screen_text(app)
        assert service.library.document(doc.id).published == "1787-11-22"
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, RetitleDialog)
    service.close()
