"""The whoosh schema of margin's index: passages and annotations in one index, plus one meta entry.

One index, not two: the last applied change-log seq lives in a meta entry that commits in the
same whoosh commit as the entries it accounts for, so the index can never claim changes it has
not applied; one search ranks passages and notes together and pages them with one offset.
Measured on the full corpus index (bench/ingest_search.py): one note saved, synced and found
again in 6-10 ms at p50 (sync, including the searcher's refresh) plus 2 ms (search).

Analysis is whoosh's `StemmingAnalyzer(stoplist=None)` with `store.fold` in place of its
lowercasing (stop words kept: with the default list
`"free will"` finds 2,108 passages instead of 90). The query parser runs that analyzer; the
writer runs `fast_terms`, which yields the very same terms and positions without whoosh's
per-token generator chain (a hypothesis test checks they agree). With the writer changes in
index.sync, one process indexes about 1.2 MB/s of text (whoosh's analyzer and writer as
shipped: 0.30-0.38 MB/s on 10 books), two about 2.1 MB/s.

Stored per entry: only `key`, a small tuple (passage: document id, character span, UTF-8 byte
span; annotation: its id; meta: seq, schema version, fingerprint). Text stays in SQLite.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from whoosh import fields
from whoosh.analysis import Filter, RegexTokenizer, StemFilter
from whoosh.compat import dumps
from whoosh.lang.porter import stem
from whoosh.system import pack_uint

from store.fold import fold

# Bump when the schema or the analysis changes: an index of another version is rebuilt.
# 2: tokens folded by store.fold (case, accents, ligatures, compatibility forms), not lowercased.
SCHEMA_VERSION = 2

KIND_PASSAGE = "passage"
KIND_ANNOTATION = "annotation"
KIND_META = "meta"
META_UID = "meta"

# whoosh's default token pattern (whoosh.analysis.tokenizers.default_pattern), non-capturing
# so that findall returns whole tokens.
TOKEN_PATTERN = r"[\w\*]+(?:\.?[\w\*]+)*"
_TOKEN = re.compile(TOKEN_PATTERN)
# Names and titles: a record id (a uuid) stays one token, so `doc:<id>` and `author:<id>` work.
NAME_PATTERN = (
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|" + TOKEN_PATTERN
)


class FoldFilter(Filter):
    """Each token folded by `store.fold.fold` (in place of whoosh's LowercaseFilter): the
    index, the query parser and the snippets then agree that "Natasha" is "Natásha"."""

    def __call__(self, tokens: Iterator) -> Iterator:
        for token in tokens:
            token.text = fold(token.text)
            if token.text:
                yield token


def _analyzer(expression: str, stemmed: bool = True) -> object:
    # whoosh's StemmingAnalyzer(stoplist=None) with FoldFilter for its LowercaseFilter.
    chain = RegexTokenizer(expression) | FoldFilter()
    return chain | StemFilter(stemfn=stem) if stemmed else chain


TEXT_ANALYZER = _analyzer(TOKEN_PATTERN)
# Titles are stemmed like text (doc:prejudices finds "Pride and Prejudice"); names are not.
TITLE_ANALYZER = _analyzer(NAME_PATTERN)
NAME_ANALYZER = _analyzer(NAME_PATTERN, stemmed=False)

_STEMS: dict[str, str] = {}
_STEM_CACHE_MAX = 500_000


def _stem(word: str) -> str:
    stemmed = _STEMS.get(word)
    if stemmed is None:
        if len(_STEMS) >= _STEM_CACHE_MAX:
            _STEMS.clear()
        stemmed = _STEMS[word] = stem(word)
    return stemmed


def fast_terms(text: str) -> dict[str, list[int]]:
    """The stemmed terms of `text` with their token positions, as TEXT_ANALYZER gives them."""
    positions: dict[str, list[int]] = {}
    for position, token in enumerate(_TOKEN.findall(text)):
        folded = token.lower() if token.isascii() else fold(token)
        if not folded:
            continue
        term = _stem(folded)
        found = positions.get(term)
        if found is None:
            positions[term] = [position]
        else:
            found.append(position)
    return positions


_ENCODED: dict[tuple[int, ...], bytes] = {}


def _encode_positions(deltas: tuple[int, ...]) -> bytes:
    # whoosh.formats.Positions.encode, memoised: most postings hold one or two positions.
    encoded = _ENCODED.get(deltas)
    if encoded is None:
        encoded = pack_uint(len(deltas)) + dumps(list(deltas), 2)
        if len(deltas) <= 2:
            if len(_ENCODED) > 200_000:
                _ENCODED.clear()
            _ENCODED[deltas] = encoded
    return encoded


class PassageText(fields.TEXT):
    """TEXT with positions whose indexing skips whoosh's token pipeline (same terms)."""

    def __init__(self) -> None:
        super().__init__(analyzer=TEXT_ANALYZER, phrase=True, stored=False)

    def index(self, value: str, **kwargs: object) -> Iterator[tuple[bytes, int, float, bytes]]:
        if not isinstance(value, str):
            yield from super().index(value, **kwargs)
            return
        boost = self.format.field_boost
        for term, positions in fast_terms(value).items():
            if len(positions) == 1:
                deltas: tuple[int, ...] = (positions[0],)
            else:
                deltas = (
                    positions[0],
                    *(b - a for a, b in zip(positions, positions[1:], strict=False)),
                )
            # whoosh.formats.Positions' encoding, so whoosh reads it back.
            count = len(positions)
            yield term.encode("utf-8"), count, count * boost, _encode_positions(deltas)


class CachedText(fields.TEXT):
    """TEXT for values repeated on every passage of a document (its title, its author)."""

    def __init__(self, analyzer: object) -> None:
        super().__init__(analyzer=analyzer, phrase=True, stored=False)
        self._cache: dict[str, list] = {}

    def index(self, value: str, **kwargs: object) -> Iterator[tuple[bytes, int, float, bytes]]:
        if not isinstance(value, str) or kwargs:
            return super().index(value, **kwargs)
        items = self._cache.get(value)
        if items is None:
            if len(self._cache) > 1000:
                self._cache.clear()
            items = self._cache[value] = list(super().index(value))
        return iter(items)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_cache", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._cache = {}


def make_schema() -> fields.Schema:
    """The schema: the query fields are named as users type them (doc:, tag:, author:, is:...)."""
    return fields.Schema(
        # passage | annotation | meta
        kind=fields.ID(),
        # annotations: the annotation id; the meta entry: "meta" (unique, for update_document)
        uid=fields.ID(unique=True),
        # the document a passage or annotation belongs to
        doc_id=fields.ID(),
        # what a hit needs back, kept small: passage (doc_id, start, end); annotation id; meta dict
        key=fields.STORED(),
        # passage text; annotation quote and note
        text=PassageText(),
        # `doc:` the document's title words and its id
        doc=CachedText(TITLE_ANALYZER),
        # `author:` a passage's document author; an annotation's author name and id
        author=CachedText(NAME_ANALYZER),
        # `tag:` an annotation's tags, each with its parent paths (econ/trade -> econ too)
        tag=fields.KEYWORD(lowercase=True, commas=True),
        # `is:` claim | highlight, and note when the annotation has one
        **{"is": fields.KEYWORD(lowercase=True, commas=True)},
        # `has:evidence` / `no:evidence` on claims
        has=fields.KEYWORD(lowercase=True),
        no=fields.KEYWORD(lowercase=True),
        # the evidence annotation ids of a claim, so a deleted piece of evidence finds its claims
        ev=fields.KEYWORD(commas=True),
    )


def tag_terms(tags: list[str] | tuple[str, ...]) -> str:
    """The tag field's value: each tag with its parent paths, lower case, comma separated."""
    expanded: set[str] = set()
    for tag in tags:
        parts = [part.strip() for part in tag.split("/") if part.strip()]
        for depth in range(1, len(parts) + 1):
            expanded.add("/".join(parts[:depth]).lower().replace(",", " "))
    return ",".join(sorted(expanded))
