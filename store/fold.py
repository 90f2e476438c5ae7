"""The one fold of text for matching: what a person typing a word means by "the same word".

Case (`casefold`: "Straße" = "strasse"), accents and other diacritics ("Natásha" = "Natasha",
"crème" = "creme"), ligatures and compatibility forms (NFKD: "ﬁlled" = "filled", full-width
"ＡＢＣ" = "abc", "²" = "2") and typographic quotes and dashes (’ = ', “ = ", — = -) fold
away. The index folds every token with `fold` (index.schema), its query parser folds the
query the same way, and the reader's find matches in a `FoldedText`, whose offsets map back
onto the original characters so that what is highlighted is what the document holds.

The fold is per character: a character's folded form never depends on its neighbours, so
folding a token, a text or a needle always agrees (a combining accent folds to nothing on
its own, as it does after its letter).
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from array import array

# Quotes and dashes people never type: the keyboard's ' " and - stand for all of them.
_PUNCTUATION = str.maketrans(
    {c: "'" for c in "\u2018\u2019\u201a\u201b\u2032\u02bc"}
    | {c: '"' for c in "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"}
    | {c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"}
)
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_CACHE: dict[str, str] = {}


def fold_char(char: str) -> str:
    """The folded form of one character: zero, one or more characters."""
    folded = _CACHE.get(char)
    if folded is None:
        decomposed = unicodedata.normalize("NFKD", char.translate(_PUNCTUATION))
        kept = "".join(c for c in decomposed if not unicodedata.combining(c))
        # NFKD again: casefold can produce what NFKD would decompose ("ϐ" -> "β" is fine,
        # but "ﬅ" casefolds to "st" only after decomposition).
        folded = unicodedata.normalize("NFKD", kept.casefold())
        folded = "".join(c for c in folded if not unicodedata.combining(c))
        _CACHE[char] = folded
    return folded


def fold(text: str) -> str:
    """The folded form of a string (a token, a query word, a needle)."""
    if text.isascii():
        return text.lower()
    return _NON_ASCII.sub(lambda m: "".join(fold_char(c) for c in m.group()), text.lower())


class FoldedText:
    """A text folded, with maps between folded and original offsets.

    `origin[i]` is the original offset of folded character i (an array: 4 bytes a character;
    ASCII runs are filled by C-level `extend`, only other characters pass through Python).
    A match in the folded text maps back to whole original characters: a ligature matched in
    part is highlighted whole, and accents written as combining marks stay with their letter.
    """

    __slots__ = ("text", "origin", "_original")

    def __init__(self, text: str) -> None:
        self._original = text
        self.origin = array("i")
        if text.isascii():
            self.text = text.lower()
            self.origin.extend(range(len(text)))
            return
        pieces: list[str] = []
        origin = self.origin
        last = 0
        for match in _NON_ASCII.finditer(text):
            start = match.start()
            pieces.append(text[last:start].lower())
            origin.extend(range(last, start))
            for i, char in enumerate(match.group(), start):
                folded = fold_char(char)
                pieces.append(folded)
                origin.extend([i] * len(folded))
            last = match.end()
        pieces.append(text[last:].lower())
        origin.extend(range(last, len(text)))
        self.text = "".join(pieces)

    def to_original_start(self, f: int) -> int:
        """The original offset where a span starting at folded offset `f` starts."""
        if f >= len(self.origin):
            return len(self._original)
        return self.origin[f]

    def to_original_end(self, f: int) -> int:
        """The original offset where a span ending at folded offset `f` (exclusive) ends."""
        if f <= 0:
            return 0
        end = self.origin[min(f, len(self.origin)) - 1] + 1
        text = self._original
        while end < len(text) and not text[end].isascii() and fold_char(text[end]) == "":
            end += 1  # a combining accent after the last letter belongs to it
        return end

    def to_folded(self, o: int) -> int:
        """The folded offset of original offset `o` (its first folded character)."""
        return bisect.bisect_left(self.origin, o)

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original [start, end) of the folded span [start, end)."""
        return self.to_original_start(start), self.to_original_end(end)
