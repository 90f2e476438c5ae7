"""Import the Gutenberg corpus into a fresh library, index it, and time searches against FTS5.

    .venv/bin/python bench/ingest_search.py              # all 75 books (a few minutes)
    .venv/bin/python bench/ingest_search.py --books 10   # a quick subset
    .venv/bin/python bench/ingest_search.py --repeat 5   # median of 5 timed runs per query

Prints: store import (MB/s; documents readable as soon as this ends), index catch-up in a child
process as the app runs it (passages/s, MB/s), the two combined end to end, the index size,
and p50/p95/max latency of a fixed set of queries (top 20 with snippets, warm searcher) for
whoosh and for plain SQLite FTS5 over the same passages, with the median per-query ratio.
A benchmark, not a test: figures vary with machine load (quote medians and ratios).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import random
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from whoosh.lang.porter import stem  # noqa: E402

from index import QueryError, SearchIndex, index_dir_for, sync_in_child  # noqa: E402
from index.passages import split_passages  # noqa: E402
from store.library import Library  # noqa: E402
from store.records import Author  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus" / "gutenberg"
BLANK_LINE = re.compile(r"\n[^\S\n]*\n")

# (kind, query). Single words from very common to rare, ANDs, phrases (stop words kept),
# prefixes, wildcards, fuzzy, booleans, fields. `un*` is there to show the expansion guard.
QUERIES = [
    ("single", "said"),
    ("single", "man"),
    ("single", "time"),
    ("single", "night"),
    ("single", "heart"),
    ("single", "money"),
    ("single", "honour"),
    ("single", "whale"),
    ("single", "revolution"),
    ("single", "gunpowder"),
    ("single", "hypothesis"),
    ("single", "quixotic"),
    ("and2", "war peace"),
    ("and2", "love money"),
    ("and2", "king church"),
    ("and2", "ship sea"),
    ("and2", "god soul"),
    ("and2", "father daughter"),
    ("and2", "gold silver"),
    ("and2", "law liberty"),
    ("and2", "night moon"),
    ("and2", "horse sword"),
    ("phrase", '"white whale"'),
    ("phrase", '"human nature"'),
    ("phrase", '"young lady"'),
    ("phrase", '"old man"'),
    ("phrase", '"free will"'),
    ("phrase", '"good morning"'),
    ("phrase", '"public opinion"'),
    ("phrase", '"new york"'),
    ("phrase", '"thousand pounds"'),
    ("phrase", '"french revolution"'),
    ("phrase", '"to be or not to be"'),
    ("prefix", "philosoph*"),
    ("prefix", "revol*"),
    ("prefix", "gentl*"),
    ("prefix", "electr*"),
    ("prefix", "happi*"),
    ("prefix", "marri*"),
    ("prefix", "tele*"),
    ("prefix", "un*"),
    ("wildcard", "wom?n"),
    ("wildcard", "col*r"),
    ("fuzzy", "whale~"),
    ("fuzzy", "honor~1"),
    ("fuzzy", "colour~"),
    ("fuzzy", "grey~"),
    ("fuzzy", "sword~"),
    ("boolean", "napoleon OR wellington"),
    ("boolean", "whale NOT ship"),
    ("boolean", "(king OR queen) AND church"),
    ("field", "doc:emma"),
    ("field", 'doc:"pride and prejudice" letter'),
    ("field", "author:austen money"),
    ("field", "author:dickens fog"),
    ("field", "tag:econ"),
    ("field", "is:claim"),
    ("field", "no:evidence"),
]


def manifest() -> dict[str, tuple[str, str | None]]:
    """file name -> (title, author) from the corpus manifest."""
    with open(CORPUS / "MANIFEST.tsv", encoding="utf-8") as f:
        return {
            row["file"]: (row["title"], row["author"] or None)
            for row in csv.DictReader(f, delimiter="\t")
        }


def import_books(lib: Library, books: list[Path]) -> tuple[float, int, int]:
    """Extract and store each book (one transaction each); (seconds, bytes, characters)."""
    try:
        from store.ingest import extract
    except ImportError:  # pragma: no cover - before store.ingest existed
        extract = None
    names = manifest()
    size = chars = 0
    began = time.perf_counter()
    for path in books:
        if extract is not None:
            extracted = extract(path)
        else:  # pragma: no cover
            from store.sanitize import ingest_clean
            from tests.conftest import NewDoc

            extracted = NewDoc(text=ingest_clean(path.read_text(encoding="utf-8"))[0])
        title, author = names.get(path.name, (extracted.title, extracted.author))
        extracted = dataclasses.replace(extracted, title=title, author=author)
        lib.add_document(extracted)
        size += path.stat().st_size
        chars += len(extracted.text)
    return time.perf_counter() - began, size, chars


def annotate(lib: Library, count: int, seed: int = 7) -> None:
    """Some notes, so note fields are searched too: highlights and claims, tagged, a few linked."""
    rnd = random.Random(seed)
    people = [
        Author(f"00000000-0000-4000-8000-00000000000{n}", name)
        for n, name in enumerate(["Alice Analyst", "Bob Reviewer", "Chen Reader"])
    ]
    tags = ["econ/trade", "econ/labour", "politics", "religion", "war", "love/marriage"]
    claims = []
    ids = lib.document_ids()
    with lib.write():
        for n in range(count):
            doc = ids[rnd.randrange(len(ids))]
            sql = "SELECT length FROM documents WHERE id = ?"
            length = lib.reader.execute(sql, [doc]).fetchone()[0]
            start = rnd.randrange(max(1, length - 300))
            role = "claim" if n % 3 == 0 else "highlight"
            note = rnd.choice(
                [
                    "",
                    "see the trade figures",
                    "contradicts chapter one",
                    "a good example of irony",
                    "check the source",
                ]
            )
            a = lib.annotate(
                doc,
                start,
                start + rnd.randint(20, 200),
                author=rnd.choice(people),
                role=role,
                note=note,
                tags=rnd.sample(tags, rnd.randint(0, 2)),
            )
            if role == "claim":
                claims.append(a)
            elif claims and n % 5 == 0:
                lib.link(rnd.choice(claims).id, a.id, author=people[0])


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * p
    low = int(k)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (k - low)


# -- FTS5, the yardstick --------------------------------------------------------------------------


class Fts5:
    """Plain SQLite FTS5 over the same passages (porter unicode61), in a temporary database."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(str(path))
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")
        self._vocab: list[str] | None = None
        self._vocab_set: set[str] = set()

    def build(self, lib: Library) -> tuple[float, int]:
        db = self.db
        db.execute(
            "CREATE TABLE passages (id INTEGER PRIMARY KEY, doc_id TEXT, start INTEGER, "
            "end INTEGER, text TEXT, title TEXT, author TEXT)"
        )
        rows = lib.reader.execute("SELECT id, title, author, text FROM documents").fetchall()
        began = time.perf_counter()
        n = 0
        with db:
            for doc_id, title, author, text in rows:
                db.executemany(
                    "INSERT INTO passages (doc_id, start, end, text, title, author) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (doc_id, p.start, p.end, text[p.start : p.end], title, author or "")
                        for p in split_passages(text)
                    ],
                )
            n = db.execute("SELECT count(*) FROM passages").fetchone()[0]
            db.execute(
                "CREATE VIRTUAL TABLE fts USING fts5(text, title, author, content='passages', "
                "content_rowid='id', tokenize='porter unicode61')"
            )
            db.execute("INSERT INTO fts(fts) VALUES ('rebuild')")
        return time.perf_counter() - began, n

    def size(self) -> int:
        try:
            return self.db.execute(
                "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'fts%'"
            ).fetchone()[0]
        except sqlite3.OperationalError:
            return 0

    def vocab(self) -> set[str]:
        if self._vocab is None:
            self.db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS vocab USING fts5vocab(fts, 'row')")
            self._vocab = [r[0] for r in self.db.execute("SELECT term FROM vocab")]
            self._vocab_set = set(self._vocab)
        return self._vocab_set

    def _edits1(self, word: str) -> set[str]:
        letters = "abcdefghijklmnopqrstuvwxyz"
        splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
        out = {a + b[1:] for a, b in splits if b}
        out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        out |= {a + c + b[1:] for a, b in splits if b for c in letters}
        out |= {a + c + b for a, b in splits for c in letters}
        return {w for w in out if w[:1] == word[:1]}

    def translate(self, query: str) -> str | None:
        """Our query syntax in FTS5 terms; wildcards and fuzzy expanded over the vocabulary."""
        out = []
        for token in re.findall(r'\w+:"[^"]*"|"[^"]*"|\(|\)|[^\s()]+', query):
            if token in ("(", ")"):
                out.append(token)
                continue
            field = "text : "  # the passage text only, as whoosh's default field
            if ":" in token and not token.startswith('"'):
                name, token = token.split(":", 1)
                field = {"doc": "title", "author": "author"}.get(name)
                if field is None:
                    return None  # no annotations in the FTS5 yardstick
                field += " : "
            if token in ("AND", "OR", "NOT"):
                out.append(token)
            elif token.startswith('"'):
                out.append(field + token)
            elif "~" in token:
                word = stem(token.split("~")[0].lower())  # whoosh fuzzes the stem too
                vocab = self.vocab()
                terms = sorted(({word} | self._edits1(word)) & vocab)
                out.append(field + "(" + " OR ".join(terms or [word]) + ")")
            elif "?" in token or ("*" in token and not token.endswith("*")):
                pattern = re.compile(token.lower().replace("?", ".").replace("*", ".*") + "$")
                terms = [t for t in self.vocab() if pattern.match(t)]
                out.append(field + "(" + " OR ".join(terms[:500] or ["zzzzz"]) + ")")
            else:
                out.append(field + token)
        return " ".join(out)

    def search(self, match: str) -> tuple[int, list]:
        rows = self.db.execute(
            "SELECT p.doc_id, p.start, snippet(fts, 0, '[', ']', '\u2026', 24) "
            "FROM fts JOIN passages p ON p.id = fts.rowid WHERE fts MATCH ? ORDER BY rank LIMIT 20",
            [match],
        ).fetchall()
        return len(rows), rows

    def count(self, match: str) -> int:
        return self.db.execute("SELECT count(*) FROM fts WHERE fts MATCH ?", [match]).fetchone()[0]


# -- the run ----------------------------------------------------------------------------


def time_queries(run, queries: list[str], repeat: int) -> dict[str, float]:
    """Median ms per query: each query once to warm up, then `repeat` interleaved rounds."""
    for q in queries:
        run(q)
    samples: dict[str, list[float]] = {q: [] for q in queries}
    for _ in range(repeat):
        for q in queries:
            began = time.perf_counter()
            run(q)
            samples[q].append((time.perf_counter() - began) * 1000)
    return {q: statistics.median(v) for q, v in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--books", type=int, default=None, help="only the first N books")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per query (median)")
    parser.add_argument("--notes", type=int, default=300, help="annotations to add before indexing")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the library here")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()

    books = sorted(CORPUS.glob("*.txt"))[: args.books]
    work = args.workdir or Path(tempfile.mkdtemp(prefix="margin-bench-"))
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    library_path = work / "library.margin"
    index_dir = index_dir_for(library_path)
    figures: dict = {"books": len(books)}
    print(f"margin bench: {len(books)} books from {CORPUS} into {work}")

    lib = Library(library_path)
    store_s, size, chars = import_books(lib, books)
    readable = all(lib.document(d).text for d in lib.document_ids())
    annotate(lib, args.notes)
    paragraphs = sum(
        sum(1 for p in BLANK_LINE.split(r[0]) if p.strip())
        for r in lib.reader.execute("SELECT text FROM documents").fetchall()
    )
    mb = size / 1e6
    print(
        f"\nstore import     {store_s:7.1f} s  {mb / store_s:6.2f} MB/s  "
        f"({mb:.1f} MB, {chars / 1e6:.1f} M chars; documents readable: {readable})"
    )

    progress_marks: list[tuple[float, int, int]] = []
    began = time.perf_counter()
    applied = sync_in_child(
        library_path, index_dir, lambda d, t: progress_marks.append((time.perf_counter(), d, t))
    )
    index_s = time.perf_counter() - began
    passages = sum(
        len(split_passages(r[0]))
        for r in lib.reader.execute("SELECT text FROM documents").fetchall()
    )
    print(
        f"index catch-up   {index_s:7.1f} s  {passages / index_s:8,.0f} passages/s  "
        f"{mb / index_s:5.2f} MB/s  ({passages:,} passages, {applied:,} changes, "
        f"child process, {len(progress_marks)} progress reports)"
    )
    total_s = store_s + index_s
    print(
        f"end to end       {total_s:7.1f} s  {passages / total_s:8,.0f} passages/s  "
        f"{mb / total_s:5.2f} MB/s  ({paragraphs / total_s:,.0f} blank-line paragraphs/s: "
        f"{paragraphs:,} paragraphs)"
    )
    index_bytes = dir_size(index_dir)
    print(f"index size       {index_bytes / 1e6:7.1f} MB  ({index_bytes / size:.2f}x the text)")
    figures.update(
        store_s=store_s,
        mb=mb,
        chars=chars,
        index_s=index_s,
        passages=passages,
        paragraphs=paragraphs,
        index_mb=index_bytes / 1e6,
    )

    began = time.perf_counter()
    search_index = SearchIndex(index_dir)
    search_index.search(lib, "whale")
    first_ms = (time.perf_counter() - began) * 1000
    print(f"open + first hit {first_ms:7.1f} ms")

    results: dict[str, object] = {}

    def run_whoosh(q: str) -> None:
        try:
            results[q] = search_index.search(lib, q, limit=20)
        except QueryError as error:
            results[q] = error

    queries = [q for _, q in QUERIES]
    whoosh_ms = time_queries(run_whoosh, queries, args.repeat)

    fts = Fts5(work / "fts5.db")
    fts_build_s, fts_rows = fts.build(lib)
    print(
        f"\nFTS5 build       {fts_build_s:7.1f} s  {fts_rows / fts_build_s:8,.0f} passages/s  "
        f"size {fts.size() / 1e6:.1f} MB"
    )
    translated = {q: fts.translate(q) for q in queries}
    fts.vocab()  # loaded once, as an app would, before timing
    fts_queries = [m for m in translated.values() if m]
    fts_ms_by_match = time_queries(lambda m: fts.search(m), fts_queries, args.repeat)

    print(
        f"\n{'kind':8} {'query':34} {'whoosh ms':>9} {'FTS5 ms':>8} {'ratio':>6}  "
        "hits whoosh / FTS5"
    )
    ratios, accepted, refused, timed_out = [], [], [], []
    for kind, q in QUERIES:
        result = results[q]
        w = whoosh_ms[q]
        match = translated[q]
        f = fts_ms_by_match.get(match) if match else None
        if isinstance(result, QueryError):
            refused.append(q)
            hits = f"refused: {result.reason}"
        else:
            accepted.append(w)
            if result.timed_out:
                timed_out.append(q)
            total = f"{result.total:,}" + ("" if result.total_exact else "~")
            hits = f"{total} / {fts.count(match):,}" if match else f"{total} / -"
            if f:
                ratios.append(w / f)
        fs = f"{f:8.2f}" if f else "       -"
        rs = f"{w / f:6.1f}" if f and not isinstance(result, QueryError) else "     -"
        print(f"{kind:8} {q[:34]:34} {w:9.2f} {fs} {rs}  {hits}")

    fts_all = [fts_ms_by_match[m] for m in fts_queries]
    print(
        f"\nwhoosh ({len(accepted)} queries run, {len(refused)} refused by the guard, "
        f"{len(timed_out)} stopped at 2 s): p50 {percentile(accepted, 0.5):.1f} ms  "
        f"p95 {percentile(accepted, 0.95):.1f} ms  max {max(accepted):.1f} ms"
    )
    print(
        f"FTS5   ({len(fts_all)} queries):  p50 {percentile(fts_all, 0.5):.1f} ms  "
        f"p95 {percentile(fts_all, 0.95):.1f} ms  max {max(fts_all):.1f} ms"
    )
    print(f"whoosh / FTS5, median of per-query ratios: {statistics.median(ratios):.1f}x")
    figures.update(
        whoosh_p50=percentile(accepted, 0.5),
        whoosh_p95=percentile(accepted, 0.95),
        whoosh_max=max(accepted),
        fts_p50=percentile(fts_all, 0.5),
        fts_p95=percentile(fts_all, 0.95),
        ratio_median=statistics.median(ratios),
        refused=refused,
        timed_out=timed_out,
        first_ms=first_ms,
        queries={q: whoosh_ms[q] for q in queries},
    )
    # A note saved, then found: the commit of one annotation and the searcher's refresh.
    author = Author("00000000-0000-4000-8000-0000000000ff", "Bench")
    doc_ids = lib.document_ids()
    sync_ms, find_ms = [], []
    for n in range(10):
        lib.annotate(doc_ids[n % len(doc_ids)], 100, 160, author=author, note=f"benchnote{n}")
        began = time.perf_counter()
        search_index.sync(lib)
        middle = time.perf_counter()
        found = search_index.search(lib, f"benchnote{n}").total
        sync_ms.append((middle - began) * 1000)
        find_ms.append((time.perf_counter() - middle) * 1000)
        assert found == 1
    print(
        f"\na note saved -> searchable: sync p50 {statistics.median(sync_ms):.1f} ms "
        f"(max {max(sync_ms):.1f}), then found in {statistics.median(find_ms):.1f} ms"
    )
    figures.update(note_sync_ms=statistics.median(sync_ms), note_find_ms=statistics.median(find_ms))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    search_index.close()
    lib.close()
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
