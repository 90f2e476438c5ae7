"""Hostile-input checks: a bundle is untrusted until every record has passed here.

Order (reliability.md R5): byte cap; UTF-8; `json.loads` refusing duplicate keys and NaN,
catching `RecursionError` (it is not a `ValueError`); an iterative depth walk; the item count.
Then each record on its own: lone surrogates, the W3C MUSTs that apply, UUID ids (unique in
the bundle), enums, `type(x) is int` offsets with 0 <= start <= end, field caps, timezone-aware
times with created <= modified <= now + 1 day. A bad record becomes one line in `rejected` and
the rest goes on; a bad file raises `BundleError` (one line) before anything is written.
Every string that passes is cleaned as data (`store.sanitize`). Unknown fields are ignored.
Nothing here touches the library or the network.

The parts: `untrusted` (the caps, the errors and the JSON loader), `checks` (small value
checks), `w3c` (the W3C MUSTs); this module reads records and bundles with them.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from store.errors import InvalidInput
from store.library import parse_colour, tag_name
from store.records import Review
from store.sanitize import clean_field, ingest_clean
from store.schema import RELATIONS, ROLES, VERDICTS

from .checks import (
    _SHA,
    _UUID,
    _VERSION,
    _as_list,
    _context_ok,
    _int,
    _string,
    _surrogates,
    _times,
    _types,
    parse_time,
    uuid_of,
)
from .checks import normal_time as normal_time  # re-exported: merge, bundle, qdpx use it
from .untrusted import DEFAULT_LIMITS, BundleError, Limits, RecordError, load_json, show
from .vocab import ANNO_CONTEXT, FORMAT_VERSION, tag_file_id
from .w3c import _w3c_annotation

# Why a raw record is refused before it is read (None: read it).
Check = Callable[[dict], str | None]

UUID_FILE = re.compile(
    r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(jsonld|txt)"
)


# -- records as margin reads them ------------------------------------------------------------------


@dataclass(frozen=True)
class InDocument:
    """A document described by a bundle (text only with --with-sources)."""

    id: str
    title: str
    author: str | None
    published: str | None
    source: str | None
    format: str
    sha256: str
    length: int
    page_starts: list[int] | None
    metadata: dict
    text: str | None


@dataclass(frozen=True)
class InTag:
    """A codebook entry of a bundle."""

    name: str
    colour: str | None
    description: str


@dataclass(frozen=True)
class InAnnotation:
    """A highlight or claim from a bundle; offsets are None when the sender gave none."""

    id: str
    document_id: str
    text_sha256: str | None
    start: int | None
    end: int | None
    exact: str
    prefix: str
    suffix: str
    role: str
    note: str
    tags: tuple[str, ...]
    author_id: str
    author_name: str
    created: str
    modified: str
    deleted: bool
    previous: str | None
    # `margin:editor`: who made this version (the author when the bundle does not say).
    editor_id: str = ""
    editor_name: str = ""


@dataclass(frozen=True)
class InLink:
    """A claim -> evidence link from a bundle."""

    id: str
    claim_id: str
    evidence_id: str
    relation: str
    note: str
    author_id: str
    author_name: str
    created: str
    modified: str
    deleted: bool
    previous: str | None
    # `margin:editor`: who made this version (the author when the bundle does not say).
    editor_id: str = ""
    editor_name: str = ""


# A verdict arrives exactly as margin stores one (reviews are append-only, never merged).
InReview = Review


@dataclass
class Bundle:
    """Everything of a bundle that passed the checks, and one line per record that did not."""

    name: str
    documents: list[InDocument] = field(default_factory=list)
    tags: list[InTag] = field(default_factory=list)
    annotations: list[InAnnotation] = field(default_factory=list)
    links: list[InLink] = field(default_factory=list)
    reviews: list[InReview] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    unverified: dict[str, str] = field(default_factory=dict)
    """Records claiming a known person without their signature: id -> the line that says so.
    The merge never lets one add or change anything: new ones are refused, others conflict."""


# -- margin's reading of an annotation -------------------------------------------------------------


def _creator(a: dict, limits: Limits) -> tuple[str, str]:
    creators = _as_list(a.get("creator"))
    if len(creators) != 1 or not isinstance(creators[0], dict):
        raise RecordError("needs exactly one creator object with the author's urn:uuid id")
    agent = creators[0]
    author_id = uuid_of(agent.get("id"), "creator id", limits)
    name = agent.get("name", agent.get("nickname", ""))
    if isinstance(name, list):
        name = name[0] if name else ""
    if type(name) is not str or len(name) > limits.author:
        raise RecordError(f"creator name must be a string of at most {limits.author} characters")
    return author_id, clean_field(name, limits.author) or "anonymous"


def _editor(a: dict, limits: Limits, author: tuple[str, str]) -> tuple[str, str]:
    if "margin:editor" not in a:
        return author
    try:
        return _creator({"creator": a["margin:editor"]}, limits)
    except RecordError as error:
        raise RecordError(str(error).replace("creator", "margin:editor", 1)) from None


def _bodies(a: dict) -> list[dict]:
    return [b for b in _as_list(a.get("body")) if isinstance(b, dict)]


def _purposes(body: dict) -> list:
    return _as_list(body.get("purpose"))


def _note_of(a: dict, limits: Limits, purpose: str = "commenting") -> str:
    parts = []
    for body in _bodies(a):
        if purpose in _purposes(body) and "TextualBody" in _types(body):
            value = body.get("value")
            if type(value) is not str:
                raise RecordError(f"a {purpose} body has no string value")
            parts.append(value)
    if not parts and type(a.get("bodyValue")) is str:
        parts.append(a["bodyValue"])
    note = "\n\n".join(parts)
    if len(note) > limits.note:
        raise RecordError(f"note is {len(note):,} characters, over the limit of {limits.note:,}")
    return ingest_clean(note)[0]


def _deleted(a: dict) -> bool:
    value = a.get("margin:deleted", False)
    if type(value) is bool:
        return value
    if type(value) is str:
        parse_time(value)  # the W3C example writes the deletion time
        return True
    raise RecordError(f"'margin:deleted' must be true, false or a time, got {show(value, 20)}")


def _previous(a: dict) -> str | None:
    value = a.get("margin:previous")
    if value is None:
        return None
    if type(value) is not str or not _VERSION.fullmatch(value):
        raise RecordError(f"'margin:previous' {show(value)} is not sha256:<hex>")
    return value


def _record_id(a: dict, limits: Limits) -> str:
    record_id = uuid_of(a.get("id"), "id", limits)
    if "canonical" in a and uuid_of(a["canonical"], "canonical", limits) != record_id:
        raise RecordError("'canonical' differs from 'id' (margin keeps one id per record)")
    return record_id


def _highlight(a: dict, limits: Limits, now: datetime) -> InAnnotation:
    record_id = _record_id(a, limits)
    targets = _as_list(a.get("target"))
    if len(targets) != 1 or not isinstance(targets[0], dict):
        raise RecordError("target must be one SpecificResource naming the document")
    target = targets[0]
    document_id = uuid_of(target.get("source"), "target source", limits)
    sha = target.get("margin:textSha256")
    if sha is not None and (type(sha) is not str or not _SHA.fullmatch(sha)):
        raise RecordError(f"'margin:textSha256' {show(sha)} is not a sha256 hex digest")
    selectors = [s for s in _as_list(target.get("selector")) if isinstance(s, dict)]
    quote = next((s for s in selectors if s.get("type") == "TextQuoteSelector"), None)
    if quote is None:
        raise RecordError("target has no TextQuoteSelector")
    exact = _string(quote, "exact", limits.exact, required=True)
    prefix = _string(quote, "prefix", limits.context)
    suffix = _string(quote, "suffix", limits.context)
    position = next((s for s in selectors if s.get("type") == "TextPositionSelector"), None)
    start = end = None
    if position is not None:
        start = _int(position, "start", limits.max_text)
        end = _int(position, "end", limits.max_text)
        if end < start:
            raise RecordError(f"end {end} is before start {start}")
    role = a.get("margin:role", "highlight")
    if role not in ROLES:
        raise RecordError(f"'margin:role' {show(role, 30)} is not one of {', '.join(ROLES)}")
    tags = []
    for body in _bodies(a):
        if "tagging" in _purposes(body):
            value = body.get("value")
            if type(value) is not str or len(value) > limits.tag:
                raise RecordError(f"a tag must be a string of at most {limits.tag} characters")
            try:
                tags.append(tag_name(value))
            except InvalidInput:
                raise RecordError(f"tag {show(value)} is empty once cleaned") from None
    author_id, author_name = _creator(a, limits)
    editor_id, editor_name = _editor(a, limits, (author_id, author_name))
    created, modified = _times(a, limits, now)
    return InAnnotation(
        id=record_id,
        document_id=document_id,
        text_sha256=sha,
        start=start,
        end=end,
        exact=ingest_clean(exact)[0],
        prefix=ingest_clean(prefix)[0],
        suffix=ingest_clean(suffix)[0],
        role=role,
        note=_note_of(a, limits),
        tags=tuple(sorted(set(tags))),
        author_id=author_id,
        author_name=author_name,
        created=created,
        modified=modified,
        deleted=_deleted(a),
        previous=_previous(a),
        editor_id=editor_id,
        editor_name=editor_name,
    )


def _link(a: dict, limits: Limits, now: datetime) -> InLink:
    record_id = _record_id(a, limits)
    relation = a.get("margin:relation", "context")
    if relation not in RELATIONS:
        raise RecordError(
            f"'margin:relation' {show(relation, 30)} is not one of {', '.join(RELATIONS)}"
        )
    targets = _as_list(a.get("target"))
    claim_ref = a.get("margin:claim", targets[0] if targets else None)
    evidence_ref = a.get("margin:evidence")
    if evidence_ref is None:
        linked = [
            b.get("source") for b in _bodies(a) if "linking" in _purposes(b) and "source" in b
        ]
        evidence_ref = linked[0] if linked else (targets[1] if len(targets) > 1 else None)
    if isinstance(claim_ref, dict):
        claim_ref = claim_ref.get("source", claim_ref.get("id"))
    claim_id = uuid_of(claim_ref, "claim", limits)
    evidence_id = uuid_of(evidence_ref, "evidence", limits)
    if claim_id == evidence_id:
        raise RecordError("links a claim to itself")
    author_id, author_name = _creator(a, limits)
    editor_id, editor_name = _editor(a, limits, (author_id, author_name))
    created, modified = _times(a, limits, now)
    return InLink(
        id=record_id,
        claim_id=claim_id,
        evidence_id=evidence_id,
        relation=relation,
        note=_note_of(a, limits),
        author_id=author_id,
        author_name=author_name,
        created=created,
        modified=modified,
        deleted=_deleted(a),
        previous=_previous(a),
        editor_id=editor_id,
        editor_name=editor_name,
    )


def _review(a: dict, limits: Limits, now: datetime) -> InReview:
    record_id = _record_id(a, limits)
    targets = _as_list(a.get("target"))
    if len(targets) != 1:
        raise RecordError("a verdict targets exactly one claim")
    target = targets[0]
    if isinstance(target, dict):
        target = target.get("source", target.get("id"))
    claim_id = uuid_of(target, "claim", limits)
    verdict = a.get("margin:verdict")
    for body in _bodies(a):
        if "margin:verdict" in body:
            verdict = body["margin:verdict"]
    if verdict not in VERDICTS:
        raise RecordError(
            f"'margin:verdict' {show(verdict, 30)} is not one of {', '.join(VERDICTS)}"
        )
    comment = _note_of(a, limits, "assessing") or _note_of(a, limits)
    author_id, author_name = _creator(a, limits)
    created, _ = _times(a, limits, now, modified=False)
    return InReview(
        id=record_id,
        claim_id=claim_id,
        verdict=verdict,
        comment=comment,
        reviewer_id=author_id,
        reviewer_name=author_name,
        created=created,
    )


def read_annotation(
    a: Any, limits: Limits, now: datetime, *, inherited_context: bool
) -> InAnnotation | InLink | InReview:
    """One W3C annotation as a margin record, or RecordError with the reason."""
    if not isinstance(a, dict):
        raise RecordError(f"is a {type(a).__name__}, not an annotation object")
    _surrogates(a)
    _w3c_annotation(a, inherited_context)
    motivations = _as_list(a.get("motivation"))
    if len(motivations) > 1:
        raise RecordError(f"has {len(motivations)} motivations; margin reads one")
    motivation = motivations[0] if motivations else None
    if motivation == "linking":
        return _link(a, limits, now)
    if motivation == "assessing":
        return _review(a, limits, now)
    if motivation in ("highlighting", None):
        return _highlight(a, limits, now)
    raise RecordError(f"motivation {show(motivation, 30)} is not one margin reads")


def read_document(d: Any, limits: Limits) -> InDocument:
    """One entry of `margin:documents`, or RecordError."""
    if not isinstance(d, dict):
        raise RecordError("is not an object")
    _surrogates(d)
    document_id = uuid_of(d.get("id"), "id", limits)
    sha = d.get("margin:textSha256")
    if type(sha) is not str or not _SHA.fullmatch(sha):
        raise RecordError(f"'margin:textSha256' {show(sha)} is not a sha256 hex digest")
    length = _int(d, "margin:textLength", limits.max_text)
    title = clean_field(_string(d, "margin:title", limits.title), 500) or "untitled"
    author = _string(d, "margin:author", limits.title)
    published = _string(d, "margin:published", 100)
    source = _string(d, "margin:source", 2000)
    fmt = clean_field(_string(d, "margin:format", 50), 50) or "txt"
    starts = d.get("margin:pageStarts")
    if starts is not None:
        if not isinstance(starts, list) or any(type(s) is not int for s in starts):
            raise RecordError("'margin:pageStarts' must be a list of integers")
        if any(not 0 <= s <= length for s in starts) or starts != sorted(starts):
            raise RecordError("'margin:pageStarts' must rise within the text")
    metadata = d.get("margin:metadata", {})
    if not isinstance(metadata, dict):
        raise RecordError("'margin:metadata' must be an object")
    # Only the naming time is kept of a document's metadata (an older margin sent all of it,
    # its file's path included); `margin:namedAt` carries it now.
    named_at = d.get("margin:namedAt", metadata.get("named_at"))
    metadata = {"named_at": named_at[:40]} if isinstance(named_at, str) and named_at else {}
    text = d.get("margin:text")
    if text is not None:
        if type(text) is not str:
            raise RecordError("'margin:text' must be a string")
        if len(text) > limits.max_text:
            raise RecordError(f"text is {len(text):,} characters, over {limits.max_text:,}")
        if len(text) != length or hashlib.sha256(text.encode("utf-8")).hexdigest() != sha:
            raise RecordError("the embedded text does not match its margin:textSha256")
    return InDocument(
        id=document_id,
        title=title,
        author=clean_field(author, 500) or None,
        published=clean_field(published, 100) or None,
        source=ingest_clean(source)[0].strip() or None,
        format=fmt,
        sha256=sha,
        length=length,
        page_starts=starts or None,
        metadata=_clean_json(metadata),
        text=text,
    )


def _clean_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {ingest_clean(k)[0]: _clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_json(v) for v in value]
    if isinstance(value, str):
        return ingest_clean(value)[0]
    return value


def read_tag(t: Any, limits: Limits) -> InTag:
    """One entry of `margin:tags`, or RecordError."""
    if not isinstance(t, dict):
        raise RecordError("is not an object")
    _surrogates(t)
    name = _string(t, "margin:name", limits.tag, required=True)
    try:
        name = tag_name(name)
    except InvalidInput:
        raise RecordError(f"tag name {show(name)} is empty once cleaned") from None
    colour = t.get("margin:colour")
    if colour is not None:
        try:
            colour = parse_colour(colour) if type(colour) is str else None
        except InvalidInput:
            colour = None
        if colour is None:
            raise RecordError(f"colour {show(t.get('margin:colour'), 30)} is not #rrggbb")
    description = clean_field(_string(t, "margin:description", 2000), 2000)
    return InTag(name=name, colour=colour, description=description)


# -- bundles ---------------------------------------------------------------------------------------


def _where(kind: str, raw: Any, index: int) -> str:
    ident = raw.get("id") if isinstance(raw, dict) else None
    if type(ident) is str and len(ident) <= 120:
        return f"{kind} {show(ident, 80).strip(chr(39))}"
    return f"{kind} #{index + 1}"


def read_bundle_object(
    obj: Any,
    name: str,
    limits: Limits = DEFAULT_LIMITS,
    *,
    now: datetime | None = None,
    check: Check | None = None,
) -> Bundle:
    """Every record of a parsed bundle that passes the checks; raises BundleError on the shape.

    Args:
        check: says why a raw record is refused before it is read (the signature check of
            store.signing: a record claiming a known person must carry their signature).
    """
    now = now or datetime.now(timezone.utc)
    if not isinstance(obj, dict):
        raise BundleError(
            f"{name}: not a W3C annotation collection (top level is a {type(obj).__name__})"
        )
    try:
        types = _types(obj)
    except RecordError as error:
        raise BundleError(f"{name}: {error}") from None
    bundle = Bundle(name=name)
    inherited = True
    if "AnnotationCollection" in types or "AnnotationPage" in types:
        if not _context_ok(obj.get("@context")):
            raise BundleError(f"{name}: '@context' does not include {ANNO_CONTEXT}")
        page = obj.get("first") if "AnnotationCollection" in types else obj
        if page is None:
            items: Any = obj.get("items", [])
        elif isinstance(page, dict):
            items = page.get("items", [])
            if page.get("next") is not None:
                raise BundleError(f"{name}: the collection continues on pages outside this file")
        else:
            raise BundleError(f"{name}: the collection's pages are not in this file")
        if not isinstance(items, list):
            raise BundleError(f"{name}: 'items' is not a list")
    elif "Annotation" in types or "id" in obj or "target" in obj:
        items, inherited = [obj], False
    else:
        raise BundleError(f"{name}: not a W3C annotation or annotation collection")
    version = obj.get("margin:formatVersion", FORMAT_VERSION)
    if type(version) is int and version < 1:  # -1 was accepted (issue 15)
        raise BundleError(f"{name}: bundle format {version} is not one margin writes (1..)")
    if type(version) is not int or version > FORMAT_VERSION:
        raise BundleError(
            f"{name}: made by a newer margin (bundle format {show(version, 20)}, this one reads "
            f"{FORMAT_VERSION}); upgrade margin to merge it"
        )
    documents = obj.get("margin:documents", [])
    tags = obj.get("margin:tags", [])
    if not isinstance(documents, list) or not isinstance(tags, list):
        raise BundleError(f"{name}: 'margin:documents' and 'margin:tags' must be lists")
    if len(tags) > limits.max_tags:  # 100,000 tags were accepted (issue 15)
        raise BundleError(f"{name}: {len(tags):,} tags, over the limit of {limits.max_tags:,}")
    if len(documents) > limits.max_documents:
        raise BundleError(
            f"{name}: {len(documents):,} documents, over the limit of {limits.max_documents:,}"
        )
    total = len(items) + len(documents) + len(tags)
    if total > limits.max_items:
        raise BundleError(f"{name}: {total:,} records, over the limit of {limits.max_items:,}")
    seen: set[str] = set()
    for index, raw in enumerate(documents):
        where = _where("document", raw, index)
        try:
            doc = read_document(raw, limits)
            if doc.id in seen:
                raise RecordError("appears twice in the bundle")
            seen.add(doc.id)
            bundle.documents.append(doc)
        except RecordError as error:
            bundle.rejected.append(f"{where}: {error}")
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as error:
            bundle.rejected.append(f"{where}: malformed ({type(error).__name__})")
    names: set[str] = set()
    for index, raw in enumerate(tags):
        where = f"tag #{index + 1}"
        try:
            tag = read_tag(raw, limits)
            if tag.name in names:
                raise RecordError(f"{show(tag.name)} appears twice in the bundle")
            names.add(tag.name)
            bundle.tags.append(tag)
        except RecordError as error:
            bundle.rejected.append(f"{where}: {error}")
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as error:
            bundle.rejected.append(f"{where}: malformed ({type(error).__name__})")
    for index, raw in enumerate(items):
        where = _where("annotation", raw, index)
        problem = check(raw) if check is not None and isinstance(raw, dict) else None
        try:
            record = read_annotation(raw, limits, now, inherited_context=inherited)
            if record.id in seen:
                raise RecordError("id appears twice in the bundle")
            seen.add(record.id)
            if problem:
                bundle.unverified[record.id] = f"{where}: {problem}"
        except RecordError as error:
            bundle.rejected.append(f"{where}: {error}")
            continue
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as error:
            # A shape no check above foresaw: still one line, never a traceback.
            bundle.rejected.append(f"{where}: malformed ({type(error).__name__})")
            continue
        if isinstance(record, InAnnotation):
            bundle.annotations.append(record)
        elif isinstance(record, InLink):
            bundle.links.append(record)
        else:
            bundle.reviews.append(record)
    return bundle


def read_bundle_file(
    path: Path, limits: Limits = DEFAULT_LIMITS, check: Check | None = None
) -> Bundle:
    """Read and check a one-file bundle (`*.margin.jsonld`)."""
    try:
        info = path.lstat()
    except OSError as error:
        raise BundleError(f"{path.name}: cannot be read ({error.strerror})") from None
    if stat.S_ISLNK(info.st_mode):
        raise BundleError(f"{path.name}: is a symbolic link; give the file itself")
    if not stat.S_ISREG(info.st_mode):
        raise BundleError(f"{path.name}: is not a regular file")
    if info.st_size > limits.max_bytes:
        raise BundleError(
            f"{path.name}: {info.st_size / 1e6:.0f} MB, "
            f"over the limit of {limits.max_bytes / 1e6:.0f} MB"
        )
    with path.open("rb") as handle:
        raw = handle.read(limits.max_bytes + 1)
    return read_bundle_object(load_json(raw, path.name, limits), path.name, limits, check=check)


FOLDER_KINDS = ("documents", "tags", "annotations", "links", "reviews")


def read_bundle_folder(
    root: Path, limits: Limits = DEFAULT_LIMITS, check: Check | None = None
) -> Bundle:
    """Read and check a folder bundle: margin's file names only, no symlinks, nothing outside."""
    name = root.name or str(root)
    if root.is_symlink() or not root.is_dir():
        raise BundleError(f"{name}: not a folder bundle (a real folder is needed)")
    base = root.resolve()
    rejected: list[str] = []
    wanted: list[tuple[str, Path]] = []  # (kind, path)

    def usable(path: Path, label: str) -> bool:
        try:
            info = path.lstat()
        except OSError:
            return False
        if stat.S_ISLNK(info.st_mode):
            rejected.append(f"{label}: is a symbolic link; not read")
            return False
        if not stat.S_ISREG(info.st_mode):
            return False
        if not path.resolve().is_relative_to(base):
            rejected.append(f"{label}: lies outside the bundle; not read")
            return False
        return True

    for kind in (*FOLDER_KINDS, "sources"):
        folder = root / kind
        if not os.path.lexists(folder):
            continue
        if folder.is_symlink() or not folder.is_dir():
            rejected.append(f"{kind}/: is not a real folder; not read")
            continue
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            label = f"{kind}/{show(entry.name, 80).strip(chr(39))}"
            if entry.name.startswith("."):
                continue
            match = UUID_FILE.fullmatch(entry.name)
            suffix = "txt" if kind == "sources" else "jsonld"
            if not match or match.group(2) != suffix:
                rejected.append(f"{label}: not a margin file name (<uuid>.{suffix}); ignored")
                continue
            if usable(Path(entry.path), label):
                wanted.append((kind, Path(entry.path)))
    if len(wanted) > limits.max_items:
        raise BundleError(f"{name}: {len(wanted):,} files, over the limit of {limits.max_items:,}")
    total = sum(path.stat().st_size for _, path in wanted)
    if total > limits.max_bytes:
        raise BundleError(
            f"{name}: {total / 1e6:.0f} MB of files, "
            f"over the limit of {limits.max_bytes / 1e6:.0f} MB"
        )
    documents: list = []
    tags: list = []
    items: list = []
    texts: dict[str, str] = {}
    version: Any = FORMAT_VERSION
    for kind, path in wanted:
        label = f"{kind}/{path.name}"
        raw = path.read_bytes()
        if kind == "sources":
            try:
                texts[path.stem] = raw.decode("utf-8")
            except UnicodeDecodeError:
                rejected.append(f"{label}: not UTF-8; not read")
            continue
        try:
            obj = load_json(raw, label, limits)
        except BundleError as error:
            rejected.append(str(error))
            continue
        if not isinstance(obj, dict):
            rejected.append(f"{label}: not a JSON object; not read")
            continue
        if kind == "tags":
            named = obj.get("margin:name")
            if not isinstance(named, str) or tag_file_id(named) != path.stem:
                rejected.append(f"{label}: its name {show(named)} is not its file name; not read")
                continue
            tags.append({k: v for k, v in obj.items() if k != "@context"})
            continue
        ident = obj.get("id")
        if ident != f"urn:uuid:{path.stem}":
            rejected.append(f"{label}: its id {show(ident)} is not its file name; not read")
            continue
        if kind == "documents":
            found = obj.pop("margin:formatVersion", FORMAT_VERSION)
            if type(version) is int and (type(found) is not int or found > version):
                version = found  # the collection check below refuses a newer or odd format
            documents.append({k: v for k, v in obj.items() if k != "@context"})
        else:
            items.append(obj)
    for doc in documents:
        if isinstance(doc, dict) and isinstance(doc.get("id"), str):
            text = texts.get(doc["id"].removeprefix("urn:uuid:"))
            if text is not None and "margin:text" not in doc:
                doc["margin:text"] = text
    collection = {
        "@context": [ANNO_CONTEXT],
        "type": "AnnotationCollection",
        "margin:documents": documents,
        "margin:formatVersion": version,
        "margin:tags": tags,
        "items": items,
    }
    bundle = read_bundle_object(collection, name, limits, check=check)
    bundle.rejected[:0] = rejected
    return bundle


def read_bundle(path: Path, limits: Limits = DEFAULT_LIMITS, check: Check | None = None) -> Bundle:
    """A one-file bundle or a folder bundle, checked."""
    if path.is_dir() and not path.is_symlink():
        return read_bundle_folder(path, limits, check)
    return read_bundle_file(path, limits, check)


def is_uuid(value: str) -> bool:
    """True for a hyphenated UUID (any case)."""
    return bool(_UUID.fullmatch(value))


def canonical_uuid(value: str) -> str:
    """A UUID in its lower-case hyphenated form (braces allowed on input)."""
    return str(uuid.UUID(value.strip("{}")))
