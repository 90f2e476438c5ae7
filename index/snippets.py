"""Snippets: a one-line window of a passage around its first match, with the matches marked.

The text comes from SQLite (the index stores none), the query's terms were expanded once per
query, and matches are found by running the index's own tokenizer and stemmer over the slice,
so a snippet marks exactly the words the index matched: `runs` for `run`, a phrase as one span.
whoosh's `Hit.highlights()` is not used: it doubled p95 and took 11-13 s on a fuzzy query.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from index.schema import TOKEN_PATTERN, _stem
from store.fold import fold
from store.sanitize import terminal_safe

SNIPPET_CHARS = 200
# Context kept before the first match, so it does not open the line.
LEAD_CHARS = 60
ELLIPSIS = "\u2026"

_TOKEN = re.compile(TOKEN_PATTERN)
_SPACE = re.compile(r"\s")


@dataclass(frozen=True)
class Snippet:
    """One line of text and the [start, end) ranges in it of the matched words."""

    text: str
    marks: list[tuple[int, int]]


def locate(
    text: str, words: Iterable[str] | set[str], phrases: Sequence[Sequence[str]] = ()
) -> list[tuple[int, int]]:
    """Character ranges in `text` of the query's terms (stems) and phrases, in text order."""
    words = words if isinstance(words, set) else set(words)
    if not text or (not words and not phrases):
        return []
    # Porter stemming never changes a word's first letter, so only tokens that begin like a
    # query term need stemming.
    starts = {w[:1] for w in words} | {w[:1] for phrase in phrases for w in phrase}
    tokens = []
    for match in _TOKEN.finditer(text):
        token = match.group()
        token = token.lower() if token.isascii() else fold(token)
        stemmed = _stem(token) if token[:1] in starts else ""
        tokens.append((match.start(), match.end(), stemmed))
    spans: list[tuple[int, int]] = []
    in_phrase: set[int] = set()
    for phrase in phrases:
        size = len(phrase)
        if not size:
            continue
        for i in range(len(tokens) - size + 1):
            if tokens[i][2] == phrase[0] and all(
                tokens[i + k][2] == phrase[k] for k in range(1, size)
            ):
                spans.append((tokens[i][0], tokens[i + size - 1][1]))
                in_phrase.update(range(i, i + size))
    for i, (start, end, term) in enumerate(tokens):
        if term in words and i not in in_phrase:
            spans.append((start, end))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def make_snippet(
    text: str, marks: Sequence[tuple[int, int]], width: int = SNIPPET_CHARS
) -> Snippet:
    """A window of about `width` characters around the first mark, on one line, terminal-safe."""
    anchor, anchor_end = marks[0] if marks else (0, 0)
    start = max(0, anchor - LEAD_CHARS)
    end = min(len(text), max(start + width, anchor_end))
    if end - start < width:
        start = max(0, end - width)
    if start > 0:  # begin on a word boundary, never after the first match
        space = _SPACE.search(text, start, anchor)
        if space is not None:
            start = space.end()
    if end < len(text):  # end on a word boundary, never before the first match
        cut = max(anchor_end, end - 40)
        last = None
        for space in _SPACE.finditer(text, cut, end):
            last = space
        if last is not None:
            end = last.start()
    out: list[str] = []
    position: dict[int, int] = {}
    if start > 0:
        out.append(ELLIPSIS)
    previous_space = True  # drops leading whitespace
    for index in range(start, end):
        char = text[index]
        position[index] = len(out)
        if char.isspace():
            if previous_space:
                continue
            out.append(" ")
            previous_space = True
        else:
            out.append(char)
            previous_space = False
    position[end] = len(out)
    while out and out[-1] == " ":
        out.pop()
    if end < len(text):
        out.append(ELLIPSIS)
    line = terminal_safe("".join(out))
    shown = [
        (position[s], min(position[e], len(line)))
        for s, e in marks
        if s >= start and e <= end and position[e] > position[s]
    ]
    return Snippet(line, shown)
