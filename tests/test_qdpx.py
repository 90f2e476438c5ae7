"""REFI-QDA: the export validates against Project-mrt2019.xsd, the sample .qdpx imports its
codes and selections, re-import is idempotent, and hostile archives read nothing outside."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
import xmlschema
from lxml import etree

from store.exchange import BundleError, export_qdpx, import_qdpx
from store.exchange.qdpx import QdpxLimits
from store.library import Library
from store.records import Author
from tests.conftest import REFI, on_disk
from tests.test_exchange import ALICE, build_sample, snapshot

SAMPLE = REFI / "samples" / "margin-example.qdpx"
ATLAS = REFI / "samples" / "refi-qda-1.5-annexA-example2-atlasti.qde"
CAROL = Author("33333333-3333-4333-8333-333333333333", "Carol")
NS = {"q": "urn:QDA-XML:project:1.0"}
LEGIT = "33333333-3333-3333-3333-333333333333"


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema10:
    return xmlschema.XMLSchema10(REFI / "schema" / "Project-mrt2019.xsd")


@pytest.fixture
def sample(tmp_path: Path):
    lib = Library(tmp_path / "sample.margin")
    ids = build_sample(lib)
    yield lib, ids
    lib.close()


def test_export_validates_and_offsets_slice_the_quotes(sample, schema, tmp_path):
    lib, ids = sample
    report = export_qdpx(lib, tmp_path / "notes.qdpx")
    with zipfile.ZipFile(tmp_path / "notes.qdpx") as archive:
        names = archive.namelist()
        project = archive.read("project.qde")
        texts = {n: archive.read(n).decode("utf-8") for n in names if n.startswith("sources/")}
    assert names[0] == "project.qde" and len(texts) == 2
    errors = list(schema.iter_errors(io.BytesIO(project)))
    assert errors == [], [e.reason for e in errors[:3]]
    root = etree.fromstring(project)
    selections = root.findall(".//q:PlainTextSelection", NS)
    assert len(selections) == 4  # live annotations only; the tombstone is listed as lost
    for source in root.findall(".//q:TextSource", NS):
        text = texts[f"sources/{source.get('plainTextPath').removeprefix('internal://')}"]
        for selection in source.findall("q:PlainTextSelection", NS):
            annotation = lib.annotation(selection.get("guid"))
            start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
            assert text[start:end] == annotation.exact
    links = root.findall(".//q:Link", NS)
    assert {
        (link.get("name"), link.get("originGUID"), link.get("targetGUID")) for link in links
    } >= {("supports", ids["evidence"], ids["claim"])}
    claim_codes = root.findall(".//q:Code[@name='margin']/q:Code[@name='claim']", NS)
    assert len(claim_codes) == 1
    assert any("deleted annotations left out" in line for line in report.lost)
    assert report.counts["selections"] == 4 and report.counts["links"] == 3


def test_export_then_import_carries_the_notes_and_is_idempotent(sample, tmp_path):
    lib, ids = sample
    export_qdpx(lib, tmp_path / "notes.qdpx")
    other = Library(tmp_path / "other.margin")
    report = import_qdpx(other, tmp_path / "notes.qdpx", author=CAROL)
    assert report.refused == []
    mine = {a.id: a for a in lib.annotations()}
    theirs = {a.id: a for a in other.annotations()}
    assert mine.keys() == theirs.keys()
    for key, a in mine.items():
        b = theirs[key]
        assert (a.start, a.end, a.exact, a.role, a.tags, a.note, a.author_id) == (
            b.start,
            b.end,
            b.exact,
            b.role,
            b.tags,
            b.note,
            b.author_id,
        )
    assert {(x.claim_id, x.evidence_id, x.relation, x.note) for x in lib.links()} == {
        (x.claim_id, x.evidence_id, x.relation, x.note) for x in other.links()
    }
    assert sorted((r.claim_id, r.verdict, r.comment) for r in lib.reviews()) == sorted(
        (r.claim_id, r.verdict, r.comment) for r in other.reviews()
    )
    assert {t.name: t.colour for t in lib.tags()} == {t.name: t.colour for t in other.tags()}
    before = snapshot(other)
    again = import_qdpx(other, tmp_path / "notes.qdpx", author=CAROL)
    assert snapshot(other) == before
    assert again.counts["annotations unchanged"] == 4 and "annotations added" not in again.counts
    other.close()


def test_the_sample_qdpx_brings_in_its_codes_and_selections(tmp_path):
    lib = Library(tmp_path / "lib.margin")
    report = import_qdpx(lib, SAMPLE, author=CAROL)
    assert report.refused == []
    assert {t.name: t.colour for t in lib.tags()} == {
        "geopolitics/discourse-power": "#d7875f",
        "infrastructure/data-centres": "#5f87af",
    }
    claim, evidence = lib.annotations()
    assert claim.role == "claim" and claim.exact.startswith("Beijing has identified")
    assert claim.tags == ("geopolitics/discourse-power",) and claim.note.startswith("Central claim")
    assert claim.author_name == "Alice Analyst"
    assert evidence.exact.startswith("Chinese telecom company Huawei")
    (link,) = lib.links()
    assert (link.claim_id, link.evidence_id, link.relation) == (claim.id, evidence.id, "supports")
    assert link.note.startswith("A concrete case")
    (review,) = lib.reviews()
    assert (review.verdict, review.reviewer_name) == ("partly-supported", "Bob Reviewer")
    before = snapshot(lib)
    import_qdpx(lib, SAMPLE, author=CAROL)
    assert snapshot(lib) == before
    lib.close()


def test_selections_are_matched_by_content_when_guids_are_reminted(tmp_path):
    lib = Library(tmp_path / "lib.margin")
    import_qdpx(lib, SAMPLE, author=CAROL)
    with zipfile.ZipFile(SAMPLE) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    project = members["project.qde"].decode()
    for old in (
        "3f9a1c2e-8b7d-4e6f-a5b4-c3d2e1f0a9b8",
        "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
        "e7d6c5b4-a3f2-4e1d-9c0b-8a7f6e5d4c3b",
    ):
        project = project.replace(
            old, old[::-1].replace("-", "")[:8] + old[8:]
        )  # a vendor re-mints
    members["project.qde"] = project.encode()
    path = tmp_path / "reminted.qdpx"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    before = snapshot(lib)
    report = import_qdpx(lib, path, author=CAROL)
    assert report.counts["annotations unchanged"] == 2 and report.counts["links unchanged"] == 1
    assert snapshot(lib) == before
    lib.close()


def test_a_bare_qde_without_sources_imports_its_codebook_and_reports_the_rest(tmp_path):
    lib = Library(tmp_path / "lib.margin")
    report = import_qdpx(lib, ATLAS, author=CAROL)
    names = {t.name for t in lib.tags()}
    assert {"happiness", "Coke::diet Coke", "Breakfast food"} <= names
    assert lib.annotations() == []
    text = "\n".join(report.lines())
    assert "is not here (a bare .qde has no sources)" in text
    assert "VideoSource sources not imported" in text
    lib.close()


# -- hostile archives (B7, L-F5) -------------------------------------------------------------------


def _project(*sources: str, selections: str = "") -> bytes:
    body = "".join(sources)
    return (
        '<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="p">'
        f"<Sources>{body}</Sources></Project>"
    ).encode()


def _source(guid: str, name: str, path: str, selections: str = "") -> str:
    return (
        f'<TextSource guid="{guid}" name="{name}" plainTextPath="{path}">{selections}</TextSource>'
    )


def _archive(
    path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED
) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return path


def test_source_paths_outside_the_archive_are_refused(tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("TOP SECRET local file")
    selection = (
        f'<PlainTextSelection guid="{LEGIT[:-1]}4" name="legit" startPosition="0" endPosition="5"/>'
    )
    project = _project(
        _source(
            "11111111-1111-1111-1111-111111111111", "a", "internal://../../../../../../etc/passwd"
        ),
        _source("22222222-2222-2222-2222-222222222222", "b", "absolute:///etc/passwd"),
        _source("44444444-4444-4444-4444-444444444444", "d", "relative://../secret.txt"),
        _source("55555555-5555-5555-5555-555555555555", "e", "secret.txt"),
        _source(LEGIT, "c", f"internal://{LEGIT}.txt", selection),
    )
    path = _archive(
        tmp_path / "hostile.qdpx",
        {
            "project.qde": project,
            f"sources/{LEGIT}.txt": b"legit source text",
            "../../escaped.txt": b"zip-slip entry",
            "/abs_entry.txt": b"absolute entry",
        },
    )
    lib = Library(tmp_path / "lib.margin")
    report = import_qdpx(lib, path, author=CAROL)
    (doc,) = [lib.document(d) for d in lib.document_ids()]
    assert doc.text == "legit source text"
    assert [a.exact for a in lib.annotations()] == ["legit"]
    refused = "\n".join(report.refused)
    assert (
        "'internal://../../../../../../etc/passwd' is not internal://<GUID>.<ext>; refused"
        in refused
    )
    assert "'absolute:///etc/passwd' points outside the archive; refused" in refused
    assert "'relative://../secret.txt' points outside the archive; refused" in refused
    assert "'secret.txt' is not internal://<GUID>.<ext>" in refused
    assert "archive member '../../escaped.txt' climbs out of the archive" in refused
    assert "archive member '/abs_entry.txt' is an absolute path" in refused
    assert len(report.refused) == 6
    assert not any(
        "SECRET" in r["text"] or "root:" in r["text"] for r in _q(lib, "SELECT text FROM documents")
    )
    lib.close()


def test_zip_bombs_and_huge_archives_are_refused_before_reading(tmp_path):
    lib = Library(tmp_path / "lib.margin")
    before = snapshot(lib)
    bomb = _archive(
        tmp_path / "bomb.qdpx",
        {
            "project.qde": _project(_source(LEGIT, "c", f"internal://{LEGIT}.txt")),
            f"sources/{LEGIT}.txt": b"\0" * 5_000_000,
        },
    )
    with pytest.raises(BundleError, match=r"compressed \d+:1; refused \(zip bomb\?\)"):
        import_qdpx(lib, bomb, author=CAROL)
    with pytest.raises(BundleError, match="unpacks to more than 1 MB"):
        import_qdpx(lib, bomb, author=CAROL, limits=QdpxLimits(max_total=1_000_000))
    many = _archive(
        tmp_path / "many.qdpx", {f"m{i}": b"x" for i in range(20)} | {"project.qde": _project()}
    )
    with pytest.raises(BundleError, match="21 members, over the limit of 10"):
        import_qdpx(lib, many, author=CAROL, limits=QdpxLimits(max_members=10))
    assert snapshot(lib) == before
    lib.close()


def test_dtds_entities_and_bad_xml_are_refused(tmp_path):
    lib = Library(tmp_path / "lib.margin")
    before = snapshot(lib)
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
        b'<Project xmlns="urn:QDA-XML:project:1.0" name="&b;"/>'
    )
    external = (
        b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<Project xmlns="urn:QDA-XML:project:1.0" name="&x;"/>'
    )
    for name, data, reason in (
        ("laughs.qdpx", laughs, "declares a DTD or entities"),
        ("external.qdpx", external, "declares a DTD or entities"),
        ("broken.qdpx", b"<Project", "not well-formed XML"),
        ("other.qdpx", b'<?xml version="1.0"?><Other/>', "not a REFI-QDA project"),
    ):
        path = _archive(tmp_path / name, {"project.qde": data})
        with pytest.raises(BundleError, match=reason):
            import_qdpx(lib, path, author=CAROL)
    two = _archive(tmp_path / "two.qdpx", {"a.qde": _project(), "b.qde": _project()})
    with pytest.raises(BundleError, match="expected one .qde"):
        import_qdpx(lib, two, author=CAROL)
    assert snapshot(lib) == before
    lib.close()


def test_selections_outside_their_source_are_refused(tmp_path):
    selections = "".join(
        f'<PlainTextSelection guid="{digit * 8}-{digit * 4}-{digit * 4}-{digit * 4}-{digit * 12}" '
        f'name="{name}" startPosition="{start}" endPosition="{end}"/>'
        for digit, name, start, end in (
            ("6", "bad", "5", "500"),
            ("7", "neg", "-1", "3"),
            ("8", "nan", "x", "3"),
            ("9", "ok", "0", "5"),
        )
    )
    path = _archive(
        tmp_path / "p.qdpx",
        {
            "project.qde": _project(_source(LEGIT, "c", f"internal://{LEGIT}.txt", selections)),
            f"sources/{LEGIT}.txt": b"legit source text",
        },
    )
    lib = Library(tmp_path / "lib.margin")
    report = import_qdpx(lib, path, author=ALICE)
    assert [a.exact for a in lib.annotations()] == ["legit"]
    assert len(report.refused) == 3
    assert "selection 'bad': positions 5-500 are not inside its source (17)" in report.refused
    lib.close()


def test_offsets_into_a_source_that_cleaning_changes_are_re_anchored(tmp_path):
    raw = "First line\r\nSecond line with the quote\r\nThird line\r\n"
    start = raw.index("the quote")
    selection = (
        f'<PlainTextSelection guid="{LEGIT[:-1]}5" name="q" startPosition="{start}" '
        f'endPosition="{start + len("the quote")}"/>'
    )
    path = _archive(
        tmp_path / "crlf.qdpx",
        {
            "project.qde": _project(_source(LEGIT, "c", f"internal://{LEGIT}.txt", selection)),
            f"sources/{LEGIT}.txt": raw.encode(),
        },
    )
    lib = Library(tmp_path / "lib.margin")
    report = import_qdpx(lib, path, author=CAROL)
    assert report.refused == [] and report.lost == []
    (annotation,) = lib.annotations()
    assert annotation.exact == "the quote"
    assert lib.document(annotation.document_id).text.count("\r") == 0
    lib.close()


def _q(library, sql: str, params=()) -> list[dict]:  # noqa: ANN001
    return list(on_disk(library).query(sql, params))
