"""Record a verdict on a claim: the verdict, then an optional comment."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from store.sanitize import clip
from store.schema import VERDICTS


@dataclass(frozen=True)
class VerdictChoice:
    verdict: str
    comment: str


class VerdictDialog(ModalScreen[VerdictChoice | None]):
    """Pick a verdict (enter), write a comment (enter records); escape cancels."""

    BINDINGS = [
        Binding(
            "escape", "cancel", "Cancel", id="verdict-cancel", tooltip="Close without a verdict"
        )
    ]

    def __init__(self, quote: str) -> None:
        super().__init__()
        self.quote = quote
        self.verdict: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(f"Verdict on \u201c{clip(self.quote, 100)}\u201d"))
            yield OptionList(
                *[Option(Text(v.replace("-", " ")), id=v) for v in VERDICTS], id="verdicts"
            )
            yield Input(placeholder="comment (optional); enter records the verdict", id="comment")

    def on_mount(self) -> None:
        self.query_one("#comment").display = False
        verdicts = self.query_one("#verdicts", OptionList)
        verdicts.highlighted = 0
        verdicts.focus()

    @on(OptionList.OptionSelected, "#verdicts")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.verdict = event.option.id
        comment = self.query_one("#comment", Input)
        comment.display = True
        comment.focus()

    @on(Input.Submitted, "#comment")
    def _record(self, event: Input.Submitted) -> None:
        if self.verdict is not None:
            self.dismiss(VerdictChoice(self.verdict, event.value.strip()))

    def action_cancel(self) -> None:
        self.dismiss(None)
