"""Merge conflicts: two people's versions of one note, side by side, and a key to choose."""

from __future__ import annotations

import json

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from store.errors import MarginError
from store.sanitize import terminal_safe
from tui.dialogs.note import NoteDialog
from tui.service import Conflict

SHOWN = ("exact", "note", "role", "tags", "relation", "author_name", "modified", "deleted")
LABELS = {"author_name": "author", "modified": "changed"}


def describe(version: dict) -> Text:
    """One version of a record, the fields a person compares."""
    text = Text()
    for key in SHOWN:
        if key in version:
            value = version[key]
            if isinstance(value, list | tuple):
                value = ", ".join(map(str, value))
            text.append(f"{LABELS.get(key, key)}: ", style="bold")
            text.append(terminal_safe(str(value)) + "\n")
            if key == "author_name":
                editor = version.get("editor_name") or value
                text.append("changed by: ", style="bold")
                text.append(terminal_safe(str(editor)) + "\n")
    return text


class ConflictsScreen(Screen[None]):
    """Conflicts left by merges: keep mine, take theirs, keep both, or edit the two."""

    BINDINGS = [
        Binding(
            "m",
            "resolve('mine')",
            "Keep mine",
            id="conflict-mine",
            tooltip="Keep your version of the note",
        ),
        Binding(
            "t",
            "resolve('theirs')",
            "Take theirs",
            id="conflict-theirs",
            tooltip="Take the colleague's version",
        ),
        Binding(
            "b",
            "resolve('both')",
            "Keep both",
            id="conflict-both",
            tooltip="Keep both notes, each under its writer's name, with the tags of both",
        ),
        Binding(
            "e",
            "edit",
            "Edit",
            id="conflict-edit",
            tooltip="Open the note editor on both versions and keep what you write",
        ),
        Binding(
            "escape", "back", "Back", id="conflicts-back", tooltip="Back to the previous screen"
        ),
    ]

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield OptionList(id="conflict-list")
        with Horizontal(id="conflict-body"):
            yield Static(id="mine")
            yield Static(id="theirs")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Conflicts"
        self.refresh_conflicts()
        self.query_one("#conflict-list", OptionList).focus()

    def refresh_conflicts(self) -> None:
        self.conflicts = self.app.service.conflicts()
        options = self.query_one("#conflict-list", OptionList)
        options.clear_options()
        for conflict in self.conflicts:
            options.add_option(Option(Text(terminal_safe(conflict.line())), id=conflict.id))
        if not self.conflicts:
            options.add_option(
                Option(
                    Text(terminal_safe(self.app.service.conflicts_settled()), style="dim"),
                    disabled=True,
                )
            )
            self.query_one("#mine", Static).update("")
            self.query_one("#theirs", Static).update("")
        else:
            options.highlighted = 0
            self._show(0)

    @on(OptionList.OptionHighlighted, "#conflict-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._show(event.option_index)

    def _show(self, index: int) -> None:
        if not (0 <= index < len(self.conflicts)):
            return
        conflict = self.conflicts[index]
        mine, theirs = conflict.mine, conflict.theirs
        if isinstance(mine, str):
            mine, theirs = json.loads(mine), json.loads(theirs)
        self.query_one("#mine", Static).update(
            Text.assemble(
                Text(f"Mine ({terminal_safe(conflict.mine_editor)})\n", style="bold underline"),
                describe(mine),
            )
        )
        self.query_one("#theirs", Static).update(
            Text.assemble(
                Text(
                    f"Theirs ({terminal_safe(conflict.theirs_editor)}, "
                    f"{terminal_safe(conflict.source)})\n",
                    style="bold underline",
                ),
                describe(theirs),
            )
        )

    def _current(self) -> Conflict | None:
        options = self.query_one("#conflict-list", OptionList)
        if options.highlighted is None or not self.conflicts:
            return None
        return self.conflicts[options.highlighted]

    def action_resolve(self, keep: str, note: str | None = None) -> None:
        conflict = self._current()
        if conflict is None:
            return
        try:
            self.app.service.resolve_conflict(conflict.id, keep, note)
        except MarginError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        done = {
            "mine": "Kept mine",
            "theirs": "Took theirs",
            "both": "Kept both",
            "edit": "Kept your edit",
        }
        self.notify(done.get(keep, keep), markup=False)
        self.refresh_conflicts()

    def action_edit(self) -> None:
        conflict = self._current()
        if conflict is None:
            return
        draft = self.app.service.conflict_draft(conflict.id)

        def done(note: str | None) -> None:
            if note is not None:
                self.action_resolve("edit", note)

        self.app.push_screen(NoteDialog(conflict.quote, draft), done)

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
