"""New versions of a document: the text changes, the document keeps its id and every note.

A re-import replaces the text, remembers the old text's hash, and re-anchors every
annotation in the same transaction, so a crash leaves the old version with its notes or the
new one with its notes re-anchored, never a mix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from store.anchoring import Quote, anchor_all, quote_at
from store.library import Library, NewDocument, text_sha256
from store.records import Annotation


@dataclass
class UpdateReport:
    """What a new version did to a document's notes."""

    document_id: str
    title: str
    changed: bool
    ok: int = 0
    moved: list[Annotation] = field(default_factory=list)
    orphaned: list[Annotation] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report for a person: moved and orphaned annotations, claims first."""
        if not self.changed:
            return [f"{self.title}: same text as before, nothing changed"]
        found = [
            f"{self.title}: new version; {self.ok} notes in place, {len(self.moved)} moved, "
            f"{len(self.orphaned)} orphaned"
        ]
        for label, group in (("orphaned", self.orphaned), ("moved", self.moved)):
            for annotation in sorted(group, key=lambda a: (a.role != "claim", a.start)):
                quote = " ".join(annotation.exact.split())[:70]
                found.append(
                    f"  {label:8} {annotation.role:9} {annotation.id[:8]} \u201c{quote}\u201d"
                )
        return found


def update_document(lib: Library, document_id: str, new: NewDocument) -> UpdateReport:
    """Give a document a new text and re-anchor all its annotations (one transaction)."""
    sha = text_sha256(new.text)
    with lib.write():
        current = lib.document(document_id)
        report = UpdateReport(document_id, current.title, changed=current.sha256 != sha)
        if not report.changed:
            return report
        lib.replace_text(document_id, new)
        annotations = lib.annotations(document_id, include_deleted=True)
        anchors = anchor_all(
            new.text,
            [Quote(a.exact, a.prefix, a.suffix, a.start, a.end) for a in annotations],
        )
        for annotation, found in zip(annotations, anchors, strict=True):
            # Found again: the quote and context are taken afresh from the new text, so the
            # next version is anchored against this one. An orphan keeps what it had.
            quote = (
                Quote(
                    annotation.exact,
                    annotation.prefix,
                    annotation.suffix,
                    annotation.start,
                    annotation.end,
                )
                if found.state == "orphaned"
                else quote_at(new.text, found.start, found.end)
            )
            lib.restore_anchor(
                annotation.id,
                start=quote.start,
                end=quote.end,
                exact=quote.exact,
                prefix=quote.prefix,
                suffix=quote.suffix,
                state=found.state,
                step=found.step,
            )
            if annotation.deleted:
                continue
            if found.state == "ok":
                report.ok += 1
            elif found.state == "moved":
                report.moved.append(annotation)
            else:
                report.orphaned.append(annotation)
    return report
