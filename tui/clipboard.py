"""Copy text to the clipboard by a route that really delivers, and say which one was taken.

pyperclip reports success with xclip installed but no display, and the program's error text
would draw over the app (Textual draws on fd 2), so on Linux we run the clipboard program
ourselves, only where a display exists, with its output sent to /dev/null and its exit code
checked. Elsewhere pyperclip's own back-ends (pbcopy, Windows) are used. With no working
program, the terminal's own clipboard (OSC 52) is the route: it works over SSH in terminals
that allow it, and tmux drops it unless `set-clipboard on`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path


def _linux_program() -> list[str] | None:
    wayland = os.environ.get("WAYLAND_DISPLAY")
    if wayland and shutil.which("wl-copy"):
        runtime = os.environ.get("XDG_RUNTIME_DIR", "")
        if (Path(runtime) / wayland).exists() or Path(wayland).exists():
            return ["wl-copy"]
    if os.environ.get("DISPLAY"):
        if shutil.which("xclip"):
            return ["xclip", "-selection", "clipboard"]
        if shutil.which("xsel"):
            return ["xsel", "--clipboard", "--input"]
    return None


def copy_native(text: str) -> str | None:
    """Copy with the system's clipboard; the route's name, or None when there is none."""
    if sys.platform.startswith("linux"):
        program = _linux_program()
        if program is None:
            return None
        try:
            # Output to /dev/null, not captured: xclip forks a child that keeps serving the
            # selection and would hold a captured pipe open until the timeout.
            done = subprocess.run(
                program,
                input=text.encode("utf-8"),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=2,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return program[0] if done.returncode == 0 else None
    try:
        import pyperclip

        pyperclip.copy(text)
    except Exception:  # noqa: BLE001 - pyperclip raises its own and OS errors alike
        return None
    return "pyperclip"


def copy(text: str, osc52: Callable[[str], None]) -> str:
    """Copy `text`; returns a short description of the route for the notification."""
    route = copy_native(text)
    if route is not None:
        return f"copied with {route}"
    osc52(text)
    return "sent to the terminal's clipboard (OSC 52; in tmux it needs `set-clipboard on`)"
