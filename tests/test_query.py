"""Queries through a real index: what each kind of query finds, what is refused and why,
and how snippets mark the matches."""

from __future__ import annotations

import time

import pytest

from index import QueryError, SearchIndex, index_dir_for
from index.query import MAX_EXPANDED_TERMS, check_query
from index.schema import _stem as stem
from index.snippets import locate, make_snippet
from store.library import Library
from tests.conftest import NewDoc

# One short document each, so each is one passage and the expected hits are plain.
DOCS = {
    "Orchard": (
        "The apple orchard blooms in spring and the apples ripen in autumn.",
        "Ann Gardener",
    ),
    "Tropics": ("Bananas ripen slowly under the tropical sun.", "Ben Traveller"),
    "Salad": ("An apple and a banana make a simple salad.", "Ann Gardener"),
    "Hamlet": ("To be or not to be, that is the question.", "William Shakespeare"),
    "Muddle": ("Not to be outdone, he said to be or to go.", None),
    "Colour": ("The colour of the sea was grey that morning.", None),
    "Color": ("The color of the sky was gray at noon.", None),
    "Philosophy": ("The philosopher wrote philosophical letters on philosophy.", None),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Library, SearchIndex, dict]:
    folder = tmp_path_factory.mktemp("query-library")
    lib = Library(folder / "library.margin")
    ids = {}
    for title, (text, author) in DOCS.items():
        doc, _ = lib.add_document(NewDoc(text, title=title, author=author, source=f"/{title}"))
        ids[title] = doc.id
    # Many distinct words sharing a prefix, for the expansion guard.
    words = " ".join(f"zz{n:03d}q" for n in range(MAX_EXPANDED_TERMS + 20))
    doc, _ = lib.add_document(NewDoc(words, title="Noise", source="/noise"))
    ids["Noise"] = doc.id
    search_index = SearchIndex(index_dir_for(lib.path))
    search_index.sync(lib)
    yield lib, search_index, ids
    search_index.close()
    lib.close()


def titles(corpus, query: str) -> set[str]:
    lib, search_index, _ = corpus
    return {hit.title for hit in search_index.search(lib, query, limit=50).hits}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("apple", {"Orchard", "Salad"}),
        ("apples", {"Orchard", "Salad"}),  # stemmed alike
        ("APPLE", {"Orchard", "Salad"}),
        ("apple banana", {"Salad"}),  # AND by default
        ("apple AND banana", {"Salad"}),
        ("apple OR banana", {"Orchard", "Salad", "Tropics"}),
        ("apple NOT banana", {"Orchard"}),
        ("ripen NOT (apple OR salad)", {"Tropics"}),
        ('"apple orchard"', {"Orchard"}),
        ('"orchard apple"', set()),
        ('"to be or not to be"', {"Hamlet"}),  # stop words kept in phrases
        ('"not to be"', {"Hamlet", "Muddle"}),
        ("philosoph*", {"Philosophy"}),
        ("orch*", {"Orchard"}),
        ("wom?n", set()),
        ("col*r", {"Colour", "Color"}),
        ("colour~", {"Colour", "Color"}),
        ("grey~1", {"Colour", "Color"}),
        ("bananna~2", {"Salad", "Tropics"}),
        ("olour~", set()),  # the first letter is kept (whoosh's parser alone took colour)
        ("doc:orchard", {"Orchard"}),
        ('doc:"apple orchard"', set()),
        ("doc:salad apple", {"Salad"}),
        ("author:ann", {"Orchard", "Salad"}),
        ('author:"ann gardener" banana', {"Salad"}),
        ("author:shakespeare question", {"Hamlet"}),
    ],
)
def test_queries_find_what_they_say(corpus, query: str, expected: set[str]) -> None:
    assert titles(corpus, query) == expected


def test_doc_field_takes_the_document_id(corpus) -> None:
    _, _, ids = corpus
    assert titles(corpus, f"doc:{ids['Hamlet']}") == {"Hamlet"}


def test_hits_are_ranked_paged_and_counted(corpus) -> None:
    lib, search_index, _ = corpus
    everything = search_index.search(lib, "the", limit=50)
    assert everything.total == len(everything.hits) >= 6
    scores = [hit.score for hit in everything.hits]
    assert scores == sorted(scores, reverse=True)
    page = search_index.search(lib, "the", limit=2, offset=2)
    assert [h.document_id for h in page.hits] == [h.document_id for h in everything.hits[2:4]]


def test_every_marked_range_is_a_matched_word(corpus) -> None:
    lib, search_index, _ = corpus
    for query, words in [
        ("ripen", {"ripen"}),
        ("apple*", {"apple", "apples"}),
        ("colour~", {"colour", "color"}),
        ('"not to be" question', {"not to be", "question"}),
    ]:
        for hit in search_index.search(lib, query).hits:
            marked = {hit.snippet[s:e].lower() for s, e in hit.marks}
            assert marked and marked <= words, (query, hit.snippet, marked)


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ('"the great house', "quotation mark"),
        ("(house OR garden", "parenthesis is not closed"),
        ("house) garden", "closing parenthesis"),
        ("foo:bar", "unknown field `foo:`"),
        ("nosuchfield:house", "unknown field"),
        ("*", "starts with a wildcard"),
        ("*ouse", "starts with a wildcard"),
        ("?ouse", "starts with a wildcard"),
        ("h*", "at least 2 letters"),
        ("~2", "needs a word before the `~`"),
        ("hous~3", "at most 2 edits"),
        ("hous~9", "at most 2 edits"),
        ("a" * 100_000, "at most 1,000 characters"),
        ("(" * 25 + "apple" + ")" * 25, "nested more than 20"),
        ("is:banana", "`is:` takes"),
        ("has:notes", "`has:` takes `evidence`"),
        ("tag:", "needs a value"),
        ("", "nothing to search for"),
        ("   ", "nothing to search for"),
        ("!!! ...", "nothing to search for"),
        ("()", "nothing to search for"),
        ("NOT apple", "not only what to leave out"),
        ("zz*", "matches too many words"),
        ("house\ud800", "not text"),
    ],
)
def test_refused_queries_say_why_in_one_line(corpus, query: str, reason: str) -> None:
    lib, search_index, _ = corpus
    began = time.perf_counter()
    with pytest.raises(QueryError) as refused:
        search_index.search(lib, query)
    assert time.perf_counter() - began < 0.5
    message = str(refused.value)
    assert reason in message
    assert "\n" not in message and message.startswith("cannot search for ")
    assert len(message) < 200
    assert refused.value.query == query


def test_accepted_syntax_passes_the_check() -> None:
    for query in [
        'doc:"pride and prejudice" letter',
        "tag:(econ OR politics)",
        '"free will"~2',
        "colour~2/3",
        "10:30 train",
        "is:claim has:evidence",
        "no:evidence",
        "e-mail",
    ]:
        check_query(query)


def test_queries_with_control_characters_are_searched_as_text(corpus) -> None:
    assert titles(corpus, "\x1bapple\x07") == {"Orchard", "Salad"}


# -- snippets ------------------------------------------------------------------------------------


def test_snippet_is_one_safe_line_around_the_first_match() -> None:
    text = (
        "Filler words come first. " * 20
        + "Then the\nwhale\x1b[2J surfaced, and the whale dived."
        + " More filler after." * 20
    )
    marks = locate(text, {stem("whale")})
    assert [text[s:e] for s, e in marks] == ["whale", "whale"]
    snippet = make_snippet(text, marks)
    assert snippet.text.startswith("\u2026") and snippet.text.endswith("\u2026")
    assert "\n" not in snippet.text and "\x1b" not in snippet.text and "\u241b" in snippet.text
    assert 150 <= len(snippet.text) <= 240
    assert [snippet.text[s:e] for s, e in snippet.marks] == ["whale", "whale"]


def test_phrases_are_marked_as_one_span_and_only_where_they_occur() -> None:
    text = "data is here; the data center in Senegal; a center of data"
    marks = locate(text, {stem("senegal")}, [(stem("data"), stem("center"))])
    assert [text[s:e] for s, e in marks] == ["data center", "Senegal"]


@pytest.mark.parametrize(
    ("query", "total"),
    [
        ("apple OR banana", 3),
        ("ripen OR question OR salad", 4),
        ("col*r", 2),
        ("colour~", 2),
        ('"not to be" OR apple', 4),
        ("the", 6),
    ],
)
def test_totals_count_every_match_even_when_one_hit_is_asked_for(corpus, query, total) -> None:
    lib, search_index, _ = corpus
    result = search_index.search(lib, query, limit=1)
    assert (result.total, result.total_exact, len(result.hits)) == (total, True, 1)
