"""Verdicts that know when their ground moved: the claim's words, or its evidence, since then."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner
from textual.widgets import Static

from store.db import connect
from store.library import Library
from store.migrations import migrate, version
from store.profile import save_profile
from store.records import Author
from store.staleness import verdict_day
from tests.apptools import REVIEWER, poll_library, screen_text, settle
from tests.conftest import on_disk
from tui.app import make_app
from tui.cli import cli
from tui.screens.claim import ClaimScreen
from tui.screens.claims import ClaimsScreen
from tui.service import Service

REPORT = (
    "Notes on the summit.\n\n"
    "In the speech Beijing has identified Africa and Latin America as arenas of competition "
    "with the United States, and the minister repeated the point twice.\n\n"
    "Trade with the region grew by a third in five years, the ministry said.\n\n"
    "Ports and railways were financed on concessional terms by the state banks.\n"
)
CLAIM = "Beijing has identified Africa and Latin America as arenas of competition"
CHANGED = "Beijing has clearly identified Africa and Latin America as key arenas of competition"
EVIDENCE = "Trade with the region grew by a third in five years"
LATER = "Ports and railways were financed on concessional terms"


def _service(tmp_path: Path, author: Author = REVIEWER, name: str = "library") -> Service:
    config = tmp_path / f"config-{name}"
    save_profile(config, author)
    return Service(tmp_path / f"{name}.margin", config)


def _setup(tmp_path: Path) -> tuple[Service, Path, str]:
    source = tmp_path / "report.txt"
    source.write_text(REPORT, encoding="utf-8")
    service = _service(tmp_path)
    [result] = list(service.import_files([source]))
    service.sync_index()
    claim = service.annotate_quote(result.document_id, CLAIM, role="claim")
    evidence = service.annotate_quote(result.document_id, EVIDENCE)
    service.link(claim.id, evidence.id)
    return service, source, claim.id


def _cli(service: Service, *args: str) -> str:
    result = CliRunner().invoke(
        cli,
        ["--library", str(service.library_path), *args],
        env={"MARGIN_HOME": str(service.config_dir.parent / "cli-home")},
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_a_verdict_is_not_stale_until_evidence_is_added_and_a_new_verdict_clears_it(
    tmp_path: Path,
) -> None:
    service, _, claim_id = _setup(tmp_path)
    service.review(claim_id, "partly-supported")
    assert service.staleness() == {}
    assert json.loads(_cli(service, "claims", "--stale", "--json")) == []

    later = service.annotate_quote(service.library.annotation(claim_id).document_id, LATER)
    added = service.link(claim_id, later.id, relation="context")
    moved = service.staleness()[claim_id]
    assert (moved.added, moved.removed, moved.orphaned, moved.text_changed) == (
        (added.id,),
        (),
        (),
        False,
    )
    day = verdict_day(moved.verdict_created)
    assert moved.describe() == f"evidence changed since the verdict of {day}: 1 added"
    [row] = json.loads(_cli(service, "claims", "--stale", "--json"))
    assert row["claim"]["id"] == claim_id
    assert row["stale"]["added"] == [added.id] and row["stale"]["reasons"] == ["1 added"]
    assert "stale: evidence changed" in _cli(service, "claims")

    service.review(claim_id, "supported")
    assert service.staleness() == {}
    assert json.loads(_cli(service, "claims", "--stale", "--json")) == []


def test_unlinking_evidence_makes_the_verdict_stale(tmp_path: Path) -> None:
    service, _, claim_id = _setup(tmp_path)
    service.review(claim_id, "supported")
    [link] = service.library.links(claim_id=claim_id)
    service.unlink(link.id)
    assert service.staleness()[claim_id].reasons() == ["1 removed"]


def test_a_new_version_that_changes_the_claims_words_makes_it_stale(tmp_path: Path) -> None:
    service, source, claim_id = _setup(tmp_path)
    service.review(claim_id, "supported")
    source.write_text(REPORT.replace(CLAIM, CHANGED), encoding="utf-8")
    [result] = list(service.import_files([source], update=True))
    assert result.status == "updated"
    claim = service.library.annotation(claim_id)
    assert "key arenas" in claim.exact and claim.anchor_state == "moved"
    moved = service.staleness()[claim_id]
    assert moved.text_changed and moved.reasons() == ["claim text changed"]
    assert moved.describe().startswith("the claim's words changed since the verdict of")

    service.review(claim_id, "partly-supported", "re-read after the correction")
    assert service.staleness() == {}


def test_evidence_orphaned_by_a_new_version_makes_the_verdict_stale(tmp_path: Path) -> None:
    service, source, claim_id = _setup(tmp_path)
    service.review(claim_id, "supported")
    source.write_text(
        REPORT.replace(EVIDENCE, "Nothing more was said about commerce that evening"),
        encoding="utf-8",
    )
    list(service.import_files([source], update=True))
    [link] = service.library.links(claim_id=claim_id)
    assert service.library.annotation(link.evidence_id).anchor_state == "orphaned"
    moved = service.staleness()[claim_id]
    assert moved.orphaned == (link.id,) and "1 orphaned" in moved.describe()


def test_verdicts_from_before_the_migration_are_judged_from_the_migration_on(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v4.margin"
    db = connect(path)
    migrate(db, target=4)
    stamp = "2026-03-12T10:00:00.000Z"
    db["documents"].insert(
        {
            "id": "d1",
            "title": "Old",
            "format": "txt",
            "sha256": "ab",
            "text": REPORT,
            "length": len(REPORT),
            "metadata": "{}",
            "imported_at": stamp,
        }
    )
    start = REPORT.index(CLAIM)
    common = {
        "document_id": "d1",
        "author_id": "a",
        "author_name": "A",
        "created": stamp,
        "modified": stamp,
    }
    db["annotations"].insert(
        {"id": "c1", "start": start, "end": start + len(CLAIM), "exact": CLAIM, "role": "claim"}
        | common
    )
    start = REPORT.index(EVIDENCE)
    db["annotations"].insert(
        {"id": "e1", "start": start, "end": start + len(EVIDENCE), "exact": EVIDENCE}
        | {"role": "highlight"}
        | common
    )
    db["links"].insert(
        {"id": "l1", "claim_id": "c1", "evidence_id": "e1", "relation": "supports"}
        | {k: v for k, v in common.items() if k != "document_id"}
    )
    db["reviews"].insert(
        {
            "id": "r1",
            "claim_id": "c1",
            "verdict": "supported",
            "reviewer_id": "a",
            "reviewer_name": "A",
            "created": stamp,
        }
    )
    db.conn.close()
    lib = Library(path)
    assert version(on_disk(lib)) == 5
    [ground] = list(on_disk(lib)["review_grounds"].rows)
    assert (ground["review_id"], ground["quote"], json.loads(ground["evidence"])) == (
        "r1",
        CLAIM,
        {"l1": "ok"},
    )
    assert not lib.staleness()["c1"].stale
    assert verdict_day(stamp) == "12 March 2026"
    lib.close()


def test_a_merged_verdict_judges_the_library_it_arrives_in(tmp_path: Path) -> None:
    mine, _, claim_id = _setup(tmp_path)
    mine.review(claim_id, "supported")
    bundle = tmp_path / "notes.jsonld"
    mine.export_notes("bundle", bundle, with_sources=True)
    colleague = _service(tmp_path, Author("33333333-3333-4333-8333-333333333333", "Cole"), "cole")
    colleague.import_notes(bundle)
    grounds = list(on_disk(colleague.library)["review_grounds"].rows)
    assert len(grounds) == 1 and grounds[0]["quote"] == CLAIM
    assert colleague.staleness() == {}
    # Cole adds evidence after the merged verdict: it is stale for Cole, not for me.
    claim = colleague.library.annotation(claim_id)
    extra = colleague.annotate_quote(claim.document_id, LATER)
    colleague.link(claim_id, extra.id)
    assert colleague.staleness()[claim_id].reasons() == ["1 added"]
    assert mine.staleness() == {}
    # Merging the same bundle again records nothing new.
    colleague.import_notes(bundle)
    assert len(list(on_disk(colleague.library)["review_grounds"].rows)) == 1


def test_a_verdict_from_a_qdpx_project_judges_its_links_too(tmp_path: Path) -> None:
    # A .qde lists verdicts with their claim, before the links: the ground is taken once the
    # whole project is in, so the verdict is not stale from the start.
    mine, _, claim_id = _setup(tmp_path)
    mine.review(claim_id, "supported")
    project = tmp_path / "notes.qdpx"
    mine.export_notes("qdpx", project)
    colleague = _service(tmp_path, Author("33333333-3333-4333-8333-333333333333", "Cole"), "cole")
    colleague.import_notes(project)
    [ground] = list(on_disk(colleague.library)["review_grounds"].rows)
    assert len(json.loads(ground["evidence"])) == 1
    assert colleague.staleness() == {}


def test_a_ground_is_never_left_behind_by_a_failed_verdict(tmp_path: Path) -> None:
    service, _, claim_id = _setup(tmp_path)
    [link] = service.library.links(claim_id=claim_id)
    try:
        service.review(link.evidence_id, "supported")  # a highlight takes no verdict
    except Exception as error:  # noqa: BLE001
        assert "only a claim" in str(error)
    conn = sqlite3.connect(service.library_path)
    assert conn.execute("SELECT count(*) FROM review_grounds").fetchone()[0] == 0
    conn.close()


async def test_the_board_and_the_claim_screen_say_what_moved_and_a_verdict_clears_it(
    tmp_path: Path,
) -> None:
    service, _, claim_id = _setup(tmp_path)
    service.review(claim_id, "supported")
    doc_id = service.library.annotation(claim_id).document_id
    other = service.annotate_quote(doc_id, "the ministry said", role="claim")
    later = service.annotate_quote(doc_id, LATER)
    service.link(claim_id, later.id, relation="contradicts")
    day = verdict_day(service.library.reviews(claim_id)[0].created)
    app = make_app(service)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ClaimsScreen)
        shown = screen_text(app)
        assert "stale: 1 added" in shown and "1 stale (s)" in shown
        await pilot.press("s")
        await pilot.pause()
        assert [s.claim.id for s in app.screen.claims] == [claim_id]
        assert other.id not in [s.claim.id for s in app.screen.claims]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ClaimScreen)
        history = app.screen.query_one("#claim-history", Static)
        # The side panel wraps the line; its text is what the panel shows.
        assert f"evidence changed since the verdict of {day}: 1 added" in str(history.render())
        assert "Stale:" in screen_text(app) and "new since the verdict" in screen_text(app)
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("down", "enter")  # partly supported
        await pilot.press(*"weighed the ports", "enter")
        await settle(pilot)
        assert "evidence changed since" not in str(history.render())
        assert "Stale:" not in screen_text(app)
        assert service.staleness() == {}
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.claims == [] and "stale:" not in screen_text(app)


async def test_the_board_opens_on_the_reviewers_queue_with_progress_then_stale_claims(
    tmp_path: Path,
) -> None:
    service, _, mine = _setup(tmp_path)
    doc_id = service.library.annotation(mine).document_id
    theirs = service.annotate_quote(doc_id, "the ministry said", role="claim").id
    unjudged = service.annotate_quote(doc_id, "the state banks", role="claim").id
    service.review(mine, "supported")
    colleague = _service(tmp_path, Author("33333333-3333-4333-8333-333333333333", "Cole"))
    colleague.review(theirs, "unsupported")  # judged, but not by me: still in my queue
    app = make_app(service)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert [s.claim.id for s in app.screen.claims] == [theirs, unjudged]
        assert "your queue" in screen_text(app) and "1 of 3 reviewed by you" in screen_text(app)
        await pilot.press("a")
        await pilot.pause()
        assert len(app.screen.claims) == 3
        # Evidence added to the claim I judged: it comes back, after the ones I have not judged.
        later = service.annotate_quote(doc_id, LATER)
        service.link(mine, later.id)
        await pilot.press("q")
        await pilot.pause()
        assert [s.claim.id for s in app.screen.claims] == [theirs, unjudged, mine]
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        await pilot.press("r", "enter")  # supported, again
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert [s.claim.id for s in app.screen.claims] == [theirs, unjudged]


async def test_the_board_follows_a_verdict_given_in_another_process(tmp_path: Path) -> None:
    # The app polls the library (issue 11); the claims board and the claim screen refresh when
    # another process writes, and a screen pushed but not yet mounted is told on a later tick.
    from tests.apptools import sample_service
    from tui.screens.reader import ReaderScreen

    service = sample_service(tmp_path)
    doc = service.resolve_document("Xi")
    claim = service.annotate_quote(
        doc.id, "Beijing has identified both the digital realm", role="claim"
    )
    other = Service(service.library_path, tmp_path / "config")  # a `margin review` elsewhere
    app = make_app(service)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        app.push_screen(ClaimsScreen())
        await settle(pilot)
        await pilot.press("a")
        assert "supported" not in screen_text(app)
        other.review(claim.id, "supported")
        poll_library(app)
        await settle(pilot)
        assert "supported" in screen_text(app)
        app.push_screen(ClaimScreen(claim.id))
        await settle(pilot)
        other.review(claim.id, "unsupported")
        poll_library(app)
        await settle(pilot)
        assert "unsupported" in str(app.screen.query_one("#claim-history", Static).render())
        app.push_screen(ReaderScreen(doc.id))  # not awaited: not mounted yet
        other.review(claim.id, "partly-supported")
        poll_library(app)  # must not reach the half-built reader
        await settle(pilot)
        assert isinstance(app.screen, ReaderScreen)
    other.close()
