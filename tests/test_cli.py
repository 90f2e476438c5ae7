"""The command line, end to end through the real store, ingest and index."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import string
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from index import index_dir_for
from store.ingest import extract
from store.library import Library
from tests.conftest import REPO, SAMPLES, SEED, on_disk
from tui.cli import cli


def run(library: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--library", str(library), *args], catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def lib_path(tmp_path: Path) -> Path:
    return tmp_path / "lib" / "library.margin"


def test_import_then_search_the_seed_article(lib_path: Path) -> None:
    code, output = run(lib_path, "import", str(SEED))
    assert code == 0, output
    assert output.startswith("imported")

    code, output = run(lib_path, "search", '"data center" Senegal', "--json")
    assert code == 0, output
    found = json.loads(output)
    top = found["hits"][0]
    text = SEED.read_text(encoding="utf-8")
    assert text[top["offset"] : top["offset"] + len("data center")] == "data center"
    assert "Senegal" in top["snippet"]
    marked = [top["snippet"][s:e].lower() for s, e in top["marks"]]
    assert "data center" in marked and "senegal" in marked

    code, plain = run(lib_path, "search", '"data center" Senegal')
    assert code == 0
    assert "Senegal" in plain and f"@{top['offset']}" in plain


def test_importing_the_same_file_again_changes_nothing(lib_path: Path) -> None:
    run(lib_path, "import", str(SEED))
    lib = Library(lib_path)
    before = (on_disk(lib)["documents"].count, lib.max_seq())
    lib.close()
    code, output = run(lib_path, "import", str(SEED))
    assert code == 0
    assert output.startswith("duplicate")
    lib = Library(lib_path)
    assert (on_disk(lib)["documents"].count, lib.max_seq()) == before
    lib.close()


def test_a_folder_with_bad_files_imports_the_good_one_and_exits_1(
    lib_path: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "broken.pdf").write_bytes(
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\nthis is not a pdf"
    )
    (folder / "program.txt").write_bytes(Path(sys.executable).read_bytes()[:50_000])
    shutil.copy(SEED, folder / "article.txt")
    code, output = run(lib_path, "import", str(folder))
    assert code == 1
    lines = {Path(line.split()[1].rstrip(":")).name: line for line in output.splitlines()}
    assert lines["article.txt"].startswith("imported")
    assert lines["broken.pdf"].startswith("failed") and "PDF" in lines["broken.pdf"]
    assert lines["program.txt"].startswith("failed") and "binary" in lines["program.txt"]
    lib = Library(lib_path)
    assert [d.title for d in lib.documents()] != []
    assert on_disk(lib)["documents"].count == 1
    lib.close()


def test_deleting_the_index_rebuilds_it_on_search(lib_path: Path) -> None:
    run(lib_path, "import", str(SAMPLES))
    _, first = run(lib_path, "search", "faction OR Senegal", "--json")
    shutil.rmtree(index_dir_for(lib_path))
    result = CliRunner().invoke(
        cli, ["--library", str(lib_path), "search", "faction OR Senegal", "--json"]
    )
    assert result.exit_code == 0
    assert result.stderr.startswith("(search index rebuilt first: the index is missing")
    again = result.stdout
    assert [h["offset"] for h in json.loads(again)["hits"]] == [
        h["offset"] for h in json.loads(first)["hits"]
    ]
    assert json.loads(again)["hits"]


def test_a_query_the_parser_rejects_gets_one_clear_line(lib_path: Path) -> None:
    run(lib_path, "import", str(SEED))
    result = CliRunner().invoke(cli, ["--library", str(lib_path), "search", '"data center'])
    assert result.exit_code == 2
    assert "not closed" in result.output and "data center" in result.output
    assert "Traceback" not in result.output


def test_list_and_check_and_backup(lib_path: Path, tmp_path: Path) -> None:
    run(lib_path, "import", str(SAMPLES))
    code, output = run(lib_path, "list", "--json")
    titles = {d["title"] for d in json.loads(output)}
    assert "A Modest Proposal" in titles and len(titles) == 6
    code, output = run(lib_path, "check")
    assert code == 0, output
    code, output = run(lib_path, "backup", str(tmp_path / "copy.margin"))
    assert code == 0
    assert on_disk(Library(tmp_path / "copy.margin"))["documents"].count == 6


def test_scripted_annotation_link_review_and_claims(lib_path: Path) -> None:
    run(lib_path, "import", str(SAMPLES))
    code, output = run(
        lib_path,
        "annotate",
        "Xi's Pitch",
        "--quote",
        "democracies must better compete with the PRC's model",
        "--claim",
        "--tag",
        "governance",
        "--json",
    )
    assert code == 0, output
    claim = json.loads(output)
    code, output = run(
        lib_path,
        "annotate",
        "Federalist",
        "--quote",
        "The latent causes of faction are thus sown in the nature of man",
        "--tag",
        "faction",
        "--json",
    )
    assert code == 0, output
    evidence = json.loads(output)
    code, output = run(lib_path, "annotate", "Federalist", "--quote", "faction")
    assert code == 2 and "places" in output
    # The same quote again by the same person: the one annotation gains the tag.
    quote = "The latent causes of faction are thus sown in the nature of man"
    code, output = run(
        lib_path,
        "annotate",
        "Federalist",
        "--quote",
        quote,
        "--tag",
        "cause",
        "--tag",
        "#faction",
        "--json",
    )
    again = json.loads(output)
    assert again["id"] == evidence["id"] and sorted(again["tags"]) == ["cause", "faction"]
    code, output = run(
        lib_path, "annotate", "Federalist", "--quote", quote, "--tag", "#cause", "--json"
    )
    assert json.loads(output)["modified"] == again["modified"]  # nothing new: nothing written
    code, _ = run(lib_path, "link", claim["id"][:8], evidence["id"][:8], "--relation", "context")
    assert code == 0
    code, output = run(lib_path, "claims", "--json")
    board = json.loads(output)
    assert [(c["claim"]["id"], c["context"]) for c in board] == [(claim["id"], 1)]
    code, output = run(lib_path, "claims", "--no-evidence", "--json")
    assert json.loads(output) == []
    code, _ = run(lib_path, "review", claim["id"], "partly-supported", "--comment", "one source")
    assert code == 0
    code, output = run(lib_path, "claims", "--verdict", "partly-supported", "--json")
    assert json.loads(output)[0]["reviewer_name"]
    code, output = run(lib_path, "search", "is:claim compete", "--json")
    assert [h["annotation_id"] for h in json.loads(output)["hits"]] == [claim["id"]]
    code, _ = run(lib_path, "tag", "rename", "faction", "politics/faction")
    assert code == 0
    code, output = run(lib_path, "tags", "--json")
    assert {t["name"]: t["count"] for t in json.loads(output)} == {
        "cause": 1,
        "governance": 1,
        "politics/faction": 1,
    }
    code, output = run(lib_path, "search", "tag:politics", "--json")
    assert [h["annotation_id"] for h in json.loads(output)["hits"]] == [evidence["id"]]


def test_import_with_a_named_encoding(lib_path: Path, tmp_path: Path) -> None:
    czech = "Příliš žluťoučký kůň úpěl ďábelské ódy. " * 20
    source = tmp_path / "czech.txt"
    source.write_bytes(czech.encode("cp1250"))
    code, output = run(lib_path, "import", "--encoding", "iso-8859-15", str(source))
    assert code == 0 and output.startswith("imported")
    code, output = run(lib_path, "import", "--encoding", "windows-1250", str(source))
    # The same path read right this time: a new version of that document, not a second one.
    assert code == 0 and output.startswith("updated"), output
    code, output = run(lib_path, "search", "žluťoučký", "--json")
    (hit,) = json.loads(output)["hits"]
    with Library(lib_path) as lib:
        assert lib.document(hit["document_id"]).text == czech
        before = lib.document_ids()
        assert before == [hit["document_id"]]
    code, output = run(lib_path, "import", "--encoding", "klingon", str(source))
    assert code == 2
    assert output.strip() == "margin: --encoding: unknown encoding 'klingon'"
    with Library(lib_path) as lib:
        assert lib.document_ids() == before
    code, output = run(lib_path, "import", "--encoding", "cp1250", str(SAMPLES))
    assert code == 0 and "--encoding cp1250 applies to .txt and .md files" in output


def _damage(library: Path) -> None:
    """Overwrite the second half of the file's pages, past the schema on page 1."""
    data = bytearray(library.read_bytes())
    page = 4096
    start = (len(data) // page // 2) * page
    data[start:] = bytes((i * 37 + 11) % 256 for i in range(len(data) - start))
    library.write_bytes(bytes(data))


def test_a_damaged_library_is_one_line_everywhere_and_the_app_will_not_open(
    lib_path: Path,
) -> None:
    run(lib_path, "import", str(SAMPLES))
    _damage(lib_path)
    code, output = run(lib_path, "check")
    assert code in (1, 2) and "Traceback" not in output
    assert "damaged" in output or "malformed" in output, output
    out = str(lib_path.parent / "out.csv")
    for command in (["search", "faction"], ["claims"], ["export", "--format", "csv", "-o", out]):
        code, output = run(lib_path, *command)
        assert "Traceback" not in output
        if code != 0:  # some commands never read the broken pages; those that do say so
            assert code == 2 and output.count("\n") == 1 and "damaged" in output, output
    code, output = run(lib_path)  # no command: the app
    assert code == 2 and "damaged" in output and "backup" in output, output


def _books(folder: Path, count: int) -> list[Path]:
    """Book-sized texts (about 220 kB each) of made-up words, so the test needs no corpus."""
    rnd = random.Random(7)
    words = ["".join(rnd.choices(string.ascii_lowercase, k=rnd.randint(3, 9))) for _ in range(4000)]
    folder.mkdir()
    books = []
    for n in range(count):
        paragraphs = [
            " ".join(rnd.choices(words, k=rnd.randint(40, 120))).capitalize() + "."
            for _ in range(400)
        ]
        book = folder / f"book-{n:02}.txt"
        book.write_text("\n\n".join(paragraphs), encoding="utf-8")
        books.append(book)
    return books


@pytest.mark.slow
def test_a_killed_import_leaves_a_sound_library(tmp_path: Path) -> None:
    library = tmp_path / "killed.margin"
    env = {**os.environ, "MARGIN_LIBRARY": str(library), "PYTHONUNBUFFERED": "1"}
    margin = [sys.executable, "-m", "tui.cli"]
    books = _books(tmp_path / "books", 30)
    started = subprocess.Popen(
        [*margin, "import", *map(str, books)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    # Each "imported" line is printed after its file's transaction committed: kill it on the
    # third, in the middle of the batch (27 books still to go), and check that it was.
    for _ in range(3):
        line = started.stdout.readline()
        assert line.startswith("imported"), line
    started.send_signal(signal.SIGKILL)
    started.wait()
    assert started.returncode == -signal.SIGKILL  # killed, not finished

    check = subprocess.run([*margin, "check"], cwd=REPO, env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    with Library(library) as lib:
        stored = {d.source: d for d in (lib.document(i) for i in lib.document_ids())}
    assert 3 <= len(stored) < len(books)  # the kill landed mid-work
    for book in books:
        if str(book) in stored:
            assert stored[str(book)].text == extract(book).text  # whole, never partial
    probe = next(iter(stored.values()))
    # The opening words of a paragraph from the middle: one passage holds them (passages are
    # whole paragraphs, or cut at sentence ends), so the phrase must be found. The piece before
    # the first break is dropped: cutting the text in half can split a word ("er the tree"). The
    # limit is wide because the books share one vocabulary, so many passages rank alike.
    middle = probe.text[len(probe.text) // 2 :].split("\n\n")[1:]
    paragraphs = [p.split() for p in middle]
    words = next(p[:5] for p in paragraphs if len(p) >= 8 and all(w.isalpha() for w in p[:5]))
    found = subprocess.run(
        [*margin, "search", f'"{" ".join(words)}"', "--json", "--limit", "500"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert probe.id in {h["document_id"] for h in json.loads(found.stdout)["hits"]}


def test_the_sample_notes_merge_into_the_sample_library(lib_path: Path) -> None:
    run(lib_path, "import", str(SAMPLES))
    code, output = run(lib_path, "merge", str(SAMPLES.parent / "notes.margin.jsonld"))
    assert code == 0, output
    assert "0 conflicts, 0 orphaned, 0 rejected" in output
    code, output = run(lib_path, "claims", "--json")
    board = json.loads(output)
    assert len(board) == 3
    assert any(c["supports"] and c["context"] for c in board)  # evidence across two documents
    assert any(c["verdict"] == "supported" for c in board)
    code, again = run(lib_path, "merge", str(SAMPLES.parent / "notes.margin.jsonld"))
    assert "0 added, 0 updated" in again
