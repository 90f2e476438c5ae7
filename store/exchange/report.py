"""A Markdown report for people: by document, each claim as a quote with its citation, its
evidence with relation and citation, notes, tags, the verdict and its history; then the
highlights. Readable as plain text in a terminal and rendered in any Markdown viewer or
Obsidian. Every string from the library is data: control and bidi characters are made
visible, Markdown syntax characters are escaped, so a quote cannot turn into a link, a
heading, an Obsidian tag or terminal escapes.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from store.citation import citation
from store.library import Library
from store.records import Annotation, Document, Link, Review
from store.sanitize import terminal_safe

from .bundle import ExportSummary, Selection, public_source, select

_SPECIAL = set("\\`*_[]<>#|~$&")
# What makes a line a block when it starts one: a list item ("1." "1)" "-" "+"), a rule
# ("---"), a setext heading underline ("==="). Any ASCII punctuation may be escaped in
# CommonMark, so a backslash before it keeps the line text wherever it lands.
_ORDERED = re.compile(r"(\d{1,9})([.)])")


def _block_safe(line: str) -> str:
    found = _ORDERED.match(line)
    if found:
        return f"{found.group(1)}\\{found.group(2)}{line[found.end() :]}"
    if line[:1] in ("-", "+", "="):
        return "\\" + line
    return line


def md_inline(text: str) -> str:
    """Text on one line, inert in Markdown and in a terminal, wherever the line starts."""
    flat = " ".join(terminal_safe(text).split())
    return _block_safe("".join("\\" + c if c in _SPECIAL else c for c in flat))


def md_lines(text: str, indent: str = "") -> str:
    """Text of several lines (a note), each line escaped, line breaks kept."""
    lines = [md_inline(line) for line in terminal_safe(text).split("\n")]
    lines = [line for line in lines if line] or [""]
    return ("  \n" + indent).join(lines)


def _day(stamp: str) -> str:
    return stamp[:10]


VERDICT_WORDS = {
    "supported": "supported",
    "partly-supported": "partly supported",
    "unsupported": "unsupported",
    "contradicted": "contradicted",
    "needs-evidence": "needs evidence",
}


def _quote(doc: Document, a: Annotation) -> str:
    return f"\u201c{md_inline(a.exact)}\u201d ({md_inline(citation(doc, a.start))})"


def _verdict_line(review: Review) -> str:
    who = md_inline(review.reviewer_name)
    line = f"**{VERDICT_WORDS[review.verdict]}**, {who}, {_day(review.created)}"
    if review.comment:
        line += f": {md_inline(review.comment)}"
    return line


def markdown_text(
    lib: Library,
    *,
    document_ids: list[str] | None = None,
    tag: str | None = None,
    claims_only: bool = False,
) -> str:
    """The report as a string."""
    return _render(
        select(
            lib, document_ids=document_ids, tag=tag, claims_only=claims_only, include_deleted=False
        )
    )


def _render(chosen: Selection) -> str:
    by_id = {a.id: a for a in chosen.annotations}
    docs = chosen.documents
    evidence: dict[str, list[Link]] = defaultdict(list)
    for link in chosen.links:
        evidence[link.claim_id].append(link)
    reviews: dict[str, list[Review]] = defaultdict(list)
    for review in chosen.reviews:
        reviews[review.claim_id].append(review)
    per_doc: dict[str, list[Annotation]] = defaultdict(list)
    for a in chosen.annotations:
        per_doc[a.document_id].append(a)
    claims = [a for a in chosen.annotations if a.role == "claim"]
    highlights = [a for a in chosen.annotations if a.role == "highlight"]
    out = [
        "# margin notes",
        "",
        f"{len(per_doc)} documents \u00b7 {len(claims)} claims \u00b7 {len(highlights)} highlights "
        f"\u00b7 {len(chosen.links)} links \u00b7 {len(chosen.reviews)} verdicts",
        "",
    ]
    order = sorted(per_doc, key=lambda d: (docs[d].title.casefold(), d))
    for doc_id in order:
        doc = docs[doc_id]
        out += [f"## {md_inline(doc.title)}", ""]
        about = [md_inline(x) for x in (doc.author, doc.published and doc.published[:10]) if x]
        source = public_source(doc.source)
        if source:
            about.append("source: " + md_inline(source))
        if about:
            out += [" \u00b7 ".join(about), ""]
        notes = per_doc[doc_id]
        doc_claims = [a for a in notes if a.role == "claim"]
        doc_highlights = [a for a in notes if a.role == "highlight"]
        if doc_claims:
            out += ["### Claims", ""]
        for number, claim in enumerate(doc_claims, 1):
            out += [f"#### Claim {number} ({md_inline(doc.position_label(claim.start))})", ""]
            out += [
                f"> {md_inline(claim.exact)}",
                ">",
                f"> \u2014 {md_inline(citation(doc, claim.start))}",
                "",
            ]
            facts = [f"- **By:** {md_inline(claim.author_name)}, {_day(claim.created)}"]
            if claim.editor_id and claim.editor_id != claim.author_id:
                facts[0] += f"; edited by {md_inline(claim.editor_name)}, {_day(claim.modified)}"
            if claim.anchor_state != "ok":
                facts.append(f"- **Anchor:** {claim.anchor_state}")
            if claim.note:
                facts.append(f"- **Note:** {md_lines(claim.note, '  ')}")
            if claim.tags:
                facts.append("- **Tags:** " + ", ".join(md_inline(t) for t in claim.tags))
            history = reviews.get(claim.id, [])
            if history:
                facts.append(f"- **Verdict:** {_verdict_line(history[-1])}")
                if len(history) > 1:
                    facts.append("- **Verdict history:**")
                    facts += [f"  - {_verdict_line(r)}" for r in history]
            else:
                facts.append("- **Verdict:** none yet")
            out += facts + [""]
            links = evidence.get(claim.id, [])
            if links:
                out += ["Evidence:", ""]
                for link in links:
                    item = by_id[link.evidence_id]
                    line = f"- *{link.relation}*: {_quote(docs[item.document_id], item)}"
                    out.append(line)
                    if item.note:
                        out.append(f"  - note: {md_lines(item.note, '    ')}")
                    if link.note:
                        out.append(
                            f"  - why ({md_inline(link.author_name)}): "
                            f"{md_lines(link.note, '    ')}"
                        )
                out.append("")
            else:
                out += ["Evidence: none yet", ""]
        if doc_highlights:
            out += ["### Highlights", ""]
            for a in doc_highlights:
                out.append(f"- {_quote(doc, a)}, {md_inline(a.author_name)}")
                if a.note:
                    out.append(f"  - note: {md_lines(a.note, '    ')}")
                if a.tags:
                    out.append("  - tags: " + ", ".join(md_inline(t) for t in a.tags))
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def export_markdown(
    lib: Library,
    out: Path,
    *,
    document_ids: list[str] | None = None,
    tag: str | None = None,
    claims_only: bool = False,
) -> ExportSummary:
    """Write the Markdown report (by document: claims, evidence, verdicts, highlights)."""
    chosen = select(
        lib, document_ids=document_ids, tag=tag, claims_only=claims_only, include_deleted=False
    )
    data = _render(chosen).encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    return ExportSummary(
        path=out,
        documents=len({a.document_id for a in chosen.annotations}),
        annotations=len(chosen.annotations),
        links=len(chosen.links),
        reviews=len(chosen.reviews),
        tags=len(chosen.tags),
        files=1,
        bytes=len(data),
    )
