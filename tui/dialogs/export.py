"""Choose what to export: the format, then where to write it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tui.dialogs.import_path import PathSuggester

FORMATS = {
    "bundle": ("Notes bundle for a colleague (W3C Web Annotation JSON-LD)", "notes.margin.jsonld"),
    "folder": ("Folder bundle: one file per note, merges cleanly in git", "notes-margin"),
    "markdown": ("Markdown report: claims, evidence, verdicts, citations", "report.md"),
    "csv": ("CSV: one row per annotation", "annotations.csv"),
    "claimreview": ("Verdicts as schema.org ClaimReview", "claimreview.jsonld"),
    "qdpx": ("REFI-QDA project for ATLAS.ti, NVivo, MAXQDA, QualCoder", "margin.qdpx"),
    "qdc": ("REFI-QDA codebook: the tags, for Taguette, MAXQDA, NVivo", "margin.qdc"),
}


@dataclass(frozen=True)
class ExportChoice:
    fmt: str
    path: Path


class ExportDialog(ModalScreen[ExportChoice | None]):
    """Pick a format (enter), then a path (enter writes); escape cancels."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="export-cancel", tooltip="Close without exporting")
    ]

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder
        self.fmt: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text("Export the library's notes as\u2026"), id="export-prompt")
            yield OptionList(
                *[Option(Text(label), id=fmt) for fmt, (label, _) in FORMATS.items()], id="formats"
            )
            yield Input(suggester=PathSuggester(), id="export-path")

    def on_mount(self) -> None:
        self.query_one("#export-path").display = False
        formats = self.query_one("#formats", OptionList)
        formats.highlighted = 0
        formats.focus()

    @on(OptionList.OptionSelected, "#formats")
    def _format(self, event: OptionList.OptionSelected) -> None:
        self.fmt = event.option.id
        path = self.query_one("#export-path", Input)
        path.value = str(self.folder / FORMATS[self.fmt][1])
        path.display = True
        self.query_one("#export-prompt", Static).update(Text("Write it to (enter writes):"))
        path.focus()

    @on(Input.Submitted, "#export-path")
    def _path(self, event: Input.Submitted) -> None:
        if self.fmt and event.value.strip():
            self.dismiss(ExportChoice(self.fmt, Path(event.value.strip()).expanduser()))

    def action_cancel(self) -> None:
        self.dismiss(None)
