"""Exchange at growing sizes: export and merge CPU times for 1,000, 5,000 and 20,000 notes.

usage: .venv/bin/python bench/exchange.py [--annotations N ...] [--repeat N]
Each size runs in its own process (a library of N annotations on two documents, 200 links and
100 verdicts); the figures are CPU seconds (`time.process_time`, medians of --repeat), then the
ratio of the largest size to the one before it for each form: linear is the sizes' ratio
(4.0 from 5k to 20k; the target is within 4.5). Prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from store import exchange
from store.library import Library
from store.records import Author

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MARGIN_SHARED", REPO.parent / "shared"))
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
        started = time.process_time()
        run()
        times.append(time.process_time() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--annotations", type=int, nargs="*", default=[1000, 5000, 20000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(measure(args.one, args.repeat)))
        return
    print(f"load average {os.getloadavg()[0]:.2f}; CPU seconds, median of {args.repeat}")
    runs = []
    for size in args.annotations:
        command = [sys.executable, __file__, "--one", str(size), "--repeat", str(args.repeat)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    names = list(runs[0]["figures"])
    print(f"{'notes':48}" + "".join(f"{r['annotations']:>10,}" for r in runs) + "     ratio")
    for name in names:
        row = [r["figures"][name] for r in runs]
        ratio = f"{row[-1] / row[-2]:9.1f}x" if len(row) > 1 and row[-2] else ""
        print(f"  {name:46}" + "".join(f"{v:10.2f}" for v in row) + ratio)
    print(f"bundle MB: {[r['bundle_mb'] for r in runs]}; load average {os.getloadavg()[0]:.2f}")
    if len(runs) > 1:
        sizes = runs[-1]["annotations"] / runs[-2]["annotations"]
        print(f"linear would be {sizes:.1f}x; the target is within {sizes * 1.125:.1f}x")


def measure(annotations: int, repeat: int) -> dict:
    """Every form's CPU seconds on a library of `annotations` notes."""
    args = argparse.Namespace(annotations=annotations, repeat=repeat)
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
    return {
        "annotations": annotations,
        "bundle_mb": round(bundle.stat().st_size / 1e6, 2),
        "figures": {name: round(seconds, 3) for name, seconds in figures},
    }


if __name__ == "__main__":
    main()
