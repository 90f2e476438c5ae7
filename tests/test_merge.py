"""Merge rules: same author newer wins, concurrent edits and other authors' versions become
conflicts kept with both versions, tombstones travel, verdicts are append-only, one
transaction; and two people exchanging notes on their own copies of one article."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from store.errors import InvalidInput
from store.exchange import export_bundle, list_conflicts, merge, resolve_conflict
from store.exchange.merge import _Merger
from store.library import Library
from tests.conftest import NewDoc, on_disk
from tests.test_exchange import ALICE, BOB, SEED, snapshot, span

URL = "https://example.org/xi-pitch"


class Pair:
    """Two libraries and a folder to pass bundles through."""

    def __init__(self, tmp_path: Path, b_text: str | None = None) -> None:
        self.tmp = tmp_path
        self.seed = SEED.read_text(encoding="utf-8")
        self.a = Library(tmp_path / "a.margin")
        self.b = Library(tmp_path / "b.margin")
        self.doc_a, _ = self.a.add_document(NewDoc(self.seed, title="Xi", source=URL))
        if b_text is not None:
            self.doc_b, _ = self.b.add_document(NewDoc(b_text, title="Xi (B's copy)", source=URL))
        self.n = 0

    def send(self, source: Library, target: Library, *, with_sources: bool = False):
        self.n += 1
        path = self.tmp / f"bundle-{self.n}.margin.jsonld"
        export_bundle(source, path, with_sources=with_sources)
        return merge(target, path, author=ALICE if target is self.a else BOB)

    def close(self) -> None:
        self.a.close()
        self.b.close()


@pytest.fixture
def pair(tmp_path: Path):
    p = Pair(tmp_path)
    yield p
    p.close()


def _note(pair: Pair, quote: str, **kw):
    return pair.a.annotate(
        pair.doc_a.id, *span(pair.seed, quote), author=kw.pop("author", ALICE), **kw
    )


def test_same_author_newer_wins_and_older_is_kept_newer(pair):
    note = _note(pair, "Beijing has identified", note="v1")
    pair.send(pair.a, pair.b, with_sources=True)
    pair.a.update_annotation(note.id, note="v2", role="claim")
    pair.a.set_tags(note.id, ["new-tag"])
    report = pair.send(pair.a, pair.b)
    assert report.updated == 1 and report.conflicts == []
    at_b = pair.b.annotation(note.id)
    assert (at_b.note, at_b.role, at_b.tags, at_b.author_id) == (
        "v2",
        "claim",
        ("new-tag",),
        ALICE.id,
    )
    history = _q(pair.b, "SELECT * FROM exchange_history WHERE record_id = ?", [note.id])
    assert len(history) == 1 and '"note": "v1"' in history[0]["previous"]
    # the old bundle arriving late changes nothing: it is an old version
    before = snapshot(pair.b)
    report = merge(pair.b, pair.tmp / "bundle-1.margin.jsonld", author=BOB)
    assert report.kept_newer == 1 and report.updated == 0 and snapshot(pair.b) == before


def test_a_tombstone_travels_and_an_old_copy_cannot_resurrect(pair):
    note = _note(pair, "Beijing has identified", note="to delete")
    pair.send(pair.a, pair.b, with_sources=True)
    pair.a.set_deleted(note.id)
    assert pair.send(pair.a, pair.b).updated == 1
    assert pair.b.annotation(note.id).deleted
    # Bob's library still offers the live copy in an old bundle of his own: it stays deleted
    report = merge(pair.a, pair.tmp / "bundle-1.margin.jsonld", author=ALICE)
    assert report.kept_newer == 1 and pair.a.annotation(note.id).deleted
    # a tombstone for a note that never reached the receiver is stored as a tombstone
    other = Library(pair.tmp / "c.margin")
    merge(other, pair.tmp / "bundle-1.margin.jsonld", author=BOB)
    merge(other, pair.tmp / "bundle-2.margin.jsonld", author=BOB)
    assert other.annotation(note.id).deleted and other.annotations() == []
    other.close()


def test_a_note_edited_on_both_sides_is_a_conflict_on_both(pair):
    note = _note(pair, "Beijing has identified", note="original")
    pair.send(pair.a, pair.b, with_sources=True)
    pair.a.update_annotation(note.id, note="Alice's edit")
    pair.b.update_annotation(note.id, note="Bob's edit of Alice's note")
    at_b = pair.send(pair.a, pair.b)
    at_a = pair.send(pair.b, pair.a)
    for report, mine, theirs in (
        (at_b, "Bob's edit of Alice's note", "Alice's edit"),
        (at_a, "Alice's edit", "Bob's edit of Alice's note"),
    ):
        (conflict,) = report.conflicts
        assert conflict.record_id == note.id and "edited here and by the sender" in conflict.reason
        assert (conflict.mine["note"], conflict.theirs["note"]) == (mine, theirs)
    assert pair.a.annotation(note.id).note == "Alice's edit"
    assert pair.b.annotation(note.id).note == "Bob's edit of Alice's note"
    # Alice keeps hers; after the next exchange Bob has it too and his conflict closes
    (conflict,) = list_conflicts(pair.a)
    resolve_conflict(pair.a, conflict.id, "mine")
    assert list_conflicts(pair.a) == []
    report = pair.send(pair.a, pair.b)
    assert report.updated == 1 and report.conflicts == []
    assert pair.b.annotation(note.id).note == "Alice's edit"
    assert list_conflicts(pair.b) == []  # settled by taking the version it offered
    assert not pair.send(pair.b, pair.a).changed
    with pytest.raises(InvalidInput, match="resolved"):
        resolve_conflict(pair.a, conflict.id, "theirs")


def test_another_authors_version_is_a_conflict_and_can_be_taken(pair):
    note = _note(pair, "Beijing has identified", note="Alice's")
    pair.send(pair.a, pair.b, with_sources=True)
    # Bob's copy claims the same id with himself as author (a forged or re-authored record)
    on_disk(pair.b).execute(
        "UPDATE annotations SET author_id = ?, author_name = ?, note = ? WHERE id = ?",
        [BOB.id, BOB.name, "Bob's", note.id],
    )
    report = pair.send(pair.b, pair.a)
    (conflict,) = report.conflicts
    assert "Bob Reviewer (22222222) sent a version of a record by Alice Analyst" in conflict.reason
    assert pair.a.annotation(note.id).note == "Alice's"
    before = pair.a.max_seq()
    resolve_conflict(pair.a, conflict.id, "theirs")
    taken = pair.a.annotation(note.id)
    assert (taken.note, taken.author_id) == ("Bob's", BOB.id)
    assert pair.a.max_seq() > before  # the index hears of it
    assert list_conflicts(pair.a) == [] and len(list_conflicts(pair.a, include_resolved=True)) == 1


def test_links_follow_the_same_rules(pair):
    claim = _note(pair, "Beijing has identified", role="claim")
    evidence = _note(pair, "Chinese telecom company")
    link = pair.a.link(claim.id, evidence.id, author=ALICE, note="first")
    pair.send(pair.a, pair.b, with_sources=True)
    pair.a.set_link_deleted(link.id)
    assert pair.send(pair.a, pair.b).updated == 1
    assert pair.b.links() == [] and pair.b.get_link(link.id).deleted


def test_verdicts_are_append_only(pair):
    claim = _note(pair, "Beijing has identified", role="claim")
    review = pair.a.review(claim.id, "supported", reviewer=ALICE, comment="ok")
    pair.send(pair.a, pair.b, with_sources=True)
    on_disk(pair.b).execute("UPDATE reviews SET verdict = 'contradicted' WHERE id = ?", [review.id])
    report = pair.send(pair.b, pair.a)
    assert len(report.rejected) == 1 and "verdicts are never changed" in report.rejected[0]
    assert pair.a.reviews()[0].verdict == "supported"
    pair.b.review(claim.id, "unsupported", reviewer=BOB)
    assert pair.send(pair.b, pair.a).added == 1
    assert [r.verdict for r in pair.a.reviews()] == ["supported", "unsupported"]


def test_local_tag_colours_are_kept_and_said(pair):
    pair.a.ensure_tag("geo", "#aa0000", "Alice's geo")
    _note(pair, "Beijing has identified", tags=["geo"])
    pair.b.ensure_tag("geo", "#00bb00")
    report = pair.send(pair.a, pair.b, with_sources=True)
    assert pair.b.tag("geo").colour == "#00bb00"
    assert any("tag 'geo': kept this library's colour '#00bb00'" in n for n in report.notices)


def test_a_tag_renamed_merged_or_deleted_here_is_not_brought_back_by_an_older_bundle(pair):
    first = _note(pair, "Beijing has identified", tags=["governance/digital", "scratch", "econ"])
    pair.send(pair.a, pair.b, with_sources=True)  # B works from the old codebook
    theirs = pair.b.annotate(
        pair.doc_a.id,
        *span(pair.seed, "Chinese telecom company"),
        author=BOB,
        tags=["governance", "governance/digital", "scratch", "econ", "bob-new"],
    )
    pair.a.rename_tag("governance/digital", "policy/digital")
    pair.a.delete_tag("scratch")
    pair.a.ensure_tag("economy")
    pair.a.merge_tags("econ", "economy")
    report = pair.send(pair.b, pair.a)
    assert sorted(t.name for t in pair.a.tags()) == [
        "bob-new",
        "economy",
        "governance",  # never a tag here: B's new one comes in
        "policy/digital",
    ]
    assert pair.a.annotation(theirs.id).tags == (
        "bob-new",
        "economy",
        "governance",
        "policy/digital",
    )
    assert pair.a.annotation(first.id).tags == ("economy", "policy/digital")  # ours stays
    notices = "\n".join(report.notices)
    assert "tag 'scratch': deleted here, so not brought back" in notices
    assert "tag 'governance/digital' is 'policy/digital' here" in notices
    assert "tag 'econ' is 'economy' here" in notices
    before = snapshot(pair.a)
    again = pair.send(pair.b, pair.a)
    assert (again.added, again.updated, again.conflicts) == (0, 0, [])
    assert snapshot(pair.a) == before
    pair.a.ensure_tag("scratch")  # made again on purpose: the name is live once more
    assert pair.a.tag_alias("scratch") == (False, "scratch")


def test_documents_are_matched_by_text_then_url(pair, tmp_path):
    note = _note(pair, "Beijing has identified")
    same, _ = pair.b.add_document(NewDoc(pair.seed, title="my copy", source="/elsewhere.txt"))
    report = pair.send(pair.a, pair.b)
    assert report.added == 1  # the annotation; no document added
    assert pair.b.annotation(note.id).document_id == same.id
    assert len(pair.b.document_ids()) == 1


def test_a_merge_is_one_transaction(pair, monkeypatch):
    claim = _note(pair, "Beijing has identified", role="claim")
    evidence = _note(pair, "Chinese telecom company")
    pair.a.link(claim.id, evidence.id, author=ALICE)
    before = snapshot(pair.b)

    def boom(self, incoming):
        raise OSError("disk full")

    monkeypatch.setattr(_Merger, "links", boom)
    with pytest.raises(OSError):
        pair.send(pair.a, pair.b, with_sources=True)
    assert {k: v for k, v in snapshot(pair.b).items()} == before


# -- two people, two copies of one article ---------------------------------------------------------


def b_copy(text: str) -> str:
    """Bob's extraction: straight quotes and apostrophes, paragraphs wrapped at 72 columns."""
    text = (
        text.replace("\u2019", "'")
        .replace("\u2018", "'")
        .replace("\u201c", '"')
        .replace("\u201d", '"')
    )
    paragraphs = []
    for paragraph in text.split("\n\n"):
        lines, line = [], ""
        for word in paragraph.split(" "):
            if line and len(line) + 1 + len(word) > 72:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(line)
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def test_two_people_exchange_notes_both_ways(tmp_path):
    seed = SEED.read_text(encoding="utf-8")
    pair = Pair(tmp_path, b_text=b_copy(seed))
    a, b = pair.a, pair.b
    assert pair.doc_a.sha256 != pair.doc_b.sha256
    # Alice's notes on her copy
    claim = a.annotate(
        pair.doc_a.id,
        *span(
            seed,
            "Xi pledged that the People\u2019s Republic of China (PRC) "
            "would \u201cbetter tell China\u2019s story\u201d",
        ),
        author=ALICE,
        role="claim",
        note="The pledge",
        tags=["discourse"],
    )
    evidence = a.annotate(
        pair.doc_a.id,
        *span(seed, "Chinese telecom company Huawei is funding"),
        author=ALICE,
        tags=["infrastructure"],
    )
    a.link(claim.id, evidence.id, author=ALICE, note="Senegal")
    doomed = a.annotate(
        pair.doc_a.id,
        *span(seed, "Such initiatives, highlighted by Xi"),
        author=ALICE,
        note="will be deleted",
    )
    shared = a.annotate(
        pair.doc_a.id,
        *span(seed, "Beijing has identified both the digital realm"),
        author=ALICE,
        note="both will edit this",
    )
    # Bob's notes on his copy
    b_text = pair.doc_b.text
    bob_claim = b.annotate(
        pair.doc_b.id,
        *wspan(b_text, "global technological revolution"),
        author=BOB,
        role="claim",
        note="Bob's claim",
    )
    b.review(bob_claim.id, "needs-evidence", reviewer=BOB)
    # first exchange, both ways: every note lands on the other copy
    to_b = pair.send(a, b)
    assert to_b.orphaned == [] and to_b.rejected == [] and to_b.skipped == []
    assert b.annotation(claim.id).exact == span_text(
        b_text,
        "Xi pledged that the People's Republic of China (PRC) would \"better tell China's story\"",
    )
    assert b.annotation(claim.id).anchor_state in ("ok", "moved")
    to_a = pair.send(b, a)
    assert to_a.orphaned == [] and to_a.conflicts == []
    assert a.annotation(bob_claim.id).exact == span_text(seed, "global technological revolution")
    # then Alice deletes one note, and both edit the shared one
    a.set_deleted(doomed.id)
    a.update_annotation(shared.id, note="Alice: the digital realm matters most")
    b.update_annotation(shared.id, note="Bob: and the geographic part?")
    second_b = pair.send(a, b)
    second_a = pair.send(b, a)
    # both libraries hold the same notes, each with its author
    notes_a = {x.id: x for x in a.annotations(include_deleted=True)}
    notes_b = {x.id: x for x in b.annotations(include_deleted=True)}
    assert (
        notes_a.keys()
        == notes_b.keys()
        == {claim.id, evidence.id, doomed.id, shared.id, bob_claim.id}
    )
    for key in notes_a:
        assert notes_a[key].author_id == notes_b[key].author_id
        assert notes_a[key].deleted == notes_b[key].deleted
        if key != shared.id:
            assert notes_a[key].note == notes_b[key].note
    assert (
        notes_a[bob_claim.id].author_name == "Bob Reviewer"
        and notes_b[claim.id].author_name == "Alice Analyst"
    )
    # the deleted one stays deleted at Bob's
    assert notes_b[doomed.id].deleted and doomed.id not in {x.id for x in b.annotations()}
    # the one both edited is a conflict on both sides, each keeping its own until resolved
    assert [c.record_id for c in second_b.conflicts] == [shared.id]
    assert [c.record_id for c in second_a.conflicts] == [shared.id]
    assert notes_a[shared.id].note.startswith("Alice") and notes_b[shared.id].note.startswith("Bob")
    assert (
        [c.record_id for c in list_conflicts(a)]
        == [c.record_id for c in list_conflicts(b)]
        == [shared.id]
    )
    assert {(x.claim_id, x.evidence_id) for x in a.links()} == {
        (x.claim_id, x.evidence_id) for x in b.links()
    }
    assert [r.id for r in a.reviews()] == [r.id for r in b.reviews()]
    # a third exchange with nothing new changes nothing anywhere
    state_a, state_b = snapshot(a), snapshot(b)
    pair.send(a, b)
    pair.send(b, a)
    assert snapshot(a)["annotations"] == state_a["annotations"]
    assert snapshot(b)["annotations"] == state_b["annotations"]
    pair.close()


def wspan(text: str, quote: str) -> tuple[int, int]:
    """Where the quote stands in `text`, with any whitespace between its words."""
    found = re.search(r"\s+".join(re.escape(w) for w in quote.split()), text)
    return found.start(), found.end()


def span_text(text: str, quote: str) -> str:
    """The quote as it stands in `text`, with any whitespace between its words."""
    start, end = wspan(text, quote)
    return text[start:end]


def test_a_quote_missing_from_the_receivers_text_is_stored_orphaned(tmp_path):
    seed = SEED.read_text(encoding="utf-8")
    cut = seed.replace("Chinese telecom company Huawei is funding", "A firm is paying for")
    pair = Pair(tmp_path, b_text=cut)
    gone = pair.a.annotate(
        pair.doc_a.id,
        *span(seed, "Chinese telecom company Huawei is funding"),
        author=ALICE,
        note="keep me",
    )
    kept = pair.a.annotate(pair.doc_a.id, *span(seed, "Beijing has identified"), author=ALICE)
    report = pair.send(pair.a, pair.b)
    assert len(report.orphaned) == 1 and gone.id in report.orphaned[0]
    assert "stored as orphaned" in report.orphaned[0]
    stored = pair.b.annotation(gone.id)
    assert stored.anchor_state == "orphaned" and stored.note == "keep me"
    assert stored.exact == "Chinese telecom company Huawei is funding"
    assert pair.b.annotation(kept.id).anchor_state in ("ok", "moved")
    pair.close()


def _q(library, sql: str, params=()) -> list[dict]:  # noqa: ANN001
    return list(on_disk(library).query(sql, params))
