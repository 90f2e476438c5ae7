"""The claims board: every claim with its evidence counts and latest verdict, filtered."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from store.records import ClaimSummary
from store.sanitize import clip, plural, terminal_safe
from store.schema import VERDICTS
from store.staleness import Staleness
from tui.dialogs.ask import AskDialog

FILTERS = ("queue", "all", "no evidence", "unreviewed", "stale")


def flags(summary: ClaimSummary, moved: Staleness | None = None) -> Text:
    """Anchor trouble on the claim or its evidence, and a verdict whose ground moved, said in
    words (not colour alone)."""
    text = Text()
    if moved is not None:
        text.append(f"stale: {', '.join(moved.reasons())} ", style="bold magenta")
    if summary.claim.anchor_state != "ok":
        text.append(f"claim {summary.claim.anchor_state} ", style="bold red")
    if summary.evidence_not_ok:
        text.append(f"{summary.evidence_not_ok} evidence off", style="bold yellow")
    return text


class ClaimsScreen(Screen[None]):
    """Claims of the library (or of one document) for a reviewer to walk."""

    BINDINGS = [
        Binding(
            "enter",
            "open_claim",
            "Open",
            id="open-claim",
            tooltip="Open the claim beside its evidence",
        ),
        Binding(
            "q",
            "filter('queue')",
            "My queue",
            id="claims-queue",
            tooltip="Claims you have not judged yet, then those whose verdict went stale",
        ),
        Binding("a", "filter('all')", "All", id="claims-all", tooltip="Show every claim"),
        Binding(
            "n",
            "filter('no evidence')",
            "No evidence",
            id="claims-no-evidence",
            tooltip="Only claims without evidence",
        ),
        Binding(
            "u",
            "filter('unreviewed')",
            "Unreviewed",
            id="claims-unreviewed",
            tooltip="Only claims without a verdict",
        ),
        Binding(
            "s",
            "filter('stale')",
            "Stale",
            id="claims-stale",
            tooltip="Only claims whose words or evidence changed since their verdict",
        ),
        Binding(
            "v",
            "cycle_verdict",
            "Verdict",
            id="claims-verdict",
            tooltip="Filter by the latest verdict (cycles)",
        ),
        Binding(
            "t",
            "filter_tag",
            "Tag",
            id="claims-tag",
            tooltip="Only claims with a tag (or its children)",
        ),
        Binding(
            "o",
            "toggle_order",
            "Order",
            id="claims-order",
            tooltip="Sort by document order or by date",
        ),
        Binding(
            "d",
            "toggle_document",
            "Document",
            id="claims-document",
            tooltip="Only the claims of the highlighted claim's document (again: all documents)",
        ),
        Binding(
            "g",
            "agreement",
            "Agreement",
            id="claims-agreement",
            tooltip="Reviewers compared: agreement figures and the claims they disagree on",
        ),
        Binding("escape", "back", "Back", id="claims-back", tooltip="Back to the previous screen"),
    ]

    def __init__(self, document_id: str | None = None) -> None:
        super().__init__()
        self.document_id = document_id
        # A reviewer opens the board on what still needs them (for someone who has judged
        # nothing, that is every claim).
        self.mode = "queue"
        self.verdict: str | None = None
        self.tag: str | None = None
        self.order = "document"

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield Static(id="claims-filters")
        yield DataTable(id="claims", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Claims"
        table = self.query_one("#claims", DataTable)
        # What a reviewer decides on first, so it stays on an 80-column screen: the verdict and
        # whether its ground moved; the counts, the document and the reviewer after.
        for label in ("Claim", "Verdict", "Anchors", "Sup", "Con", "Ctx", "Document", "By"):
            table.add_column(label, key=label.lower())
        self.refresh_claims()
        table.focus()

    def on_screen_resume(self) -> None:
        self.refresh_claims()

    def library_changed(self) -> None:
        """Another process changed the library (a merge of a colleague's verdicts, an import)."""
        self.refresh_claims()

    def refresh_claims(self) -> None:
        self.claims = self.app.service.claims(
            document_id=self.document_id,
            no_evidence=self.mode == "no evidence",
            unreviewed=self.mode == "unreviewed",
            verdict=self.verdict,
            tag=self.tag,
            order=self.order,
        )
        self.stale = self.app.service.staleness()
        judged = self.app.service.judged_by_me()
        self.progress = (sum(1 for s in self.claims if s.claim.id in judged), len(self.claims))
        if self.mode == "stale":
            self.claims = [s for s in self.claims if s.claim.id in self.stale]
        elif self.mode == "queue":
            self.claims = [s for s in self.claims if s.claim.id not in judged] + [
                s for s in self.claims if s.claim.id in judged and s.claim.id in self.stale
            ]
        table = self.query_one("#claims", DataTable)
        keep = table.cursor_row
        table.clear()
        for s in self.claims:
            table.add_row(
                Text(
                    terminal_safe(clip(s.claim.exact, 40)),
                    style="bold" if not s.evidence else "",
                ),
                Text((s.verdict or "\u2014").replace("-", " ")),
                flags(s, self.stale.get(s.claim.id)),
                Text(str(s.supports)),
                Text(str(s.contradicts)),
                Text(str(s.context)),
                Text(terminal_safe(clip(s.document_title, 20))),
                Text(terminal_safe(clip(s.reviewer_name or "", 12))),
                key=s.claim.id,
            )
        if self.claims:
            table.move_cursor(row=min(keep, len(self.claims) - 1))
        described = ["your queue" if self.mode == "queue" else self.mode]
        if self.verdict:
            described.append(f"verdict {self.verdict}")
        if self.tag:
            described.append(f"tag {self.tag}")
        if self.document_id:
            described.append("this document")
        if self.stale and self.mode != "stale":
            described.append(f"{len(self.stale)} stale (s)")
        done, total = self.progress
        if self.mode in ("queue", "all"):
            described.append(f"{done} of {total} reviewed by you")
        dot = " \u00b7 "
        summary = (
            f" {plural(len(self.claims), 'claim')}{dot}{dot.join(described)}{dot}by {self.order}"
        )
        self.query_one("#claims-filters", Static).update(Text(terminal_safe(summary)))

    def action_filter(self, mode: str) -> None:
        self.mode = mode
        if mode in ("queue", "all", "unreviewed", "stale"):  # filters on the latest verdict
            self.verdict = None
        if mode in ("all", "queue"):
            self.tag = None
        self.refresh_claims()

    def action_cycle_verdict(self) -> None:
        cycle = [None, *VERDICTS]
        self.verdict = cycle[(cycle.index(self.verdict) + 1) % len(cycle)]
        if self.verdict is not None and self.mode in ("unreviewed", "queue"):
            self.mode = "all"  # a verdict filter means reviewed claims
        self.refresh_claims()

    def action_filter_tag(self) -> None:
        names = [t.name for t in self.app.service.tags()]

        def chosen(name: str | None) -> None:
            self.tag = name
            self.refresh_claims()

        self.app.push_screen(
            AskDialog("Only claims with tag (empty: any tag)", suggestions=names), chosen
        )

    def action_toggle_document(self) -> None:
        if self.document_id is not None:
            self.document_id = None
        elif self.claims:
            table = self.query_one("#claims", DataTable)
            self.document_id = self.claims[
                min(table.cursor_row, len(self.claims) - 1)
            ].claim.document_id
        self.refresh_claims()

    def action_toggle_order(self) -> None:
        self.order = "date" if self.order == "document" else "document"
        self.refresh_claims()

    @on(DataTable.RowSelected, "#claims")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        self._open(event.row_key.value)

    def action_open_claim(self) -> None:
        table = self.query_one("#claims", DataTable)
        if self.claims:
            self._open(self.claims[table.cursor_row].claim.id)

    def _open(self, claim_id: str | None) -> None:
        if claim_id is None:
            return
        from tui.screens.claim import ClaimScreen

        self.app.push_screen(ClaimScreen(claim_id))

    def action_agreement(self) -> None:
        from tui.screens.agreement import AgreementScreen

        self.app.push_screen(AgreementScreen())

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
