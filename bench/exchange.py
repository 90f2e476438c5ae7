"""Exchange on a library of 1,000 annotations, 200 links and 100 verdicts: export and merge times.

usage: .venv/bin/python bench/exchange.py [--annotations N] [--repeat N]
Prints figures; it is not a test. Quote medians: the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from store import exchange
from store.library import Library
from store.records import Author

SHARED = Path(__file__).resolve().parents[2] / "shared"
ANA = Author(id="33333333-3333-4333-8333-333333333333", name="Ana")
BEN = Author(id="44444444-4444-4444-8444-444444444444", name="Ben")


class Doc:
    def __init__(self, text: str, title: str) -> None:
        self.text, self.title = text, title
        self.author = self.published = None
        self.source = f"/bench/{title}.txt"
        self.format = "txt"
        self.page_starts = None
        self.metadata: dict = {}


def build(path: Path, annotations: int, rng: random.Random) -> Library:
    lib = Library(path)
    seed = (SHARED / "seeds" / "000_d7a02fca77c0caa4.txt").read_text(encoding="utf-8")
    book = (SHARED / "corpus" / "gutenberg" / "pg84-frankenstein.txt").read_text(encoding="utf-8")
    docs = [lib.add_document(Doc(seed, "seed"))[0], lib.add_document(Doc(book, "frankenstein"))[0]]
    made = []
    with lib.write():
        for i in range(annotations):
            doc = docs[i % 2]
            start = rng.randrange(0, len(doc.text) - 200)
            made.append(
                lib.annotate(
                    doc.id,
                    start,
                    start + rng.randrange(20, 180),
                    author=ANA,
                    role="claim" if i % 5 == 0 else "highlight",
                    note=f"note {i}" if i % 3 == 0 else "",
                    tags=[f"tag{i % 7}"],
                )
            )
        claims = [a for a in made if a.role == "claim"]
        evidence = [a for a in made if a.role == "highlight"]
        for i in range(min(200, len(evidence))):
            lib.link(claims[i % len(claims)].id, evidence[i].id, author=ANA)
        for i in range(min(100, len(claims))):
            lib.review(claims[i].id, "supported", reviewer=ANA)
    return lib


def timed(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--annotations", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="margin-bench-"))
    lib = build(work / "ana.margin", args.annotations, random.Random(5))
    bundle = work / "ana.margin.jsonld"
    folder = work / "ana-folder"
    qdpx = work / "ana.qdpx"
    figures = [
        (
            "export bundle with sources",
            timed(lambda: exchange.export_bundle(lib, bundle, with_sources=True), args.repeat),
        ),
    ]
    counter = iter(range(1000))

    def merge_fresh() -> None:
        fresh = Library(work / f"ben{next(counter)}.margin")
        exchange.merge(fresh, bundle, author=BEN)
        fresh.close()

    figures.append(("merge bundle into an empty library", timed(merge_fresh, args.repeat)))
    again = Library(work / "again.margin")
    exchange.merge(again, bundle, author=BEN)
    figures.append(
        (
            "merge the same bundle again (nothing changes)",
            timed(lambda: exchange.merge(again, bundle, author=BEN), args.repeat),
        )
    )
    figures.append(
        ("export folder", timed(lambda: exchange.export_folder(lib, folder), args.repeat))
    )
    figures.append(
        (
            "merge folder into a library that has it",
            timed(lambda: exchange.merge(again, folder, author=BEN), args.repeat),
        )
    )
    figures.append(("export .qdpx", timed(lambda: exchange.export_qdpx(lib, qdpx), args.repeat)))
    figures.append(
        (
            "Markdown report",
            timed(lambda: exchange.export_markdown(lib, work / "r.md"), args.repeat),
        )
    )
    figures.append(("CSV", timed(lambda: exchange.export_csv(lib, work / "r.csv"), args.repeat)))
    print(
        f"library: {args.annotations} annotations, 200 links, 100 verdicts on 2 documents; "
        f"bundle {bundle.stat().st_size / 1e6:.2f} MB; median of {args.repeat}"
    )
    for name, seconds in figures:
        print(f"  {name:48} {seconds:6.2f} s")


if __name__ == "__main__":
    main()
