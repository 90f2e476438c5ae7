"""Bytes of a file that claims to be text, turned into `str` without guessing silently.

The order, and why (measured in research/reliability.md, F8):

1. A byte-order mark names the codec (UTF-32 before UTF-16: the UTF-32LE mark starts with
   the UTF-16LE one). The file is text by declaration.
2. Known binary signatures at offset 0 (PDF, PNG, ELF, gzip, zip, JPEG, ...) are refused by
   name ("binary file (PDF data) named .txt"), before any decoding.
3. NUL bytes in the first 8 KB: UTF-16 without a mark when the NULs sit (almost) only at odd
   offsets (LE) or only at even ones (BE) and the whole file decodes strictly; otherwise the
   file is binary. This runs before UTF-8 because ASCII written as UTF-16 is valid UTF-8
   (full of NULs). A first 8 KB with more than 5% of C0 control bytes other than whitespace
   and ESC is binary as well (random or compressed data without a signature).
4. Strict UTF-8.
5. Mostly UTF-8: when the valid multi-byte sequences outnumber the invalid bytes, the file is
   UTF-8 with a few damaged bytes; they become U+FFFD, counted in a warning. (Legacy 8-bit
   text almost never forms valid multi-byte UTF-8 by accident.)
6. cp1252, the tested fallback: it decoded all four legacy Western samples correctly where
   charset detection alone mis-decoded three of them. Its five undefined bytes become U+FFFD.
   The warning names the guess.
7. charset-normalizer is consulted only as a hint when the cp1252 result looks wrong: bytes
   undefined in cp1252, or high bytes making up more than 40% of the letters of a sample of
   at least 32 letters (Western text has a few accented letters among ASCII ones; Cyrillic,
   Greek, Hebrew, Arabic, Thai and CJK legacy encodings are almost all high bytes). Its guess
   is taken only when it decodes strictly and the letters it yields are mostly (>= 80%) of
   one non-Latin script, the case cp1252 cannot be right about; otherwise cp1252 stays.

Never `surrogateescape`: lone surrogates cannot be stored in SQLite or whoosh.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass, field

HEAD = 8192

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32LE"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32BE"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16LE"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16BE"),
)

# Signatures of formats that are never text, checked at offset 0.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "PDF data"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\x7fELF", "ELF executable"),
    (b"\x1f\x8b", "gzip data"),
    (b"PK\x03\x04", "zip archive"),
    (b"PK\x05\x06", "zip archive"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"\xfd7zXZ\x00", "xz data"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"\x28\xb5\x2f\xfd", "zstd data"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "MS Office document"),
    (b"\xca\xfe\xba\xbe", "Mach-O or Java class file"),
    (b"\xcf\xfa\xed\xfe", "Mach-O executable"),
    (b"\xce\xfa\xed\xfe", "Mach-O executable"),
    (b"OggS", "Ogg media"),
    (b"fLaC", "FLAC audio"),
    (b"{\\rtf", "RTF document"),
)
_BZIP2 = re.compile(rb"BZh[1-9]1AY&SY")
# C0 bytes that plain text does not contain: all but TAB, LF, VT, FF, CR and ESC (ANSI logs).
_BINARY_C0 = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_ASCII_LETTERS = re.compile(rb"[A-Za-z]")
_HIGH = re.compile(rb"[\x80-\xff]")
_ASCII = bytes(range(0x80))
_NON_LATIN_SCRIPTS = (
    "CYRILLIC",
    "GREEK",
    "HEBREW",
    "ARABIC",
    "THAI",
    "CJK",
    "HIRAGANA",
    "KATAKANA",
    "HANGUL",
    "ARMENIAN",
    "GEORGIAN",
    "DEVANAGARI",
    "BENGALI",
    "TAMIL",
    "ETHIOPIC",
)
_CJK_FAMILY = {"CJK", "HIRAGANA", "KATAKANA", "HANGUL", "HALFWIDTH", "FULLWIDTH", "IDEOGRAPHIC"}


class Refused(Exception):
    """A file margin will not import; the message is the one-line reason shown to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotText(Refused):
    """The bytes are not text."""


@dataclass
class Decoded:
    """Text decoded from bytes, the codec used, and what the user should be told."""

    text: str
    encoding: str
    warnings: list[str] = field(default_factory=list)


def sniff_binary(head: bytes) -> str | None:
    """The kind of binary data `head` starts with ("PNG image"), or None for no known signature."""
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    if head[:4] == b"RIFF" and len(head) >= 12:
        return f"RIFF {head[8:12].decode('ascii', 'replace').strip()} media"
    if _BZIP2.match(head):
        return "bzip2 data"
    return None


def _utf16_without_bom(head: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when the NUL pattern of `head` looks like UTF-16 text."""
    pairs = len(head) // 2
    if pairs < 2:
        return None
    even_nuls = head[0 : pairs * 2 : 2].count(0)
    odd_nuls = head[1 : pairs * 2 : 2].count(0)
    if odd_nuls > 0.3 * pairs and even_nuls <= 0.01 * pairs:
        return "utf-16-le"
    if even_nuls > 0.3 * pairs and odd_nuls <= 0.01 * pairs:
        return "utf-16-be"
    return None


def _utf8(data: bytes) -> Decoded | None:
    """The bytes as UTF-8, or as mostly UTF-8 with the few bad sequences replaced; else None."""
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    mostly = _mostly_utf8(data)
    if mostly is None:
        return None
    text, damaged = mostly
    return Decoded(text, "utf-8", [f"{damaged} invalid UTF-8 sequence(s) replaced with U+FFFD"])


def _mostly_utf8(data: bytes) -> tuple[str, int] | None:
    """The text and the number of damaged places when `data` is UTF-8 with a few bad bytes."""
    text = data.decode("utf-8", errors="replace")
    damaged = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    ascii_bytes = len(data) - len(data.translate(None, _ASCII))
    multibyte = len(text) - ascii_bytes - damaged  # characters decoded from valid sequences
    if multibyte > 0 and damaged <= multibyte:
        return text, damaged
    return None


def _cp1252_looks_wrong(data: bytes) -> bool:
    """True when cp1252 is unlikely to be right: undefined bytes, or mostly high-byte letters."""
    sample = data[: 64 * 1024]
    if _CP1252_UNDEFINED.search(sample):
        return True
    high = len(_HIGH.findall(sample))
    letters = high + len(_ASCII_LETTERS.findall(sample))
    return letters >= 32 and high > 0.4 * letters


def _script(char: str) -> str:
    name = unicodedata.name(char, "")
    script = name.split(" ", 1)[0] if name else ""
    # Japanese mixes kana and ideographs, Korean may mix in hanja: one family for the test.
    return "CJK" if script in _CJK_FAMILY else script


def _non_latin_guess(data: bytes) -> tuple[str, str] | None:
    """charset-normalizer's guess, when it yields text mostly in one non-Latin script."""
    from charset_normalizer import from_bytes

    best = from_bytes(data[: 256 * 1024]).best()
    if best is None or not best.encoding:
        return None
    encoding = best.encoding
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None
    letters = [c for c in text[:100_000] if c.isalpha() and ord(c) > 0x7F]
    if len(letters) < 16:
        return None
    scripts: dict[str, int] = {}
    for c in letters:
        script = _script(c)
        scripts[script] = scripts.get(script, 0) + 1
    top, count = max(scripts.items(), key=lambda kv: kv[1])
    if top in _NON_LATIN_SCRIPTS and count >= 0.8 * len(letters):
        return text, encoding
    return None


def known_encoding(name: str) -> str:
    """Python's name for a text encoding the user named ("cp1250", "latin2"); raises Refused."""
    try:
        info = codecs.lookup(name)
    except LookupError:
        raise Refused(f"unknown encoding {name!r}") from None
    if not getattr(info, "_is_text_encoding", True):
        raise Refused(f"{name!r} is not a text encoding")
    return info.name


def decode_as(data: bytes, encoding: str) -> Decoded:
    """The bytes in the encoding the user named; a BOM of that encoding is dropped.

    Binary data is refused as without a name: naming an encoding does not make a PNG text.
    """
    codec = known_encoding(encoding)
    what = sniff_binary(data[:HEAD])
    if what is not None:
        raise NotText(f"binary file ({what})")
    for bom, bom_codec, _ in _BOMS:
        if data.startswith(bom) and codecs.lookup(bom_codec).name == codec:
            data = data[len(bom) :]
            break
    label = f"{codec} (given)"
    try:
        return Decoded(data.decode(codec), label)
    except UnicodeDecodeError as error:
        damaged = data.decode(codec, errors="replace")
        return Decoded(
            damaged,
            label,
            [
                f"invalid {codec} at byte {error.start}: damaged characters replaced with "
                "U+FFFD (is it the right encoding?)"
            ],
        )


def decode_text(data: bytes) -> Decoded:
    """Decode the bytes of a plain-text file (see the module docstring); raises NotText."""
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            body = data[len(bom) :]
            try:
                return Decoded(body.decode(codec), f"{label} (BOM)")
            except UnicodeDecodeError as error:
                text = body.decode(codec, errors="replace")
                return Decoded(
                    text,
                    f"{label} (BOM)",
                    [
                        f"invalid {label} at byte {error.start + len(bom)}: damaged characters "
                        "replaced with U+FFFD"
                    ],
                )
    head = data[:HEAD]
    what = sniff_binary(head)
    if what is not None:
        raise NotText(f"binary file ({what})")
    if b"\x00" in head:
        utf16 = _utf16_without_bom(head)
        if utf16 is not None:
            label = "UTF-16LE" if utf16 == "utf-16-le" else "UTF-16BE"
            try:
                return Decoded(
                    data.decode(utf16), label, [f"decoded as {label} (no byte-order mark)"]
                )
            except UnicodeDecodeError:
                pass
        raise NotText("binary file, not text (NUL bytes in the first 8 KB)")
    controls = len(_BINARY_C0.findall(head))
    if controls > 0.05 * len(head):
        share = 100 * controls // len(head)
        raise NotText(f"binary file, not text ({share}% control bytes in the first 8 KB)")
    utf8 = _utf8(data)
    if utf8 is not None:
        return utf8
    if _cp1252_looks_wrong(data):
        guess = _non_latin_guess(data)
        if guess is not None:
            text, encoding = guess
            return Decoded(
                text, encoding, [f"decoded as {encoding} (not UTF-8; guessed by charset detection)"]
            )
    text = data.decode("cp1252", errors="replace")
    warnings = ["decoded as cp1252 (not UTF-8)"]
    undefined = sum(data.count(byte) for byte in (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d"))
    if undefined:
        warnings.append(f"{undefined} byte(s) undefined in cp1252 replaced with U+FFFD")
    return Decoded(text, "cp1252", warnings)


_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE
)
# WHATWG encoding labels whose Python codec differs from what browsers use.
_WHATWG = {
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "iso-8859-9": "cp1254",
    "utf-16": "utf-8",
    "utf-16le": "utf-8",
    "utf-16be": "utf-8",
    "x-user-defined": "cp1252",
}


def decode_html(data: bytes) -> Decoded:
    """Decode an HTML file as a browser would: BOM, `<meta charset>`, UTF-8, then cp1252."""
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            return Decoded(data[len(bom) :].decode(codec, errors="replace"), f"{label} (BOM)")
    match = _META_CHARSET.search(data[:4096])
    if match:
        label = match.group(1).decode("ascii", "replace").lower()
        codec = _WHATWG.get(label, label)
        try:
            codecs.lookup(codec)
        except LookupError:
            codec = ""
        if codec:
            try:
                return Decoded(data.decode(codec), codec)
            except UnicodeDecodeError:
                return Decoded(
                    data.decode(codec, errors="replace"),
                    codec,
                    [f"bytes invalid in the declared charset {label} replaced with U+FFFD"],
                )
    utf8 = _utf8(data)
    if utf8 is not None:
        return utf8
    return Decoded(
        data.decode("cp1252", errors="replace"), "cp1252", ["decoded as cp1252 (not UTF-8)"]
    )


def length_reason(chars: int, limit: int) -> str:
    """The refusal line for extracted text over the character limit."""
    return f"{chars:,} characters of text, over the limit of {limit:,} (Limits.max_chars)"
