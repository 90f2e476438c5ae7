"""The guard for untrusted zip archives (a .qdpx, and any other archive margin reads): member
count, sizes and compression ratio are checked from the central directory before anything is
read; members are read by exact name, never extracted; names that are absolute, climb out
(..), hold a NUL or are symbolic links are refused with a line (reliability.md L-F5)."""

from __future__ import annotations

import lzma
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from .validate import BundleError, show


@dataclass(frozen=True)
class ArchiveLimits:
    """Caps for untrusted archives (reliability.md L-F5)."""

    max_members: int = 10_000
    max_member: int = 50_000_000
    max_total: int = 200_000_000
    max_ratio: int = 100
    ratio_floor: int = 1_000_000


def unsafe_name(name: str) -> str | None:
    """Why a member name must not be read (NUL, absolute, climbing out), or None."""
    if "\x00" in name:
        return "holds a NUL"
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        return "is an absolute path"
    parts = re.split(r"[\\/]", name)
    if ".." in parts:
        return "climbs out of the archive (..)"
    return None


def check_archive(
    zf: zipfile.ZipFile, name: str, limits: ArchiveLimits
) -> tuple[dict[str, zipfile.ZipInfo], list[str]]:
    """The members that are safe to read by name, and one line for each refused member.

    Raises BundleError (one line naming the archive) when the archive as a whole is refused:
    too many members, too large unpacked, or a member compressed like a zip bomb. Reads
    nothing but the central directory.
    """
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise BundleError(
            f"{name}: {len(infos):,} members, over the limit of {limits.max_members:,}"
        )
    total = 0
    safe: dict[str, zipfile.ZipInfo] = {}
    refused: list[str] = []
    for info in infos:
        total += info.file_size
        if total > limits.max_total:
            raise BundleError(
                f"{name}: unpacks to more than {limits.max_total / 1e6:.0f} MB; refused (zip bomb?)"
            )
        if info.file_size > limits.max_member:
            raise BundleError(
                f"{name}: member {show(info.filename)} unpacks to "
                f"{info.file_size / 1e6:.0f} MB, over "
                f"{limits.max_member / 1e6:.0f} MB; refused"
            )
        if info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * max(
            1, info.compress_size
        ):
            raise BundleError(
                f"{name}: member {show(info.filename)} is compressed "
                f"{info.file_size // max(1, info.compress_size)}:1; "
                "refused (zip bomb?)"
            )
        problem = unsafe_name(info.filename)
        if problem is None and (info.external_attr >> 16) & 0o170000 == 0o120000:
            problem = "is a symbolic link"
        if problem is None and info.flag_bits & 0x1:
            problem = "is encrypted (margin reads no passwords)"
        if problem is None and info.compress_type not in _METHODS:
            problem = f"uses compression method {info.compress_type}, which margin does not read"
        if problem:
            refused.append(f"archive member {show(info.filename)} {problem}; not read")
            continue
        if not info.is_dir():
            safe[info.filename] = info
    return safe, refused


# The methods Python's zipfile reads; anything else raised NotImplementedError (issue 15).
_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
# What a damaged member raises from zipfile: a bad CRC (BadZipFile), broken deflate
# (zlib.error), a truncated stream (EOFError), an encrypted one (RuntimeError), bad LZMA or
# bzip2 data (LZMAError, OSError, ValueError), an unknown method (NotImplementedError).
_DAMAGE = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    RuntimeError,
    NotImplementedError,
    lzma.LZMAError,
    OSError,
    ValueError,
)


def open_archive(path: Path, name: str) -> zipfile.ZipFile:
    """The archive at `path`, or BundleError with one line when its directory is damaged."""
    try:
        return zipfile.ZipFile(path)
    except _DAMAGE as error:
        raise BundleError(f"{name}: not a readable zip archive ({_said(error)})") from None


def _said(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error)[:80]}"


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ArchiveLimits) -> bytes:
    """A member's bytes, read by its exact name (never extracted), within its cap; BundleError
    with one line when the member is damaged."""
    try:
        with zf.open(info) as handle:  # by exact member name: never extracted to disk
            data = handle.read(limits.max_member + 1)
    except _DAMAGE as error:
        raise BundleError(f"member {show(info.filename)} cannot be read ({_said(error)})") from None
    if len(data) > limits.max_member:
        raise BundleError(f"member {show(info.filename)} unpacks past its declared size; refused")
    return data
