"""The merge rule as a table: each row is one situation two people's libraries can be in, and
what merging their version of a record into mine must do (store.exchange.rule.decide)."""

from __future__ import annotations

import pytest

from store.exchange.rule import Outcome, decide

ANA, BEN = "ana", "ben"
T1, T2, T3 = "2026-01-01T10:00:00.000Z", "2026-01-02T10:00:00.000Z", "2026-01-03T10:00:00.000Z"

# (why, mine, theirs, previous, known, base, local author, their author, my time, their time,
#  outcome)
# fmt: off
CASES = [
    ("the same version", "v1", "v1", None, set(), None, ANA, ANA, T1, T1, Outcome.UNCHANGED),
    ("the same version from another author is still the same",
     "v1", "v1", None, set(), None, ANA, BEN, T1, T2, Outcome.UNCHANGED),
    ("an old copy: theirs is a version seen here before",
     "v2", "v1", None, {"v1", "v2"}, ("v2", "v1"), ANA, ANA, T2, T1, Outcome.KEPT_NEWER),
    ("another author's version never overwrites",
     "v1", "w1", None, set(), None, ANA, BEN, T1, T2, Outcome.CONFLICT_AUTHOR),
    ("derived from exactly what I hold",
     "v1", "v2", "v1", {"v1"}, ("v1", None), ANA, ANA, T2, T1, Outcome.UPDATED),
    ("derived from a version I have moved on from",
     "v3", "v2", "v1", {"v1", "v3"}, ("v3", "v1"), ANA, ANA, T1, T2, Outcome.CONFLICT_BOTH),
    ("never exchanged: theirs is newer",
     "v1", "v2", None, set(), None, ANA, ANA, T1, T2, Outcome.UPDATED),
    ("never exchanged: mine is newer",
     "v2", "v1", None, set(), None, ANA, ANA, T2, T1, Outcome.KEPT_NEWER),
    ("never exchanged: same time, different versions",
     "v1", "v2", None, set(), None, ANA, ANA, T1, T1, Outcome.CONFLICT_SAME_TIME),
    ("times in other zones are compared as instants",
     "v1", "v2", None, set(), None, ANA, ANA,
     "2026-01-01T10:00:00.000Z", "2026-01-01T11:30:00+02:00", Outcome.KEPT_NEWER),
    ("unedited here since the exchange: theirs is newer",
     "v1", "v2", None, {"v1"}, ("v1", None), ANA, ANA, T1, T2, Outcome.UPDATED),
    ("unedited here since the exchange: theirs is older",
     "v1", "v0", None, {"v1"}, ("v1", None), ANA, ANA, T2, T1, Outcome.KEPT_NEWER),
    ("edited here since the exchange, and theirs changed too",
     "v3", "v2", None, {"v1"}, ("v1", None), ANA, ANA, T3, T2, Outcome.CONFLICT_BOTH),
]
# fmt: on


@pytest.mark.parametrize(
    ("mine", "theirs", "previous", "known", "base", "local_author", "their_author",
     "local_modified", "their_modified", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)  # fmt: skip
def test_the_merge_rule(
    mine, theirs, previous, known, base, local_author, their_author, local_modified,
    their_modified, expected,
) -> None:  # fmt: skip
    found = decide(
        mine=mine,
        theirs=theirs,
        previous=previous,
        known=known,
        base=base,
        local_author=local_author,
        their_author=their_author,
        local_modified=local_modified,
        their_modified=their_modified,
    )
    assert found is expected


def test_only_the_conflict_outcomes_are_conflicts() -> None:
    assert {o for o in Outcome if o.is_conflict} == {
        Outcome.CONFLICT_AUTHOR,
        Outcome.CONFLICT_BOTH,
        Outcome.CONFLICT_SAME_TIME,
    }
