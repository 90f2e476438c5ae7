"""The W3C Web Annotation MUSTs that apply to what margin reads (bodies, targets, selectors,
agents, the annotation itself), checked before margin reads a record as its own."""

from __future__ import annotations

from typing import Any

from .checks import _as_list, _context_ok, _iri, _one_iri, _types, parse_time
from .untrusted import RecordError, show
from .vocab import ANNO_CONTEXT

# -- the W3C MUSTs that apply to what margin reads -------------------------------------------------


_TEXT_DIRECTIONS = ("ltr", "rtl", "auto")
_COMPOSITES = frozenset({"Choice", "List", "Composite", "Independents"})


def _w3c_resource(value: Any, what: str) -> None:
    if isinstance(value, str):
        _iri(value, what)
        return
    if not isinstance(value, dict):
        raise RecordError(f"{what} must be an IRI or an object, got {type(value).__name__}")
    if "id" in value:
        _one_iri(value["id"], f"{what} id")
    types = _types(value)
    if len(set(types) & _COMPOSITES) > 1:
        raise RecordError(f"{what} has more than one composite type {show(types)}")
    if set(types) & _COMPOSITES or ("items" in value and not types):
        raise RecordError(f"{what} is a Choice/List/Composite set, which margin does not read")
    if "TextualBody" in types or ("value" in value and "source" not in value):
        if type(value.get("value")) is not str:
            raise RecordError(f"{what} has no single string 'value'")
    for key in ("format", "language", "processingLanguage"):
        if key in value and type(value[key]) is not str:
            raise RecordError(f"{what} {key!r} must be one string")
    if "textDirection" in value and value["textDirection"] not in _TEXT_DIRECTIONS:
        raise RecordError(
            f"{what} textDirection {show(value['textDirection'])} is not ltr/rtl/auto"
        )
    for key in ("created", "modified"):
        if key in value:
            try:
                parse_time(value[key])
            except RecordError as error:
                raise RecordError(f"{what} {key!r} {error}") from None
    for key in ("rights", "via"):
        for item in _as_list(value.get(key)):
            _iri(item, f"{what} {key}")
    if "canonical" in value:
        _one_iri(value["canonical"], f"{what} canonical")
    if "SpecificResource" in types or "selector" in value or "state" in value:
        if "source" not in value:
            raise RecordError(f"{what} is a SpecificResource without a 'source'")
    if "source" in value:
        _one_iri(value["source"], f"{what} source")
    for selector in _as_list(value.get("selector")):
        _w3c_selector(selector, f"{what} selector")


def _w3c_selector(selector: Any, what: str) -> None:
    if isinstance(selector, str):
        _iri(selector, what)
        return
    if not isinstance(selector, dict):
        raise RecordError(f"{what} must be an object")
    kind = selector.get("type")
    if kind in ("FragmentSelector", "CssSelector", "XPathSelector"):
        if type(selector.get("value")) is not str:
            raise RecordError(f"{what} {kind} needs one string 'value'")
    elif kind == "TextQuoteSelector":
        if type(selector.get("exact")) is not str:
            raise RecordError(f"{what} TextQuoteSelector needs one string 'exact'")
        for key in ("prefix", "suffix"):
            if key in selector and type(selector[key]) is not str:
                raise RecordError(f"{what} TextQuoteSelector {key!r} must be one string")
    elif kind in ("TextPositionSelector", "DataPositionSelector"):
        for key in ("start", "end"):
            if type(selector.get(key)) is not int or selector[key] < 0:
                raise RecordError(
                    f"{what} {kind} {key!r} must be a non-negative integer, "
                    f"got {show(selector.get(key), 20)}"
                )
    elif kind == "RangeSelector":
        if "startSelector" not in selector or "endSelector" not in selector:
            raise RecordError(f"{what} RangeSelector needs startSelector and endSelector")
    if "refinedBy" in selector:
        for inner in _as_list(selector["refinedBy"]):
            _w3c_selector(inner, f"{what} refinedBy")


def _w3c_agent(value: Any, what: str) -> None:
    for agent in _as_list(value):
        if isinstance(agent, str):
            _iri(agent, what)
        elif isinstance(agent, dict):
            if "id" in agent:
                _one_iri(agent["id"], f"{what} id")
            for key in ("name", "nickname"):
                for item in _as_list(agent.get(key)):
                    if type(item) is not str:
                        raise RecordError(f"{what} {key!r} must be a string")
        else:
            raise RecordError(f"{what} must be an IRI or an object, got {type(agent).__name__}")


def _w3c_annotation(a: dict, inherited_context: bool) -> None:
    if "@context" in a or not inherited_context:
        if not _context_ok(a.get("@context")):
            raise RecordError(f"'@context' must include {ANNO_CONTEXT}")
    if "id" not in a:
        raise RecordError("has no 'id'")
    _one_iri(a["id"], "id")
    if "Annotation" not in _types(a):
        raise RecordError(f"type {show(a.get('type'))} is not Annotation")
    if "target" not in a:
        raise RecordError("has no 'target'")
    targets = _as_list(a["target"])
    if not targets:
        raise RecordError("has an empty 'target'")
    for target in targets:
        _w3c_resource(target, "target")
    if "body" in a and "bodyValue" in a:
        raise RecordError("has both 'body' and 'bodyValue'")
    if "bodyValue" in a and type(a["bodyValue"]) is not str:
        raise RecordError("'bodyValue' must be one string")
    for body in _as_list(a.get("body")):
        _w3c_resource(body, "body")
    for key in ("creator", "generator"):
        if key in a:
            _w3c_agent(a[key], key)
    for key in ("created", "modified", "generated"):
        if key in a:
            if isinstance(a[key], list):
                raise RecordError(f"{key!r} must be one date-time, not a list")
            try:
                parse_time(a[key])
            except RecordError as error:
                raise RecordError(f"{key!r} {error}") from None
    for key in ("rights", "via"):
        for item in _as_list(a.get(key)):
            _iri(item, key)
    if "canonical" in a:
        _one_iri(a["canonical"], "canonical")
