"""Opening a zip-based document (EPUB, DOCX) behind the guard the .qdpx reader uses.

The checks are store.exchange.zipguard's (members, sizes, compression ratio, names that leave
the archive, symbolic links), imported rather than copied, so a fix there covers every archive
margin reads. Here a member with an unsafe name refuses the whole file: a book whose
chapter sits outside its archive is not one we can read faithfully.
"""

from __future__ import annotations

import zipfile

from store.ingest.decode import Refused

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Word 97-2003 (.doc), also old Excel, PowerPoint


def open_archive(path: str, what: str) -> tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]:
    """The archive and its safe members by name; refuses what the guard refuses."""
    from store.exchange.validate import BundleError
    from store.exchange.zipguard import ArchiveLimits, check_archive

    if _head(path).startswith(_OLE2):
        raise Refused(f"a Word 97-2003 file, not {what}: save it as .docx and import that")
    if not zipfile.is_zipfile(path):
        raise Refused(f"not a readable {what} (not a zip archive)")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise Refused(f"not a readable {what} ({str(error)[:100]})") from None
    try:
        members, refused = check_archive(archive, "", ArchiveLimits())
    except BundleError as error:
        archive.close()
        raise Refused(str(error).removeprefix(": ")) from None
    if refused:
        archive.close()
        raise Refused(refused[0].replace("; not read", "; refused"))
    return archive, members


def _head(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(8)


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A member's bytes, never more than its declared size allows (the guard's reader)."""
    from store.exchange.validate import BundleError
    from store.exchange.zipguard import ArchiveLimits
    from store.exchange.zipguard import read_member as guarded_read

    try:
        return guarded_read(archive, info, ArchiveLimits())
    except BundleError as error:
        raise Refused(str(error)) from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise Refused(f"archive member {info.filename} is damaged ({str(error)[:80]})") from None
