"""Find an annotation's quote again in a changed text, or say honestly that it is gone.

Placing a quote is a ranked decision. Candidate places come in tiers, each tried only when the
one before places nothing: the old position (when the quote and its context are still there),
every occurrence of the exact quote, every occurrence on a view with whitespace, quotes, dashes
and invisible characters folded, and fuzzy matches. Every candidate is scored by how alike the
quote is to the text there and, where the note carries them, how alike its prefix and suffix
are to the text around it. The best candidate wins when its context agrees (or no context was
given) and it is clearly better than the next; when two are about as good, the one nearest the
position hint wins, and with no hint to break the tie the note is orphaned as "ambiguous: N
places", never placed at random. An orphan is kept and reported, never deleted.

Offsets are code points (Python indices), half-open. Pure: stdlib and rapidfuzz only.
The design and its first test cases are in shared/research/standards.md, sections 3.4-3.5;
the ranking follows Hypothesis's matchQuote (src/annotator/anchoring/match-quote.js).
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

# -- how a place is scored and chosen ----------------------------------------------------------
# A place's score is the weighted mean of the quote's similarity and each given side's
# similarity (Levenshtein, 0..1). With both sides given the quote carries half of it: the exact
# quote where neither side agrees scores 0.5, a quote a quarter changed (the fuzzy floor) in its
# own whole context 0.875, so an edited sentence in its own paragraph outranks its old words
# elsewhere. Hypothesis weighs 50:20:20, about the same.
_W_QUOTE = 2.0
_W_SIDE = 1.0  # each of prefix and suffix
# Around an unrelated place of a 2 MB novel a 32-character context is 0.20 alike (median; 0.30
# at p95, 0.41 at p99.9, 0.59 the most in 20,000 pairs), so a mean of 0.5 over the given sides
# says the context agrees.
_CONTEXT_MIN = 0.5
# The best place must score at least this share of one character above the next to win
# outright: one character more of the quote or of a side agreeing is the unit of evidence (for
# a note with 32 characters each side, 0.0078 of the score); smaller differences come from how
# windows of different lengths align, not from the text, and are no ground to choose.
_CLEAR_CHARACTER = 0.9
# A producer may leave out the space beside the quote or cut its context a little short, so
# each side is compared with windows up to this many characters shorter or longer (9 compares).
_CONTEXT_SLACK = 4
# An exact quote at least as long as a context side is itself distinctive: when it stands in
# one place only, that place is accepted even where the context disagrees.
_DISTINCT_LEN = CONTEXT
# The position hint breaks a tie only when the nearest place is less than half as far from it
# as the next: edits shift every place near the old position alike, so the old position tells
# a near place from a far one, not two far ones apart (two lookalikes at the other end of the
# text are ambiguous however the old position lies).
_HINT_RATIO = 2
# Nor when the nearest is farther than this from it: then the quote is gone from where it was,
# and the copies far away are other uses of the same words (on the bench a deleted "Who knows"
# went 267,000 characters away to the nearest of three). Edits between two notes move a place
# by less: the bench's notes stand 2,000 characters apart, its cuts are at most 400.
_HINT_REACH = 4096

# -- finding candidates ------------------------------------------------------------------------
_QUOTE_MIN = 0.75  # fuzzy: at most a quarter of the quote may have changed (Levenshtein)
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
    """The text just before the quote; empty when not known (it then counts for nothing)."""
    suffix: str
    """The text just after the quote; empty when not known."""
    start: int
    end: int
    has_position: bool = True
    """False when the note came without a position: start and end then hint at nothing."""


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
    """How well the place fits the quote and its context (1.0: all as stored); 0.0 for an
    orphan."""
    reason: str = ""
    """Why an orphan was not placed: "not found", "only found out of context" or
    "ambiguous: N places"."""


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


def _window_similarity(side: str, windows: Iterable[str]) -> float:
    return max((Levenshtein.normalized_similarity(side, w) for w in windows), default=0.0)


def _prefix_fit(text: str, prefix: str, start: int) -> tuple[float, float]:
    """(similarity, share) of the stored prefix to the text before `start`.

    The share is how much of the prefix could be compared: 0 when none was stored or the place
    is at the very start, less than 1 when the text begins inside it (then the prefix's end is
    compared with what there is)."""
    n = len(prefix)
    if not n or not start:
        return 0.0, 0.0
    lo, hi = max(1, n - _CONTEXT_SLACK), n + _CONTEXT_SLACK
    if start >= n:
        return _window_similarity(
            prefix, (text[start - k : start] for k in range(lo, min(hi, start) + 1))
        ), 1.0
    there = text[:start]
    tails = range(max(1, start - _CONTEXT_SLACK), min(n, start + _CONTEXT_SLACK) + 1)
    return max(Levenshtein.normalized_similarity(prefix[-i:], there) for i in tails), start / n


def _suffix_fit(text: str, suffix: str, end: int) -> tuple[float, float]:
    """(similarity, share) of the stored suffix to the text after `end` (see _prefix_fit)."""
    n, room = len(suffix), len(text) - end
    if not n or room <= 0:
        return 0.0, 0.0
    lo, hi = max(1, n - _CONTEXT_SLACK), n + _CONTEXT_SLACK
    if room >= n:
        return _window_similarity(
            suffix, (text[end : end + k] for k in range(lo, min(hi, room) + 1))
        ), 1.0
    there = text[end:]
    heads = range(max(1, room - _CONTEXT_SLACK), min(n, room + _CONTEXT_SLACK) + 1)
    return max(Levenshtein.normalized_similarity(suffix[:i], there) for i in heads), room / n


@dataclass(frozen=True)
class _Place:
    """A candidate place, scored (offsets in the text it was found in)."""

    start: int
    end: int
    step: str
    quote: float
    """Similarity of the quote to text[start:end] (1.0 for exact and normalised)."""
    context: float | None
    """Mean similarity of the given sides, by share; None when no side could be compared."""
    score: float


def _score(
    text: str, prefix: str, suffix: str, start: int, end: int, step: str, quote: float = 1.0
) -> _Place:
    """A candidate place scored. A side cut off by the edge of the text counts for what could be
    compared: the part beyond the edge neither agrees (in the score, so a place with both sides
    seen outranks it) nor disagrees (in whether the context agrees, so it can still be
    accepted)."""
    p, p_share = _prefix_fit(text, prefix, start)
    s, s_share = _suffix_fit(text, suffix, end)
    seen = p_share + s_share
    context = (p * p_share + s * s_share) / seen if seen else None
    weight = _W_QUOTE + _W_SIDE * (bool(prefix) + bool(suffix))
    score = (_W_QUOTE * quote + _W_SIDE * (p * p_share + s * s_share)) / weight
    return _Place(start, end, step, quote, context, score)


def _context_equal(text: str, prefix: str, suffix: str, start: int, end: int) -> bool:
    """True when each stored context string is exactly the text beside text[start:end]."""
    if prefix and text[max(0, start - len(prefix)) : start] != prefix:
        return False
    return not suffix or text[end : end + len(suffix)] == suffix


def _occurrences(
    text: str, needle: str, limit: int, lo: int = 0, hi: int | None = None
) -> list[int]:
    found: list[int] = []
    hi = len(text) if hi is None else hi
    at = text.find(needle, lo, hi)
    while at >= 0 and len(found) < limit:
        found.append(at)
        at = text.find(needle, at + 1, hi)
    return found


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


def _seeds(exact: str) -> list[tuple[int, str]]:
    """Pieces of the quote to search for exactly, with their offsets in it.

    A quote of up to 2 * _SEED characters is cut into one more piece than the edits it may have
    (a quarter of its length), so at least one piece survives intact (in a long text such short
    pieces are mostly too common to count, and the context's ends locate it instead); a longer
    one gives up to _QUOTE_SEEDS pieces of _SEED characters spread over it."""
    n = len(exact)
    seeds: list[tuple[int, str]] = []
    if n <= 2 * _SEED:
        count = int(n * (1 - _QUOTE_MIN)) + 1
        cuts = [round(i * n / count) for i in range(count + 1)]
        seeds += [(a, exact[a:b]) for a, b in zip(cuts, cuts[1:], strict=False) if b > a]
    if n > _SEED:
        count = min(_QUOTE_SEEDS, -(-n // _SEED))
        offsets = sorted({round(i * (n - _SEED) / (count - 1)) for i in range(count)})
        seeds += [(k, exact[k : k + _SEED]) for k in offsets]
    return seeds


def _candidates(text: str, exact: str, prefix: str, suffix: str) -> list[int]:
    """Likely starts of the quote: where pieces of it, or the ends of its context, stand."""
    n = len(exact)
    starts: set[int] = set()
    for k, seed in _seeds(exact):
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
    """Move each end of a rough match to where the whole quote is most similar (Levenshtein);
    between equally similar spans, the one nearest the quote's length."""
    reach = max(4, min(16, len(exact) // 8))
    n = len(exact)

    def key(s: int, e: int) -> tuple[float, int]:
        return Levenshtein.normalized_similarity(exact, text[s:e]), -abs(e - s - n)

    best = key(start, end)
    for _ in range(3):
        before = (start, end)
        for e in range(max(start + 1, end - reach), min(len(text), end + reach) + 1):
            found = key(start, e)
            if found > best:
                best, end = found, e
        for s in range(max(0, start - reach), min(end - 1, start + reach) + 1):
            found = key(s, end)
            if found > best:
                best, start = found, s
        if (start, end) == before:
            break
    return best[0], start, end


def _cuts_word(before: str, after: str) -> bool:
    """True when the border between `before` and `after` falls inside a word."""
    return bool(before and after) and before[-1].isalnum() and after[0].isalnum()


def _whole_words(
    text: str, start: int, end: int, cut_start: bool, cut_end: bool
) -> tuple[int, int]:
    """The span widened to whole words at each end where the quote itself did not cut a word:
    a careful reader compares "promised you more" with "give you more", not "mised you more"
    (a deleted line of the bench found its lookalike that way)."""
    if not cut_start:
        while 0 < start < end and text[start - 1].isalnum() and text[start].isalnum():
            start -= 1
    if not cut_end:
        while start < end < len(text) and text[end - 1].isalnum() and text[end].isalnum():
            end += 1
    return start, end


def _fuzzy(text: str, exact: str, prefix: str, suffix: str) -> list[_Place]:
    """Places where the quote is similar enough, one per stretch of text, scored."""
    n = len(exact)
    if n < _FUZZY_MIN_LEN:
        return []
    slack = max(4, n // 4)
    windows: list[list[int]] = []  # candidate starts, grouped when less than a quote apart
    for cand in _candidates(text, exact, prefix, suffix):
        if windows and cand - windows[-1][0] <= n:
            windows[-1].append(cand)
        else:
            windows.append([cand])
    places: list[_Place] = []
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
        s, e = _whole_words(text, s, e, _cuts_word(prefix, exact), _cuts_word(exact, suffix))
        quote_sim = Levenshtein.normalized_similarity(exact, text[s:e])
        if quote_sim >= _QUOTE_MIN:
            places.append(_score(text, prefix, suffix, s, e, "fuzzy", quote_sim))
    return places


# -- the decision -----------------------------------------------------------------------------


def _acceptable(place: _Place, length: int, alone: bool) -> bool:
    """The quote is alike enough and the context agrees, or nothing speaks against the place."""
    if place.quote < _QUOTE_MIN:
        return False
    if place.context is None or place.context >= _CONTEXT_MIN:
        return True
    return alone and place.quote == 1.0 and length >= _DISTINCT_LEN


def _one_character(length: int, prefix: str, suffix: str) -> float:
    """The least a character more agreeing adds to a place's score, for this note."""
    weight = _W_QUOTE + _W_SIDE * (bool(prefix) + bool(suffix))
    parts = [_W_QUOTE / length] + [_W_SIDE / len(side) for side in (prefix, suffix) if side]
    return min(parts) / weight


def _decide(
    places: list[_Place], length: int, hint: int | None, margin: float
) -> tuple[_Place | None, str, bool]:
    """The place that wins, or None and why not; and whether the best had rivals about as good
    (then the hint decided, or nothing could)."""
    if not places:
        return None, "not found", False
    ranked = sorted(places, key=lambda p: (-p.score, p.start))
    best = ranked[0]
    alone = sum(p.quote == 1.0 for p in places) == 1
    if not _acceptable(best, length, alone):
        return None, "only found out of context", False
    close = [p for p in ranked if best.score - p.score < margin]
    if len(close) == 1:
        return best, "", False
    nearest = None if hint is None else _nearest(close, hint)
    if nearest is not None and _acceptable(nearest, length, alone):
        return nearest, "", True
    return None, f"ambiguous: {len(close)} places", True


def _nearest(places: list[_Place], hint: int) -> _Place | None:
    """The place nearest `hint`, when it is near and less than 1/_HINT_RATIO as far as the
    next."""
    by_distance = sorted(places, key=lambda p: abs(p.start - hint))
    first, second = by_distance[0], by_distance[1]
    distance = abs(first.start - hint)
    if distance <= _HINT_REACH and _HINT_RATIO * distance < abs(second.start - hint):
        return first
    return None


def _overlaps(place: _Place, others: list[_Place], length: int) -> bool:
    return any(abs(place.start - o.start) <= length / 2 for o in others)


# -- the steps together -----------------------------------------------------------------------


class Anchorer:
    """Anchors quotes in one text, folding it at most once and trying first where the last
    quote moved to."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._folded: FoldedText | None = None
        self._shift = 0  # how far the last note placed moved

    @property
    def folded(self) -> FoldedText:
        """The folded view of the text, built when first needed."""
        if self._folded is None:
            self._folded = _folded_view(self.text)
        return self._folded

    def anchor(self, quote: Quote) -> Anchor:
        """Where `quote` stands in the text now."""
        found = self._find(quote)
        if found.state != "orphaned" and quote.has_position:
            shift = found.start - quote.start
            # A note placed by its context says how far the text moved; one placed by its words
            # alone says so only near the move already known: far away it is more likely a
            # deleted quote's words found elsewhere, which would mislead the next note.
            if quote.prefix or quote.suffix or abs(shift - self._shift) <= _HINT_REACH:
                self._shift = shift
        return found

    def anchor_within(self, quote: Quote, start: int, end: int) -> Anchor:
        """Where `quote` stands inside text[start:end] (exactly or on the folded view), for a
        person who pointed at that stretch: their pointing stands for the context, so one place
        there is accepted whatever surrounds it; among several, the context decides as usual."""
        text, exact = self.text, quote.exact
        if not exact:
            return self._orphan(quote, "not found")
        margin = _CLEAR_CHARACTER * _one_character(len(exact), quote.prefix, quote.suffix)
        places = [
            _score(text, quote.prefix, quote.suffix, at, at + len(exact), "exact")
            for at in _occurrences(text, exact, _MAX_HITS, start, end)
            if at + len(exact) <= end
        ]
        if not places:
            f_exact, f_prefix, f_suffix = _fold_quote(quote)
            folded = self.folded
            lo, hi = folded.to_folded(start), folded.to_folded(end)
            for at in (
                _occurrences(folded.text, f_exact, _MAX_HITS, lo, hi) if f_exact.strip() else []
            ):
                if at + len(f_exact) <= hi:
                    place = _score(
                        folded.text, f_prefix, f_suffix, at, at + len(f_exact), "normalised"
                    )
                    places.append(self._unfold(place))
        if len(places) == 1:
            return self._placed(quote, places[0], "")
        return self._placed(quote, *_decide(places, len(exact), None, margin)[:2])

    def _find(self, quote: Quote) -> Anchor:
        text, exact = self.text, quote.exact
        if not exact:
            return self._orphan(quote, "not found")
        if (
            quote.has_position
            and 0 <= quote.start <= quote.end <= len(text)
            and text[quote.start : quote.end] == exact
            and _context_equal(text, quote.prefix, quote.suffix, quote.start, quote.end)
        ):
            return Anchor("ok", "position", quote.start, quote.end)
        # The hint is where the old position is now, as far as the notes before this one tell:
        # edits shift every place after them alike (the bench's 207 cuts shift its second half
        # by 40,000 characters, which made a stale offset pick the wrong one of two copies).
        hint = quote.start + self._shift if quote.has_position else None
        if hint is not None and (quote.prefix or quote.suffix):
            at = self._near_exact(quote, hint)
            if at is not None:
                return Anchor("moved", "exact", at, at + len(exact))

        margin = _CLEAR_CHARACTER * _one_character(len(exact), quote.prefix, quote.suffix)
        # Exact occurrences, scored in the text itself. A clear winner is final; a near tie
        # waits for the folded view, which may hold an equally good place nearer the hint.
        places = [
            _score(text, quote.prefix, quote.suffix, at, at + len(exact), "exact")
            for at in _occurrences(text, exact, _MAX_HITS)
        ]
        best, why, tied = _decide(places, len(exact), hint, margin)
        if best is not None and not tied:
            return self._placed(quote, best, why)

        # The same on the folded view: offsets found there are mapped back to the text.
        f_exact, f_prefix, f_suffix = _fold_quote(quote)
        if not f_exact.strip():
            return self._placed(quote, best, why)
        folded = self.folded
        starts = {p.start for p in places}
        for at in _occurrences(folded.text, f_exact, _MAX_HITS):
            place = self._unfold(
                _score(folded.text, f_prefix, f_suffix, at, at + len(f_exact), "normalised")
            )
            if place.start not in starts:
                places.append(place)
        best, why, _ = _decide(places, len(exact), hint, margin)
        if best is not None or (places and max(p.score for p in places) >= 1.0):
            return self._placed(quote, best, why)  # no fuzzy place can beat a perfect one

        # Fuzzy matches on the folded view, where no better place is already known.
        for place in _fuzzy(folded.text, f_exact, f_prefix, f_suffix):
            place = self._unfold(place)
            if not _overlaps(place, places, len(exact)):
                places.append(place)
        return self._placed(quote, *_decide(places, len(exact), hint, margin)[:2])

    def _unfold(self, place: _Place) -> _Place:
        """The place with its folded offsets mapped to the text's."""
        folded = self.folded
        start = folded.to_original_start(place.start)
        end = folded.to_original_end(place.end) if place.end > place.start else start
        return _Place(start, end, place.step, place.quote, place.context, place.score)

    def _placed(self, quote: Quote, place: _Place | None, why: str) -> Anchor:
        if place is None:
            return self._orphan(quote, why)
        if quote.has_position and (place.start, place.end) == (quote.start, quote.end):
            if self.text[place.start : place.end] == quote.exact:
                return Anchor("ok", "position", place.start, place.end, round(place.score, 4))
        return Anchor("moved", place.step, place.start, place.end, round(place.score, 4))

    @staticmethod
    def _orphan(quote: Quote, why: str) -> Anchor:
        return Anchor("orphaned", "none", quote.start, quote.end, 0.0, why)

    def _near_exact(self, quote: Quote, hint: int) -> int | None:
        """The exact quote with its whole context near `hint`, when no other occurrence is less
        than _HINT_RATIO times as far from it; else None (then the full search decides).

        Gives what the ranked decision would, without scanning the whole text."""
        text, exact = self.text, quote.exact
        n = len(exact)
        lo, hi = max(0, hint - _NEAR), hint + n + _NEAR
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
        # Another occurrence this near could tie on context and leave the decision open.
        reach = _HINT_RATIO * abs(at - hint)
        other = text.find(exact, max(0, hint - reach), hint + reach + n)
        while other >= 0:
            if other != at:
                return None
            other = text.find(exact, other + 1, hint + reach + n)
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


def anchor_within(text: str, quote: Quote, start: int, end: int) -> Anchor:
    """Where `quote` stands inside text[start:end], exactly or on the folded view."""
    return Anchorer(text).anchor_within(quote, start, end)
