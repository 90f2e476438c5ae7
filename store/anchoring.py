"""Find an annotation's quote again in a changed text, or say honestly that it is gone.

In order: the old position; the exact quote, chosen among occurrences by its context and only
then by nearness to the old position; the same on a view with whitespace, quotes, dashes and
invisible characters folded; a fuzzy match accepted only when the quote is similar enough AND
its context agrees AND no rival comes close; else orphaned (kept and reported, never deleted).
Offsets are code points (Python indices), half-open. Pure: stdlib and rapidfuzz only.
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

_QUOTE_MIN = 0.75  # fuzzy: at most a quarter of the quote may have changed (Levenshtein)
_CONTEXT_MIN = 0.5  # mean similarity of prefix and suffix to the text around a candidate
_RIVAL_MARGIN = 0.02  # a fuzzy rival this close to the best makes the match ambiguous
_FUZZY_MIN_LEN = 8  # shorter quotes are never matched fuzzily: too easy to find anywhere
_SEED = 16  # length of the pieces searched for to locate fuzzy candidates
_QUOTE_SEEDS = 6  # at most this many pieces of the quote itself (each is a scan of the text)
_SEED_MAX_HITS = 50  # a piece this common locates nothing
_MAX_HITS = 50_000  # occurrences of one exact quote looked at
_CHEAP_ALIGN = 64  # longer quotes are aligned only where a rough look finds them similar
_ROUGH_MIN = 0.5  # similarity of the quote to the text at a candidate start, for that look
_NEAR = 4096  # how far from where the last quote moved the quick exact search looks


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
    """ok (unchanged, same place), moved (found elsewhere or changed) or orphaned (not found)."""
    step: str
    """position, exact, normalised, fuzzy or none."""
    start: int
    end: int
    """The new span; for an orphan, the old one unchanged."""
    score: float = 1.0
    """How alike the quote and the match are: below 1.0 only for fuzzy, 0.0 for an orphan."""


def quote_at(text: str, start: int, end: int) -> Quote:
    """The quote and its CONTEXT characters each side for text[start:end]."""
    if not 0 <= start <= end <= len(text):
        raise ValueError(f"span {start}:{end} is outside a text of {len(text)} characters")
    return Quote(
        text[start:end],
        text[max(0, start - CONTEXT) : start],
        text[end : end + CONTEXT],
        start,
        end,
    )


# -- context ----------------------------------------------------------------------------------


def _context(text: str, prefix: str, suffix: str, start: int, end: int) -> tuple[float, float]:
    """How alike the stored prefix and suffix are to the text around text[start:end].

    An empty stored prefix (suffix) means the quote stood at the start (end) of the text: it
    agrees only with a candidate at the start (end)."""
    if prefix:
        p = Levenshtein.normalized_similarity(prefix, text[max(0, start - len(prefix)) : start])
    else:
        p = 1.0 if start == 0 else 0.0
    if suffix:
        s = Levenshtein.normalized_similarity(suffix, text[end : end + len(suffix)])
    else:
        s = 1.0 if end == len(text) else 0.0
    return p, s


def _context_equal(text: str, prefix: str, suffix: str, start: int, end: int) -> bool:
    """True when both stored context strings are exactly the text around text[start:end]."""
    p = text[max(0, start - len(prefix)) : start] == prefix if prefix else start == 0
    return p and (text[end : end + len(suffix)] == suffix if suffix else end == len(text))


def _occurrences(text: str, needle: str, limit: int) -> list[int]:
    found: list[int] = []
    at = text.find(needle)
    while at >= 0 and len(found) < limit:
        found.append(at)
        at = text.find(needle, at + 1)
    return found


def _best_exact(text: str, exact: str, prefix: str, suffix: str, hint: int) -> int | None:
    """The occurrence of `exact` whose context agrees best (then the nearest to `hint`).

    Accepted when its context agrees, or when it is the only occurrence and at least CONTEXT
    characters long; a short quote with a disagreeing context is not moved to a lookalike."""
    n = len(exact)
    best: tuple[float, int, int] | None = None
    count = 0
    at = text.find(exact)
    while at >= 0 and count < _MAX_HITS:
        count += 1
        p, s = _context(text, prefix, suffix, at, at + n)
        key = (p + s, -abs(at - hint), at)
        if best is None or key > best:
            best = key
        at = text.find(exact, at + 1)
    if best is None:
        return None
    if best[0] / 2 >= _CONTEXT_MIN or (count == 1 and n >= CONTEXT):
        return best[2]
    return None


# -- the folded view --------------------------------------------------------------------------

_SPACES = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)  # exactly the characters for which str.isspace() is true (a test checks)
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"  # soft hyphen, zero-width characters, BOM
_FOLD = str.maketrans(
    {c: " " for c in _SPACES}
    | {c: "'" for c in "\u2018\u2019\u201a\u201b\u2032"}
    | {c: '"' for c in "\u201c\u201d\u201e\u201f\u2033"}
    | {c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"}
)
# What cannot be folded one character to one: runs of two or more spaces or invisible
# characters (to one space, or to nothing when there is no real space in the run), and single
# invisible characters (to nothing). A single space character is left to the translation.
_RUN = re.compile(f"[{re.escape(_SPACES + _INVISIBLE)}]{{2,}}|[{_INVISIBLE}]")


class FoldedText:
    """A text with whitespace runs, typographic quotes, dashes and invisible characters folded,
    and maps between folded and original offsets."""

    __slots__ = ("text", "_f", "_o_start", "_o_end", "_width")

    def __init__(self, text: str) -> None:
        # Each run the fold rewrites: its folded offset, its original span and its folded width
        # (1: one space, 0: dropped). Between runs, characters map one to one.
        self._f: list[int] = []
        self._o_start: list[int] = []
        self._o_end: list[int] = []
        self._width: list[int] = []
        pieces: list[str] = []
        last = removed = 0
        for match in _RUN.finditer(text):
            start, end = match.span()
            width = 1 if match.group().strip(_INVISIBLE) else 0
            pieces.append(text[last:start])
            if width:
                pieces.append(" ")
            self._f.append(start - removed)
            self._o_start.append(start)
            self._o_end.append(end)
            self._width.append(width)
            removed += end - start - width
            last = end
        pieces.append(text[last:])
        self.text = "".join(pieces).translate(_FOLD)

    def to_original_start(self, f: int) -> int:
        """The original offset where a span starting at folded offset `f` starts."""
        i = bisect.bisect_right(self._f, f) - 1
        if i < 0:
            return f
        if f < self._f[i] + self._width[i]:
            return self._o_start[i]
        return self._o_end[i] + (f - self._f[i] - self._width[i])

    def to_original_end(self, f: int) -> int:
        """The original offset where a span ending at folded offset `f` ends."""
        last = f - 1  # the last folded character in the span
        i = bisect.bisect_right(self._f, last) - 1
        if i < 0:
            return f
        if last < self._f[i] + self._width[i]:
            return self._o_end[i]
        return self._o_end[i] + (last - self._f[i] - self._width[i]) + 1

    def to_folded(self, o: int) -> int:
        """The folded offset of original offset `o` (inside a run: the run's folded offset)."""
        i = bisect.bisect_right(self._o_start, o) - 1
        if i < 0:
            return o
        if o < self._o_end[i]:
            return self._f[i]
        return self._f[i] + self._width[i] + (o - self._o_end[i])


def fold(text: str) -> str:
    """The folded form of a string."""
    return FoldedText(text).text


def _fold_quote(quote: Quote) -> tuple[str, str, str]:
    """The quote's exact, prefix and suffix folded together, so runs across their borders fold
    as they do in the document."""
    whole = FoldedText(quote.prefix + quote.exact + quote.suffix)
    a = whole.to_folded(len(quote.prefix))
    b = whole.to_folded(len(quote.prefix) + len(quote.exact))
    return whole.text[a:b], whole.text[:a], whole.text[b:]


_last_fold: tuple[str, FoldedText] | None = None


def _folded_view(text: str) -> FoldedText:
    """The folded view of `text`, reused while the same text is anchored against."""
    global _last_fold
    cached = _last_fold
    if cached is not None and (cached[0] is text or cached[0] == text):
        return cached[1]
    folded = FoldedText(text)
    _last_fold = (text, folded)
    return folded


# -- fuzzy ------------------------------------------------------------------------------------


def _candidates(text: str, exact: str, prefix: str, suffix: str) -> list[int]:
    """Likely starts of the quote: where pieces of it, or the ends of its context, stand."""
    n = len(exact)
    if n <= _SEED:
        seeds = [(0, exact)]
    else:
        count = min(_QUOTE_SEEDS, -(-n // _SEED))
        offsets = sorted({round(i * (n - _SEED) / (count - 1)) for i in range(count)})
        seeds = [(k, exact[k : k + _SEED]) for k in offsets]
    starts: set[int] = set()
    for k, seed in seeds:
        hits = _occurrences(text, seed, _SEED_MAX_HITS + 1)
        if len(hits) <= _SEED_MAX_HITS:
            starts.update(max(0, at - k) for at in hits)
    tail, head = prefix[-_SEED:], suffix[:_SEED]
    if len(tail) >= _FUZZY_MIN_LEN:
        hits = _occurrences(text, tail, _SEED_MAX_HITS + 1)
        if len(hits) <= _SEED_MAX_HITS:
            starts.update(at + len(tail) for at in hits)
    if len(head) >= _FUZZY_MIN_LEN:
        hits = _occurrences(text, head, _SEED_MAX_HITS + 1)
        if len(hits) <= _SEED_MAX_HITS:
            starts.update(max(0, at - n) for at in hits)
    return sorted(starts)


def _refine(text: str, exact: str, start: int, end: int) -> tuple[float, int, int]:
    """Move each end of a rough match to where the whole quote is most similar (Levenshtein)."""
    reach = max(4, min(16, len(exact) // 8))
    best = Levenshtein.normalized_similarity(exact, text[start:end])
    for _ in range(3):
        before = (start, end)
        for e in range(max(start + 1, end - reach), min(len(text), end + reach) + 1):
            score = Levenshtein.normalized_similarity(exact, text[start:e])
            if score > best:
                best, end = score, e
        for s in range(max(0, start - reach), min(end - 1, start + reach) + 1):
            score = Levenshtein.normalized_similarity(exact, text[s:end])
            if score > best:
                best, start = score, s
        if (start, end) == before:
            break
    return best, start, end


def _fuzzy(text: str, exact: str, prefix: str, suffix: str) -> tuple[int, int, float] | None:
    """The one place where the quote is similar enough and its context agrees, if there is one."""
    n = len(exact)
    if n < _FUZZY_MIN_LEN:
        return None
    slack = max(4, n // 4)
    windows: list[list[int]] = []  # candidate starts, grouped when less than a quote apart
    for cand in _candidates(text, exact, prefix, suffix):
        if windows and cand - windows[-1][0] <= n:
            windows[-1].append(cand)
        else:
            windows.append([cand])
    found: dict[tuple[int, int], tuple[float, float, float]] = {}
    for starts in windows:
        if n > _CHEAP_ALIGN and not any(
            Levenshtein.normalized_similarity(exact, text[c : c + n], score_cutoff=_ROUGH_MIN)
            for c in starts
        ):
            continue  # a long quote's alignment is slow where nothing matches: look first
        first, last = starts[0], starts[-1]
        lo = max(0, first - slack)
        aligned = fuzz.partial_ratio_alignment(exact, text[lo : last + n + slack], score_cutoff=60)
        if aligned is None:
            continue
        quote_sim, s, e = _refine(text, exact, lo + aligned.dest_start, lo + aligned.dest_end)
        p, q = _context(text, prefix, suffix, s, e)
        found[(s, e)] = ((50 * quote_sim + 20 * p + 20 * q) / 90, quote_sim, (p + q) / 2)
    if not found:
        return None
    ranked = sorted(found.items(), key=lambda item: item[1], reverse=True)
    (s, e), (score, quote_sim, context) = ranked[0]
    if quote_sim < _QUOTE_MIN or context < _CONTEXT_MIN:
        return None
    for (rs, _), (rival, _, _) in ranked[1:]:
        if abs(rs - s) > n / 2 and rival >= score - _RIVAL_MARGIN:
            return None  # two places fit about as well: refuse to guess
    return s, e, quote_sim


# -- the steps together -----------------------------------------------------------------------


class Anchorer:
    """Anchors quotes in one text, folding it at most once and trying first where the last
    quote moved to."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._folded: FoldedText | None = None
        self._shift = 0

    @property
    def folded(self) -> FoldedText:
        """The folded view of the text, built when first needed."""
        if self._folded is None:
            self._folded = _folded_view(self.text)
        return self._folded

    def anchor(self, quote: Quote) -> Anchor:
        """Where `quote` stands in the text now."""
        found = self._find(quote)
        if found.state != "orphaned":
            self._shift = found.start - quote.start
        return found

    def _find(self, quote: Quote) -> Anchor:
        text, exact = self.text, quote.exact
        orphan = Anchor("orphaned", "none", quote.start, quote.end, 0.0)
        if not exact:
            return orphan
        if 0 <= quote.start <= quote.end <= len(text) and text[quote.start : quote.end] == exact:
            return Anchor("ok", "position", quote.start, quote.end)

        at = self._near_exact(quote)
        if at is None:
            at = _best_exact(text, exact, quote.prefix, quote.suffix, quote.start)
        if at is not None:
            return Anchor("moved", "exact", at, at + len(exact))

        f_exact, f_prefix, f_suffix = _fold_quote(quote)
        if not f_exact.strip():
            return orphan
        folded = self.folded
        at = _best_exact(
            folded.text, f_exact, f_prefix, f_suffix, folded.to_folded(max(0, quote.start))
        )
        if at is not None:
            start, end = folded.to_original_start(at), folded.to_original_end(at + len(f_exact))
            return Anchor("moved", "normalised", start, end)

        fuzzy = _fuzzy(folded.text, f_exact, f_prefix, f_suffix)
        if fuzzy is not None:
            f_start, f_end, score = fuzzy
            start, end = folded.to_original_start(f_start), folded.to_original_end(f_end)
            return Anchor("moved", "fuzzy", start, end, round(score, 4))
        return orphan

    def _near_exact(self, quote: Quote) -> int | None:
        """The exact quote with its whole context, near where the last quote moved to, when no
        other occurrence is as near the old position; else None (then the full search decides).

        Gives what _best_exact would, without scanning the whole text."""
        text, exact = self.text, quote.exact
        n, hint = len(exact), quote.start
        guess = hint + self._shift
        lo, hi = max(0, guess - _NEAR), guess + n + _NEAR
        best: tuple[int, int] | None = None
        at = text.find(exact, lo, hi)
        while at >= 0:
            if _context_equal(text, quote.prefix, quote.suffix, at, at + n):
                key = (-abs(at - hint), at)
                if best is None or key > best:
                    best = key
            at = text.find(exact, at + 1, hi)
        if best is None:
            return None
        at = best[1]
        radius = abs(at - hint)
        if radius > len(text) // 4:
            return None
        # Another occurrence at least as near the old position could tie on context and win.
        other = text.find(exact, max(0, hint - radius), hint + radius + n)
        while other >= 0:
            if other != at:
                return None
            other = text.find(exact, other + 1, hint + radius + n)
        return at


def anchor(text: str, quote: Quote) -> Anchor:
    """Where `quote` stands in `text` now."""
    return Anchorer(text).anchor(quote)


def anchor_all(text: str, quotes: Iterable[Quote]) -> list[Anchor]:
    """Anchor many quotes in one text (results in the given order), folding the text once."""
    quotes = list(quotes)
    anchorer = Anchorer(text)
    found: list[Anchor | None] = [None] * len(quotes)
    for i in sorted(range(len(quotes)), key=lambda i: quotes[i].start):
        found[i] = anchorer.anchor(quotes[i])
    return found  # type: ignore[return-value]
