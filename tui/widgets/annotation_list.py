"""The reader's side panel: the document's annotations in order, orphaned ones last."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from store.records import Annotation
from store.sanitize import clip, terminal_safe


def annotation_label(annotation: Annotation, colour: str | None) -> Text:
    """One entry: a role mark, the quote's start, tags and the note's first words."""
    mark = "\u258c" if annotation.role == "claim" else "\u2502"
    label = Text(mark + " ", style=f"bold {colour}" if colour else "bold")
    if annotation.anchor_state == "orphaned":
        label.append("orphaned: ", style="bold red")
    elif annotation.anchor_state == "moved":
        label.append("moved: ", style="yellow")
    label.append(terminal_safe(clip(annotation.exact, 60)))
    if annotation.tags:
        label.append("  #" + " #".join(terminal_safe(t) for t in annotation.tags), style="dim")
    if annotation.note:
        label.append("\n  " + terminal_safe(clip(annotation.note, 70)), style="italic dim")
    return label


class AnnotationList(OptionList):
    """Lists annotations; selecting one posts `AnnotationList.Chosen`."""

    class Chosen(Message):
        def __init__(self, annotation: Annotation) -> None:
            super().__init__()
            self.annotation = annotation

    def show(self, annotations: list[Annotation], colours: dict[str, str]) -> None:
        """Replace the entries, keeping the highlighted one where it still exists."""
        keep = self.highlighted
        anchored = [a for a in annotations if a.anchor_state != "orphaned"]
        orphaned = [a for a in annotations if a.anchor_state == "orphaned"]
        self._annotations = {a.id: a for a in annotations}
        self.clear_options()
        for annotation in anchored + orphaned:
            colour = next((colours[t] for t in annotation.tags if t in colours), None)
            self.add_option(Option(annotation_label(annotation, colour), id=annotation.id))
        if not annotations:
            self.add_option(
                Option(Text("No notes yet: select text and press h", style="dim"), disabled=True)
            )
        elif keep is not None:
            self.highlighted = min(keep, self.option_count - 1)

    def highlight_annotation(self, annotation_id: str) -> None:
        """Move the panel's highlight to an annotation (the reader's cursor is on it)."""
        try:
            self.highlighted = self.get_option_index(annotation_id)
        except Exception:  # noqa: BLE001 - OptionDoesNotExist when the panel is stale
            pass

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        annotation = getattr(self, "_annotations", {}).get(event.option.id or "")
        if annotation is not None:
            self.post_message(self.Chosen(annotation))
