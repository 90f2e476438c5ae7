"""What a command costs as a whole process: `margin --help`, `list` and `search`.

    .venv/bin/python bench/startup.py                    # a library of 10 corpus books
    .venv/bin/python bench/startup.py --books 75         # the whole corpus (a few minutes)
    .venv/bin/python bench/startup.py --library PATH     # an existing library, as it is

Each command runs as its own process, the way a script author runs it; the figures are the
child's CPU time (user + system, from `wait4`) and its peak resident memory, medians of
`--repeat` runs, beside the same for `python -c "import click, rich"`, the floor any command
line of this shape pays. Targets (issue 11): `--help` within 3x of that floor in CPU;
`margin search` under 120 MB peak on the 75-book library.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from statistics import median

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MARGIN_SHARED", REPO.parent / "shared"))
CORPUS = SHARED / "corpus" / "gutenberg"
MARGIN = Path(sys.executable).with_name("margin")


def run(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(CPU seconds, peak MiB) of one child process."""
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed (exit {status})")
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def measure(command: list[str], env: dict[str, str], repeat: int) -> tuple[float, float]:
    runs = [run(command, env) for _ in range(repeat)]
    return median(c for c, _ in runs) * 1000, max(m for _, m in runs)


def build(folder: Path, books: int) -> Path:
    """A library of the first `books` corpus books (by name), indexed."""
    sources = folder / "books"
    sources.mkdir()
    for book in sorted(CORPUS.glob("pg*.txt"))[:books]:
        shutil.copy(book, sources / book.name)
    library = folder / "library.margin"
    env = {**os.environ, "MARGIN_HOME": str(folder / "home")}
    subprocess.run(
        [str(MARGIN), "--library", str(library), "import", str(sources)],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return library


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--books", type=int, default=10)
    parser.add_argument("--library", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="margin-bench-startup-") as tmp:
        folder = Path(tmp)
        if args.library is None:
            if not CORPUS.exists():
                raise SystemExit(f"needs {CORPUS} (set MARGIN_SHARED), or give --library")
            library = build(folder, args.books)
            what = f"{args.books} corpus books"
        else:
            library, what = args.library, str(args.library)
        env = {**os.environ, "MARGIN_HOME": str(folder / "home"), "MARGIN_LIBRARY": str(library)}
        print(f"library: {what}; load average {os.getloadavg()[0]:.2f}")
        floor_cpu, floor_mem = measure(
            [sys.executable, "-c", "import click, rich"], env, args.repeat
        )
        floor = 'python -c "import click, rich"'
        print(f"{floor:34} {floor_cpu:8.1f} ms CPU {floor_mem:7.1f} MiB")
        for words in (["--help"], ["list"], ["search", "whale"], ["search", '"the sea"']):
            cpu, mem = measure([str(MARGIN), *words], env, args.repeat)
            label = "margin " + " ".join(words)
            print(f"{label:34} {cpu:8.1f} ms CPU {mem:7.1f} MiB  {cpu / floor_cpu:5.1f}x the floor")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        print("targets: --help within 3x of the floor in CPU; search under 120 MB peak (75 books)")


if __name__ == "__main__":
    main()
