"""The library: every document with counts of its notes; filter as you type; import; delete."""

from __future__ import annotations

from pathlib import Path, PurePath
from urllib.parse import urlsplit

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, ProgressBar, Static
from textual.worker import Worker, WorkerState, get_current_worker

from store.errors import MarginError
from store.records import DocumentSummary
from store.sanitize import clip, plural, terminal_safe
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.export import ExportChoice, ExportDialog
from tui.dialogs.import_path import ImportChoice, ImportDialog
from tui.dialogs.retitle import Naming, RetitleDialog
from tui.messages import ImportFinished, ImportProgress, ImportStarted, IndexFinished, IndexProgress
from tui.service import ExportReport, ImportReport, MergeReport


def _cell(value: object, style: str = "") -> Text:
    # Titles and authors are data: never markup, never raw control characters.
    return Text(terminal_safe(str(value if value is not None else "")), style=style)


def _size(length: int) -> str:
    """Characters, four wide at most: "3228k" made the table one column wider than 120."""
    if length < 999_500:
        return f"{max(1, round(length / 1000))}k"
    return f"{length / 1_000_000:.1f}M" if length < 9_950_000 else f"{round(length / 1e6)}M"


def source_label(source: str | None) -> str:
    """Where a document came from, short: the site of a web page, else the file's name."""
    if not source:
        return ""
    if source.startswith(("http://", "https://")):
        host = urlsplit(source).hostname or source
        return host.removeprefix("www.")
    return PurePath(source).name


class LibraryScreen(Screen[None]):
    """The start screen: the documents of the library."""

    BINDINGS = [
        Binding("enter", "open_document", "Open", id="open-document", tooltip="Read the document"),
        Binding("i", "import_files", "Import", id="import", tooltip="Import a file or a folder"),
        Binding(
            "f",
            "focus_filter",
            "Filter",
            id="library-filter",
            tooltip="Filter documents by title or author",
        ),
        Binding(
            "delete",
            "delete_document",
            "Delete",
            id="delete-document",
            tooltip="Delete the document and its notes",
        ),
        Binding(
            "slash", "app.search", "Search", id="library-search", tooltip="Search the whole library"
        ),
        Binding(
            "c",
            "app.claims",
            "Claims",
            id="library-claims",
            tooltip="Walk the claims of the library",
        ),
        Binding("t", "app.tags", "Tags", id="library-tags", tooltip="The codebook"),
        Binding(
            "x",
            "export_notes",
            "Export",
            id="export",
            tooltip="Export notes: bundle, folder, Markdown, CSV, ClaimReview, REFI-QDA",
        ),
        Binding(
            "m",
            "merge_notes",
            "Merge",
            id="merge",
            tooltip="Merge notes: a colleague's bundle, W3C, Hypothesis, Kindle, Readwise, REFI-QDA",
        ),
        Binding(
            "n",
            "retitle_document",
            "Name",
            id="retitle-document",
            tooltip="Change the document's title, author and date",
        ),
        Binding(
            "escape",
            "clear_filter",
            "Clear filter",
            show=False,
            id="clear-filter",
            tooltip="Clear the filter",
        ),
    ]

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield Static(id="library-summary")
        yield Input(placeholder="filter by title or author (f)", id="filter")
        yield DataTable(id="documents", cursor_type="row", zebra_stripes=True)
        yield Static(id="import-status")
        yield ProgressBar(id="import-progress", show_eta=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#documents", DataTable)
        table.add_column("Title", key="title")
        table.add_column("Author", key="author")
        table.add_column("Source", key="source")
        for label, key in (
            ("Fmt", "format"),
            ("Size", "size"),
            ("Hl", "highlights"),
            ("Claims", "claims"),
            ("No ev.", "open"),
            ("Rev.", "reviewed"),
            ("Anchors", "anchors"),
            ("Imported", "imported"),
        ):
            table.add_column(label, key=key)
        self.query_one("#import-progress").display = False
        self.query_one("#import-status").display = False
        self.refresh_documents()
        table.focus()
        self.catch_up_index()

    @work(thread=True, exclusive=True, exit_on_error=False, group="import")
    def catch_up_index(self) -> None:
        """At start-up, bring a missing or stale index up to date in a child process."""
        service = self.app.service
        if not service.index_behind():
            return
        self.post_message(IndexProgress(0, 0))
        try:
            service.sync_index_in_child(lambda d, t: self.post_message(IndexProgress(d, t)))
        except Exception as error:  # noqa: BLE001 - reported; searching catches up in-process
            self.post_message(IndexFinished(str(error)))
        else:
            self.post_message(IndexFinished())

    def on_screen_resume(self) -> None:
        self.refresh_documents()

    def library_changed(self) -> None:
        """Another process changed the library (an import from another shell)."""
        self.refresh_documents()

    def refresh_documents(self) -> None:
        """Read the documents again (after an import, a deletion or notes in the reader)."""
        self._documents = self.app.service.documents()
        self._fill(self.query_one("#filter", Input).value)
        claims = sum(d.claims for d in self._documents)
        reviewed = sum(d.claims_reviewed for d in self._documents)
        open_claims = sum(d.claims_without_evidence for d in self._documents)
        summary = Text(
            f" {plural(len(self._documents), 'document')} \u00b7 "
            f"{plural(sum(d.highlights for d in self._documents), 'highlight')}"
            f" \u00b7 {plural(claims, 'claim')} ({open_claims} without evidence) \u00b7 reviewed {reviewed} of {claims}"
        )
        self.query_one("#library-summary", Static).update(summary)

    def _fill(self, needle: str) -> None:
        table = self.query_one("#documents", DataTable)
        selected = self.selected_id()
        table.clear()
        needle = needle.casefold().strip()
        for d in self._documents:
            if needle and needle not in f"{d.title} {d.author or ''}".casefold():
                continue
            table.add_row(*self._row(d), key=d.id)
        if selected is not None:
            try:
                table.move_cursor(row=table.get_row_index(selected))
            except Exception:  # noqa: BLE001 - the row was filtered out or deleted
                pass

    @staticmethod
    def _row(d: DocumentSummary) -> list[Text]:
        anchors = ""
        if d.moved or d.orphaned:
            anchors = f"{d.moved} mv {d.orphaned} orph"
        return [
            _cell(clip(d.title, 26)),
            _cell(clip(d.author or "", 16)),
            _cell(clip(source_label(d.source), 12), "dim"),
            _cell(d.format),
            _cell(_size(d.length)),
            _cell(d.highlights),
            _cell(d.claims),
            _cell(d.claims_without_evidence, "bold yellow" if d.claims_without_evidence else ""),
            _cell(f"{d.claims_reviewed}/{d.claims}" if d.claims else ""),
            _cell(anchors, "bold red" if d.orphaned else ""),
            _cell(d.imported_at[:10]),
        ]

    def selected_id(self) -> str | None:
        table = self.query_one("#documents", DataTable)
        if table.row_count == 0:
            return None
        try:
            key, _ = table.coordinate_to_cell_key((table.cursor_row, 0))
        except Exception:  # noqa: BLE001 - cursor outside the rows
            return None
        return key.value

    @on(Input.Changed, "#filter")
    def _filter(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one("#documents", DataTable).focus()

    @on(DataTable.RowSelected, "#documents")
    def _row_chosen(self, event: DataTable.RowSelected) -> None:
        self.open_document(event.row_key.value)

    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_clear_filter(self) -> None:
        self.query_one("#filter", Input).value = ""
        self.query_one("#documents", DataTable).focus()

    def action_open_document(self) -> None:
        document_id = self.selected_id()
        if document_id is not None:
            self.open_document(document_id)

    def open_document(
        self, document_id: str | None, offset: int | None = None, length: int = 0
    ) -> None:
        if document_id is None:
            return
        from tui.screens.reader import ReaderScreen

        self.app.push_screen(ReaderScreen(document_id, offset, length))

    # -- delete -------------------------------------------------------------------------

    def action_delete_document(self) -> None:
        document_id = self.selected_id()
        if document_id is None:
            return
        summary, notes, crossing = self.app.service.deletion_preview(document_id)

        def answer(yes: bool | None) -> None:
            if yes:
                removed = self.app.service.delete_document(document_id)
                self.notify(
                    f"Deleted {terminal_safe(summary.title)} and {plural(removed, 'note')}.",
                    markup=False,
                )
                self.refresh_documents()

        self.app.push_screen(
            ConfirmDialog(
                f"Delete \u201c{terminal_safe(summary.title)}\u201d and the "
                f"{plural(notes, 'note')} on it?"
                + (
                    f" {plural(crossing, 'link')} to claims or evidence in other documents "
                    f"{'goes' if crossing == 1 else 'go'} with them."
                    if crossing
                    else ""
                )
                + " This cannot be undone."
            ),
            answer,
        )

    # -- name -----------------------------------------------------------------------------

    def action_retitle_document(self) -> None:
        document_id = self.selected_id()
        if document_id is None:
            return
        document = self.app.service.document(document_id)

        def save(naming: Naming) -> str | None:
            try:
                named = self.app.service.retitle(
                    document_id,
                    naming.title,
                    author=naming.author,
                    published=naming.published,
                )
            except MarginError as error:
                return terminal_safe(str(error))  # the dialog stays open, with the typing
            self.notify(f"Named {terminal_safe(named.title)}.", markup=False)
            return None

        def answer(naming: Naming | None) -> None:
            if naming is not None:
                self.refresh_documents()

        self.app.push_screen(
            RetitleDialog(document.title, document.author, document.published, save), answer
        )

    # -- import -------------------------------------------------------------------------

    def action_import_files(self) -> None:
        def chosen(choice: ImportChoice | None) -> None:
            if choice is None:
                return
            # A new file name for a new version (report-v2.pdf): offer to keep the notes.
            candidate = self.app.service.version_candidate(choice.path)
            if candidate is None:
                self.import_paths([choice.path], encoding=choice.encoding)
                return

            def answer(yes: bool | None) -> None:
                if yes is None:  # escape: neither a new version nor a separate document
                    return
                self.import_paths(
                    [choice.path],
                    encoding=choice.encoding,
                    version_of=candidate.id if yes else None,
                )

            self.app.push_screen(
                ConfirmDialog(
                    f"{terminal_safe(choice.path.name)} looks like a new version of "
                    f"\u201c{terminal_safe(candidate.title)}\u201d. Import it as a new version "
                    "of that document, its notes re-anchored? No imports it as a separate "
                    "document; escape imports nothing.",
                    escape_cancels=True,
                ),
                answer,
            )

        self.app.push_screen(ImportDialog(ask_encoding=True), chosen)

    # -- exchange -----------------------------------------------------------------------

    def action_export_notes(self) -> None:
        def chosen(choice: ExportChoice | None) -> None:
            if choice is None:
                return
            taken = self.app.service.export_target_taken(choice.fmt, choice.path)
            if taken is None:
                self.exchange_notes("export", choice.path, choice.fmt)
                return

            def answer(yes: bool | None) -> None:
                if yes:
                    self.exchange_notes("export", choice.path, choice.fmt)

            self.app.push_screen(ConfirmDialog(f"{terminal_safe(taken)}. Overwrite it?"), answer)

        self.app.push_screen(ExportDialog(Path.cwd()), chosen)

    def action_merge_notes(self) -> None:
        def chosen(choice: ImportChoice | None) -> None:
            if choice is not None:
                self.exchange_notes("merge", choice.path)

        self.app.push_screen(
            ImportDialog(
                "Merge notes: a colleague's bundle, W3C annotations, Hypothesis JSON, Kindle "
                "clippings, Readwise CSV or REFI-QDA (.qdpx, .qde, .qdc).",
                example="~/Downloads/ana.margin.jsonld",
            ),
            chosen,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="exchange")
    def exchange_notes(self, what: str, path: Path, fmt: str = "bundle") -> None:
        """Export or merge in a thread; the report ends in a notification."""
        self.app.call_from_thread(self._show_progress, f"{what}: {path.name}", 0, None)
        try:
            report: ExportReport | ImportReport
            if what == "export":
                report = self.app.service.export_report(fmt, path)
            else:
                report = self.app.service.import_report(path)
        except MarginError as error:
            lines, conflicts, severity = [str(error)], 0, "error"
        else:
            severity = "information"
            lines = merge_notice(report) if isinstance(report, MergeReport) else report.lines()
            conflicts = len(report.conflicts) if isinstance(report, MergeReport) else 0
        self.app.call_from_thread(self._exchange_done, lines, severity, conflicts)

    def _exchange_done(self, lines: list[str], severity: str, conflicts: int = 0) -> None:
        self.query_one("#import-status").display = False
        self.query_one("#import-progress").display = False
        self.refresh_documents()
        shown = lines[:12] + (
            [f"\u2026 and {len(lines) - 12} more lines"] if len(lines) > 12 else []
        )
        if conflicts:
            shown.append("Open the conflicts with ctrl+p \u2192 conflicts.")
        self.notify(terminal_safe("\n".join(shown)), severity=severity, markup=False, timeout=12)

    @work(thread=True, exclusive=True, exit_on_error=False, group="import")
    def import_paths(
        self, paths: list[Path], encoding: str | None = None, version_of: str | None = None
    ) -> None:
        """Import in a thread (the store's work), then index in a child process.

        Args:
            encoding: of the .txt and .md files, when detection gets it wrong (None: detect).
            version_of: the id of the document the one file in `paths` is a new version of.
        """
        worker = get_current_worker()
        service = self.app.service
        total = service.count_sources(paths)
        self.post_message(ImportStarted(total))
        imported = 0
        duplicates = []
        failures = []
        updates = []
        # A file imported before from the same path is a new version: its notes are re-anchored.
        results = (
            [service.import_version(paths[0], version_of, encoding=encoding)]
            if version_of is not None
            else service.import_files(
                paths, update=True, encoding=encoding, should_stop=lambda: worker.is_cancelled
            )
        )
        for done, result in enumerate(results, start=1):
            if result.status == "imported":
                imported += 1
            elif result.status == "duplicate":
                duplicates.append(result)
            elif result.status == "updated":
                updates.append(result)
            else:
                failures.append(result)
            self.post_message(ImportProgress(done, total, result.path.name))
        self.post_message(ImportFinished(imported, duplicates, failures, updates))
        # Indexing holds the GIL for long stretches: a child process keeps the app responsive.
        try:
            service.sync_index_in_child(lambda d, t: self.post_message(IndexProgress(d, t)))
        except Exception as error:  # noqa: BLE001 - reported; the next search catches up
            self.post_message(IndexFinished(str(error)))
        else:
            self.post_message(IndexFinished())

    def _show_progress(self, label: str, done: int, total: int | None) -> None:
        status = self.query_one("#import-status", Static)
        bar = self.query_one("#import-progress", ProgressBar)
        status.display = bar.display = True
        status.update(Text(terminal_safe(label)))
        bar.update(total=total, progress=done)

    def on_import_started(self, message: ImportStarted) -> None:
        self._show_progress("importing\u2026", 0, message.total)

    def on_import_progress(self, message: ImportProgress) -> None:
        self._show_progress(f"importing {message.name}", message.done, message.total)

    def on_import_finished(self, message: ImportFinished) -> None:
        self.refresh_documents()
        parts = [f"{message.imported} imported"]
        if message.duplicates:
            parts.append(f"{len(message.duplicates)} already there")
        if message.updates:
            parts.append(plural(len(message.updates), "new version"))
        if message.failures:
            parts.append(f"{len(message.failures)} failed")
        text = ", ".join(parts)
        for update in message.updates[:3]:
            if update.report is not None:
                text += "\n" + "\n".join(update.report.lines()[:6])
        for duplicate in message.duplicates[:3]:  # which document it is, under another name
            text += f"\n{duplicate.path.name}: the same text as \u201c{duplicate.title}\u201d"
        for failure in message.failures[:8]:
            text += f"\n{failure.path.name}: {failure.reason}"
        if len(message.failures) > 8:
            text += (
                f"\n\u2026 and {len(message.failures) - 8} more (`margin import` lists them all)"
            )
        self.notify(
            terminal_safe(text),
            severity="warning" if message.failures else "information",
            markup=False,
            timeout=10,
        )

    def on_index_progress(self, message: IndexProgress) -> None:
        self._show_progress(
            "indexing for search (documents are readable now)", message.done, message.total or None
        )

    def on_index_finished(self, message: IndexFinished) -> None:
        self.query_one("#import-status").display = False
        self.query_one("#import-progress").display = False
        if message.error:
            self.notify(
                f"Indexing stopped: {message.error}. Searching will catch up.",
                severity="warning",
                markup=False,
            )

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.notify(
                f"Import failed: {event.worker.error}. Nothing half-written was kept; try again.",
                severity="error",
                markup=False,
            )
            self.query_one("#import-progress").display = False
            self.query_one("#import-status").display = False


def merge_notice(report: MergeReport, each: int = 3) -> list[str]:
    """A merge report as a notification: what needs the reader first (books to import, notes
    orphaned, refused, conflicts), a few of the placed notes, the counts of the rest."""

    def some(label: str, items: list[str]) -> list[str]:
        shown = [f"{label}: {line}" for line in items[:each]]
        if len(items) > each:
            shown.append(
                f"\u2026 and {len(items) - each} more {label} (margin merge --json lists all)"
            )
        return shown

    return (
        [report.summary()]
        + [f"missing: {line}" for line in report.skipped]
        + some("orphaned", report.orphaned)
        + some("refused", report.rejected)
        + some("conflict", [c.line() for c in report.conflicts])
        + some("placed", report.placed)
        + some("note", report.notices)
    )
