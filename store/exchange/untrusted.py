"""Untrusted bytes as JSON: the caps, the errors, and a loader that refuses duplicate keys,
NaN and Infinity, catches RecursionError (it is not a ValueError) and walks the depth
iteratively (reliability.md R5, L-B1..L-B3). Nothing here touches the library."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from store.errors import InvalidInput
from store.sanitize import terminal_safe


class BundleError(InvalidInput):
    """The whole file cannot be read as a bundle; str() is the one line for the user."""


class RecordError(ValueError):
    """One record of a bundle is refused; the message is the reason."""


@dataclass(frozen=True)
class Limits:
    """Caps for untrusted bundles (reliability.md L-B1..L-B3); all can be raised by the caller."""

    max_bytes: int = 200_000_000
    max_depth: int = 32
    max_items: int = 200_000
    max_text: int = 50_000_000
    # Values (array elements and object members) a bundle may hold: at most one per
    # `bytes_per_value` bytes of the file, and `max_values` in all. A value costs 56-72 bytes
    # as a Python object; `[[],[],...]` spends 3 bytes of JSON on one, so 20 MB parsed took
    # 1 GB and 199 MB a MemoryError (issue 15). Exported bundles spend 14-20 bytes a value.
    bytes_per_value: int = 6
    # A codebook and a set of sources people keep: ten times the largest we have seen.
    max_tags: int = 10_000
    max_documents: int = 10_000
    max_values: int = 5_000_000
    id: int = 100
    author: int = 200
    tag: int = 200
    note: int = 100_000
    exact: int = 20_000
    context: int = 2_000
    title: int = 2_000
    future: timedelta = timedelta(days=1)


DEFAULT_LIMITS = Limits()

# -- reading bytes ---------------------------------------------------------------------------------


def show(value: Any, limit: int = 60) -> str:
    """A value from a bundle as it may appear in a report line: quoted, cut, inert."""
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 1] + "\u2026"
    return terminal_safe(text)


class _Duplicate(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    found: dict = {}
    for key, value in pairs:
        if key in found:
            raise _Duplicate(f"duplicate key {show(key)} in one object")
        found[key] = value
    return found


def _no_constant(name: str) -> Any:
    raise ValueError(f"non-JSON number {name}")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:20]} is out of range")
    return value


# Bytes that are not `"`, `,`, `[` or `{`: dropped before the strings are cut out.
_NOT_STRUCTURAL = bytes(b for b in range(256) if b not in b'",[{')
_QUOTED = re.compile(rb'"[^"]*"')
_CHUNK = 1 << 20


def count_values(raw: bytes) -> int:
    """An upper bound of the values JSON bytes hold, counted before any object is built.

    Every value is the document itself, the first in its container or after a comma, so
    commas plus opening brackets plus one bound them. Counted in C (0.1 s for 200 MB)."""
    return raw.count(b",") + raw.count(b"[") + raw.count(b"{") + 1


def _structural_values(raw: bytes) -> int:
    """count_values without the commas and brackets inside strings, in bounded memory.

    Escaped backslashes, then escaped quotes go; then everything but `",[{`; what is left is
    cut per 1 MB chunk (one re.sub over 5 million short strings took 900 MB for its pieces)."""
    text = raw.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_STRUCTURAL)
    total, inside = 0, False
    for at in range(0, len(text), _CHUNK):
        chunk = text[at : at + _CHUNK]
        if inside:  # a string that opened in an earlier chunk
            end = chunk.find(b'"')
            if end < 0:
                continue
            chunk, inside = chunk[end + 1 :], False
        bare = _QUOTED.sub(b"", chunk)
        opened = bare.find(b'"')
        if opened >= 0:  # runs on into the next chunk
            bare, inside = bare[:opened], True
        total += len(bare)
    return total + 1


def _bound_values(raw: bytes, name: str, limits: Limits) -> None:
    allowed = min(limits.max_values, max(10_000, len(raw) // limits.bytes_per_value))
    if count_values(raw) <= allowed:
        return
    values = _structural_values(raw)
    if values > allowed:
        raise BundleError(
            f"{name}: up to {values:,} JSON values in {len(raw):,} bytes, over the limit of "
            f"{allowed:,} (one per {limits.bytes_per_value} bytes, at most "
            f"{limits.max_values:,}): not a bundle margin writes"
        )


def load_json(raw: bytes, name: str, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Parse untrusted JSON bytes, or raise BundleError with one line naming `name`."""
    if len(raw) > limits.max_bytes:
        raise BundleError(
            f"{name}: {len(raw) / 1e6:.0f} MB, over the limit of {limits.max_bytes / 1e6:.0f} MB"
        )
    _bound_values(raw, name, limits)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BundleError(f"{name}: not UTF-8 (bad byte at offset {error.start})") from None
    try:
        obj = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constant,
            parse_float=_finite,
        )
    except RecursionError:
        raise BundleError(f"{name}: nested deeper than margin reads") from None
    except json.JSONDecodeError as error:
        raise BundleError(
            f"{name}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    except ValueError as error:  # duplicates, NaN, huge integers
        raise BundleError(f"{name}: {str(error)[:120]}") from None
    stack = [(obj, 1)]
    while stack:  # iterative, so a deep value cannot exhaust the stack here
        value, depth = stack.pop()
        if depth > limits.max_depth:
            raise BundleError(f"{name}: nested deeper than {limits.max_depth} levels")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return obj
