"""Find a quote typed by a person in a document's text: exactly, or after folding whitespace,
typographic quotes and dashes, so a quote copied from a PDF or a web page still lands."""

from __future__ import annotations

import re

from store.errors import InvalidInput
from store.fold import fold as store_fold

_FOLD = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u00a0": " ",
        "\u202f": " ",
        "\u2007": " ",
    }
)


def fold(text: str) -> str:
    """Text compared loosely (titles): store.fold's fold (case, accents, ligatures, quotes,
    dashes), and spacing folded, so "natasha" names "Natásha Rostóva"."""
    return " ".join(store_fold(text).split())


def _folded_pattern(quote: str) -> re.Pattern[str]:
    words = quote.translate(_FOLD).split()
    return re.compile(r"\s+".join(re.escape(w) for w in words))


def find_quote(text: str, quote: str) -> tuple[int, int]:
    """The (start, end) of the one place `quote` stands in `text`.

    Raises InvalidInput when the quote is missing or stands in several places.
    """
    if not quote.strip():
        raise InvalidInput("the quote is empty")
    places = [m.start() for m in re.finditer(re.escape(quote), text)]
    if len(places) == 1:
        return places[0], places[0] + len(quote)
    if not places:
        # translate() maps one character to one, so offsets in the folded text are real offsets.
        folded = text.translate(_FOLD)
        matches = list(_folded_pattern(quote).finditer(folded))
        if len(matches) == 1:
            return matches[0].start(), matches[0].end()
        if not matches:
            raise InvalidInput(f"the quote {quote[:60]!r} is not in the document")
        places = [m.start() for m in matches]
    raise InvalidInput(
        f"the quote {quote[:60]!r} stands in {len(places)} places; quote more words to choose one"
    )
