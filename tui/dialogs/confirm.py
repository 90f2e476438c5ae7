"""A yes/no question."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmDialog(ModalScreen[bool | None]):
    """Ask before something that cannot be undone; dismisses with True for yes."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm-yes", tooltip="Go ahead"),
        Binding("n", "answer(False)", "No", id="confirm-no", tooltip="Leave it"),
        Binding(
            "escape",
            "cancel",
            "Cancel",
            id="confirm-cancel",
            tooltip="Leave it (where No does something of its own, do nothing at all)",
        ),
    ]

    def __init__(self, question: str, *, escape_cancels: bool = False) -> None:
        """`escape_cancels`: for a question where No still does something (import as a
        separate document), escape backs out with None instead of answering No."""
        super().__init__()
        self.question = question
        self.escape_cancels = escape_cancels

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(self.question), id="question")
            with Horizontal(id="buttons"):
                yield Button("Yes (y)", id="yes", variant="error")
                yield Button("No (n)", id="no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    def action_cancel(self) -> None:
        """Escape backs out (None) where No is an action of its own; else it is No."""
        self.dismiss(None if self.escape_cancels else False)
