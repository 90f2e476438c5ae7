"""Hostile bundles and archives (issue 15): property-based mutations never give a traceback and
never change the library when the file is refused; each named fault is one line, and a bad
record is refused alone while the rest merges.

Hypothesis runs a bounded number of examples (the suite stays fast); a failure prints the
mutation that found it.
"""

from __future__ import annotations

import copy
import json
import struct
import uuid
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.errors import MarginError
from store.exchange import BundleError, export_qdpx, import_qdpx, merge
from store.exchange.bundle import bundle_bytes
from store.exchange.untrusted import _structural_values, count_values, load_json
from store.library import Library
from store.records import Author
from tests.test_exchange import build_sample, snapshot
from tui.cli import cli

BOB = Author("22222222-2222-4222-8222-222222222222", "Bob")
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: no flaky test
)


class World(tuple):
    def __repr__(self) -> str:  # hypothesis prints its arguments: not 50 kB of bundle
        return "world"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    """Alice's bundle and .qdpx, and Bob's library holding the same documents to merge into."""
    tmp = tmp_path_factory.mktemp("world")
    alice = Library(tmp / "alice.margin")
    build_sample(alice)
    raw = bundle_bytes(alice)[0]
    export_qdpx(alice, tmp / "alice.qdpx")
    alice.backup(tmp / "bob.margin")
    alice.close()
    bob = Library(tmp / "bob.margin")
    yield World((bob, raw, (tmp / "alice.qdpx").read_bytes(), tmp))
    bob.close()


def _live_highlight(items: list[dict]) -> dict:
    return next(
        i for i in items if i.get("motivation") == "highlighting" and not i.get("margin:deleted")
    )


def _merge_or_refuse(lib: Library, path: Path, importer) -> None:  # noqa: ANN001
    before = snapshot(lib)
    try:
        importer(lib, path, author=BOB)
    except MarginError as error:
        line = str(error)
        assert "\n" not in line and line, line
        assert snapshot(lib) == before, "a refused file changed the library"


# -- bundles: bytes mutated ---------------------------------------------------------------------

mutation = st.tuples(
    st.sampled_from(["flip", "delete", "insert", "duplicate", "truncate"]),
    st.floats(0, 1),
    st.integers(1, 64),
    st.binary(min_size=1, max_size=8),
)


def mutate(raw: bytes, steps: list) -> bytes:
    data = bytearray(raw)
    for kind, where, size, junk in steps:
        at = int(where * max(0, len(data) - 1))
        if kind == "flip" and data:
            data[at] ^= junk[0] or 1
        elif kind == "delete":
            del data[at : at + size]
        elif kind == "insert":
            data[at:at] = junk
        elif kind == "duplicate":
            data[at:at] = data[at : at + size]
        elif kind == "truncate":
            del data[at:]
    return bytes(data)


@SETTINGS
@given(steps=st.lists(mutation, min_size=1, max_size=4))
def test_a_mutated_bundle_merges_or_is_refused_whole(world, steps) -> None:
    lib, raw, _, tmp = world
    path = tmp / "mutated.margin.jsonld"
    path.write_bytes(mutate(raw, steps))
    _merge_or_refuse(lib, path, merge)


# -- bundles: records given hostile values ------------------------------------------------------

hostile = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(
        [
            "0001-01-01T00:00:00+05:00",
            "9999-12-31T23:59:59-05:00",
            "0001-01-01T00:00:00-14:00",
            "2020-02-30T00:00:00Z",
            "\u202e2020-01-01T00:00:00Z",
            [],
            {},
            [[[]]],
            {"type": "TextPositionSelector", "start": -1, "end": 2**63},
        ]
    ),
)
FIELDS = [
    "created",
    "modified",
    "id",
    "type",
    "motivation",
    "body",
    "target",
    "creator",
    "canonical",
]


def _items(obj: dict) -> list[dict]:
    return obj["first"]["items"] if "first" in obj else obj["items"]


@SETTINGS
@given(field=st.sampled_from(FIELDS), value=hostile)
def test_a_bad_record_is_refused_alone_and_the_rest_merges(world, field, value) -> None:
    lib, raw, _, tmp = world
    obj = json.loads(raw)
    items = _items(obj)
    template = _live_highlight(items)
    good, bad = copy.deepcopy(template), copy.deepcopy(template)
    for record in (good, bad):
        record["id"] = record["canonical"] = f"urn:uuid:{uuid.uuid4()}"
    bad[field] = value
    items[:] = [bad, good]
    path = tmp / "records.margin.jsonld"
    path.write_text(json.dumps(obj))
    report = merge(lib, path, author=BOB)  # never raises for one bad record
    assert lib.annotation(good["id"].removeprefix("urn:uuid:")) is not None
    assert len(report.rejected) <= 1
    for line in report.rejected:
        assert "\n" not in line


def test_year_1_and_9999_with_offsets_are_one_refused_record_each(world) -> None:
    lib, raw, _, tmp = world
    obj = json.loads(raw)
    items = _items(obj)
    template = _live_highlight(items)
    records = []
    for stamp in ("0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", None):
        record = copy.deepcopy(template)
        record["id"] = record["canonical"] = f"urn:uuid:{uuid.uuid4()}"
        if stamp:
            record["created"] = record["modified"] = stamp
        records.append(record)
    items[:] = records
    path = tmp / "years.margin.jsonld"
    path.write_text(json.dumps(obj))
    report = merge(lib, path, author=BOB)
    assert len(report.rejected) == 2, report.lines()
    assert all("out of range" in line or "future" in line for line in report.rejected)
    assert lib.annotation(records[2]["id"].removeprefix("urn:uuid:")) is not None


def test_format_version_and_counts_are_bounded(world) -> None:
    lib, raw, _, tmp = world
    for change, said in (
        ({"margin:formatVersion": -1}, "bundle format -1 is not one margin writes"),
        ({"margin:formatVersion": 0}, "bundle format 0"),
        ({"margin:tags": [{"name": f"t{i}"} for i in range(10_001)]}, "10,001 tags"),
        (
            {"margin:documents": [{"margin:title": f"document {i}"} for i in range(10_001)]},
            "10,001 documents",
        ),
    ):
        obj = {**json.loads(raw), **change}
        path = tmp / "bounds.margin.jsonld"
        path.write_text(json.dumps(obj))
        before = snapshot(lib)
        with pytest.raises(BundleError, match=said):
            merge(lib, path, author=BOB)
        assert snapshot(lib) == before


def test_a_bundle_whose_every_record_is_refused_exits_1(world) -> None:
    lib, raw, _, tmp = world
    obj = json.loads(raw)
    for item in _items(obj):
        item["created"] = "9999-12-31T23:59:59-05:00"
    obj["margin:documents"] = obj["margin:tags"] = []
    path = tmp / "nothing.margin.jsonld"
    path.write_text(json.dumps(obj))
    result = CliRunner().invoke(cli, ["--library", str(tmp / "carol.margin"), "merge", str(path)])
    assert result.exit_code == 1, result.output
    assert "0 added" in result.stdout and "rejected" in result.stdout


# -- JSON bombs: bounded before parsing ---------------------------------------------------------


@pytest.mark.parametrize(
    "bomb",
    [b"[" + b",".join([b"[]"] * 200_000) + b"]", b'["' + b'","'.join([b"a"] * 200_000) + b'"]'],
    ids=["empty lists", "short strings"],
)
def test_a_json_bomb_is_one_line_before_objects_are_built(bomb: bytes) -> None:
    with pytest.raises(BundleError, match="JSON values in .* over the limit"):
        load_json(bomb, "bomb.jsonld")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='ab,[{"\\\n\u00e9'),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=4)
    ),
    max_leaves=20,
)


def _count(value: object) -> int:
    if isinstance(value, list):
        return 1 + sum(_count(v) for v in value)
    if isinstance(value, dict):
        return 1 + sum(_count(v) for v in value.values())
    return 1


@settings(max_examples=200, deadline=None, derandomize=True)
@given(value=json_values, ascii_only=st.booleans())
def test_the_value_count_bounds_what_the_parser_builds(value: object, ascii_only: bool) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert _count(value) <= _structural_values(raw) <= count_values(raw)


# -- archives -----------------------------------------------------------------------------------


def _zip_mutations() -> st.SearchStrategy:
    return st.lists(mutation, min_size=1, max_size=3)


@SETTINGS
@given(steps=_zip_mutations())
def test_a_mutated_qdpx_imports_or_is_refused_whole(world, steps) -> None:
    lib, _, archive, tmp = world
    path = tmp / "mutated.qdpx"
    path.write_bytes(mutate(archive, steps))
    _merge_or_refuse(lib, path, import_qdpx)


def _rewrite_member(archive: bytes, name: str, edit) -> bytes:  # noqa: ANN001
    """The archive with one member's local header and central directory entry edited."""
    data = bytearray(archive)
    with zipfile.ZipFile(__import__("io").BytesIO(archive)) as zf:
        info = zf.getinfo(name)
    edit(data, info.header_offset)  # the local header
    central = data.rfind(b"PK\x01\x02" + bytes(0), 0)
    at = 0
    while True:  # find this member's central directory entry
        at = data.find(b"PK\x01\x02", at)
        if at < 0:
            break
        size = struct.unpack("<H", data[at + 28 : at + 30])[0]
        if data[at + 46 : at + 46 + size].decode() == name:
            edit(data, at, central=True)
            break
        at += 4
    del central
    return bytes(data)


def _encrypt(data: bytearray, at: int, central: bool = False) -> None:
    data[at + (8 if central else 6)] |= 0x1


def _method_99(data: bytearray, at: int, central: bool = False) -> None:
    data[at + (10 if central else 8) : at + (12 if central else 10)] = struct.pack("<H", 99)


def _source_name(archive: bytes) -> str:
    with zipfile.ZipFile(__import__("io").BytesIO(archive)) as zf:
        return next(n for n in zf.namelist() if n.startswith("sources/"))


def _corrupt_payload(archive: bytes, name: str, offset_from_start: int) -> bytes:
    data = bytearray(archive)
    with zipfile.ZipFile(__import__("io").BytesIO(archive)) as zf:
        info = zf.getinfo(name)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + offset_from_start] ^= 0xFF
    return bytes(data)


@pytest.mark.parametrize(
    "fault,said",
    [
        ("encrypted", "is encrypted"),
        ("method 99", "compression method 99"),
        ("bad CRC or deflate", "cannot be read"),
    ],
)
def test_a_damaged_source_member_is_refused_alone(world, fault, said) -> None:
    lib, _, archive, tmp = world
    name = _source_name(archive)
    if fault == "encrypted":
        broken = _rewrite_member(archive, name, _encrypt)
    elif fault == "method 99":
        broken = _rewrite_member(archive, name, _method_99)
    else:
        broken = _corrupt_payload(archive, name, 3)
    path = tmp / f"{fault.replace(' ', '-')}.qdpx"
    path.write_bytes(broken)
    carol = Library(tmp / f"carol-{fault.replace(' ', '-')}.margin")
    report = import_qdpx(carol, path, author=BOB)
    lines = report.lines()
    assert any(said in line for line in lines), lines
    assert sum(report.counts.values()) > 0, "the rest of the project came in"
    carol.close()


def test_a_damaged_project_file_is_one_line(world) -> None:
    lib, _, archive, tmp = world
    path = tmp / "project-crc.qdpx"
    path.write_bytes(_corrupt_payload(archive, "project.qde", 5))
    before = snapshot(lib)
    with pytest.raises(BundleError) as caught:
        import_qdpx(lib, path, author=BOB)
    assert str(caught.value).startswith("project-crc.qdpx: ") and "\n" not in str(caught.value)
    assert snapshot(lib) == before


def test_a_utf16_project_with_a_dtd_is_refused(tmp_path: Path) -> None:
    xml = (
        '<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE Project [<!ENTITY e "boom">]>\n'
        '<Project xmlns="urn:QDA-XML:project:1.0" name="&e;"/>'
    ).encode("utf-16")
    path = tmp_path / "utf16.qdpx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", xml)
    lib = Library(tmp_path / "l.margin")
    with pytest.raises(BundleError, match="declares a DTD or entities"):
        import_qdpx(lib, path, author=BOB)
    lib.close()


# -- nobody speaks for you: a .qdpx never changes an existing note -----------------------------


def test_a_qdpx_from_someone_else_never_changes_my_note(tmp_path: Path) -> None:
    """Bob exports his copy, marks my highlight as a claim in another tool (the code with no
    parent margin writes for claims), and sends the .qdpx back: my note stays as it was."""
    import io

    from lxml import etree

    mine = Library(tmp_path / "mine.margin")
    build_sample(mine)
    note = next(a for a in mine.annotations() if a.role == "highlight" and not a.deleted)
    export_qdpx(mine, tmp_path / "out.qdpx")
    with zipfile.ZipFile(tmp_path / "out.qdpx") as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    root = etree.fromstring(members["project.qde"])
    ns = {"q": "urn:QDA-XML:project:1.0"}
    claim_code = root.find(".//q:Code[@name='claim']", ns)
    assert claim_code is not None
    for selection in root.iterfind(".//q:PlainTextSelection", ns):
        if selection.get("guid").strip("{}").lower() == note.id:
            coding = etree.SubElement(selection, "{urn:QDA-XML:project:1.0}Coding")
            coding.set("guid", str(uuid.uuid4()))
            ref = etree.SubElement(coding, "{urn:QDA-XML:project:1.0}CodeRef")
            ref.set("targetGUID", claim_code.get("guid"))
    members["project.qde"] = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    (tmp_path / "bob.qdpx").write_bytes(buffer.getvalue())
    before = snapshot(mine)
    report = import_qdpx(mine, tmp_path / "bob.qdpx", author=BOB)
    assert snapshot(mine)["annotations"] == before["annotations"]
    assert mine.annotation(note.id).role == "highlight"
    said = [line for line in report.lines() if note.id[:8] in line]
    assert said and "the claim role" in said[0] and "not applied" in said[0], report.lines()
    mine.close()
