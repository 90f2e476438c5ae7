"""`margin sync` at growing sizes: wall seconds of the first sync (export, commit, push), a sync
with nothing new, and a second library's first sync (clone, merge every note), through a bare
repository on disk.

usage: .venv/bin/python bench/sync.py [--annotations N ...]
Wall time, not CPU: most of a sync is git's, in child processes. Prints figures; not a test.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from exchange import ANA, BEN, build  # noqa: E402 - the same library as bench/exchange.py

from store.exchange import gitsync  # noqa: E402
from store.library import Library  # noqa: E402


def measure(annotations: int) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="margin-bench-sync-"))
    remote = work / "team.git"
    subprocess.run(["git", "init", "--bare", "-q", str(remote)], check=True)
    ana_path, ben_path = work / "ana" / "library.margin", work / "ben" / "library.margin"
    ana_path.parent.mkdir()
    ben_path.parent.mkdir()
    lib = build(ana_path, annotations, random.Random(5))
    figures = {}
    started = time.perf_counter()
    gitsync.init(ana_path, str(remote))
    gitsync.sync(lib, ana_path, author=ANA)
    figures["first sync (export, commit, push)"] = time.perf_counter() - started
    started = time.perf_counter()
    gitsync.sync(lib, ana_path, author=ANA)
    figures["sync with nothing new"] = time.perf_counter() - started
    ben = Library(ben_path)
    started = time.perf_counter()
    gitsync.init(ben_path, str(remote))
    report = gitsync.sync(ben, ben_path, author=BEN)
    figures["a colleague's first sync (clone, merge all)"] = time.perf_counter() - started
    assert report.received is not None and report.received.added >= annotations
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--annotations", type=int, nargs="*", default=[1000, 5000])
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}; wall seconds")
    runs = [measure(n) for n in args.annotations]
    print(f"{'notes':46}" + "".join(f"{n:>10,}" for n in args.annotations))
    for name in runs[0]:
        print(f"  {name:44}" + "".join(f"{r[name]:10.2f}" for r in runs))
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
