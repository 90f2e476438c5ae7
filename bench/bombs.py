"""Peak memory of reading hostile bundles (issue 15): JSON bombs that stay within the byte cap.

usage: .venv/bin/python bench/bombs.py [--mb 20]
Each case runs `store.exchange.untrusted.load_json` in a fresh process and prints the peak of
Python's allocations while it reads (tracemalloc; the file's own bytes are not counted), as a
multiple of the file's size; seconds are under tracemalloc, about 2x slower than without. "plain
json.loads" is the parse without margin's bound (what 20 MB cost before: about 1 GB).
Prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, sys, time, tracemalloc
from store.exchange.untrusted import load_json, BundleError
raw = open(sys.argv[1], "rb").read()
tracemalloc.start()
t = time.perf_counter()
try:
    if sys.argv[2] == "plain":
        json.loads(raw)
        said = "parsed"
    else:
        load_json(raw, "bomb.jsonld")
        said = "parsed"
except BundleError as error:
    said = "refused: " + str(error)[:70]
seconds = time.perf_counter() - t
peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({"extra_kb": peak / 1000, "s": seconds, "said": said}))
"""


def bombs(size: int) -> dict[str, bytes]:
    def fill(unit: bytes) -> bytes:
        return b"[" + b",".join([unit] * (size // (len(unit) + 1))) + b"]"

    note = {
        "type": "Annotation",
        "id": "urn:uuid:11111111-1111-4111-8111-111111111111",
        "bodyValue": "a note of a few words, as people write them",
        "target": {
            "source": "urn:uuid:x",
            "selector": [{"type": "TextPositionSelector", "start": 1200, "end": 1260}],
        },
    }
    one = json.dumps(note).encode()
    return {
        "empty lists [[],[],...]": fill(b"[]"),
        "empty objects [{},{},...]": fill(b"{}"),
        "short strings": fill(b'"a"'),
        "small ints": fill(b"1"),
        "floats": fill(b"1e300"),
        "deep nesting": b"[" * (size // 2) + b"]" * (size // 2),
        "annotation-like records": b'{"items":[' + b",".join([one] * (size // len(one))) + b"]}",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=20.0)
    args = parser.parse_args()
    size = int(args.mb * 1_000_000)
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'case':28} {'mode':6} {'MB':>6} {'peak+MB':>8} {'x size':>7} {'s':>6}  result")
        for name, raw in bombs(size).items():
            path = Path(tmp) / "bomb.jsonld"
            path.write_bytes(raw)
            modes = ["margin"] + (["plain"] if args.mb <= 2 else [])
            for mode in modes:
                done = subprocess.run(
                    [sys.executable, "-c", CHILD, str(path), mode],
                    capture_output=True,
                    text=True,
                    cwd=root,
                    check=False,
                )
                if done.returncode:
                    print(f"{name:28} {mode:6} failed: {done.stderr.strip().splitlines()[-1]}")
                    continue
                got = json.loads(done.stdout)
                extra = got["extra_kb"] / 1000
                print(
                    f"{name:28} {mode:6} {len(raw) / 1e6:6.1f} {extra:8.1f} "
                    f"{extra / (len(raw) / 1e6):7.1f} {got['s']:6.2f}  {got['said']}"
                )


if __name__ == "__main__":
    main()
