"""The Textual app: screens over `tui.service`, which does all the work."""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding

from tui.screens.library import LibraryScreen
from tui.service import Service


class MarginApp(App[None]):
    """margin's interface: library, reader, search, claims, tags."""

    CSS_PATH = "margin.tcss"
    TITLE = "margin"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="quit", tooltip="Leave margin", priority=True),
    ]

    def __init__(self, service: Service) -> None:
        super().__init__()
        self.service = service

    def on_mount(self) -> None:
        self.push_screen(LibraryScreen())


def make_app(service: Service) -> MarginApp:
    """The one factory the command line and the tests use to build the app."""
    return MarginApp(service)
