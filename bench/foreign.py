"""Merging another tool's notes into a book: Kindle clippings of a whole novel, merged, then
merged again.

usage: .venv/bin/python bench/foreign.py [--book PATH] [--clippings N] [--seed N]

Prints figures; it is not a test. The clippings are sentences of the book as a Kindle writes
them (line breaks as spaces, no position in the text, no context), so every one is found by
quote through store.anchoring. It counts how many land exactly on their sentence, how many are
orphaned (a sentence that stands several times in the book, with nothing to tell the places
apart, is orphaned as ambiguous, never placed at random) and times each merge.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import tempfile
import time
from pathlib import Path

from store.exchange import merge_any
from store.ingest import extract
from store.library import Library
from store.records import Author

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "gutenberg"
ME = Author(id="77777777-7777-4777-8777-777777777777", name="Bench")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--book", type=Path, default=CORPUS / "pg1342-pride-and-prejudice.txt")
    parser.add_argument("--clippings", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp())
    lib = Library(work / "bench.margin")
    doc, _ = lib.add_document(extract(args.book))
    text = doc.text
    sentences = [
        m for m in re.finditer(r"[A-Z][^.!?]{40,300}[.!?]", text) if "\n\n" not in m.group(0)
    ]
    rng = random.Random(args.seed)
    chosen = rng.sample(sentences, min(args.clippings, len(sentences)))
    title, author = doc.title, doc.author or "Unknown"
    blocks = [
        f"{title} ({author})\r\n- Your Highlight on Location {m.start() // 50}-"
        f"{m.end() // 50} | Added on Monday, March 2, 2020 10:15:32 PM\r\n\r\n"
        f"{' '.join(m.group(0).split())}\r\n==========\r\n"
        for m in chosen
    ]
    clippings = work / "My Clippings.txt"
    clippings.write_text("\ufeff" + "".join(blocks), "utf-8", newline="")
    for label in ("first merge", "second merge"):
        began = time.perf_counter()
        report = merge_any(lib, clippings, author=ME)
        took = time.perf_counter() - began
        print(
            f"{label}: {len(chosen)} clippings in {took:.2f} s "
            f"({1000 * took / len(chosen):.2f} ms each): {report.added} added, "
            f"{report.unchanged} unchanged, {len(report.orphaned)} orphaned"
        )
    exact = sum(
        1
        for a in lib.annotations()
        if a.anchor_state != "orphaned"
        and any(a.start == m.start() and a.end == m.end() for m in chosen)
    )
    print(f"placed exactly on their sentence: {exact} of {len(chosen)}")
    print(f"book: {args.book.name}, {len(text):,} characters; load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
