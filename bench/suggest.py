"""Suggested evidence on the Gutenberg corpus: recall of paraphrased claims, and time per claim.

    .venv/bin/python bench/suggest.py                      # all 75 books (a few minutes)
    .venv/bin/python bench/suggest.py --books 20           # the 40 target books... at least
    .venv/bin/python bench/suggest.py --keep /tmp/suggest  # keep the library to run again fast

bench/suggest_pairs.json holds 40 pairs: a sentence of a corpus book and a claim that
paraphrases it, as a claim in a report restates its source (it keeps a few of the source's
content words, changes the rest). The claims are imported as one more document ("claims"),
each marked as a claim, and `Service.suggest` is asked for each: a claim is found at k when one
of its first k suggestions is a passage of the right book that overlaps the sentence (any of
its occurrences). Also run with other numbers of key terms (index.suggest.KEY_TERMS) on the
same library. Times are per suggestion with a warm searcher (the first, cold, apart).
A benchmark, not a test: figures vary with machine load (the load average is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from index.suggest import KEY_TERMS, MAX_SHARE  # noqa: E402
from store.profile import save_profile  # noqa: E402
from store.records import Author  # noqa: E402
from tui.service import Service  # noqa: E402

SHARED = Path(os.environ.get("MARGIN_SHARED", REPO.parent / "shared"))
CORPUS = SHARED / "corpus" / "gutenberg"
PAIRS = Path(__file__).with_name("suggest_pairs.json")
BENCH_AUTHOR = Author("44444444-4444-4444-8444-444444444444", "Bench")


def _pattern(sentence: str) -> re.Pattern[str]:
    words = re.findall(r"\w+", sentence)
    return re.compile(r"\W+".join(re.escape(w) for w in words), re.IGNORECASE)


def _build(folder: Path, books: int, pairs: list[dict]) -> Service:
    config = folder / "config"
    save_profile(config, BENCH_AUTHOR)
    service = Service(folder / "library.margin", config)
    if service.library.documents():
        return service  # kept from an earlier run
    wanted = sorted({p["book"] for p in pairs})
    others = sorted(p.name for p in CORPUS.glob("*.txt") if p.name not in wanted)
    chosen = wanted + others[: max(0, books - len(wanted))]
    claims_file = folder / "claims.txt"
    claims_file.write_text("\n\n".join(p["claim"] for p in pairs) + "\n", encoding="utf-8")
    began = time.perf_counter()
    results = list(service.import_files([CORPUS / name for name in chosen] + [claims_file]))
    failed = [r.line() for r in results if r.status == "failed"]
    if failed:
        sys.exit("\n".join(failed))
    service.sync_index_in_child()
    print(f"built: {len(chosen)} books + claims, {time.perf_counter() - began:.0f} s")
    claims_doc = service.library.resolve_document("claims")
    for pair in pairs:
        service.annotate_quote(claims_doc.id, pair["claim"], role="claim")
    return service


def _targets(service: Service, pairs: list[dict]) -> list[tuple[str, list[tuple[int, int]]]]:
    lib = service.library
    by_source = {Path(d.source or "").name: d.id for d in lib.documents()}
    found = []
    for pair in pairs:
        doc_id = by_source[pair["book"]]
        text = lib.document(doc_id).text
        spans = [(m.start(), m.end()) for m in _pattern(pair["sentence"]).finditer(text)]
        if not spans:
            sys.exit(f"{pair['book']}: sentence not found: {pair['sentence']!r}")
        found.append((doc_id, spans))
    return found


def _rank(hits: list, target: tuple[str, list[tuple[int, int]]]) -> int | None:
    doc_id, spans = target
    for rank, hit in enumerate(hits, 1):
        if hit.document_id == doc_id and any(
            s < hit.passage_end and hit.passage_start < e for s, e in spans
        ):
            return rank
    return None


def _run(
    service: Service,
    claims: list,
    targets: list,
    key_terms: int | None,
    max_share: float = MAX_SHARE,
) -> dict:
    ranks, times, sentence_hits = [], [], 0
    lib = service.library
    for claim, target in zip(claims, targets, strict=True):
        began = time.perf_counter()
        if key_terms is None:  # the product as the user meets it (citations included)
            found = service.suggest(claim.id, limit=10)
        else:
            found = service.index.suggest(
                lib,
                claim.exact,
                exclude={claim.document_id: [(claim.start, claim.end)]},
                limit=10,
                key_terms=key_terms,
                max_share=max_share,
            )
        times.append(time.perf_counter() - began)
        rank = _rank(found.hits, target)
        ranks.append(rank)
        if rank is not None:
            hit = found.hits[rank - 1]
            sentence_hits += any(s < hit.end and hit.start < e for s, e in target[1])
    n = len(ranks)
    warm = sorted(times[1:]) or times
    return {
        "key_terms": key_terms or KEY_TERMS,
        "max_share": max_share,
        "recall@1": sum(1 for r in ranks if r is not None and r <= 1) / n,
        "recall@5": sum(1 for r in ranks if r is not None and r <= 5) / n,
        "recall@10": sum(1 for r in ranks if r is not None) / n,
        "mrr@10": sum(1 / r for r in ranks if r is not None) / n,
        "best sentence is the target (of found)": sentence_hits,
        "first ms": round(times[0] * 1000, 1),
        "p50 ms": round(statistics.median(warm) * 1000, 1),
        "p95 ms": round(warm[min(len(warm) - 1, int(0.95 * len(warm)))] * 1000, 1),
        "missed": [i for i, r in enumerate(ranks) if r is None],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--books", type=int, default=75, help="books to import (targets first)")
    parser.add_argument("--keep", type=Path, help="build (or reuse) the library in this folder")
    parser.add_argument(
        "--key-terms", default="5,8,12,20", help="other numbers of key terms to compare"
    )
    parser.add_argument(
        "--max-share", default="", help="shares of passages above which a word is left out"
    )
    args = parser.parse_args()
    if not CORPUS.is_dir():
        sys.exit(f"needs the corpus at {CORPUS} (set MARGIN_SHARED to the folder holding corpus/)")
    pairs = json.loads(PAIRS.read_text(encoding="utf-8"))
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        service = _build(folder, args.books, pairs)
        try:
            claims_doc = service.library.resolve_document("claims")
            claims = sorted(
                service.library.annotations(claims_doc.id, role="claim"), key=lambda a: a.start
            )
            targets = _targets(service, pairs)
            books = len(service.library.documents()) - 1
            print(f"{len(pairs)} claims, {books} books")
            print(json.dumps({"service.suggest": _run(service, claims, targets, None)}))
            for k in (int(x) for x in args.key_terms.split(",") if x):
                print(json.dumps({"key_terms": _run(service, claims, targets, k)}))
            for share in (float(x) for x in args.max_share.split(",") if x):
                print(json.dumps({"max_share": _run(service, claims, targets, KEY_TERMS, share)}))
        finally:
            service.close()
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
