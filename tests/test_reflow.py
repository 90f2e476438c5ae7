"""Hard-wrapped text shown as paragraphs, with every offset kept."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from store.ingest import extract
from tests.conftest import CORPUS, SAMPLES, needs_corpus
from tui.reflow import reflow, wrap_width

PROSE = (
    "It is a melancholy object to those, who walk through this great town, or\n"
    "travel in the country, when they see the streets, the roads and cabbin\n"
    "doors crowded with beggars of the female sex, followed by three, four,\n"
    "or six children, all in rags.\n"
)


def test_a_hard_wrapped_pdf_flows_and_only_its_line_breaks_change() -> None:
    text = extract(SAMPLES / "a-modest-proposal.pdf").text
    assert wrap_width(text) == 88
    shown = reflow(text)
    assert len(shown) == len(text)
    changed = [i for i, (a, b) in enumerate(zip(text, shown, strict=True)) if a != b]
    assert changed and all(text[i] == "\n" and shown[i] == " " for i in changed)
    assert "burden on their parents or country" in shown


def test_paragraph_ends_lists_indents_and_blank_lines_keep_their_breaks() -> None:
    text = (PROSE + "\n") * 10 + (
        "A list follows, which the layout put on lines of their own, one by one:\n"
        "- the first item of the list, long enough to look like a wrapped line\n"
        "    an indented line, which is kept as the author laid it out on the page\n"
        "Short line.\n"
        "Next paragraph.\n"
    )
    shown = reflow(text)
    assert "this great town, or travel in the country" in shown
    assert "rags.\n\nIt is" in shown  # blank lines stay
    assert "one by one:\n- the first" in shown
    assert "wrapped line\n    an indented" in shown
    assert "Short line.\nNext paragraph." in shown


@needs_corpus
def test_verse_poetry_and_short_texts_are_left_as_they_are() -> None:
    for book in ("pg20-paradise-lost.txt", "pg1322-leaves-of-grass.txt", "pg6130-the-iliad.txt"):
        text = extract(CORPUS / book).text
        assert wrap_width(text) is None, book
        assert reflow(text) == text
    assert reflow(PROSE) == PROSE  # too few lines to tell


@given(st.text(alphabet=st.sampled_from(list("ab \n\t-1.")), max_size=3000), st.integers(40, 90))
def test_reflow_keeps_the_length_and_changes_only_breaks_into_spaces(text: str, width: int) -> None:
    shown = reflow(text, width)
    assert len(shown) == len(text)
    assert all(a == b or (a == "\n" and b == " ") for a, b in zip(text, shown, strict=True))


@needs_corpus
def test_gutenberg_prose_is_recognised(tmp_path: Path) -> None:
    text = extract(CORPUS / "pg2701-moby-dick.txt").text
    assert wrap_width(text) == 71
    assert "Some years ago—never mind how long precisely—having little or no money" in reflow(text)
