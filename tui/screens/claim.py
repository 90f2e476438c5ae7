"""One claim beside its evidence: each passage in its context, its relation, and the verdicts."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from store.citation import citation
from store.errors import MarginError
from store.records import Annotation, Link
from store.sanitize import terminal_safe
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.verdict import VerdictChoice, VerdictDialog

CONTEXT = 240
RELATION_MARK = {
    "supports": "+ supports",
    "contradicts": "\u2212 contradicts",
    "context": "~ context",
}


def _unwrap(text: str) -> str:
    # Hard-wrapped sources (PDF lines, plain text) read better joined; one character for one.
    return text.replace("\n\n", "\0\0").replace("\n", " ").replace("\0\0", "\n\n")


def in_context(text: str, start: int, end: int, *, width: int = CONTEXT) -> Text:
    """The passage with some text each side, the passage itself marked."""
    lo, hi = max(0, start - width), min(len(text), end + width)
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
        Binding("escape", "back", "Back", id="claim-back", tooltip="Back to the claims board"),
    ]

    def __init__(self, claim_id: str) -> None:
        super().__init__()
        self.claim_id = claim_id

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with Horizontal(id="claim-body"):
            with VerticalScroll(id="claim-side"):
                yield Static(id="claim-context")
                yield Static(id="claim-history")
            yield OptionList(id="evidence")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_claim()
        self.query_one("#evidence", OptionList).focus()

    def on_screen_resume(self) -> None:
        self.refresh_claim()

    def refresh_claim(self) -> None:
        lib = self.app.service.library
        self.claim: Annotation = lib.annotation(self.claim_id)
        document = lib.document(self.claim.document_id)
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
        self.moved = self.app.service.staleness([self.claim_id]).get(self.claim_id)
        if self.moved is not None:
            history.append(f"Stale: {self.moved.describe()}\n", style="bold magenta")
        reviews = lib.reviews(self.claim_id)
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

        self.links: list[Link] = lib.links(claim_id=self.claim_id)
        evidence = self.query_one("#evidence", OptionList)
        keep = evidence.highlighted
        evidence.clear_options()
        texts: dict[str, object] = {}
        for link in self.links:
            passage = lib.annotation(link.evidence_id)
            if passage.deleted:
                continue
            if passage.document_id not in texts:
                texts[passage.document_id] = lib.document(passage.document_id)
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
        passage = self.app.service.library.annotation(link.evidence_id)
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

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
