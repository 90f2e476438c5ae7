"""Reports for people: Markdown by document, CSV one row per annotation, ClaimReview JSON-LD;
strings from documents and notes stay data in all three."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from store.exchange import export_claimreview, export_csv, export_markdown
from store.exchange.report import markdown_text, md_inline
from store.library import Library
from tests.conftest import NewDoc
from tests.test_exchange import ALICE, build_sample

HOSTILE = (
    "\x1b]0;PWNED\x07 [/bold] [@click=app.quit]x[/] \u202eevil [x](javascript:alert(1)) #tag <b>"
)


@pytest.fixture
def sample(tmp_path: Path):
    lib = Library(tmp_path / "sample.margin")
    ids = build_sample(lib)
    yield lib, ids
    lib.close()


def test_markdown_reads_by_document_with_citations(sample, tmp_path):
    lib, ids = sample
    summary = export_markdown(lib, tmp_path / "notes.md")
    text = (tmp_path / "notes.md").read_text(encoding="utf-8")
    assert summary.annotations == 4 and text.endswith("\n") and not text.endswith("\n\n")
    assert text.startswith("# margin notes\n")
    # documents in title order, each a section
    assert text.index("## The Federalist No. 10") < text.index("## Xi\u2019s Pitch")
    assert (
        "James Madison \u00b7 1787-11-22 \u00b7 source: https://www.gutenberg.org/ebooks/1404"
        in text
    )
    xi = text[text.index("## Xi\u2019s Pitch") :]
    assert "#### Claim 1 (22%)" in xi
    assert "> Beijing has identified both the digital realm" in xi
    title = "Xi\u2019s Pitch to the Global South on Technological Governance"
    assert f"> \u2014 {title}, Kenton Thibaut, 2023-01-10, 22%" in xi
    assert "- **Tags:** geopolitics/discourse-power" in xi
    assert (
        "- **Note:** Central claim; does the article show the \\*digital\\* part?  \n"
        "  Second line: \\[link\\](x) \\#tag" in xi
    )
    # the verdict and its history, newest last
    assert "- **Verdict:** **partly supported**, Alice Analyst" in xi
    history = xi[xi.index("- **Verdict history:**") :]
    assert history.index("**supported**, Bob Reviewer") < history.index(
        "**partly supported**, Alice Analyst"
    )
    # evidence with relation and citation, across documents (a PDF-like page for the Federalist)
    assert (
        "- *supports*: \u201cChinese telecom company Huawei is funding\u201d (Xi\u2019s Pitch" in xi
    )
    assert "  - why (Alice Analyst): A concrete case in Senegal." in xi
    assert re.search(
        r"- \*contradicts\*: \u201cBy a faction, I understand a number of citizens\u201d "
        r"\(The Federalist No\. 10, James Madison, 1787-11-22, p\. \d\)",
        xi,
    )
    assert "Such initiatives" not in text  # tombstones are not reported
    assert "- **Verdict:** **needs evidence**" in text
    assert "### Highlights" in text and "  - tags: geopolitics/discourse-power, history" in text


def test_markdown_keeps_hostile_strings_inert(tmp_path):
    lib = Library(tmp_path / "h.margin")
    doc, _ = lib.add_document(
        NewDoc("Some text " + HOSTILE + " more text here", title="t", author="a")
    )
    lib.annotate(doc.id, 0, 30, author=ALICE, role="claim", note=HOSTILE, tags=["x"])
    text = markdown_text(lib)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]", text)
    assert not re.search(r"(?<!\\)\]\(", text) and "\\[x\\](javascript:alert(1))" in text
    assert "\\#tag \\<b\\>" in text and "\\[/bold\\]" in text
    assert md_inline("a\nb\tc") == "a b c"
    lib.close()


def test_csv_has_one_row_per_annotation(sample, tmp_path):
    lib, ids = sample
    summary = export_csv(lib, tmp_path / "notes.csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "notes.csv").read_text(encoding="utf-8"))))
    assert summary.annotations == len(rows) == 4
    by_id = {r["annotation_id"]: r for r in rows}
    claim = by_id[ids["claim"]]
    assert claim["role"] == "claim" and claim["document"].startswith("Xi\u2019s Pitch")
    assert claim["quote"] == "Beijing has identified both the digital realm"
    assert claim["note"].startswith("Central claim") and "\n" in claim["note"]
    assert claim["verdict"] == "partly-supported" and claim["author"] == "Alice Analyst"
    assert f"supports evidence {ids['evidence']}" in claim["links"]
    assert f"contradicts evidence {ids['faction']}" in claim["links"]
    faction = by_id[ids["faction"]]
    assert faction["page"] == "1" and faction["tags"] == "geopolitics/discourse-power; history"
    assert f"contradicts claim {ids['claim']}" in faction["links"]
    assert int(faction["end"]) - int(faction["start"]) == len(faction["quote"])
    assert ids["gone"] not in by_id


def test_csv_cells_cannot_become_formulas(tmp_path):
    lib = Library(tmp_path / "f.margin")
    doc, _ = lib.add_document(NewDoc("=1+1 and more text", title="@title"))
    lib.annotate(doc.id, 0, 4, author=ALICE, note='=HYPERLINK("http://x")', tags=["-tag"])
    summary = export_csv(lib, tmp_path / "f.csv")
    (row,) = list(csv.DictReader(io.StringIO((tmp_path / "f.csv").read_text(encoding="utf-8"))))
    assert row["quote"] == "'=1+1" and row["note"].startswith("'=HYPERLINK")
    assert row["document"] == "'@title" and row["tags"] == "'-tag"
    assert summary.annotations == 1
    lib.close()


def test_claimreview_json_ld(sample, tmp_path):
    lib, ids = sample
    summary = export_claimreview(lib, tmp_path / "reviews.jsonld")
    data = (tmp_path / "reviews.jsonld").read_text(encoding="utf-8")
    obj = json.loads(data)
    # One review per claim, its latest verdict; "needs evidence" is not published.
    assert obj["@context"] == "https://schema.org" and summary.reviews == len(obj["@graph"]) == 1
    (claim,) = obj["@graph"]
    assert claim["@type"] == "ClaimReview"
    assert claim["reviewRating"]["alternateName"] == "Partly supported"
    assert claim["reviewRating"]["ratingValue"] == 3
    assert claim["claimReviewed"] == "Beijing has identified both the digital realm"
    assert claim["itemReviewed"]["@id"] == f"urn:uuid:{ids['claim']}"
    assert claim["itemReviewed"]["appearance"]["author"]["name"] == "Kenton Thibaut"
    assert claim["author"]["name"] == ALICE.name
    assert claim["reviewBody"] == "Only the digital part."
    assert "url" not in claim and "--publisher-url" in summary.lines()[-1]
    assert data.endswith("}\n")

    summary = export_claimreview(
        lib, tmp_path / "r2.jsonld", publisher_url="https://example.org/checks/"
    )
    (claim,) = json.loads((tmp_path / "r2.jsonld").read_text(encoding="utf-8"))["@graph"]
    assert claim["url"] == f"https://example.org/checks/{ids['claim']}"
    assert summary.lines() == [summary.line()]
