"""Every key of the screen underneath, built from its live bindings (so it cannot go stale)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from tui.keys import bindings_of, key_label


class HelpScreen(ModalScreen[None]):
    """Keys of the screen it was opened over, and the app's own."""

    BINDINGS = [
        Binding(
            "escape,q,question_mark,f1",
            "dismiss",
            "Close",
            id="help-close",
            tooltip="Close the help",
        )
    ]

    def __init__(self, over: Screen) -> None:
        super().__init__()
        self.over = over

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=True, header_style="bold", expand=True)
        table.add_column("Key", no_wrap=True)
        table.add_column("Does")
        table.add_column("Where", style="dim", no_wrap=True)
        seen: set[str] = set()
        for where, binding in bindings_of(self.over, self.app):
            if binding.id in seen:
                continue
            seen.add(binding.id or binding.action)
            table.add_row(
                Text(key_label(binding)), Text(binding.tooltip or binding.description), Text(where)
            )
        with VerticalScroll(id="dialog"):
            yield Static(
                Text(
                    f"Keys: {type(self.over).__name__.removesuffix('Screen').lower()}", style="bold"
                )
            )
            yield Static(table)
            yield Static(Text("Escape closes. ctrl+p opens the command palette.", style="dim"))
