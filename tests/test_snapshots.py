"""Snapshots of the key screens, with the clock and the people fixed so they never drift."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from tests.apptools import sample_service, settle
from tui.app import make_app

FIXED = "2026-11-20T09:30:00.000Z"


async def still(pilot) -> None:  # noqa: ANN001
    """Settle, and stop every cursor blinking, so a snapshot never catches it half-way."""
    await settle(pilot)
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    import store.ledger
    import store.library
    import store.records

    # Library writes every row (store.versions no longer stamps any itself).
    for module in (store.records, store.library, store.ledger):
        monkeypatch.setattr(module, "now", lambda: FIXED)


def _annotated(tmp_path: Path):  # noqa: ANN202
    service = sample_service(tmp_path)
    xi = service.library.resolve_document("Xi's Pitch")
    claim = service.annotate_quote(
        xi.id,
        "democracies must better compete with the PRC\u2019s model",
        role="claim",
        tags=["governance"],
        note="Is this argued or asserted?",
    )
    service.annotate_quote(xi.id, "a $79-million data center in Senegal", tags=["infrastructure"])
    service.annotate_quote(xi.id, "Global Development Initiative (GDI)", tags=["governance"])
    evidence = service.annotate_quote(
        "Federalist", "The latent causes of faction are thus sown in the nature of man"
    )
    contra = service.annotate_quote("Common Sense", "Society in every state is a blessing")
    service.link(claim.id, evidence.id, relation="supports", note="Madison: competing interests")
    service.link(claim.id, contra.id, relation="contradicts")
    service.annotate_quote("Modest Proposal", "a young healthy child well nursed", role="claim")
    service.review(claim.id, "partly-supported", "one historical source only")
    return service, claim


def test_library_screen(snap_compare, tmp_path: Path, fixed_clock: None) -> None:
    service, _ = _annotated(tmp_path)
    assert snap_compare(make_app(service), terminal_size=(120, 40), run_before=still)


def test_search_results(snap_compare, tmp_path: Path, fixed_clock: None) -> None:
    service, _ = _annotated(tmp_path)

    async def search(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        await pilot.press("slash", *"faction OR Senegal")
        await pilot.pause(0.4)
        await still(pilot)

    assert snap_compare(make_app(service), terminal_size=(120, 40), run_before=search)


def test_claims_board(snap_compare, tmp_path: Path, fixed_clock: None) -> None:
    service, _ = _annotated(tmp_path)

    async def board(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)

    assert snap_compare(make_app(service), terminal_size=(120, 40), run_before=board)


def test_claim_beside_its_evidence(snap_compare, tmp_path: Path, fixed_clock: None) -> None:
    service, _ = _annotated(tmp_path)

    async def claim(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        await pilot.press("c", "a", "down", "enter")  # all claims: the board opens on my queue
        await settle(pilot)

    assert snap_compare(make_app(service), terminal_size=(120, 40), run_before=claim)


def test_reader_with_claims_tags_and_side_panel(
    snap_compare, tmp_path: Path, fixed_clock: None
) -> None:
    service, claim = _annotated(tmp_path)
    xi = service.library.resolve_document("Xi's Pitch")
    # Overlapping annotations: a highlight inside the claim and one straddling its start.
    text = xi.text
    inner = text.index("better compete")
    service.annotate(xi.id, inner, inner + len("better compete"), tags=["infrastructure"])
    service.annotate(xi.id, claim.start - 12, claim.start + 11, tags=["governance"])

    async def read(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        pilot.app.open_document(xi.id, claim.start)
        await settle(pilot)

    assert snap_compare(make_app(service), terminal_size=(120, 40), run_before=read)
