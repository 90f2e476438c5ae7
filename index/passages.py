"""Cut a document's text into passages: the units the index ranks and the snippets come from.

A passage is a paragraph (blank-line separated). Short neighbours are merged until a passage
reaches MIN_CHARS, and a paragraph longer than MAX_CHARS is cut at a sentence end (else a
space) so no passage exceeds it. The cut depends only on the text, so the same text always
gives the same (ordinal, start, end) triples, and the index never has to store the text.

Sizes, measured on the 75-book corpus (57 MB; bench/ingest_search.py, whoosh catch-up in a
child process, 2 noisy cores; each figure one run):

    MIN_CHARS   passages   index MB/s   passages/s   index MB   search p50 / p95 (57 queries)
    0 (plain)   183,054    0.78 *       3,308 *      -          -
    300          89,269    0.96         1,495        117        11-13 / 51-56 ms
    600          64,696    1.13         1,276        114        11-15 / 55-64 ms
    900          54,263    1.04           981        112        11-12 / 53-61 ms
    (* 10 books in one process)

Plain paragraphs (median 167 characters) pay whoosh's per-entry cost many times over; from
300 up, throughput and latency differ by less than the machine's run-to-run noise, while
bigger passages mean fewer postings and fewer hits to score for common words. 600 keeps a
hit to one or a few paragraphs (dialogue lines are merged) and a 200-character snippet
window inside a slice that is never over 1,500 characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A passage grows by whole paragraphs until it has at least this many characters...
MIN_CHARS = 600
# ...and never beyond this many; longer paragraphs are cut near TARGET_CHARS.
MAX_CHARS = 1500
TARGET_CHARS = 1000

_BLANK_LINE = re.compile(r"\n[^\S\n]*\n\s*")
# A sentence end: . ! ? (or …) with any closing quotes or brackets, then whitespace.
_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]*\s+")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Passage:
    """A half-open span text[start:end] of a document; ordinal counts from 0."""

    ordinal: int
    start: int
    end: int


def _paragraphs(text: str) -> list[tuple[int, int]]:
    """The (start, end) spans of the non-blank paragraphs, trimmed of outer whitespace."""
    spans = []
    position = 0
    for separator in _BLANK_LINE.finditer(text):
        spans.append((position, separator.start()))
        position = separator.end()
    spans.append((position, len(text)))
    trimmed = []
    for start, end in spans:
        chunk = text[start:end]
        stripped = chunk.strip()
        if not stripped:
            continue
        lead = len(chunk) - len(chunk.lstrip())
        trimmed.append((start + lead, start + lead + len(stripped)))
    return trimmed


def _cut_long(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cut text[start:end] into pieces of at most MAX_CHARS, at sentence ends where possible."""
    pieces = []
    while end - start > MAX_CHARS:
        low, high = start + MAX_CHARS // 3, start + MAX_CHARS
        cut = None
        # The sentence end closest to TARGET_CHARS, so pieces come out evenly sized.
        best = None
        for match in _SENTENCE_END.finditer(text, low, high):
            distance = abs(match.end() - (start + TARGET_CHARS))
            if best is None or distance < best:
                best, cut = distance, match
        if cut is not None:
            piece_end, next_start = cut.start() + len(cut.group().rstrip()), cut.end()
        else:
            spaces = [m for m in _SPACE.finditer(text, start + TARGET_CHARS // 2, high)]
            if spaces:
                space = min(spaces, key=lambda m: abs(m.start() - (start + TARGET_CHARS)))
                piece_end, next_start = space.start(), space.end()
            else:  # one enormous token: cut it anyway
                piece_end = next_start = start + TARGET_CHARS
        pieces.append((start, piece_end))
        start = next_start
    if end > start:
        pieces.append((start, end))
    return pieces


def split_passages(text: str) -> list[Passage]:
    """The passages of a document's text, in order, as (ordinal, start, end) spans."""
    spans: list[tuple[int, int]] = []
    for start, end in _paragraphs(text):
        if end - start > MAX_CHARS:
            spans.extend(_cut_long(text, start, end))
        else:
            spans.append((start, end))
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged:
            last_start, last_end = merged[-1]
            if last_end - last_start < MIN_CHARS and end - last_start <= MAX_CHARS:
                merged[-1] = (last_start, end)
                continue
        merged.append((start, end))
    return [Passage(n, start, end) for n, (start, end) in enumerate(merged)]
