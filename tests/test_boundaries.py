"""store and index never import Textual or tui; the CLI and service do not need Textual either."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def _modules_after_import(modules: list[str]) -> set[str]:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "print('\\n'.join(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    return set(done.stdout.split())


def test_store_and_index_import_neither_textual_nor_tui() -> None:
    loaded = _modules_after_import(["store.library", "store.ingest", "store.anchoring", "index"])
    assert not {m for m in loaded if m == "textual" or m.startswith("textual.")}
    assert not {m for m in loaded if m == "tui" or m.startswith("tui.")}


def test_service_and_cli_work_without_textual() -> None:
    loaded = _modules_after_import(["tui.service", "tui.cli"])
    assert "textual" not in loaded
