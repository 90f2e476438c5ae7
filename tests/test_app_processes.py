"""The app starts its child processes (the importer's sandbox, the indexer) like the CLI does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, SAMPLES


def test_importing_html_and_pdf_in_a_fresh_app_uses_the_sandbox_and_the_indexer(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.scripts.import_in_app", str(tmp_path), str(SAMPLES)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert "6 imported" in seen["notices"], seen["notices"]
    assert "failed" not in seen["notices"] and "stopped" not in seen["notices"], seen["notices"]
    assert seen["documents"] == 6
    assert seen["index_behind"] is False  # the child indexed it all; nothing left to catch up
