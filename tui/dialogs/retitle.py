"""Name a document: its title, author and date, as the library and citations show them."""

from __future__ import annotations

from collections.abc import Callable
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
    """Title, author and date of a document; enter in any field saves, escape cancels.

    `save` stores a naming and returns why it was refused, or None: a refused naming keeps the
    dialog open with what was typed and the reason under it, rather than closing on a toast and
    losing the typing (found in a QA pass).
    """

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

    def __init__(
        self,
        title: str,
        author: str | None,
        published: str | None,
        save: Callable[[Naming], str | None] = lambda naming: None,
    ) -> None:
        super().__init__()
        self.values = (title, author or "", published or "")
        self.save = save

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
            yield Static(id="retitle-refused")

    def on_mount(self) -> None:
        self.query_one("#retitle-refused", Static).display = False

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        naming = Naming(
            self.query_one("#retitle-title", Input).value,
            self.query_one("#retitle-author", Input).value,
            self.query_one("#retitle-date", Input).value,
        )
        refused = self.save(naming)
        if refused is None:
            self.dismiss(naming)
            return
        reason = self.query_one("#retitle-refused", Static)
        reason.update(Text(refused, style="bold red"))
        reason.display = True

    def action_cancel(self) -> None:
        self.dismiss(None)
