"""The command palette: margin's actions and every document by title."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from store.sanitize import terminal_safe
from tui.keys import key_label


class MarginCommands(Provider):
    """Actions ("import: files or a folder") and documents ("open: <title>")."""

    async def startup(self) -> None:
        worker = self.app.run_worker(self._load_titles, thread=True)
        self.titles = await worker.wait()

    def _load_titles(self) -> list[tuple[str, str]]:
        # A thread of its own opens its own connection (the service keeps one per thread).
        return [(d.id, d.title) for d in self.app.service.documents()]

    def _screen_keys(self) -> list[tuple[str, object, str]]:
        """Every key of the screen the palette was opened over (and of its focused widget)."""
        screen = self.screen
        name = type(screen).__name__.removesuffix("Screen").lower()
        nodes = []
        node = screen.focused
        while node is not None and node is not screen:
            nodes.append(node)
            node = node.parent
        found = []
        for node in [*nodes, screen]:
            for binding in getattr(node, "BINDINGS", []):
                if not getattr(binding, "id", None) or binding.action.startswith("app."):
                    continue
                found.append(
                    (
                        f"{name}: {binding.description.lower()} ({key_label(binding)})",
                        partial(self.app.call_later, node.run_action, binding.action),
                        binding.tooltip or binding.description,
                    )
                )
        return found

    def _actions(self) -> list[tuple[str, object, str]]:
        app = self.app
        return self._screen_keys() + [
            ("import: files or a folder", app.action_import, "Import documents into the library"),
            ("search: the whole library", app.action_search, "Words, phrases, tags, claims"),
            ("claims: the board", app.action_claims, "Every claim with its evidence and verdict"),
            ("tags: the codebook", app.action_tags, "Create, rename, merge, recolour tags"),
            ("library: the documents", app.action_library, "Back to the list of documents"),
            (
                "export: notes, reports, REFI-QDA",
                app.action_export,
                "Bundle, folder, Markdown report, CSV, ClaimReview, .qdpx",
            ),
            (
                "merge: a colleague's notes",
                app.action_merge,
                "A bundle file, a folder bundle or a .qdpx",
            ),
            ("conflicts: from merges", app.action_conflicts, "Keep mine or take theirs"),
            ("help: keys of this screen", app.action_help, "Every key of the screen you are on"),
        ]

    async def discover(self) -> Hits:
        for name, run, help_text in self._actions():
            yield DiscoveryHit(name, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, run, help_text in self._actions():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=help_text)
        for document_id, title in self.titles:
            name = f"open: {terminal_safe(title)}"
            score = matcher.match(name)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(name),
                    partial(self.app.open_document, document_id),
                    help="Read this document",
                )
