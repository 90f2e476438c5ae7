"""One claim beside its evidence: each passage in its context, its relation, and the verdicts."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from store.citation import citation
from store.errors import MarginError
from store.records import Annotation, Link
from store.sanitize import terminal_safe
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.verdict import VerdictChoice, VerdictDialog
from tui.service import Suggestion, Suggestions

SHOWN_AROUND = 240
RELATION_MARK = {
    "supports": "+ supports",
    "contradicts": "\u2212 contradicts",
    "context": "~ context",
}


def _unwrap(text: str) -> str:
    # Hard-wrapped sources (PDF lines, plain text) read better joined; one character for one.
    return text.replace("\n\n", "\0\0").replace("\n", " ").replace("\0\0", "\n\n")


def in_context(text: str, start: int, end: int, *, width: int = SHOWN_AROUND) -> Text:
    """The passage with some text each side, the passage itself marked."""
    lo, hi = max(0, start - width), min(len(text), end + width)
    # Cut at whole words: a character count cut "…l economic and security arrangements".
    if lo > 0:
        lo = next((n + 1 for n in range(lo, start) if text[n].isspace()), lo)
    if hi < len(text):
        hi = next((n for n in range(hi, end, -1) if text[n].isspace()), hi)
    shown = Text("\u2026" if lo > 0 else "")
    shown.append(terminal_safe(_unwrap(text[lo:start])))
    shown.append(terminal_safe(_unwrap(text[start:end])), style="bold underline")
    shown.append(terminal_safe(_unwrap(text[end:hi])))
    shown.append("\u2026" if hi < len(text) else "")
    return shown


class ClaimScreen(Screen[None]):
    """Review one claim: its context on the left, its evidence on the right."""

    BINDINGS = [
        Binding(
            "r",
            "record_verdict",
            "Verdict",
            id="record-verdict",
            tooltip="Record a verdict with a comment",
        ),
        Binding(
            "o",
            "open_evidence",
            "Open evidence",
            id="open-evidence",
            tooltip="Open the selected evidence in the reader",
        ),
        Binding(
            "c",
            "open_claim_in_reader",
            "Open claim",
            id="open-claim-reader",
            tooltip="Open the claim in the reader",
        ),
        Binding(
            "x",
            "unlink",
            "Unlink",
            id="unlink-evidence",
            tooltip="Remove the selected evidence link",
        ),
        Binding(
            "s",
            "suggest",
            "Suggest",
            id="suggest-evidence",
            tooltip="List the passages of the library most like this claim",
        ),
        Binding(
            "1",
            "link_suggestion('supports')",
            "Supports",
            id="suggestion-supports",
            tooltip="Link the selected suggestion as supporting the claim",
        ),
        Binding(
            "2",
            "link_suggestion('contradicts')",
            "Contradicts",
            id="suggestion-contradicts",
            tooltip="Link the selected suggestion as contradicting the claim",
        ),
        Binding(
            "3",
            "link_suggestion('context')",
            "Context",
            id="suggestion-context",
            tooltip="Link the selected suggestion as context for the claim",
        ),
        Binding("escape", "back", "Back", id="claim-back", tooltip="Back to the claims board"),
    ]

    class SuggestionsReady(Message):
        """The passages most like the claim were found (in a worker)."""

        def __init__(self, found: Suggestions) -> None:
            super().__init__()
            self.found = found

    def __init__(self, claim_id: str) -> None:
        super().__init__()
        self.claim_id = claim_id
        self.suggestions: list[Suggestion] = []

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with Horizontal(id="claim-body"):
            with VerticalScroll(id="claim-side"):
                yield Static(id="claim-context")
                yield Static(id="claim-history")
            with Vertical(id="claim-right"):
                yield OptionList(id="evidence")
                yield OptionList(id="suggestions")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_claim()
        self.query_one("#evidence", OptionList).focus()

    def on_screen_resume(self) -> None:
        self.refresh_claim()

    def library_changed(self) -> None:
        """Another process changed the library: the claim, its verdicts and evidence again."""
        try:
            self.refresh_claim()
        except MarginError:
            self.notify("This claim was deleted elsewhere.", severity="warning", markup=False)
            self.app.pop_screen()

    def refresh_claim(self) -> None:
        service = self.app.service
        self.claim: Annotation = service.annotation(self.claim_id)
        document = service.document(self.claim.document_id)
        self.title = "Claim"
        self.sub_title = terminal_safe(document.title)
        head = Text(
            f"Claim \u00b7 {terminal_safe(citation(document, self.claim.start))}\n", style="bold"
        )
        if self.claim.anchor_state != "ok":
            head.append(f"anchor {self.claim.anchor_state}\n", style="bold red")
        body = Text.assemble(
            head, in_context(document.text, self.claim.start, self.claim.end, width=320)
        )
        if self.claim.note:
            body.append("\n\nnote: ", style="bold")
            body.append(terminal_safe(self.claim.note))
        if self.claim.tags:
            body.append("\n#" + " #".join(terminal_safe(t) for t in self.claim.tags), style="dim")
        self.query_one("#claim-context", Static).update(body)

        history = Text("\nVerdicts\n", style="bold")
        self.moved = service.staleness([self.claim_id]).get(self.claim_id)
        if self.moved is not None:
            history.append(f"Stale: {self.moved.describe()}\n", style="bold magenta")
        reviews = service.reviews(self.claim_id)
        if not reviews:
            history.append("none yet: press r to record one\n", style="dim")
        for review in reversed(reviews):
            history.append(f"{review.created[:16].replace('T', ' ')}  ", style="dim")
            history.append(review.verdict.replace("-", " "), style="bold")
            history.append(f"  {terminal_safe(review.reviewer_name)}")
            if review.comment:
                history.append(f"\n    {terminal_safe(review.comment)}", style="italic")
            history.append("\n")
        self.query_one("#claim-history", Static).update(history)

        self.links: list[Link] = service.evidence_links(self.claim_id)
        evidence = self.query_one("#evidence", OptionList)
        keep = evidence.highlighted
        evidence.clear_options()
        texts: dict[str, object] = {}
        for link in self.links:
            passage = service.annotation(link.evidence_id)
            if passage.deleted:
                continue
            if passage.document_id not in texts:
                texts[passage.document_id] = service.document(passage.document_id)
            source = texts[passage.document_id]
            label = Text(RELATION_MARK[link.relation], style="bold")
            label.append(f"  {terminal_safe(citation(source, passage.start))}", style="dim")
            if passage.anchor_state != "ok":
                label.append(f"  anchor {passage.anchor_state}", style="bold red")
            if self.moved is not None and link.id in self.moved.added:
                label.append("  new since the verdict", style="bold magenta")
            label.append("\n")
            label.append_text(in_context(source.text, passage.start, passage.end))
            if link.note:
                label.append("\nwhy: ", style="bold")
                label.append(terminal_safe(link.note), style="italic")
            label.append("\n")
            evidence.add_option(Option(label, id=link.id))
        if not evidence.option_count:
            evidence.add_option(
                Option(
                    Text(
                        "No evidence yet. In the reader, select a passage and press e to link it here.",
                        style="dim",
                    ),
                    disabled=True,
                )
            )
        elif keep is not None:
            evidence.highlighted = min(keep, evidence.option_count - 1)
        elif evidence.option_count:
            evidence.highlighted = 0

    def _selected_link(self) -> Link | None:
        evidence = self.query_one("#evidence", OptionList)
        if evidence.highlighted is None:
            return None
        option = evidence.get_option_at_index(evidence.highlighted)
        return next((link for link in self.links if link.id == option.id), None)

    @on(OptionList.OptionSelected, "#evidence")
    def _chosen(self) -> None:
        self.action_open_evidence()

    def action_open_evidence(self) -> None:
        link = self._selected_link()
        if link is None:
            return
        passage = self.app.service.annotation(link.evidence_id)
        self.app.open_document(passage.document_id, passage.start, passage.end - passage.start)

    def action_open_claim_in_reader(self) -> None:
        self.app.open_document(
            self.claim.document_id, self.claim.start, self.claim.end - self.claim.start
        )

    def action_unlink(self) -> None:
        link = self._selected_link()
        if link is None:
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.app.service.unlink(link.id)
                self.refresh_claim()
                self.notify("Evidence unlinked", markup=False)

        self.app.push_screen(ConfirmDialog("Remove this evidence from the claim?"), answer)

    def action_record_verdict(self) -> None:
        def record(choice: VerdictChoice | None) -> None:
            if choice is None:
                return
            try:
                self.app.service.review(self.claim_id, choice.verdict, choice.comment)
            except MarginError as error:
                self.notify(str(error), severity="error", markup=False)
                return
            self.refresh_claim()
            self.notify(f"Verdict recorded: {choice.verdict}", markup=False)

        self.app.push_screen(VerdictDialog(self.claim.exact), record)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "link_suggestion":
            return bool(self.suggestions)  # hidden from the footer until there are some
        return True

    def action_suggest(self) -> None:
        shown = self.query_one("#suggestions", OptionList)
        shown.add_class("shown")
        shown.clear_options()
        shown.add_option(Option(Text("Looking for passages like this claim\u2026"), disabled=True))
        self._find_suggestions()

    @work(thread=True, exclusive=True, exit_on_error=False, group="suggest")
    def _find_suggestions(self) -> None:
        self.post_message(self.SuggestionsReady(self.app.service.suggest(self.claim_id)))

    @on(Worker.StateChanged)
    def _suggest_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "suggest":
            shown = self.query_one("#suggestions", OptionList)
            shown.clear_options()
            shown.add_option(Option(Text("No suggestions: the search failed."), disabled=True))
            self.notify(
                f"Suggestions failed: {event.worker.error}. Try again (s), or run margin reindex.",
                severity="error",
                markup=False,
            )

    @on(SuggestionsReady)
    def _show_suggestions(self, event: SuggestionsReady) -> None:
        self.suggestions = list(event.found.hits)
        shown = self.query_one("#suggestions", OptionList)
        shown.clear_options()
        if not self.suggestions:
            shown.add_option(
                Option(
                    Text("No passage of the library is like this claim.", style="dim"),
                    disabled=True,
                )
            )
        for number, hit in enumerate(self.suggestions, 1):
            label = Text(f"{number}. ", style="bold")
            label.append(hit.citation, style="dim")
            label.append("\n")
            snippet = Text(hit.snippet)
            for start, end in hit.marks:
                snippet.stylize("bold", start, end)
            label.append_text(snippet)
            label.append("\n")
            shown.add_option(Option(label))
        if self.suggestions:
            shown.highlighted = 0
        shown.focus()
        self.refresh_bindings()

    def action_link_suggestion(self, relation: str) -> None:
        shown = self.query_one("#suggestions", OptionList)
        if not self.suggestions or shown.highlighted is None:
            return
        chosen = self.suggestions[shown.highlighted]
        try:
            self.app.service.link_suggestion(self.claim_id, chosen, relation)
        except MarginError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        self.notify(f"Linked as {relation}: {chosen.citation}", markup=False)
        self.refresh_claim()
        self.action_suggest()  # the linked passage leaves the list

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
