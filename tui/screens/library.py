"""The library: every document with counts of its notes; filter as you type."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input

from store.records import DocumentSummary
from store.sanitize import terminal_safe


def _cell(value: object) -> Text:
    # Titles and authors are data: never markup, never raw control characters.
    return Text(terminal_safe(str(value if value is not None else "")))


class LibraryScreen(Screen[None]):
    """The start screen: the documents of the library."""

    BINDINGS = [
        Binding("slash", "focus_filter", "Filter", id="library-filter", tooltip="Filter documents by title"),
    ]

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield Input(placeholder="filter by title or author", id="filter")
        yield DataTable(id="documents", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#documents", DataTable)
        table.add_columns("Title", "Author", "Format", "Size", "Highlights", "Claims", "Open", "Imported")
        self.refresh_documents()
        table.focus()

    def refresh_documents(self) -> None:
        self._documents = self.app.service.library.documents()
        self._fill(self.query_one("#filter", Input).value)

    def _fill(self, needle: str) -> None:
        table = self.query_one("#documents", DataTable)
        table.clear()
        needle = needle.casefold().strip()
        for d in self._documents:
            if needle and needle not in f"{d.title} {d.author or ''}".casefold():
                continue
            table.add_row(*self._row(d), key=d.id)

    @staticmethod
    def _row(d: DocumentSummary) -> list[Text]:
        return [
            _cell(d.title),
            _cell(d.author or ""),
            _cell(d.format),
            _cell(f"{d.length / 1000:.0f}k"),
            _cell(d.highlights),
            _cell(d.claims),
            _cell(d.claims_without_evidence),
            _cell(d.imported_at[:10]),
        ]

    @on(Input.Changed, "#filter")
    def _filter(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()
