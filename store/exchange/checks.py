"""Small checks of values from an untrusted record: ids, IRIs, strings and integers within
caps, times with a time zone, lone surrogates. Each raises RecordError with the reason."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from store.records import format_time
from store.sanitize import has_surrogates

from .untrusted import DEFAULT_LIMITS, Limits, RecordError, show
from .vocab import ANNO_CONTEXT

_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]*")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SHA = re.compile(r"[0-9a-f]{64}")
_VERSION = re.compile(r"sha256:[0-9a-f]{64}")

# -- small checks ----------------------------------------------------------------------------------


def _surrogates(record: Any) -> None:
    stack = [record]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if has_surrogates(key):
                    raise RecordError("a key holds a lone surrogate (\\ud800-\\udfff)")
                stack.append(item)
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str) and has_surrogates(value):
            raise RecordError("a string holds a lone surrogate (\\ud800-\\udfff)")


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _types(obj: dict) -> list[str]:
    types = _as_list(obj.get("type"))
    if any(type(t) is not str for t in types):
        raise RecordError(
            f"'type' must be a string or a list of strings, got {show(obj.get('type'))}"
        )
    return types


def _iri(value: Any, what: str) -> str:
    if type(value) is not str or not _IRI.fullmatch(value) or len(value) > 2000:
        raise RecordError(f"{what} {show(value)} is not an IRI")
    return value


def _one_iri(value: Any, what: str) -> str:
    if isinstance(value, list):
        raise RecordError(f"{what} must be a single IRI, not a list")
    return _iri(value, what)


def uuid_of(value: Any, what: str, limits: Limits = DEFAULT_LIMITS) -> str:
    """The UUID inside `urn:uuid:<uuid>`, lower case, or RecordError."""
    if type(value) is not str or len(value) > limits.id:
        raise RecordError(f"{what} {show(value)} is not a urn:uuid id")
    rest = value[len("urn:uuid:") :] if value.lower().startswith("urn:uuid:") else None
    if rest is None or not _UUID.fullmatch(rest):
        raise RecordError(f"{what} {show(value)} is not a urn:uuid id")
    return rest.lower()


def _string(obj: dict, key: str, cap: int, *, required: bool = False, default: str = "") -> str:
    value = obj.get(key)
    if value is None:
        if required:
            raise RecordError(f"{key!r} is missing")
        return default
    if type(value) is not str:
        raise RecordError(f"{key!r} must be a string, got {type(value).__name__}")
    if len(value) > cap:
        raise RecordError(f"{key!r} is {len(value):,} characters, over the limit of {cap:,}")
    return value


def _int(obj: dict, key: str, cap: int) -> int:
    value = obj.get(key)
    if type(value) is not int:  # True is an int to isinstance, not to margin
        raise RecordError(
            f"{key!r} must be an integer, got {type(value).__name__} {show(value, 20)}"
        )
    if not 0 <= value <= cap:
        raise RecordError(f"{key!r} = {value} is out of range (0..{cap:,})")
    return value


def parse_time(value: Any) -> datetime:
    """An ISO 8601 time with a timezone, as an aware datetime (RecordError otherwise)."""
    if type(value) is not str or len(value) > 40 or "T" not in value:
        raise RecordError(f"{show(value, 40)} is not an ISO 8601 date-time")
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        raise RecordError(f"{show(value, 40)} is not an ISO 8601 date-time") from None
    if stamp.tzinfo is None:
        raise RecordError(f"{show(value, 40)} has no time zone")
    try:  # year 1 or 9999 with an offset leaves datetime's range (an OverflowError, issue 15)
        return stamp.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        raise RecordError(f"{show(value, 40)} is out of range") from None


def normal_time(value: str) -> str:
    """A stored time in margin's one form; anything unparsable is returned unchanged."""
    try:
        return format_time(parse_time(value))
    except RecordError:
        return value


def _times(obj: dict, limits: Limits, now: datetime, *, modified: bool = True) -> tuple[str, str]:
    if "created" not in obj:
        raise RecordError("'created' is missing")
    try:
        created = parse_time(obj["created"])
    except RecordError as error:
        raise RecordError(f"'created' {error}") from None
    changed = created
    if modified and obj.get("modified") is not None:
        try:
            changed = parse_time(obj["modified"])
        except RecordError as error:
            raise RecordError(f"'modified' {error}") from None
    if created > now + limits.future:
        raise RecordError(f"'created' {format_time(created)} is in the future")
    if changed > now + limits.future:
        raise RecordError(
            f"'modified' {format_time(changed)} is in the future (it would win every merge)"
        )
    if changed < created:
        raise RecordError("'modified' is earlier than 'created'")
    return format_time(created), format_time(changed)


def _context_ok(context: Any) -> bool:
    return context == ANNO_CONTEXT or (isinstance(context, list) and ANNO_CONTEXT in context)
