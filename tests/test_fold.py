"""One fold for the index, the reader's find and the snippets: what a person types finds the
word however the document spells it, and the original characters are what gets marked."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from store.fold import FoldedText, fold
from tests.apptools import REVIEWER, notices, settle
from tests.conftest import NewDoc
from tui.app import make_app
from tui.cli import cli
from tui.service import Service

TEXT = (
    "Natásha ran in. “Prince Andréy!” she cried — the ﬁrst time, and the ﬂowers were ﬁlled "
    "with light. Ｆｕｌｌ-width words, x² and the crème brûlée at the Straße café. "
    "Then Nata\u0301sha, written with a combining accent, left.\n"
)


def test_fold_rules() -> None:
    assert fold("Natásha") == "natasha"
    assert fold("crème brûlée") == "creme brulee"
    assert fold("ﬁlled ﬂowers") == "filled flowers"
    assert fold("Ｆｕｌｌ") == "full"
    assert fold("x²") == "x2"
    assert fold("Straße") == "strasse"
    assert fold("“quoted” ‘single’ — dash – en") == "\"quoted\" 'single' - dash - en"
    assert fold("Nata\u0301sha") == "natasha"
    assert fold("plain ASCII") == "plain ascii"


@given(st.text(max_size=60))
def test_folded_view_agrees_with_fold_and_maps_inside_the_text(text: str) -> None:
    view = FoldedText(text)
    assert view.text == "".join(fold(c) if not c.isascii() else c.lower() for c in text)
    for start in range(len(view.text) + 1):
        assert 0 <= view.to_original_start(start) <= len(text)
    for o in range(len(text) + 1):
        f = view.to_folded(o)
        assert 0 <= f <= len(view.text)


def test_folded_span_maps_back_to_whole_original_characters() -> None:
    view = FoldedText(TEXT)

    def original(needle: str, nth: int = 0) -> str:
        match = list(re.finditer(re.escape(needle), view.text))[nth]
        start, end = view.original_span(*match.span())
        return TEXT[start:end]

    assert original("natasha") == "Natásha"
    assert original("natasha", 1) == "Nata\u0301sha"
    assert original("filled") == "ﬁlled"
    assert original("fi") == "ﬁ"  # part of a ligature marks the whole ligature
    assert original("full-width") == "Ｆｕｌｌ-width"
    assert original('"prince andrey!"') == "“Prince Andréy!”"
    assert original("strasse") == "Straße"
    assert original("cafe") == "café"
    assert original("then") == "Then"


def service_with(tmp_path: Path, text: str) -> tuple[Service, str]:
    from store.profile import save_profile

    config = tmp_path / "config"
    save_profile(config, REVIEWER)
    service = Service(tmp_path / "library.margin", config)
    document, _ = service.library.add_document(
        NewDoc(text=text, title="Accents", source=str(tmp_path / "accents.txt"))
    )
    service.sync_index()
    return service, document.id


def test_search_folds_and_marks_the_original_words(tmp_path: Path) -> None:
    service, doc_id = service_with(tmp_path, TEXT)
    for query, word in (
        ("Natasha", "Natásha"),
        ("natásha", "Natásha"),  # an exact-accent search still finds its word
        ("creme", "crème"),
        ("filled", "ﬁlled"),
        ("full", "Ｆｕｌｌ"),
        ("strasse", "Straße"),
        ('"prince andrey"', "Prince Andréy"),
    ):
        result = service.search(query)
        assert result.total >= 1, query
        hit = result.hits[0]
        assert hit.document_id == doc_id
        marked = [hit.snippet[s:e] for s, e in hit.marks]
        assert word in marked, (query, marked)
        assert TEXT[hit.offset : hit.offset + hit.length] == word
    service.close()


def test_cli_search_json_marks_accented_words(tmp_path: Path) -> None:
    source = tmp_path / "menu.txt"
    source.write_text("Le menu\n\nUne crème brûlée, puis un café noir.\n", encoding="utf-8")
    lib = tmp_path / "lib" / "library.margin"
    runner = CliRunner()
    result = runner.invoke(cli, ["--library", str(lib), "import", str(source)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["--library", str(lib), "search", "creme brulee", "--json"])
    assert result.exit_code == 0, result.output
    hit = json.loads(result.output)["hits"][0]
    assert [hit["snippet"][s:e] for s, e in hit["marks"]] == ["crème", "brûlée"]


async def test_reader_find_folds_and_marks_the_original(tmp_path: Path) -> None:
    service, doc_id = service_with(tmp_path, TEXT)
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_document(doc_id)
        await settle(pilot)
        reader = app.screen.reader
        await pilot.press("slash", *"natasha", "enter")
        await pilot.pause()
        assert reader.hit == (0, len("Natásha"))
        await pilot.press("greater_than_sign")
        await pilot.pause()
        start = TEXT.index("Nata\u0301sha")
        assert reader.hit == (start, start + len("Nata\u0301sha"))
        await pilot.press("slash", *["backspace"] * 7, *"FILLED", "enter")
        await pilot.pause()
        start = TEXT.index("ﬁlled")
        assert reader.hit == (start, start + len("ﬁlled"))
        await pilot.press("slash", *["backspace"] * 6, *"creme brulee", "enter")
        await pilot.pause()
        start = TEXT.index("crème brûlée")
        assert reader.hit == (start, start + len("crème brûlée"))
        assert "Not found" not in notices(app)
    service.close()


def test_a_document_is_named_as_typed_without_its_accents(tmp_path: Path) -> None:
    service, doc_id = service_with(tmp_path, TEXT)
    service.retitle(doc_id, "Natásha Rostóva in ﬂight")
    assert service.library.resolve_document("natasha rostova in flight").id == doc_id
    assert service.library.resolve_document("ROSTOVA").id == doc_id
    service.close()


def test_an_index_of_the_old_schema_rebuilds_itself_with_the_fold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import index.meta
    import index.schema
    import index.sync

    # The index as margin built it before the fold: schema version 1, tokens lowercased.
    with monkeypatch.context() as old:
        old.setattr(index.sync, "SCHEMA_VERSION", 1)
        old.setattr(index.meta, "SCHEMA_VERSION", 1)  # the meta entry records it
        old.setattr(index.schema, "fold", str.lower)
        service, doc_id = service_with(tmp_path, TEXT)
        assert service.search("Natasha").total == 0
        service.close()
    service = Service(tmp_path / "library.margin", tmp_path / "config")
    result = service.search("Natasha")  # version 1 found: rebuilt, then searched
    assert result.total == 1 and result.hits[0].document_id == doc_id
    meta = service.index.index_state(service.library)
    assert meta[0] == meta[1]
    service.close()
