"""Choose the claim a passage is evidence for, then the relation."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from store.records import ClaimSummary
from store.sanitize import clip, terminal_safe
from store.schema import RELATIONS


@dataclass(frozen=True)
class LinkChoice:
    claim_id: str
    relation: str


class LinkDialog(ModalScreen[LinkChoice | None]):
    """Search every claim of the library by its text, pick one, then pick the relation."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="link-cancel", tooltip="Close without linking")
    ]

    def __init__(self, claims: list[ClaimSummary], exclude: str | None = None) -> None:
        super().__init__()
        self.claims = [c for c in claims if c.claim.id != exclude]
        self.claim_id: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(
                Text("Evidence for which claim? Type to search, enter to choose."), id="link-prompt"
            )
            yield Input(placeholder="words of the claim", id="claim-filter")
            yield OptionList(id="claim-list")

    def on_mount(self) -> None:
        self._fill("")
        self.query_one("#claim-filter", Input).focus()

    def _fill(self, needle: str) -> None:
        options = self.query_one("#claim-list", OptionList)
        options.clear_options()
        needle = needle.casefold()
        for summary in self.claims:
            haystack = f"{summary.claim.exact} {summary.claim.note} {summary.document_title}"
            if needle and needle not in haystack.casefold():
                continue
            label = Text(terminal_safe(clip(summary.claim.exact, 90)))
            label.append(
                Text(f"  \u2014 {terminal_safe(clip(summary.document_title, 40))}", style="dim")
            )
            options.add_option(Option(label, id=summary.claim.id))
        if options.option_count:
            options.highlighted = 0

    @on(Input.Changed, "#claim-filter")
    def _filter(self, event: Input.Changed) -> None:
        if self.claim_id is None:
            self._fill(event.value)

    @on(Input.Submitted, "#claim-filter")
    def _take_first(self) -> None:
        options = self.query_one("#claim-list", OptionList)
        if options.highlighted is not None:
            self._chosen(options.get_option_at_index(options.highlighted).id)

    @on(OptionList.OptionSelected, "#claim-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if self.claim_id is None:
            self._chosen(event.option.id)
        else:
            self.dismiss(LinkChoice(self.claim_id, event.option.id))

    def _chosen(self, claim_id: str | None) -> None:
        if claim_id is None:
            return
        self.claim_id = claim_id
        self.query_one("#claim-filter", Input).display = False
        self.query_one("#link-prompt", Static).update(
            Text("How does this passage bear on the claim?")
        )
        options = self.query_one("#claim-list", OptionList)
        options.clear_options()
        options.add_options([Option(Text(r), id=r) for r in RELATIONS])
        options.highlighted = 0
        options.focus()

    def action_cancel(self) -> None:
        self.dismiss(None)
