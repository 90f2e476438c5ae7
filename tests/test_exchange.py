"""The W3C bundle: lossless round trip (byte-identical, also as a property over generated
libraries), the W3C MUST assertions from tests/fixtures, subsets, the folder form and a
git merge of two people's folders."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from store.exchange import export_bundle, export_folder, merge
from store.exchange.bundle import bundle_bytes
from store.exchange.validate import read_bundle
from store.library import Library
from store.records import Author
from store.sanitize import ingest_clean
from tests.conftest import SEED, NewDoc, on_disk
from tests.conftest import W3C as W3C_FIXTURES

W3C = W3C_FIXTURES / "web-annotation-tests"
FEDERALIST = Path(__file__).resolve().parents[1] / "samples" / "sources" / "federalist-no-10.md"
ALICE = Author("11111111-1111-4111-8111-111111111111", "Alice Analyst")
BOB = Author("22222222-2222-4222-8222-222222222222", "Bob Reviewer")


# -- a sample library ------------------------------------------------------------------------------


def span(text: str, quote: str) -> tuple[int, int]:
    start = text.index(quote)
    return start, start + len(quote)


def build_sample(lib: Library) -> dict[str, str]:
    """Two documents, claims and evidence across them, tags, verdict history, tombstones."""
    seed = SEED.read_text(encoding="utf-8")
    federalist = FEDERALIST.read_text(encoding="utf-8")
    xi, _ = lib.add_document(
        NewDoc(
            seed,
            title="Xi\u2019s Pitch to the Global South on Technological Governance",
            author="Kenton Thibaut",
            published="2023-01-10",
            source="/home/alice/Downloads/xi.txt",
        )
    )
    fed, _ = lib.add_document(
        NewDoc(
            federalist,
            title="The Federalist No. 10",
            author="James Madison",
            published="1787-11-22",
            source="https://www.gutenberg.org/ebooks/1404",
            format="md",
            page_starts=[0, 6000, 12000],
            metadata={"language": "en", "pages": [1, 2, 3]},
        )
    )
    lib.ensure_tag("geopolitics/discourse-power", "#d7875f", "Claims about narrative power")
    lib.ensure_tag("infrastructure/data-centres", "#5f87af")
    lib.ensure_tag("unused/tag", "#123456", "never used")
    claim = lib.annotate(
        xi.id,
        *span(seed, "Beijing has identified both the digital realm"),
        author=ALICE,
        role="claim",
        note="Central claim; does the article show the *digital* part?\n"
        "Second line: [link](x) #tag",
        tags=["geopolitics/discourse-power"],
    )
    evidence = lib.annotate(
        xi.id,
        *span(seed, "Chinese telecom company Huawei is funding"),
        author=ALICE,
        tags=["infrastructure/data-centres"],
    )
    faction = lib.annotate(
        fed.id,
        *span(federalist, "By a faction, I understand a number of citizens"),
        author=BOB,
        note="Madison\u2019s definition",
        tags=["geopolitics/discourse-power", "history"],
    )
    claim2 = lib.annotate(
        fed.id,
        *span(federalist, "The latent causes of faction are thus sown in the nature of man"),
        author=BOB,
        role="claim",
    )
    gone = lib.annotate(xi.id, *span(seed, "Such initiatives, highlighted by Xi"), author=ALICE)
    lib.set_deleted(gone.id)
    link = lib.link(claim.id, evidence.id, author=ALICE, note="A concrete case in Senegal.")
    lib.link(claim.id, faction.id, author=BOB, relation="contradicts")
    lib.link(claim2.id, faction.id, author=BOB, relation="context")
    dead = lib.link(claim2.id, evidence.id, author=BOB)
    lib.set_link_deleted(dead.id)
    lib.review(claim.id, "supported", reviewer=BOB, comment="Senegal is one case.")
    lib.review(claim.id, "partly-supported", reviewer=ALICE, comment="Only the digital part.")
    lib.review(claim2.id, "needs-evidence", reviewer=ALICE)
    return {
        "xi": xi.id,
        "fed": fed.id,
        "claim": claim.id,
        "evidence": evidence.id,
        "faction": faction.id,
        "claim2": claim2.id,
        "gone": gone.id,
        "link": link.id,
    }


@pytest.fixture
def sample(tmp_path: Path) -> tuple[Library, dict[str, str]]:
    lib = Library(tmp_path / "sample.margin")
    ids = build_sample(lib)
    yield lib, ids
    lib.close()


def snapshot(lib: Library) -> dict[str, list[dict]]:
    """Every row a merge could touch, for "nothing changed" checks."""
    return {
        table: _q(lib, f"SELECT * FROM {table} ORDER BY 1, 2")
        for table in (
            "documents",
            "annotations",
            "annotation_tags",
            "tags",
            "links",
            "reviews",
            "changes",
        )
    }


# -- the W3C MUST assertions, offline --------------------------------------------------------------


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


_REGISTRY = Registry().with_resources(
    (d["id"], Resource(contents=d, specification=DRAFT4))
    for d in (_load(p) for p in sorted((W3C / "definitions").glob("*.json")))
)
_FORMATS = FormatChecker()
# jsonschema checks "uri" and "date-time" only with optional packages (rfc3986-validator,
# rfc3339-validator) that are not installed: these two checkers stand in for them.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s]*")
_DATE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
_FORMATS.checks("uri")(lambda v: not isinstance(v, str) or bool(_URI.fullmatch(v)))
_FORMATS.checks("date-time")(lambda v: not isinstance(v, str) or bool(_DATE_TIME.fullmatch(v)))


def _valid(schema: dict, instance: object) -> bool:
    return Draft4Validator(schema, registry=_REGISTRY, format_checker=_FORMATS).is_valid(instance)


def run_w3c(test_file: str, instance: object) -> list[str]:
    """The failed MUST assertions of one W3C .test list."""
    failures = []
    for rel in _load(W3C / test_file)["assertions"]:
        assertion = _load(W3C / rel)
        expected = assertion.get("expectedResult", "valid") == "valid"
        if _valid(assertion, instance) != expected and assertion.get(
            "onUnexpectedResult", "failAndContinue"
        ).startswith("fail"):
            failures.append(f"{rel}: {assertion.get('errorMessage', assertion.get('title'))}")
    return failures


def strict_failures(annotation: dict) -> list[str]:
    """The SHOULDs margin keeps: motivation and body purposes from the model's list."""
    found = []
    if not _valid(
        {"$ref": "annotations.json#/definitions/motivationRecognizedIfPresent"}, annotation
    ):
        found.append(f"motivation {annotation.get('motivation')!r}")
    bodies = annotation.get("body", [])
    for body in bodies if isinstance(bodies, list) else [bodies]:
        if not _valid(
            {"$ref": "otherProperties.json#/definitions/purposeRecognizedIfPresent"}, body
        ):
            found.append(f"purpose {body.get('purpose')!r}")
    return found


def w3c_failures(collection: dict) -> list[str]:
    failures = run_w3c("collections/collectionMusts.test", collection)
    failures += run_w3c("collections/pages/pageMusts.test", collection)
    for item in collection["first"]["items"]:
        item = {"@context": collection["@context"], **item}
        failures += [
            f"{item['id']}: {f}" for f in run_w3c("annotations/annotationMusts.test", item)
        ]
        failures += [f"{item['id']}: {f}" for f in strict_failures(item)]
    return failures


def test_the_checker_catches_a_broken_annotation(sample, tmp_path):
    lib, _ = sample
    data, _ = bundle_bytes(lib)
    item = {
        "@context": ["http://www.w3.org/ns/anno.jsonld"],
        **json.loads(data)["first"]["items"][1],
    }
    assert run_w3c("annotations/annotationMusts.test", item) == []
    for broken in (
        {**item, "id": "not a uri"},
        {**item, "created": "2025-01-01T00:00:00"},
        {k: v for k, v in item.items() if k != "target"},
    ):
        assert run_w3c("annotations/annotationMusts.test", broken)


def test_exported_bundle_passes_the_w3c_must_assertions(sample, tmp_path):
    lib, _ = sample
    out = tmp_path / "notes.margin.jsonld"
    summary = export_bundle(lib, out, with_sources=True)
    collection = json.loads(out.read_text(encoding="utf-8"))
    assert (summary.annotations, summary.links, summary.reviews) == (4, 3, 3)
    assert summary.deletions == 2  # a deleted annotation and a deleted link travel too
    assert "4 annotations, 3 links, 3 verdicts" in summary.line()
    assert summary.line().endswith("and 2 deletions to pass on")
    assert len(collection["first"]["items"]) == collection["total"] == 12
    assert w3c_failures(collection) == []


def test_folder_files_pass_the_w3c_must_assertions(sample, tmp_path):
    lib, _ = sample
    export_folder(lib, tmp_path / "notes")
    notes = tmp_path / "notes"
    files = sorted(
        p for kind in ("annotations", "links", "reviews") for p in notes.glob(f"{kind}/*")
    )
    assert len(files) == 12
    for path in files:
        annotation = json.loads(path.read_text(encoding="utf-8"))
        assert path.stem == annotation["id"].removeprefix("urn:uuid:")
        assert run_w3c("annotations/annotationMusts.test", annotation) == [], path.name


# -- the mapping -----------------------------------------------------------------------------------


def test_mapping_follows_the_standard(sample):
    lib, ids = sample
    collection = json.loads(bundle_bytes(lib)[0])
    items = {i["id"].removeprefix("urn:uuid:"): i for i in collection["first"]["items"]}
    claim = items[ids["claim"]]
    assert claim["motivation"] == "highlighting" and claim["margin:role"] == "claim"
    assert claim["canonical"] == claim["id"]
    assert claim["creator"] == {"id": f"urn:uuid:{ALICE.id}", "name": ALICE.name, "type": "Person"}
    quote, position = claim["target"]["selector"]
    assert quote["type"] == "TextQuoteSelector" and quote["exact"].startswith("Beijing has")
    assert position == {
        "end": position["start"] + len(quote["exact"]),
        "start": position["start"],
        "type": "TextPositionSelector",
    }
    assert claim["target"]["source"] == f"urn:uuid:{ids['xi']}"
    assert {b["purpose"] for b in claim["body"]} == {"tagging", "commenting"}
    link = items[ids["link"]]
    assert link["motivation"] == "linking" and link["margin:relation"] == "supports"
    assert link["target"] == [f"urn:uuid:{ids['claim']}", f"urn:uuid:{ids['evidence']}"]
    assert link["body"][0] == {
        "purpose": "linking",
        "source": f"urn:uuid:{ids['evidence']}",
        "type": "SpecificResource",
    }
    verdicts = [i for i in items.values() if i["motivation"] == "assessing"]
    assert {v["body"]["margin:verdict"] for v in verdicts} == {
        "supported",
        "partly-supported",
        "needs-evidence",
    }
    assert items[ids["gone"]]["margin:deleted"] is True
    docs = {d["id"]: d for d in collection["margin:documents"]}
    xi = docs[f"urn:uuid:{ids['xi']}"]
    assert xi["margin:source"] == "xi.txt"  # a local path travels as its file name only
    assert "margin:text" not in xi
    assert (
        docs[f"urn:uuid:{ids['fed']}"]["margin:source"] == "https://www.gutenberg.org/ebooks/1404"
    )
    tags = {t["margin:name"]: t for t in collection["margin:tags"]}
    assert tags["unused/tag"] == {
        "margin:colour": "#123456",
        "margin:description": "never used",
        "margin:name": "unused/tag",
    }
    assert collection["@context"][1]["margin"] == "https://w3id.org/margin/ns#"


def test_output_is_canonical_and_deterministic(sample, tmp_path):
    lib, _ = sample
    first = bundle_bytes(lib, with_sources=True)[0]
    assert first == bundle_bytes(lib, with_sources=True)[0]
    assert first.endswith(b"}\n") and not first.endswith(b"\n\n")
    obj = json.loads(first)
    assert first == (json.dumps(obj, sort_keys=True, ensure_ascii=False, indent=2) + "\n").encode()


# -- round trip ------------------------------------------------------------------------------------


def test_round_trip_is_byte_identical(sample, tmp_path):
    lib, _ = sample
    first = tmp_path / "first.margin.jsonld"
    export_bundle(lib, first, with_sources=True)
    other = Library(tmp_path / "empty.margin")
    report = merge(other, first, author=BOB)
    assert report.rejected == [] and report.conflicts == [] and report.orphaned == []
    second = tmp_path / "second.margin.jsonld"
    export_bundle(other, second, with_sources=True)
    assert first.read_bytes() == second.read_bytes()
    # and the merge wrote every record through the change log the index follows
    logged = {(c.entity, c.id) for c in other.changes_since(0, 100_000)}
    for table, entity in (
        ("documents", "document"),
        ("annotations", "annotation"),
        ("tags", "tag"),
        ("links", "link"),
        ("reviews", "review"),
    ):
        for row in _q(other, f"SELECT id FROM {table}"):
            assert (entity, row["id"]) in logged
    other.close()


def test_folder_round_trip_matches_the_file(sample, tmp_path):
    lib, _ = sample
    export_folder(lib, tmp_path / "notes", with_sources=True)
    other = Library(tmp_path / "empty.margin")
    report = merge(other, tmp_path / "notes", author=BOB)
    assert report.rejected == []
    assert bundle_bytes(other, with_sources=True)[0] == bundle_bytes(lib, with_sources=True)[0]
    other.close()


def test_merging_twice_changes_nothing(sample, tmp_path):
    lib, _ = sample
    export_bundle(lib, tmp_path / "b.margin.jsonld", with_sources=True)
    other = Library(tmp_path / "other.margin")
    merge(other, tmp_path / "b.margin.jsonld", author=BOB)
    before = snapshot(other)
    again = merge(other, tmp_path / "b.margin.jsonld", author=BOB)
    assert (again.added, again.updated, again.conflicts) == (0, 0, [])
    assert again.unchanged == 18  # 2 documents, 4 tags, 5 annotations, 4 links, 3 verdicts
    assert snapshot(other) == before
    # and merging the sender's own bundle back into the sender changes nothing either
    own = snapshot(lib)
    assert not merge(lib, tmp_path / "b.margin.jsonld", author=ALICE).changed
    assert snapshot(lib)["changes"] == own["changes"]
    other.close()


def test_missing_document_is_reported_not_stored(sample, tmp_path):
    lib, ids = sample
    export_bundle(lib, tmp_path / "b.margin.jsonld")  # no sources
    other = Library(tmp_path / "other.margin")
    seed = SEED.read_text(encoding="utf-8")
    other.add_document(NewDoc(seed, title="my copy"))  # same text: matched by sha256
    report = merge(other, tmp_path / "b.margin.jsonld", author=BOB)
    assert (
        len(report.skipped) == 1
        and "Federalist" in report.skipped[0]
        and "2 annotations" in report.skipped[0]
    )
    assert {a.id for a in other.annotations(include_deleted=True)} == {
        ids["claim"],
        ids["evidence"],
        ids["gone"],
    }
    assert [link.id for link in other.links()] == [ids["link"]]  # links to the missing ones wait
    assert report.rejected == []
    other.close()


# -- subsets ---------------------------------------------------------------------------------------


def _item_ids(data: bytes) -> set[str]:
    return {i["id"].removeprefix("urn:uuid:") for i in json.loads(data)["first"]["items"]}


def test_a_subset_carries_what_its_links_point_at(sample):
    lib, ids = sample
    data, summary = bundle_bytes(lib, document_ids=[ids["xi"]])
    got = _item_ids(data)
    assert ids["faction"] in got  # evidence in the other document travels with the claim
    assert ids["claim2"] in got  # a claim elsewhere whose evidence is here travels too
    assert summary.documents == 2
    data, _ = bundle_bytes(lib, claims_only=True)
    got = _item_ids(data)
    assert {ids["claim"], ids["claim2"], ids["evidence"], ids["faction"]} <= got
    assert ids["gone"] not in got
    data, summary = bundle_bytes(lib, tag="infrastructure")
    got = _item_ids(data)
    assert ids["evidence"] in got and ids["claim"] in got and ids["faction"] not in got
    assert {t["margin:name"] for t in json.loads(data)["margin:tags"]} == {
        "infrastructure/data-centres",
        "geopolitics/discourse-power",
    }


# -- the property ----------------------------------------------------------------------------------


_texts = (
    st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=120)
    .map(lambda t: ingest_clean(t)[0])
    .filter(lambda t: len(t) >= 1)
)
_annotation = st.tuples(
    st.integers(0, 2),
    st.floats(0, 1),
    st.integers(1, 40),
    st.sampled_from(["highlight", "claim"]),
    st.text(max_size=30),
    st.lists(st.sampled_from(["a", "b/c", "d e", "\u00e9t\u00e9"]), max_size=3),
    st.booleans(),
    st.booleans(),
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    texts=st.lists(_texts, min_size=1, max_size=3),
    notes=st.lists(_annotation, max_size=8),
    links=st.lists(
        st.tuples(
            st.integers(0, 7),
            st.integers(0, 7),
            st.sampled_from(["supports", "contradicts", "context"]),
            st.text(max_size=10),
        ),
        max_size=5,
    ),
    verdicts=st.lists(
        st.tuples(
            st.integers(0, 7),
            st.sampled_from(
                ["supported", "partly-supported", "unsupported", "contradicted", "needs-evidence"]
            ),
        ),
        max_size=3,
    ),
)
def test_round_trip_property(texts, notes, links, verdicts):
    with tempfile.TemporaryDirectory() as tmp:
        lib = Library(Path(tmp) / "a.margin")
        docs = [lib.add_document(NewDoc(t, title=t[:20] or "x"))[0] for t in texts]
        made = []
        for doc_i, where, size, role, note, tags, author_b, _delete in notes:
            doc = docs[doc_i % len(docs)]
            start = int(where * (len(doc.text) - 1))
            end = min(len(doc.text), start + size)
            a = lib.annotate(
                doc.id,
                start,
                end,
                author=BOB if author_b else ALICE,
                role=role,
                note=note,
                tags=tags,
            )
            made.append(a)
        for claim_i, evidence_i, relation, note in links:
            if made and made[claim_i % len(made)].role == "claim":
                claim, evidence = made[claim_i % len(made)], made[evidence_i % len(made)]
                if claim.id != evidence.id:
                    lib.link(claim.id, evidence.id, author=ALICE, relation=relation, note=note)
        for claim_i, verdict in verdicts:
            if made and made[claim_i % len(made)].role == "claim":
                lib.review(made[claim_i % len(made)].id, verdict, reviewer=BOB)
        for a, spec in zip(made, notes, strict=True):
            if spec[-1]:
                lib.set_deleted(a.id)
        first = bundle_bytes(lib, with_sources=True)[0]
        path = Path(tmp) / "b.margin.jsonld"
        path.write_bytes(first)
        other = Library(Path(tmp) / "b.margin")
        report = merge(other, path, author=ALICE)
        assert report.rejected == [] and report.orphaned == []
        assert bundle_bytes(other, with_sources=True)[0] == first
        lib.close()
        other.close()


# -- git -------------------------------------------------------------------------------------------


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            "git",
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.org",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
            *args,
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_two_peoples_folders_merge_in_git_without_conflict(tmp_path):
    seed = SEED.read_text(encoding="utf-8")
    a = Library(tmp_path / "a.margin")
    doc, _ = a.add_document(NewDoc(seed, title="Xi", source="https://example.org/xi"))
    a.annotate(
        doc.id, *span(seed, "Beijing has identified"), author=ALICE, role="claim", tags=["geo"]
    )
    repo = tmp_path / "repo"
    repo.mkdir()
    assert _git(repo, "init", "-q").returncode == 0
    export_folder(a, repo / "notes", with_sources=True)
    assert _git(repo, "add", "-A").returncode == 0
    assert _git(repo, "commit", "-qm", "base").returncode == 0
    b = Library(tmp_path / "b.margin")
    merge(b, repo / "notes", author=BOB)
    # Alice's branch: two new notes and an edit of her claim's note
    _git(repo, "checkout", "-qb", "alice")
    claim = a.annotations(role="claim")[0]
    a.update_annotation(claim.id, note="checked again")
    extra = a.annotate(doc.id, *span(seed, "Chinese telecom company"), author=ALICE, tags=["geo"])
    a.link(claim.id, extra.id, author=ALICE)
    export_folder(a, repo / "notes", with_sources=True)
    _git(repo, "add", "-A")
    assert _git(repo, "commit", "-qm", "alice").returncode == 0
    # Bob's branch, from the base: his own notes on the same document
    _git(repo, "checkout", "-q", "main")
    _git(repo, "checkout", "-qb", "bob")
    theirs = b.annotate(
        doc.id, *span(seed, "discourse power"), author=BOB, note="Bob's", tags=["geo"]
    )
    b.review(claim.id, "unsupported", reviewer=BOB)
    b.link(claim.id, theirs.id, author=BOB, relation="context")
    export_folder(b, repo / "notes", with_sources=True)
    _git(repo, "add", "-A")
    assert _git(repo, "commit", "-qm", "bob").returncode == 0
    merged = _git(repo, "merge", "-q", "--no-edit", "alice")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert "CONFLICT" not in merged.stdout
    # both libraries take in the merged folder and end with the same notes
    for lib in (a, b):
        report = merge(lib, repo / "notes", author=ALICE)
        assert report.conflicts == [] and report.rejected == []
    assert {(x.id, x.note, x.author_id) for x in a.annotations()} == {
        (x.id, x.note, x.author_id) for x in b.annotations()
    }
    assert len(a.annotations()) == 3 and len(a.links()) == 2 and len(a.reviews()) == 1
    a.close()
    b.close()


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_two_branches_adding_their_own_tags_and_documents_merge_in_git(tmp_path):
    # What a team does every day: each person imports a source of their own and makes a tag.
    seed = SEED.read_text(encoding="utf-8")
    base = Library(tmp_path / "base.margin")
    doc, _ = base.add_document(NewDoc(seed, title="Xi", source="https://example.org/xi"))
    base.annotate(doc.id, *span(seed, "Beijing has identified"), author=ALICE, tags=["geo"])
    repo = tmp_path / "repo"
    repo.mkdir()
    assert _git(repo, "init", "-q").returncode == 0
    export_folder(base, repo / "notes", with_sources=True)
    _git(repo, "add", "-A")
    assert _git(repo, "commit", "-qm", "base").returncode == 0
    people = {}
    for person, author, text in (
        ("alice", ALICE, "Alice's own source, about ports and cables."),
        ("bob", BOB, "Bob's own source, about satellites and standards."),
    ):
        lib = Library(tmp_path / f"{person}.margin")
        merge(lib, repo / "notes", author=author)
        _git(repo, "checkout", "-q", "main")
        _git(repo, "checkout", "-qb", person)
        own, _ = lib.add_document(NewDoc(text, title=f"{person}'s source"))
        lib.annotate(own.id, 0, 7, author=author, tags=[f"{person}-tag", "geo"])
        lib.annotate(doc.id, *span(seed, "discourse power"), author=author, tags=[f"{person}/x"])
        export_folder(lib, repo / "notes", with_sources=True)
        _git(repo, "add", "-A")
        assert _git(repo, "commit", "-qm", person).returncode == 0
        people[person] = lib
    merged = _git(repo, "merge", "-q", "--no-edit", "alice")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    fresh = Library(tmp_path / "fresh.margin")
    report = merge(fresh, repo / "notes", author=BOB)
    assert report.rejected == [] and report.skipped == [] and report.conflicts == []
    titles = {fresh.document(i).title for i in fresh.document_ids()}
    assert titles == {"Xi", "alice's source", "bob's source"}
    assert {t.name for t in fresh.tags()} >= {"geo", "alice-tag", "bob-tag", "alice/x", "bob/x"}
    assert len(fresh.annotations()) == 5
    for lib in (*people.values(), base, fresh):
        lib.close()


def test_the_w3c_worked_example_merges_and_merges_again_unchanged(tmp_path):
    lib = Library(tmp_path / "lib.margin")
    doc, _ = lib.add_document(NewDoc(SEED.read_text(encoding="utf-8"), title="mine"))
    example = W3C_FIXTURES / "example-margin.jsonld"
    report = merge(lib, example, author=BOB)
    assert report.rejected == [] and report.skipped == [] and report.orphaned == []
    live = lib.annotations()
    assert [(a.role, a.document_id) for a in live] == [("claim", doc.id), ("highlight", doc.id)]
    assert len(lib.annotations(include_deleted=True)) == 3
    (link,) = lib.links()
    assert (link.claim_id, link.relation) == (live[0].id, "supports")
    (review,) = lib.reviews()
    assert (review.verdict, review.reviewer_name) == ("partly-supported", "Bob Reviewer")
    assert lib.tag("geopolitics/discourse-power").colour == "#d7875f"
    before = snapshot(lib)
    again = merge(lib, example, author=BOB)
    assert (again.added, again.updated, again.conflicts) == (0, 0, [])
    assert snapshot(lib) == before
    lib.close()


def test_a_folder_bundle_is_named_after_its_folder_not_its_last_tag(sample, tmp_path):
    lib, _ = sample
    export_folder(lib, tmp_path / "team-notes")
    assert list((tmp_path / "team-notes" / "tags").iterdir())
    assert read_bundle(tmp_path / "team-notes").name == "team-notes"


def test_a_folder_export_keeps_what_others_wrote_there(sample, tmp_path):
    lib, ids = sample
    folder = tmp_path / "shared"
    export_folder(lib, folder, with_sources=True)
    other = Library(tmp_path / "other.margin")
    doc, _ = other.add_document(NewDoc("Carol's own document text.", title="Carol's"))
    other.annotate(doc.id, 0, 7, author=BOB, tags=["carol-tag"])
    export_folder(other, folder)  # into the shared folder: Alice's entries stay
    documents = [json.loads(p.read_text("utf-8")) for p in (folder / "documents").iterdir()]
    names = {d["margin:title"] for d in documents}
    assert {"Carol's", "The Federalist No. 10"} <= names and len(names) == 3
    tags = [json.loads(p.read_text("utf-8")) for p in (folder / "tags").iterdir()]
    assert {"carol-tag", "unused/tag"} <= {t["margin:name"] for t in tags}
    assert (folder / "annotations" / f"{ids['claim']}.jsonld").exists()
    fresh = Library(tmp_path / "fresh.margin")
    report = merge(fresh, folder, author=BOB)
    assert report.rejected == [] and len(report.skipped) == 1  # Carol's text is not in the folder
    assert len(fresh.annotations(include_deleted=True)) == 5
    other.close()
    fresh.close()


def _q(library, sql: str, params=()) -> list[dict]:  # noqa: ANN001
    return list(on_disk(library).query(sql, params))
