"""Re-anchoring 1,000 annotations after an edit of a 2 MB book: time per annotation per step.

usage: .venv/bin/python bench/anchoring.py [--book PATH] [--annotations N]
Prints figures; it is not a test. Quote medians: the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import time
from collections import defaultdict
from pathlib import Path

from store.anchoring import FoldedText, _anchor, anchor_all, quote_at

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "gutenberg"


def sentences(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(r"[A-Z][^.!?\n]{40,220}[.!?]", text)]


def edit(text: str, spans: list[tuple[int, int]], rng: random.Random) -> str:
    """An editor's pass: a preface, re-wrapped paragraphs, typos, cut passages."""
    pieces = []
    last = 0
    for start, end in sorted(rng.sample(spans, 300)):
        if start < last:
            continue
        pieces.append(text[last:start])
        roll = rng.random()
        sentence = text[start:end]
        if roll < 0.25:  # re-wrap: a line break and a doubled space inside
            mid = sentence.find(" ", len(sentence) // 2)
            sentence = sentence[:mid] + "\n" + sentence[mid + 1 :].replace(" ", "  ", 1)
        elif roll < 0.5:  # one typo
            i = rng.randrange(5, len(sentence) - 5)
            sentence = sentence[:i] + sentence[i + 1 :]
        elif roll < 0.7:  # cut
            sentence = ""
        pieces.append(sentence)
        last = end
    pieces.append(text[last:])
    return "PREFACE TO THE NEW EDITION\n\n" + "A note. " * 50 + "\n\n" + "".join(pieces)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--book", type=Path, default=CORPUS / "pg1023-bleak-house.txt")
    parser.add_argument("--annotations", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    text = args.book.read_text(encoding="utf-8")[: 2_000_000]
    rng = random.Random(7)
    spans = sentences(text)
    quotes = [quote_at(text, s, e) for s, e in rng.sample(spans, args.annotations)]
    changed = edit(text, spans, rng)

    started = time.perf_counter()
    FoldedText(changed)
    fold_s = time.perf_counter() - started

    totals = []
    per_step: dict[str, list[float]] = defaultdict(list)
    for _ in range(args.repeat):
        started = time.perf_counter()
        results = anchor_all(changed, quotes)
        totals.append(time.perf_counter() - started)
    # Time per annotation per step, one by one, sharing one fold as anchor_all does.
    folded_cache = None

    for quote in quotes:
        started = time.perf_counter()
        found, folded_cache = _anchor(changed, quote, folded_cache)
        per_step[found.step].append(time.perf_counter() - started)

    print(f"book: {args.book.name}, {len(text):,} characters; edited copy {len(changed):,}")
    print(f"annotations: {len(quotes)}; fold of the edited text once: {fold_s * 1000:.0f} ms")
    print(f"re-anchor all: median {statistics.median(totals):.2f} s over {args.repeat} runs "
          f"({statistics.median(totals) / len(quotes) * 1000:.2f} ms per annotation)")
    states = defaultdict(int)
    for found in results:
        states[found.state] += 1
    print("states:", dict(states))
    print(f"{'step':12} {'count':>6} {'median ms':>10} {'p95 ms':>8}")
    for step in ("position", "exact", "normalised", "fuzzy", "none"):
        times = sorted(per_step.get(step, []))
        if not times:
            continue
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        print(f"{step:12} {len(times):6} {statistics.median(times) * 1000:10.3f} {p95 * 1000:8.3f}")


if __name__ == "__main__":
    main()
