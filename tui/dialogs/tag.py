"""Ask for a tag name, completing from the codebook."""

from __future__ import annotations

from tui.dialogs.ask import AskDialog


def tag_dialog(names: list[str], current: tuple[str, ...] = ()) -> AskDialog:
    """A dialog for one tag name (a new name creates the tag)."""
    shown = ", ".join(current) if current else "none yet"
    return AskDialog(
        f"Tag (now: {shown}). Right arrow completes; enter applies.",
        placeholder="tag name, e.g. econ/trade",
        suggestions=names,
    )
