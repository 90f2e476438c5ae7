"""Reviewers compared: the agreement figures, and the claims they disagree on, each openable."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from store.sanitize import clip, plural, terminal_safe


def _figure(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "undefined"
    return f"{100 * value:.1f}%" if percent else f"{value:.3f}"


class AgreementScreen(Screen[None]):
    """How far reviewers agree (store.agreement), and where they do not."""

    BINDINGS = [
        Binding(
            "enter",
            "open_claim",
            "Open",
            id="agreement-open-claim",
            tooltip="Open the claim the reviewers disagree on",
        ),
        Binding("escape", "back", "Back", id="agreement-back", tooltip="Back to the claims board"),
    ]

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield Static(id="agreement-figures")
        yield DataTable(id="disagreements", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Reviewers compared"
        self.refresh_figures()
        self.query_one("#disagreements", DataTable).focus()

    def on_screen_resume(self) -> None:
        self.refresh_figures()

    def library_changed(self) -> None:
        """Another process changed the library (a colleague's verdicts merged)."""
        self.refresh_figures()

    def refresh_figures(self) -> None:
        report = self.app.service.agreement()
        found = report.agreement
        figures = Text()
        if not found.units_shared:
            figures.append(
                f"No claim has verdicts from two reviewers yet "
                f"({plural(found.units_coded, 'claim')} judged by "
                f"{plural(len(found.coders), 'reviewer')}).",
                style="dim",
            )
        else:
            figures.append(
                f"{len(found.coders)} reviewers \u00b7 {found.units_shared} claims judged by two "
                f"or more \u00b7 agreement {_figure(found.agreement, True)} \u00b7 "
                f"Krippendorff's alpha {_figure(found.alpha)}\n",
                style="bold",
            )
            for pair in found.pairs:
                if pair.units:
                    figures.append(
                        f"{terminal_safe(report.name(pair.first))} / "
                        f"{terminal_safe(report.name(pair.second))}: "
                        f"{plural(pair.units, 'claim')}, agree {_figure(pair.agreement, True)}, "
                        f"Cohen's kappa {_figure(pair.kappa)}\n"
                    )
        self.query_one("#agreement-figures", Static).update(figures)
        table = self.query_one("#disagreements", DataTable)
        columns = ["claim", "document", *found.coders]
        if [str(key.value) for key in table.columns] != columns:
            table.clear(columns=True)
            table.add_column("Claim", key="claim")
            table.add_column("Document", key="document")
            for coder in found.coders:
                table.add_column(Text(terminal_safe(clip(report.name(coder), 14))), key=coder)
        else:
            table.clear()
        self.claim_ids = list(found.disagreements)
        for claim_id, verdicts in found.disagreements.items():
            summary = report.claims[claim_id]
            table.add_row(
                Text(terminal_safe(clip(summary.claim.exact, 40))),
                Text(terminal_safe(clip(summary.document_title, 20))),
                *[
                    Text((verdicts.get(coder) or "\u2014").replace("-", " "))
                    for coder in found.coders
                ],
                key=claim_id,
            )

    @on(DataTable.RowSelected, "#disagreements")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        self._open(event.row_key.value)

    def action_open_claim(self) -> None:
        table = self.query_one("#disagreements", DataTable)
        if self.claim_ids:
            self._open(self.claim_ids[table.cursor_row])

    def _open(self, claim_id: str | None) -> None:
        if claim_id is None:
            return
        from tui.screens.claim import ClaimScreen

        self.app.push_screen(ClaimScreen(claim_id))

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
