"""Turn a source file into cleaned text plus metadata, or refuse it with a one-line reason.

`.txt` and `.md` are decoded here; HTML, PDF, EPUB and DOCX are parsed in a sandboxed worker
(`store.ingest.sandbox`) with a time limit and a memory cap. Every result goes through
`ingest_clean`, so annotation offsets index exactly the text the store keeps.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from store.errors import IngestError
from store.ingest.decode import NotText, Refused, decode_as, length_reason, sniff_binary
from store.ingest.sandbox import Sandbox, shared_sandbox
from store.ingest.text import decode, markdown_metadata, plain_text_metadata
from store.sanitize import clean_field, ingest_clean, plural

__all__ = [
    "SUPPORTED",
    "Extracted",
    "Limits",
    "Sandbox",
    "extract",
    "iter_source_files",
]

SUPPORTED = {
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".epub": "epub",
    ".docx": "docx",
}
# Formats we name so the refusal can say what to do instead.
CONVERT = {
    ".doc": "a Word 97-2003 .doc file: save it as .docx (File > Save As) and import that",
}


@dataclass
class Limits:
    """What one source file may cost; each breach is refused with a line naming the limit."""

    max_file_bytes: int = 200 * 2**20
    """Size on disk of any source file (checked before reading)."""
    max_html_bytes: int = 20 * 2**20
    """Size on disk of an HTML file (a 10 MB table took 24 s and 964 MB in trafilatura)."""
    max_chars: int = 50_000_000
    """Characters of extracted, cleaned text per document."""
    timeout: float = 60.0
    """Wall-clock seconds for the sandboxed parser (HTML, PDF) per file."""
    memory_bytes: int = 2 * 2**30
    """Address space (`RLIMIT_AS`) of the sandboxed parser."""


@dataclass
class Extracted:
    """A source file's text and metadata, ready for `Library.add_document`."""

    text: str
    """Cleaned by `ingest_clean`: NFC, `\\n` line ends, control characters removed."""
    title: str
    """From the file's metadata (HTML title, PDF /Title, Markdown `# ` heading), else its stem."""
    author: str | None
    """From the file's metadata, when it names one."""
    published: str | None
    """ISO date (YYYY-MM-DD) from the file's metadata, when known."""
    source: str
    """Absolute file path, or the page's canonical URL when its metadata gives one."""
    format: str
    """txt, md, html, pdf, epub or docx."""
    page_starts: list[int] | None
    """PDF and EPUB: the offset in `text` where each page (chapter) starts (i+1 at index i)."""
    metadata: dict = field(default_factory=dict)
    """Details kept with the document: file, encoding, controls_removed, warnings, ..."""
    warnings: list[str] = field(default_factory=list)
    """Lines for the import report ("decoded as cp1252 (not UTF-8)")."""


def _size(n: int) -> str:
    if n >= 2**20:
        return f"{n / 2**20:.1f}".removesuffix(".0") + " MB"
    if n >= 1024:
        return f"{n / 1024:.1f}".removesuffix(".0") + " KB"
    return f"{n} bytes"


def _what_it_holds(head: bytes) -> str:
    """A short description of non-PDF bytes, for a file named .pdf."""
    binary = sniff_binary(head)
    if binary:
        return binary
    start = head.lstrip()[:512].lower()
    if start.startswith((b"<!doctype html", b"<html")) or b"<body" in start or b"<head" in start:
        return "HTML"
    if b"\x00" in head:
        return "unknown binary data"
    return "text"


def _read(path: Path, limit: int) -> bytes:
    """The file's bytes, refusing a file that grew past `limit` since it was measured."""
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as error:
        raise IngestError(path, f"cannot read the file ({error.strerror or error})") from None
    if len(data) > limit:
        raise IngestError(
            path, f"file is over the {_size(limit)} size limit (Limits.max_file_bytes)"
        )
    return data


def _check_file(path: Path, limits: Limits) -> tuple[str, int]:
    """Refuse what cannot be a source file before reading it; returns its kind and size."""
    kind = SUPPORTED.get(path.suffix.lower())
    try:
        info = path.stat()
    except FileNotFoundError:
        raise IngestError(path, "no such file") from None
    except OSError as error:
        raise IngestError(path, f"cannot read the file ({error.strerror or error})") from None
    if stat.S_ISDIR(info.st_mode):
        raise IngestError(path, "a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise IngestError(path, "not a regular file")
    if kind is None and path.suffix.lower() in CONVERT:
        raise IngestError(path, CONVERT[path.suffix.lower()])
    if kind is None:
        supported = ", ".join(SUPPORTED)
        suffix = path.suffix or "(no extension)"
        raise IngestError(path, f"unsupported file type {suffix} (supported: {supported})")
    size = info.st_size
    if size > limits.max_file_bytes:
        raise IngestError(
            path,
            f"file is {_size(size)}, over the {_size(limits.max_file_bytes)} size limit "
            "(Limits.max_file_bytes)",
        )
    if kind == "html" and size > limits.max_html_bytes:
        raise IngestError(
            path,
            f"HTML file is {_size(size)}, over the {_size(limits.max_html_bytes)} limit for HTML "
            "(Limits.max_html_bytes)",
        )
    if size == 0:
        raise IngestError(path, "empty file")
    return kind, size


def extract(
    path: Path,
    limits: Limits | None = None,
    sandbox: Sandbox | None = None,
    *,
    encoding: str | None = None,
) -> Extracted:
    """Read one source file into cleaned text and metadata; raises IngestError with the reason.

    Args:
        sandbox: the worker for HTML and PDF; by default one shared by the whole process.
        encoding: the text encoding of a .txt or .md file, instead of detecting it (HTML
            declares its own, PDF has none).
    """
    limits = limits or Limits()
    path = Path(path)
    kind, size = _check_file(path, limits)
    absolute = path.resolve()
    warnings: list[str] = []
    metadata: dict = {"file": str(absolute), "size_bytes": size}
    title = author = published = canonical = None
    page_starts: list[int] | None = None

    if kind in ("txt", "md"):
        data = _read(path, limits.max_file_bytes)
        try:
            decoded = decode_as(data, encoding) if encoding else decode(data)
        except NotText as refused:
            raise IngestError(path, f"{refused.reason} named {path.suffix}") from None
        except Refused as refused:  # an encoding that does not exist
            raise IngestError(path, refused.reason) from None
        del data
        text, removed = ingest_clean(decoded.text)
        metadata["encoding"] = decoded.encoding
        warnings.extend(decoded.warnings)
        if kind == "md":
            title, author, published = markdown_metadata(text)
        else:
            title, author = plain_text_metadata(text)
    else:
        head = _read_head(path)
        if kind in ("epub", "docx") and not head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
            raise IngestError(path, f"not a {path.suffix} file (it holds {_what_it_holds(head)})")
        if kind == "pdf" and b"%PDF-" not in head[:1024]:
            raise IngestError(path, f"not a PDF file (it holds {_what_it_holds(head)})")
        if kind == "html":
            binary = sniff_binary(head)
            if binary:
                raise IngestError(path, f"binary file ({binary}) named {path.suffix}")
        try:
            payload = (sandbox or shared_sandbox()).run(kind, absolute, limits)
        except IngestError as error:
            raise IngestError(path, error.reason) from None
        text = payload.pop("text")
        removed = payload.pop("controls_removed")
        warnings.extend(payload.pop("warnings"))
        warnings.extend(payload.pop("library_warnings"))
        title = payload.pop("title")
        author = payload.pop("author")
        published = payload.pop("published")
        page_starts = payload.pop("page_starts", None)
        canonical = payload.get("canonical_url")
        metadata.update({k: v for k, v in payload.items() if v is not None})

    if len(text) > limits.max_chars:
        raise IngestError(path, length_reason(len(text), limits.max_chars))
    if not text.strip():
        raise IngestError(path, "no text (only whitespace or control characters)")
    if removed:
        warnings.append(f"{plural(removed, 'control character')} removed")
    metadata["controls_removed"] = removed
    metadata["warnings"] = list(warnings)
    return Extracted(
        text=text,
        title=title or clean_field(path.stem, 500) or path.name,
        author=author,
        published=published,
        source=canonical or str(absolute),
        format=kind,
        page_starts=page_starts,
        metadata=metadata,
        warnings=warnings,
    )


def _read_head(path: Path, n: int = 8192) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(n)
    except OSError as error:
        raise IngestError(path, f"cannot read the file ({error.strerror or error})") from None


def _hidden(name: str) -> bool:
    return name.startswith(".")


def _walk(folder: Path) -> Iterator[Path]:
    """Supported, non-hidden files under `folder`, sorted by name at each level."""
    try:
        with os.scandir(folder) as entries:
            listed = sorted(entries, key=lambda entry: entry.name)
    except OSError:
        yield folder  # the importer says why it cannot be read (skipped silently, issue 15)
        return
    for entry in listed:
        if _hidden(entry.name):
            continue
        try:
            if entry.is_symlink() and entry.is_dir():
                yield Path(entry.path)  # not followed (it may loop); the importer says so
            elif entry.is_dir(follow_symlinks=False):
                yield from _walk(Path(entry.path))
            elif entry.is_file() and Path(entry.name).suffix.lower() in SUPPORTED:
                yield Path(entry.path)
        except OSError:
            continue


def iter_source_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Files as given, and folders' supported files recursively, each real file once.

    Files named explicitly are yielded whatever their type, so `extract` can say why one is
    refused; a path that does not exist is yielded too, for the same reason.
    """
    seen: set[Path] = set()
    for given in paths:
        given = Path(given)
        found = _walk(given) if given.is_dir() else iter((given,))
        for path in found:
            try:
                key = path.resolve()
            except (OSError, RuntimeError):
                key = path.absolute()
            if key in seen:
                continue
            seen.add(key)
            yield path
