"""A PDF's page texts as a reader sees them: ligatures as letters, words hyphenated at a line
end joined, running headers, footers and page numbers out of the flowing text.

These rules run at import, page by page, before the page map is made: the stored text is
what the reader shows, what offsets count and what citations quote, so the page map stays
exact. Measured on the 10 PDFs of the corpus (docs/formats.md): 30 line-end hyphens in
multicolumn.pdf, all joined; 0 ligatures left.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

# The Alphabetic Presentation Forms a PDF font maps ligature glyphs to (pdfTeX's "ﬁ", "ﬃ").
_LIGATURES = str.maketrans(
    {
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\ufb05": "st",
        "\ufb06": "st",
    }
)
_LIGATURE = re.compile("[\ufb00-\ufb06]")

# A word broken at a line end: letters, a hyphen, the line break, letters starting lower case.
_BROKEN = re.compile(r"([^\W\d_]+)-[ \t]*\n[ \t]*([^\W\d_]+)[ \t]*(\n|$)?")
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
# An edge line that is only a page number: "7", "- 7 -", "Page 7", "7 of 12", "vii".
_PAGE_NUMBER = re.compile(
    r"^\W*(?:page\s+)?(\d{1,5}|[ivxlcdm]{1,8})(?:\s*(?:of|/)\s*\d{1,5})?\W*$", re.IGNORECASE
)
_DIGITS = re.compile(r"\d+")
# A header or footer repeats on at least this many pages and this share of them.
RUNNING_MIN_PAGES = 3
RUNNING_MIN_SHARE = 0.5


@dataclass
class Cleaning:
    """What the cleaning changed, kept with the document and summed in docs/formats.md."""

    ligatures: int = 0
    hyphens_joined: int = 0
    hyphens_kept: int = 0
    running_lines: int = 0
    page_numbers: int = 0
    joins: list[str] = field(default_factory=list)
    """Each join as "frag-|ment -> fragment", for measuring (not stored)."""

    def to_json(self) -> dict[str, int]:
        return {
            "ligatures": self.ligatures,
            "hyphens_joined": self.hyphens_joined,
            "hyphens_kept": self.hyphens_kept,
            "running_lines_removed": self.running_lines,
            "page_numbers_removed": self.page_numbers,
        }


def letters(text: str, cleaning: Cleaning) -> str:
    """Ligature characters as the letters they stand for."""
    found = len(_LIGATURE.findall(text))
    if not found:
        return text
    cleaning.ligatures += found
    return text.translate(_LIGATURES)


def _roman(value: str) -> int | None:
    numerals = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}
    total = 0
    previous = 0
    for char in reversed(value.lower()):
        number = numerals.get(char)
        if number is None:
            return None
        total = total - number if number < previous else total + number
        previous = max(previous, number)
    return total


def _edges(lines: list[str]) -> list[int]:
    """Indexes of the first and last non-blank lines of a page (one index when they coincide)."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    if not filled:
        return []
    return sorted({filled[0], filled[-1]})


def remove_running_lines(pages: list[str], cleaning: Cleaning) -> list[str]:
    """Pages without their running headers and footers and without their page numbers.

    A header or footer is a first or last line that, with its digits set aside, comes back on
    at least RUNNING_MIN_PAGES pages and half of them. A page number is a first or last line
    holding only a number that rises with the page (page index plus one offset) on at least
    half the pages, so a lone "3" ending a paragraph of a list is left alone.
    """
    split = [page.split("\n") for page in pages]
    shapes: Counter[str] = Counter()
    numbers: dict[tuple[int, int], int] = {}
    for p, lines in enumerate(split):
        seen: set[str] = set()
        for i in _edges(lines):
            line = lines[i].strip()
            match = _PAGE_NUMBER.match(line)
            if match:
                value = match.group(1)
                number = int(value) if value.isdigit() else _roman(value)
                if number is not None:
                    numbers[(p, i)] = number - p
                continue
            shape = _DIGITS.sub("#", " ".join(line.split()))
            if shape not in seen:
                seen.add(shape)
                shapes[shape] += 1
    threshold = max(RUNNING_MIN_PAGES, RUNNING_MIN_SHARE * len(pages))
    running = {shape for shape, count in shapes.items() if count >= threshold}
    offsets = Counter(numbers.values())
    offset, count = offsets.most_common(1)[0] if offsets else (None, 0)
    numbered = count >= max(1, RUNNING_MIN_SHARE * len(pages)) and (count >= 2 or len(pages) == 1)
    out: list[str] = []
    for p, lines in enumerate(split):
        drop: set[int] = set()
        for i in _edges(lines):
            if numbered and numbers.get((p, i)) == offset:
                drop.add(i)
                cleaning.page_numbers += 1
            elif (p, i) not in numbers:
                shape = _DIGITS.sub("#", " ".join(lines[i].split()))
                if shape in running:
                    drop.add(i)
                    cleaning.running_lines += 1
        if drop:
            kept = [line for i, line in enumerate(lines) if i not in drop]
            out.append("\n".join(kept).strip("\n"))
        else:
            out.append(pages[p])
    return out


def vocabulary(pages: list[str]) -> Counter[str]:
    """The document's own words, lower case, hyphenated compounds as one word; the fragments
    around a line-end hyphen are left out, so a broken word cannot vouch for itself."""
    words: Counter[str] = Counter()
    for page in pages:
        unbroken = _BROKEN.sub(" ", page)
        words.update(word.lower() for word in _WORD.findall(unbroken))
    return words


def join_hyphens(pages: list[str], cleaning: Cleaning) -> list[str]:
    """Pages with each word broken at a line end written whole on the first line.

    The document decides. "con-|sectetuer" becomes "consectetuer" when the document writes
    "consectetuer" elsewhere; "well-|known" stays "well-known" (the line joined, the hyphen
    kept) when it writes "well-known" and never "wellknown". A break with no such evidence
    follows the document's habit: joined where its attested breaks are mostly broken words
    (a typesetter that hyphenates, as pdfTeX does: 30 of 30 in multicolumn.pdf), kept where
    they are mostly compounds (a word processor breaks only at a hyphen it was given).
    """
    words = vocabulary(pages)
    breaks = [m for page in pages for m in _BROKEN.finditer(page) if m.group(2)[0].islower()]
    attested_words = sum(
        1 for m in breaks if words[(m.group(1) + m.group(2)).lower()] > words[_compound(m)]
    )
    attested_compounds = sum(
        1 for m in breaks if words[_compound(m)] > words[(m.group(1) + m.group(2)).lower()]
    )
    join_by_default = attested_words >= attested_compounds

    def mend(match: re.Match[str]) -> str:
        head, tail, line_end = match.group(1), match.group(2), match.group(3)
        if not tail[0].islower():  # "Anglo-|Saxon", "pre-|1914": not a broken word
            return match.group(0)
        whole, compound = (head + tail).lower(), _compound(match)
        if words[whole] != words[compound]:
            keep = words[compound] > words[whole]
            why = "document uses it"
        else:
            keep = not join_by_default
            why = "no evidence: the document's habit"
        if keep:
            cleaning.hyphens_kept += 1
            joined = f"{head}-{tail}"
        else:
            cleaning.hyphens_joined += 1
            joined = f"{head}{tail}"
        cleaning.joins.append(f"{head}-|{tail} -> {joined} ({why})")
        # The word moves up whole; the rest of its line stays a line (or the line goes, when
        # the fragment was all of it).
        return joined + (line_end if line_end is not None else "\n")

    return [_BROKEN.sub(mend, page) for page in pages]


def _compound(match: re.Match[str]) -> str:
    return f"{match.group(1)}-{match.group(2)}".lower()


def clean_pages(pages: list[str]) -> tuple[list[str], Cleaning]:
    """The pages as a reader sees them, and what changed."""
    cleaning = Cleaning()
    pages = [letters(page, cleaning) for page in pages]
    pages = remove_running_lines(pages, cleaning)
    pages = join_hyphens(pages, cleaning)
    return pages, cleaning
