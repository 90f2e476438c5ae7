"""Reviewers compared: figures equal the values worked out by hand on small fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from store.agreement import (
    Rating,
    Span,
    by_unit,
    cohens_kappa,
    compare_coders,
    compare_taggers,
    krippendorff_alpha,
    percent_agreement,
)
from store.profile import save_profile
from store.records import Author
from tui.cli import cli
from tui.service import Service

S, U, P = "supported", "unsupported", "partly-supported"

# Two reviewers, ten claims. Agree on 8: p_o = 0.8. A: 5 S, 3 U, 2 P; B: 4 S, 5 U, 1 P, so
# p_e = (5*4 + 3*5 + 2*1) / 100 = 0.37 and kappa = (0.8 - 0.37) / 0.63 = 0.682540.
# Alpha: coincidences o_SS 8, o_UU 6, o_PP 2, o_SU = o_US = 1, o_PU = o_UP = 1; margins
# n_S 9, n_U 8, n_P 3, n 20; alpha = 1 - 19 * 4 / (400 - 81 - 64 - 9) = 1 - 76/246 = 0.691057.
TWO = [
    (S, S),
    (S, S),
    (S, U),
    (U, U),
    (U, U),
    (P, P),
    (S, S),
    (P, U),
    (U, U),
    (S, S),
]
# Three reviewers, five claims, some verdicts missing (None); claim 5 has one verdict only and
# is left out. Pairs: 3 + 3 + 1 + 3 = 10, agreeing 3 + 1 + 1 + 1 = 6: 0.6. Coincidences (each
# ordered pair within a claim of m verdicts adds 1/(m-1)): o_SS 4, o_SU = o_US 1, o_UU 2, o_PP 1,
# o_PU = o_UP 1; n_S 5, n_U 4, n_P 2, n 11; alpha = 1 - 10 * 4 / (121 - 25 - 16 - 4) = 9/19.
# A and B share claims 1-4: A S S U P, B S S U U: p_o 0.75, p_e (2*2 + 1*2) / 16 = 0.375,
# kappa = 0.375 / 0.625 = 0.6.
THREE = [
    (S, S, S),
    (S, S, U),
    (U, U, None),
    (P, U, P),
    (S, None, None),
]


def _ratings(rows: list[tuple], coders: str) -> list[Rating]:
    return [
        Rating(f"c{n}", coder, value)
        for n, row in enumerate(rows, 1)
        for coder, value in zip(coders, row, strict=True)
        if value is not None
    ]


def test_two_reviewers_match_the_hand_worked_figures() -> None:
    first, second = [a for a, _ in TWO], [b for _, b in TWO]
    assert cohens_kappa(first, second) == pytest.approx(0.43 / 0.63)
    units = by_unit(_ratings(TWO, "AB"))
    assert percent_agreement(units) == pytest.approx(0.8)
    assert krippendorff_alpha(units) == pytest.approx(1 - 76 / 246)
    found = compare_coders(_ratings(TWO, "AB"))
    assert found.kappa == pytest.approx(0.682540, abs=1e-6)
    assert found.alpha == pytest.approx(0.691057, abs=1e-6)
    [pair] = found.pairs
    assert pair.confusion == {S: {S: 4, U: 1}, U: {U: 3}, P: {P: 1, U: 1}}
    assert sorted(found.disagreements) == ["c3", "c8"]


def test_three_reviewers_with_missing_verdicts_match_the_hand_worked_figures() -> None:
    found = compare_coders(_ratings(THREE, "ABC"))
    assert (found.units_coded, found.units_shared) == (5, 4)
    assert found.agreement == pytest.approx(0.6)
    assert found.alpha == pytest.approx(9 / 19)
    assert found.kappa is None  # three pairs of reviewers: no single kappa
    ab = next(p for p in found.pairs if (p.first, p.second) == ("A", "B"))
    assert (ab.units, ab.agreement, ab.kappa) == (4, 0.75, pytest.approx(0.6))
    assert sorted(found.disagreements) == ["c2", "c4"]
    assert found.disagreements["c4"] == {"A": P, "B": U, "C": P}


def test_figures_that_cannot_be_computed_say_so() -> None:
    assert cohens_kappa([S, S], [S, S]) is None  # p_e = 1
    assert krippendorff_alpha(by_unit(_ratings([(S, S), (S, S)], "AB"))) is None
    assert compare_coders([]).agreement is None
    assert compare_coders(_ratings([(S, None)], "AB")).units_shared == 0


def _reviewers(tmp_path: Path, count: int) -> list[Service]:
    services = []
    for n in range(count):
        config = tmp_path / f"config-{n}"
        save_profile(config, Author(f"{n + 1}" * 8 + "-0000-4000-8000-000000000000", "ABC"[n]))
        services.append(Service(tmp_path / "library.margin", config))
    return services


def _claims(service: Service, tmp_path: Path, count: int) -> list[str]:
    text = "\n\n".join(f"Claim number {n} says something checkable." for n in range(count))
    source = tmp_path / "claims.txt"
    source.write_text(text, encoding="utf-8")
    [result] = list(service.import_files([source]))
    ids = []
    for n in range(count):
        ids.append(
            service.annotate_quote(result.document_id, f"Claim number {n} says", role="claim").id
        )
    return ids


def _run(service: Service, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--library", str(service.library_path), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_margin_agreement_for_two_reviewers_through_the_service(tmp_path: Path) -> None:
    a, b = _reviewers(tmp_path, 2)
    claims = _claims(a, tmp_path, len(TWO) + 1)
    a.review(claims[0], U)  # changed their mind: only the latest verdict counts
    for claim_id, (first, second) in zip(claims, TWO, strict=False):
        a.review(claim_id, first)
        b.review(claim_id, second)
    gone = claims[-1]  # a deleted claim's verdicts are left out
    a.review(gone, S)
    b.review(gone, U)
    a.delete_annotation(gone)

    report = a.agreement()
    assert report.agreement.kappa == pytest.approx(0.43 / 0.63)
    assert report.agreement.alpha == pytest.approx(1 - 76 / 246)
    data = json.loads(_run(a, "agreement", "--json"))
    assert data["kappa"] == pytest.approx(0.682540, abs=1e-6)
    assert data["agreement"] == pytest.approx(0.8) and data["units_shared"] == 10
    assert sorted(d["claim_id"] for d in data["disagreements"]) == sorted([claims[2], claims[7]])
    assert data["disagreements"][0]["document_title"] and data["names"][a.author.id] == "A"
    shown = _run(a, "agreement")
    assert "agreement 80.0% of reviewer pairs; Krippendorff's alpha 0.691" in shown
    assert "A / B: 10 claims, agree 80.0%, Cohen's kappa 0.683" in shown
    assert "2 claims with differing verdicts" in shown and claims[2][:8] in shown


def test_margin_agreement_for_three_reviewers(tmp_path: Path) -> None:
    services = _reviewers(tmp_path, 3)
    claims = _claims(services[0], tmp_path, len(THREE))
    for claim_id, row in zip(claims, THREE, strict=True):
        for service, verdict in zip(services, row, strict=True):
            if verdict is not None:
                service.review(claim_id, verdict)
    data = json.loads(_run(services[0], "agreement", "--json"))
    assert data["alpha"] == pytest.approx(9 / 19) and data["agreement"] == pytest.approx(0.6)
    assert data["kappa"] is None and len(data["pairs"]) == 3
    assert "Krippendorff's alpha 0.474" in _run(services[0], "agreement")


def test_margin_agreement_with_one_reviewer_says_there_is_nothing_to_compare(
    tmp_path: Path,
) -> None:
    [a] = _reviewers(tmp_path, 1)
    [claim] = _claims(a, tmp_path, 1)
    a.review(claim, S)
    assert "no claim has verdicts from two reviewers yet" in _run(a, "agreement")
    assert json.loads(_run(a, "agreement", "--json"))["alpha"] is None


# Coders tagging: one document of 100 characters. A tags #t on 0-20 and 50-60, B on 10-30.
# Characters: both 10, A only 20, B only 10, neither 60: p_o 0.7, p_e 0.3*0.2 + 0.7*0.8 = 0.62,
# kappa 0.08 / 0.38 = 0.210526. Alpha: o_11 20, o_00 120, o_10 = o_01 30; n_1 50, n_0 150,
# n 200: 1 - 199 * 60 / (2 * 50 * 150) = 0.204. Segments: A 0-20 and B 10-30 overlap, A 50-60
# does not: 2 of 3.
def test_two_coders_tag_agreement_matches_the_hand_worked_figures() -> None:
    spans = [
        Span("d", "A", "t", 0, 20),
        Span("d", "A", "t", 50, 60),
        Span("d", "B", "t", 10, 30),
    ]
    [found] = compare_taggers(spans, {"d": 100}, {"d": {"A", "B"}})
    assert found.agreement == pytest.approx(0.7)
    assert found.kappa == pytest.approx(0.08 / 0.38)
    assert found.alpha == pytest.approx(0.204)
    assert (found.segments, found.segments_matched) == (3, 2)
    assert found.pairs[0].confusion == {"yes": {"yes": 10, "no": 20}, "no": {"yes": 10, "no": 60}}


# Three coders of a 10-character document; C used only another tag. #t: A 0-4, B 2-4. Runs:
# 0-2 (A), 2-4 (A, B), 4-10 (none). Coincidences (1/2 per ordered pair, times the run's
# length): o_10 = o_01 4, o_11 2, o_00 20; n_0 24, n_1 6, n 30; alpha 1 - 29 * 8 / 288 = 7/36.
# Agreeing pairs per character: 2*1 + 2*1 + 6*3 = 22 of 30.
def test_three_coders_tag_agreement_matches_the_hand_worked_figures() -> None:
    spans = [
        Span("d", "A", "t", 0, 4),
        Span("d", "B", "t", 2, 4),
        Span("d", "C", "u", 8, 10),
        Span("alone", "A", "t", 0, 5),  # a document only A annotated: not compared
    ]
    coders_of = {"d": {"A", "B", "C"}, "alone": {"A"}}
    found = {t.tag: t for t in compare_taggers(spans, {"d": 10, "alone": 50}, coders_of)}
    t = found["t"]
    assert t.alpha == pytest.approx(7 / 36)
    assert t.agreement == pytest.approx(22 / 30)
    assert (t.documents, t.characters, t.coders) == (1, 10, ["A", "B", "C"])
    assert t.kappa is None and len(t.pairs) == 3
    assert (t.segments, t.segments_matched) == (2, 2)


def test_margin_agreement_tags_compares_coders_of_the_same_document(tmp_path: Path) -> None:
    a, b = _reviewers(tmp_path, 2)
    text = "x" * 100
    source = tmp_path / "doc.txt"
    source.write_text(text, encoding="utf-8")
    [result] = list(a.import_files([source]))
    doc = result.document_id
    a.annotate(doc, 0, 20, tags=["t"])
    a.annotate(doc, 50, 60, tags=["t"])
    b.annotate(doc, 10, 30, tags=["t"])
    data = json.loads(_run(a, "agreement", "--tags", "--json"))
    [tag] = data["tags"]
    assert tag["tag"] == "t" and tag["kappa"] == pytest.approx(0.08 / 0.38)
    assert tag["alpha"] == pytest.approx(0.204) and data["names"][b.author.id] == "B"
    shown = _run(a, "agreement", "--tags")
    assert "#t: A, B on 1 document: agree on 70.0% of characters, Cohen's kappa 0.211" in shown
    assert "2 of 3 segments overlap" in shown


async def test_the_agreement_screen_lists_disagreements_and_opens_one(tmp_path: Path) -> None:
    from tests.apptools import screen_text, settle
    from tui.app import make_app
    from tui.screens.agreement import AgreementScreen
    from tui.screens.claim import ClaimScreen

    a, b = _reviewers(tmp_path, 2)
    claims = _claims(a, tmp_path, len(TWO))
    for claim_id, (first, second) in zip(claims, TWO, strict=True):
        a.review(claim_id, first)
        b.review(claim_id, second)
    app = make_app(a)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c", "g")
        await settle(pilot)
        assert isinstance(app.screen, AgreementScreen)
        shown = screen_text(app)
        assert "agreement 80.0%" in shown and "Krippendorff's alpha 0.691" in shown
        assert "A / B: 10 claims, agree 80.0%, Cohen's kappa 0.683" in shown
        assert app.screen.claim_ids == [claims[2], claims[7]]
        assert "Claim number 2 says" in shown and "partly supported" in shown
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ClaimScreen) and app.screen.claim_id == claims[7]
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AgreementScreen)
