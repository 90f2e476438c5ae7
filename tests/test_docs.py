"""The docs stay in step with the code: every key and every command is written down."""

from __future__ import annotations

from click import Group

from tests.conftest import REPO
from tui.cli import cli
from tui.keys import keybindings_markdown


def test_keybindings_doc_is_made_from_the_live_bindings() -> None:
    written = (REPO / "docs" / "keybindings.md").read_text(encoding="utf-8")
    assert written == keybindings_markdown(), "docs/keybindings.md is stale: run `make docs`"


def _commands(group: Group, prefix: str = "") -> list[str]:
    found = []
    for name, command in group.commands.items():
        found.append(f"{prefix}{name}")
        if isinstance(command, Group):
            found += _commands(command, f"{prefix}{name} ")
    return found


def test_every_command_is_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [c for c in _commands(cli) if f"margin {c}" not in readme]
    assert not missing, f"README.md does not show: {missing}"
