"""Reviewers compared: share of agreement, Cohen's kappa, Krippendorff's alpha, confusion tables.

Pure functions over ratings (unit, coder, value); no statistics library is needed for three
short formulas on nominal data, and each is checked against values worked out by hand
(tests/test_agreement.py). For verdicts, a unit is a claim, a coder a reviewer (by their stable
id) and the value that reviewer's latest verdict on the claim: their own earlier verdicts are
superseded, not a second opinion.

- Share of agreement: over claims judged by two or more reviewers, the share of reviewer pairs
  (within a claim) giving the same verdict. With two reviewers: the share of their common
  claims on which they agree.
- Cohen's kappa, for each pair of reviewers over the claims both judged:
  (p_o - p_e) / (1 - p_e), p_o the share they agree on, p_e = sum over verdicts of the product
  of each one's share of that verdict. Undefined (None) when p_e = 1 (both always gave the one
  same verdict).
- Krippendorff's alpha (nominal), for any number of reviewers and missing verdicts: from the
  coincidence matrix o_ck (each claim with m >= 2 verdicts adds, for each ordered pair of its
  verdicts from different reviewers, 1 / (m - 1)), n_c its margins and n their sum:
  alpha = 1 - (n - 1) * sum_{c != k} o_ck / sum_{c != k} n_c n_k. Undefined when every
  pairable verdict is the same.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations

from store.records import Review


@dataclass(frozen=True)
class Rating:
    """One coder's value for one unit (a reviewer's latest verdict on a claim)."""

    unit: str
    coder: str
    value: str


def by_unit(ratings: Iterable[Rating]) -> dict[str, dict[str, str]]:
    """unit -> coder -> value (a later rating of the same unit by the same coder wins)."""
    found: dict[str, dict[str, str]] = defaultdict(dict)
    for rating in ratings:
        found[rating.unit][rating.coder] = rating.value
    return dict(found)


def percent_agreement(units: dict[str, dict[str, str]]) -> float | None:
    """Agreeing coder pairs over all coder pairs, within units coded two or more times."""
    agree = pairs = 0
    for values in units.values():
        for a, b in combinations(values.values(), 2):
            pairs += 1
            agree += a == b
    return agree / pairs if pairs else None


def cohens_kappa(first: list[str], second: list[str]) -> float | None:
    """Cohen's kappa of two coders' values on the same units, in the same order."""
    if len(first) != len(second):
        raise ValueError("two coders' values must pair up")
    n = len(first)
    if n == 0:
        return None
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    counts_a, counts_b = Counter(first), Counter(second)
    expected = sum(counts_a[c] * counts_b[c] for c in counts_a) / (n * n)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


def krippendorff_alpha(units: dict[str, dict[str, str]]) -> float | None:
    """Krippendorff's alpha for nominal values; units with fewer than two values are left out."""
    return weighted_alpha((list(values.values()), 1.0) for values in units.values())


def weighted_alpha(units: Iterable[tuple[list[str], float]]) -> float | None:
    """Krippendorff's alpha (nominal) over units given as (values, weight): a run of w identical
    units (w characters coded alike, for spans) counts as w units."""
    coincidence: dict[tuple[str, str], float] = defaultdict(float)
    for found, weight in units:
        m = len(found)
        if m < 2 or weight <= 0:
            continue
        for i, c in enumerate(found):
            for j, k in enumerate(found):
                if i != j:
                    coincidence[(c, k)] += weight / (m - 1)
    margins: dict[str, float] = defaultdict(float)
    for (c, _), count in coincidence.items():
        margins[c] += count
    n = sum(margins.values())
    expected = n * n - sum(v * v for v in margins.values())
    if n < 2 or expected <= 0:
        return None
    disagree = sum(count for (c, k), count in coincidence.items() if c != k)
    return 1 - (n - 1) * disagree / expected


@dataclass(frozen=True)
class PairAgreement:
    """Two coders over the units both coded."""

    first: str
    second: str
    units: int
    agreement: float | None
    kappa: float | None
    confusion: dict[str, dict[str, int]]
    """first's value -> second's value -> how many units."""

    def to_json(self) -> dict:
        return {
            "first": self.first,
            "second": self.second,
            "units": self.units,
            "agreement": self.agreement,
            "kappa": self.kappa,
            "confusion": self.confusion,
        }


@dataclass(frozen=True)
class Agreement:
    """How far coders agree, over the units two or more of them coded."""

    coders: list[str]
    units_coded: int
    """Units coded by anyone."""
    units_shared: int
    """Units coded by two or more."""
    agreement: float | None
    alpha: float | None
    pairs: list[PairAgreement]
    disagreements: dict[str, dict[str, str]] = field(default_factory=dict)
    """Units whose values differ: unit -> coder -> value."""

    @property
    def kappa(self) -> float | None:
        """Cohen's kappa when exactly two coders shared units."""
        shared = [p for p in self.pairs if p.units]
        return shared[0].kappa if len(shared) == 1 else None

    def to_json(self) -> dict:
        return {
            "coders": self.coders,
            "units_coded": self.units_coded,
            "units_shared": self.units_shared,
            "agreement": self.agreement,
            "kappa": self.kappa,
            "alpha": self.alpha,
            "pairs": [p.to_json() for p in self.pairs],
            "disagreements": self.disagreements,
        }


def compare_coders(ratings: Iterable[Rating]) -> Agreement:
    """Agreement of every coder with every other, and overall."""
    units = by_unit(ratings)
    shared = {unit: values for unit, values in units.items() if len(values) >= 2}
    coders = sorted({coder for values in units.values() for coder in values})
    pairs = []
    for a, b in combinations(coders, 2):
        both = sorted(u for u, values in shared.items() if a in values and b in values)
        first = [shared[u][a] for u in both]
        second = [shared[u][b] for u in both]
        confusion: dict[str, dict[str, int]] = defaultdict(dict)
        for x, y in zip(first, second, strict=True):
            confusion[x][y] = confusion[x].get(y, 0) + 1
        pairs.append(
            PairAgreement(
                first=a,
                second=b,
                units=len(both),
                agreement=(sum(x == y for x, y in zip(first, second, strict=True)) / len(both))
                if both
                else None,
                kappa=cohens_kappa(first, second),
                confusion={k: dict(v) for k, v in confusion.items()},
            )
        )
    return Agreement(
        coders=coders,
        units_coded=len(units),
        units_shared=len(shared),
        agreement=percent_agreement(shared),
        alpha=krippendorff_alpha(shared),
        pairs=pairs,
        disagreements={
            unit: dict(values)
            for unit, values in sorted(shared.items())
            if len(set(values.values())) > 1
        },
    )


def verdict_ratings(reviews: Iterable[Review], live_claims: set[str]) -> list[Rating]:
    """Each reviewer's latest verdict on each live claim (reviews come oldest first)."""
    return [
        Rating(unit=r.claim_id, coder=r.reviewer_id, value=r.verdict)
        for r in reviews
        if r.claim_id in live_claims
    ]


# -- coders tagging the same documents -------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """A coder's tag on text[start:end] of a document."""

    document_id: str
    coder: str
    tag: str
    start: int
    end: int


@dataclass(frozen=True)
class TagAgreement:
    """How far coders agree on one tag, character by character and segment by segment."""

    tag: str
    coders: list[str]
    documents: int
    """Documents coded by two or more coders in which someone used the tag (those compared)."""
    characters: int
    """Characters of those documents (each one a unit for every coder of its document)."""
    agreement: float | None
    """Share of agreeing coder pairs over characters (tagged by both, or by neither)."""
    alpha: float | None
    segments: int
    segments_matched: int
    """Segments overlapping a segment of the same tag by another coder of the document."""
    pairs: list[PairAgreement]
    """Per pair of coders: kappa over characters; confusion in characters ("yes"/"no")."""

    @property
    def kappa(self) -> float | None:
        shared = [p for p in self.pairs if p.units]
        return shared[0].kappa if len(shared) == 1 else None

    def to_json(self) -> dict:
        return {
            "tag": self.tag,
            "coders": self.coders,
            "documents": self.documents,
            "characters": self.characters,
            "agreement": self.agreement,
            "kappa": self.kappa,
            "alpha": self.alpha,
            "segments": self.segments,
            "segments_matched": self.segments_matched,
            "pairs": [p.to_json() for p in self.pairs],
        }


def _runs(length: int, marked: dict[str, list[tuple[int, int]]]) -> list[tuple[frozenset, int]]:
    """The document cut where any coder's spans begin or end: (coders marking it, characters)."""
    points = {0, length}
    for spans in marked.values():
        for start, end in spans:
            points.update((max(0, min(start, length)), max(0, min(end, length))))
    edges = sorted(points)
    runs = []
    for lo, hi in zip(edges, edges[1:], strict=False):
        who = frozenset(
            c for c, spans in marked.items() if any(s <= lo and hi <= e for s, e in spans)
        )
        runs.append((who, hi - lo))
    return runs


def compare_taggers(
    spans: Iterable[Span], lengths: dict[str, int], coders_of: dict[str, set[str]]
) -> list[TagAgreement]:
    """Agreement per tag of the coders of each document coded by two or more of them.

    Args:
        lengths: document id -> characters of its text.
        coders_of: document id -> the coders who annotated it at all (a coder of the document
            who did not use a tag there says "not this tag" on every character of it).
    """
    shared_docs = {d for d, coders in coders_of.items() if len(coders) >= 2 and d in lengths}
    by_tag: dict[str, dict[str, dict[str, list[tuple[int, int]]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    for span in spans:
        if span.document_id in shared_docs and span.coder in coders_of[span.document_id]:
            by_tag[span.tag][span.document_id][span.coder].append((span.start, span.end))
    found = []
    for tag in sorted(by_tag):
        docs = by_tag[tag]
        units: list[tuple[list[str], float]] = []
        agree = pair_chars = 0.0
        pair_counts: dict[tuple[str, str], Counter[tuple[str, str]]] = defaultdict(Counter)
        segments = matched = characters = 0
        coders: set[str] = set()
        # Documents where the tag was used; where no coder used it everyone agreed on "no",
        # which says nothing about this tag, so they are left out.
        for doc_id, marked in docs.items():
            doc_coders = sorted(coders_of[doc_id])
            coders.update(doc_coders)
            characters += lengths[doc_id]
            for who, weight in _runs(lengths[doc_id], marked):
                values = ["yes" if c in who else "no" for c in doc_coders]
                units.append((values, float(weight)))
                for (a, va), (b, vb) in combinations(zip(doc_coders, values, strict=True), 2):
                    pair_chars += weight
                    agree += weight * (va == vb)
                    pair_counts[(a, b)][(va, vb)] += weight
            for coder, own in marked.items():
                others = [s for c, spans in marked.items() if c != coder for s in spans]
                for start, end in own:
                    segments += 1
                    matched += any(s < end and start < e for s, e in others)
        pairs = []
        for (a, b), counts in sorted(pair_counts.items()):
            n = sum(counts.values())
            observed = (counts[("yes", "yes")] + counts[("no", "no")]) / n if n else None
            a_yes = (counts[("yes", "yes")] + counts[("yes", "no")]) / n if n else 0
            b_yes = (counts[("yes", "yes")] + counts[("no", "yes")]) / n if n else 0
            expected = a_yes * b_yes + (1 - a_yes) * (1 - b_yes)
            kappa = (
                None
                if observed is None or expected == 1
                else (observed - expected) / (1 - expected)
            )
            confusion: dict[str, dict[str, int]] = defaultdict(dict)
            for (va, vb), count in counts.items():
                confusion[va][vb] = int(count)
            pairs.append(
                PairAgreement(
                    a, b, int(n), observed, kappa, {k: dict(v) for k, v in confusion.items()}
                )
            )
        found.append(
            TagAgreement(
                tag=tag,
                coders=sorted(coders),
                documents=len(docs),
                characters=characters,
                agreement=agree / pair_chars if pair_chars else None,
                alpha=weighted_alpha(units),
                segments=segments,
                segments_matched=matched,
                pairs=pairs,
            )
        )
    return found
