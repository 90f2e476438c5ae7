"""Search the whole library as you type; open a hit in the reader at its exact place."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from store.errors import MarginError
from store.sanitize import clip, plural, terminal_safe
from tui.reflow import reflow, wrap_width
from tui.service import SearchResult

SYNTAX = (
    'words  "a phrase"  AND OR NOT  prefix*  fuzzy~  doc:title  tag:econ  author:name  '
    "is:claim  has:evidence  no:evidence"
)
DEBOUNCE = 0.15
PENDING_RECHECK = 1.0
"""Seconds between asking again while changes are still being indexed (by another process,
which the library's data_version does not show)."""


@dataclass
class SearchDone(Message):
    """A search finished: the hits, or the reason the query was refused."""

    query: str
    result: SearchResult | None
    error: str | None


def hit_label(hit) -> Text:  # noqa: ANN001 - index.Hit
    """One result row: where, what kind, and the snippet with matched words marked."""
    where = hit.where
    label = Text(terminal_safe(clip(hit.title, 50)), style="bold")
    label.append(f"  {where}", style="dim")
    if hit.kind == "annotation":
        label.append(f"  [{hit.role or 'note'}]", style="bold magenta")
    label.append("\n  ")
    snippet = Text(terminal_safe(hit.snippet))
    for start, end in hit.marks:
        snippet.stylize("bold reverse", start, end)
    label.append_text(snippet)
    return label


class SearchScreen(Screen[None]):
    """A query input, ranked hits with snippets, and a preview of the selected hit."""

    BINDINGS = [
        Binding(
            "escape",
            "back",
            "Back",
            id="search-back",
            tooltip="Back to the query, or to the previous screen",
        ),
        Binding(
            "down",
            "to_results",
            "Results",
            show=False,
            id="search-results",
            tooltip="Move into the results",
        ),
    ]

    def __init__(self, query: str = "") -> None:
        super().__init__()
        self.initial_query = query
        self._debounce: Timer | None = None
        self.result: SearchResult | None = None
        self._wrap_widths: dict[str, int | None] = {}
        self._shown_query: str | None = None

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield Input(value=self.initial_query, placeholder="search the library", id="query")
        yield Static(Text(SYNTAX, style="dim"), id="syntax")
        yield Static(id="query-error")
        with Horizontal(id="search-body"):
            yield OptionList(id="hits")
            yield Static(id="preview")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#query", Input).focus()
        if self.initial_query:
            self.run_search(self.initial_query)

    @on(Input.Changed, "#query")
    def _typed(self, event: Input.Changed) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        query = event.value
        self._debounce = self.set_timer(DEBOUNCE, lambda: self.run_search(query))

    @on(Input.Submitted, "#query")
    def _submitted(self, event: Input.Submitted) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self.run_search(event.value, then_focus=True)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def run_search(self, query: str, then_focus: bool = False) -> None:
        """Search in a thread; a newer keystroke cancels this one (exclusive)."""
        worker = get_current_worker()
        if not query.strip():
            self.post_message(SearchDone(query, None, None))
            return
        try:
            result = self.app.service.search(
                query,
                limit=50,
                on_rebuild=lambda why: self.app.call_from_thread(self.rebuilding, why),
            )
        except MarginError as error:  # a refused query, or the index busy being rebuilt
            if not worker.is_cancelled:
                self.post_message(SearchDone(query, None, str(error)))
            return
        if not worker.is_cancelled:
            self.post_message(SearchDone(query, result, None))
            if then_focus and result.hits:
                self.app.call_from_thread(self.action_to_results)

    def rebuilding(self, why: str) -> None:
        # Said while the worker rebuilds (a damaged index used to show no hits and no word).
        self.sub_title = f"rebuilding the search index ({why}): the hits follow"

    def on_search_done(self, message: SearchDone) -> None:
        if message.query != self.query_one("#query", Input).value:
            return  # a stale answer to an older query
        error = self.query_one("#query-error", Static)
        hits = self.query_one("#hits", OptionList)
        if message.error:
            error.update(Text(terminal_safe(message.error), style="bold red"))
            error.display = True
            if self.result is not None:  # the list below still answers the last good query
                self.sub_title = "query refused: the hits are the last query's"
            return
        error.display = False
        # The same query asked again (changes were pending): keep the person's place.
        same = self.result is not None and message.result is not None
        same = same and self._shown_query == message.query
        keep = hits.highlighted if same else None
        self.result = message.result
        self._shown_query = message.query
        hits.clear_options()
        if message.result is None:
            self.query_one("#preview", Static).update("")
            return
        for number, hit in enumerate(message.result.hits):
            if number:
                hits.add_option(None)  # a rule between hits
            hits.add_option(Option(hit_label(hit), id=str(number)))
        if not message.result.hits:
            hits.add_option(
                Option(
                    Text(f"No hits for {terminal_safe(message.query)}", style="dim"), disabled=True
                )
            )
        else:
            hits.highlighted = keep if keep is not None and keep < hits.option_count else 0
            option_id = hits.get_option_at_index(hits.highlighted).id
            self._preview(int(option_id) if option_id is not None else 0)
        result = message.result
        if result.pending:
            query = message.query
            self.set_timer(PENDING_RECHECK, lambda: self._ask_again(query))
        self.sub_title = (
            plural(result.total, "hit")
            + (" (stopped after 2 s: partial)" if result.timed_out else "")
            + (
                f" \u00b7 {plural(result.pending, 'change')} still being indexed, not searched yet"
                if result.pending
                else ""
            )
            + (f" \u00b7 search index rebuilt ({result.rebuilt})" if result.rebuilt else "")
        )

    def _ask_again(self, query: str) -> None:
        """Search again for changes indexed since, unless the query was changed meanwhile."""
        if self.is_mounted and self.query_one("#query", Input).value == query:
            self.run_search(query)

    @on(OptionList.OptionHighlighted, "#hits")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id is not None:
            self._preview(int(event.option.id))

    def _preview(self, number: int) -> None:
        if self.result is None or number >= len(self.result.hits):
            return
        hit = self.result.hits[number]
        # 200 before: at 80x24 the preview is 30 columns by 17 rows, and 400 characters ahead
        # put the hit below its last row.
        found = self.app.service.text_around(hit.document_id, hit.offset, before=200, length=1000)
        if found is None:
            return
        start, around = found
        if start:  # begin at a whole word, not at the cut
            skip = next((n + 1 for n, c in enumerate(around[:40]) if c.isspace()), 0)
            start, around = start + skip, around[skip:]
        # Hard-wrapped text (Gutenberg's 70 columns) as paragraphs, as the reader shows it: each
        # line wrapped again in the narrower preview left a word or two alone on a row. The
        # width is the document's (a 1,000-character slice is too few lines to judge).
        if hit.document_id not in self._wrap_widths:
            document = self.app.service.document(hit.document_id)
            self._wrap_widths[hit.document_id] = wrap_width(document.text)
        width = self._wrap_widths[hit.document_id]
        if width:
            around = reflow(around, width)  # same length: the offsets below still hold
        context = Text(terminal_safe(around))
        context.stylize("bold reverse", hit.offset - start, hit.offset - start + max(1, hit.length))
        if hit.note:
            context = Text.assemble(
                Text("note: ", style="bold"), Text(terminal_safe(hit.note)), "\n\n", context
            )
        self.query_one("#preview", Static).update(context)

    @on(OptionList.OptionSelected, "#hits")
    def _open(self, event: OptionList.OptionSelected) -> None:
        if self.result is None or event.option.id is None:
            return
        hit = self.result.hits[int(event.option.id)]
        self.app.open_document(hit.document_id, hit.offset, hit.length)

    def action_to_results(self) -> None:
        hits = self.query_one("#hits", OptionList)
        if hits.option_count:
            hits.focus()

    def action_back(self) -> None:
        query = self.query_one("#query", Input)
        if not query.has_focus:
            query.focus()
        elif len(self.app.screen_stack) > 2:
            self.app.pop_screen()
