"""The reader screen as a person meets it, on a big book with 0, 1,000 and 5,000 notes.

    .venv/bin/python bench/reader.py                 # War and Peace, 0 / 1,000 / 5,000 notes
    .venv/bin/python bench/reader.py --notes 0 5000  # chosen note counts
    .venv/bin/python bench/reader.py --quick         # fewer key presses

For each note count, a library is built in a temporary folder through the real store and
index (`Service.import_files`, then `Library.annotate` for each note: its cost is timed too),
and then, in a fresh process so memory and caches do not mix, the app is built by the same
factory the command line uses (`make_app`) and driven with Pilot: open the book from the
library screen (first paint: from the key press to the first frame that shows the reader's
rows), page down, and add a highlight the way a person does (`s` selects a sentence, `h`
highlights it). Key figures are CPU time (`time.process_time`): Pilot sleeps between keys and
the machine is shared, so wall clock says little. The ratios against 0 notes are the targets
(issue 11): add a highlight within 2x, first paint within 2x, page-down within 1.5x.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SHARED = Path(os.environ.get("MARGIN_SHARED", REPO.parent / "shared"))
BOOK = SHARED / "corpus" / "gutenberg" / "pg2600-war-and-peace.txt"
SIZE = (120, 40)
TAGS = ["cause", "econ/trade", "people", "place", "war", "peace"]


def build_library(home: Path, notes: int) -> dict:
    """A library holding the book and `notes` notes (a fifth of them claims, most tagged)."""
    from store.library import Library
    from tui.service import Service

    service = Service(home / "library.margin", home / "config")
    [result] = list(service.import_files([BOOK]))
    service.sync_index()
    document_id = result.document_id
    length = len(service.library.document(document_id).text)
    service.close()
    library = Library(home / "library.margin")
    rng = random.Random(7)
    cpu = time.process_time()
    for n in range(notes):
        # Half in the first 450 KB that the page-downs walk through, as a reader's notes bunch.
        limit = 450_000 if n % 2 == 0 else length - 500
        start = rng.randrange(0, limit)
        library.annotate(
            document_id,
            start,
            start + rng.randint(20, 400),
            author=service.author,
            role="claim" if rng.random() < 0.2 else "highlight",
            note=f"note {n}" if rng.random() < 0.3 else "",
            tags=[rng.choice(TAGS)] if rng.random() < 0.8 else [],
        )
    per_note = (time.process_time() - cpu) * 1000 / notes if notes else 0.0
    library.close()
    # A library with thousands of notes is indexed already: the app starts with nothing to do.
    service = Service(home / "library.margin", home / "config")
    service.sync_index()
    service.close()
    return {"document_id": document_id, "annotate_cpu_ms_per_note": round(per_note, 2)}


async def drive(home: Path, document_id: str, quick: bool) -> dict:
    """Open the book in the real app and time what a reader does."""
    from tui.app import make_app
    from tui.screens.reader import ReaderScreen
    from tui.service import Service
    from tui.widgets.reader_view import ReaderView

    service = Service(home / "library.margin", home / "config")
    app = make_app(service)
    out: dict = {}
    async with app.run_test(size=SIZE) as pilot:
        app.animation_level = "none"
        await pilot.pause()
        frames: list[float] = []
        display = app._display

        def hooked(screen, renderable):  # noqa: ANN001, ANN202
            frames.append(time.perf_counter())
            return display(screen, renderable)

        app._display = hooked
        first_row: list[float] = []
        render_line = ReaderView.render_line

        def counting(self, y: int):  # noqa: ANN001, ANN202
            if not first_row:
                first_row.append(time.perf_counter())
            return render_line(self, y)

        ReaderView.render_line = counting
        cpu, started = time.process_time(), time.perf_counter()
        app.open_document(document_id)
        while not (first_row and frames and frames[-1] >= first_row[0]):
            await asyncio.sleep(0)
        out["first_paint_ms"] = round((frames[-1] - started) * 1000, 1)
        out["first_paint_cpu_ms"] = round((time.process_time() - cpu) * 1000, 1)
        ReaderView.render_line = render_line
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReaderScreen)
        out["notes_in_panel"] = len(screen.annotations)

        presses = 20 if quick else 60
        batches = []
        for _ in range(4):
            cpu = time.process_time()
            for _ in range(presses // 4):
                await pilot.press("pagedown")
            await pilot.pause()
            batches.append((time.process_time() - cpu) * 1000 / (presses // 4))
        out["pagedown_cpu_ms_median"] = round(median(batches), 2)

        # Add a highlight as a person does: a sentence further on, then h. Median of five.
        adds = []
        for _ in range(3 if quick else 5):
            for _ in range(3):
                await pilot.press("pagedown")
            await pilot.pause()
            await pilot.press("s")
            await pilot.pause()
            before = len(screen.annotations)
            cpu = time.process_time()
            await pilot.press("h")
            await app.workers.wait_for_complete()
            await pilot.pause()
            adds.append((time.process_time() - cpu) * 1000)
            assert len(screen.annotations) == before + 1, "the highlight was not added"
        out["add_highlight_cpu_ms_median"] = round(median(adds), 1)
    service.close()
    return out


def run(notes: int, quick: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="margin-bench-reader-") as folder:
        home = Path(folder)
        built = build_library(home, notes)
        command = [sys.executable, __file__, "--drive", str(home), built["document_id"]]
        if quick:
            command.append("--quick")
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode:
            raise SystemExit(done.stderr[-3000:])
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        return {"notes": notes, **built, **figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, nargs="*", default=[0, 1000, 5000])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--drive", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        home, document_id = args.drive
        print(json.dumps(asyncio.run(drive(Path(home), document_id, args.quick))))
        return
    if not BOOK.exists():
        raise SystemExit(f"needs {BOOK} (set MARGIN_SHARED to the folder holding corpus/)")
    print(f"{BOOK.name}, load average {os.getloadavg()[0]:.2f}")
    results = [run(n, args.quick) for n in args.notes]
    keys = [k for k in results[0] if k != "notes"]
    print(f"{'notes':42}" + "".join(f"{r['notes']:>12}" for r in results))
    for key in keys:
        if key == "document_id":
            continue
        print(f"{key:42}" + "".join(f"{r[key]:>12}" for r in results))
    base = results[0]
    for r in results[1:]:
        ratios = {
            k: round(r[k] / base[k], 2) if base[k] else None
            for k in ("first_paint_cpu_ms", "pagedown_cpu_ms_median", "add_highlight_cpu_ms_median")
        }
        print(f"ratios {r['notes']} notes against {base['notes']}: {ratios}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print("targets: add a highlight within 2x, first paint within 2x, page-down within 1.5x")


if __name__ == "__main__":
    main()
