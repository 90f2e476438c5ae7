"""The Textual app: screens over `tui.service`, which does all the work."""

from __future__ import annotations

import threading

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.css.query import NoMatches

from tui.commands import MarginCommands
from tui.screens.help import HelpScreen
from tui.screens.library import LibraryScreen
from tui.service import Service

FOLLOW_SECONDS = 1.0
"""How often the app looks for changes made to the library by another process."""


class MarginApp(App[None]):
    """margin's interface: library, reader, search, claims, tags."""

    CSS_PATH = "margin.tcss"
    TITLE = "margin"
    COMMANDS = App.COMMANDS | {MarginCommands}
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="quit", tooltip="Leave margin", priority=True),
        Binding(
            "question_mark,f1", "help", "Help", id="help", tooltip="Show every key of this screen"
        ),
        Binding(
            "f2", "library", "Library", show=False, id="go-library", tooltip="Back to the library"
        ),
        Binding(
            "f3", "search", "Search", show=False, id="go-search", tooltip="Search the whole library"
        ),
        Binding("f4", "claims", "Claims", show=False, id="go-claims", tooltip="The claims board"),
        Binding("f5", "tags", "Tags", show=False, id="go-tags", tooltip="The codebook"),
    ]

    def __init__(self, service: Service) -> None:
        super().__init__()
        self.service = service
        self.last_copied: str | None = None

    def on_mount(self) -> None:
        # Writes index in a worker: a whoosh commit on the event loop cost every highlight,
        # tag and note its time (0.5 s when another process held the index lock).
        self.service.index_later = self._index_after_write
        self._library_version = self.service.data_version()
        # Another process (a `margin import` in another shell) writes the same file: a poll
        # of SQLite's data_version costs microseconds, so once a second is free.
        self.set_interval(FOLLOW_SECONDS, self._follow_library)
        self.push_screen(LibraryScreen())

    def _follow_library(self) -> None:
        version = self.service.data_version()
        if version == self._library_version:
            return
        if not self.screen.is_mounted:
            # A screen just pushed has not run on_mount yet (the reader has no document): the
            # next tick tells it, rather than a screen half built failing the app.
            return
        self._library_version = version
        changed = getattr(self.screen, "library_changed", None)
        if changed is not None:
            try:
                changed()
            except NoMatches:
                # The screen's widgets are gone: the app is closing it (a tick that lands while
                # the app shuts down). A screen shown again reads the library afresh.
                pass

    def on_unmount(self) -> None:
        self.service.index_later = None

    def _index_after_write(self) -> None:
        if threading.get_ident() == self._thread_id:
            self._index_worker()
        else:
            self.call_from_thread(self._index_worker)

    @work(thread=True, exit_on_error=False, group="index-writes")
    def _index_worker(self) -> None:
        deferred = self.service.sync_index_after_write()
        if deferred:  # saved, but search cannot follow yet: say so once, not as an error
            self.call_from_thread(self.notify, deferred, severity="warning", timeout=8)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen))

    def open_document(self, document_id: str, offset: int | None = None, length: int = 0) -> None:
        """Open the reader on a document, at an offset when given."""
        from tui.screens.reader import ReaderScreen

        self.push_screen(ReaderScreen(document_id, offset, length))

    def action_library(self) -> None:
        while len(self.screen_stack) > 2 and not isinstance(self.screen, LibraryScreen):
            self.pop_screen()

    def action_search(self, query: str = "") -> None:
        from tui.screens.search import SearchScreen

        self.push_screen(SearchScreen(query))

    def action_claims(self, document_id: str | None = None) -> None:
        from tui.screens.claims import ClaimsScreen

        self.push_screen(ClaimsScreen(document_id))

    def action_tags(self) -> None:
        from tui.screens.tags import TagsScreen

        self.push_screen(TagsScreen())

    def action_conflicts(self) -> None:
        from tui.screens.conflicts import ConflictsScreen

        self.push_screen(ConflictsScreen())

    def action_export(self) -> None:
        self.action_library()
        library = self._library_screen()
        if library is not None:
            library.action_export_notes()

    def action_merge(self) -> None:
        self.action_library()
        library = self._library_screen()
        if library is not None:
            library.action_merge_notes()

    def action_import(self) -> None:
        self.action_library()
        library = self._library_screen()
        if library is not None:
            library.action_import_files()

    def _library_screen(self) -> LibraryScreen | None:
        for screen in reversed(self.screen_stack):
            if isinstance(screen, LibraryScreen):
                return screen
        return None


def make_app(service: Service) -> MarginApp:
    """The one factory the command line and the tests use to build the app."""
    return MarginApp(service)
