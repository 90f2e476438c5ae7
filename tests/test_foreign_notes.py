"""Notes from other tools come in: W3C annotations from anyone, Hypothesis, Kindle, Readwise and
REFI-QDA codebooks, each from a real-shaped file in tests/fixtures, through the real store, the
CLI and its --json; each merged twice changes nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from store.exchange import BundleError, merge_any
from store.exchange.foreign import stable_id
from store.library import Library
from store.records import Author
from tests.conftest import FIXTURES, REFI, W3C, NewDoc
from tui.cli import cli

FOREIGN = FIXTURES / "foreign"
EXAMPLES = W3C / "web-annotation-tests" / "tools" / "samples" / "correct"
ME = Author(id="55555555-5555-4555-8555-555555555555", name="Me")


def run(library: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--library", str(library), *args], catch_exceptions=False)
    return result.exit_code, result.output


def merged(library: Path, source: Path, *, took_nothing: bool = False) -> dict:
    code, output = run(library, "merge", str(source), "--json")
    assert code == (1 if took_nothing else 0), output  # 1: refused records, took none
    return json.loads(output)


@pytest.fixture
def lib_path(tmp_path: Path) -> Path:
    return tmp_path / "lib" / "library.margin"


def _notes(library: Path) -> list:
    with Library(library) as lib:
        return lib.annotations()


def _text(library: Path, document_id: str) -> str:
    with Library(library) as lib:
        return lib.document(document_id).text


# -- W3C annotations from any tool ----------------------------------------------------------------


def _example_library(path: Path) -> Library:
    lib = Library(path)
    lib.add_document(
        NewDoc(
            text="Intro. this is an anotation that has some errors. Then text before the "
            "Selected Text and text after it. End.",
            title="Page one",
            source="http://example.org/page1",
        )
    )
    lib.add_document(
        NewDoc(
            text="Some words to fill a page. " * 40,
            title="Ebook",
            source="http://example.org/ebook1",
        )
    )
    lib.add_document(
        NewDoc(
            text="Title line\nThe body of document one says something.",
            title="Document one",
            source="http://example.com/document1",
        )
    )
    return lib


def _annotations_in(obj: object) -> list[dict]:
    if isinstance(obj, dict) and obj.get("type") == "Annotation":
        return [obj]
    first = obj.get("first") if isinstance(obj, dict) else None
    items = first.get("items", []) if isinstance(first, dict) else obj.get("items", [])
    return [a for a in items if isinstance(a, dict)]


def test_every_w3c_example_comes_in_or_is_refused_with_its_reason(tmp_path: Path) -> None:
    files = sorted(EXAMPLES.glob("*.json"))
    assert len(files) == 45  # 41 annotations, 2 collections, 2 pages
    lib = _example_library(tmp_path / "l.margin")
    came_in = refused_files = 0
    for path in files:
        obj = json.loads(path.read_text("utf-8"))
        try:
            report = merge_any(lib, path, author=ME)
        except BundleError as error:
            # A whole file refused: one line naming it and why.
            assert str(error).startswith(f"{path.name}: ") and len(str(error)) > len(path.name) + 5
            refused_files += 1
            continue
        assert report.format == "W3C annotation"
        for a in _annotations_in(obj):
            said = [line for line in report.rejected if f"'{a['id']}'" in line]
            stored = lib.annotation_row(stable_id("W3C annotation", a["id"]))
            assert bool(said) != (stored is not None), (path.name, a["id"], report.lines())
            if said:
                reason = said[0].split(": ", 1)[1]
                assert len(reason) > 20, said
            else:
                came_in += 1
    assert refused_files == 1  # example41: its pages are elsewhere
    assert came_in == 4 + 4  # anno26, 27, 32, 41 alone, and again in collection1 (unchanged)
    # The quote and the positions land where the text says.
    page = lib.annotation_row(stable_id("W3C annotation", "http://example.org/anno26"))
    assert page is not None and page.exact == "anotation" and page.anchor_state != "orphaned"
    assert page.note == "see http://example.org/comment1"
    assert page.author_name == "unknown, from anno26.json"
    refined = lib.annotation_row(stable_id("W3C annotation", "http://example.org/anno32"))
    assert refined is not None and refined.exact == "Selected Text"
    tagged = lib.annotation_row(stable_id("W3C annotation", "http://example.org/anno41"))
    assert tagged is not None
    assert (tagged.exact, tagged.tags, tagged.author_name) == (
        "line\nThe body of docu",
        ("love",),
        "A. Person",
    )
    assert tagged.note.startswith("I really love this particular bit of text")
    assert tagged.created == "2015-10-13T13:00:00.000Z"
    # Merging them all again changes nothing.
    before = lib.max_seq()
    for path in files:
        try:
            again = merge_any(lib, path, author=ME)
        except BundleError:
            continue
        assert (again.added, again.updated, again.conflicts) == (0, 0, []), again.lines()
    assert lib.max_seq() == before
    lib.close()


def test_w3c_refusals_say_what_cannot_be_read(tmp_path: Path) -> None:
    lib = _example_library(tmp_path / "l.margin")
    reasons = {
        "anno11.json": "several resources (Composite)",
        "anno12.json": "several resources (List)",
        "anno29.json": "SVG selector",
        "anno28.json": "DataPositionSelector",
        "anno1.json": "the whole of 'http://example.com/page1'",
        "anno22.json": "selector given only by reference",
    }
    for name, reason in reasons.items():
        report = merge_any(lib, EXAMPLES / name, author=ME)
        assert len(report.rejected) == 1 and reason in report.rejected[0], report.rejected
    lib.close()


def test_a_foreign_target_is_found_by_margin_id_by_hash_and_by_canonical_url(
    tmp_path: Path,
) -> None:
    lib = Library(tmp_path / "l.margin")
    text = "Alpha beta gamma. The quick brown fox jumps over the lazy dog. Omega."
    doc, _ = lib.add_document(
        NewDoc(
            text=text, source="/home/me/fox.html", metadata={"canonical_url": "https://ex.org/fox"}
        )
    )

    def note(target: dict, ident: str) -> dict:
        return {
            "@context": "http://www.w3.org/ns/anno.jsonld",
            "id": ident,
            "type": "Annotation",
            "motivation": ["commenting", "tagging"],
            "body": [
                {
                    "type": "TextualBody",
                    "value": "a fox",
                    "purpose": "commenting",
                    "language": ["en", "fr"],
                    "format": ["text/plain", "text/html"],
                },
                {"type": "TextualBody", "value": "animals", "purpose": "tagging"},
            ],
            "creator": {"type": "Person", "nickname": "ann"},
            "created": "2020-01-01T00:00:00Z",
            "target": target,
        }

    quote = {"type": "TextQuoteSelector", "exact": "quick brown fox"}
    items = [
        note({"source": f"urn:uuid:{doc.id}", "selector": quote}, "https://tool.example/a/1"),
        note(
            {
                "source": "https://elsewhere.example/x",
                "margin:textSha256": doc.sha256,
                "selector": quote,
            },
            "https://tool.example/a/2",
        ),
        note(
            {
                "source": "http://EX.org/fox/#top",
                "selector": [quote, {"type": "TextPositionSelector", "start": 500, "end": 515}],
            },
            "https://tool.example/a/3",
        ),
    ]
    path = tmp_path / "three.json"
    path.write_text(
        json.dumps(
            {
                "@context": "http://www.w3.org/ns/anno.jsonld",
                "type": "AnnotationPage",
                "items": items,
            }
        ),
        "utf-8",
    )
    report = merge_any(lib, path, author=ME)
    assert report.rejected == [] and report.skipped == [], report.lines()
    for n in (1, 2, 3):
        stored = lib.annotation_row(stable_id("W3C annotation", f"https://tool.example/a/{n}"))
        assert stored is not None and stored.document_id == doc.id
        assert text[stored.start : stored.end] == "quick brown fox"
        assert (stored.note, stored.tags, stored.author_name) == ("a fox", ("animals",), "ann")
    assert len(report.placed) == 3
    lib.close()


# -- Hypothesis -----------------------------------------------------------------------------------


def test_a_hypothesis_export_lands_on_the_right_quotes_of_a_saved_page(lib_path: Path) -> None:
    code, output = run(lib_path, "import", str(FOREIGN / "saved-page.html"))
    assert code == 0, output
    report = merged(lib_path, FOREIGN / "hypothesis-export.json")
    assert report["format"] == "Hypothesis"
    notes = {n.id: n for n in _notes(lib_path)}
    first = notes[stable_id("Hypothesis", "Qx1tGn5pEe-aAbcdEfGh01")]
    text = _text(lib_path, first.document_id)
    assert text[first.start : first.end] == "Attention is the rarest and purest form of generosity."
    assert first.author_name == "Alice Liddell"
    assert first.tags == ("attention", "quotes")
    assert first.created == "2024-05-01T09:12:44.101Z"
    # The reply is kept on the annotation it answers, which is as new as its last reply (so a
    # later export with another reply updates the note here).
    assert first.modified == "2024-05-04T08:00:00.000Z"
    assert first.note.startswith("Simone Weil said it first")
    assert "reply by Bob, 2024-05-04: Agreed" in first.note
    # Matched by http/https, trailing slash and fragment; the right one of five "attention"s.
    second = notes[stable_id("Hypothesis", "Rk2uHo6qEe-bBcdeFgHi02")]
    assert text[second.start - 16 : second.end] == "A feed asks for attention"
    assert second.author_name == "bob"
    # Matched by the canonical link of an archived copy.
    archived = notes[stable_id("Hypothesis", "Vo6yLs0uEe-fFghiJkLm06")]
    assert (
        text[archived.start : archived.end] == "To read slowly is to decide where attention goes."
    )
    # A quote not on the page is an orphan, reported; a page note refused; a page not here listed.
    assert notes[stable_id("Hypothesis", "Wp7zMt1vEe-gGhijKlMn07")].anchor_state == "orphaned"
    assert len(report["orphaned"]) == 1 and "('Wp7zMt1vEe-gGhijKlMn07')" in report["orphaned"][0]
    assert "their id 'Qx1tGn5pEe-aAbcdEfGh01'" in " ".join(report["placed"])
    assert any("page note" in line for line in report["refused"])
    assert report["missing"] == [
        "'https://example.net/some-other-article' ('On Attention') is not in this library: 1 notes not merged; "
        "import the page first, then merge again"
    ]
    assert len(report["placed"]) == 3
    again = merged(lib_path, FOREIGN / "hypothesis-export.json")
    assert (again["added"], again["updated"], again["conflicts"]) == (0, 0, 0)
    # The API's search answer reads the same way.
    api = merged(lib_path, FOREIGN / "hypothesis-api-search.json")
    assert api["format"] == "Hypothesis" and len(api["placed"]) == 1
    assert "the book is built to hold it" in api["placed"][0]


# -- Kindle and Readwise ----------------------------------------------------------------------------


def test_kindle_clippings_land_on_a_gutenberg_book_and_wait_for_the_missing_one(
    lib_path: Path, tmp_path: Path
) -> None:
    code, output = run(lib_path, "import", str(FOREIGN / "pride-and-prejudice-chapter-1.txt"))
    assert code == 0, output
    clippings = tmp_path / "My Clippings.txt"
    shutil.copy(FOREIGN / "My Clippings.txt", clippings)
    report = merged(lib_path, clippings)
    assert report["format"] == "Kindle clippings"
    placed = [n for n in _notes(lib_path) if n.anchor_state != "orphaned"]
    assert len(placed) == 2
    opening = next(n for n in placed if n.exact.startswith("It is a truth"))
    assert opening.exact.endswith("must be in want of a wife.")
    assert "\n" in opening.exact  # the book's own line break, found from the Kindle's space
    assert opening.note == "The famous opening: irony from the first line."
    assert opening.created == "2020-03-02T22:15:32.000Z"
    assert opening.author_name == "unknown, from My Clippings.txt"
    assert report["missing"] == [
        "'The Art of War' by 'Sun Tzu' is not in this library: 2 notes not merged; import the "
        "book first, then merge again"
    ]
    assert len(report["orphaned"]) == 1 and "no edition" in report["orphaned"][0]
    assert "1 bookmarks (a place, no text) not kept" in report["notices"]
    again = merged(lib_path, clippings)
    assert (again["added"], again["updated"], again["conflicts"]) == (0, 0, 0)
    # Import the book, merge again: its highlights come in.
    book = tmp_path / "art-of-war.txt"
    book.write_text(
        "Title: The Art of War\nAuthor: Sun Tzu\n\nI. Laying Plans\n\nAll warfare is based on "
        "deception.\n\nIII. Attack by Stratagem\n\nThe supreme art of war is to subdue the "
        "enemy without fighting.\n",
        "utf-8",
    )
    assert run(lib_path, "import", str(book))[0] == 0
    third = merged(lib_path, clippings)
    assert third["missing"] == [] and len(third["placed"]) == 2
    assert all("'The Art of War'" in line for line in third["placed"])


def test_readwise_rows_come_in_with_notes_and_tags(lib_path: Path) -> None:
    assert run(lib_path, "import", str(FOREIGN / "pride-and-prejudice-chapter-1.txt"))[0] == 0
    report = merged(lib_path, FOREIGN / "readwise-export.csv")
    assert report["format"] == "Readwise CSV"
    notes = {n.exact[:20]: n for n in _notes(lib_path)}
    property_note = notes["However little known"]
    assert property_note.note == "Property, not person."
    assert property_note.tags == ("marriage", "money")
    assert property_note.created == "2021-03-14T18:24:00.000Z"
    assert report["refused"] == ["row 5: has no highlight text"]
    assert len(report["missing"]) == 1 and "The Art of War" in report["missing"][0]
    again = merged(lib_path, FOREIGN / "readwise-export.csv")
    assert (again["added"], again["updated"]) == (0, 0)


# -- REFI-QDA by content, and the codebook --------------------------------------------------------


def test_a_qdc_codebook_becomes_tags_with_hierarchy_and_colours(
    lib_path: Path, tmp_path: Path
) -> None:
    renamed = tmp_path / "codebook.xml"  # routed by content, not by its name
    shutil.copy(REFI / "samples" / "margin-example.qdc", renamed)
    report = merged(lib_path, renamed)
    assert report["format"] == "REFI-QDA"
    code, output = run(lib_path, "tags", "--json")
    tags = {t["name"]: t for t in json.loads(output)}
    assert set(tags) == {"geopolitics/discourse-power", "infrastructure/data-centres"}
    assert tags["geopolitics/discourse-power"]["colour"] == "#d7875f"
    assert tags["geopolitics/discourse-power"]["description"] == "Claims about narrative power"
    again = merged(lib_path, renamed)
    assert again["counts"] == {"tags unchanged": 2}
    # Exported as a codebook that the REFI schema accepts, and read back the same.
    out = tmp_path / "out.qdc"
    code, output = run(lib_path, "export", "--format", "qdc", "-o", str(out), "--json")
    assert code == 0, output
    schema = etree.XMLSchema(etree.parse(str(REFI / "schema" / "Codebook.xsd")))
    document = etree.parse(str(out))
    assert schema.validate(document), schema.error_log
    other = tmp_path / "other" / "library.margin"
    merged(other, out)
    code, output = run(other, "tags", "--json")
    assert {(t["name"], t["colour"]) for t in json.loads(output)} == {
        (name, t["colour"]) for name, t in tags.items()
    }


def test_a_bare_qde_project_is_routed_by_content(lib_path: Path, tmp_path: Path) -> None:
    project = tmp_path / "project.data"
    shutil.copy(REFI / "samples" / "refi-qda-1.5-annexA-example2-atlasti.qde", project)
    report = merged(lib_path, project)
    assert report["format"] == "REFI-QDA"


def test_a_file_no_tool_wrote_is_one_line(lib_path: Path, tmp_path: Path) -> None:
    odd = tmp_path / "notes.bin"
    odd.write_bytes(b"\x00\x01 not notes at all")
    result = CliRunner().invoke(cli, ["--library", str(lib_path), "merge", str(odd)])
    assert result.exit_code == 2
    assert result.output.strip().startswith("margin: notes.bin: not a file margin reads")


def test_a_qde_brings_memos_coders_and_a_pdfs_text_and_lists_what_it_cannot(
    lib_path: Path,
) -> None:
    report = merged(lib_path, REFI / "samples" / "memos-and-pdf.qde")
    notes = {n.exact.strip(): n for n in _notes(lib_path)}
    # The PDF is not in the file: its Representation text is the document.
    with Library(lib_path) as lib:
        (doc,) = [lib.document(d.id) for d in lib.documents()]
    assert (doc.title, doc.format, doc.author, doc.published, doc.source) == (
        "Interview 1.pdf",
        "pdf",
        "Ines Field",
        "2023-11-05",
        "https://example.org/interviews/1",
    )
    nets = notes["I mend nets in the morning"]
    # No creatingUser on the selection: its coding's coder; with neither, the project's creator.
    assert nets.author_name == "Second Coder"
    assert notes["sell fish in the afternoon."].author_name == "Project Lead"
    # A memo linked to a selection is its note; the others are listed, never dropped silently.
    assert nets.note == "Mending is skilled work, not idle time."
    assert nets.tags == ("work",)
    assert report["lost"] == [
        "note 'about interview 1': on the whole of source 'Interview 1.pdf' (margin keeps "
        "notes on passages); not imported",
        "note 'project memo': linked to no selection; not imported",
    ]
    again = merged(lib_path, REFI / "samples" / "memos-and-pdf.qde")
    assert (
        again["counts"]["annotations unchanged"] == 2 and "annotations added" not in again["counts"]
    )


def test_document_metadata_survives_a_qdpx_round_trip(tmp_path: Path) -> None:
    lib = Library(tmp_path / "a.margin")
    doc, _ = lib.add_document(
        NewDoc(
            text="A short essay about rivers and the towns that grew beside them.",
            title="Rivers",
            author="Ro Banks",
            published="2021-06-01",
            source="https://example.org/rivers",
            format="html",
        )
    )
    lib.annotate(doc.id, 20, 26, author=ME)
    out = tmp_path / "rivers.qdpx"
    from store.exchange import export_qdpx

    export_qdpx(lib, out)
    lib.close()
    other = Library(tmp_path / "b.margin")
    merge_any(other, out, author=ME)
    (back,) = [other.document(d.id) for d in other.documents()]
    assert (back.title, back.author, back.published, back.source, back.format) == (
        "Rivers",
        "Ro Banks",
        "2021-06-01",
        "https://example.org/rivers",
        "html",
    )
    other.close()


# -- bad input: one line each, the rest comes in, nothing stored touched ----------------------------


def test_bad_records_of_other_tools_are_one_line_each_and_the_rest_comes_in(
    lib_path: Path, tmp_path: Path
) -> None:
    assert run(lib_path, "import", str(FOREIGN / "saved-page.html"))[0] == 0
    good = json.loads((FOREIGN / "hypothesis-api-search.json").read_text("utf-8"))["rows"][0]
    rows = [
        good,
        "not an annotation",
        {**good, "id": "bad-tags", "tags": [7]},
        {**good, "id": "bad-time", "created": "yesterday"},
        {**good, "id": "bad-text", "text": ["a", "list"]},
        {**good, "id": "bad-target", "target": 5},
        {**good, "id": "orphan-reply", "references": ["gone"], "text": "hello"},
    ]
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps({"total": len(rows), "rows": rows}), "utf-8")
    report = merged(lib_path, path)
    assert len(report["placed"]) == 1
    refused = report["refused"]
    assert len(refused) == 6, refused
    for ident, reason in [
        ("#2", "not an annotation"),
        ("'bad-tags'", "a tag must be a string"),
        ("'bad-time'", "'created' 'yesterday' is not an ISO 8601 date-time"),
        ("'bad-text'", "the text is not a string"),
        ("'bad-target'", "page note"),
        ("'orphan-reply'", "a reply to annotation 'gone', which is not in this file"),
    ]:
        assert any(ident in line and reason in line for line in refused), (ident, refused)


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("My Clippings.txt", b"\xff\xfeTitle\r\n- Your Highlight\r\n==========", "not UTF-8"),
        ("broken.json", b'{"rows": [', "not valid JSON"),
        ("odd.csv", b"a,b,c\n1,2,3\n", "not a file margin reads"),
    ],
)
def test_a_file_that_cannot_be_read_is_one_line_and_changes_nothing(
    lib_path: Path, tmp_path: Path, name: str, content: bytes, says: str
) -> None:
    assert run(lib_path, "import", str(FOREIGN / "pride-and-prejudice-chapter-1.txt"))[0] == 0
    before = Library(lib_path).max_seq()
    path = tmp_path / name
    path.write_bytes(content)
    result = CliRunner().invoke(cli, ["--library", str(lib_path), "merge", str(path)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"margin: {name}: ") and says in lines[0]
    assert Library(lib_path).max_seq() == before


def test_two_books_of_one_title_and_author_are_not_guessed_between(
    lib_path: Path, tmp_path: Path
) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        copy = tmp_path / folder / "pp.txt"
        copy.write_text(
            (FOREIGN / "pride-and-prejudice-chapter-1.txt").read_text("utf-8") + folder, "utf-8"
        )
        assert run(lib_path, "import", str(copy))[0] == 0
    report = merged(lib_path, FOREIGN / "readwise-export.csv", took_nothing=True)
    assert report["placed"] == []
    assert any(
        "2 documents here have this title and author" in line and "retitle" in line
        for line in report["missing"]
    ), report["missing"]
