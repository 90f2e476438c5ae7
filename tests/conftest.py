"""Fixtures shared by the tests: a real library in tmp_path, never the developer's own files."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from store.library import Library
from store.records import Author

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples" / "sources"
# Small published material the tests need lives in the repo (tests/fixtures/README.md says
# where each file came from and under which licence), so a clone with nothing beside it passes.
FIXTURES = REPO / "tests" / "fixtures"
W3C = FIXTURES / "w3c-annotation"
REFI = FIXTURES / "refi-qda"
PDFS = FIXTURES / "pdf"
# The seed article (the same bytes as ../shared/seeds/000_d7a02fca77c0caa4.txt).
SEED = SAMPLES / "xi-pitch-to-the-global-south.txt"

# The one setting for the optional material: the 75 Gutenberg books (57 MB) are too big for the
# repo, so the tests that need them skip, naming what is missing, when this folder lacks them.
SHARED = Path(os.environ.get("MARGIN_SHARED") or REPO.parent / "shared").expanduser().resolve()
CORPUS = SHARED / "corpus" / "gutenberg"
HAVE_CORPUS = CORPUS.is_dir() and any(CORPUS.glob("*.txt"))
needs_corpus = pytest.mark.skipif(
    not HAVE_CORPUS,
    reason=f"needs the Gutenberg corpus: no {CORPUS}/*.txt (set MARGIN_SHARED to the folder "
    "holding corpus/gutenberg/, by default ../shared beside the repo)",
)


def pytest_report_header() -> str:
    state = "found" if HAVE_CORPUS else "missing: corpus tests skip"
    return f"margin: MARGIN_SHARED={SHARED} (Gutenberg corpus {state})"


@pytest.fixture(autouse=True)
def margin_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every margin location at a fresh folder, so no test touches the user's files."""
    home = tmp_path_factory.mktemp("margin-home")
    monkeypatch.setenv("MARGIN_HOME", str(home))
    monkeypatch.delenv("MARGIN_LIBRARY", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg-config"))
    return home


@dataclass
class NewDoc:
    """A document as an importer hands it to the library."""

    text: str
    title: str = "A document"
    author: str | None = None
    published: str | None = None
    source: str = "/tmp/a-document.txt"
    format: str = "txt"
    page_starts: list[int] | None = None
    metadata: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@pytest.fixture
def library(tmp_path: Path) -> Library:
    lib = Library(tmp_path / "library.margin")
    yield lib
    lib.close()


@pytest.fixture
def alice() -> Author:
    return Author(id="11111111-1111-4111-8111-111111111111", name="Alice")


@pytest.fixture
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


def on_disk(library: Any) -> sqlite_utils.Database:
    """The library's file opened as a user would, with sqlite-utils: tests assert on what is
    stored without reaching into the Library's own connection."""
    return sqlite_utils.Database(library.path)
