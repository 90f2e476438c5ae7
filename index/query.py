"""Queries: checked before whoosh sees them, parsed, bounded in time, and turned into hits.

whoosh's parser never rejects anything: unknown fields and unbalanced parentheses silently
change the meaning, `*`, `h*` or `~2` take seconds, and a 100k-character query never finishes
parsing (research/reliability.md W7-W9). So `check_query` refuses what would mislead or run
away, with one line naming the query and the reason, before the parser runs; broad prefixes
and fuzzy terms are expanded once and refused when they match too much; and every search runs
under a 2-second `TimeLimitCollector`, returning what it found so far.
"""

from __future__ import annotations

import bisect
import itertools
import json
import os
import re
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import collectors
from whoosh import query as wq
from whoosh.collectors import TimeLimit, TimeLimitCollector
from whoosh.qparser import AndGroup, FuzzyTermPlugin, QueryParser, plugins
from whoosh.searching import Searcher

from index.schema import KIND_ANNOTATION, KIND_PASSAGE
from index.snippets import locate, make_snippet
from index.whoosh_reader import deadline
from store.errors import MarginError
from store.sanitize import has_surrogates, terminal_safe

MAX_QUERY_CHARS = 1000
MAX_NESTING = 20
MAX_EDITS = 2
MIN_PREFIX = 2
# A prefix or fuzzy term that expands beyond these is refused: every slow expansion measured
# was above them (`pre*` 3 s, `con*` 17 s), every fast one below (`gentl*` 45 ms).
MAX_EXPANDED_TERMS = 100
MAX_EXPANDED_POSTINGS = 20_000
# Wall-clock budget for expanding the multi-term parts of one query.
MAX_EXPANSION_SECONDS = 0.5
TIME_LIMIT = 2.0
# Count every match (see run_search); False trades exact totals for whoosh's faster estimate.
EXACT_TOTALS = True
# Library pages mapped for snippet reads (address space, not memory: the OS page cache).
MMAP_BYTES = 1 << 30

FIELDS = ("doc", "tag", "author", "is", "has", "no")
FIELD_VALUES = {"is": ("claim", "highlight", "note"), "has": ("evidence",), "no": ("evidence",)}
_FIELD_LIST = ", ".join(f"{name}:" for name in FIELDS)

_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_FIELD_PREFIX = re.compile(r"(\w+|\*):(.*)", re.S)
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_FUZZY = re.compile(r"(?P<word>[^~]*)~(?P<edits>\d*)(?:/(?P<prefix>\d+))?")
_WILDCARD = re.compile(r"[*?\u055e\u061f\u1367]")
_OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"}


class QueryError(MarginError):
    """A query margin refuses to run; str() is one line naming the query and the reason."""

    def __init__(self, query: str, reason: str) -> None:
        self.query = query
        self.reason = reason
        shown = " ".join(query.split())
        if len(shown) > 60:
            shown = shown[:57] + "..."
        super().__init__(f"cannot search for {terminal_safe(shown)!r}: {reason}")


# -- checking -------------------------------------------------------------------------------


def check_query(query: str) -> str:
    """The query made safe to parse (controls become spaces), or QueryError saying why not."""
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(
            query,
            f"a query is at most {MAX_QUERY_CHARS:,} characters and this one has {len(query):,}",
        )
    if has_surrogates(query):
        raise QueryError(query, "it contains a character that is not text (a lone surrogate)")
    cleaned = _CONTROLS.sub(" ", query)
    if not cleaned.strip():
        raise QueryError(query, "there is nothing to search for")
    if cleaned.count('"') % 2:
        raise QueryError(query, 'a quotation mark (") is not closed')
    parts = cleaned.split('"')  # even indices are outside quotes, odd ones inside
    depth = deepest = 0
    for number, part in enumerate(parts):
        if number % 2:
            continue
        for char in part:
            if char == "(":
                depth += 1
                deepest = max(deepest, depth)
            elif char == ")":
                depth -= 1
                if depth < 0:
                    raise QueryError(query, "a closing parenthesis has no opening one")
        if deepest > MAX_NESTING:
            raise QueryError(query, f"parentheses are nested more than {MAX_NESTING} deep")
    if depth > 0:
        raise QueryError(query, "a parenthesis is not closed")
    for number, part in enumerate(parts):
        if number % 2:
            if not part.strip():
                raise QueryError(query, "empty quotation marks: put words between them")
            continue
        after_quote = number > 0
        for match in re.finditer(r"[^\s()]+", part):
            word = match.group()
            follows_quote = after_quote and match.start() == 0
            next_char = _next_char(parts, number, match.end())
            _check_word(query, word, follows_quote, next_char)
    return cleaned


def _next_char(parts: list[str], number: int, end: int) -> str:
    """What follows a word ending at `end` of outside-quotes part `number`."""
    part = parts[number]
    if end < len(part):
        return part[end]
    return '"' if number + 1 < len(parts) else ""


def _check_word(query: str, word: str, follows_quote: bool, next_char: str) -> None:
    if follows_quote and word.startswith("~"):
        if not re.fullmatch(r"~\d?", word):
            raise QueryError(query, f"`{word}` after a phrase must be `~N` (words apart)")
        return
    field_match = _FIELD_PREFIX.fullmatch(word)
    if field_match:
        name, value = field_match.group(1), field_match.group(2)
        if name == "*" or _IDENTIFIER.fullmatch(name):
            if name not in FIELDS:
                raise QueryError(query, f"unknown field `{name}:`; the fields are {_FIELD_LIST}")
            allowed = FIELD_VALUES.get(name)
            if not value:
                if next_char in ('"', "(") and allowed is None:
                    return
                if allowed is not None:
                    raise QueryError(query, f"`{name}:` takes {_choices(allowed)}")
                raise QueryError(query, f"`{name}:` needs a value, as in `{name}:word`")
            if allowed is not None:
                if value.lower() not in allowed:
                    raise QueryError(query, f"`{name}:` takes {_choices(allowed)}, not `{value}`")
                return
            word = value
    if word in _OPERATORS:
        return
    fuzzy = _FUZZY.fullmatch(word)
    if "~" in word:
        if fuzzy is None:
            raise QueryError(query, f"`{word}`: write fuzzy words as `word~`, `word~1` or `word~2`")
        base, edits, prefix = fuzzy.group("word"), fuzzy.group("edits"), fuzzy.group("prefix")
        if not base:
            raise QueryError(query, f"`{word}` needs a word before the `~`, as in `colour~`")
        if edits and int(edits) > MAX_EDITS:
            raise QueryError(
                query, f"`{word}`: fuzzy matching allows at most {MAX_EDITS} edits (`word~2`)"
            )
        if prefix is not None and int(prefix) < 1:
            raise QueryError(query, f"`{word}`: the fuzzy prefix must be at least 1 letter")
        if _WILDCARD.search(base):
            raise QueryError(query, f"`{word}` cannot be both a wildcard and fuzzy")
        return
    wildcard = _WILDCARD.search(word)
    if wildcard is None:
        return
    if wildcard.start() == 0:
        raise QueryError(
            query, f"`{word}` starts with a wildcard; put at least {MIN_PREFIX} letters before it"
        )
    if wildcard.start() < MIN_PREFIX:
        raise QueryError(
            query,
            f"`{word}` matches too many words; put at least {MIN_PREFIX} letters before the "
            "wildcard",
        )


def _choices(values: Iterable[str]) -> str:
    values = [f"`{v}`" for v in values]
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " or " + values[-1]


# -- parsing ----------------------------------------------------------------------------------


def make_parser(schema: object) -> QueryParser:
    """whoosh's parser with AND between words, fuzzy terms, and nothing we do not offer."""
    parser = QueryParser("text", schema, group=AndGroup)
    for unwanted in (
        plugins.SingleQuotePlugin,  # apostrophes are text here
        plugins.RangePlugin,  # `{a TO}` ran for over 20 s
        plugins.BoostPlugin,
        plugins.EveryPlugin,  # `*:*`
    ):
        parser.remove_plugin_class(unwanted)
    parser.add_plugin(FuzzyTermPlugin())
    return parser


def parse_query(parser: QueryParser, query: str, *, checked: str | None = None) -> wq.Query:
    """Check and parse a query; QueryError when it is refused or means nothing.

    Args:
        checked: what `check_query(query)` returned, when the caller has checked it already.
    """
    cleaned = check_query(query) if checked is None else checked
    try:
        parsed = parser.parse(cleaned)
    except RecursionError:
        raise QueryError(query, f"parentheses are nested more than {MAX_NESTING} deep") from None
    except Exception as error:  # whoosh's parser raises little, but say it in one line
        raise QueryError(query, f"whoosh could not read it ({type(error).__name__})") from None
    if parsed is wq.NullQuery or isinstance(parsed, type(wq.NullQuery)):
        raise QueryError(query, "there is nothing to search for")
    if _only_negative(parsed):
        raise QueryError(
            query, "say what to find, not only what to leave out (`NOT` needs a word before it)"
        )
    return parsed


def _only_negative(q: wq.Query) -> bool:
    if isinstance(q, wq.Not):
        return True
    if isinstance(q, wq.And):
        return all(_only_negative(child) for child in q.children())
    return False


# -- expansion --------------------------------------------------------------------------------


@dataclass
class Terms:
    """The query's terms in the text field, expanded once: what snippets mark."""

    words: set[str] = field(default_factory=set)
    phrases: list[tuple[str, ...]] = field(default_factory=list)


class ExpandedTerms(wq.MultiTerm):
    """A prefix, wildcard or fuzzy term already expanded: whoosh would expand it again in
    every segment (a fuzzy term's automaton costs 3-5 ms per segment)."""

    def __init__(
        self, fieldname: str, btexts: Iterable[bytes], label: str, boost: float = 1.0
    ) -> None:
        self.fieldname = fieldname
        self.btexts = tuple(sorted(set(btexts)))
        self.text = label
        self.boost = boost
        self.constantscore = True  # as whoosh scores Prefix, Wildcard and FuzzyTerm

    def _btexts(self, ixreader: object) -> Iterable[bytes]:
        fieldname = self.fieldname
        return [b for b in self.btexts if (fieldname, b) in ixreader]  # type: ignore[operator]

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and self.fieldname == other.fieldname  # type: ignore[attr-defined]
            and self.btexts == other.btexts  # type: ignore[attr-defined]
            and self.boost == other.boost  # type: ignore[attr-defined]
        )

    def __hash__(self) -> int:
        return hash((self.fieldname, self.btexts, self.boost))

    def __repr__(self) -> str:
        return f"ExpandedTerms({self.fieldname!r}, {self.text!r}, {len(self.btexts)} terms)"


def _label(leaf: wq.Query) -> str:
    if isinstance(leaf, wq.FuzzyTerm):
        return f"{leaf.text}~{leaf.maxdist if leaf.maxdist != 1 else ''}"
    if isinstance(leaf, wq.Prefix):
        return f"{leaf.text}*"
    return str(getattr(leaf, "text", leaf))


def _expansions(q: wq.MultiTerm, reader: object) -> Iterable[bytes]:
    """The distinct terms a prefix, wildcard or fuzzy query stands for, lazily."""
    if isinstance(q, wq.FuzzyTerm):
        # A multi-segment reader has no automaton: whoosh falls back to an edit distance in
        # Python over every term with the prefix (0.7-1.9 s here). Ask each segment instead.
        # whoosh's parser sets no common prefix (`sword~` took `word`, 7,460 passages of it,
        # and the automaton walks every term): keep the first letter, as people expect.
        seen: set[bytes] = set()
        length = max(1, q.prefixlength)
        prefix = q.text[:length].encode("utf-8")
        for leaf, _ in reader.leaf_readers():  # type: ignore[attr-defined]
            for word in leaf.terms_within(q.fieldname, q.text, q.maxdist, prefix=length):
                btext = word.encode("utf-8") if isinstance(word, str) else word
                if btext.startswith(prefix) and btext not in seen:
                    seen.add(btext)
                    yield btext
        return
    for btext in q._btexts(reader):  # noqa: SLF001 - whoosh's stored-text reader
        yield btext.encode("utf-8") if isinstance(btext, str) else btext


def expand(query: str, parsed: wq.Query, searcher: Searcher) -> tuple[wq.Query, Terms]:
    """Expand prefix, wildcard and fuzzy parts once; refuse those that match too much.

    Returns the query with those parts replaced by their expansions, and the terms that
    snippets mark (the text field's, outside NOT).
    """
    reader = searcher.reader()
    terms = Terms()
    deadline = time.monotonic() + MAX_EXPANSION_SECONDS
    expansions: dict[int, list[bytes]] = {}

    def walk(q: wq.Query) -> None:
        if isinstance(q, wq.Not):
            return
        if isinstance(q, wq.AndNot):
            walk(q.a)
            return
        if isinstance(q, wq.Phrase):
            if q.fieldname == "text":
                if q.slop > 1:  # words apart: mark each word
                    terms.words.update(q.words)
                else:
                    terms.phrases.append(tuple(q.words))
            return
        if isinstance(q, wq.MultiTerm):
            expanded: list[bytes] = []
            postings = 0
            for btext in itertools.islice(_expansions(q, reader), MAX_EXPANDED_TERMS + 1):
                expanded.append(btext)
                postings += reader.doc_frequency(q.fieldname, btext)
                if time.monotonic() > deadline:
                    raise QueryError(
                        query, f"`{_label(q)}` takes too long to expand; type more letters"
                    )
            if len(expanded) > MAX_EXPANDED_TERMS or postings > MAX_EXPANDED_POSTINGS:
                hint = (
                    "use `~` (1 edit) or more letters"
                    if isinstance(q, wq.FuzzyTerm)
                    else "type more letters"
                )
                raise QueryError(query, f"`{_label(q)}` matches too many words; {hint}")
            expansions[id(q)] = expanded
            if q.fieldname == "text":
                terms.words.update(b.decode("utf-8") for b in expanded)
            return
        if isinstance(q, wq.Term):
            if q.fieldname == "text":
                text = q.text.decode("utf-8") if isinstance(q.text, bytes) else q.text
                terms.words.add(text)
            return
        for child in q.children():
            walk(child)

    def substitute(q: wq.Query) -> wq.Query:
        if isinstance(q, wq.MultiTerm):
            expanded = expansions.get(id(q))
            if expanded is None:  # under NOT: expand it here, bounded like the rest
                expanded = list(itertools.islice(_expansions(q, reader), MAX_EXPANDED_TERMS + 1))
                if len(expanded) > MAX_EXPANDED_TERMS:
                    raise QueryError(
                        query, f"`{_label(q)}` matches too many words; type more letters"
                    )
            return ExpandedTerms(q.fieldname, expanded, _label(q), q.boost)
        return q.apply(substitute)

    walk(parsed)
    return substitute(parsed), terms


# -- hits -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One ranked hit: a passage of a document, or an annotation."""

    kind: str  # "passage" | "annotation"
    document_id: str
    title: str
    offset: int  # document character offset of the first match (annotation: its start)
    length: int  # length of that match (annotation: of its quote)
    page: int | None  # PDF page of `offset`, else None
    snippet: str  # one line, terminal-safe
    marks: list[tuple[int, int]]  # [start, end) ranges of matched words in `snippet`
    score: float
    annotation_id: str | None = None
    role: str | None = None
    note: str | None = None
    chapter: str | None = None  # EPUB: the title of the chapter `page` counts

    @property
    def where(self) -> str:
        """Where the hit is, as a reader names it: its chapter, its page, or its offset."""
        if self.chapter:
            return self.chapter
        return f"p. {self.page}" if self.page else f"@{self.offset}"

    def to_json(self) -> dict:
        """A JSON-ready dict of the hit."""
        return {
            "kind": self.kind,
            "document_id": self.document_id,
            "title": self.title,
            "offset": self.offset,
            "length": self.length,
            "page": self.page,
            "snippet": self.snippet,
            "marks": [list(mark) for mark in self.marks],
            "score": round(self.score, 4),
            "annotation_id": self.annotation_id,
            "role": self.role,
            "note": self.note,
            "chapter": self.chapter,
        }


@dataclass(frozen=True)
class SearchResult:
    """A page of hits; `total` counts every match (an estimate when `total_exact` is False)."""

    hits: list[Hit]
    total: int
    query: str
    timed_out: bool = False
    """The search was cut at TIME_LIMIT: the hits are those found by then (partial)."""
    total_exact: bool = True
    seconds: float = 0.0
    pending: int = 0
    """Library changes not yet in the index (being indexed): what they hold is not searched."""
    rebuilt: str = ""
    """Why the index was rebuilt before this answer (missing, damaged...), or empty."""

    @property
    def partial(self) -> bool:
        """Some of the library may hold hits this answer does not show."""
        return self.timed_out or self.pending > 0

    def to_json(self) -> dict:
        return {
            "query": self.query,
            "total": self.total,
            "total_exact": self.total_exact,
            "timed_out": self.timed_out,
            "pending": self.pending,
            "partial": self.partial,
            "rebuilt": self.rebuilt or None,
            "hits": [hit.to_json() for hit in self.hits],
        }

    def __str__(self) -> str:  # pragma: no cover - debugging aid
        return json.dumps(self.to_json(), ensure_ascii=False)


def _chapters(value: str | None) -> list[str] | None:
    try:
        found = json.loads(value) if value else None
    except ValueError:
        return None
    return [str(c) for c in found] if isinstance(found, list) else None


def _chapter(chapters: list[str] | None, page: int | None) -> str | None:
    if not chapters or page is None or not 1 <= page <= len(chapters):
        return None
    return terminal_safe(chapters[page - 1])


def _page_of(page_starts: list[int] | None, offset: int) -> int | None:
    # As store.records.Document.page_of, without loading the document's text.
    if not page_starts:
        return None
    return max(1, bisect.bisect_right(page_starts, offset))


class TextReader:
    """Reads what hits show from the library file: titles, note rows, and passage slices.

    A passage's slice is read by byte range through SQLite's incremental blob I/O (the
    index keeps each passage's UTF-8 byte offsets): `substr(text, start + 1, n)` has to load
    and scan the whole text, 1.5-4 ms per hit in a 3 MB book; the blob read takes 0.03 ms with
    the pages mapped. Its own read-only connection, so the store's is left as it is.
    """

    def __init__(self, library_path: Path) -> None:
        self.path = Path(library_path)
        self._identity = _identity(self.path)
        uri = f"file:{self.path.resolve()}?mode=ro"
        self.db = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
        try:
            self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError:
            # A full disk: the WAL's -shm cannot be made; read the file as it is (issue 15).
            self.db.close()
            uri += "&immutable=1"
            self.db = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA busy_timeout = 10000")
        self.db.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")

    def current(self) -> bool:
        """False when the library file was replaced since this reader opened it."""
        return _identity(self.path) == self._identity

    def close(self) -> None:
        self.db.close()

    def documents(
        self, ids: Iterable[str]
    ) -> dict[str, tuple[int, str, list[int] | None, list[str] | None]]:
        """rowid, title, page starts and (EPUB) chapter titles of each document."""
        ids = list(ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            "SELECT id, rowid, title, page_starts, CASE WHEN format = 'epub' THEN "
            f"json_extract(metadata, '$.chapters') END FROM documents WHERE id IN ({marks})",
            ids,
        ).fetchall()
        return {
            r[0]: (r[1], r[2], json.loads(r[3]) if r[3] else None, _chapters(r[4])) for r in rows
        }

    def annotations(self, ids: list[str]) -> dict[str, dict]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            f'SELECT id, document_id, start, "end", exact, role, note, deleted '
            f"FROM annotations WHERE id IN ({marks})",
            ids,
        ).fetchall()
        names = ("document_id", "start", "end", "exact", "role", "note", "deleted")
        return {r[0]: dict(zip(names, r[1:], strict=True)) for r in rows}

    def passage(
        self, rowid: int, doc_id: str, start: int, end: int, byte_start: int, byte_length: int
    ) -> str | None:
        """text[start:end] of a document, or None when the document is gone or changed."""
        try:
            with self.db.blobopen("documents", "text", rowid, readonly=True) as blob:
                blob.seek(byte_start)
                text = blob.read(byte_length).decode("utf-8")
            if len(text) == end - start:
                return text
        except (sqlite3.Error, UnicodeDecodeError, ValueError, OverflowError):
            pass
        row = self.db.execute(  # the slow but sure way
            "SELECT substr(text, ?, ?) FROM documents WHERE id = ?",
            [start + 1, end - start, doc_id],
        ).fetchone()
        return row[0] if row and row[0] else None


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def _union(reader: object, q: ExpandedTerms, wanted: int) -> tuple[int, list[tuple[float, int]]]:
    """(how many passages or notes hold any of the terms, the first `wanted` as top_n)."""
    total = 0
    top_n: list[tuple[float, int]] = []
    for leaf, base in reader.leaf_readers():  # type: ignore[attr-defined]
        docs: set[int] = set()
        for btext in q._btexts(leaf):  # noqa: SLF001 - whoosh's stored-text reader
            docs.update(leaf.postings(q.fieldname, btext).all_ids())  # deletions filtered
        total += len(docs)
        if len(top_n) < wanted:
            top_n += [(q.boost, base + n) for n in sorted(docs)[: wanted - len(top_n)]]
    return total, top_n


def run_search(
    searcher: Searcher,
    parser: QueryParser,
    texts: TextReader,
    query: str,
    limit: int = 20,
    offset: int = 0,
    *,
    checked: str | None = None,
) -> SearchResult:
    """Check, parse, expand, run (at most TIME_LIMIT seconds) and make the page of hits.

    Args:
        checked: what `check_query(query)` returned, when the caller has checked it already.
    """
    began = time.perf_counter()
    parsed, terms = expand(query, parse_query(parser, query, checked=checked), searcher)
    wanted = max(1, offset + limit)
    timed_out = False
    reader = searcher.reader()
    if isinstance(parsed, ExpandedTerms):
        # Constant-scored (as whoosh scores prefix and fuzzy terms): the top N are the first
        # N matching passages, and the union of the terms' postings counts them exactly.
        # whoosh's matcher took 60 ms for `whale~` (11,400 passages); this takes 15.
        total, top_n = _union(reader, parsed, wanted)
        exact = True
    else:
        single = type(parsed) is wq.Term
        if single or not EXACT_TOTALS:
            top = collectors.TopCollector(wanted)
        else:
            # whoosh's default collector skips blocks that cannot reach the top N and drops
            # OR branches that cannot either ("replace"): fast, but its count is then wrong
            # (`napoleon OR wellington` counted 93 of 534). A single word's total is its
            # document frequency; anything else is collected in full.
            top = collectors.TopCollector(wanted, usequality=False, replace=0)
        collector = TimeLimitCollector(top, timelimit=TIME_LIMIT, use_alarm=False)
        try:
            # The collector looks at the clock per match; `deadline` inside phrase matching.
            with deadline(TIME_LIMIT):
                searcher.search_with_collector(parsed, collector)
        except TimeLimit:
            timed_out = True
        finally:
            timer = getattr(collector, "timer", None)
            if timer is not None:
                timer.cancel()
        results = collector.results()
        top_n = results.top_n
        if single:
            total = reader.doc_frequency(parsed.fieldname, parsed.text)
            exact = not reader.has_deletions() and not timed_out
        elif EXACT_TOTALS:
            total, exact = top.total, not timed_out
        else:
            total, exact = max(top.total, results.estimated_length()), False
    page = [
        (score or 0.0, searcher.stored_fields(docnum)["key"])
        for score, docnum in top_n[offset:wanted]
    ]
    hits = _make_hits(texts, page, terms)
    return SearchResult(
        hits=hits,
        total=total,
        query=query,
        timed_out=timed_out,
        total_exact=exact,
        seconds=time.perf_counter() - began,
    )


def _make_hits(texts: TextReader, page: list[tuple[float, tuple]], terms: Terms) -> list[Hit]:
    annotations = texts.annotations([key[1] for _, key in page if key[0] == "a"])
    doc_ids = {key[1] for _, key in page if key[0] == "p"}
    doc_ids.update(a["document_id"] for a in annotations.values())
    documents = texts.documents(doc_ids)
    hits: list[Hit] = []
    for score, key in page:
        if key[0] == "p":
            _, doc_id, start, end, byte_start, byte_length = key
            document = documents.get(doc_id)
            if document is None:
                continue  # deleted since the index last caught up
            rowid, title, page_starts, chapters = document
            text = texts.passage(rowid, doc_id, start, end, byte_start, byte_length)
            if text is None:
                continue
            found = locate(text, terms.words, terms.phrases)
            snippet = make_snippet(text, found)
            first = found[0] if found else (0, 0)
            hits.append(
                Hit(
                    kind=KIND_PASSAGE,
                    document_id=doc_id,
                    title=terminal_safe(title),
                    offset=start + first[0],
                    length=first[1] - first[0],
                    page=_page_of(page_starts, start + first[0]),
                    snippet=snippet.text,
                    marks=snippet.marks,
                    score=float(score),
                    chapter=_chapter(chapters, _page_of(page_starts, start + first[0])),
                )
            )
        elif key[0] == "a":
            annotation = annotations.get(key[1])
            if annotation is None or annotation["deleted"]:
                continue
            document = documents.get(annotation["document_id"])
            if document is None:
                continue
            _, title, page_starts, chapters = document
            quote_marks = locate(annotation["exact"], terms.words, terms.phrases)
            note_marks = (
                locate(annotation["note"], terms.words, terms.phrases) if annotation["note"] else []
            )
            if quote_marks or not note_marks:
                snippet = make_snippet(annotation["exact"], quote_marks)
            else:
                snippet = make_snippet(annotation["note"], note_marks)
            hits.append(
                Hit(
                    kind=KIND_ANNOTATION,
                    document_id=annotation["document_id"],
                    title=terminal_safe(title),
                    offset=annotation["start"],
                    length=annotation["end"] - annotation["start"],
                    page=_page_of(page_starts, annotation["start"]),
                    snippet=snippet.text,
                    marks=snippet.marks,
                    score=float(score),
                    annotation_id=key[1],
                    role=annotation["role"],
                    note=terminal_safe(annotation["note"]) if annotation["note"] else None,
                    chapter=_chapter(chapters, _page_of(page_starts, annotation["start"])),
                )
            )
        # key[0] == "m": the meta entry, reachable only through `a OR NOT b`
    return hits
