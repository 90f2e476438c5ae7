"""Hypothesis annotations: the JSON export of an account (`{"annotations": [...]}`), a search
of its API (`{"rows": [...], "total": N}`), one annotation of its API, or a list of them.

The shape is Hypothesis's API annotation (h.readthedocs.io, "api-reference"): `id`, `uri`,
`text` (Markdown), `tags`, `user` (`acct:NAME@AUTHORITY`) with `user_info.display_name`,
`created`, `updated`, `target: [{source, selector: [...]}]` (RangeSelector,
TextPositionSelector, TextQuoteSelector), `document: {title: [...], link: [...]}` and
`references` (the ids of the thread a reply answers, the root first).

Each annotation with a quote becomes a highlight: its text the note, its tags, its user the
creator, created and updated kept. Its document is the one whose source URL (or canonical URL
in its metadata) is the annotation's `uri`, target source or a link of its document. A reply
becomes part of the note of the annotation its thread starts at ("reply by NAME, DATE: ..."),
in the order they were written. A page note (no quote) and a reply whose thread is not in the
file are refused, one line each.
"""

from __future__ import annotations

from typing import Any

from .checks import _as_list
from .foreign import DocumentRef, ForeignNote, ForeignRead, tag_of, text_field, time_of
from .untrusted import DEFAULT_LIMITS, BundleError, Limits, RecordError, show

FORMAT = "Hypothesis"


def looks_like_hypothesis(obj: Any) -> bool:
    """True for the shapes Hypothesis writes (an export, a search, one or a list of annotations)."""
    if isinstance(obj, dict):
        if isinstance(obj.get("rows"), list) or isinstance(obj.get("annotations"), list):
            return True
        return "uri" in obj and ("user" in obj or "text" in obj) and "@context" not in obj
    if isinstance(obj, list) and obj and isinstance(obj[0], dict):
        return "uri" in obj[0] and "@context" not in obj[0]
    return False


def _items(obj: Any, name: str) -> list:
    if isinstance(obj, list):
        return obj
    if isinstance(obj, dict):
        for key in ("annotations", "rows"):
            if isinstance(obj.get(key), list):
                return obj[key]
        return [obj]
    raise BundleError(f"{name}: not a Hypothesis export")


def _user(a: dict) -> tuple[str | None, str | None]:
    """(the user's key, the name shown)."""
    user = a.get("user")
    user = user if type(user) is str and user.strip() else None
    info = a.get("user_info")
    shown = info.get("display_name") if isinstance(info, dict) else None
    if type(shown) is not str or not shown.strip():
        shown = None
        if user:
            shown = user.removeprefix("acct:").split("@", 1)[0]
    return user, shown


def _document(a: dict) -> DocumentRef:
    urls: list[str] = []
    if type(a.get("uri")) is str:
        urls.append(a["uri"])
    for target in _as_list(a.get("target")):
        if isinstance(target, dict):
            urls += [s for s in _as_list(target.get("source")) if type(s) is str]
    title = None
    document = a.get("document")
    if isinstance(document, dict):
        # A page's canonical link first: it is the address margin most likely stored.
        links = [link for link in _as_list(document.get("link")) if isinstance(link, dict)]
        links.sort(key=lambda link: link.get("rel") != "canonical")
        urls += [link["href"] for link in links if type(link.get("href")) is str]
        titles = [t for t in _as_list(document.get("title")) if type(t) is str and t.strip()]
        title = titles[0] if titles else None
    return DocumentRef(urls=tuple(dict.fromkeys(urls)), title=title)


def _quote(a: dict) -> tuple[dict | None, dict | None]:
    quote = position = None
    for target in _as_list(a.get("target")):
        if not isinstance(target, dict):
            continue
        for selector in _as_list(target.get("selector")):
            if not isinstance(selector, dict):
                continue
            if selector.get("type") == "TextQuoteSelector" and quote is None:
                quote = selector
            elif selector.get("type") == "TextPositionSelector" and position is None:
                position = selector
    return quote, position


def _note(a: dict, limits: Limits) -> ForeignNote:
    ident = a.get("id")
    if type(ident) is not str or not ident:
        raise RecordError("has no id")
    quote, position = _quote(a)
    if quote is None:
        raise RecordError("is a page note (no quote): margin keeps notes on passages of a text")
    exact = text_field(quote.get("exact"), "the quote", limits.exact)
    if not exact.strip():
        raise RecordError("its quote is empty")
    start = end = None
    if position is not None:
        s, e = position.get("start"), position.get("end")
        if type(s) is int and type(e) is int and 0 <= s <= e:
            start, end = s, e
    tags = [t for t in (tag_of(raw, limits) for raw in _as_list(a.get("tags"))) if t]
    user, shown = _user(a)
    return ForeignNote(
        key=ident,
        original_id=ident,
        document=_document(a),
        exact=exact,
        prefix=text_field(quote.get("prefix"), "the prefix", limits.context),
        suffix=text_field(quote.get("suffix"), "the suffix", limits.context),
        start=start,
        end=end,
        note=text_field(a.get("text"), "the text", limits.note),
        tags=tuple(tags),
        creator=shown or user,
        created=time_of(a.get("created"), "'created'"),
        modified=time_of(a.get("updated"), "'updated'"),
    )


def read_hypothesis(obj: Any, name: str, limits: Limits = DEFAULT_LIMITS) -> ForeignRead:
    """Every Hypothesis annotation of the file margin can keep; one line for each it cannot."""
    read = ForeignRead(format=FORMAT, name=name)
    items = _items(obj, name)
    if len(items) > limits.max_items:
        raise BundleError(f"{name}: {len(items):,} records, over the limit of {limits.max_items:,}")
    roots: dict[str, ForeignNote] = {}
    replies: list[tuple[str, dict, str]] = []
    for index, raw in enumerate(items):
        ident = raw.get("id") if isinstance(raw, dict) else None
        where = (
            f"annotation {show(ident, 40)}" if type(ident) is str else f"annotation #{index + 1}"
        )
        try:
            if not isinstance(raw, dict):
                raise RecordError(f"is a {type(raw).__name__}, not an annotation")
            references = [r for r in _as_list(raw.get("references")) if type(r) is str]
            if references:
                replies.append((references[0], raw, where))
                continue
            note = _note(raw, limits)
            roots[note.key] = note
            read.notes.append(note)
        except RecordError as error:
            read.refused.append(f"{where}: {error}")
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as error:
            read.refused.append(f"{where}: malformed ({type(error).__name__})")
    # Replies join their thread's note, oldest first, so the thread reads as it was written.
    replies.sort(key=lambda r: (str(r[1].get("created", "")), str(r[1].get("id", ""))))
    for root_id, raw, where in replies:
        root = roots.get(root_id)
        if root is None:
            read.refused.append(
                f"{where}: a reply to annotation {show(root_id, 40)}, which is not in this file"
            )
            continue
        try:
            text = text_field(raw.get("text"), "the text", limits.note)
            when = time_of(raw.get("created"), "'created'")
            updated = time_of(raw.get("updated"), "'updated'") or when
        except RecordError as error:
            read.refused.append(f"{where}: {error}")
            continue
        _, shown = _user(raw)
        head = f"reply by {shown or 'someone'}" + (f", {when[:10]}" if when else "")
        root.note = (root.note + "\n\n" if root.note else "") + f"{head}: {text}"
        root.tags = tuple(
            dict.fromkeys(
                root.tags
                + tuple(t for t in (tag_of(x, limits) for x in _as_list(raw.get("tags"))) if t)
            )
        )
        if updated and (root.modified is None or updated > root.modified):
            root.modified = updated
    return read
