"""REFI-QDA export (.qdpx): `project.qde` (QDA-XML 1.0, valid against Project-mrt2019.xsd)
and `sources/<document id>.txt`, the exact NFC text margin indexes, so selection offsets are
margin's code-point offsets (see store.exchange.qdpx for the format's notes and the import).
"""

from __future__ import annotations

import zipfile
from collections import defaultdict
from pathlib import Path

from lxml import etree

from store.library import Library
from store.records import Annotation
from store.sanitize import clip

from .bundle import public_source, select
from .qdpx import (
    _Q,
    NS,
    ROLE_CLAIM,
    ROLE_FOLDER,
    SCHEMA_LOCATION,
    XSI,
    QdpxReport,
    _guid,
    _sub,
    _xml_time,
)
from .vocab import derived_id


def project_xml(lib: Library) -> tuple[bytes, dict[str, bytes], QdpxReport]:
    """The project.qde bytes, the source files by archive name, and the loss report."""
    chosen = select(lib, include_deleted=True)
    report = QdpxReport(Path("project.qde"))
    live = [a for a in chosen.annotations if not a.deleted]
    dead = len(chosen.annotations) - len(live)
    orphans = [a for a in live if a.anchor_state == "orphaned"]
    live = [a for a in live if a.anchor_state != "orphaned"]
    live_ids = {a.id for a in live}
    links = [
        link
        for link in chosen.links
        if not link.deleted and link.claim_id in live_ids and link.evidence_id in live_ids
    ]
    reviews = [r for r in chosen.reviews if r.claim_id in live_ids]
    users: dict[str, str] = {}
    for a in live:
        users.setdefault(_guid(a.author_id, "author"), a.author_name)
    for link in links:
        users.setdefault(_guid(link.author_id, "author"), link.author_name)
    for r in reviews:
        users.setdefault(_guid(r.reviewer_id, "author"), r.reviewer_name)

    root = etree.Element(
        _Q + "Project",
        {"name": "margin notes", "origin": "margin", f"{{{XSI}}}schemaLocation": SCHEMA_LOCATION},
        nsmap={None: NS, "xsi": XSI},
    )
    if users:
        holder = _sub(root, "Users")
        for guid, name in sorted(users.items()):
            _sub(holder, "User", guid=guid, name=name)
    # Codes: one per tag path segment; prefixes that are not tags are folders.
    tags = {t.name: t for t in chosen.tags}
    paths: set[str] = set()
    for name in tags:
        parts = name.split("/")
        paths.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    code_of: dict[str, str] = {}
    has_claims = any(a.role == "claim" for a in live)
    if paths or has_claims:
        codes = _sub(_sub(root, "CodeBook"), "Codes")
        elements: dict[str, etree._Element] = {}
        for path in sorted(paths, key=lambda p: (p.count("/"), p)):
            parent_path, _, leaf = path.rpartition("/")
            parent = elements[parent_path] if parent_path else codes
            tag = tags.get(path)
            guid = derived_id("tag", path)
            element = _sub(
                parent,
                "Code",
                guid=guid,
                name=leaf,
                isCodable="true" if tag else "false",
                color=tag.colour if tag else None,
            )
            if tag and tag.description:
                _sub(element, "Description", tag.description)
            elements[path] = element
            code_of[path] = guid
        if has_claims:
            folder = _sub(codes, "Code", guid=ROLE_FOLDER, name="margin", isCodable="false")
            claim = _sub(folder, "Code", guid=ROLE_CLAIM, name="claim", isCodable="true")
            _sub(claim, "Description", "margin role: a passage marked as a claim to check")
        _order_codes(codes)
    review_refs: dict[str, list[str]] = defaultdict(list)
    for r in reviews:
        review_refs[r.claim_id].append(r.id)
    per_doc: dict[str, list[Annotation]] = defaultdict(list)
    for a in live:
        per_doc[a.document_id].append(a)
    files: dict[str, bytes] = {}
    if chosen.documents:
        sources = _sub(root, "Sources")
        for doc in chosen.documents.values():
            guid = _guid(doc.id, "document")
            # One "Field: value" line each, so the import (or a person) reads them back.
            about = "\n".join(
                f"{label}: {value}"
                for label, value in (
                    ("Author", doc.author),
                    ("Published", doc.published),
                    ("Source", public_source(doc.source)),
                    ("Format", doc.format),
                    ("margin text sha256", doc.sha256),
                )
                if value
            )
            element = _sub(
                sources,
                "TextSource",
                guid=guid,
                name=doc.title,
                plainTextPath=f"internal://{guid}.txt",
            )
            _sub(element, "Description", about)
            files[f"sources/{guid}.txt"] = doc.text.encode("utf-8")
            report.counts["sources"] += 1
            for a in per_doc.get(doc.id, []):
                author = _guid(a.author_id, "author")
                selection = _sub(
                    element,
                    "PlainTextSelection",
                    guid=_guid(a.id, "annotation"),
                    name=clip(a.exact, 60),
                    startPosition=str(a.start),
                    endPosition=str(a.end),
                    creatingUser=author,
                    creationDateTime=_xml_time(a.created),
                    modifyingUser=author,
                    modifiedDateTime=_xml_time(a.modified),
                )
                if a.note:
                    _sub(selection, "Description", a.note)
                for name in a.tags:
                    coding = _sub(
                        selection,
                        "Coding",
                        guid=derived_id("coding", a.id, name),
                        creatingUser=author,
                        creationDateTime=_xml_time(a.created),
                    )
                    _sub(coding, "CodeRef", targetGUID=code_of[name])
                if a.role == "claim":
                    coding = _sub(
                        selection,
                        "Coding",
                        guid=derived_id("coding", a.id, "role/claim"),
                        creatingUser=author,
                        creationDateTime=_xml_time(a.created),
                    )
                    _sub(coding, "CodeRef", targetGUID=ROLE_CLAIM)
                for review_id in review_refs.get(a.id, []):
                    _sub(selection, "NoteRef", targetGUID=_guid(review_id, "review"))
                report.counts["selections"] += 1
    link_notes = {link.id: derived_id("link-note", link.id) for link in links if link.note}
    if link_notes or reviews:
        notes = _sub(root, "Notes")
        for link in links:
            if link.id in link_notes:
                note = _sub(
                    notes,
                    "Note",
                    guid=link_notes[link.id],
                    name=f"Link note: {link.relation}",
                    creatingUser=_guid(link.author_id, "author"),
                    creationDateTime=_xml_time(link.created),
                )
                _sub(note, "PlainTextContent", link.note)
        for r in reviews:
            note = _sub(
                notes,
                "Note",
                guid=_guid(r.id, "review"),
                name=f"Review: {r.verdict}",
                creatingUser=_guid(r.reviewer_id, "author"),
                creationDateTime=_xml_time(r.created),
            )
            _sub(note, "PlainTextContent", f"Verdict: {r.verdict}. {r.comment}".rstrip())
            report.counts["verdicts"] += 1
    if links:
        holder = _sub(root, "Links")
        for link in links:
            element = _sub(
                holder,
                "Link",
                guid=_guid(link.id, "link"),
                name=link.relation,
                direction="OneWay",
                originGUID=_guid(link.evidence_id, "annotation"),
                targetGUID=_guid(link.claim_id, "annotation"),
            )
            if link.id in link_notes:
                _sub(element, "NoteRef", targetGUID=link_notes[link.id])
            report.counts["links"] += 1
    report.counts["users"] = len(users)
    report.counts["codes"] = len(code_of) + (2 if has_claims else 0)
    if dead:
        report.lost.append(f"{dead} deleted annotations left out (REFI-QDA cannot say 'deleted')")
    if orphans:
        report.lost.append(
            f"{len(orphans)} orphaned annotations left out (their quote is not in the text)"
        )
    deleted_links = sum(1 for link in chosen.links if link.deleted)
    if deleted_links:
        report.lost.append(f"{deleted_links} deleted links left out")
    if links:
        report.lost.append(
            "link authors and times travel only on link notes (REFI links have none)"
        )
    if has_claims:
        report.lost.append("the claim role travels as the code margin > claim")
    if reviews:
        report.lost.append("verdicts travel as notes 'Verdict: <verdict>. <comment>' on the claim")
    if any(d.page_starts for d in chosen.documents.values()):
        report.lost.append("PDF page boundaries are not carried (sources are plain text)")
    data = etree.tostring(
        root, xml_declaration=True, encoding="utf-8", standalone=True, pretty_print=True
    )
    return data, files, report


def _order_codes(codes: etree._Element) -> None:
    # CodeType is Description?, NoteRef*, Code*: the sub-codes must come after the description.
    for code in codes.iter(_Q + "Code"):
        children = list(code)
        ordered = [c for c in children if c.tag == _Q + "Description"] + [
            c for c in children if c.tag == _Q + "Code"
        ]
        for child in children:
            code.remove(child)
        code.extend(ordered)


def export_qdpx(lib: Library, out: Path) -> QdpxReport:
    """Write a REFI-QDA project archive (project.qde + sources/*.txt) and what it lost."""
    data, files, report = project_xml(lib)
    report.path = out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in [("project.qde", data), *sorted(files.items())]:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    tmp.replace(out)
    return report
