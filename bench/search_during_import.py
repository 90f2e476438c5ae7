"""Search while an import runs, through the paths a person takes: `Service.search` (the search
screen's call) and `margin search` (a whole process), beside FTS5 on the same passages.

    .venv/bin/python bench/search_during_import.py                # 15 books, then 10 more
    .venv/bin/python bench/search_during_import.py --base 30 --more 20

A library of --base corpus books is imported and indexed first. Then, three times: searches
with nothing running (idle), searches while a CLI import of --more books runs in another
process (`margin import`, which indexes its own books), and searches while an app-style import
runs (the store's work in a thread of this process, then the index catch-up in the child, as the
library screen does it). Each phase reports p50, p95 and max of `Service.search` (wall ms: the
user waits on the wall clock; load average beside it), how many answers said changes were
pending, and a few `margin search` processes. FTS5 (bench/ingest_search.py's yardstick) answers
the same words on the same passages in this process, idle, for the ratio. Targets (issue 11):
p95 while an import indexes within 3x of the idle p95, and no search over 2 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from ingest_search import QUERIES, Fts5, percentile  # noqa: E402

from tui.service import Service  # noqa: E402

SHARED = Path(os.environ.get("MARGIN_SHARED", REPO.parent / "shared"))
CORPUS = SHARED / "corpus" / "gutenberg"
MARGIN = Path(sys.executable).with_name("margin")
WORDS = [q for kind, q in QUERIES if kind in ("single", "and2", "phrase", "boolean")]


def copy_books(books: list[Path], folder: Path) -> Path:
    folder.mkdir(parents=True)
    for book in books:
        shutil.copy(book, folder / book.name)
    return folder


def search_while(service: Service, running: threading.Event | subprocess.Popen | None) -> dict:
    """Search the WORDS round and round until the work ends (or once, idle)."""

    def busy() -> bool:
        if running is None:
            return False
        if isinstance(running, threading.Event):
            return not running.is_set()
        return running.poll() is None

    times, pending, rounds = [], 0, 0
    while True:
        for query in WORDS:
            began = time.perf_counter()
            result = service.search(query)
            times.append((time.perf_counter() - began) * 1000)
            pending += result.pending > 0
        rounds += 1
        if not busy() and (running is not None or rounds >= 3):
            break
    return {
        "searches": len(times),
        "p50": statistics.median(times),
        "p95": percentile(times, 0.95),
        "max": max(times),
        "said_pending": pending,
    }


def cli_searches(library: Path, env: dict[str, str]) -> list[float]:
    """A few `margin search` processes: wall ms each."""
    out = []
    for query in ("whale", '"old man"', "king church"):
        began = time.perf_counter()
        subprocess.run(
            [str(MARGIN), "--library", str(library), "search", query],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
        )
        out.append((time.perf_counter() - began) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=int, default=15)
    parser.add_argument("--more", type=int, default=10)
    args = parser.parse_args()
    books = sorted(CORPUS.glob("pg*.txt"))
    if len(books) < args.base + 2 * args.more:
        raise SystemExit(f"needs {args.base + 2 * args.more} books in {CORPUS} (MARGIN_SHARED)")
    with tempfile.TemporaryDirectory(prefix="margin-bench-sdi-") as tmp:
        work = Path(tmp)
        env = {**os.environ, "MARGIN_HOME": str(work / "home")}
        library = work / "library.margin"
        base = copy_books(books[: args.base], work / "base")
        cli_batch = copy_books(books[args.base : args.base + args.more], work / "cli")
        app_batch = books[args.base + args.more : args.base + 2 * args.more]
        subprocess.run(
            [str(MARGIN), "--library", str(library), "import", str(base)],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        service = Service(library, work / "home" / "config")
        fts = Fts5(work / "fts.db")
        fts.build(service.library)
        fts_times = []
        for query in WORDS * 3:
            match = fts.translate(query)
            began = time.perf_counter()
            fts.search(match)
            fts_times.append((time.perf_counter() - began) * 1000)
        phases = {"idle": search_while(service, None)}
        phases["idle"]["cli_ms"] = cli_searches(library, env)

        importer = subprocess.Popen(
            [str(MARGIN), "--library", str(library), "import", str(cli_batch)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        phases["CLI import running"] = search_while(service, importer)
        phases["CLI import running"]["cli_ms"] = cli_searches(library, env)

        done = threading.Event()

        def app_import() -> None:  # as the library screen: a thread, then the child
            worker = Service(library, work / "home" / "config")
            list(worker.import_files(app_batch))
            worker.sync_index_in_child()
            worker.close()
            done.set()

        threading.Thread(target=app_import, daemon=True).start()
        phases["app import running"] = search_while(service, done)
        service.close()

    print(
        f"{args.base} books, then {args.more} by the CLI and {args.more} app-style; load {os.getloadavg()[0]:.2f}"
    )
    print(
        f"FTS5 idle, same words: p50 {statistics.median(fts_times):.1f} ms, "
        f"p95 {percentile(fts_times, 0.95):.1f} ms"
    )
    idle_p95 = phases["idle"]["p95"]
    for name, phase in phases.items():
        cli = phase.get("cli_ms")
        print(
            f"{name:20} {phase['searches']:5} searches  p50 {phase['p50']:7.1f}  "
            f"p95 {phase['p95']:7.1f}  max {phase['max']:7.1f} ms  "
            f"p95/idle {phase['p95'] / idle_p95:4.1f}x  said pending {phase['said_pending']}"
            + (f"  margin search {', '.join(f'{c:.0f}' for c in cli)} ms" if cli else "")
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print("targets: p95 while importing within 3x of idle; none over 2,000 ms")


if __name__ == "__main__":
    main()
