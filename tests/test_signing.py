"""Nobody speaks for you (issue 15): exports sign what their author wrote; a record claiming a
person whose key this profile knows must carry that key's signature or it is refused with one
line; a person met unsigned is taken on first use and shown as unverified; `margin authors`
lists the people known, with key fingerprints. Through the CLI on real libraries."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from click.testing import CliRunner, Result

from store.library import Library
from tui.cli import cli

TEXT = "The harbour was dredged in the spring. Critics said the loans were opaque.\n"


def run(home: Path, *args: str) -> Result:
    result = CliRunner().invoke(
        cli, ["--library", str(home / "library.margin"), *args], env={"MARGIN_HOME": str(home)}
    )
    assert "Traceback" not in result.output, result.output
    return result


def person(tmp_path: Path, name: str) -> Path:
    home = tmp_path / name
    source = tmp_path / "harbour.txt"
    source.write_text(TEXT)
    assert run(home, "whoami", name).exit_code == 0
    assert run(home, "import", str(source)).exit_code == 0
    return home


def my_id(home: Path) -> str:
    return json.loads(run(home, "whoami", "--json").stdout)["id"]


def items(bundle: Path) -> list[dict]:
    return json.loads(bundle.read_text())["first"]["items"]


def test_a_bundle_claiming_to_be_me_without_my_signature_is_refused(tmp_path: Path) -> None:
    alice, mallory = person(tmp_path, "alice"), person(tmp_path, "mallory")
    assert (
        run(
            alice, "annotate", "harbour", "--quote", "loans were opaque", "--note", "mine"
        ).exit_code
        == 0
    )
    out = tmp_path / "alice.margin.jsonld"
    assert run(alice, "export", "--format", "bundle", "--output", str(out)).exit_code == 0
    (record,) = items(out)
    assert record["margin:signature"] and record["creator"]["margin:publicKey"]
    # Mallory rewrites Alice's note, keeps her author id, makes it newer, drops the signature.
    forged = json.loads(out.read_text())
    note = forged["first"]["items"][0]
    note["body"] = [{"type": "TextualBody", "purpose": "commenting", "value": "not mine"}]
    note["modified"] = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")  # newer
    note.pop("margin:signature")
    bad = tmp_path / "forged.margin.jsonld"
    bad.write_text(json.dumps(forged))
    result = run(alice, "merge", str(bad))
    assert "0 added, 0 updated" in result.stdout and "1 conflicts" in result.stdout, result.output
    with Library(alice / "library.margin") as lib:
        assert [a.note for a in lib.annotations()] == ["mine"]  # kept; theirs is a conflict
    # A note in Alice's name she never wrote, with a signature made by another key: refused.
    invented = json.loads(json.dumps(note))
    invented["id"] = invented["canonical"] = "urn:uuid:0b9a2d7e-3c1f-4e8a-9b6d-5f4e3d2c1b0a"
    invented["margin:signature"] = record["margin:signature"]
    forged["first"]["items"] = [invented]
    bad.write_text(json.dumps(forged))
    refused = run(alice, "merge", str(bad))
    lines = [line for line in refused.stdout.splitlines() if "rejected  annotation" in line]
    assert len(lines) == 1 and "claims to be 'alice'" in lines[0] and "not signed" in lines[0]
    with Library(alice / "library.margin") as lib:
        assert len(lib.annotations()) == 1
    del mallory


def test_my_own_signed_export_merges_and_a_known_person_stays_known(tmp_path: Path) -> None:
    alice, bob = person(tmp_path, "alice"), person(tmp_path, "bob")
    assert run(alice, "annotate", "harbour", "--quote", "dredged in the spring").exit_code == 0
    out = tmp_path / "alice.margin.jsonld"
    assert run(alice, "export", "--format", "bundle", "--output", str(out)).exit_code == 0
    first = run(bob, "merge", str(out))
    assert first.exit_code == 0 and "1 added" in first.stdout, first.output
    known = json.loads(run(bob, "authors", "--json").stdout)
    assert [k["name"] for k in known] == ["bob", "alice"]
    alice_key = json.loads(run(alice, "authors", "--json").stdout)[0]
    assert known[1]["fingerprint"] == alice_key["fingerprint"] and known[1]["key"]
    text = run(bob, "authors").stdout
    assert alice_key["fingerprint"] in text and "alice" in text
    # Re-merging the same signed bundle: nothing changes, nothing refused.
    again = run(bob, "merge", str(out))
    assert again.exit_code == 0 and "0 rejected" in again.stdout


def test_an_unsigned_stranger_is_taken_on_first_use_and_shown_unverified(tmp_path: Path) -> None:
    alice, bob = person(tmp_path, "alice"), person(tmp_path, "bob")
    assert run(alice, "annotate", "harbour", "--quote", "dredged in the spring").exit_code == 0
    out = tmp_path / "alice.margin.jsonld"
    assert run(alice, "export", "--format", "bundle", "--output", str(out)).exit_code == 0
    unsigned = json.loads(out.read_text())
    for item in unsigned["first"]["items"]:
        item.pop("margin:signature")
        item["creator"].pop("margin:publicKey")
    path = tmp_path / "unsigned.margin.jsonld"
    path.write_text(json.dumps(unsigned))
    result = run(bob, "merge", str(path))
    assert result.exit_code == 0 and "1 added" in result.stdout, result.output
    known = json.loads(run(bob, "authors", "--json").stdout)
    assert known[1]["name"] == "alice" and known[1]["key"] is None
    assert "unverified" in run(bob, "authors").stdout


def test_a_record_claiming_the_receiver_is_refused_even_from_a_first_bundle(tmp_path: Path) -> None:
    """Bob has never met anyone; a bundle "by Bob" that Bob did not sign is refused."""
    alice, bob = person(tmp_path, "alice"), person(tmp_path, "bob")
    assert run(alice, "annotate", "harbour", "--quote", "dredged in the spring").exit_code == 0
    out = tmp_path / "alice.margin.jsonld"
    assert run(alice, "export", "--format", "bundle", "--output", str(out)).exit_code == 0
    forged = json.loads(out.read_text())
    for item in forged["first"]["items"]:
        item["creator"]["id"] = f"urn:uuid:{my_id(bob)}"
        item["creator"]["name"] = "bob"
    path = tmp_path / "as-bob.margin.jsonld"
    path.write_text(json.dumps(forged))
    result = run(bob, "merge", str(path))
    assert "0 added" in result.stdout and "1 rejected" in result.stdout, result.output
    assert "claims to be 'bob'" in result.stdout
    with Library(bob / "library.margin") as lib:
        assert lib.annotations() == []


def test_an_edit_answers_to_its_editor_and_cannot_borrow_mine(tmp_path: Path) -> None:
    # With editors (issue 12) a record is its last editor's word: Bob's signed edit of my note
    # comes in as Bob's, and a record that names me as its editor needs my signature.
    alice, bob = person(tmp_path, "alice"), person(tmp_path, "bob")
    run(alice, "annotate", "harbour", "--quote", "loans were opaque", "--note", "mine")
    mine = tmp_path / "alice.margin.jsonld"
    run(alice, "export", "--format", "bundle", "--output", str(mine))
    assert run(bob, "merge", str(mine)).exit_code == 0
    (record,) = items(mine)
    note_id = record["id"].removeprefix("urn:uuid:")
    assert run(bob, "note", note_id[:8], "mine, and Bob's caveat").exit_code == 0
    his = tmp_path / "bob.margin.jsonld"
    run(bob, "export", "--format", "bundle", "--output", str(his))
    (edited,) = items(his)
    assert edited["margin:editor"]["margin:publicKey"] and edited["margin:signature"]
    assert "margin:publicKey" not in edited["creator"]  # Bob signs for his edit, not for me
    assert run(alice, "merge", str(his)).exit_code == 0
    with Library(alice / "library.margin") as lib:
        (note,) = lib.annotations()
        assert (note.note, note.editor_name) == ("mine, and Bob's caveat", "bob")
    # The same edit with me named as its editor, still under Bob's signature: not mine.
    forged = json.loads(his.read_text())
    item = forged["first"]["items"][0]
    item["margin:editor"] = {**record["creator"], "margin:publicKey": "AAAA"}
    item["body"] = [{"type": "TextualBody", "purpose": "commenting", "value": "not mine"}]
    item["modified"] = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
    bad = tmp_path / "forged.margin.jsonld"
    bad.write_text(json.dumps(forged))
    result = run(alice, "merge", str(bad))
    assert "0 added, 0 updated" in result.stdout, result.output
    with Library(alice / "library.margin") as lib:
        assert [a.note for a in lib.annotations()] == ["mine, and Bob's caveat"]
