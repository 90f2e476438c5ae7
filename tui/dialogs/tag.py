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
    if names:
        # The number keys follow the codebook's order, which a new tag can shift: show it.
        keys = " \u00b7 ".join(f"{n} {name}" for n, name in enumerate(names[:9], start=1))
        question += f"\nIn the reader, keys {keys}"
    return AskDialog(
        question,
        placeholder="tag name, e.g. econ/trade",
        suggestions=names,
    )
