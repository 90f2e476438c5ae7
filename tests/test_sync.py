"""`margin sync` (issue 12): three libraries share notes through a bare git repository on disk,
taking turns; every failure is one line and leaves the library as it was."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from store.library import Library
from tests.conftest import SEED
from tui.cli import cli

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

QUOTE = "Beijing has identified both the digital realm"


def invoke(home: Path, *args: str, env: dict | None = None) -> Result:
    return CliRunner().invoke(
        cli,
        ["--library", str(home / "library.margin"), *args],
        catch_exceptions=False,
        env={"MARGIN_HOME": str(home), **(env or {})},
    )


def run(home: Path, *args: str) -> Result:
    result = invoke(home, *args)
    assert result.exit_code == 0, (args, result.output)
    return result


def js(home: Path, *args: str) -> object:
    return json.loads(run(home, *args, "--json").stdout)


def refused(home: Path, *args: str, env: dict | None = None) -> str:
    result = invoke(home, *args, env=env)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("margin: ") and result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def notes_of(home: Path) -> dict[str, tuple]:
    with Library(home / "library.margin") as lib:
        return {
            a.id: (a.note, a.tags, a.author_name, a.editor_name, a.deleted)
            for a in lib.annotations(include_deleted=True)
        }


def everything(home: Path) -> tuple:
    with Library(home / "library.margin") as lib:
        return (
            lib.annotations(include_deleted=True),
            lib.links(include_deleted=True),
            lib.reviews(),
            lib.tags(),
            [lib.document(i) for i in lib.document_ids()],
        )


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    bare = tmp_path / "team-notes.git"
    subprocess.run(["git", "init", "--bare", "-q", str(bare)], check=True)
    return bare


def test_three_libraries_converge_through_a_bare_repository(tmp_path: Path, remote: Path) -> None:
    ada, bob, cy = (tmp_path / name for name in ("ada", "bob", "cy"))
    for home, name in ((ada, "Ada"), (bob, "Bob"), (cy, "Cy")):
        run(home, "whoami", name)
    run(ada, "import", str(SEED))
    note = js(ada, "annotate", "Xi", "--quote", QUOTE, "--note", "Ada's note", "--claim")
    first = js(ada, "sync", "--init", str(remote))
    assert first["pushed"] is True

    # Bob starts from the repository alone: the sources travel with the notes.
    run(bob, "sync", "--init", str(remote))
    assert notes_of(bob)[note["id"]][0] == "Ada's note"
    run(bob, "note", note["id"][:8], "Ada's note, and Bob's caveat")
    evidence = js(bob, "annotate", "Xi", "--quote", "Chinese telecom company Huawei")
    run(bob, "link", note["id"][:8], evidence["id"][:8])
    run(bob, "sync")

    run(cy, "sync", "--init", str(remote))
    run(cy, "review", note["id"][:8], "partly-supported", "--comment", "one source")
    js(cy, "tag", "add", evidence["id"][:8], "telecom")
    run(cy, "sync")

    for _ in range(2):  # a round of turns, then one more: every change has reached everyone
        for home in (ada, bob, cy):
            run(home, "sync")
    views = [notes_of(home) for home in (ada, bob, cy)]
    assert views[0] == views[1] == views[2]
    assert views[0][note["id"]][:4] == ("Ada's note, and Bob's caveat", (), "Ada", "Bob")
    assert views[0][evidence["id"]][1] == ("telecom",)
    assert views[0][evidence["id"]][3] == "Cy"
    for home in (ada, bob, cy):
        with Library(home / "library.margin") as lib:
            assert [(r.verdict, r.reviewer_name) for r in lib.reviews()] == [
                ("partly-supported", "Cy")
            ]
        assert js(home, "conflicts") == []
    log = subprocess.run(
        ["git", "-C", str(remote), "log", "--format=%an", "--all"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert {"Ada", "Bob", "Cy"} <= set(log)  # each commit is made as its user


def test_both_editing_one_note_is_a_margin_conflict_not_a_git_one(
    tmp_path: Path, remote: Path
) -> None:
    ada, bob = tmp_path / "ada", tmp_path / "bob"
    run(ada, "whoami", "Ada")
    run(bob, "whoami", "Bob")
    run(ada, "import", str(SEED))
    note = js(ada, "annotate", "Xi", "--quote", QUOTE, "--note", "first")
    run(ada, "sync", "--init", str(remote))
    run(bob, "sync", "--init", str(remote))
    run(bob, "note", note["id"][:8], "Bob's reading")
    run(bob, "sync")
    run(ada, "note", note["id"][:8], "Ada's reading")
    run(ada, "sync")  # git merges the files; margin keeps Ada's and records the conflict
    (conflict,) = js(ada, "conflicts")
    assert (conflict["mine_editor"], conflict["theirs_editor"]) == ("Ada", "Bob")
    assert notes_of(ada)[note["id"]][0] == "Ada's reading"
    run(ada, "conflicts", conflict["id"][:8], "--keep", "both")
    run(ada, "sync")
    run(bob, "sync")
    assert notes_of(bob)[note["id"]][0] == "Ada: Ada's reading\n\nBob: Bob's reading"
    assert js(bob, "conflicts") == []


def test_failures_are_one_line_and_leave_the_library_unchanged(
    tmp_path: Path, remote: Path
) -> None:
    ada, bob = tmp_path / "ada", tmp_path / "bob"
    run(ada, "import", str(SEED))
    js(ada, "annotate", "Xi", "--quote", QUOTE, "--note", "first")
    assert "margin sync --init" in refused(ada, "sync")
    assert "could not clone" in refused(ada, "sync", "--init", str(tmp_path / "nowhere.git"))
    run(ada, "sync", "--init", str(remote))
    run(bob, "sync", "--init", str(remote))

    # Offline: the remote is gone.
    moved = tmp_path / "moved.git"
    remote.rename(moved)
    run(ada, "note", notes_id(ada), "changed while offline")
    before = everything(ada)
    assert "could not fetch from origin" in refused(ada, "sync")
    assert everything(ada) == before
    moved.rename(remote)

    # Rejected: a hook refuses every push; Bob's library and clone stay as they were.
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'pushes are closed today' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    js(bob, "annotate", "Xi", "--quote", "Chinese telecom company Huawei")
    bob_before = everything(bob)
    head = subprocess.run(
        ["git", "-C", str(bob / "library.notes"), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "refused the push" in refused(bob, "sync")
    assert everything(bob) == bob_before
    assert (
        subprocess.run(
            ["git", "-C", str(bob / "library.notes"), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        == head
    )
    hook.unlink()
    run(bob, "sync")

    # No git at all.
    assert "git is not installed" in refused(bob, "sync", env={"PATH": str(tmp_path / "empty")})


def notes_id(home: Path) -> str:
    with Library(home / "library.margin") as lib:
        return lib.annotations()[0].id
