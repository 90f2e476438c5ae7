"""Teams (issue 12): every change names its editor, nothing private leaves, filters mean the
same in every format. Through the real command line on real libraries, one home per person."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from store.db import connect
from store.exchange.vocab import ANNO_CONTEXT, MARGIN_NS
from store.library import Library
from store.migrations import SCHEMA_VERSION, migrate
from store.records import Author, to_json
from tests.conftest import SAMPLES, SEED, W3C, NewDoc
from tests.test_exchange import w3c_failures
from tui.cli import cli

QUOTE = "Beijing has identified both the digital realm"


def run(home: Path, *args: str) -> Result:
    result = CliRunner().invoke(
        cli,
        ["--library", str(home / "library.margin"), *args],
        catch_exceptions=False,
        env={"MARGIN_HOME": str(home)},
    )
    assert result.exit_code == 0, (args, result.output)
    return result


def js(home: Path, *args: str) -> object:
    return json.loads(run(home, *args, "--json").stdout)


@pytest.fixture
def team(tmp_path: Path) -> tuple[Path, Path]:
    ada, bob = tmp_path / "ada", tmp_path / "bob"
    run(ada, "whoami", "Ada")
    run(bob, "whoami", "Bob")
    return ada, bob


def test_bob_edits_adas_note_and_ada_sees_bob_as_the_editor(
    team: tuple[Path, Path], tmp_path: Path
) -> None:
    ada, bob = team
    run(ada, "import", str(SEED))
    note = js(ada, "annotate", "Xi", "--quote", QUOTE, "--note", "Ada's reading")
    assert note["author"]["name"] == "Ada" and note["editor"]["name"] == "Ada"
    run(ada, "export", "-o", str(tmp_path / "ada.jsonld"), "--with-sources")

    run(bob, "merge", str(tmp_path / "ada.jsonld"))
    edited = js(bob, "note", note["id"][:8], "Ada's reading, with Bob's caveat")
    assert edited["author"]["name"] == "Ada" and edited["editor"]["name"] == "Bob"
    run(bob, "export", "-o", str(tmp_path / "bob.jsonld"))
    sent = json.loads((tmp_path / "bob.jsonld").read_text(encoding="utf-8"))
    (item,) = [i for i in sent["first"]["items"] if i["id"].endswith(note["id"])]
    assert item["creator"]["name"] == "Ada"  # W3C creator stays the author
    assert item["margin:editor"]["name"] == "Bob"
    assert w3c_failures(sent) == []  # the W3C MUST assertions, with the new term in

    run(ada, "merge", str(tmp_path / "bob.jsonld"))
    assert js(ada, "conflicts") == []
    shown = js(ada, "show", note["id"][:8])
    assert shown["note"] == "Ada's reading, with Bob's caveat"
    assert shown["author"]["name"] == "Ada"
    assert shown["editor"]["name"] == "Bob" and shown["editor"]["at"] == edited["modified"]
    assert "last changed by Bob" in run(ada, "show", note["id"][:8]).stdout

    # Ada answers: she is the editor again, on both sides once Bob merges it back.
    js(ada, "tag", "add", note["id"][:8], "disputed")
    run(ada, "export", "-o", str(tmp_path / "ada2.jsonld"))
    run(bob, "merge", str(tmp_path / "ada2.jsonld"))
    back = js(bob, "show", note["id"][:8])
    assert back["editor"]["name"] == "Ada" and back["tags"] == ["disputed"]

    # Bob makes it a claim: the report for people says who edited it, beside its author.
    run(bob, "role", note["id"][:8], "claim")
    run(bob, "export", "--format", "markdown", "-o", str(tmp_path / "report.md"))
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert f"- **By:** Ada, {note['created'][:10]}; edited by Bob," in report


def test_a_conflict_names_both_editors_and_when(team: tuple[Path, Path], tmp_path: Path) -> None:
    ada, bob = team
    run(ada, "import", str(SEED))
    note = js(ada, "annotate", "Xi", "--quote", QUOTE, "--note", "first")
    run(ada, "export", "-o", str(tmp_path / "a.jsonld"), "--with-sources")
    run(bob, "merge", str(tmp_path / "a.jsonld"))
    theirs = js(bob, "note", note["id"][:8], "Bob's reading")
    run(bob, "export", "-o", str(tmp_path / "b.jsonld"))
    mine = js(ada, "note", note["id"][:8], "Ada's reading")
    run(ada, "merge", str(tmp_path / "b.jsonld"))
    (conflict,) = js(ada, "conflicts")
    reason = conflict["reason"]
    assert f"here by Ada ({mine['editor']['id'][:8]}) at {mine['modified'][:10]}" in reason
    assert f"theirs by Bob ({theirs['editor']['id'][:8]}) at {theirs['modified'][:10]}" in reason
    assert "Bob" in run(ada, "conflicts").stdout


def test_links_and_tags_record_their_editor(library: Library, alice: Author) -> None:
    bob = Author(id="22222222-2222-4222-8222-222222222222", name="Bob")
    doc, _ = library.add_document(NewDoc("Claim and its evidence, in one text."))
    claim = library.annotate(doc.id, 0, 5, author=alice, role="claim")
    evidence = library.annotate(doc.id, 6, 10, author=alice)
    link = library.link(claim.id, evidence.id, author=alice)
    assert (link.editor_id, link.editor_name) == (alice.id, "Alice")
    gone = library.set_link_deleted(link.id, True, editor=bob)
    assert gone.author_name == "Alice" and gone.editor_name == "Bob"
    tagged = library.set_tags(claim.id, ["x"], editor=bob)
    assert tagged.editor_name == "Bob" and tagged.author_name == "Alice"


def test_old_libraries_name_the_author_as_the_editor(tmp_path: Path) -> None:
    for start in range(1, SCHEMA_VERSION):
        path = tmp_path / f"v{start}.margin"
        db = connect(path)
        migrate(db, target=start)
        db["documents"].insert(
            {
                "id": "d1",
                "title": "Old",
                "format": "txt",
                "sha256": "ab",
                "text": "old text",
                "length": 8,
                "metadata": "{}",
                "imported_at": "2026-01-01T00:00:00.000Z",
            }
        )
        for i, role in (("a1", "claim"), ("a2", "highlight")):
            db["annotations"].insert(
                {
                    "id": i,
                    "document_id": "d1",
                    "start": 0,
                    "end": 3,
                    "exact": "old",
                    "role": role,
                    "author_id": "u1",
                    "author_name": "Old Ada",
                    "created": "2026-01-01T00:00:00.000Z",
                    "modified": "2026-01-01T00:00:00.000Z",
                }
            )
        db["links"].insert(
            {
                "id": "l1",
                "claim_id": "a1",
                "evidence_id": "a2",
                "relation": "supports",
                "author_id": "u1",
                "author_name": "Old Ada",
                "created": "2026-01-01T00:00:00.000Z",
                "modified": "2026-01-01T00:00:00.000Z",
            }
        )
        db.conn.close()
        with Library(path) as lib:
            note = lib.annotation("a1")
            assert (note.editor_id, note.editor_name) == ("u1", "Old Ada")
            link = lib.get_link("l1")
            assert (link.editor_id, link.editor_name) == ("u1", "Old Ada")


# -- nothing private leaves ------------------------------------------------------------------------

FORMATS = {
    "bundle": "notes.margin.jsonld",
    "folder": "notes-folder",
    "markdown": "notes.md",
    "csv": "notes.csv",
    "claimreview": "claims.jsonld",
    "qdpx": "notes.qdpx",
    "qdc": "codebook.qdc",
}
NOTE_FORMATS = [f for f in FORMATS if f != "qdc"]  # qdc is the codebook alone


def _every_byte(path: Path) -> bytes:
    """A file's bytes, every file of a folder, and every member of a zip archive."""
    if not path.exists():
        return b""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    out = b""
    for file in files:
        out += file.read_bytes()
        if zipfile.is_zipfile(file):
            with zipfile.ZipFile(file) as archive:
                out += b"".join(archive.read(name) for name in archive.namelist())
    return out


def _noted_library(home: Path, folder: Path) -> None:
    run(home, "import", str(folder))
    claim = js(home, "annotate", "Xi", "--quote", QUOTE, "--claim", "--tag", "geo")
    evidence = js(home, "annotate", "Xi", "--quote", "Chinese telecom company Huawei")
    run(home, "link", claim["id"][:8], evidence["id"][:8])
    run(home, "review", claim["id"][:8], "supported", "--comment", "checked")
    union = js(home, "annotate", "Federalist", "--quote", "well constructed Union", "--claim")
    run(home, "review", union["id"][:8], "unsupported")


def test_no_export_carries_the_exporters_folder(tmp_path: Path) -> None:
    ada = tmp_path / "ada"
    run(ada, "whoami", "Ada")
    private = tmp_path / "home" / "ada-login-7f3e" / "private-papers"
    shutil.copytree(SAMPLES, private)
    _noted_library(ada, private)
    with Library(ada / "library.margin") as lib:  # the library itself knows where they came from
        assert sum(str(private) in lib.document(i).source for i in lib.document_ids()) >= 3
    outputs = tmp_path / "out"
    for fmt, name in FORMATS.items():
        for extra in ((), ("--with-sources",)) if fmt in ("bundle", "folder") else ((),):
            target = outputs / f"{fmt}{len(extra)}" / name
            run(ada, "export", "--format", fmt, "-o", str(target), *extra)
            data = _every_byte(target)
            assert data, fmt
            for secret in (str(private), "ada-login-7f3e", "private-papers", str(tmp_path)):
                assert secret.encode() not in data, (fmt, extra, secret)
                # JSON writes "/" as is, but a Windows path or an escaped one would hide it
                assert json.dumps(secret)[1:-1].encode() not in data, (fmt, extra, secret)


def test_a_merged_document_keeps_no_path_of_the_sender(tmp_path: Path) -> None:
    ada, bob = tmp_path / "ada", tmp_path / "bob"
    private = tmp_path / "ada-login-7f3e"
    shutil.copytree(SAMPLES, private)
    _noted_library(ada, private)
    run(ada, "export", "-o", str(tmp_path / "a.jsonld"), "--with-sources")
    run(bob, "merge", str(tmp_path / "a.jsonld"))
    with Library(bob / "library.margin") as lib:
        for doc in (lib.document(i) for i in lib.document_ids()):
            assert "ada-login-7f3e" not in json.dumps(to_json(doc))


# -- filters mean the same in every format ---------------------------------------------------------


def _exported_quotes(fmt: str, target: Path) -> str:
    data = _every_byte(target).decode("utf-8", errors="replace")
    return " ".join(data.split())


def test_doc_tag_and_claims_only_are_honoured_by_every_format(tmp_path: Path) -> None:
    ada = tmp_path / "ada"
    _noted_library(ada, SAMPLES)
    docs = js(ada, "list")
    xi = next(d for d in docs if d["title"].startswith("Xi"))
    others = [d for d in docs if d["id"] != xi["id"]]
    for fmt in NOTE_FORMATS:
        name = FORMATS[fmt]
        every = tmp_path / f"{fmt}-all" / name
        only = tmp_path / f"{fmt}-doc" / name
        run(ada, "export", "--format", fmt, "-o", str(every))
        run(ada, "export", "--format", fmt, "-o", str(only), "--doc", xi["id"][:8])
        whole, part = _every_byte(every), _every_byte(only)
        assert len(part) < len(whole), fmt
        assert any(d["title"].encode() in whole for d in others), fmt
        assert not any(d["title"].encode() in part for d in others), fmt
        for flag in (("--tag", "nothing-has-this"), ("--claims-only",)):
            filtered = tmp_path / f"{fmt}-{flag[0]}" / name
            run(ada, "export", "--format", fmt, "-o", str(filtered), *flag)
            if flag[0] == "--tag":
                assert b"Huawei" not in _every_byte(filtered), fmt
            elif fmt != "claimreview":
                assert b"Huawei" in whole and b"Huawei" in _every_byte(filtered), fmt


def test_with_sources_is_refused_where_it_means_nothing(tmp_path: Path) -> None:
    ada = tmp_path / "ada"
    _noted_library(ada, SAMPLES)
    for fmt in ("markdown", "csv", "claimreview"):
        target = tmp_path / f"{fmt}.out"
        result = CliRunner().invoke(
            cli,
            [
                "--library",
                str(ada / "library.margin"),
                "export",
                "--format",
                fmt,
                "-o",
                str(target),
                "--with-sources",
            ],
            catch_exceptions=False,
            env={"MARGIN_HOME": str(ada)},
        )
        assert result.exit_code == 2 and result.stdout == ""
        assert result.stderr.startswith("margin: --with-sources") and result.stderr.count("\n") == 1
        assert not target.exists()
    for flag in (("--doc", "Xi"), ("--tag", "geo"), ("--claims-only",), ("--with-sources",)):
        target = tmp_path / "codebook.qdc"
        result = CliRunner().invoke(
            cli,
            ["--library", str(ada / "library.margin"), "export", "--format", "qdc"]
            + ["-o", str(target), *flag],
            env={"MARGIN_HOME": str(ada)},
        )
        assert result.exit_code == 2 and "qdc is the codebook alone" in result.stderr
        assert result.stderr.count("\n") == 1 and not target.exists()


# -- conflicts people can resolve ------------------------------------------------------------------


def _both_edit(tmp_path: Path, *, ada_tags: tuple[str, ...] = (), bob_tags: tuple[str, ...] = ()):
    """Ada's note, edited on both sides since Bob merged it; Ada merges Bob's bundle."""
    ada, bob = tmp_path / "ada", tmp_path / "bob"
    run(ada, "whoami", "Ada")
    run(bob, "whoami", "Bob")
    run(ada, "import", str(SEED))
    note = js(ada, "annotate", "Xi", "--quote", QUOTE, "--note", "first", "--tag", "shared")
    run(ada, "export", "-o", str(tmp_path / "a.jsonld"), "--with-sources")
    run(bob, "merge", str(tmp_path / "a.jsonld"))
    run(bob, "note", note["id"][:8], "Bob's reading")
    if bob_tags:
        run(bob, "tag", "add", note["id"][:8], *bob_tags)
    run(bob, "export", "-o", str(tmp_path / "b.jsonld"))
    run(ada, "note", note["id"][:8], "Ada's reading")
    if ada_tags:
        run(ada, "tag", "add", note["id"][:8], *ada_tags)
    run(ada, "merge", str(tmp_path / "b.jsonld"))
    (conflict,) = js(ada, "conflicts")
    return ada, bob, note, conflict


def test_the_conflict_list_shows_document_quote_and_both_editors(tmp_path: Path) -> None:
    ada, _, note, conflict = _both_edit(tmp_path)
    assert conflict["document"].startswith("Xi")
    assert conflict["quote"] == QUOTE
    assert (conflict["mine_editor"], conflict["theirs_editor"]) == ("Ada", "Bob")
    line = run(ada, "conflicts").stdout
    assert "Xi" in line and "Beijing has identified" in line and "Bob" in line and "Ada" in line
    assert note["id"] not in line  # a short id, not a bare UUID


def test_keep_both_keeps_both_texts_under_each_name_and_unites_the_tags(tmp_path: Path) -> None:
    ada, bob, note, conflict = _both_edit(tmp_path, ada_tags=("mine-tag",), bob_tags=("bobs",))
    with Library(ada / "library.margin") as lib:  # Bob's tag came only with the losing version
        assert lib.find_tag("bobs") is None
    run(ada, "conflicts", conflict["id"][:8], "--keep", "both")
    kept = js(ada, "show", note["id"][:8])
    assert kept["note"] == "Ada: Ada's reading\n\nBob: Bob's reading"
    assert set(kept["tags"]) == {"shared", "mine-tag", "bobs"}
    assert kept["editor"]["name"] == "Ada"
    assert js(ada, "conflicts") == []
    assert "1 settled (1 kept both)" in run(ada, "conflicts").stdout
    # Bob takes the joined note as newer than his own: no conflict on his side.
    run(ada, "export", "-o", str(tmp_path / "a2.jsonld"))
    run(bob, "merge", str(tmp_path / "a2.jsonld"))
    assert js(bob, "conflicts") == []
    assert js(bob, "show", note["id"][:8])["note"] == kept["note"]


def test_edit_keeps_the_users_text_and_refuses_without_one(tmp_path: Path) -> None:
    ada, _, note, conflict = _both_edit(tmp_path)
    bad = CliRunner().invoke(
        cli,
        [
            "--library",
            str(ada / "library.margin"),
            "conflicts",
            conflict["id"][:8],
            "--keep",
            "edit",
        ],
        env={"MARGIN_HOME": str(ada)},
    )
    assert bad.exit_code == 2 and bad.stderr.startswith("margin: --note")
    run(ada, "conflicts", conflict["id"][:8], "--keep", "edit", "--note", "We agree: both")
    assert js(ada, "show", note["id"][:8])["note"] == "We agree: both"


def test_an_open_conflict_merged_again_is_the_same_conflict(tmp_path: Path) -> None:
    ada, _, _, conflict = _both_edit(tmp_path)
    again = js(ada, "merge", str(tmp_path / "b.jsonld"))["report"]
    assert "0 conflicts" in again[0]
    assert any("still open" in line and conflict["id"][:8] in line for line in again)
    assert [c["id"] for c in js(ada, "conflicts")] == [conflict["id"]]


# -- reports others can use ------------------------------------------------------------------------


def test_claimreview_url_is_set_once_and_the_export_says_how_when_missing(tmp_path: Path) -> None:
    ada = tmp_path / "ada"
    _noted_library(ada, SAMPLES)
    out = tmp_path / "cr.jsonld"
    first = js(ada, "export", "--format", "claimreview", "-o", str(out))
    assert any("--publisher-url" in line for line in first["report"])
    assert all("url" not in r for r in json.loads(out.read_text(encoding="utf-8"))["@graph"])
    run(
        ada,
        "export",
        "--format",
        "claimreview",
        "-o",
        str(out),
        "--force",
        "--publisher-url",
        "https://checks.example.org/margin/",
    )
    again = js(ada, "export", "--format", "claimreview", "-o", str(out), "--force")
    assert not any("--publisher-url" in line for line in again["report"])
    graph = json.loads(out.read_text(encoding="utf-8"))["@graph"]
    assert [r["url"].startswith("https://checks.example.org/margin/") for r in graph] == [
        True,
        True,
    ]
    bad = CliRunner().invoke(
        cli,
        ["--library", str(ada / "library.margin"), "export", "--format", "csv"]
        + ["-o", str(tmp_path / "x.csv"), "--publisher-url", "https://x.example"],
        env={"MARGIN_HOME": str(ada)},
    )
    assert bad.exit_code == 2 and "claimreview only" in bad.stderr


def test_a_note_stays_text_in_markdown(tmp_path: Path) -> None:
    from markdown_it import MarkdownIt

    def structure(note: str) -> list[str]:
        home = tmp_path / str(abs(hash(note)))
        run(home, "import", str(SEED))
        js(home, "annotate", "Xi", "--quote", QUOTE, "--claim", "--note", note)
        out = home / "report.md"
        run(home, "export", "--format", "markdown", "-o", str(out))
        tokens = MarkdownIt("commonmark").parse(out.read_text(encoding="utf-8"))
        return [t.type for t in tokens]

    plain = structure("line one\nline two\nline three\nline four\nline five\nline six")
    hostile = structure("1. first\n---\n- item\n+ other\n===\n2) second")
    assert hostile == plain  # the same blocks: no list, rule or heading came from the note


def _margin_keys(node: object, found: set[str]) -> set[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key.startswith("margin:"):
                found.add(key.removeprefix("margin:"))
            _margin_keys(value, found)
    elif isinstance(node, list):
        for value in node:
            _margin_keys(value, found)
    return found


def _expanded_terms(node: object, found: set[str]) -> set[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key.startswith(MARGIN_NS):
                found.add(key.removeprefix(MARGIN_NS))
            _expanded_terms(value, found)
    elif isinstance(node, list):
        for value in node:
            _expanded_terms(value, found)
    return found


def test_json_ld_expansion_keeps_every_margin_term(tmp_path: Path) -> None:
    """pyld expands a bundle offline (the W3C context from tests/fixtures): every margin term
    goes in and comes out, link ends are IRIs, page starts an ordered list."""
    jsonld = pytest.importorskip("pyld.jsonld")
    context = json.loads((W3C / "context" / "anno.jsonld").read_text(encoding="utf-8"))

    def offline(url: str, options: object = None) -> dict:  # noqa: ARG001
        assert url == ANNO_CONTEXT, url  # nothing else may be fetched
        return {"contextUrl": None, "documentUrl": url, "document": context}

    ada, bob = tmp_path / "ada", tmp_path / "bob"
    run(bob, "whoami", "Bob")
    _noted_library(ada, SAMPLES)  # the PDF gives page starts; a link gives claim and evidence
    note = js(ada, "show", js(ada, "claims")[0]["claim"]["id"])
    run(ada, "export", "-o", str(tmp_path / "a.jsonld"), "--with-sources")
    run(bob, "merge", str(tmp_path / "a.jsonld"))
    run(bob, "note", note["id"][:8], "Bob's edit")  # an editor beside the creator
    run(bob, "export", "-o", str(tmp_path / "b.jsonld"), "--with-sources")
    bundle = json.loads((tmp_path / "b.jsonld").read_text(encoding="utf-8"))

    expanded = jsonld.expand(bundle, {"documentLoader": offline})
    sent = _margin_keys(bundle, set())
    assert {"claim", "evidence", "pageStarts", "editor", "documents", "textSha256"} <= sent
    assert _expanded_terms(expanded, set()) == sent

    (collection,) = expanded
    flat = json.dumps(expanded)
    link = next(i for i in bundle["first"]["items"] if "margin:claim" in i)
    assert json.dumps({"@id": link["margin:claim"]}) in flat  # an IRI, not a string
    for doc in bundle["margin:documents"]:  # every document with pages: in order, in and out
        if "margin:pageStarts" not in doc:
            continue
        (out,) = [d for d in collection[MARGIN_NS + "documents"] if d["@id"] == doc["id"]]
        (starts,) = out[MARGIN_NS + "pageStarts"]
        assert [v["@value"] for v in starts["@list"]] == doc["margin:pageStarts"]
    page = bundle["first"]
    assert bundle["last"] == page["id"] and page["partOf"] == bundle["id"]
    assert w3c_failures(bundle) == []
