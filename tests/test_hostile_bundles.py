"""Hostile bundles (reliability.md hazards B1-B10, R5, L-B1..L-B3): each bad record gets one
clear line and the rest merges; a bad file gets one line and nothing is stored; nobody's note
is overwritten or deleted by someone else's bundle; the 39 invalid W3C samples are refused."""

from __future__ import annotations

import copy
import json
import os
import uuid
from pathlib import Path

import pytest

from store.exchange import BundleError, Limits, export_folder, list_conflicts, merge
from store.exchange.bundle import bundle_bytes
from store.library import Library
from store.records import Author, now
from tests.conftest import NewDoc, on_disk
from tests.test_exchange import ALICE, SEED, W3C, snapshot, span

MALLORY = Author("66666666-6666-4666-8666-666666666666", "Mallory")
INVALID = W3C / "tools" / "samples" / "incorrect"


@pytest.fixture
def world(tmp_path: Path):
    """Alice's library with one careful note, and her bundle as a JSON object."""
    lib = Library(tmp_path / "alice.margin")
    seed = SEED.read_text(encoding="utf-8")
    doc, _ = lib.add_document(NewDoc(seed, title="Xi", source="https://example.org/xi"))
    note = lib.annotate(
        doc.id,
        *span(seed, "Beijing has identified"),
        author=ALICE,
        role="claim",
        note="Alice's careful note",
        tags=["geo"],
    )
    collection = json.loads(bundle_bytes(lib)[0])
    yield lib, note, collection, tmp_path
    lib.close()


def fresh(item: dict) -> dict:
    """A copy of an annotation under a new id (a record the receiver has not seen)."""
    new = copy.deepcopy(item)
    new["id"] = new["canonical"] = f"urn:uuid:{uuid.uuid4()}"
    return new


def write(tmp_path: Path, obj: object, name: str = "in.margin.jsonld") -> Path:
    path = tmp_path / name
    path.write_bytes(
        obj if isinstance(obj, bytes) else json.dumps(obj, ensure_ascii=False).encode()
    )
    return path


def with_items(collection: dict, *items: dict) -> dict:
    out = copy.deepcopy(collection)
    out["first"]["items"] = list(items)
    out["total"] = len(items)
    return out


def _selector(item: dict, kind: str) -> dict:
    return next(s for s in item["target"]["selector"] if s["type"] == kind)


def _set_position(key: str, value: object):
    def mutate(item: dict) -> None:
        _selector(item, "TextPositionSelector")[key] = value

    return mutate


def _set(key: str, value: object):
    def mutate(item: dict) -> None:
        item[key] = value

    return mutate


def _note(value: str):
    def mutate(item: dict) -> None:
        item["body"] = [{"type": "TextualBody", "purpose": "commenting", "value": value}]

    return mutate


RECORD_CASES = {
    "id with path traversal": (_set("id", "../../.bashrc"), "is not an IRI"),
    "id not a uuid": (_set("id", "urn:uuid:not-a-uuid"), "not a urn:uuid id"),
    "start as string": (_set_position("start", "3"), "must be a non-negative integer, got '3'"),
    "start as true": (_set_position("start", True), "must be a non-negative integer, got True"),
    "end before start": (_set_position("end", 1), "end 1 is before start"),
    "negative start": (_set_position("start", -1), "non-negative"),
    "end past the text": (_set_position("end", 10_000_000), "past the end of its document"),
    "5 MB note": (_note("x" * 5_000_000), "over the limit of 100,000"),
    "future modified": (_set("modified", "2999-01-01T00:00:00Z"), "in the future"),
    "time without zone": (_set("created", "2025-01-01T00:00:00"), "no time zone"),
    "not a time": (_set("modified", "yesterday"), "not an ISO 8601"),
    "modified before created": (_set("modified", "2000-01-01T00:00:00Z"), "earlier than 'created'"),
    "role markup": (_set("margin:role", "[@click=app.quit]x[/]"), "not one of highlight, claim"),
    "unknown motivation": (_set("motivation", "bookmarking"), "not one margin reads"),
    "creator without id": (_set("creator", {"name": "alice"}), "creator id"),
    "two creators": (_set("creator", [{"id": f"urn:uuid:{ALICE.id}"}] * 2), "exactly one creator"),
    "canonical differs": (_set("canonical", f"urn:uuid:{uuid.uuid4()}"), "'canonical' differs"),
    "body and bodyValue": (_set("bodyValue", "x"), "both 'body' and 'bodyValue'"),
    "no target": (lambda item: item.pop("target"), "has no 'target'"),
    "deleted as a number": (_set("margin:deleted", 1), "'margin:deleted' must be"),
    "tag too long": (
        _set("body", [{"type": "TextualBody", "purpose": "tagging", "value": "t" * 300}]),
        "at most 200",
    ),
    "previous not a hash": (_set("margin:previous", "sha256:zz"), "not sha256"),
    "exact missing": (
        lambda item: _selector(item, "TextQuoteSelector").pop("exact"),
        "TextQuoteSelector",
    ),
}


@pytest.mark.parametrize("label", list(RECORD_CASES))
def test_each_bad_record_gets_one_line_and_the_rest_merges(world, label):
    lib, note, collection, tmp_path = world
    mutate, reason = RECORD_CASES[label]
    template = collection["first"]["items"][0]
    good, bad = fresh(template), fresh(template)
    mutate(bad)
    before = lib.annotation(note.id)
    report = merge(lib, write(tmp_path, with_items(collection, good, bad)), author=ALICE)
    assert len(report.rejected) == 1, report.rejected
    line = report.rejected[0]
    assert reason in line, line
    assert line.startswith("annotation ") and "\n" not in line and "\x1b" not in line
    assert report.added == 1  # the good one
    assert lib.annotation(good["id"].removeprefix("urn:uuid:"))
    assert lib.annotation(note.id) == before


def test_a_lone_surrogate_rejects_only_its_record(world):
    lib, _, collection, tmp_path = world
    good = fresh(collection["first"]["items"][0])
    bad = fresh(collection["first"]["items"][0])
    bad["body"] = [{"type": "TextualBody", "purpose": "commenting", "value": "SURROGATE"}]
    raw = json.dumps(with_items(collection, good, bad)).replace("SURROGATE", "a\\ud800b").encode()
    report = merge(lib, write(tmp_path, raw), author=ALICE)
    assert report.added == 1
    assert len(report.rejected) == 1 and "lone surrogate" in report.rejected[0]


def test_a_duplicate_id_in_the_bundle_is_refused_once(world):
    lib, _, collection, tmp_path = world
    good = fresh(collection["first"]["items"][0])
    report = merge(lib, write(tmp_path, with_items(collection, good, good)), author=ALICE)
    assert report.added == 1
    assert len(report.rejected) == 1 and "appears twice" in report.rejected[0]


def _deep(depth: int) -> bytes:
    return b'{"type":"AnnotationCollection","items":[' + b"[" * depth + b"]" * depth + b"]}"


FILE_CASES = {
    "NaN offset": (
        b'{"type": "AnnotationCollection", "items": [{"start": NaN}]}',
        "non-JSON number NaN",
    ),
    "Infinity": (b'{"a": Infinity}', "non-JSON number Infinity"),
    "1e400": (b'{"a": 1e400}', "out of range"),
    "5000-digit integer": (b'{"a": ' + b"9" * 5000 + b"}", "digits"),
    "duplicate key": (
        b'{"type":"AnnotationCollection","type":"x","items":[]}',
        "duplicate key 'type'",
    ),
    "depth 100000": (_deep(100_000), "JSON values"),  # refused by the value bound first
    "depth 40": (_deep(40), "nested deeper than 32"),
    "invalid UTF-8": (b'{"note": "caf\xe9"}', "not UTF-8"),
    "truncated JSON": (b'{"type": "AnnotationCollection", "items": [', "not valid JSON"),
    "not a collection": (b"[]", "top level is a list"),
    "wrong context": (
        b'{"@context": "x", "type": "AnnotationCollection", "items": []}',
        "@context",
    ),
    "newer format": (
        b'{"@context": "http://www.w3.org/ns/anno.jsonld", "type": "AnnotationCollection",'
        b' "margin:formatVersion": 99, "items": []}',
        "made by a newer margin",
    ),
    "pages elsewhere": (
        b'{"@context": "http://www.w3.org/ns/anno.jsonld", "type": "AnnotationCollection",'
        b' "first": "http://example.org/page1"}',
        "pages are not in this file",
    ),
}


@pytest.mark.parametrize("label", list(FILE_CASES))
def test_a_bad_file_is_one_line_and_nothing_is_stored(world, label):
    lib, _, _, tmp_path = world
    raw, reason = FILE_CASES[label]
    before = snapshot(lib)
    with pytest.raises(BundleError) as caught:
        merge(lib, write(tmp_path, raw), author=ALICE)
    line = str(caught.value)
    assert reason in line and line.startswith("in.margin.jsonld: ") and "\n" not in line
    assert snapshot(lib) == before


def test_size_and_count_limits_hold_before_parsing(world):
    lib, _, collection, tmp_path = world
    template = collection["first"]["items"][0]
    path = write(tmp_path, with_items(collection, *(fresh(template) for _ in range(5))))
    with pytest.raises(BundleError, match="over the limit of 0 MB"):
        merge(lib, path, author=ALICE, limits=Limits(max_bytes=1000))
    with pytest.raises(BundleError, match="7 records, over the limit of 3"):
        merge(lib, path, author=ALICE, limits=Limits(max_items=3))


def test_strings_are_cleaned_as_data_and_unknown_fields_ignored(world):
    lib, _, collection, tmp_path = world
    item = fresh(collection["first"]["items"][0])
    item["body"] = [
        {"type": "TextualBody", "purpose": "commenting", "value": "a\x1b]0;PWNED\x07b\u0000c\r\nd"},
        {"type": "TextualBody", "purpose": "tagging", "value": "  evil\x1b[2J / tag "},
    ]
    item["x-unknown"] = {"anything": [1, 2, {"deep": "ok"}]}
    item["target"]["x-more"] = "ignored"
    report = merge(lib, write(tmp_path, with_items(collection, item)), author=ALICE)
    assert report.rejected == [] and report.added >= 1
    stored = lib.annotation(item["id"].removeprefix("urn:uuid:"))
    assert stored.note == "a]0;PWNEDbc\nd"
    assert stored.tags == ("evil[2J/tag",)


# -- other people's ids (B4, B5) -------------------------------------------------------------------


def test_mallory_cannot_overwrite_or_delete_alices_note(world):
    lib, note, collection, tmp_path = world
    item = copy.deepcopy(collection["first"]["items"][0])
    mallory = {"id": f"urn:uuid:{MALLORY.id}", "name": "alice", "type": "Person"}
    edit = {
        **copy.deepcopy(item),
        "creator": mallory,
        "modified": now(),
        "body": [{"type": "TextualBody", "purpose": "commenting", "value": "overwritten"}],
    }
    before = _q(lib, "SELECT * FROM annotations WHERE id = ?", [note.id])
    report = merge(lib, write(tmp_path, with_items(collection, edit)), author=ALICE)
    assert report.updated == 0 and len(report.conflicts) == 1
    conflict = report.conflicts[0]
    assert (
        conflict.mine["note"] == "Alice's careful note" and conflict.theirs["note"] == "overwritten"
    )
    # a bare tombstone from Mallory does not delete it either
    tombstone = {
        **copy.deepcopy(item),
        "creator": mallory,
        "margin:deleted": True,
        "modified": now(),
    }
    report = merge(
        lib, write(tmp_path, with_items(collection, tombstone), "t.jsonld"), author=ALICE
    )
    assert len(report.conflicts) == 1 and "a deletion" in report.conflicts[0].reason
    # a bare {id, deleted} record is refused outright
    bare = {"id": item["id"], "type": "Annotation", "margin:deleted": True}
    report = merge(lib, write(tmp_path, with_items(collection, bare), "b.jsonld"), author=ALICE)
    assert len(report.rejected) == 1 and "has no 'target'" in report.rejected[0]
    assert _q(lib, "SELECT * FROM annotations WHERE id = ?", [note.id]) == before
    assert len(list_conflicts(lib)) == 2
    # merging Mallory's bundle again changes nothing
    state = snapshot(lib)
    merge(lib, tmp_path / "in.margin.jsonld", author=ALICE)
    assert snapshot(lib) == state and len(list_conflicts(lib)) == 2


def test_a_future_modified_cannot_win(world):
    lib, note, collection, tmp_path = world
    item = copy.deepcopy(collection["first"]["items"][0])
    item["modified"] = "2999-01-01T00:00:00Z"
    item["body"] = [{"type": "TextualBody", "purpose": "commenting", "value": "from the future"}]
    report = merge(lib, write(tmp_path, with_items(collection, item)), author=ALICE)
    assert len(report.rejected) == 1 and "in the future" in report.rejected[0]
    assert lib.annotation(note.id).note == "Alice's careful note"


# -- folder bundles (B6) ---------------------------------------------------------------------------


def test_folder_names_symlinks_and_mismatched_ids_are_refused(world, tmp_path):
    lib, _, collection, _ = world
    folder = tmp_path / "notes"
    export_folder(lib, folder)
    secret = tmp_path / "secret.jsonld"
    secret.write_text(json.dumps(fresh(collection["first"]["items"][0])))
    link_name = f"{uuid.uuid4()}.jsonld"
    os.symlink(secret, folder / "annotations" / link_name)
    (folder / "annotations" / "evil.jsonld").write_text("{}")
    (folder / "annotations" / "x..%2f..%2fy.jsonld").write_text("{}")
    other = fresh(collection["first"]["items"][0])
    (folder / "annotations" / f"{uuid.uuid4()}.jsonld").write_text(json.dumps(other))
    os.symlink(tmp_path, folder / "links")
    report = merge(lib, folder, author=ALICE)
    lines = "\n".join(report.rejected)
    assert f"annotations/{link_name}: is a symbolic link" in lines
    assert "annotations/evil.jsonld: not a margin file name" in lines
    assert "links/: is not a real folder" in lines
    assert "is not its file name" in lines
    assert report.added == 0
    assert len(report.rejected) == 5


def test_folder_tag_and_document_files_must_match_their_names(world, tmp_path):
    lib, _, _, _ = world
    folder = tmp_path / "notes"
    export_folder(lib, folder)
    before = snapshot(lib)
    (tag_file,) = (folder / "tags").iterdir()
    renamed = json.loads(tag_file.read_text("utf-8")) | {"margin:name": "someone-elses"}
    tag_file.write_text(json.dumps(renamed))
    (doc_file,) = (folder / "documents").iterdir()
    other = json.loads(doc_file.read_text("utf-8")) | {"id": f"urn:uuid:{uuid.uuid4()}"}
    (folder / "documents" / f"{uuid.uuid4()}.jsonld").write_text(json.dumps(other))
    (folder / "tags" / f"{uuid.uuid4()}.jsonld").write_text("[1, 2]")
    report = merge(lib, folder, author=ALICE)
    lines = "\n".join(report.rejected)
    assert "its name 'someone-elses' is not its file name" in lines
    assert "documents/" in lines and "is not its file name" in lines
    assert "not a JSON object" in lines
    assert len(report.rejected) == 3
    assert snapshot(lib) == before


def test_a_folder_from_a_newer_margin_is_refused_whole(world, tmp_path):
    lib, _, _, _ = world
    folder = tmp_path / "notes"
    export_folder(lib, folder)
    (doc_file,) = (folder / "documents").iterdir()
    newer = json.loads(doc_file.read_text("utf-8")) | {"margin:formatVersion": 99}
    doc_file.write_text(json.dumps(newer))
    before = snapshot(lib)
    with pytest.raises(BundleError, match="made by a newer margin"):
        merge(lib, folder, author=ALICE)
    assert snapshot(lib) == before


# -- the 39 invalid W3C samples --------------------------------------------------------------------


def test_every_invalid_w3c_sample_is_refused_with_a_line(tmp_path):
    samples = sorted(INVALID.glob("*.json"))
    assert len(samples) == 39
    lib = Library(tmp_path / "lib.margin")
    before = snapshot(lib)
    for path in samples:
        try:
            report = merge(lib, path, author=ALICE)
        except BundleError as error:
            lines = [str(error)]
            assert lines[0].startswith(path.name)
        else:
            lines = report.rejected
            assert (report.added, report.updated, report.conflicts) == (0, 0, [])
        assert len(lines) == 1 and "\n" not in lines[0], (path.name, lines)
        assert len(lines[0]) < 200
    assert snapshot(lib) == before
    lib.close()


def _q(library, sql: str, params=()) -> list[dict]:  # noqa: ANN001
    return list(on_disk(library).query(sql, params))
