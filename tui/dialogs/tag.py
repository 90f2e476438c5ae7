"""Ask for a tag name, completing from the codebook."""

from __future__ import annotations

from tui.dialogs.ask import AskDialog


def tag_dialog(names: list[str], current: tuple[str, ...] = ()) -> AskDialog:
    """A dialog for one tag name: a new name creates the tag, one the note has comes off."""
    if current:
        question = (
            f"Tag (now: {', '.join(current)}). A tag it has comes off. Right arrow completes."
        )
    else:
        question = "Tag (none yet). Right arrow completes; enter applies."
    return AskDialog(
        question,
        placeholder="tag name, e.g. econ/trade",
        suggestions=names,
    )
