"""W3C Web Annotations written by any tool (Annotator, Recogito, Hypothesis's W3C form, the
Working Group's examples), read as far as margin can keep them.

What comes in: a SpecificResource target on a text (its `source` an IRI or margin's
`urn:uuid`, `margin:textSha256` where given) with a TextQuoteSelector (also as the `refinedBy`
of a Range, XPath, CSS or Fragment selector) and, where given, a TextPositionSelector; a
TextPositionSelector alone is read from the text here. Every motivation becomes a highlight:
textual bodies are its note, `tagging` bodies (and `classifying` ones with a textual value) its
tags, a body that is only an IRI a "see IRI" line of the note. Arrays of `language` or
`format` are read like single values (they do not matter to a note). One target per margin
note: an annotation with several targets becomes one note per target. An id (or a creator's
id) that is a `urn:uuid` is kept as margin's id; any other id is mapped to a stable one.

What is refused, one line each: a whole-resource target (margin keeps notes on passages), a
Choice, List, Composite or Independents target, SVG, data-position and media selectors, a
selector given only by reference, a target with no selector margin reads.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from .checks import _as_list
from .foreign import DocumentRef, ForeignNote, ForeignRead, tag_of, text_field, time_of
from .untrusted import DEFAULT_LIMITS, BundleError, Limits, RecordError, show

FORMAT = "W3C annotation"

_SET_TYPES = {"Choice", "List", "Composite", "Independents"}
_REFUSED_SELECTORS = {
    "SvgSelector": "an SVG selector (a region of an image)",
    "DataPositionSelector": "a DataPositionSelector (bytes of a file, not characters of a text)",
    "FragmentSelector": "a FragmentSelector (a media fragment or an element id, not a quote)",
    "CssSelector": "a CSS selector (an element of a web page, not a quote)",
    "XPathSelector": "an XPath selector (an element of a web page, not a quote)",
    "RangeSelector": "a RangeSelector with no quote",
}
_TAG_MOTIVATIONS = {"tagging", "classifying", "identifying"}


def _types(obj: dict) -> set[str]:
    return {t for t in _as_list(obj.get("type")) if type(t) is str}


def _first(value: Any) -> Any:
    items = _as_list(value)
    return items[0] if items else None


def _name_of(agent: Any) -> str | None:
    agent = _first(agent)
    if type(agent) is str:
        return agent
    if isinstance(agent, dict):
        for key in ("name", "nickname", "id", "email"):
            value = _first(agent.get(key))
            if type(value) is str and value.strip():
                return value.strip()
    return None


def _body_texts(
    body: Any, motivations: set[str], limits: Limits, note: list[str], tags: list[str]
) -> None:
    if type(body) is str:
        note.append(f"see {body}")
        return
    if not isinstance(body, dict):
        return
    types = _types(body)
    if types & _SET_TYPES:
        # A Choice of bodies (translations, formats): the first is the one shown.
        items = _as_list(body.get("items"))
        chosen = items[:1] if "Choice" in types else items
        for item in chosen:
            _body_texts(item, motivations, limits, note, tags)
        return
    purposes = {p for p in _as_list(body.get("purpose")) if type(p) is str} or motivations
    value = body.get("value")
    if type(value) is str:
        text = text_field(value, "a body's value", limits.note)
        if purposes & _TAG_MOTIVATIONS and not purposes & {"commenting", "describing"}:
            name = tag_of(text, limits) if len(text) <= limits.tag else None
            if name:
                tags.append(name)
                return
        if text:
            note.append(text)
        return
    ident = body.get("id", body.get("source"))
    if type(ident) is str:
        note.append(f"see {ident}")


def _selectors(target: dict, where: str) -> tuple[dict | None, dict | None]:
    """(TextQuoteSelector, TextPositionSelector) of a target, or RecordError with the reason."""
    raw = _as_list(target.get("selector"))
    if not raw:
        raise RecordError(
            "targets the whole of "
            f"{show(target.get('source'), 60)}: margin keeps notes on passages of a text"
        )
    quote = position = None
    other: list[str] = []
    pending = list(raw)
    while pending:
        selector = pending.pop(0)
        if type(selector) is str:
            other.append("a selector given only by reference")
            continue
        if not isinstance(selector, dict):
            continue
        kind = selector.get("type")
        if kind == "TextQuoteSelector" and quote is None:
            quote = selector
        elif kind == "TextPositionSelector" and position is None:
            position = selector
        elif kind in _SET_TYPES:
            other.append(f"a {kind} of selectors")
        elif type(kind) is str:
            other.append(_REFUSED_SELECTORS.get(kind, f"a {show(kind, 30)}"))
        refined = selector.get("refinedBy")
        if refined is not None:
            pending.extend(_as_list(refined))
    if quote is None and position is None:
        raise RecordError(
            f"{where} has " + ", ".join(dict.fromkeys(other)) + "; margin reads quotes"
        )
    return quote, position


def _document_ref(target: dict) -> DocumentRef:
    source = target.get("source")
    if isinstance(source, dict):
        source = source.get("id")
    ids: list[str] = []
    urls: list[str] = []
    for value in _as_list(source):
        if type(value) is not str:
            continue
        if value.startswith("urn:uuid:"):
            ids.append(value)
        else:
            urls.append(value)
    sha = target.get("margin:textSha256")
    return DocumentRef(ids=tuple(ids), sha256=sha if type(sha) is str else None, urls=tuple(urls))


def _int(selector: dict, key: str) -> int:
    value = selector.get(key)
    if type(value) is not int or value < 0:
        raise RecordError(f"TextPositionSelector {key} {show(value, 20)} is not a number")
    return value


def read_w3c_annotation(a: Any, index: int, limits: Limits = DEFAULT_LIMITS) -> list[ForeignNote]:
    """One W3C annotation as foreign notes (one per target), or RecordError with the reason."""
    if not isinstance(a, dict):
        raise RecordError(f"is a {type(a).__name__}, not an annotation object")
    original = a.get("id") if type(a.get("id")) is str else None
    # No id: the annotation's own content is what identifies it, so the same file maps the same.
    key = original or "content:" + json.dumps(a, sort_keys=True, ensure_ascii=True)
    motivations = {m for m in _as_list(a.get("motivation")) if type(m) is str}
    note: list[str] = []
    tags: list[str] = []
    if type(a.get("bodyValue")) is str:
        note.append(text_field(a["bodyValue"], "bodyValue", limits.note))
    for body in _as_list(a.get("body")):
        _body_texts(body, motivations, limits, note, tags)
    if "bookmarking" in motivations and not note:
        note.append("bookmark")
    if "questioning" in motivations:
        tags.append("question")
    text = "\n\n".join(dict.fromkeys(n for n in note if n))
    if len(text) > limits.note:
        raise RecordError(f"note is {len(text):,} characters, over the limit of {limits.note:,}")
    created = time_of(a.get("created"), "'created'")
    modified = time_of(a.get("modified"), "'modified'")
    creator = _name_of(a.get("creator"))
    record_uuid = _uuid(original)
    agent = _first(a.get("creator"))
    creator_uuid = _uuid(agent.get("id")) if isinstance(agent, dict) else None
    if creator_uuid and isinstance(agent, dict):
        named = agent.get("name", agent.get("nickname"))
        creator = _first(named) if type(_first(named)) is str else None
    targets = _as_list(a.get("target"))
    if not targets:
        raise RecordError("has no target")
    notes = []
    for number, target in enumerate(targets):
        where = "its target" if len(targets) == 1 else f"target {number + 1}"
        if type(target) is str:
            raise RecordError(
                f"{where} is the whole of {show(target, 60)}: margin keeps notes on passages "
                "of a text"
            )
        if not isinstance(target, dict):
            raise RecordError(f"{where} is not an object")
        kinds = _types(target)
        if kinds & _SET_TYPES:
            kind = sorted(kinds & _SET_TYPES)[0]
            raise RecordError(
                f"{where} is several resources ({kind}); margin reads one text per note"
            )
        if "source" not in target:
            raise RecordError(
                f"{where} is the whole of {show(target.get('id'), 60)}: margin keeps notes on "
                "passages of a text"
            )
        quote, position = _selectors(target, where)
        start = end = None
        if position is not None:
            start, end = _int(position, "start"), _int(position, "end")
            if end < start:
                raise RecordError(f"TextPositionSelector end {end} is before start {start}")
        exact = prefix = suffix = ""
        if quote is not None:
            exact = text_field(quote.get("exact"), "the quote", limits.exact)
            prefix = text_field(quote.get("prefix"), "the prefix", limits.context)
            suffix = text_field(quote.get("suffix"), "the suffix", limits.context)
            if not exact.strip():
                raise RecordError("its TextQuoteSelector quotes nothing")
        notes.append(
            ForeignNote(
                key=key if len(targets) == 1 else f"{key}#{number}",
                original_id=original,
                document=_document_ref(target),
                exact=exact,
                prefix=prefix,
                suffix=suffix,
                start=start,
                end=end,
                note=text,
                tags=tuple(tags),
                creator=creator,
                created=created,
                modified=modified,
                uuid=record_uuid if len(targets) == 1 else None,
                creator_uuid=creator_uuid,
            )
        )
    return notes


def _uuid(value: Any) -> str | None:
    """The UUID of a `urn:uuid:` id, in margin's form; None for any other id."""
    if type(value) is not str or not value.lower().startswith("urn:uuid:"):
        return None
    try:
        return str(uuid.UUID(value[9:].strip("{}")))
    except ValueError:
        return None


def annotation_items(obj: Any, name: str) -> list:
    """The annotations of a W3C file: one annotation, a collection with its first page, a page,
    or a JSON list of annotations."""
    if isinstance(obj, list):
        return obj
    if not isinstance(obj, dict):
        raise BundleError(f"{name}: not a W3C annotation or annotation collection")
    types = _types(obj)
    if "AnnotationCollection" in types or "AnnotationPage" in types:
        page = obj.get("first") if "AnnotationCollection" in types else obj
        if page is None:
            return _as_list(obj.get("items"))
        if not isinstance(page, dict):
            raise BundleError(f"{name}: the collection's pages are not in this file")
        items = page.get("items", [])
        if not isinstance(items, list):
            raise BundleError(f"{name}: 'items' is not a list")
        return items
    if "Annotation" in types or "target" in obj:
        return [obj]
    raise BundleError(f"{name}: not a W3C annotation or annotation collection")


def read_w3c(obj: Any, name: str, limits: Limits = DEFAULT_LIMITS) -> ForeignRead:
    """Every annotation of a W3C file that margin can keep, and one line for each it cannot."""
    read = ForeignRead(format=FORMAT, name=name)
    items = annotation_items(obj, name)
    if len(items) > limits.max_items:
        raise BundleError(f"{name}: {len(items):,} records, over the limit of {limits.max_items:,}")
    if isinstance(obj, dict) and "AnnotationCollection" in _types(obj):
        first = obj.get("first")
        if isinstance(first, dict) and first.get("next") is not None:
            read.notices.append("the collection continues on pages outside this file: not read")
    for index, raw in enumerate(items):
        ident = raw.get("id") if isinstance(raw, dict) else None
        where = (
            f"annotation {show(ident, 80)}" if type(ident) is str else f"annotation #{index + 1}"
        )
        try:
            read.notes += read_w3c_annotation(raw, index, limits)
        except RecordError as error:
            read.refused.append(f"{where}: {error}")
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as error:
            read.refused.append(f"{where}: malformed ({type(error).__name__})")
    return read
