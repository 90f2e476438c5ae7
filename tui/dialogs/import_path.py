"""Ask for a file or folder to import, completing paths as they are typed."""

from __future__ import annotations

import os
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Static


class PathSuggester(Suggester):
    """Completes the last part of a path from the folder's entries (right arrow accepts)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        expanded = os.path.expanduser(value)
        folder, _, stem = expanded.rpartition(os.sep)
        base = Path(folder or ".") if expanded.startswith(os.sep) or folder else Path(".")
        try:
            names = sorted(entry.name for entry in os.scandir(base) if entry.name.startswith(stem))
        except OSError:
            return None
        names = [n for n in names if not n.startswith(".") or stem.startswith(".")]
        if not names:
            return None
        found = names[0]
        if (base / found).is_dir():
            found += os.sep
        return value[: len(value) - len(stem)] + found


class ImportDialog(ModalScreen[Path | None]):
    """A path to import (file or folder), or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="import-cancel", tooltip="Close without importing")
    ]

    def __init__(self, question: str = "Import a file or a folder (.txt .md .html .pdf).") -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(f"{self.question} Right arrow completes."))
            yield Input(
                placeholder="~/Downloads/report.pdf", suggester=PathSuggester(), id="import-path"
            )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if not value:
            self.dismiss(None)
            return
        path = Path(os.path.expanduser(value))
        if not path.exists():
            self.notify(f"No such file or folder: {value}", severity="error", markup=False)
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)
