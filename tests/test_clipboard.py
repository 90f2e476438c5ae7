"""The system clipboard route, with a stand-in for xclip that behaves like the real one."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tui.clipboard import copy

FAKE_XCLIP = """#!/bin/sh
# Like xclip: read the text, then leave a child serving the selection, holding stdout/stderr.
cat > "$XCLIP_OUT"
(sleep 5; echo still-serving) &
exit 0
"""


@pytest.fixture
def xclip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    program = bin_dir / "xclip"
    program.write_text(FAKE_XCLIP)
    program.chmod(0o755)
    out = tmp_path / "clipboard.txt"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("XCLIP_OUT", str(out))
    return out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the X11 route is Linux's")
def test_xclip_route_returns_at_once_though_its_child_keeps_running(xclip: Path) -> None:
    sent: list[str] = []
    route = copy("“quoted” text — Thibaut, p. 2", sent.append)
    # With its output captured, the child held the pipe, the 2 s timeout hit, and the copy
    # fell back to OSC 52 after a freeze.
    assert route == "copied with xclip" and sent == []
    assert xclip.read_text("utf-8") == "“quoted” text — Thibaut, p. 2"


def test_no_display_falls_back_to_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    sent: list[str] = []
    route = copy("text", sent.append)
    if sys.platform.startswith("linux"):
        assert sent == ["text"] and "OSC 52" in route
