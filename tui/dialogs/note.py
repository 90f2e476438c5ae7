"""Write or edit an annotation's note in a multi-line editor."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from store.sanitize import clip


class NoteDialog(ModalScreen[str | None]):
    """The note's new text (ctrl+s saves), or None when cancelled (escape)."""

    # Not a priority binding: a priority ctrl+s runs before the editor takes the letters queued
    # ahead of it, and a note typed in one burst (a paste, tmux send-keys) was saved empty.
    # The editor does not use ctrl+s, so it reaches the dialog after them.
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="note-save", tooltip="Save the note"),
        Binding("escape", "cancel", "Cancel", id="note-cancel", tooltip="Close without saving"),
    ]

    def __init__(self, quote: str, note: str) -> None:
        super().__init__()
        self.quote = quote
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(
                Text(f"Note on \u201c{clip(self.quote, 120)}\u201d  (ctrl+s saves, escape cancels)")
            )
            yield TextArea(self.note, id="note-text", soft_wrap=True, show_line_numbers=False)

    def on_mount(self) -> None:
        editor = self.query_one(TextArea)
        editor.focus()
        editor.move_cursor(editor.document.end)

    def action_save(self) -> None:
        self.dismiss(self.query_one(TextArea).text)

    def action_cancel(self) -> None:
        self.dismiss(None)
