"""Suggested evidence: passages most like a claim, found by the index, linked with one key."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from textual.widgets import OptionList

from store.profile import save_profile
from tests.apptools import REVIEWER, notices, screen_text, settle
from tui.app import make_app
from tui.cli import cli
from tui.screens.claim import ClaimScreen
from tui.service import Service

TARGET = "The council voted to close the harbour bridge for repairs until the spring floods recede."
MINUTES = (
    "Minutes of the council meeting.\n\n"
    "The mayor opened the meeting and the clerk read the apologies of two members. "
    "A petition about street lighting in the old town was received and passed to the "
    "lighting committee, which will answer at the next meeting.\n\n"
    f"Engineers reported cracks in the piers after the winter storms. {TARGET} "
    "Ferries will run every half hour while the works last.\n\n"
    "The treasurer presented the accounts for the year, which were approved without "
    "discussion. The meeting closed at nine.\n"
)
BUDGET = (
    "Budget report.\n\n"
    "Spending on schools rose by twelve percent while road maintenance was cut. The council "
    "expects the harbour dues to fall this year. Repairs to public buildings were postponed.\n"
)
ALMANAC = (
    "The almanac.\n\n"
    "Spring floods are common in the valley, and the river often covers the lower meadows "
    "in April. Farmers move their sheep to the hills until the water recedes.\n"
)
CLAIM = (
    "according to the minutes the bridge over the harbour will be closed for repair "
    "until the floods of spring have receded"
)
RELEASE = f"Press release.\n\nThe town said today that, {CLAIM}, and asked drivers to be patient.\n"


def _library(tmp_path: Path) -> tuple[Service, str]:
    sources = tmp_path / "sources"
    sources.mkdir()
    for name, text in (
        ("minutes", MINUTES),
        ("budget", BUDGET),
        ("almanac", ALMANAC),
        ("release", RELEASE),
    ):
        (sources / f"{name}.txt").write_text(text, encoding="utf-8")
    config = tmp_path / "config"
    save_profile(config, REVIEWER)
    service = Service(tmp_path / "library.margin", config)
    assert all(r.status == "imported" for r in service.import_files([sources]))
    service.sync_index()
    claim = service.annotate_quote("release", CLAIM, role="claim")
    return service, claim.id


def test_the_paraphrased_sentence_comes_first_and_the_claims_own_passage_never(
    tmp_path: Path,
) -> None:
    service, claim_id = _library(tmp_path)
    found = service.suggest(claim_id, limit=5)
    top = found.hits[0]
    minutes = service.library.resolve_document("minutes")
    assert top.document_id == minutes.id
    assert minutes.text[top.start : top.end] == TARGET and top.sentence == TARGET
    assert top.citation.startswith("minutes")
    assert "harbour" in top.snippet
    assert any(top.snippet[s:e].lower() == "harbour" for s, e in top.marks)
    release = service.library.resolve_document("release")
    assert release.id not in {h.document_id for h in found.hits}
    assert {w for w, _ in found.terms} >= {"harbour", "flood"}


def test_linked_evidence_leaves_the_suggestions(tmp_path: Path) -> None:
    service, claim_id = _library(tmp_path)
    top = service.suggest(claim_id).hits[0]
    link = service.link_suggestion(claim_id, top, "supports")
    evidence = service.library.annotation(link.evidence_id)
    assert (evidence.exact, evidence.role, link.relation) == (TARGET, "highlight", "supports")
    after = service.suggest(claim_id).hits
    assert all(
        not (h.document_id == top.document_id and h.passage_start == top.passage_start)
        for h in after
    )


def _cli(service: Service, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--library", str(service.library_path), *args])
    return result.exit_code, result.output


def test_margin_suggest_prints_and_its_json_parses(tmp_path: Path) -> None:
    service, claim_id = _library(tmp_path)
    code, shown = _cli(service, "suggest", claim_id[:8], "--limit", "2")
    assert code == 0 and shown.startswith(" 1. ") and "harbour bridge" in shown
    code, shown = _cli(service, "suggest", claim_id, "--json")
    data = json.loads(shown)
    assert code == 0 and data["suggestions"][0]["sentence"] == TARGET
    assert data["suggestions"][0]["citation"]
    code, shown = _cli(service, "suggest", claim_id, "--limit", "0")
    assert code == 2 and "at least 1" in shown
    highlight = service.annotate_quote("budget", "Spending on schools")
    code, shown = _cli(service, "suggest", highlight.id)
    assert code == 2 and "suggestions are for claims" in shown
    code, shown = _cli(service, "suggest", "nothing-like-it")
    assert code == 2 and "no annotation matches" in shown


async def test_a_suggestion_is_linked_from_the_claim_screen_with_one_key(tmp_path: Path) -> None:
    service, claim_id = _library(tmp_path)
    app = make_app(service)
    async with app.run_test(size=(140, 44)) as pilot:
        await settle(pilot)
        app.push_screen(ClaimScreen(claim_id))
        await settle(pilot)
        assert "Supports" not in screen_text(app)  # no suggestion yet: no keys for one
        await pilot.press("s")
        await settle(pilot)
        listed = app.screen.query_one("#suggestions", OptionList)
        assert listed.option_count >= 2 and listed.has_focus
        shown = screen_text(app)
        assert "1. minutes" in shown and "harbour bridge" in shown
        assert "Contradicts" in shown
        await pilot.press("2")
        await settle(pilot)
        [link] = service.library.links(claim_id=claim_id)
        assert link.relation == "contradicts"
        assert service.library.annotation(link.evidence_id).exact == TARGET
        assert "Linked as contradicts" in notices(app)
        assert "\u2212 contradicts" in screen_text(app)
        assert all(s.sentence != TARGET for s in app.screen.suggestions)
