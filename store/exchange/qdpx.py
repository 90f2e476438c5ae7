"""REFI-QDA project exchange (.qdpx): the format of ATLAS.ti, NVivo, MAXQDA and QualCoder.

Export (research/standards.md 2.2): `project.qde` (QDA-XML 1.0, valid against
Project-mrt2019.xsd) and `sources/<document id>.txt` (the exact NFC text margin indexes, so
selection offsets are margin's code-point offsets, half-open). Users from authors; codes from
tags (nested by path segment; GUID uuid5 of the path, stable across exports); a
PlainTextSelection per live highlight or claim with its note as Description and a Coding per
tag; the claim role as the code margin > claim; links as Link (evidence -> claim) with the
link note as a Note; verdicts as Notes referenced from the claim. REFI-QDA cannot say
"deleted", "relation author" or "verdict": the report lists what was lost.

Import (2.4): the archive is untrusted. Member count, sizes and compression ratio are checked
before anything is read; members are read by exact name, never extracted; only
`internal://<GUID>.<ext>` source paths are followed, `relative://`, `absolute://` and anything
else is refused with a line; the XML is parsed with no DTD, no entities and no network.
Sources are matched by text sha256 and selections by content (document + start + end), so
importing the same file twice changes nothing. One transaction; every write is logged.

This module holds the format's names and the import; the export is store.exchange.qdpx_export
and the archive checks store.exchange.zipguard.
"""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

from lxml import etree

from store.errors import InvalidInput
from store.library import MAX_NOTE, Library, parse_colour, tag_name, text_sha256
from store.records import Annotation, Author, Document, Link, Review, format_time, now
from store.sanitize import clean_field, ingest_clean
from store.schema import RELATIONS, VERDICTS

from .validate import BundleError, canonical_uuid, is_uuid, normal_time, show
from .vocab import derived_id
from .zipguard import ArchiveLimits, check_archive, open_archive, read_member

NS = "urn:QDA-XML:project:1.0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = f"{NS} http://schema.qdasoftware.org/versions/Project/v1.0/Project.xsd"
_Q = "{%s}" % NS
_XML_BAD = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_GUID = re.compile(
    r"\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}?"
)
_INTERNAL = re.compile(r"internal://(\{?[0-9A-Fa-f-]{36}\}?\.[A-Za-z0-9]{1,8})")
_VERDICT_NOTE = re.compile(r"Verdict: ([a-z-]+)\.\s*(.*)", re.DOTALL)
ROLE_FOLDER = derived_id("refi-role-folder")
ROLE_CLAIM = derived_id("refi-role", "claim")


# The caps for untrusted archives, shared with every archive reader (store.exchange.zipguard).
QdpxLimits = ArchiveLimits


@dataclass
class QdpxReport:
    """What an export or import carried, and one line for everything it could not."""

    path: Path
    counts: Counter = field(default_factory=Counter)
    lost: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report for the CLI and the app."""
        counted = ", ".join(f"{n} {what}" for what, n in sorted(self.counts.items())) or "nothing"
        return (
            [f"{self.path.name}: {counted}"]
            + [f"  lost     {line}" for line in self.lost]
            + [f"  refused  {line}" for line in self.refused]
        )


def _x(text: str | None) -> str:
    return _XML_BAD.sub("\ufffd", text or "")


def _guid(value: str, kind: str) -> str:
    return value.lower() if is_uuid(value) else derived_id(kind, value)


def _xml_time(stamp: str) -> str:
    return normal_time(stamp)


def _sub(
    parent: etree._Element, tag: str, text: str | None = None, **attrs: str | None
) -> etree._Element:
    element = etree.SubElement(
        parent, _Q + tag, {k: _x(v) for k, v in attrs.items() if v is not None}
    )
    if text is not None:
        element.text = _x(text)
    return element


# -- import ----------------------------------------------------------------------------------------


def _parse_project(data: bytes, name: str) -> etree._Element:
    head = data[:4096].lstrip(b"\xef\xbb\xbf").lower()
    if b"<!doctype" in head or b"<!entity" in data.lower():
        raise BundleError(f"{name}: the project XML declares a DTD or entities; refused")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except (etree.LxmlError, ValueError) as error:
        raise BundleError(f"{name}: not well-formed XML ({str(error)[:100]})") from None
    # The byte check above reads UTF-8 only: a UTF-16 file's DTD passed it (issue 15). What
    # the parser saw holds whatever the encoding.
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None:
        raise BundleError(f"{name}: the project XML declares a DTD or entities; refused")
    if root.tag != _Q + "Project":
        raise BundleError(f"{name}: not a REFI-QDA project (root element {show(root.tag)})")
    return root


_ABOUT = {"author": 500, "published": 100, "source": 2000, "format": 50}


def _about(description: str) -> dict[str, str]:
    """A source's metadata from its Description ("Author: ..." lines, as margin exports it)."""
    found: dict[str, str] = {}
    for line in description.splitlines():
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if sep and key in _ABOUT and key not in found:
            cleaned = clean_field(value.strip(), _ABOUT[key])
            if cleaned:
                found[key] = cleaned
    return found


def _time(value: str | None) -> str:
    if not value:
        return now()
    try:
        stamp = datetime.fromisoformat(value.strip())
    except ValueError:
        return now()
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    try:
        stamp = stamp.astimezone(timezone.utc)
    except (OverflowError, ValueError):  # year 1 or 9999 with an offset (issue 15)
        return now()
    if stamp > datetime.now(timezone.utc):
        return now()
    return format_time(stamp)


class _Importer:
    def __init__(self, lib: Library, report: QdpxReport, author: Author, label: str) -> None:
        self.lib = lib
        self.report = report
        self.author = author
        self.label = label
        self.users: dict[str, str] = {}
        self.codes: dict[str, str | None] = {}  # guid -> tag path (None = the claim role)
        self.code_info: dict[str, tuple[str | None, str]] = {}
        self.codebook: list[str] = []  # codable codes, imported as tags even when unused
        self.notes: dict[str, tuple[str, str | None, str | None]] = {}
        self.selections: dict[str, str] = {}  # REFI guid -> local annotation id
        self._anchoring: ModuleType | None = None  # store.anchoring, imported on first use
        self.pre: dict[tuple[int, int], Any] = {}
        self.project_user: str | None = None  # the project's creator: the last fallback coder
        self.note_names: dict[str, str] = {}
        self.used_notes: set[str] = set()

    def who(self, guid: str | None) -> Author:
        if guid and _GUID.fullmatch(guid):
            key = canonical_uuid(guid)
            if key in self.users:
                return Author(id=key, name=self.users[key])
        return self.author

    def coder(self, element: etree._Element) -> Author:
        """Who made a selection: its creatingUser, else its codings', else the project's."""
        for guid in (
            element.get("creatingUser"),
            *(c.get("creatingUser") for c in element.iterfind(_Q + "Coding")),
            self.project_user,
        ):
            found = self.who(guid)
            if found is not self.author:
                return found
        return self.author

    def lost_notes(self, root: etree._Element) -> None:
        """Notes margin could not attach: on a whole source (margin notes passages) or on
        nothing; each listed, never dropped in silence."""
        on_sources = {}
        for source in root.iterfind(f"{_Q}Sources/*"):
            for ref in source.iterfind(_Q + "NoteRef"):
                target = (ref.get("targetGUID") or "").lower().strip("{}")
                on_sources[target] = source.get("name") or source.get("guid") or "a source"
        for guid, name in self.note_names.items():
            if guid in self.used_notes:
                continue
            where = (
                f"on the whole of source {show(on_sources[guid], 40)} (margin keeps notes on "
                "passages)"
                if guid in on_sources
                else "linked to no selection"
            )
            self.report.lost.append(f"note {show(name, 50)}: {where}; not imported")

    def read_users(self, root: etree._Element) -> None:
        self.project_user = root.get("creatingUserGUID")
        for user in root.iterfind(f"{_Q}Users/{_Q}User"):
            guid = user.get("guid", "")
            if _GUID.fullmatch(guid):
                name = clean_field(user.get("name") or user.get("id") or "", 200) or "unknown"
                self.users[canonical_uuid(guid)] = name

    def read_codes(self, root: etree._Element) -> None:
        def walk(element: etree._Element, prefix: str) -> None:
            for code in element.iterfind(_Q + "Code"):
                guid = (code.get("guid") or "").lower().strip("{}")
                name = clean_field(code.get("name") or "", 200).replace("/", "\u2215")
                path = f"{prefix}/{name}" if prefix else name
                if guid == ROLE_CLAIM or path == "margin/claim":
                    self.codes[guid] = None
                elif name:
                    self.codes[guid] = path
                    description = code.findtext(_Q + "Description") or ""
                    self.code_info[path] = (code.get("color"), clean_field(description, 2000))
                    if code.get("isCodable", "true").strip().lower() in ("true", "1"):
                        self.codebook.append(path)
                walk(code, path)

        for codes in root.iterfind(f"{_Q}CodeBook/{_Q}Codes"):
            walk(codes, "")

    def read_notes(
        self, root: etree._Element, zf: zipfile.ZipFile | None, members: dict, limits: ArchiveLimits
    ) -> None:
        for note in root.iterfind(f"{_Q}Notes/{_Q}Note"):
            guid = (note.get("guid") or "").lower().strip("{}")
            text = note.findtext(_Q + "PlainTextContent")
            if text is None and note.get("plainTextPath"):
                raw = self.source_bytes(
                    note.get("plainTextPath"), f"note {show(note.get('name'))}", zf, members, limits
                )
                text = raw.decode("utf-8-sig", errors="replace") if raw is not None else None
            if text is None:
                continue
            self.note_names[guid] = note.get("name") or guid
            self.notes[guid] = (
                ingest_clean(text)[0].strip(),
                note.get("creatingUser"),
                note.get("creationDateTime"),
            )

    def source_bytes(
        self,
        path: str | None,
        what: str,
        zf: zipfile.ZipFile | None,
        members: dict,
        limits: ArchiveLimits,
    ) -> bytes | None:
        path = path or ""
        match = _INTERNAL.fullmatch(path)
        if not match:
            if path.startswith(("relative://", "absolute://")):
                self.report.refused.append(
                    f"{what}: path {show(path)} points outside the archive; refused"
                )
            else:
                self.report.refused.append(
                    f"{what}: path {show(path)} is not internal://<GUID>.<ext>; refused"
                )
            return None
        if zf is None:
            self.report.lost.append(
                f"{what}: {show(path)} is not here (a bare .qde has no sources)"
            )
            return None
        wanted = f"sources/{match.group(1)}".lower()
        info = next((i for n, i in members.items() if n.lower() == wanted), None)
        if info is None:
            self.report.refused.append(f"{what}: {show(path)} is missing from the archive")
            return None
        try:
            return read_member(zf, info, limits)
        except BundleError as error:  # one damaged source is refused alone (issue 15)
            self.report.refused.append(f"{what}: {error}; refused")
            return None

    def _anchoring_module(self) -> Any:
        if self._anchoring is None:
            from store import anchoring

            self._anchoring = anchoring
        return self._anchoring

    def _quote(self, raw: str, start: int, end: int) -> Any:
        return self._anchoring_module().quote_at(raw, start, end)

    def prepare(self, raw: str, text: str, selections: list[etree._Element]) -> None:
        """Find all selections of a source that cleaning changed at once (one fold of the text)."""
        self.pre = {}
        if raw == text:
            return
        spans = []
        for element in selections:
            try:
                start, end = (
                    int(element.get("startPosition", "")),
                    int(element.get("endPosition", "")),
                )
            except ValueError:
                continue
            if 0 <= start < end <= len(raw):
                spans.append((start, end))
        found = self._anchoring_module().anchor_all(
            text, [self._quote(raw, s, e) for s, e in spans]
        )
        self.pre = dict(zip(spans, found, strict=True))

    def place(self, raw: str, text: str, start: int, end: int) -> tuple[int, int, str] | None:
        if raw == text:
            return start, end, "ok"
        found = self.pre.get((start, end))
        if found is None:
            found = self._anchoring_module().anchor(text, self._quote(raw, start, end))
        if found.state == "orphaned":
            return None
        return found.start, found.end, found.state

    def document(self, source: etree._Element, text: str, fmt: str = "txt") -> Document:
        sha = text_sha256(text)
        found = self.lib.document_by_sha(sha)
        if found is not None:
            self.report.counts["documents matched"] += 1
            return found
        guid = (source.get("guid") or "").strip("{}").lower()
        doc_id = (
            guid
            if is_uuid(guid) and not self.lib.exists("document", guid)
            else derived_id("refi-document", sha)
        )
        about = _about(source.findtext(_Q + "Description") or "")
        added = self.lib.put_document(
            Document(
                id=doc_id,
                title=clean_field(source.get("name") or "untitled", 500) or "untitled",
                author=about.get("author"),
                published=about.get("published"),
                source=about.get("source") or self.label,
                format=about.get("format") or fmt,
                sha256=sha,
                text=text,
                page_starts=None,
                metadata={},
                imported_at=now(),
            )
        )
        self.report.counts["documents added"] += 1
        return added

    def tag(self, path: str) -> str | None:
        colour, description = self.code_info.get(path, (None, ""))
        try:
            name = tag_name(path)
        except InvalidInput:
            self.report.lost.append(f"code {show(path)}: not usable as a tag name")
            return None
        if self.lib.find_tag(name) is None:
            try:
                colour = parse_colour(colour) if colour else None
            except InvalidInput:
                colour = None
            self.lib.ensure_tag(name, colour, description)
            self.report.counts["tags added"] += 1
        return name

    def selection(self, element: etree._Element, doc: Document, raw: str, text: str) -> None:
        guid = (element.get("guid") or "").strip("{}").lower()
        label = f"selection {show(element.get('name') or guid, 50)}"
        try:
            start, end = int(element.get("startPosition", "")), int(element.get("endPosition", ""))
        except ValueError:
            self.report.refused.append(f"{label}: positions are not integers")
            return
        if not 0 <= start < end <= len(raw):
            self.report.refused.append(
                f"{label}: positions {start}-{end} are not inside its source ({len(raw)})"
            )
            return
        placed = self.place(raw, text, start, end)
        if placed is None:
            self.report.lost.append(
                f"{label}: its text could not be found after cleaning the source"
            )
            return
        start, end, state = placed
        tags, role = set(), "highlight"
        for ref in element.iterfind(f"{_Q}Coding/{_Q}CodeRef"):
            target = (ref.get("targetGUID") or "").lower().strip("{}")
            if target not in self.codes:
                continue
            path = self.codes[target]
            if path is None:
                role = "claim"
            else:
                name = self.tag(path)
                if name:
                    tags.add(name)
        note_parts = [ingest_clean(element.findtext(_Q + "Description") or "")[0].strip()]
        verdicts = []
        for ref in element.iterfind(_Q + "NoteRef"):
            target = (ref.get("targetGUID") or "").lower().strip("{}")
            if target not in self.notes:
                continue
            content, user, when = self.notes[target]
            self.used_notes.add(target)
            match = _VERDICT_NOTE.fullmatch(content)
            if match and match.group(1) in VERDICTS:
                verdicts.append((target, match.group(1), match.group(2).strip(), user, when))
            else:
                note_parts.append(content)
        note = "\n\n".join(p for p in note_parts if p)[:MAX_NOTE]
        creator = self.coder(element)
        created = _time(element.get("creationDateTime"))
        modified = max(
            created, _time(element.get("modifiedDateTime") or element.get("creationDateTime"))
        )
        current = self.lib.annotation_row(guid) if is_uuid(guid) else None
        if current is None or current.document_id != doc.id:
            current = self.lib.live_annotation_at(doc.id, start, end)
        if current is not None:
            missing = sorted(tags - set(current.tags))
            if missing or (role == "claim" and current.role != "claim"):
                # A .qdpx carries no signature: it cannot show who made a change, and one from
                # another person turned a highlight into a claim unseen (issue 15). The note
                # stays as it is; the report says what was not applied.
                wanted = [f"tags {', '.join(missing)}"] if missing else []
                if role == "claim" and current.role != "claim":
                    wanted.append("the claim role")
                self.report.lost.append(
                    f"{label}: would add {' and '.join(wanted)} to the existing note "
                    f"{current.id[:8]} by {show(current.author_name, 40)}; not applied (a .qdpx "
                    "cannot show who made a change: add them in margin)"
                )
                self.report.counts["annotations kept as they were"] += 1
            else:
                self.report.counts["annotations unchanged"] += 1
            annotation_id = current.id
        else:
            taken = is_uuid(guid) and self.lib.exists("annotation", guid)
            annotation_id = (
                guid
                if is_uuid(guid) and not taken
                else derived_id("refi-selection", doc.sha256, str(start), str(end), guid)
            )
            quote = self._anchoring_module().quote_at(text, start, end)
            self.lib.put_annotation(
                Annotation(
                    id=annotation_id,
                    document_id=doc.id,
                    start=start,
                    end=end,
                    exact=quote.exact,
                    prefix=quote.prefix,
                    suffix=quote.suffix,
                    role=role,
                    note=note,
                    author_id=creator.id,
                    author_name=creator.name,
                    created=created,
                    modified=modified,
                    deleted=False,
                    anchor_state="ok" if state == "ok" else "moved",
                    anchor_step="position" if state == "ok" else "refi-import",
                    tags=tuple(sorted(tags)),
                )
            )
            self.report.counts["annotations added"] += 1
        if guid:
            self.selections[guid] = annotation_id
        for note_guid, verdict, comment, user, when in verdicts:
            review_id = note_guid if is_uuid(note_guid) else derived_id("refi-review", note_guid)
            if self.lib.exists("review", review_id):
                self.report.counts["verdicts unchanged"] += 1
                continue
            reviewer = self.who(user)
            self.lib.put_review(
                Review(
                    id=review_id,
                    claim_id=annotation_id,
                    verdict=verdict,
                    comment=comment[:MAX_NOTE],
                    reviewer_id=reviewer.id,
                    reviewer_name=reviewer.name,
                    created=_time(when),
                )
            )
            self.report.counts["verdicts added"] += 1

    def links(self, root: etree._Element) -> None:
        skipped = 0
        for link in root.iterfind(f"{_Q}Links/{_Q}Link"):
            origin = (link.get("originGUID") or "").lower().strip("{}")
            target = (link.get("targetGUID") or "").lower().strip("{}")
            if origin not in self.selections or target not in self.selections:
                skipped += 1
                continue
            evidence, claim = self.selections[origin], self.selections[target]
            if evidence == claim:
                skipped += 1
                continue
            relation = (link.get("name") or "").strip().lower()
            if relation not in RELATIONS:
                self.report.lost.append(
                    f"link {show(link.get('name'))}: not one of margin's relations; "
                    "stored as context"
                )
                relation = "context"
            note, user, when = "", None, None
            for ref in link.iterfind(_Q + "NoteRef"):
                note_guid = (ref.get("targetGUID") or "").lower().strip("{}")
                found = self.notes.get(note_guid)
                if found:
                    self.used_notes.add(note_guid)
                    note, user, when = found
                    break
            guid = (link.get("guid") or "").lower().strip("{}")
            link_id = guid if is_uuid(guid) else derived_id("refi-link", claim, evidence, relation)
            if self.lib.exists("link", link_id) or self.lib.live_link(claim, evidence, relation):
                self.report.counts["links unchanged"] += 1
                continue
            creator = self.who(user)
            stamp = _time(when)
            self.lib.put_link(
                Link(
                    id=link_id,
                    claim_id=claim,
                    evidence_id=evidence,
                    relation=relation,
                    note=note[:MAX_NOTE],
                    author_id=creator.id,
                    author_name=creator.name,
                    created=stamp,
                    modified=stamp,
                    deleted=False,
                )
            )
            self.report.counts["links added"] += 1
        if skipped:
            self.report.lost.append(
                f"{skipped} links not between two imported text selections left out"
            )


def import_qdpx(
    lib: Library, path: Path, *, author: Author, limits: ArchiveLimits | None = None
) -> QdpxReport:
    """Import a REFI-QDA project (.qdpx, or a bare .qde) into the library in one transaction."""
    limits = limits or ArchiveLimits()
    path = Path(path)
    report = QdpxReport(path)
    name = path.name
    if path.is_symlink() or not path.is_file():
        raise BundleError(f"{name}: not a regular file")
    zf = None
    members: dict[str, zipfile.ZipInfo] = {}
    if zipfile.is_zipfile(path):
        zf = open_archive(path, name)
        members, refused = check_archive(zf, name, limits)
        report.refused += refused
        roots = [n for n in members if "/" not in n and n.lower().endswith(".qde")]
        if len(roots) != 1:
            raise BundleError(
                f"{name}: expected one .qde project file at the archive root, found {len(roots)}"
            )
        if roots[0] != "project.qde":
            report.lost.append(
                f"the project file is {show(roots[0])}, not project.qde (read anyway)"
            )
        try:
            data = read_member(zf, members[roots[0]], limits)
        except BundleError as error:
            zf.close()
            raise BundleError(f"{name}: {error}") from None
    else:
        if path.stat().st_size > limits.max_member:
            raise BundleError(f"{name}: larger than {limits.max_member / 1e6:.0f} MB")
        data = path.read_bytes()
    try:
        root = _parse_project(data, name)
        importer = _Importer(lib, report, author, name)
        importer.read_users(root)
        importer.read_codes(root)
        with lib.write():
            for path_name in importer.codebook:
                importer.tag(path_name)
            importer.read_notes(root, zf, members, limits)
            other: Counter[str] = Counter()
            for source in root.iterfind(f"{_Q}Sources/*"):
                kind = etree.QName(source).localname
                what = f"source {show(source.get('name') or source.get('guid'), 50)}"
                # A PDF's text is its Representation (a text source with its own selections):
                # margin reads that text, with or without the PDF in the archive.
                held = source.find(_Q + "Representation") if kind == "PDFSource" else None
                if kind != "TextSource" and held is None:
                    other[kind] += 1
                    continue
                textual = held if held is not None else source
                if held is not None:
                    report.counts["PDF sources read from their text"] += 1
                inline = textual.findtext(_Q + "PlainTextContent")
                if inline is not None:
                    raw_text = inline
                else:
                    raw = importer.source_bytes(
                        textual.get("plainTextPath"), what, zf, members, limits
                    )
                    if raw is None:
                        continue
                    try:
                        raw_text = raw.decode("utf-8-sig")
                    except UnicodeDecodeError:
                        report.refused.append(f"{what}: its text is not UTF-8; refused")
                        continue
                text = ingest_clean(raw_text)[0]
                if not text.strip():
                    report.lost.append(f"{what}: empty text; not imported")
                    continue
                doc = importer.document(source, text, "pdf" if held is not None else "txt")
                selections = list(textual.iterfind(_Q + "PlainTextSelection"))
                importer.prepare(raw_text, text, selections)
                for selection in selections:
                    importer.selection(selection, doc, raw_text, text)
            for kind, count in sorted(other.items()):
                report.lost.append(f"{count} {kind} sources not imported (margin reads text only)")
            importer.links(root)
            importer.lost_notes(root)
            for element in ("Cases", "Variables", "Sets", "Graphs"):
                if root.find(_Q + element) is not None:
                    report.lost.append(f"{element} are not carried into margin")
            # Verdicts arrive without what their reviewer saw: each judges the project as it
            # stands here once all of it is in (links come after verdicts in a .qde).
            lib.record_missing_grounds()
    finally:
        if zf is not None:
            zf.close()
    return report


def project_bytes_from(path: Path) -> bytes:
    """The project.qde of an archive (for validation in tests and tools)."""
    with zipfile.ZipFile(path) as zf:
        return zf.read("project.qde")
