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
    coincidence: dict[tuple[str, str], float] = defaultdict(float)
    for values in units.values():
        found = list(values.values())
        m = len(found)
        if m < 2:
            continue
        for i, c in enumerate(found):
            for j, k in enumerate(found):
                if i != j:
                    coincidence[(c, k)] += 1 / (m - 1)
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
