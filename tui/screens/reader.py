"""The reader: one document, its annotations drawn in place, and the keys that annotate it.

Every key that changes notes calls `tui.service`; the screen only decides what the key
applies to: the selection when there is one, otherwise the annotation under the cursor.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static

from store.citation import annotation_citation, quote_with_citation
from store.errors import MarginError
from store.fold import FoldedText, fold
from store.records import Annotation, Document
from store.sanitize import clip, terminal_safe
from tui import clipboard
from tui.dialogs.link import LinkChoice, LinkDialog
from tui.dialogs.note import NoteDialog
from tui.dialogs.tag import tag_dialog
from tui.reflow import reflow, wrap_width
from tui.service import tag_name
from tui.widgets.annotation_list import AnnotationList
from tui.widgets.reader_view import ReaderView, Span


def _tag_binding(n: int) -> Binding:
    return Binding(
        str(n),
        f"quick_tag({n})",
        f"tag {n}",
        show=False,
        id=f"quick-tag-{n}",
        tooltip=f"Apply the codebook's tag number {n} (or take it off the note)",
    )


class ReaderScreen(Screen[None]):
    """Read and annotate one document."""

    BINDINGS = [
        Binding("h", "highlight", "Highlight", id="highlight", tooltip="Highlight the selection"),
        Binding(
            "c",
            "mark_claim",
            "Claim",
            id="mark-claim",
            tooltip="Mark the selection as a claim, or toggle claim on the annotation here",
        ),
        Binding("t", "tag", "Tag", id="tag", tooltip="Tag the selection or the annotation here"),
        Binding(
            "n", "note", "Note", id="note", tooltip="Write or edit the note of the annotation here"
        ),
        Binding(
            "e",
            "link_evidence",
            "Evidence",
            id="link-evidence",
            tooltip="Link the selection or annotation here as evidence for a claim",
        ),
        Binding(
            "y",
            "copy_citation",
            "Copy",
            id="copy-citation",
            tooltip="Copy the quote with its citation",
        ),
        Binding(
            "x",
            "delete_annotation",
            "Delete",
            id="delete-annotation",
            tooltip="Delete the annotation here (undo with u)",
        ),
        Binding("u", "undo", "Undo", id="undo", tooltip="Undo the last change"),
        Binding("slash", "find", "Find", id="find", tooltip="Find in the document"),
        Binding(
            "greater_than_sign",
            "find_next",
            "Next match",
            show=False,
            id="find-next",
            tooltip="Go to the next match of the find",
        ),
        Binding(
            "less_than_sign",
            "find_previous",
            "Previous match",
            show=False,
            id="find-previous",
            tooltip="Go to the previous match of the find",
        ),
        Binding(
            "tab",
            "switch_focus",
            "Panel",
            id="focus-panel",
            tooltip="Move between the document and the annotations panel",
        ),
        Binding(
            "r",
            "toggle_reflow",
            "Reflow",
            show=False,
            id="toggle-reflow",
            tooltip="Show hard-wrapped lines (PDF, plain-text books) as flowing paragraphs, or as laid out",
        ),
        Binding(
            "backslash",
            "toggle_panel",
            "Hide panel",
            show=False,
            id="toggle-panel",
            tooltip="Show or hide the annotations panel",
        ),
        Binding(
            "escape",
            "back",
            "Back",
            id="reader-back",
            tooltip="Clear the selection, or go back to the library",
        ),
        *[_tag_binding(n) for n in range(1, 10)],
    ]

    def __init__(self, document_id: str, offset: int | None = None, length: int = 0) -> None:
        super().__init__()
        self.document_id = document_id
        self.start_offset = offset
        self.start_length = length
        self.find_text = ""
        self._find_origin = 0
        self.reflowed = True  # hard-wrapped lines shown as paragraphs (r shows the layout)
        self._find_missing = False  # the word being typed in find is not in the text

    @property
    def service(self):  # noqa: ANN201
        return self.app.service

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with Horizontal(id="reader-body"):
            yield ReaderView(id="reader")
            yield AnnotationList(id="annotations")
        yield Input(
            placeholder="find in document (enter keeps the place, escape cancels)", id="find"
        )
        yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.document: Document = self.service.document(self.document_id)
        self.title = terminal_safe(self.document.title)
        self.sub_title = terminal_safe(self.document.author or "")
        reader = self.reader
        reader.load_text(self._shown_text())
        self.query_one("#find", Input).display = False
        self.reload_annotations()
        if self.start_offset is not None:
            reader.go_to(self.start_offset, self.start_length)
        reader.focus()
        self._update_status()

    def _shown_text(self) -> str:
        """The text as drawn: the same length as the stored text, so offsets are shared."""
        return reflow(self.document.text) if self.reflowed else self.document.text

    def action_toggle_reflow(self) -> None:
        if wrap_width(self.document.text) is None:
            self.notify(
                "This document's lines are not hard-wrapped: it is shown as it is.",
                markup=False,
            )
            return
        self.reflowed = not self.reflowed
        reader = self.reader
        cursor = reader.cursor
        reader.load_text(self._shown_text())
        reader.go_to(cursor)
        self.notify(
            "Paragraphs reflowed to the window" if self.reflowed else "Lines as laid out",
            markup=False,
        )

    @property
    def reader(self) -> ReaderView:
        return self.query_one("#reader", ReaderView)

    # -- annotations in view ----------------------------------------------------------------

    def reload_annotations(self, changed: Annotation | None = None) -> None:
        """Read this document's annotations again and redraw them.

        After an edit of one note, only that note is read again and re-drawn: reading all of
        them, the codebook's counts and every span again cost 100 ms of CPU per new highlight
        with 5,000 notes on War and Peace (bench/reader.py).
        """
        service = self.service
        if changed is None or not hasattr(self, "annotations"):
            self.annotations: list[Annotation] = service.annotations(self.document_id)
            self.colours = {t.name: t.colour for t in service.tags()}
            self._evidence_ids = service.evidence_ids(self.document_id)
            self._spans = {a.id: self._span(a) for a in self.annotations}
        else:
            by_id = {a.id: a for a in self.annotations}
            self._spans.pop(changed.id, None)
            if changed.deleted or changed.document_id != self.document_id:
                by_id.pop(changed.id, None)
            else:
                by_id[changed.id] = changed
                if any(t not in self.colours for t in changed.tags):  # a new tag's colour
                    self.colours = {t.name: t.colour for t in service.tags()}
                self._spans[changed.id] = self._span(changed)
            # The library's order: by start, then end, then creation.
            self.annotations = sorted(by_id.values(), key=lambda a: (a.start, a.end, a.created))
        self._by_id = {a.id: a for a in self.annotations}
        self.reader.set_spans(span for span in self._spans.values() if span is not None)
        self.query_one("#annotations", AnnotationList).show(self.annotations, self.colours)
        self._update_status()

    def _span(self, annotation: Annotation) -> Span | None:
        """How the reader draws a note (an orphan is not drawn: its words are gone)."""
        if annotation.anchor_state == "orphaned":
            return None
        return Span(
            start=annotation.start,
            end=annotation.end,
            id=annotation.id,
            role=annotation.role,
            tag_colour=next((self.colours[t] for t in annotation.tags if t in self.colours), None),
            evidence=annotation.id in self._evidence_ids,
        )

    def library_changed(self) -> None:
        """Another process changed the library: a new version of this text, or its notes."""
        try:
            document = self.service.document(self.document_id)
        except MarginError:
            self.notify("This document was deleted elsewhere.", severity="warning", markup=False)
            self.app.pop_screen()
            return
        if document.sha256 != self.document.sha256:
            cursor = self.reader.cursor
            self.document = document
            self.reader.load_text(self._shown_text())
            self.reader.go_to(min(cursor, len(document.text)))
            self.notify("A new version of this document was imported.", markup=False)
        self.reload_annotations()

    def on_screen_suspend(self) -> None:
        self._suspended = True

    def on_screen_resume(self) -> None:
        # Back from a screen on top (tags, claims): the codebook or the links may have changed.
        if getattr(self, "_suspended", False):
            self._suspended = False
            self.reload_annotations()

    def _annotation_here(self) -> Annotation | None:
        spans = self.reader.spans_at(self.reader.cursor)
        if not spans:
            return None
        # The narrowest span is the one the user sees on top.
        span = min(spans, key=lambda s: s.end - s.start)
        return self._by_id.get(span.id)

    def _target(self, *, create: str | None = None) -> Annotation | None:
        """The annotation a key applies to: a new one from the selection, or the one here."""
        start, end = self.reader.selection
        if end > start and create is not None:
            annotation = self.service.annotate(self.document_id, start, end, role=create)
            # The cursor goes onto the new note, so the next key (t, n, e) applies to it. The
            # caller (`_run`) reloads the notes once: a second reload here doubled the cost.
            self.reader.place_cursor(start)
            return annotation
        found = self._annotation_here()
        if found is None:
            self.notify(
                "Select some text first (v, shift+arrows, s or p), or move onto a note.",
                severity="warning",
                markup=False,
            )
        return found

    def _subject(self) -> Annotation | tuple[int, int] | None:
        """What t, n and e apply to: the note here, mine on exactly the selection, or the
        selected span itself, which becomes a highlight only when the dialog is confirmed (a
        cancelled dialog must leave nothing behind)."""
        start, end = self.reader.selection
        if end > start:
            existing = self.service.own_annotation_at(self.document_id, start, end)
            return existing if existing is not None else (start, end)
        return self._target()

    def _create(
        self, span: tuple[int, int], *, tags: tuple[str, ...] | list[str] = (), note: str = ""
    ) -> Annotation:
        """A highlight on a pending span, with what its dialog gave (tags, a note)."""
        start, end = span
        annotation = self.service.annotate(self.document_id, start, end, tags=tags, note=note)
        self.reader.place_cursor(start)
        return annotation

    def _update_status(self) -> None:
        reader = self.reader
        where = self.document.position_label(reader.cursor)
        status = Text(f" {where}", style="bold")
        start, end = reader.selection
        if end > start:
            status.append(f"  selected {end - start} characters")
        here = self._annotation_here() if hasattr(self, "annotations") else None
        if here is not None:
            status.append(f"  {here.role}", style="bold")
            if here.tags:
                status.append("  #" + " #".join(terminal_safe(t) for t in here.tags))
            if here.note:
                status.append("  \u270e " + terminal_safe(clip(here.note, 60)), style="italic")
        self.query_one("#status", Static).update(status)

    @on(ReaderView.SelectionChanged)
    @on(ReaderView.CursorMoved)
    def _moved(self, event: ReaderView.SelectionChanged | ReaderView.CursorMoved) -> None:
        self._update_status()
        here = self._annotation_here()
        if here is not None:
            self.query_one("#annotations", AnnotationList).highlight_annotation(here.id)

    @on(AnnotationList.Chosen)
    def _jump(self, event: AnnotationList.Chosen) -> None:
        annotation = event.annotation
        if annotation.anchor_state == "orphaned":
            start, end = self.reader.selection
            if end > start:
                self._run(
                    lambda: self.service.reattach(annotation.id, start, end),
                    "Re-attached to the selection (u undoes)",
                )
                self.reader.place_cursor(start)
                self.reader.focus()
                return
            self.notify(
                f"Orphaned: \u201c{clip(annotation.exact, 80)}\u201d is no longer in this text. "
                "Select its new place in the document, then press enter on it here to re-attach it.",
                severity="warning",
                markup=False,
                timeout=8,
            )
            return
        self.reader.go_to(annotation.start, annotation.end - annotation.start)
        self.reader.focus()

    # -- actions ------------------------------------------------------------------------

    def _run(self, action, done: str | None = None) -> None:  # noqa: ANN001
        try:
            result = action()
        except MarginError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        # A note the action returns is the one that changed; anything else reads them all.
        self.reload_annotations(result if isinstance(result, Annotation) else None)
        if done:
            self.notify(done, markup=False)

    def action_highlight(self) -> None:
        start, end = self.reader.selection
        if end <= start:
            self.notify(
                "Select some text first (v, shift+arrows, s or p).",
                severity="warning",
                markup=False,
            )
            return
        existing = self.service.own_annotation_at(self.document_id, start, end)
        if existing is not None:
            self.reader.place_cursor(start)
            self.notify(f"Already a {existing.role} here", markup=False)
            return
        self._run(lambda: self._target(create="highlight"), "Highlighted")

    def action_mark_claim(self) -> None:
        start, end = self.reader.selection
        if end > start:
            self._run(lambda: self._target(create="claim"), "Marked as a claim")
            return
        here = self._target()
        if here is not None:
            role = "highlight" if here.role == "claim" else "claim"
            self._run(lambda: self.service.set_role(here.id, role), f"Now a {role}")

    def action_tag(self) -> None:
        subject = self._subject()
        if subject is None:
            return
        names = [t.name for t in self.service.tags()]
        current = subject.tags if isinstance(subject, Annotation) else ()

        def apply(typed: str | None) -> None:
            if not typed:
                return
            try:
                name = tag_name(typed)  # the message names the tag as stored
            except MarginError as error:
                self.notify(str(error), severity="error", markup=False)
                return
            self._apply_tag(subject, name)

        self.app.push_screen(tag_dialog(names, current), apply)

    def _apply_tag(self, subject: Annotation | tuple[int, int], name: str) -> None:
        """Tag a new span, or toggle the tag on a note: one it has already comes off."""
        try:
            if isinstance(subject, Annotation):
                changed, added = self.service.toggle_tag(subject.id, name)
            else:
                changed, added = self._create(subject, tags=[name]), True
        except MarginError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        self.reload_annotations(changed)
        self.notify(f"Tagged #{name}" if added else f"Took #{name} off", markup=False)

    def action_quick_tag(self, number: int) -> None:
        tags = self.service.tags()
        if number > len(tags):
            self.notify(
                f"The codebook has {len(tags)} tags; there is no tag {number}.",
                severity="warning",
                markup=False,
            )
            return
        subject = self._subject()
        if subject is not None:
            self._apply_tag(subject, tags[number - 1].name)

    def action_note(self) -> None:
        subject = self._subject()
        if subject is None:
            return
        if isinstance(subject, Annotation):
            quote, note = subject.exact, subject.note
        else:
            quote, note = self.document.text[subject[0] : subject[1]], ""

        def save(text: str | None) -> None:
            if text is None:
                return
            if isinstance(subject, Annotation):
                self._run(lambda: self.service.set_note(subject.id, text), "Note saved")
            elif text.strip():  # an empty note on a new span would be a bare highlight
                self._run(lambda: self._create(subject, note=text), "Note saved")

        self.app.push_screen(NoteDialog(quote, note), save)

    def action_link_evidence(self) -> None:
        subject = self._subject()
        if subject is None:
            return
        own_id = subject.id if isinstance(subject, Annotation) else None
        claims = self.service.claims()
        if not [c for c in claims if c.claim.id != own_id]:
            self.notify(
                "There are no claims yet: select a passage and press c to mark one.",
                severity="warning",
                markup=False,
            )
            return

        def link(choice: LinkChoice | None) -> None:
            if choice is None:
                return

            def run() -> None:
                evidence = subject if isinstance(subject, Annotation) else self._create(subject)
                self.service.link(choice.claim_id, evidence.id, relation=choice.relation)

            self._run(run, f"Linked as evidence ({choice.relation})")

        self.app.push_screen(LinkDialog(claims, exclude=own_id), link)

    def action_copy_citation(self) -> None:
        start, end = self.reader.selection
        if end > start:
            text = quote_with_citation(self.document, start, end)
        else:
            here = self._annotation_here()
            if here is None:
                self.notify(
                    "Select some text, or move onto a note, to copy it.",
                    severity="warning",
                    markup=False,
                )
                return
            text = annotation_citation(self.document, here)
        route = clipboard.copy(text, self.app.copy_to_clipboard)
        self.app.last_copied = text
        self.notify(f"Quote {route}", markup=False)

    def action_delete_annotation(self) -> None:
        here = self._target()
        if here is not None:
            self._run(lambda: self.service.delete_annotation(here.id), "Deleted (u undoes)")

    def action_undo(self) -> None:
        try:
            undone = self.service.undo()
        except MarginError as error:
            self.notify(str(error), severity="warning", markup=False)
            return
        self.reload_annotations()
        self.notify(f"Undone: {undone}", markup=False)

    def action_toggle_panel(self) -> None:
        panel = self.query_one("#annotations", AnnotationList)
        panel.display = not panel.display
        if not panel.display:
            self.reader.focus()

    def action_switch_focus(self) -> None:
        panel = self.query_one("#annotations", AnnotationList)
        if panel.has_focus:
            self.reader.focus()
            return
        panel.display = True
        panel.focus()

    def action_back(self) -> None:
        find = self.query_one("#find", Input)
        if find.has_focus:
            # Escape in the find input cancels it: back to where the cursor was.
            self.reader.go_to(self._find_origin)
            self._close_find()
            return
        start, end = self.reader.selection
        if end > start:
            self.reader.clear_selection()
            return
        self.app.pop_screen()

    # -- find in document ---------------------------------------------------------------

    def action_find(self) -> None:
        find = self.query_one("#find", Input)
        self._find_origin = self.reader.cursor
        find.display = True
        find.value = self.find_text
        find.focus()

    @on(Input.Changed, "#find")
    def _find_typed(self, event: Input.Changed) -> None:
        # Quiet while typing: a toast per keystroke stacked four deep over the text ("Not
        # found: Nata", "Not found: Natas"...). The input's red border says it; enter, once.
        found = bool(event.value) and self._find_from(
            event.value, self._find_origin, forward=True, quiet=True
        )
        self._find_missing = bool(event.value) and not found
        event.input.set_class(self._find_missing, "-invalid")

    @on(Input.Submitted, "#find")
    def _find_done(self, event: Input.Submitted) -> None:
        self.find_text = event.value
        if self._find_missing:
            self.notify(f"Not found: {event.value}", severity="warning", markup=False)
        self._close_find()

    def _close_find(self) -> None:
        find = self.query_one("#find", Input)
        find.display = False
        self.reader.focus()

    def _find_from(self, needle: str, origin: int, *, forward: bool, quiet: bool = False) -> bool:
        """Go to the next (or previous) match of `needle` from `origin`, wrapping around.

        Matching is on store.fold's folded text ("natasha" finds "Natásha", "filled" finds
        "ﬁlled", any case), whose offsets map back, so the original characters are marked;
        a space in the needle matches any run of whitespace, so a phrase is found across a
        line break, as the reflowed screen shows it.
        """
        words = fold(needle).split()
        if not words:
            return False
        pattern = re.compile(r"\s+".join(map(re.escape, words)))
        folded = self._folded_document()
        text = folded.text
        at = folded.to_folded(origin)
        wrapped = False
        if forward:
            found = pattern.search(text, at)
            if found is None:
                found, wrapped = pattern.search(text), True
        else:
            found = _last(pattern.finditer(text, 0, max(0, at)))
            if found is None:
                found, wrapped = _last(pattern.finditer(text)), True
        if found is None:
            if not quiet:
                self.notify(f"Not found: {needle}", severity="warning", markup=False)
            return False
        start, end = folded.original_span(found.start(), found.end())
        self.reader.go_to(start, end - start)
        if wrapped and origin and not quiet:
            self.notify(
                "Wrapped to the first match" if forward else "Wrapped to the last match",
                markup=False,
            )
        return True

    def _folded_document(self) -> FoldedText:
        """The document's folded view, built once per text (0.2 s for War and Peace)."""
        text = self.document.text
        cached = getattr(self, "_folded", None)
        if cached is None or cached[0] is not text:
            cached = self._folded = (text, FoldedText(text))
        return cached[1]

    def action_find_next(self) -> None:
        if self.find_text:
            self._find_from(self.find_text, self.reader.cursor + 1, forward=True)

    def action_find_previous(self) -> None:
        if self.find_text:
            self._find_from(self.find_text, self.reader.cursor, forward=False)


def _last(matches: Iterator[re.Match[str]]) -> re.Match[str] | None:
    """The last of the matches, or None."""
    tail = deque(matches, maxlen=1)
    return tail[0] if tail else None
