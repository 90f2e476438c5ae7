"""Reader widget figures on big texts, headless (`App.run_test`), printed not asserted.

    .venv/bin/python bench/reader.py            # the 8 MB text and the largest book
    .venv/bin/python bench/reader.py --quick    # fewer presses and no scroll to the end

Each document runs in its own process so memory figures do not mix. Per document, with
1,000 highlights (half in the first 450 KB that the page-downs walk through):
first paint after opening, CPU per page-down (Pilot key press with its frame, and the widget's
own share), per jump to a random offset, the cost of adding one highlight, and memory (RSS over
the baseline after the text is in memory; peak; and along a scroll to the end, which must stay
flat because every cache is bounded). Wall clock is useless for keys: Pilot sleeps between
them, so key figures are `time.process_time`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import time
from pathlib import Path
from statistics import median

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from textual.app import App, ComposeResult  # noqa: E402
from textual.widgets import Static  # noqa: E402

from store.sanitize import ingest_clean  # noqa: E402
from tui.reflow import reflow  # noqa: E402
from tui.widgets.reader_view import ReaderView, Span  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus" / "gutenberg"
SIZE = (120, 40)
TAGS = ["#e5c07b", "#c678dd", "#61afef", "#98c379", "#e06c75", "#56b6c2", None]


def documents() -> dict[str, str]:
    books = sorted(CORPUS.glob("*.txt"), key=lambda p: p.stat().st_size, reverse=True)
    largest = ingest_clean(books[0].read_text(encoding="utf-8"))[0]
    parts, size = [], 0
    for book in books:
        text = ingest_clean(book.read_text(encoding="utf-8"))[0]
        parts.append(text)
        size += len(text)
        if size >= 8_000_000:
            break
    return {"8mb": "\n\n".join(parts)[:8_000_000], f"largest ({books[0].stem})": largest}


def make_spans(text: str, count: int = 1000, seed: int = 7) -> list[Span]:
    rng = random.Random(seed)
    spans = []
    for n in range(count):
        limit = 450_000 if n % 2 == 0 else len(text) - 500
        start = rng.randrange(0, min(limit, len(text) - 500))
        end = start + rng.randint(20, 400)
        role = "claim" if rng.random() < 0.2 else "highlight"
        spans.append(Span(start, end, f"s{n}", role, rng.choice(TAGS), rng.random() < 0.1))
    return spans


def rss_kib(field: str = "VmRSS") -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class Bench(App[None]):
    CSS = "ReaderView { height: 1fr; } #status { height: 1; }"

    def compose(self) -> ComposeResult:
        yield Static("status", id="status")


def widget_frame(reader: ReaderView) -> None:
    """What one frame asks of the widget: every visible row (cached rows are cheap)."""
    for y in range(reader.scrollable_content_region.height):
        reader.render_line(y)


async def measure(name: str, text: str, quick: bool) -> dict:
    spans = make_spans(text)
    out: dict = {"document": name, "chars": len(text), "highlights": len(spans)}
    app = Bench()
    async with app.run_test(size=SIZE) as pilot:
        app.animation_level = "none"
        await pilot.pause()
        baseline = rss_kib()
        # Reset the peak (VmHWM) so it measures the reader, not building the text.
        Path("/proc/self/clear_refs").write_text("5")
        frames: list[float] = []
        display = app._display

        def hooked(screen, renderable):  # noqa: ANN001, ANN202
            frames.append(time.perf_counter())
            return display(screen, renderable)

        app._display = hooked
        first_row: list[float] = []
        started = time.perf_counter()
        # As the reader screen shows it: hard-wrapped lines reflowed (same length, same offsets).
        reader = ReaderView(reflow(text))
        reader.set_spans(spans)
        render_line = reader.render_line

        def counting(y: int):  # noqa: ANN202
            if not first_row:
                first_row.append(time.perf_counter())
            return render_line(y)

        reader.render_line = counting
        await app.mount(reader, before=0)
        reader.focus()
        while not (first_row and frames and frames[-1] >= first_row[0]):
            await asyncio.sleep(0)
        painted = next(t for t in frames if t >= first_row[0])
        out["first_paint_ms"] = round((painted - started) * 1000, 1)
        reader.render_line = render_line
        await pilot.pause()
        out["rows"] = reader.wrapped.row_count
        out["rss_after_paint_mib"] = round((rss_kib() - baseline) / 1024, 1)

        presses = 50 if quick else 200
        # Four batches: other processes on a shared machine make single figures noisy.
        batches = []
        for _ in range(4):
            cpu = time.process_time()
            for _ in range(presses // 4):
                await pilot.press("pagedown")
            batches.append((time.process_time() - cpu) * 1000 / (presses // 4))
        out["pagedown_press_cpu_ms_median_min"] = [
            round(median(batches), 2),
            round(min(batches), 2),
        ]
        cpu = time.process_time()
        for _ in range(presses // 4):
            await pilot.press("f12")  # bound to nothing: Pilot's and Textual's own floor
        out["unbound_key_press_cpu_ms"] = round(
            (time.process_time() - cpu) * 1000 / (presses // 4), 2
        )
        cpu = time.process_time()
        for _ in range(presses):
            reader.action_cursor_page(1)
            widget_frame(reader)
        out["pagedown_widget_cpu_ms"] = round((time.process_time() - cpu) * 1000 / presses, 2)

        rng = random.Random(11)
        jumps = 30 if quick else 100
        targets = [rng.randrange(len(text)) for _ in range(jumps)]
        cpu = time.process_time()
        for offset in targets:
            reader.go_to(offset, 12)
            await pilot.pause()
        out["jump_with_frame_cpu_ms"] = round((time.process_time() - cpu) * 1000 / jumps, 2)
        cpu = time.process_time()
        for offset in reversed(targets):
            reader.go_to(offset, 12)
            widget_frame(reader)
        out["jump_widget_cpu_ms"] = round((time.process_time() - cpu) * 1000 / jumps, 2)

        # Adding a highlight re-sends them all (set_spans with 1,001); median of five.
        calls, frames_cpu = [], []
        for n in range(5):
            extra = Span(1000 + n, 1200 + n, f"new{n}", "highlight", "#e5c07b")
            wall = time.perf_counter()
            reader.set_spans([*spans, extra])
            calls.append((time.perf_counter() - wall) * 1000)
            cpu = time.process_time()
            await pilot.pause()
            frames_cpu.append((time.process_time() - cpu) * 1000)
        out["add_one_span_set_ms_median_max"] = [round(median(calls), 2), round(max(calls), 2)]
        out["add_one_span_next_frame_cpu_ms"] = round(median(frames_cpu), 2)

        cpu = time.process_time()
        await pilot.resize_terminal(100, 40)
        await pilot.pause()
        out["resize_120_to_100_cpu_ms"] = round((time.process_time() - cpu) * 1000, 1)

        if not quick:
            # Walk the whole document a page at a time, sampling memory: it must stay flat.
            reader.go_to(0)
            samples, rows = [], reader.wrapped.row_count
            mark, cpu, pages = 0.0, time.process_time(), 0
            while reader.scroll_offset.y < reader.max_scroll_y:
                reader.action_cursor_page(1)
                widget_frame(reader)
                pages += 1
                if pages % 100 == 0:
                    await pilot.pause()  # let the posted CursorMoved messages be handled
                if reader.scroll_offset.y / rows >= mark:
                    samples.append(round((rss_kib() - baseline) / 1024, 1))
                    mark += 0.25
            samples.append(round((rss_kib() - baseline) / 1024, 1))
            out["scroll_to_end_pages"] = pages
            out["scroll_to_end_widget_cpu_ms_per_page"] = round(
                (time.process_time() - cpu) * 1000 / pages, 2
            )
            out["rss_while_scrolling_mib"] = samples
        out["rss_peak_mib"] = round((rss_kib("VmHWM") - baseline) / 1024, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    docs = documents()
    if args.one:
        print(json.dumps(asyncio.run(measure(args.one, docs[args.one], args.quick))))
        return
    for name in docs:
        command = [sys.executable, __file__, "--one", name] + (["--quick"] if args.quick else [])
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode:
            print(result.stderr[-3000:], file=sys.stderr)
            continue
        figures = json.loads(result.stdout.strip().splitlines()[-1])
        print(f"\n{figures.pop('document')}")
        for key, value in figures.items():
            print(f"  {key:40} {value}")
    print("\ntargets: first paint < 150 ms, page-down < 10 ms CPU per press,")
    print("memory flat while scrolling")


if __name__ == "__main__":
    main()
