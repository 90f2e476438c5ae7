"""Export notes as a W3C Web Annotation bundle: one JSON-LD file, or a folder git can merge.

Mapping (research/standards.md section 1 and 5):
- highlight / claim: an Annotation, motivation `highlighting`, `margin:role`; target a
  SpecificResource on `urn:uuid:<document>` with a TextQuoteSelector (exact, prefix, suffix)
  and a TextPositionSelector (code points, half-open) and `margin:textSha256`; tags are
  TextualBody `purpose: tagging`, the note a TextualBody `purpose: commenting`.
- link: motivation `linking`, target [claim, evidence], a `linking` SpecificResource body on
  the evidence, `margin:relation`, `margin:claim`, `margin:evidence`, note as `commenting`.
- verdict: motivation `assessing` on the claim, body `purpose: assessing` with
  `margin:verdict`, the comment as its value.
- tombstones: `margin:deleted: true`; `margin:previous` names the version a record was
  derived from (see merge.py), so concurrent edits are told apart from newer ones.
- the collection carries `margin:documents` (metadata, sha256, length, and with sources the
  text) and `margin:tags` (colour, description).
Output is canonical: sorted keys, two-space indent, UTF-8, one trailing newline, records in a
fixed order, times in one UTC form, so export -> merge into an empty library -> export gives
the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from store.errors import InvalidInput
from store.library import Library
from store.records import Annotation, Document, Link, Review, Tag
from store.sanitize import plural

from .lineage import annotation_version, export_parent, link_version
from .validate import is_uuid, normal_time
from .vocab import CONTEXT, FORMAT_VERSION, derived_id, tag_file_id


@dataclass
class ExportSummary:
    """What an export wrote."""

    path: Path
    documents: int = 0
    annotations: int = 0
    links: int = 0
    reviews: int = 0
    tags: int = 0
    files: int = 0
    bytes: int = 0
    with_sources: bool = False
    missing_sources: list[str] = field(default_factory=list)
    deletions: int = 0
    """Deleted annotations and links carried (not counted above), so deletions travel too."""
    annotations_only: bool = False
    """A table of annotations (CSV): the other counts do not apply."""
    notes: list[str] = field(default_factory=list)
    """What the user may want to do about this export (one line each)."""

    def line(self) -> str:
        """One line for the user."""
        if self.annotations_only:
            return f"{self.path.name}: {plural(self.annotations, 'annotation')}, a row each"
        return (
            f"{self.path.name}: {plural(self.annotations, 'annotation')}, "
            f"{plural(self.links, 'link')}, {plural(self.reviews, 'verdict')}, "
            f"{plural(self.tags, 'tag')}, {plural(self.documents, 'document')}"
            + (" with their texts" if self.with_sources else "")
            + (f", and {plural(self.deletions, 'deletion')} to pass on" if self.deletions else "")
        )

    def lines(self) -> list[str]:
        """The report as lines, like the other exchange reports."""
        return [self.line(), *(f"  note      {line}" for line in self.notes)]


@dataclass
class Selection:
    """The records an export carries, in export order."""

    documents: dict[str, Document]
    annotations: list[Annotation]
    links: list[Link]
    reviews: list[Review]
    tags: list[Tag]


def encode(obj: Any) -> bytes:
    """Canonical JSON: sorted keys, two-space indent, UTF-8, one trailing newline."""
    return (json.dumps(obj, sort_keys=True, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def urn(record_id: str) -> str:
    """A record id as the IRI the bundle uses."""
    return f"urn:uuid:{record_id}"


def review_order(review: Review) -> tuple[str, str, str]:
    """The order verdicts travel in and are merged in."""
    return (review.claim_id, normal_time(review.created), review.id)


def _has_tag(annotation: Annotation, tag: str) -> bool:
    return any(t == tag or t.startswith(tag + "/") for t in annotation.tags)


def select(
    lib: Library,
    *,
    document_ids: list[str] | None = None,
    tag: str | None = None,
    claims_only: bool = False,
    include_deleted: bool = True,
    bundle_order: bool = False,
) -> Selection:
    """The records to export; a subset carries every annotation its links point at."""
    every = lib.annotations(include_deleted=include_deleted)
    by_id = {a.id: a for a in every}
    subset = document_ids is not None or tag is not None or claims_only
    wanted_docs = set(document_ids or ())
    chosen = [
        a
        for a in every
        if (document_ids is None or a.document_id in wanted_docs)
        and (tag is None or _has_tag(a, tag))
        and (not claims_only or a.role == "claim")
    ]
    ids = {a.id for a in chosen}
    links = lib.links(include_deleted=include_deleted)
    if subset:
        links = [
            link
            for link in links
            if link.claim_id in ids or (not claims_only and link.evidence_id in ids)
        ]
        for link in links:
            for end in (link.claim_id, link.evidence_id):
                if end not in ids and end in by_id:
                    ids.add(end)
    links = [link for link in links if link.claim_id in ids and link.evidence_id in ids]
    annotations = sorted(
        (by_id[i] for i in ids), key=lambda a: (a.document_id, a.start, a.end, a.id)
    )
    links.sort(key=lambda link: (link.claim_id, link.evidence_id, link.id))
    # Reports keep the library's order (created, then insertion, as the claims board reads
    # it); bundles sort by content, the order merge inserts them in, so round trips are exact.
    reviews = sorted((r for r in lib.reviews() if r.claim_id in ids), key=lambda r: r.claim_id)
    if bundle_order:
        reviews.sort(key=review_order)
    doc_ids = (
        set(lib.document_ids())
        if not subset
        else ({a.document_id for a in annotations} | (wanted_docs & set(lib.document_ids())))
    )
    documents = {d: lib.document(d) for d in sorted(doc_ids)}
    tags = lib.tags()
    if subset:
        used = {t for a in annotations for t in a.tags}
        tags = [t for t in tags if t.name in used]
    return Selection(documents, annotations, links, reviews, tags)


# -- records as JSON-LD ----------------------------------------------------------------------------


_URL = re.compile(r"https?://\S+", re.IGNORECASE)


def public_source(source: str | None) -> str | None:
    """A source as it travels: a web address, or nothing.

    A local path says who the exporter is and how their machine is laid out (a home folder
    holds the login name), and even its last part is a private file name: only a URL leaves.
    """
    if not source:
        return None
    return source if _URL.fullmatch(source) else None


def agent(author_id: str, name: str) -> dict:
    """The creator object of a record (the author's stable id is a urn:uuid)."""
    ident = author_id if is_uuid(author_id) else derived_id("author", author_id)
    return {"id": urn(ident.lower()), "name": name, "type": "Person"}


def add_editor(out: dict[str, Any], record: Annotation | Link) -> None:
    """`margin:editor`: who made the change this version holds, beside W3C `creator` (who made
    the record). Written only when it is someone else than the creator; absent means the
    creator, which is also what a bundle from before editors were kept says."""
    if record.editor_id and record.editor_id != record.author_id:
        out["margin:editor"] = agent(record.editor_id, record.editor_name)


def document_json(doc: Document, *, with_text: bool) -> dict:
    """A document entry of `margin:documents`: an allowlist (title, author, date, URL, format,
    pages, hash, length, and the text when asked), never a local path or machine detail."""
    out: dict[str, Any] = {
        "format": "text/plain",
        "id": urn(doc.id),
        "margin:format": doc.format,
        "margin:textLength": len(doc.text),
        "margin:textSha256": doc.sha256,
        "margin:title": doc.title,
        "type": "Text",
    }
    if doc.author:
        out["margin:author"] = doc.author
    if doc.published:
        out["margin:published"] = doc.published
    source = public_source(doc.source)
    if source:
        out["margin:source"] = source
    if doc.page_starts:
        out["margin:pageStarts"] = list(doc.page_starts)
    named_at = doc.metadata.get("named_at") if isinstance(doc.metadata, dict) else None
    if isinstance(named_at, str) and named_at:
        out["margin:namedAt"] = named_at  # when title, author and date were set by a person
    # Nothing else of the document leaves: the rest of its `metadata` is about this machine's
    # import (the file's path, size and encoding, the extractor's warnings).
    if with_text:
        out["margin:text"] = doc.text
    return out


def tag_json(tag: Tag) -> dict:
    """A codebook entry of `margin:tags`."""
    out = {"margin:colour": tag.colour, "margin:name": tag.name}
    if tag.description:
        out["margin:description"] = tag.description
    return out


def annotation_json(a: Annotation, doc: Document, previous: str | None) -> dict:
    """A highlight or claim as a W3C Annotation."""
    bodies: list[dict] = [
        {"purpose": "tagging", "type": "TextualBody", "value": name} for name in sorted(a.tags)
    ]
    if a.note:
        bodies.append(
            {
                "format": "text/plain",
                "purpose": "commenting",
                "type": "TextualBody",
                "value": a.note,
            }
        )
    out: dict[str, Any] = {
        "canonical": urn(a.id),
        "created": normal_time(a.created),
        "creator": agent(a.author_id, a.author_name),
        "id": urn(a.id),
        "margin:role": a.role,
        "modified": normal_time(a.modified),
        "motivation": "highlighting",
        "target": {
            "margin:textSha256": doc.sha256,
            "selector": [
                {
                    "exact": a.exact,
                    "prefix": a.prefix,
                    "suffix": a.suffix,
                    "type": "TextQuoteSelector",
                },
                {"end": a.end, "start": a.start, "type": "TextPositionSelector"},
            ],
            "source": urn(doc.id),
            "type": "SpecificResource",
        },
        "type": "Annotation",
    }
    if bodies:
        out["body"] = bodies
    if a.deleted:
        out["margin:deleted"] = True
    if previous:
        out["margin:previous"] = previous
    add_editor(out, a)
    return out


def link_json(link: Link, previous: str | None) -> dict:
    """A claim -> evidence link as a W3C `linking` Annotation targeting both."""
    bodies: list[dict] = [
        {"purpose": "linking", "source": urn(link.evidence_id), "type": "SpecificResource"}
    ]
    if link.note:
        bodies.append(
            {
                "format": "text/plain",
                "purpose": "commenting",
                "type": "TextualBody",
                "value": link.note,
            }
        )
    out: dict[str, Any] = {
        "body": bodies,
        "canonical": urn(link.id),
        "created": normal_time(link.created),
        "creator": agent(link.author_id, link.author_name),
        "id": urn(link.id),
        "margin:claim": urn(link.claim_id),
        "margin:evidence": urn(link.evidence_id),
        "margin:relation": link.relation,
        "modified": normal_time(link.modified),
        "motivation": "linking",
        "target": [urn(link.claim_id), urn(link.evidence_id)],
        "type": "Annotation",
    }
    if link.deleted:
        out["margin:deleted"] = True
    if previous:
        out["margin:previous"] = previous
    add_editor(out, link)
    return out


def review_json(review: Review) -> dict:
    """A verdict as a W3C `assessing` Annotation on the claim."""
    return {
        "body": {
            "format": "text/plain",
            "margin:verdict": review.verdict,
            "purpose": "assessing",
            "type": "TextualBody",
            "value": review.comment,
        },
        "canonical": urn(review.id),
        "created": normal_time(review.created),
        "creator": agent(review.reviewer_id, review.reviewer_name),
        "id": urn(review.id),
        "motivation": "assessing",
        "target": urn(review.claim_id),
        "type": "Annotation",
    }


# Signs one exported record (store.signing.KeyRing.sign); records of others pass as they are.
Sign = Callable[[dict], dict]


@dataclass
class _Built:
    selection: Selection
    documents: list[dict]
    tags: list[dict]
    items: list[tuple[str, str, dict]]  # (folder, id, annotation)


def _build(lib: Library, *, with_sources: bool, sign: Sign | None = None, **filters: Any) -> _Built:
    # One write transaction: a consistent snapshot, and the exported versions are remembered
    # (merge.py) so a later merge can tell an old copy of ours from a concurrent edit.
    with lib.snapshot():
        chosen = select(lib, bundle_order=True, **filters)
        items: list[tuple[str, str, dict]] = []
        for a in chosen.annotations:
            previous = export_parent(lib, "annotation", a.id, annotation_version(a))
            items.append(
                ("annotations", a.id, annotation_json(a, chosen.documents[a.document_id], previous))
            )
        for link in chosen.links:
            previous = export_parent(lib, "link", link.id, link_version(link))
            items.append(("links", link.id, link_json(link, previous)))
        for review in chosen.reviews:
            items.append(("reviews", review.id, review_json(review)))
    if sign is not None:  # what this person wrote goes out signed (store.signing)
        items = [(folder, ident, sign(item)) for folder, ident, item in items]
    documents = [document_json(d, with_text=with_sources) for d in chosen.documents.values()]
    return _Built(chosen, documents, [tag_json(t) for t in chosen.tags], items)


def _summary(path: Path, built: _Built, with_sources: bool) -> ExportSummary:
    chosen = built.selection
    deleted = sum(a.deleted for a in chosen.annotations) + sum(x.deleted for x in chosen.links)
    return ExportSummary(
        path=path,
        documents=len(chosen.documents),
        annotations=sum(not a.deleted for a in chosen.annotations),
        links=sum(not x.deleted for x in chosen.links),
        reviews=len(chosen.reviews),
        tags=len(chosen.tags),
        with_sources=with_sources,
        deletions=deleted,
    )


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def bundle_bytes(
    lib: Library,
    *,
    with_sources: bool = False,
    document_ids: list[str] | None = None,
    tag: str | None = None,
    claims_only: bool = False,
    sign: Sign | None = None,
) -> tuple[bytes, ExportSummary]:
    """The one-file bundle as bytes, and what it holds."""
    built = _build(
        lib,
        with_sources=with_sources,
        sign=sign,
        document_ids=document_ids,
        tag=tag,
        claims_only=claims_only,
    )
    ids = sorted(i for _, i, _ in built.items) + sorted(built.selection.documents)
    collection_id = derived_id("collection", hashlib.sha256("\n".join(ids).encode()).hexdigest())
    # One page holds every item: it is the first and the last (W3C SHOULDs), part of the
    # collection.
    page_id = f"{urn(collection_id)}#page-1"
    collection = {
        "@context": CONTEXT,
        "first": {
            "id": page_id,
            "items": [item for _, _, item in built.items],
            "partOf": urn(collection_id),
            "startIndex": 0,
            "type": "AnnotationPage",
        },
        "generator": {"name": "margin", "type": "Software"},
        "id": urn(collection_id),
        "label": "margin notes",
        "last": page_id,
        "margin:documents": built.documents,
        "margin:formatVersion": FORMAT_VERSION,
        "margin:tags": built.tags,
        "total": len(built.items),
        "type": "AnnotationCollection",
    }
    data = encode(collection)
    summary = _summary(Path("bundle"), built, with_sources)
    summary.bytes, summary.files = len(data), 1
    return data, summary


def export_bundle(
    lib: Library,
    out: Path,
    *,
    with_sources: bool = False,
    document_ids: list[str] | None = None,
    tag: str | None = None,
    claims_only: bool = False,
    sign: Sign | None = None,
) -> ExportSummary:
    """Write the notes as one W3C AnnotationCollection JSON-LD file (`*.margin.jsonld`)."""
    data, summary = bundle_bytes(
        lib,
        with_sources=with_sources,
        document_ids=document_ids,
        tag=tag,
        claims_only=claims_only,
        sign=sign,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(out, data)
    summary.path = out
    return summary


def export_folder(
    lib: Library,
    out_dir: Path,
    *,
    with_sources: bool = False,
    document_ids: list[str] | None = None,
    tag: str | None = None,
    claims_only: bool = False,
    sign: Sign | None = None,
) -> ExportSummary:
    """Write the notes as a folder for git: one file per document, tag, annotation, link, verdict.

    A folder is shared: files others wrote there stay, so an export never removes a
    colleague's document or tag.
    """
    if out_dir.is_symlink() or (out_dir.exists() and not out_dir.is_dir()):
        raise InvalidInput(f"{out_dir}: not a folder; choose a folder for the bundle")
    built = _build(
        lib,
        with_sources=with_sources,
        sign=sign,
        document_ids=document_ids,
        tag=tag,
        claims_only=claims_only,
    )
    summary = _summary(out_dir, built, with_sources)
    # One file per record, documents and tags included: a shared list would change on the
    # same lines in two branches whenever two people each import a source or make a tag.
    files: dict[Path, bytes] = {}
    for doc in built.documents:
        record_id = doc["id"].removeprefix("urn:uuid:")
        if not is_uuid(record_id):
            raise InvalidInput(f"document id {record_id!r} is not a UUID; cannot name its file")
        entry = {k: v for k, v in doc.items() if k != "margin:text"}
        files[out_dir / "documents" / f"{record_id.lower()}.jsonld"] = encode(
            {"@context": CONTEXT, "margin:formatVersion": FORMAT_VERSION, **entry}
        )
    for tag_entry in built.tags:
        files[out_dir / "tags" / f"{tag_file_id(tag_entry['margin:name'])}.jsonld"] = encode(
            {"@context": CONTEXT, **tag_entry}
        )
    for folder, record_id, item in built.items:
        if not is_uuid(record_id):  # file names come only from validated ids
            raise InvalidInput(f"record id {record_id!r} is not a UUID; cannot name its file")
        files[out_dir / folder / f"{record_id.lower()}.jsonld"] = encode(
            {"@context": CONTEXT, **item}
        )
    if with_sources:
        for source in built.selection.documents.values():
            if is_uuid(source.id):
                files[out_dir / "sources" / f"{source.id.lower()}.txt"] = source.text.encode(
                    "utf-8"
                )
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            raise InvalidInput(f"{path}: is a symbolic link; margin will not write through it")
        if not path.exists() or path.read_bytes() != data:
            _write_atomic(path, data)
        summary.bytes += len(data)
    summary.files = len(files)
    return summary
