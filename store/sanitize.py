"""Text from outside margin is data: clean it once at ingest, and make it inert on every display.

`ingest_clean` runs once when text enters the store; annotation offsets index its result.
`terminal_safe` runs whenever stored text goes to a terminal: one character in, one out, so
stored offsets still map onto what is drawn.
"""

from __future__ import annotations

import re
import unicodedata

_SURROGATE = re.compile(r"[\ud800-\udfff]")
# C0 except tab and newline, DEL, and C1: none of them is text, all of them can drive a terminal.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

_RENDER = {c: 0x2400 + c for c in range(0x20) if c not in (0x09, 0x0A)}  # C0 -> Control Pictures
_RENDER[0x7F] = 0x2421  # DEL -> ␡
_RENDER.update({c: 0xFFFD for c in range(0x80, 0xA0)})  # C1
# Bidi embeddings, overrides and isolates can reorder what the user sees around them.
_RENDER.update({c: 0xFFFD for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))})
_RENDER.update({c: 0xFFFD for c in range(0xD800, 0xE000)})  # lone surrogates
# Line and paragraph separators are zero cells wide and break lines in some widgets.
_RENDER[0x2028] = 0x20
_RENDER[0x2029] = 0x20


def has_surrogates(text: str) -> bool:
    """True when the text holds a lone surrogate (SQLite and whoosh cannot encode one)."""
    return _SURROGATE.search(text) is not None


def ingest_clean(text: str) -> tuple[str, int]:
    """Return the text normalised for the store and the number of control characters removed.

    Line ends become LF, controls other than tab and LF are removed, a leading BOM goes,
    lone surrogates become U+FFFD, and the result is NFC.
    """
    text = _SURROGATE.sub("\ufffd", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n").replace("\v", "\n")
    text, removed = _CONTROLS.subn("", text)
    if text.startswith("\ufeff"):
        text, removed = text[1:], removed + 1
    return unicodedata.normalize("NFC", text), removed


def clean_field(value: str, limit: int = 2000) -> str:
    """A one-line metadata value (title, author, tag name): cleaned, whitespace folded, capped."""
    value, _ = ingest_clean(value)
    return " ".join(value.split())[:limit]


def terminal_safe(text: str) -> str:
    """The text with every character that could drive a terminal replaced by a visible one, 1:1."""
    return text.translate(_RENDER)


def plural(count: int, word: str, words: str | None = None) -> str:
    """ "1 hit", "2 hits": a count with its noun in the right number."""
    return f"{count:,} {word if count == 1 else (words or word + 's')}"


def clip(text: str, limit: int) -> str:
    """Text for one line of a list: whitespace folded, and "…" where it had to be cut."""
    folded = " ".join(text.split())
    if len(folded) <= limit:
        return folded
    return folded[: max(1, limit - 1)].rstrip() + "\u2026"
