"""The command line keeps its word: a changed file is a new version, `check` tells notes from
damage, every `--json` parses, every app action has a command, nothing is overwritten silently.

All through click's runner on a real library; each test asserts what is stored.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from store.library import Library
from tests.conftest import FIXTURES, SAMPLES, SEED
from tui.cli import cli

INTRO = "A new first paragraph, written after the notes were made.\n\n"
QUOTE = "Beijing has identified both the digital realm"


def invoke(library: Path, *args: str, home: Path | None = None) -> Result:
    env = {"MARGIN_HOME": str(home)} if home else None
    return CliRunner().invoke(
        cli, ["--library", str(library), *args], catch_exceptions=False, env=env
    )


def ok(library: Path, *args: str, home: Path | None = None) -> Result:
    result = invoke(library, *args, home=home)
    assert result.exit_code == 0, result.output
    return result


def refused(library: Path, *args: str) -> str:
    """A refusal: exit 2, one line on stderr, nothing on stdout."""
    result = invoke(library, *args)
    assert result.exit_code == 2, result.output
    assert result.stdout == "", result.stdout
    assert result.stderr.startswith("margin: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.output
    return result.stderr


def data(library: Path, *args: str) -> object:
    return json.loads(ok(library, *args, "--json").stdout)


@pytest.fixture
def lib_path(tmp_path: Path) -> Path:
    return tmp_path / "lib" / "library.margin"


@pytest.fixture
def report(tmp_path: Path) -> Path:
    path = tmp_path / "report.txt"
    shutil.copy(SEED, path)
    return path


def stored(library: Path) -> tuple[list, list]:
    with Library(library) as lib:
        return [lib.document(i) for i in lib.document_ids()], lib.annotations()


# -- one rule for a changed file -------------------------------------------------------------------


def test_a_changed_file_at_the_same_path_is_a_new_version_with_its_notes_moved(
    lib_path: Path, report: Path
) -> None:
    ok(lib_path, "import", str(report))
    note = data(lib_path, "annotate", "Xi", "--quote", QUOTE, "--note", "key claim")
    report.write_text(INTRO + SEED.read_text(encoding="utf-8"), encoding="utf-8")

    output = ok(lib_path, "import", str(report)).stdout
    assert output.startswith(f"updated   {report}: ") and "new version" in output
    assert "1 moved" in output and note["id"][:8] in output  # the report names the moved note
    (document,), (annotation,) = stored(lib_path)
    assert document.text.startswith(INTRO)
    assert annotation.id == note["id"] and annotation.note == "key claim"
    assert annotation.start == note["start"] + len(INTRO) and annotation.exact == QUOTE
    assert annotation.anchor_state == "moved"


def test_as_new_keeps_a_changed_file_as_a_separate_document(lib_path: Path, report: Path) -> None:
    ok(lib_path, "import", str(report))
    data(lib_path, "annotate", "Xi", "--quote", QUOTE)
    report.write_text(INTRO + SEED.read_text(encoding="utf-8"), encoding="utf-8")
    output = ok(lib_path, "import", "--as-new", str(report)).stdout
    assert output.startswith("imported")
    documents, annotations = stored(lib_path)
    assert len(documents) == 2 and len(annotations) == 1
    assert "--as-new" in refused(lib_path, "import", "--as-new", "--update", str(report))


def test_a_new_file_name_is_a_new_version_of_the_document_named(
    lib_path: Path, report: Path, tmp_path: Path
) -> None:
    ok(lib_path, "import", str(report))
    note = data(lib_path, "annotate", "Xi", "--quote", QUOTE, "--claim")
    second = tmp_path / "report-v2.txt"
    second.write_text(INTRO + SEED.read_text(encoding="utf-8"), encoding="utf-8")

    line = json.loads(ok(lib_path, "import", "--json", "--version-of", "Xi", str(second)).stdout)
    assert line["status"] == "updated" and line["document_id"].startswith(note["document_id"])
    assert line["update"] == {"in_place": 0, "moved": 1, "orphaned": 0}
    (document,), (annotation,) = stored(lib_path)
    assert document.source == str(second) and document.text.startswith(INTRO)
    assert annotation.start == note["start"] + len(INTRO)
    # the next edit of report-v2.txt, imported by path alone, updates the same document
    second.write_text(INTRO * 2 + SEED.read_text(encoding="utf-8"), encoding="utf-8")
    assert ok(lib_path, "import", "--update", str(second)).stdout.startswith("updated")
    (document,), (annotation,) = stored(lib_path)
    assert annotation.start == note["start"] + 2 * len(INTRO)

    before = stored(lib_path)
    assert "no document matches 'nothing like it'" in refused(
        lib_path, "import", "--version-of", "nothing like it", str(second)
    )
    assert "one file" in refused(lib_path, "import", "--version-of", "Xi", str(tmp_path))
    assert stored(lib_path) == before


# -- check -----------------------------------------------------------------------------------------


def test_check_exits_0_with_orphans_listed_and_1_only_for_damage(
    lib_path: Path, report: Path
) -> None:
    ok(lib_path, "import", str(report))
    assert data(lib_path, "check") == {"sound": True, "damage": [], "notes": []}
    note = data(lib_path, "annotate", "Xi", "--quote", QUOTE)
    text = SEED.read_text(encoding="utf-8")
    report.write_text(text.replace(QUOTE, "An entirely different sentence"), encoding="utf-8")
    ok(lib_path, "import", str(report))
    (_,), (annotation,) = stored(lib_path)
    assert annotation.anchor_state == "orphaned"

    result = ok(lib_path, "check")  # an orphan is a note to look at, not damage
    assert "1 note to look at" in result.stdout and note["id"][:8] in result.stdout
    found = data(lib_path, "check")
    assert found["sound"] is True and found["damage"] == [] and len(found["notes"]) == 1

    # damage: a live anchor that points past the end of its text
    with sqlite3.connect(lib_path) as db:
        db.execute('UPDATE annotations SET start = 50000, "end" = 50010 WHERE id = ?', [note["id"]])
        db.execute("UPDATE annotations SET anchor_state = 'ok' WHERE id = ?", [note["id"]])
    result = invoke(lib_path, "check", "--json")
    assert result.exit_code == 1
    found = json.loads(result.stdout)
    assert found["sound"] is False and "outside its document's text" in found["damage"][0]
    assert invoke(lib_path, "check").exit_code == 1


# -- the output contract ---------------------------------------------------------------------------


def test_import_json_is_one_object_per_line_failures_included(
    lib_path: Path, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SEED, inbox / "article.txt")
    (inbox / "broken.pdf").write_bytes(b"%PDF-1.4\nnot a pdf at all")
    result = invoke(lib_path, "import", "--json", str(inbox), str(tmp_path / "gone.txt"))
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    by_name = {Path(line["path"]).name: line for line in lines}
    assert set(by_name) == {"article.txt", "broken.pdf", "gone.txt"}
    assert by_name["article.txt"]["status"] == "imported"
    assert by_name["broken.pdf"]["status"] == "failed" and by_name["broken.pdf"]["reason"]
    assert by_name["gone.txt"] == {
        **by_name["gone.txt"],
        "status": "failed",
        "reason": "no such file or folder",
    }
    (document,), _ = stored(lib_path)
    assert document.id == by_name["article.txt"]["document_id"]


def _all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    found = set()
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found |= _all_commands(command, (*prefix, name))
        else:
            found.add((*prefix, name))
    return found


def test_every_command_prints_json_that_parses(lib_path: Path, tmp_path: Path) -> None:
    ran: set[tuple[str, ...]] = set()

    def js(*args: str) -> object:
        words = tuple(a for a in args[:2] if not a.startswith("-"))
        command = words[:2] if words and words[0] == "tag" else words[:1]
        ran.add(command)
        result = invoke(lib_path, *args, "--json")
        assert result.exit_code == 0, (args, result.output)
        if command == ("import",):
            return [json.loads(line) for line in result.stdout.splitlines()]
        return json.loads(result.stdout)

    assert {line["status"] for line in js("import", str(SAMPLES))} == {"imported"}
    assert len(js("list")) == 6
    claim = js("annotate", "Xi", "--quote", QUOTE, "--claim", "--tag", "geo")
    evidence = js("annotate", "Xi", "--quote", "Chinese telecom company Huawei")
    assert js("link", claim["id"][:8], evidence["id"][:8])["relation"] == "supports"
    assert js("review", claim["id"][:6], "supported")["verdict"] == "supported"
    assert js("claims")[0]["claim"]["id"] == claim["id"]
    assert js("search", "Senegal")["hits"]
    assert js("claims", "--stale") == []
    suggested = js("suggest", claim["id"][:8], "--limit", "3")
    assert len(suggested["suggestions"]) == 3 and suggested["pending"] == 0
    assert js("agreement")["units_coded"] == 1
    assert js("agreement", "--tags")["tags"] == []  # one coder per document here
    assert js("note", evidence["id"], "why it matters")["note"] == "why it matters"
    assert js("role", evidence["id"], "claim")["role"] == "claim"
    assert "Xi" in js("cite", claim["id"])["citation"]
    shown = js("show", evidence["id"][:8])
    assert shown["author"]["name"] == shown["editor"]["name"] and shown["note"] == "why it matters"
    assert js("tag", "create", "econ", "--colour", "#61afef")["colour"] == "#61afef"
    assert js("tag", "describe", "econ", "trade and money")["description"] == "trade and money"
    assert js("tag", "rename", "econ", "economy")["name"] == "economy"
    assert js("tag", "recolour", "economy", "#e06c75")["colour"] == "#e06c75"
    assert js("tag", "merge", "geo", "economy")["name"] == "economy"
    assert {t["name"] for t in js("tags")} == {"economy"}
    assert js("tag", "add", claim["id"][:8], "fresh")["tags"] == ["economy", "fresh"]
    assert js("untag", claim["id"], "economy", "fresh")["tags"] == []
    assert js("tag", "delete", "economy")["deleted"] == "economy"
    assert js("unlink", claim["id"], evidence["id"])["deleted"] is True
    assert js("delete", evidence["id"])["deleted"] is True
    assert js("check")["sound"] is True
    assert js("reindex")["documents"] == 6
    bundle = tmp_path / "notes.margin.jsonld"
    assert js("export", "-o", str(bundle))["output"] == str(bundle)
    assert js("merge", str(bundle))["report"]
    # Other tools' notes, told by content; the report in parts (issue 13).
    kindle = js("merge", str(FIXTURES / "foreign" / "My Clippings.txt"))
    assert kindle["format"] == "Kindle clippings" and len(kindle["missing"]) == 2
    # Its page is not in this library: nothing could be taken, so exit 1 (issue 15).
    hypothesis = invoke(
        lib_path, "merge", str(FIXTURES / "foreign" / "hypothesis-export.json"), "--json"
    )
    assert hypothesis.exit_code == 1, hypothesis.output
    assert json.loads(hypothesis.stdout)["format"] == "Hypothesis"
    codebook = tmp_path / "tags.qdc"
    assert js("export", "--format", "qdc", "-o", str(codebook))["output"] == str(codebook)
    assert js("merge", str(codebook))["format"] == "REFI-QDA"
    assert js("conflicts") == []
    team = tmp_path / "team.git"
    subprocess.run(["git", "init", "--bare", "-q", str(team)], check=True)
    assert js("sync", "--init", str(team))["pushed"] is True
    assert js("sync")["pushed"] is False  # nothing new since
    assert js("locate")["library"] == str(lib_path)
    assert js("whoami", "Ada")["name"] == "Ada"
    assert js("authors")[0]["name"] == "Ada"  # this profile first, with its key
    assert js("backup", str(tmp_path / "copy.margin"))["backup"] == str(tmp_path / "copy.margin")
    assert js("restore", str(tmp_path / "copy.margin"))["documents"] == 6
    named = js(
        "retitle", "Modest", "A Modest Proposal", "--author", "Jonathan Swift", "--date", "1729"
    )
    assert (named["title"], named["author"], named["published"]) == (
        "A Modest Proposal",
        "Jonathan Swift",
        "1729",
    )
    assert js("delete", "--doc", "Modest")["notes"] == 0
    assert ran == _all_commands(cli), _all_commands(cli) - ran  # a new command needs --json too


def test_errors_are_one_line_on_stderr_and_exit_2_everywhere(lib_path: Path) -> None:
    ok(lib_path, "import", str(SEED))
    for args in (
        ("annotate", "no such title", "--quote", "x"),
        ("note", "ffffffff", "text"),
        ("delete", "ffffffff"),
        ("untag", "ffffffff", "geo"),
        ("unlink", "ffffffff", "eeeeeeee"),
        ("link", "ffffffff", "eeeeeeee"),
        ("review", "ffffffff", "supported"),
        ("cite", "ffffffff"),
        ("role", "ffffffff", "claim"),
        ("claims", "--doc", "no such title"),
        ("tag", "rename", "nothing", "else"),
        ("tag", "delete", "nothing"),
        ("conflicts", "abcd", "--keep", "mine"),
        ("search", "(unbalanced"),
        ("suggest", "ffffffff"),
        ("suggest", "Xi", "--limit", "0"),
        ("restore", "/nonexistent/backup.margin"),
        ("retitle", "no such title", "New"),
        ("retitle", "Xi"),  # nothing to change
        ("retitle", "Xi", "--date", "someday"),
    ):
        for json_flag in ((), ("--json",)):
            assert refused(lib_path, *args, *json_flag)


# -- the app's actions, as commands ----------------------------------------------------------------


def test_note_delete_untag_and_unlink_change_what_is_stored(lib_path: Path) -> None:
    ok(lib_path, "import", str(SEED))
    claim = data(
        lib_path, "annotate", "Xi", "--quote", QUOTE, "--claim", "--tag", "geo", "--tag", "econ"
    )
    evidence = data(lib_path, "annotate", "Xi", "--quote", "Chinese telecom company Huawei")
    ok(lib_path, "link", claim["id"][:8], evidence["id"][:8])

    ok(lib_path, "note", claim["id"][:8], "the central claim")
    ok(lib_path, "untag", claim["id"][:8], "econ")
    assert "no tag 'econ'" in refused(lib_path, "untag", claim["id"][:8], "econ")
    ok(lib_path, "unlink", claim["id"][:8], evidence["id"][:8])
    assert "not linked" in refused(lib_path, "unlink", claim["id"][:8], evidence["id"][:8])
    ok(lib_path, "delete", evidence["id"][:8])
    with Library(lib_path) as lib:
        kept = lib.annotation(claim["id"])
        assert kept.note == "the central claim" and kept.tags == ("geo",)
        assert {t.name for t in lib.tags()} >= {"geo", "econ"}  # untag leaves the codebook
        assert lib.links(claim_id=claim["id"]) == []
        assert lib.annotation(evidence["id"]).deleted
        assert [a.id for a in lib.annotations()] == [claim["id"]]


def test_restore_refuses_newer_changes_unless_forced_and_keeps_a_safety_copy(
    lib_path: Path, tmp_path: Path
) -> None:
    ok(lib_path, "import", str(SEED))
    backup = tmp_path / "monday.margin"
    ok(lib_path, "backup", str(backup))
    later = data(lib_path, "annotate", "Xi", "--quote", QUOTE, "--note", "written after")

    assert "changes newer than" in refused(lib_path, "restore", str(backup))
    assert [a.id for a in stored(lib_path)[1]] == [later["id"]]  # untouched

    output = ok(lib_path, "restore", "--force", str(backup)).stdout
    (safety,) = lib_path.parent.glob("library.before-restore-*.margin")
    assert str(safety) in output
    assert stored(lib_path)[1] == []
    with Library(safety) as lib:  # what was replaced is kept
        assert [a.note for a in lib.annotations()] == ["written after"]
    assert data(lib_path, "search", "Senegal")["hits"]  # the index follows the restored file
    assert invoke(lib_path, "check").exit_code == 0
    # nothing newer than the backup now: a plain restore goes ahead
    assert data(lib_path, "restore", str(backup))["documents"] == 1
    not_a_library = tmp_path / "notes.txt"
    not_a_library.write_text("hello", encoding="utf-8")
    assert "not a margin library" in refused(lib_path, "restore", str(not_a_library))


def test_a_restore_of_a_file_that_is_no_library_names_that_file_only(
    lib_path: Path, tmp_path: Path
) -> None:
    # The reason named the staging copy the person never sees:
    # "notes.txt: not a margin library (/x/.library.margin.restoring-123: this file is ...)".
    ok(lib_path, "import", str(SEED))
    not_a_library = tmp_path / "notes.txt"
    not_a_library.write_text("hello", encoding="utf-8")
    message = refused(lib_path, "restore", str(not_a_library))
    assert str(not_a_library) in message and "restoring" not in message, message


def test_conflict_ids_take_prefixes(tmp_path: Path) -> None:
    alice, bob = tmp_path / "alice", tmp_path / "bob"
    mine, theirs = alice / "library.margin", bob / "library.margin"
    ok(mine, "import", str(SEED), home=alice)
    note = json.loads(
        ok(mine, "annotate", "Xi", "--quote", QUOTE, "--note", "first", "--json", home=alice).stdout
    )
    ok(mine, "export", "-o", str(tmp_path / "a.jsonld"), "--with-sources", home=alice)
    ok(theirs, "merge", str(tmp_path / "a.jsonld"), home=bob)
    ok(theirs, "note", note["id"][:8], "Bob's reading", home=bob)
    ok(theirs, "export", "-o", str(tmp_path / "b.jsonld"), home=bob)
    ok(mine, "note", note["id"][:8], "Alice's reading", home=alice)
    ok(mine, "merge", str(tmp_path / "b.jsonld"), home=alice)

    (conflict,) = json.loads(ok(mine, "conflicts", "--json", home=alice).stdout)
    result = ok(mine, "conflicts", conflict["id"][:6], "--keep", "theirs", home=alice)
    assert conflict["id"] in result.stdout
    with Library(mine) as lib:
        assert lib.annotation(note["id"]).note == "Bob's reading"
    assert json.loads(ok(mine, "conflicts", "--json", home=alice).stdout) == []


# -- nothing overwritten silently ------------------------------------------------------------------


def test_export_refuses_an_existing_file_or_a_full_folder_unless_forced(
    lib_path: Path, tmp_path: Path
) -> None:
    ok(lib_path, "import", str(SEED))
    data(lib_path, "annotate", "Xi", "--quote", QUOTE)
    target = tmp_path / "mine.csv"
    target.write_text("my own spreadsheet", encoding="utf-8")
    assert "--force" in refused(lib_path, "export", "--format", "csv", "-o", str(target))
    assert target.read_text(encoding="utf-8") == "my own spreadsheet"
    ok(lib_path, "export", "--format", "csv", "-o", str(target), "--force")
    assert QUOTE in target.read_text(encoding="utf-8")

    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "chapter1.md").write_text("my chapter", encoding="utf-8")
    assert "with files in it" in refused(
        lib_path, "export", "--format", "folder", "-o", str(folder)
    )
    assert sorted(p.name for p in folder.iterdir()) == ["chapter1.md"]

    shared = tmp_path / "shared-notes"
    ok(lib_path, "export", "--format", "folder", "-o", str(shared))
    # a folder bundle margin wrote is updated in place: that is how it is shared in git
    ok(lib_path, "export", "--format", "folder", "-o", str(shared))
    assert (shared / "annotations").is_dir()


def test_a_stranger_without_shared_material_still_has_the_fixtures() -> None:
    # What `make test` on a bare clone reads: in the repo, whatever MARGIN_SHARED says.
    from tests.conftest import FIXTURES, PDFS, REFI, W3C

    assert SEED.is_file() and SEED.parent == SAMPLES
    assert len(list((W3C / "web-annotation-tests" / "definitions").glob("*.json"))) == 7
    assert (REFI / "schema" / "Project-mrt2019.xsd").is_file()
    assert len(list(PDFS.glob("*.pdf"))) == 7
    assert (FIXTURES / "README.md").read_text(encoding="utf-8").count("licence") >= 1
    assert os.environ.get("MARGIN_HOME")  # never the developer's own library
