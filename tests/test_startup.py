"""A command imports what it uses: `margin --help` loads no library code, `list` no index, and
no scripted command loads Textual or the importers. Checked on the modules a fresh interpreter
holds after the command, not on a clock (the figures are bench/startup.py's)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = (
    "textual",
    "whoosh",
    "sqlite_utils",
    "tui.service",
    "store.library",
    "store.exchange",
    "store.ingest.html",
    "store.ingest.pdf",
    "trafilatura",
    "pypdf",
    "lxml",
)
RUN = """
import json, sys
from click.testing import CliRunner
from tui.cli import cli
result = CliRunner().invoke(cli, sys.argv[1:])
assert result.exit_code == 0, result.output
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def loaded_by(*args: str) -> set[str]:
    code = RUN.format(heavy=HEAVY)
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_help_loads_no_library_code() -> None:
    assert loaded_by("--help") == set()


@pytest.mark.parametrize("command", [["list"], ["search", "whale"]])
def test_list_and_search_load_neither_textual_nor_the_importers_nor_the_exchange(
    command: list[str], tmp_path: Path
) -> None:
    loaded = loaded_by("--library", str(tmp_path / "library.margin"), *command)
    assert loaded.isdisjoint(
        {
            "textual",
            "store.exchange",
            "store.ingest.html",
            "store.ingest.pdf",
            "trafilatura",
            "pypdf",
        }
    ), loaded
    if command == ["list"]:
        assert "whoosh" not in loaded
