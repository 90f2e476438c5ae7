"""Bindings as the help screen and docs/keybindings.md list them."""

from __future__ import annotations

from collections.abc import Iterator

from textual.binding import Binding
from textual.dom import DOMNode

_KEY_NAMES = {
    "slash": "/",
    "question_mark": "?",
    "greater_than_sign": ">",
    "less_than_sign": "<",
    "right_square_bracket": "]",
    "left_square_bracket": "[",
    "space": "space",
}


def key_label(binding: Binding) -> str:
    """A binding's keys as a person types them."""
    if binding.key_display:
        return binding.key_display
    return " ".join(_KEY_NAMES.get(k.strip(), k.strip()) for k in binding.key.split(","))


def bindings_of(screen: DOMNode, app: DOMNode) -> Iterator[tuple[str, Binding]]:
    """(where, binding) for the screen's focused chain, the screen and the app."""
    nodes: list[DOMNode] = []
    focused = getattr(screen, "focused", None)
    node = focused
    while node is not None and node is not screen:
        nodes.append(node)
        node = node.parent
    nodes += [screen, app]
    for node in nodes:
        where = type(node).__name__
        for binding in node._bindings.key_to_bindings.values():  # noqa: SLF001 - Textual keeps a node's bindings private
            for each in binding:
                if each.id:
                    yield where, each


def binding_owners() -> list[type]:
    """Every class of the app that declares bindings, in the order the docs list them."""
    from tui.app import MarginApp
    from tui.dialogs.ask import AskDialog
    from tui.dialogs.confirm import ConfirmDialog
    from tui.dialogs.export import ExportDialog
    from tui.dialogs.import_path import ImportDialog
    from tui.dialogs.link import LinkDialog
    from tui.dialogs.note import NoteDialog
    from tui.dialogs.verdict import VerdictDialog
    from tui.screens.help import HelpScreen
    from tui.screens.library import LibraryScreen
    from tui.screens.reader import ReaderScreen
    from tui.widgets.reader_view import ReaderView

    owners: list[type] = [MarginApp, LibraryScreen, ReaderScreen, ReaderView]
    for name in (
        "tui.screens.search:SearchScreen",
        "tui.screens.claims:ClaimsScreen",
        "tui.screens.claim:ClaimScreen",
        "tui.screens.agreement:AgreementScreen",
        "tui.screens.tags:TagsScreen",
        "tui.screens.conflicts:ConflictsScreen",
    ):
        module, _, cls = name.partition(":")
        try:
            owners.append(getattr(__import__(module, fromlist=[cls]), cls))
        except (ImportError, AttributeError):
            continue
    return owners + [
        HelpScreen,
        ConfirmDialog,
        ImportDialog,
        ExportDialog,
        AskDialog,
        NoteDialog,
        LinkDialog,
        VerdictDialog,
    ]


def keybindings_markdown() -> str:
    """docs/keybindings.md, made from the live bindings (a test keeps the file in step)."""
    lines = [
        "# Keys",
        "",
        "Made from the bindings in the code by `make docs`; a test fails when this file is stale.",
        "The help screen (`?` or `f1`) shows the same for the screen you are on.",
        "",
        "| screen | keys | id | does |",
        "|---|---|---|---|",
    ]
    for owner in binding_owners():
        for binding in owner.BINDINGS:
            if isinstance(binding, Binding) and binding.id:
                keys = key_label(binding).replace("|", "\\|")
                lines.append(
                    f"| {owner.__name__} | `{keys}` | {binding.id} | {binding.tooltip or binding.description} |"
                )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(keybindings_markdown(), end="")
