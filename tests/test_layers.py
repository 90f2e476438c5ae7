"""The layers as a contract, read from the import graph of the source (no import is run):
screens and the CLI call the service; the service calls the index and the store; the index
reads the store through named modules only; the store, store.exchange included, imports
neither the index nor the interface. A new import that crosses a layer fails here, with the
file and the line."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PACKAGES = ("store", "index", "tui")
# What the index may take from the store: the library (its read-only reader), the records and the
# small helpers, never ingest, exchange or anchoring internals.
INDEX_MAY_USE = {
    "store",
    "store.errors",
    "store.fold",  # one fold for the index, snippets and the reader (issue 10)
    "store.library",
    "store.processes",
    "store.records",
    "store.sanitize",
}
# The interface's own modules below the service: never the library's file or its SQL.
SCREEN_PACKAGES = ("tui/screens", "tui/dialogs", "tui/widgets", "tui/app.py", "tui/commands.py")
SCREENS_NEVER = ("store.library", "sqlite3", "sqlite_utils", "index", "store.exchange")


def _module(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in a file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            name = ".".join([*base, node.module] if node.module else base)
            found.append((node.lineno, name))
            # `from store import exchange` imports the module store.exchange
            found += [(node.lineno, f"{name}.{alias.name}") for alias in node.names]
    return found


def _sources(*roots: str) -> list[Path]:
    files: list[Path] = []
    for root in roots:
        path = REPO / root
        files += [path] if path.suffix == ".py" else sorted(path.rglob("*.py"))
    return files


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _crossings(files: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(REPO)}:{line} imports {name}"
        for path in files
        for line, name in _imports(path)
        if any(_within(name, bad) for bad in forbidden)
    ]


def test_the_store_imports_neither_the_index_nor_the_interface() -> None:
    files = _sources("store")
    assert any("exchange" in str(f) for f in files)  # store.exchange is covered
    assert _crossings(files, ("index", "tui", "textual")) == []


def test_the_index_imports_no_interface_and_only_named_store_modules() -> None:
    files = _sources("index")
    assert _crossings(files, ("tui", "textual")) == []
    wider = [
        f"{path.relative_to(REPO)}:{line} imports {name}"
        for path in files
        for line, name in _imports(path)
        if _within(name, "store")
        and name not in INDEX_MAY_USE
        # `from store.library import Library` also yields store.library.Library
        and name.rsplit(".", 1)[0] not in INDEX_MAY_USE - {"store"}
    ]
    assert wider == []


def test_screens_reach_the_library_only_through_the_service() -> None:
    assert _crossings(_sources(*SCREEN_PACKAGES), SCREENS_NEVER) == []


def test_the_service_is_the_only_part_of_the_interface_that_holds_the_library() -> None:
    holders = [
        f"{path.relative_to(REPO)}: {line.strip()}"
        for path in _sources(*SCREEN_PACKAGES)
        for line in path.read_text(encoding="utf-8").splitlines()
        if "service.library" in line or ".execute(" in line
    ]
    assert holders == []


def test_the_checks_see_every_package() -> None:
    # A guard on the guard: the walk finds the imports it is meant to judge.
    service = _imports(REPO / "tui" / "service.py")
    assert any(name == "store.library" for _, name in service)
    assert any(_within(name, "index") for _, name in service)
    assert _crossings(_sources("tui/service.py"), ("store.library",))


def test_the_command_line_reaches_the_library_only_through_the_service() -> None:
    cli = REPO / "tui" / "cli.py"
    assert _crossings([cli], ("store.library", "index")) == []
    assert ".library." not in cli.read_text(encoding="utf-8")
