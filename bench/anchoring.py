"""Re-anchoring 1,000 annotations after an edit of a 2 MB book: time per annotation per step.

usage: .venv/bin/python bench/anchoring.py [--book PATH] [--annotations N] [--repeat N] [--seed N]

Prints figures; it is not a test. The edit is an editor's pass: a preface inserted near the
start, paragraphs re-wrapped (line breaks moved, a space doubled), a word changed inside some
quotes, passages deleted (some with a quote in them, most without). Every edit is recorded, so
the bench also says whether each annotation ended where it should. Medians: machines are noisy.

The same notes are then placed as other tools send them (short, approximate or no context, no
position at all), and 200 quotes that stand two to five times in the book are added, each
counted as placed right, orphaned or misplaced against the recorded edits.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import store.anchoring as anchoring
from store.anchoring import Anchor, Anchorer, Quote, anchor_all, fold, quote_at

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "gutenberg"
BOOK = "pg28054-the-brothers-karamazov.txt"  # 2.0 MB (1.96 million characters)
SIZE = 2_000_000  # characters at most


@dataclass(frozen=True)
class Edit:
    """Replace text[at:at+cut] of the original by `put`."""

    at: int
    cut: int
    put: str
    kind: str


def sentences(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(r"[A-Z][^.!?\n]{40,220}[.!?]", text)]


def place_quotes(text: str, n: int, rng: random.Random) -> list[tuple[int, int]]:
    """n sentences, one in ten cut down to a phrase of two to four words."""
    spans = sorted(rng.sample(sentences(text), n))
    placed = []
    for start, end in spans:
        if rng.random() < 0.1:
            words = [m.span() for m in re.finditer(r"\S+", text[start:end])]
            k = rng.randrange(0, max(1, len(words) - 4))
            length = rng.randint(2, 4)
            first, last = words[k], words[min(len(words) - 1, k + length - 1)]
            start, end = start + first[0], start + last[1]
        placed.append((start, end))
    return placed


def paragraph(text: str, at: int) -> tuple[int, int]:
    start = text.rfind("\n\n", 0, at)
    end = text.find("\n\n", at)
    return (0 if start < 0 else start + 2), (len(text) if end < 0 else end)


def rewrap(text: str, start: int, end: int, rng: random.Random) -> list[Edit]:
    """Move a paragraph's line breaks (one character for one) and double one space."""
    chars = list(text[start:end].replace("\n", " "))
    width = rng.randint(55, 80)
    col = 0
    for i, c in enumerate(chars):
        col += 1
        if c == " " and col >= width:
            chars[i], col = "\n", 0
    spaces = [i for i, c in enumerate(chars) if c == " "]
    if not spaces:
        return [Edit(start, end - start, "".join(chars), "rewrap")]
    i = rng.choice(spaces)
    return [
        Edit(start, i, "".join(chars[:i]), "rewrap"),
        Edit(start + i, 0, " ", "rewrap"),  # a doubled space
        Edit(start + i, end - start - i, "".join(chars[i:]), "rewrap"),
    ]


def change_word(text: str, start: int, end: int, rng: random.Random) -> list[Edit]:
    """Change one inner word of a quote into another word."""
    words = [m.span() for m in re.finditer(r"[A-Za-z]{4,}", text[start:end])][1:-1]
    if not words:
        return []
    ws, we = rng.choice(words)
    word = text[start + ws : start + we]
    new = word[::-1].lower() if word[::-1].lower() != word else word + "s"
    return [Edit(start + ws, we - ws, new, "word")]


def overlaps(edits: list[Edit], lo: int, hi: int) -> bool:
    return any(e.at < hi and lo < e.at + e.cut for e in edits) or any(
        e.cut == 0 and lo <= e.at <= hi for e in edits
    )


def make_edits(text: str, quotes: list[tuple[int, int]], rng: random.Random) -> list[Edit]:
    edits: list[Edit] = []
    first_line = text.find("\n") + 1
    preface = "PREFACE TO THE NEW EDITION\n\n" + "This edition corrects the text. " * 15 + "\n\n"
    edits.append(Edit(first_line, 0, preface, "preface"))
    targets = rng.sample(quotes, 160)
    for start, end in targets[:60]:  # re-wrap the paragraph around a quote
        lo, hi = paragraph(text, start)
        if hi - lo < 3000 and lo <= start and end <= hi and not overlaps(edits, lo - 40, hi + 40):
            edits.extend(rewrap(text, lo, hi, rng))
    for start, end in targets[60:110]:  # a word changed inside the quote
        if not overlaps(edits, start - 40, end + 40):
            edits.extend(change_word(text, start, end, rng))
    for start, end in targets[110:]:  # the quote deleted with some text around it
        lo, hi = max(0, start - rng.randint(50, 300)), min(len(text), end + rng.randint(50, 300))
        if not overlaps(edits, lo - 40, hi + 40):
            edits.append(Edit(lo, hi - lo, "", "cut"))
    for _ in range(200):  # passages deleted elsewhere
        at = rng.randrange(len(text) - 500)
        lo, hi = at, at + rng.randint(20, 400)
        inside = any(s < hi + 40 and lo - 40 < e for s, e in quotes)
        if not inside and not overlaps(edits, lo - 40, hi + 40):
            edits.append(Edit(lo, hi - lo, "", "cut"))
    return sorted(edits, key=lambda e: (e.at, e.cut))


def apply(text: str, edits: list[Edit]) -> str:
    pieces, last = [], 0
    for e in edits:
        pieces.append(text[last : e.at])
        pieces.append(e.put)
        last = e.at + e.cut
    pieces.append(text[last:])
    return "".join(pieces)


def expected_span(quote: Quote, edits: list[Edit]) -> tuple[int, int] | str:
    """Where the quote's text is in the edited copy, or whether an edit (partly) deleted it."""
    shift_start = shift_end = 0
    for e in edits:
        delta = len(e.put) - e.cut
        if e.kind == "cut" and e.at < quote.end and quote.start < e.at + e.cut:
            return (
                "deleted" if e.at <= quote.start and quote.end <= e.at + e.cut else "partly deleted"
            )
        if e.at + e.cut <= quote.start:
            shift_start += delta
        if e.at + e.cut <= quote.end and not (e.cut == 0 and e.at == quote.end):
            shift_end += delta
    return quote.start + shift_start, quote.end + shift_end


# -- notes as other tools send them ----------------------------------------------------------


def _roughen(side: str, rng: random.Random, before: bool) -> str:
    """A context as another extraction or a careless producer gives it: the space beside the
    quote left out and two characters changed."""
    side = side.rstrip() if before else side.lstrip()
    chars = list(side)
    for _ in range(min(2, len(chars))):
        chars[rng.randrange(len(chars))] = rng.choice("abcdefghijklmnopqrstuvwxyz ")
    return "".join(chars)


def as_sent(quotes: list[Quote], rng: random.Random) -> dict[str, list[Quote]]:
    """The same notes with the context and position other tools send."""
    short = 8  # characters each side: a short prefix and suffix, as some W3C producers send
    return {
        "full context (margin's own)": quotes,
        "short context (8 characters)": [
            Quote(q.exact, q.prefix[-short:], q.suffix[:short], q.start, q.end) for q in quotes
        ],
        "approximate context": [
            Quote(
                q.exact,
                _roughen(q.prefix, rng, True),
                _roughen(q.suffix, rng, False),
                q.start,
                q.end,
            )
            for q in quotes
        ],
        "no context, old position": [Quote(q.exact, "", "", q.start, q.end) for q in quotes],
        "quote alone (no position)": [
            Quote(q.exact, "", "", q.start, q.end, has_position=False) for q in quotes
        ],
    }


def repeated_quotes(text: str, n: int, rng: random.Random) -> list[Quote]:
    """n phrases of two or three words that stand two to five times in the text, each at one of
    its places."""
    words = [m.span() for m in re.finditer(r"[A-Za-z']+", text)]
    seen: set[str] = set()
    found: list[Quote] = []
    while len(found) < n:
        k = rng.randrange(len(words) - 3)
        start, end = words[k][0], words[k + rng.randint(1, 2)][1]
        phrase = text[start:end]
        if phrase in seen or "\n" in phrase or len(phrase) < 8:
            continue
        seen.add(phrase)
        if 2 <= text.count(phrase) <= 5:
            found.append(quote_at(text, start, end))
    return sorted(found, key=lambda q: q.start)


def verdict(quote: Quote, found: Anchor, edits: list[Edit]) -> str:
    """One of VERDICTS: where the note ended against where the recorded edits put its quote."""
    where = expected_span(quote, edits)
    if isinstance(where, str):
        return "orphaned, deleted" if found.state == "orphaned" else "placed, deleted"
    if found.state == "orphaned":
        return "orphaned, present"
    return "right" if (found.start, found.end) == where else "misplaced"


# right: at the quote's place; orphaned, deleted: its passage was cut and it was orphaned (also
# right); orphaned, present: its words are still there but it was not placed; placed, deleted:
# its passage was cut but it was placed elsewhere (a misplacement); misplaced: its words are
# still there but it was placed somewhere else.
VERDICTS = ("right", "orphaned, deleted", "orphaned, present", "placed, deleted", "misplaced")


def placement_table(text: str, changed: str, quotes: list[Quote], edits: list[Edit]) -> None:
    """Placed right, orphaned and misplaced for each kind of note, against the recorded edits."""
    rng = random.Random(17)
    kinds = as_sent(quotes, rng)
    repeated = repeated_quotes(text, 200, rng)
    kinds["repeated quotes, full context"] = repeated
    kinds["repeated quotes, no context, old position"] = [
        Quote(q.exact, "", "", q.start, q.end) for q in repeated
    ]
    kinds["repeated quotes alone"] = [
        Quote(q.exact, "", "", q.start, q.end, has_position=False) for q in repeated
    ]
    print(f"{'kind of note':42} {'notes':>5} " + " ".join(f"{v:>17}" for v in VERDICTS))
    for kind, group in kinds.items():
        started = time.perf_counter()
        results = anchor_all(changed, group)
        took = time.perf_counter() - started
        counts = Counter(verdict(q, f, edits) for q, f in zip(group, results, strict=True))
        ambiguous = sum(f.reason.startswith("ambiguous") for f in results)
        print(
            f"{kind:42} {len(group):5} "
            + " ".join(f"{counts[v]:17}" for v in VERDICTS)
            + f"   ({ambiguous} ambiguous, {took:.2f} s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--book", type=Path, default=CORPUS / BOOK)
    parser.add_argument("--annotations", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    text = args.book.read_text(encoding="utf-8")[:SIZE]
    rng = random.Random(args.seed)
    quotes = [quote_at(text, s, e) for s, e in place_quotes(text, args.annotations, rng)]
    edits = make_edits(text, [(q.start, q.end) for q in quotes], rng)
    changed = apply(text, edits)
    kinds = Counter(e.kind for e in edits)

    def fresh_fold() -> None:
        anchoring._last_fold = None  # time the fold as a first re-anchoring of this text pays it

    started = time.perf_counter()
    anchoring.FoldedText(changed)
    fold_s = time.perf_counter() - started

    totals, unchanged = [], []
    for _ in range(args.repeat):
        fresh_fold()
        started = time.perf_counter()
        results = anchor_all(changed, quotes)
        totals.append(time.perf_counter() - started)
        started = time.perf_counter()
        anchor_all(text, quotes)
        unchanged.append(time.perf_counter() - started)

    # One annotation at a time, in the order anchor_all takes them, the fold already built.
    per_step: dict[str, list[float]] = defaultdict(list)
    anchorer = Anchorer(changed)
    anchorer.folded  # noqa: B018 - built here, timed above
    for quote in sorted(quotes, key=lambda q: q.start):
        started = time.perf_counter()
        found = anchorer.anchor(quote)
        per_step[found.step].append(time.perf_counter() - started)
    # The preface shifts every quote, so time the position step on the unchanged text.
    same = Anchorer(text)
    for quote in quotes:
        started = time.perf_counter()
        found = same.anchor(quote)
        per_step["position (unchanged text)"].append(time.perf_counter() - started)

    verdicts: Counter[str] = Counter()
    for quote, found in zip(quotes, results, strict=True):
        where = expected_span(quote, edits)
        if isinstance(where, str):
            verdicts[
                f"{where}: orphaned"
                if found.state == "orphaned"
                else f"{where}: found a copy elsewhere"
                if changed[found.start : found.end] == quote.exact
                else f"{where}: anchored ({found.step} {found.score:.2f})"
            ] += 1
        elif found.state == "orphaned":
            same = fold(changed[slice(*where)]) == fold(quote.exact)
            verdicts[
                "present: orphaned (" + ("unchanged text!" if same else "quote edited") + ")"
            ] += 1
        elif (found.start, found.end) == where:
            verdicts["present: right place"] += 1
        else:
            verdicts["present: WRONG place"] += 1

    total = statistics.median(totals)
    print(
        f"book: {args.book.name}, {len(text):,} characters ({len(text.encode()):,} bytes); "
        f"edited copy {len(changed):,} characters"
    )
    print("edits: " + ", ".join(f"{kinds[k]} {k}" for k in ("preface", "rewrap", "word", "cut")))
    print(
        f"annotations: {len(quotes)}; "
        f"fold of the edited text (once per text): {fold_s * 1000:.0f} ms"
    )
    print(
        f"re-anchor all after the edit: median {total:.3f} s over {args.repeat} runs, "
        "fold included "
        f"({total / len(quotes) * 1000:.3f} ms per annotation)"
    )
    print(
        f"re-anchor all, text unchanged: median {statistics.median(unchanged) * 1000:.1f} ms "
        f"({statistics.median(unchanged) / len(quotes) * 1e6:.1f} µs per annotation)"
    )
    print("states:", dict(Counter(found.state for found in results)))
    print(
        f"{'step':26} {'count':>6} {'median ms':>10} {'p95 ms':>8} {'total ms':>9}",
        "  (fold excluded)",
    )
    for step in ("position (unchanged text)", "position", "exact", "normalised", "fuzzy", "none"):
        times = sorted(per_step.get(step, []))
        if not times:
            continue
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        label = "orphaned" if step == "none" else step
        print(
            f"{label:26} {len(times):6} {statistics.median(times) * 1000:10.3f} {p95 * 1000:8.3f} "
            f"{sum(times) * 1000:9.1f}"
        )
    print("against the recorded edits:")
    for line, count in sorted(verdicts.items()):
        print(f"  {line:40} {count:5}")
    print("placed right, orphaned and misplaced, by how the note was sent:")
    placement_table(text, changed, quotes, edits)


if __name__ == "__main__":
    main()
