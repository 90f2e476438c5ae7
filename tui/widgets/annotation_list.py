"""The reader's side panel: the document's annotations in order, orphaned ones last.

Every entry is two rows high (the quote, then its tags and note), so the panel knows its
height and which entry a row shows without measuring any of them, and it draws only the rows
on screen. An `OptionList` measured and wrapped every entry on each reload: 0.8 s of CPU per
new highlight with 1,000 notes on War and Peace, 3.3-3.9 s with 5,000 (issue 11).
"""

from __future__ import annotations

from rich.segment import Segment
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from store.records import Annotation
from store.sanitize import clip, terminal_safe

ROWS = 2
"""Rows per entry: the quote, then tags and the note's first words."""
EMPTY = "No notes yet: select text and press h"


def annotation_label(annotation: Annotation, colour: str | None) -> Text:
    """One entry, two lines: a role mark and the quote's start; tags and the note."""
    mark = "\u258c" if annotation.role == "claim" else "\u2502"
    label = Text(mark + " ", style=f"bold {colour}" if colour else "bold", no_wrap=True)
    if annotation.anchor_state == "orphaned":
        label.append("orphaned: ", style="bold red")
    elif annotation.anchor_state == "moved":
        label.append("moved: ", style="yellow")
    label.append(terminal_safe(clip(annotation.exact, 60)))
    label.append("\n  ")
    # The note first: in a narrow panel it says more than the tags, which the colour shows.
    if annotation.note:
        label.append(terminal_safe(clip(annotation.note, 70)) + " ", style="italic")
    if annotation.tags:
        label.append("#" + " #".join(terminal_safe(t) for t in annotation.tags), style="dim")
    return label


class AnnotationList(ScrollView, can_focus=True):
    """Lists annotations; enter (or a click) on one posts `AnnotationList.Chosen`."""

    COMPONENT_CLASSES = {"annotation-list--highlight", "annotation-list--empty"}
    DEFAULT_CSS = """
    AnnotationList {
        & > .annotation-list--highlight { background: $block-cursor-blurred-background; }
        &:focus > .annotation-list--highlight {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
        }
        & > .annotation-list--empty { color: $text-muted; }
    }
    """
    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False, id="notes-up", tooltip="The previous note"),
        Binding("down", "move(1)", "Down", show=False, id="notes-down", tooltip="The next note"),
        Binding(
            "pageup", "page(-1)", "Page up", show=False, id="notes-page-up", tooltip="A screen up"
        ),
        Binding(
            "pagedown",
            "page(1)",
            "Page down",
            show=False,
            id="notes-page-down",
            tooltip="A screen down",
        ),
        Binding("home", "first", "First", show=False, id="notes-first", tooltip="The first note"),
        Binding("end", "last", "Last", show=False, id="notes-last", tooltip="The last note"),
        Binding(
            "enter",
            "choose",
            "Go to note",
            id="notes-choose",
            tooltip="Go to the note in the text (an orphan: re-attach it to the selection)",
        ),
    ]

    highlighted: reactive[int | None] = reactive(None)
    """The index of the entry under the panel's cursor."""

    class Chosen(Message):
        def __init__(self, annotation: Annotation) -> None:
            super().__init__()
            self.annotation = annotation

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self._entries: list[tuple[Annotation, str | None]] = []
        self._index: dict[str, int] = {}
        self._generation = 0
        self._cache: LRUCache[tuple, Strip] = LRUCache(256)

    # -- contents -----------------------------------------------------------------------

    def show(self, annotations: list[Annotation], colours: dict[str, str]) -> None:
        """Replace the entries, keeping the highlighted one where it still exists.

        Nothing is measured or drawn here: the cost is a sort, whatever the note count.
        """
        keep = self.highlighted
        kept_id = self._entries[keep][0].id if keep is not None and self._entries else None
        ordered = [a for a in annotations if a.anchor_state != "orphaned"]
        ordered += [a for a in annotations if a.anchor_state == "orphaned"]
        self._entries = [
            (a, next((colours[t] for t in a.tags if t in colours), None)) for a in ordered
        ]
        self._index = {a.id: n for n, a in enumerate(ordered)}
        self._generation += 1
        self._cache.clear()
        self._set_virtual_size()
        if not ordered:
            self.highlighted = None
        elif kept_id in self._index:
            self.highlighted = self._index[kept_id]
        elif keep is not None:
            self.highlighted = min(keep, len(ordered) - 1)
        self.refresh()

    @property
    def option_count(self) -> int:
        """How many notes are listed."""
        return len(self._entries)

    def annotation_at(self, index: int) -> Annotation:
        """The note listed at `index` (orphans come last)."""
        return self._entries[index][0]

    def label_at(self, index: int) -> Text:
        """The two lines shown for the note at `index`."""
        annotation, colour = self._entries[index]
        return annotation_label(annotation, colour)

    def highlight_annotation(self, annotation_id: str) -> None:
        """Move the panel's highlight to an annotation (the reader's cursor is on it)."""
        index = self._index.get(annotation_id)
        if index is not None:
            self.highlighted = index

    # -- drawing --------------------------------------------------------------------------

    def _set_virtual_size(self) -> None:
        rows = ROWS * len(self._entries) if self._entries else 1
        self.virtual_size = Size(self.scrollable_content_region.width, rows)

    def on_resize(self, event: events.Resize) -> None:
        self._cache.clear()
        self._set_virtual_size()

    def watch_highlighted(self, old: int | None, new: int | None) -> None:
        if new is None:
            self.refresh()
            return
        top = self.scroll_offset.y
        self.scroll_to_region(
            Region(0, new * ROWS, self.scrollable_content_region.width, ROWS),
            animate=False,
            immediate=True,
        )
        if self.scroll_offset.y != top:
            self.refresh()
            return
        # Only the two entries that changed: the reader moves the highlight on every cursor
        # move, and a whole redraw of the panel made page-down 1.6x dearer with 5,000 notes.
        for index in (old, new):
            if index is not None:
                self.refresh_lines(index * ROWS, ROWS)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        line = self.scroll_offset.y + y
        if not self._entries:
            if line:
                return Strip.blank(width)
            style = self.get_component_rich_style("annotation-list--empty")
            return Strip([Segment(clip(EMPTY, width), style)]).extend_cell_length(width)
        index, row = divmod(line, ROWS)
        if index >= len(self._entries):
            return Strip.blank(width)
        chosen = index == self.highlighted
        key = (self._generation, index, row, width, chosen, self.has_focus)
        strip = self._cache.get(key)
        if strip is None:
            text = self.label_at(index).split("\n")[row]
            text.truncate(width, overflow="ellipsis")
            base = self.rich_style
            if chosen:
                base += self.get_component_rich_style("annotation-list--highlight")
            segments = [
                Segment(s.text, base + s.style if s.style else base)
                for s in text.render(self.app.console)
            ]
            strip = Strip(segments).extend_cell_length(width, base).crop(0, width)
            self._cache[key] = strip
        return strip

    def on_focus(self) -> None:
        if self.highlighted is None and self._entries:
            self.highlighted = 0
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # -- keys and mouse ---------------------------------------------------------------------

    def _go(self, index: int) -> None:
        if self._entries:
            self.highlighted = max(0, min(index, len(self._entries) - 1))

    def action_move(self, step: int) -> None:
        self._go((self.highlighted if self.highlighted is not None else -1) + step)

    def action_page(self, step: int) -> None:
        page = max(1, self.scrollable_content_region.height // ROWS)
        self._go((self.highlighted or 0) + step * page)

    def action_first(self) -> None:
        self._go(0)

    def action_last(self) -> None:
        self._go(len(self._entries) - 1)

    def action_choose(self) -> None:
        if self.highlighted is not None and self._entries:
            self.post_message(self.Chosen(self._entries[self.highlighted][0]))

    def on_click(self, event: events.Click) -> None:
        event.stop()
        index = (self.scroll_offset.y + event.y) // ROWS
        if 0 <= index < len(self._entries):
            self.highlighted = index
            self.action_choose()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()
