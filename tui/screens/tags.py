"""The codebook: tags with colour, description, count and where they are used."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from store.errors import MarginError
from store.records import Tag
from store.sanitize import clip, plural, terminal_safe
from tui.dialogs.ask import AskDialog
from tui.dialogs.confirm import ConfirmDialog
from tui.service import TAG_PALETTE


class TagsScreen(Screen[None]):
    """Create, rename, merge, recolour and delete tags."""

    BINDINGS = [
        Binding("a", "create_tag", "New", id="tag-create", tooltip="Add a tag to the codebook"),
        Binding("r", "rename_tag", "Rename", id="tag-rename", tooltip="Rename the tag everywhere"),
        Binding("m", "merge_tag", "Merge", id="tag-merge", tooltip="Merge the tag into another"),
        Binding(
            "c",
            "recolour_tag",
            "Colour",
            id="tag-recolour",
            tooltip="Give the tag the next colour of the palette",
        ),
        Binding(
            "d",
            "describe_tag",
            "Describe",
            id="tag-describe",
            tooltip="Write the tag's description",
        ),
        Binding(
            "delete",
            "delete_tag",
            "Delete",
            id="tag-delete",
            tooltip="Delete the tag from the codebook",
        ),
        Binding("escape", "back", "Back", id="tags-back", tooltip="Back to the previous screen"),
    ]

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with Horizontal(id="tags-body"):
            yield DataTable(id="tags", cursor_type="row", zebra_stripes=True)
            yield Static(id="tag-preview")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Codebook"
        table = self.query_one("#tags", DataTable)
        for label in ("Colour", "Tag", "Count", "Description"):
            table.add_column(label, key=label.lower())
        self.refresh_tags()
        table.focus()

    def library_changed(self) -> None:
        """Another process changed the library: the codebook and its counts again."""
        self.refresh_tags()

    def refresh_tags(self, select: str | None = None) -> None:
        self.tags = self.app.service.tags()
        table = self.query_one("#tags", DataTable)
        keep = table.cursor_row
        table.clear()
        depths: dict[str, int] = {}  # names sort parents first
        for tag in self.tags:
            # Indented under its parent only when the parent is a tag; else its whole path.
            parent = tag.name.rpartition("/")[0]
            depth = depths[tag.name] = depths[parent] + 1 if parent in depths else 0
            table.add_row(
                Text("\u2588\u2588", style=tag.colour),
                Text("  " * depth + terminal_safe(tag.name)),
                Text(str(tag.count)),
                Text(terminal_safe(clip(tag.description, 50))),
                key=tag.name,
            )
        if select is not None:
            names = [t.name for t in self.tags]
            keep = names.index(select) if select in names else keep
        if self.tags:
            table.move_cursor(row=min(keep, len(self.tags) - 1))
            self._preview()

    def _current(self):  # noqa: ANN202
        table = self.query_one("#tags", DataTable)
        if not self.tags:
            return None
        return self.tags[min(table.cursor_row, len(self.tags) - 1)]

    @on(DataTable.RowHighlighted, "#tags")
    def _preview(self) -> None:
        tag = self._current()
        preview = self.query_one("#tag-preview", Static)
        if tag is None:
            preview.update(
                Text("No tags yet: press a to add one, or t in the reader.", style="dim")
            )
            return
        rows = self.app.service.tag_examples(tag.name)
        text = Text(f"#{terminal_safe(tag.name)}\n", style=f"bold {tag.colour}")
        if tag.description:
            text.append(terminal_safe(tag.description) + "\n", style="italic")
        text.append("\n")
        for exact, title in rows:
            text.append("\u201c" + terminal_safe(clip(exact, 90)) + "\u201d\n")
            text.append(f"   {terminal_safe(clip(title, 50))}\n", style="dim")
        if not rows:
            text.append("not used yet", style="dim")
        preview.update(text)

    def _do(self, action, done, select: str | None = None) -> None:  # noqa: ANN001
        """Run a codebook change; `done` is the message, or makes it from the Tag returned
        (so it names the tag as stored: "#Foo" typed is "Foo")."""
        try:
            result = action()
        except MarginError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        if isinstance(result, Tag):
            select = result.name
        self.refresh_tags(select)
        self.notify(done(result) if callable(done) else done, markup=False)

    def action_create_tag(self) -> None:
        def create(name: str | None) -> None:
            if name:
                self._do(lambda: self.app.service.create_tag(name), lambda t: f"Added #{t.name}")

        self.app.push_screen(AskDialog("New tag (a path like econ/trade nests it)"), create)

    def action_rename_tag(self) -> None:
        tag = self._current()
        if tag is None:
            return

        def rename(name: str | None) -> None:
            if name and name != tag.name:
                self._do(
                    lambda: self.app.service.rename_tag(tag.name, name),
                    lambda t: f"Renamed to #{t.name}",
                )

        self.app.push_screen(AskDialog(f"Rename #{tag.name} to", value=tag.name), rename)

    def action_merge_tag(self) -> None:
        tag = self._current()
        if tag is None:
            return
        others = [t.name for t in self.tags if t.name != tag.name]

        def merge(target: str | None) -> None:
            if target:
                self._do(
                    lambda: self.app.service.merge_tags(tag.name, target),
                    lambda t: f"Merged #{tag.name} into #{t.name}",
                )

        self.app.push_screen(
            AskDialog(f"Merge #{tag.name} ({plural(tag.count, 'use')}) into", suggestions=others),
            merge,
        )

    def action_recolour_tag(self) -> None:
        tag = self._current()
        if tag is None:
            return
        palette = list(TAG_PALETTE)
        colour = (
            palette[(palette.index(tag.colour) + 1) % len(palette)]
            if tag.colour in palette
            else palette[0]
        )
        self._do(
            lambda: self.app.service.update_tag(tag.name, colour=colour),
            f"#{tag.name} is now {colour}",
            tag.name,
        )

    def action_describe_tag(self) -> None:
        tag = self._current()
        if tag is None:
            return

        def describe(text: str | None) -> None:
            if text is not None:
                self._do(
                    lambda: self.app.service.update_tag(tag.name, description=text),
                    "Description saved",
                    tag.name,
                )

        self.app.push_screen(AskDialog(f"What #{tag.name} means", value=tag.description), describe)

    def action_delete_tag(self) -> None:
        tag = self._current()
        if tag is None:
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self._do(lambda: self.app.service.delete_tag(tag.name), f"Deleted #{tag.name}")

        self.app.push_screen(
            ConfirmDialog(
                f"Delete #{tag.name}? It comes off {tag.count} annotation{'s' if tag.count != 1 else ''}."
            ),
            answer,
        )

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
