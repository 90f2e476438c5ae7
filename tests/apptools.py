"""Helpers for driving the app with Pilot on a real library built from samples/."""

from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.pilot import Pilot

from store.profile import save_profile
from store.records import Author
from tests.conftest import SAMPLES
from tui.app import MarginApp, make_app
from tui.service import Service

REVIEWER = Author(id="22222222-2222-4222-8222-222222222222", name="Rita Reviewer")


def sample_service(tmp_path: Path, *, author: Author = REVIEWER) -> Service:
    """A service on a fresh library holding the sample sources, indexed."""
    config = tmp_path / "config"
    save_profile(config, author)
    service = Service(tmp_path / "library.margin", config)
    results = list(service.import_files([SAMPLES]))
    assert all(r.status == "imported" for r in results), [r.line() for r in results]
    service.sync_index()
    return service


def sample_app(tmp_path: Path) -> MarginApp:
    return make_app(sample_service(tmp_path))


def document_id(service: Service, title_part: str) -> str:
    return service.library.resolve_document(title_part).id


def screen_lines(app: App) -> list[str]:
    """The screen as a person sees it, one string per row (the compositor's own strips)."""
    return [
        "".join(segment.text for segment in strip)
        for strip in app.screen._compositor.render_strips()
    ]


def screen_text(app: App) -> str:
    return "\n".join(screen_lines(app))


async def settle(pilot: Pilot) -> None:
    """Let workers finish and the screen update."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def notices(app: App) -> str:
    """Every notification the app has shown (still on screen or not), one per line."""
    return "\n".join(n.message for n in app._notifications)


def poll_library(app: MarginApp) -> None:
    """The app's once-a-second look at the library file, run now (no waiting on a timer)."""
    app._follow_library()
