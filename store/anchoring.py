"""Find an annotation's quote again in a changed text, or say honestly that it is gone.

In order: the old position; the exact quote, chosen among occurrences by its context; the
same on a view with whitespace, quotes and dashes folded; a fuzzy match accepted only when
the quote is similar enough AND its context agrees AND no rival comes close; else orphaned
(kept and reported, never deleted). Offsets are code points (Python indices), half-open.
The design and its test cases are in shared/research/standards.md, section 3.4.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

CONTEXT = 32
"""Characters of prefix and suffix kept with each annotation."""

_QUOTE_MIN = 0.75  # at most a quarter of the quote may have changed
_CONTEXT_MIN = 0.5  # the text around the match must still look like the text around the quote
_RIVAL_MARGIN = 0.02
_SEED = 16
_SEED_STEP = 8
_SEED_MAX_HITS = 50  # a seed this common locates nothing


@dataclass(frozen=True)
class Quote:
    """What is stored with an annotation to find it again."""

    exact: str
    prefix: str
    suffix: str
    start: int
    end: int


@dataclass(frozen=True)
class Anchor:
    """Where an annotation stands in the new text, and how it was found."""

    state: str
    """ok (same place), moved (found elsewhere) or orphaned (not found)."""
    step: str
    """position, exact, normalised, fuzzy or none."""
    start: int
    end: int
    """The new span; for an orphan, the old one unchanged."""
    score: float = 1.0
    """How alike the quote and the match are (1.0 unless fuzzy)."""


def quote_at(text: str, start: int, end: int) -> Quote:
    """The quote and its context for text[start:end]."""
    return Quote(text[start:end], text[max(0, start - CONTEXT) : start], text[end : end + CONTEXT], start, end)


def _similar(a: str, b: str) -> float:
    if not a and not b:
        return 1.0
    return Levenshtein.normalized_similarity(a, b)


def _context_scores(text: str, quote: Quote, start: int, end: int) -> tuple[float, float]:
    """How alike the stored prefix and suffix are to the text around a candidate."""
    prefix = text[max(0, start - len(quote.prefix)) : start]
    suffix = text[end : end + len(quote.suffix)]
    return _similar(quote.prefix, prefix), _similar(quote.suffix, suffix)


def _occurrences(text: str, needle: str, limit: int = 10_000) -> list[int]:
    found, at = [], text.find(needle)
    while at >= 0 and len(found) < limit:
        found.append(at)
        at = text.find(needle, at + 1)
    return found


def _best_exact(text: str, quote: Quote, length: int, hint: int) -> tuple[int, float] | None:
    """The occurrence of the quote whose context agrees best (then the nearest), if acceptable."""
    exact = quote.exact
    hits = _occurrences(text, exact)
    if not hits:
        return None
    size = max(1, len(text))
    ranked = []
    for at in hits:
        prefix_sim, suffix_sim = _context_scores(text, quote, at, at + length)
        position_sim = 1 - abs(at - hint) / size
        score = (50 + 20 * prefix_sim + 20 * suffix_sim + 2 * position_sim) / 92
        ranked.append((score, -abs(at - hint), at, max(prefix_sim, suffix_sim)))
    score, _, at, context = max(ranked)
    if (len(hits) == 1 and len(exact) >= CONTEXT) or context >= _CONTEXT_MIN:
        return at, score
    return None


# -- the folded view ------------------------------------------------------------------------

_FOLD = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2212": "-",
})
# Runs the fold rewrites: whitespace (incl. no-break spaces) becomes one space, soft hyphens and
# zero-width characters go. Everything else maps one character to one.
_SPECIAL = re.compile(r"[\s\u00a0\u202f\u2007\u00ad\u200b\u200c\u200d\u2060\ufeff]+")
_INVISIBLE = re.compile(r"[\u00ad\u200b\u200c\u200d\u2060\ufeff]")


class FoldedText:
    """A text with whitespace runs, quotes, dashes and invisible characters folded, and a map
    from each folded offset back to the original text."""

    def __init__(self, text: str) -> None:
        pieces: list[str] = []
        # Segment i covers folded[f_starts[i]:...]; a copy maps 1:1 from o_starts[i], a run
        # maps its one folded space onto original [o_starts[i], o_ends[i]).
        self.f_starts: list[int] = []
        self.o_starts: list[int] = []
        self.o_ends: list[int] = []
        self.copies: list[bool] = []
        folded_len = 0
        last = 0
        for match in _SPECIAL.finditer(text):
            start, end = match.span()
            if start > last:
                self._segment(folded_len, last, start, True)
                pieces.append(text[last:start])
                folded_len += start - last
            run = match.group()
            if _INVISIBLE.sub("", run):  # some real whitespace in the run: one space
                self._segment(folded_len, start, end, False)
                pieces.append(" ")
                folded_len += 1
            last = end
        if last < len(text):
            self._segment(folded_len, last, len(text), True)
            pieces.append(text[last:])
        self.text = "".join(pieces).translate(_FOLD)

    def _segment(self, f_start: int, o_start: int, o_end: int, copy: bool) -> None:
        self.f_starts.append(f_start)
        self.o_starts.append(o_start)
        self.o_ends.append(o_end)
        self.copies.append(copy)

    def to_original_start(self, f: int) -> int:
        """The original offset where folded offset `f` starts."""
        if not self.f_starts:
            return 0
        i = max(0, bisect.bisect_right(self.f_starts, f) - 1)
        if self.copies[i]:
            return min(self.o_starts[i] + (f - self.f_starts[i]), self.o_ends[i])
        return self.o_starts[i] if f == self.f_starts[i] else self.o_ends[i]

    def to_original_end(self, f: int) -> int:
        """The original offset where a span ending at folded offset `f` ends."""
        if f <= 0 or not self.f_starts:
            return 0
        i = max(0, bisect.bisect_right(self.f_starts, f - 1) - 1)
        if self.copies[i]:
            return self.o_starts[i] + (f - 1 - self.f_starts[i]) + 1
        return self.o_ends[i]

    def to_folded(self, o: int) -> int:
        """The folded offset nearest an original offset (for position hints)."""
        if not self.o_starts:
            return 0
        i = max(0, bisect.bisect_right(self.o_starts, o) - 1)
        if self.copies[i]:
            return self.f_starts[i] + min(o - self.o_starts[i], self.o_ends[i] - self.o_starts[i])
        return self.f_starts[i]


def fold(text: str) -> str:
    """The folded form of a short string (a quote or its context)."""
    return FoldedText(text).text


# -- fuzzy ----------------------------------------------------------------------------------


def _candidates(text: str, quote: Quote) -> set[int]:
    """Likely starts of the quote: where pieces of it, or the end of its prefix, stand."""
    exact = quote.exact
    length = len(exact)
    starts: set[int] = set()
    seeds = [(k, exact[k : k + _SEED]) for k in range(0, max(1, length - _SEED + 1), _SEED_STEP)]
    if length > _SEED:
        seeds.append((length - _SEED, exact[-_SEED:]))
    for k, seed in seeds:
        hits = _occurrences(text, seed, _SEED_MAX_HITS + 1)
        if len(hits) <= _SEED_MAX_HITS:
            starts.update(max(0, at - k) for at in hits)
    tail = quote.prefix[-_SEED:]
    if len(tail) >= 8:
        hits = _occurrences(text, tail, _SEED_MAX_HITS + 1)
        if len(hits) <= _SEED_MAX_HITS:
            starts.update(at + len(tail) for at in hits)
    head = quote.suffix[:_SEED]
    if len(head) >= 8:
        hits = _occurrences(text, head, _SEED_MAX_HITS + 1)
        if len(hits) <= _SEED_MAX_HITS:
            starts.update(max(0, at - length) for at in hits)
    return starts


def _refine(text: str, exact: str, start: int, end: int) -> tuple[float, int, int]:
    """Nudge both ends by up to four characters to the most similar full match."""
    best = (_similar(exact, text[start:end]), start, end)
    for ds in range(-4, 5):
        for de in range(-4, 5):
            s, e = start + ds, end + de
            if 0 <= s < e <= len(text):
                score = _similar(exact, text[s:e])
                if score > best[0] + 1e-9:
                    best = (score, s, e)
    return best


def _fuzzy(text: str, quote: Quote) -> tuple[int, int, float] | None:
    exact = quote.exact
    length = len(exact)
    if length < 8:
        return None  # too short to tell a near match from a different word
    slack = max(4, length // 4)
    found: list[tuple[float, int, int, float]] = []
    seen: set[tuple[int, int]] = set()
    for cand in sorted(_candidates(text, quote)):
        lo = max(0, cand - slack)
        window = text[lo : cand + length + slack]
        aligned = fuzz.partial_ratio_alignment(exact, window)
        if aligned is None or aligned.score < 100 * _QUOTE_MIN - 10:
            continue
        score, s, e = _refine(text, exact, lo + aligned.dest_start, lo + aligned.dest_end)
        if (s, e) in seen:
            continue
        seen.add((s, e))
        prefix_sim, suffix_sim = _context_scores(text, quote, s, e)
        found.append((score, s, e, max(prefix_sim, suffix_sim)))
    if not found:
        return None
    found.sort(reverse=True)
    score, s, e, context = found[0]
    if score < _QUOTE_MIN or context < _CONTEXT_MIN:
        return None
    for rival, rs, _re, _ in found[1:]:
        if abs(rs - s) > length / 2 and rival >= score - _RIVAL_MARGIN:
            return None  # two places fit about as well: refuse to guess
    return s, e, score


# -- the steps together ---------------------------------------------------------------------


def _anchor(text: str, quote: Quote, folded: FoldedText | None) -> tuple[Anchor, FoldedText | None]:
    exact = quote.exact
    if not exact:
        return Anchor("orphaned", "none", quote.start, quote.end, 0.0), folded
    if text[quote.start : quote.end] == exact:
        return Anchor("ok", "position", quote.start, quote.end), folded
    found = _best_exact(text, quote, len(exact), quote.start)
    if found is not None:
        at, _ = found
        return Anchor("moved", "exact", at, at + len(exact)), folded

    if folded is None:
        folded = FoldedText(text)
    folded_quote = Quote(fold(exact), fold(quote.prefix), fold(quote.suffix),
                         folded.to_folded(quote.start), folded.to_folded(quote.end))
    if folded_quote.exact.strip():
        found = _best_exact(folded.text, folded_quote, len(folded_quote.exact), folded_quote.start)
        if found is not None:
            at, _ = found
            start = folded.to_original_start(at)
            end = folded.to_original_end(at + len(folded_quote.exact))
            return Anchor("moved", "normalised", start, end), folded

    fuzzy = _fuzzy(text, quote)
    if fuzzy is not None:
        start, end, score = fuzzy
        return Anchor("moved", "fuzzy", start, end, score), folded
    return Anchor("orphaned", "none", quote.start, quote.end, 0.0), folded


def anchor(text: str, quote: Quote) -> Anchor:
    """Where `quote` stands in `text` now."""
    return _anchor(text, quote, None)[0]


def anchor_all(text: str, quotes: Iterable[Quote]) -> list[Anchor]:
    """Anchor many quotes in one text, folding the text at most once."""
    folded: FoldedText | None = None
    found = []
    for quote in quotes:
        result, folded = _anchor(text, quote, folded)
        found.append(result)
    return found
