"""`margin merge FILE`: which tool wrote FILE, told by its content (not its name), and one
report for every merge, whatever the tool.

Formats: margin's own bundle (a file with `margin:formatVersion` or `margin:documents`, or a
folder bundle), any other W3C Web Annotation file, Hypothesis JSON, Kindle's
`My Clippings.txt`, Readwise CSV, REFI-QDA (`.qdpx` archive, bare `.qde` project, `.qdc`
codebook). Foreign notes go through `store.exchange.foreign` into the same merge as margin's
own, so they are written by `Library`, anchored by quote and merged twice without change.
"""

from __future__ import annotations

import hashlib
import re
import stat
from pathlib import Path

from store.library import Library
from store.records import Author

from .foreign import ForeignRead, to_bundle
from .foreign_w3c import read_w3c
from .hypothesis import looks_like_hypothesis, read_hypothesis
from .kindle import looks_like_kindle, read_kindle
from .merge import MergeReport, merge, merge_bundle
from .qdc import import_qdc
from .qdpx import QdpxReport, import_qdpx
from .readwise import looks_like_readwise, read_readwise
from .untrusted import DEFAULT_LIMITS, BundleError, Limits, load_json, show
from .validate import Check

_SNIFF = 4096
_ORPHAN = re.compile(r"annotation ([0-9a-f-]{36}) ")
_ROOT = re.compile(rb"<([A-Za-z_][^\s>/]*)")


def sniff(path: Path) -> str:
    """The format of `path`, from its first bytes: "folder", "margin", "w3c", "hypothesis",
    "kindle", "readwise", "qdpx", "qde" or "qdc"."""
    if path.is_dir() and not path.is_symlink():
        return "folder"
    try:
        info = path.lstat()
    except OSError as error:
        raise BundleError(f"{path.name}: cannot be read ({error.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise BundleError(f"{path.name}: is not a regular file")
    with path.open("rb") as handle:
        head = handle.read(_SNIFF)
    if head.startswith(b"PK\x03\x04"):
        return "qdpx"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        root = _ROOT.search(head)  # the first element after the declaration and comments
        name = root.group(1).rsplit(b":", 1)[-1] if root else b""
        return "qdc" if name == b"CodeBook" else "qde"
    if text.startswith((b"{", b"[")):
        return "json"
    decoded = head.decode("utf-8", errors="replace")
    if looks_like_kindle(decoded):
        return "kindle"
    if looks_like_readwise(decoded):
        return "readwise"
    suffix = path.suffix.lower()
    if suffix in (".qdpx", ".qde", ".qdc"):
        return suffix[1:]
    raise BundleError(
        f"{path.name}: not a file margin reads (a margin bundle, W3C annotations, Hypothesis "
        "JSON, Kindle clippings, Readwise CSV or REFI-QDA)"
    )


def _read(path: Path, limits: Limits) -> bytes:
    if path.stat().st_size > limits.max_bytes:
        raise BundleError(
            f"{path.name}: {path.stat().st_size / 1e6:.0f} MB, over the limit of "
            f"{limits.max_bytes / 1e6:.0f} MB"
        )
    return path.read_bytes()


def _is_margin(obj: object) -> bool:
    if not isinstance(obj, dict):
        return False
    if "margin:formatVersion" in obj or "margin:documents" in obj:
        return True
    # One annotation of a folder bundle, or an old bundle: margin's own keys say so.
    items = obj.get("items") if isinstance(obj.get("items"), list) else [obj]
    first = items[0] if items else None
    return isinstance(first, dict) and any(str(k).startswith("margin:") for k in first)


def merge_foreign(
    lib: Library, read: ForeignRead, path: Path, *, author: Author, sha256: str | None
) -> MergeReport:
    """Merge what a foreign reader got, and say where every new note landed."""
    bundle, missing = to_bundle(lib, read, path)
    before = {a.id for a in bundle.annotations if lib.annotation_row(a.id) is not None}
    report = merge_bundle(lib, bundle, author=author, sha256=sha256)
    report.format = read.format
    report.skipped += missing
    report.notices += read.notices
    for inc in bundle.annotations:
        if inc.id in before:
            continue
        stored = lib.annotation_row(inc.id)
        if stored is None or stored.anchor_state == "orphaned":
            continue
        doc = lib.document(stored.document_id)
        how = "by position" if stored.anchor_step == "position" else "by quote"
        theirs = read.originals.get(inc.id)
        report.placed.append(
            f"{show(' '.join(stored.exact.split()), 50)} on {show(doc.title, 40)} at "
            f"{doc.position_label(stored.start)} (characters {stored.start}-{stored.end}, {how})"
            + (f", their id {show(theirs, 60)}" if theirs else "")
        )
    # An orphan is named by the tool's own id too, so it can be found in the tool.
    for number, line in enumerate(report.orphaned):
        named = _ORPHAN.match(line)
        theirs = read.originals.get(named.group(1)) if named else None
        if named and theirs:
            cut = named.end(1)
            report.orphaned[number] = f"{line[:cut]} ({show(theirs, 60)}){line[cut:]}"
    return report


def merge_any(
    lib: Library,
    path: Path,
    *,
    author: Author,
    limits: Limits | None = None,
    check: Check | None = None,
) -> MergeReport | QdpxReport:
    """Merge any file margin reads into the library, in one transaction; the report.

    `check` is the signature check of margin bundles (store.signing); other tools sign nothing.
    """
    limits = limits or DEFAULT_LIMITS
    path = Path(path)
    kind = sniff(path)
    if kind == "folder":
        return merge(lib, path, author=author, limits=limits, check=check)
    if kind in ("qdpx", "qde"):
        return import_qdpx(lib, path, author=author)
    if kind == "qdc":
        return import_qdc(lib, path)
    raw = _read(path, limits)
    sha = hashlib.sha256(raw).hexdigest()
    if kind == "kindle":
        return merge_foreign(
            lib, read_kindle(raw, path.name, limits), path, author=author, sha256=sha
        )
    if kind == "readwise":
        return merge_foreign(
            lib, read_readwise(raw, path.name, limits), path, author=author, sha256=sha
        )
    obj = load_json(raw, path.name, limits)
    if _is_margin(obj):
        return merge(lib, path, author=author, limits=limits, check=check)
    if looks_like_hypothesis(obj):
        read = read_hypothesis(obj, path.name, limits)
    else:
        read = read_w3c(obj, path.name, limits)
    return merge_foreign(lib, read, path, author=author, sha256=sha)


__all__ = ["merge_any", "sniff"]
