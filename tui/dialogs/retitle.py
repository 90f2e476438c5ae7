"""Name a document: its title, author and date, as the library and citations show them."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


@dataclass(frozen=True)
class Naming:
    """What the dialog was given back: every field as typed (empty clears author or date)."""

    title: str
    author: str
    published: str


class RetitleDialog(ModalScreen[Naming | None]):
    """Title, author and date of a document; enter in any field saves, escape cancels."""

    DEFAULT_CSS = """
    RetitleDialog {
        align: center middle;
        #dialog {
            width: 80;
            max-width: 90%;
            height: auto;
            border: thick $primary;
            background: $surface;
            padding: 1 2;
        }
    }
    """

    BINDINGS = [
        Binding(
            "escape",
            "cancel",
            "Cancel",
            id="retitle-cancel",
            tooltip="Close without changing anything",
        )
    ]

    def __init__(self, title: str, author: str | None, published: str | None) -> None:
        super().__init__()
        self.values = (title, author or "", published or "")

    def compose(self) -> ComposeResult:
        title, author, published = self.values
        with Vertical(id="dialog"):
            yield Static(Text("Name this document (enter saves, escape cancels)."))
            yield Static(Text("Title"))
            yield Input(value=title, id="retitle-title")
            yield Static(Text("Author"))
            yield Input(value=author, placeholder="who wrote it", id="retitle-author")
            yield Static(Text("Date"))
            yield Input(value=published, placeholder="YYYY-MM-DD", id="retitle-date")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(
            Naming(
                self.query_one("#retitle-title", Input).value,
                self.query_one("#retitle-author", Input).value,
                self.query_one("#retitle-date", Input).value,
            )
        )

    def action_cancel(self) -> None:
        self.dismiss(None)
