"""Re-anchoring on the seed article: one case per kind of change (standards.md section 3.5)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.anchoring import Anchor, FoldedText, Quote, anchor, anchor_all, quote_at
from tests.conftest import SEED

TEXT = SEED.read_text(encoding="utf-8")
CLAIM = (
    "Beijing has identified both the digital realm and the geographic regions of the Global "
    "South as arenas of opportunity to advance its goals and gain a discourse-power advantage."
)
EVIDENCE_START = "Chinese telecom company Huawei"
XI = "Xi pledged that the People\u2019s Republic of China (PRC) would \u201cbetter tell China\u2019s story\u201d"


def span(text: str, phrase: str, nth: int = 0) -> tuple[int, int]:
    at = -1
    for _ in range(nth + 1):
        at = text.index(phrase, at + 1)
    return at, at + len(phrase)


def evidence_span(text: str) -> tuple[int, int]:
    start = text.index(EVIDENCE_START)
    return start, text.index("digital platforms.", start) + len("digital platforms.")


def claim_quote() -> Quote:
    return quote_at(TEXT, *span(TEXT, CLAIM))


def evidence_quote() -> Quote:
    return quote_at(TEXT, *evidence_span(TEXT))


def paragraph_before(text: str, phrase: str) -> int:
    return text.rindex("\n", 0, text.index(phrase)) + 1


def insert_copy_nearer(text: str) -> str:
    at = paragraph_before(text, CLAIM)
    filler = "Some analysts disagree about what Beijing wants. " * 14
    return text[:at] + filler + CLAIM + "\n\n" + text[at:]


def duplicate_block(text: str) -> str:
    start, end = span(text, CLAIM)
    block = text[start - 40 : end + 40]
    return "Inserted first.\n" + text[: end + 40] + block + text[end + 40 :]


def gdi_rewritten(text: str) -> str:
    start, end = span(text, "GDI", 3)
    return text[:start] + "Global Development Initiative" + text[end:]


CASES: list[tuple[str, Callable[[str], str], Callable[[], Quote], str, str, Callable[[str], tuple[int, int]] | None]] = [
    ("no change", lambda t: t, claim_quote, "ok", "position", lambda t: span(t, CLAIM)),
    ("text inserted before",
     lambda t: "EDITOR'S NOTE: this article was corrected on Monday to fix a figure here.\n\n" + t,
     claim_quote, "moved", "exact", lambda t: span(t, CLAIM)),
    ("header lines deleted", lambda t: t.split("\n", 2)[2], claim_quote, "moved", "exact",
     lambda t: span(t, CLAIM)),
    ("a copy inserted nearer the old offset", insert_copy_nearer, claim_quote, "moved", "exact",
     lambda t: span(t, CLAIM, 1)),
    ("a typo inside the quote", lambda t: t.replace("arenas of opportunity", "arenas of oportunity"),
     claim_quote, "moved", "fuzzy",
     lambda t: span(t, CLAIM.replace("opportunity", "oportunity"))),
    ("re-wrapped lines and doubled spaces",
     lambda t: t.replace("Chinese telecom company Huawei is funding,", "Chinese telecom\ncompany  Huawei is funding,"),
     evidence_quote, "moved", "normalised",
     lambda t: (t.index("Chinese telecom\ncompany"),
                t.index("digital platforms.", t.index("Chinese telecom\ncompany")) + 18)),
    ("typographic quotes folded to ASCII",
     lambda t: t.translate(str.maketrans({"\u201c": '"', "\u201d": '"', "\u2019": "'"})),
     lambda: quote_at(TEXT, *span(TEXT, XI)), "moved", "normalised",
     lambda t: span(t, XI.translate(str.maketrans({"\u201c": '"', "\u201d": '"', "\u2019": "'"})))),
    ("claim deleted, a similar sentence added elsewhere",
     lambda t: t.replace(CLAIM, "") + "\n\nBeijing has named the ocean floor and outer space as arenas "
     "where it wants to set the rules before others do.\n",
     claim_quote, "orphaned", "none", None),
    ("a short quote whose own occurrence was rewritten", gdi_rewritten,
     lambda: quote_at(TEXT, *span(TEXT, "GDI", 3)), "orphaned", "none", None),
    ("half of the quote deleted",
     lambda t: t.replace(t[slice(*evidence_span(t))], t[slice(*evidence_span(t))][:90]),
     evidence_quote, "orphaned", "none", None),
    ("a paragraph break inside the quote",
     lambda t: t.replace("Global South as arenas", "Global South\n\nas arenas"), claim_quote, "moved",
     "normalised", lambda t: (t.index("Beijing has identified"), t.index("discourse-power advantage.") + 26)),
    ("emoji inserted before the quote",
     lambda t: t.replace(EVIDENCE_START, "\U0001f600\U0001f30d " + EVIDENCE_START), evidence_quote,
     "moved", "exact", evidence_span),
    ("the whole text replaced", lambda t: "A different document about gardening. " * 200, claim_quote,
     "orphaned", "none", None),
    ("a duplicated block: the copy nearest the old offset", duplicate_block, claim_quote, "moved",
     "exact", lambda t: span(t, CLAIM, 0)),
    ("one word changed, placed in another paragraph",
     lambda t: t.replace(CLAIM, "") + "\n\nAn unrelated closing paragraph about trade statistics and "
     "ports. " + CLAIM.replace("Global South", "Global North") + " More text follows here.\n",
     claim_quote, "orphaned", "none", None),
    ("a no-break space folded", lambda t: t.replace("United Nations", "United\u00a0Nations"),
     lambda: quote_at(TEXT, *span(TEXT, "United Nations")), "moved", "normalised",
     lambda t: span(t, "United\u00a0Nations")),
]


@pytest.mark.parametrize(("name", "edit", "make_quote", "state", "step", "where"), CASES,
                         ids=[c[0] for c in CASES])
def test_reanchoring_case(name, edit, make_quote, state, step, where) -> None:  # noqa: ANN001
    quote = make_quote()
    changed = edit(TEXT)
    found = anchor(changed, quote)
    assert (found.state, found.step) == (state, step), name
    if where is None:
        assert (found.start, found.end) == (quote.start, quote.end)  # an orphan keeps its place
    else:
        assert (found.start, found.end) == where(changed), changed[found.start : found.end]


def test_astral_characters_count_as_one_offset_each() -> None:
    quote = evidence_quote()
    changed = TEXT.replace(EVIDENCE_START, "\U0001f600\U0001f30d " + EVIDENCE_START)
    found = anchor(changed, quote)
    assert found.start == quote.start + 3
    assert changed[found.start : found.end] == quote.exact


def test_anchor_all_agrees_with_anchor() -> None:
    changed = TEXT.replace("Chinese telecom company Huawei is funding,", "Chinese telecom\ncompany  Huawei is funding,")
    quotes = [claim_quote(), evidence_quote(), quote_at(TEXT, *span(TEXT, "GDI", 3))]
    assert anchor_all(changed, quotes) == [anchor(changed, q) for q in quotes]


def test_folded_view_maps_back_to_real_offsets() -> None:
    text = "a\u00a0 b\u00ad\u200bc \u201cq\u201d\n\n\u2014 d"
    folded = FoldedText(text)
    assert folded.text == 'a bc "q" - d'
    at = folded.text.index('"q"')
    assert text[folded.to_original_start(at) : folded.to_original_end(at + 3)] == "\u201cq\u201d"
    assert text[folded.to_original_start(0) : folded.to_original_end(len(folded.text))] == text


WORDS = st.text(alphabet="abcdefghij klmnop\n", min_size=1, max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_edits_away_from_a_quote_keep_it_exactly(data: st.DataObject) -> None:
    quotes_at = [(400, 480), (2076, 2252), (5083, 5268), (8000, 8060)]
    quotes = [quote_at(TEXT, s, e) for s, e in quotes_at]
    # Protected zones: each quote with its context.
    protected = [(s - 32, e + 32) for s, e in quotes_at]
    edits = data.draw(st.lists(st.tuples(st.integers(0, len(TEXT)), st.integers(0, 30), WORDS),
                               min_size=1, max_size=6))
    text = TEXT
    shift = [0] * len(quotes)
    # Apply edits from the end so earlier positions stay valid in the original's terms.
    for at, cut, inserted in sorted(edits, reverse=True):
        end = min(len(TEXT), at + cut)
        if any(not (end <= lo or at >= hi) for lo, hi in protected):
            continue
        text = text[:at] + inserted + text[end:]
        for i, (s, _) in enumerate(quotes_at):
            if at < s:
                shift[i] += len(inserted) - (end - at)
    for quote, found, moved in zip(quotes, anchor_all(text, quotes), shift, strict=True):
        assert isinstance(found, Anchor)
        assert found.state in ("ok", "moved")
        assert (found.start, found.end) == (quote.start + moved, quote.end + moved)
