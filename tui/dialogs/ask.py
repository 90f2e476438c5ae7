"""Ask for one line of text, completing from a list (tag names, paths of the codebook)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Static


class AskDialog(ModalScreen[str | None]):
    """The line typed (stripped), or None when cancelled or left empty."""

    BINDINGS = [
        Binding(
            "escape", "cancel", "Cancel", id="ask-cancel", tooltip="Close without changing anything"
        )
    ]

    def __init__(
        self,
        question: str,
        *,
        value: str = "",
        placeholder: str = "",
        suggestions: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.question = question
        self.value = value
        self.placeholder = placeholder
        self.suggestions = suggestions or []

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(self.question))
            yield Input(
                value=self.value,
                placeholder=self.placeholder,
                suggester=SuggestFromList(self.suggestions, case_sensitive=False)
                if self.suggestions
                else None,
                id="answer",
            )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
