"""Suggested evidence: the passages of the library most like a claim, by the index alone.

whoosh's "more like this" over text it is given (`Searcher.key_terms_from_text`, the Bo1
divergence-from-randomness model): the claim's words that are rarest in the library weigh
most, and an OR of those key terms, each boosted by its weight, is ranked by the index's BM25F
over passages. No new model and nothing stored beyond the index: the passage text comes from
SQLite through the search's own reader, and within each passage the sentence holding the most
key-term weight is what a link would mark.

Measured with bench/suggest.py (40 paraphrased claims, docs/performance.md): KEY_TERMS and
MAX_SHARE decide the balance of recall and time; the figures beside them chose them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass

from whoosh import query as wq
from whoosh.searching import Searcher

from index.query import TextReader, _page_of
from index.schema import KIND_PASSAGE, _stem
from index.snippets import locate, make_snippet
from store.sanitize import terminal_safe

# How many of the claim's words become the query (whoosh's more_like defaults to 5: too few
# for a sentence-long claim). On the 75-book corpus, recall at 5 / at 10 with 5 terms was
# 0.70 / 0.725, with 8 0.775 / 0.775, with 12 0.775 / 0.825, with 20 0.80 / 0.825 at 1.6x the
# time of 12.
KEY_TERMS = 12
# A word found in more than this share of the passages is left out of the query: it ranks
# little and costs the most time to score (each of its postings is read). On the 75-book
# corpus (bench/suggest.py, 40 claims, load 3 on 2 cores) 1.0 took 402 ms at p50 for recall
# 0.775 at 5 and 0.825 at 10; 0.3 took 152 ms for 0.775 and 0.8; 0.1 80 ms for 0.775 and 0.775;
# 0.03 lost a third of the first hits.
MAX_SHARE = 0.3
# ...but only beyond this many passages: in a small library every word is cheap, and a word in a
# third of six passages is no sign of a common one.
COMMON_FLOOR = 2000
# Candidates fetched beyond the wanted number, to stay full after exclusions.
SPARE = 10
# A sentence end, as index.passages cuts long paragraphs (. ! ? … and closing quotes).
_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]*\s+|\n\s*\n")


@dataclass(frozen=True)
class Suggestion:
    """A passage suggested as evidence, and the sentence in it a link would mark."""

    document_id: str
    title: str
    passage_start: int
    passage_end: int
    start: int
    """Start of the best sentence (document offset): what linking it would annotate."""
    end: int
    page: int | None
    snippet: str
    """One line around the best sentence, terminal-safe."""
    marks: list[tuple[int, int]]
    """[start, end) of the key terms in `snippet`."""
    score: float
    sentence: str
    citation: str = ""
    """Title, author and page or position, as store.citation gives it (filled by the service)."""

    def to_json(self) -> dict:
        return {
            "document_id": self.document_id,
            "title": self.title,
            "passage_start": self.passage_start,
            "passage_end": self.passage_end,
            "start": self.start,
            "end": self.end,
            "page": self.page,
            "snippet": self.snippet,
            "marks": [list(m) for m in self.marks],
            "score": round(self.score, 4),
            "sentence": self.sentence,
            "citation": self.citation,
        }


@dataclass(frozen=True)
class Suggestions:
    """Suggestions for one claim, with the key terms that ranked them."""

    hits: list[Suggestion]
    terms: list[tuple[str, float]]
    seconds: float
    pending: int = 0
    """Library changes not yet in the index (being indexed): what they hold is not ranked."""

    def to_json(self) -> dict:
        return {
            "terms": [[t, round(w, 4)] for t, w in self.terms],
            "seconds": round(self.seconds, 4),
            "pending": self.pending,
            "suggestions": [s.to_json() for s in self.hits],
        }


def _overlaps(spans: Iterable[tuple[int, int]], start: int, end: int) -> bool:
    return any(s < end and start < e for s, e in spans)


def _sentences(text: str) -> list[tuple[int, int]]:
    found, position = [], 0
    for match in _SENTENCE_END.finditer(text):
        end = match.start() + len(match.group().rstrip())
        if end > position:
            found.append((position, end))
        position = match.end()
    if position < len(text):
        found.append((position, len(text.rstrip())))
    return [(s, e) for s, e in found if text[s:e].strip()]


def _best_sentence(
    text: str, marks: list[tuple[int, int]], weights: dict[str, float]
) -> tuple[int, int]:
    best, best_score = (0, len(text)), -1.0
    for start, end in _sentences(text):
        inside = {text[s:e].lower() for s, e in marks if start <= s and e <= end}
        score = sum(weights.get(word, 0.0) for word in inside) or 0.0
        if score > best_score:
            best, best_score = (start, end), score
    start, end = best
    while start < end and text[start].isspace():
        start += 1
    return start, end


def run_suggest(
    searcher: Searcher,
    texts: TextReader,
    claim_text: str,
    *,
    exclude: dict[str, list[tuple[int, int]]],
    limit: int = 10,
    key_terms: int = KEY_TERMS,
    max_share: float = MAX_SHARE,
) -> Suggestions:
    """Passages most like `claim_text`, best first, leaving out those that overlap `exclude`.

    Args:
        exclude: document id -> character spans (the claim itself, its linked evidence).
    """
    began = time.perf_counter()
    reader = searcher.reader()
    passages = max(1, reader.doc_count())
    terms = [
        (word, weight)
        for word, weight in searcher.key_terms_from_text(
            "text", claim_text, numterms=2 * key_terms, normalize=True
        )
        if reader.doc_frequency("text", word) <= max(max_share * passages, COMMON_FLOOR)
    ][:key_terms]
    if not terms:
        return Suggestions([], [], time.perf_counter() - began)
    query = wq.Or([wq.Term("text", word, boost=weight) for word, weight in terms])
    wanted = limit + SPARE + sum(len(spans) for spans in exclude.values())
    results = searcher.search(query, limit=wanted, filter=wq.Term("kind", KIND_PASSAGE))
    candidates = []
    for hit in results:
        key = hit["key"]
        _, doc_id, start, end, _, _ = key
        if _overlaps(exclude.get(doc_id, ()), start, end):
            continue
        candidates.append((hit.score, key))
        if len(candidates) == limit:
            break
    documents = texts.documents({key[1] for _, key in candidates})
    weights = dict(terms)
    stems = set(weights)
    found: list[Suggestion] = []
    for score, key in candidates:
        _, doc_id, start, end, byte_start, byte_length = key
        document = documents.get(doc_id)
        if document is None:
            continue  # deleted since the index last caught up
        rowid, title, page_starts, _chapters = document
        text = texts.passage(rowid, doc_id, start, end, byte_start, byte_length)
        if text is None:
            continue
        marks = locate(text, stems)
        stemmed = {text[s:e].lower(): _stem(text[s:e].lower()) for s, e in marks}
        sentence_start, sentence_end = _best_sentence(
            text, marks, {word: weights.get(stem, 0.0) for word, stem in stemmed.items()}
        )
        first = [m for m in marks if sentence_start <= m[0] < sentence_end] or [
            (sentence_start, sentence_start)
        ]
        snippet = make_snippet(text, first + [m for m in marks if m not in first])
        found.append(
            Suggestion(
                document_id=doc_id,
                title=terminal_safe(title),
                passage_start=start,
                passage_end=end,
                start=start + sentence_start,
                end=start + sentence_end,
                page=_page_of(page_starts, start + sentence_start),
                snippet=snippet.text,
                marks=snippet.marks,
                score=float(score),
                sentence=terminal_safe(" ".join(text[sentence_start:sentence_end].split())),
            )
        )
    return Suggestions(found, list(terms), time.perf_counter() - began)
