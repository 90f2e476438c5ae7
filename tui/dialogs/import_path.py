"""Ask for a file or folder to import, completing paths as they are typed.

The import form also takes an optional text encoding, for legacy .txt and .md files that
detection gets wrong (cp1250 reads as cp1252); empty means detect.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Static

from store.ingest.decode import Refused, known_encoding


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


@dataclass(frozen=True)
class ImportChoice:
    """What to import, and the encoding of its text files (None: detect)."""

    path: Path
    encoding: str | None = None


class ImportDialog(ModalScreen[ImportChoice | None]):
    """A path to import (file or folder), or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="import-cancel", tooltip="Close without importing")
    ]

    def __init__(
        self,
        question: str = "Import a file or a folder (.txt .md .html .pdf .epub .docx).",
        *,
        ask_encoding: bool = False,
        example: str = "~/Downloads/report.pdf",
    ) -> None:
        super().__init__()
        self.question = question
        self.ask_encoding = ask_encoding
        self.example = example

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(f"{self.question} Right arrow completes."))
            yield Input(placeholder=self.example, suggester=PathSuggester(), id="import-path")
            if self.ask_encoding:
                yield Input(
                    placeholder="encoding of .txt/.md, e.g. cp1250 (empty: detect)",
                    id="import-encoding",
                )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = self.query_one("#import-path", Input).value.strip()
        if not value:
            self.dismiss(None)
            return
        path = Path(os.path.expanduser(value))
        if not path.exists():
            self.notify(f"No such file or folder: {value}", severity="error", markup=False)
            return
        encoding = None
        if self.ask_encoding:
            named = self.query_one("#import-encoding", Input).value.strip()
            try:
                encoding = known_encoding(named) if named else None
            except Refused as refused:
                self.notify(f"Encoding: {refused.reason}", severity="error", markup=False)
                return
        self.dismiss(ImportChoice(path, encoding))

    def action_cancel(self) -> None:
        self.dismiss(None)
