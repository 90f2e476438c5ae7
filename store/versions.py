"""New versions of a document: the text changes, the document keeps its id and every note.

A re-import replaces the text, remembers the old text's hash, and re-anchors every
annotation in the same transaction, so a crash leaves the old version with its notes or the
new one with its notes re-anchored, never a mix.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from store.anchoring import Quote, anchor_all
from store.errors import InvalidInput
from store.library import CONTEXT, Library, NewDocument, text_sha256
from store.records import Annotation, now


@dataclass
class UpdateReport:
    """What a new version did to a document's notes."""

    document_id: str
    title: str
    changed: bool
    ok: int = 0
    moved: list[Annotation] = field(default_factory=list)
    orphaned: list[Annotation] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)
    """Why each orphan was not placed, by annotation id ("ambiguous: 2 places", ...)."""

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
                why = self.reasons.get(annotation.id, "") if label == "orphaned" else ""
                found.append(
                    f"  {label:8} {annotation.role:9} {annotation.id[:8]} \u201c{quote}\u201d"
                    + (f" ({why})" if why else "")
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
        other = lib.document_by_sha(sha)
        if other is not None:
            raise InvalidInput(f"this text is already in the library as {other.title!r}")
        lib.db.execute(
            "INSERT OR REPLACE INTO document_versions (document_id, sha256, text_length, replaced_at) "
            "VALUES (?, ?, ?, ?)",
            [document_id, current.sha256, len(current.text), now()],
        )
        metadata = dict(new.metadata or {})
        lib.db.table("documents").update(
            document_id,
            {
                "text": new.text,
                "sha256": sha,
                "length": len(new.text),
                "page_starts": json.dumps(new.page_starts) if new.page_starts else None,
                "metadata": json.dumps(metadata, ensure_ascii=False, sort_keys=True),
                "imported_at": now(),
            },
        )
        lib._log("document", document_id, "update")
        annotations = lib.annotations(document_id, include_deleted=True)
        anchors = anchor_all(
            new.text,
            [Quote(a.exact, a.prefix, a.suffix, a.start, a.end) for a in annotations],
        )
        for annotation, found in zip(annotations, anchors, strict=True):
            values: dict = {"anchor_state": found.state, "anchor_step": found.step}
            if found.state != "orphaned":
                # Found again: the quote and context are taken afresh from the new text, so
                # the next version is anchored against this one.
                values.update(
                    start=found.start,
                    end=found.end,
                    exact=new.text[found.start : found.end],
                    prefix=new.text[max(0, found.start - CONTEXT) : found.start],
                    suffix=new.text[found.end : found.end + CONTEXT],
                )
            lib.db.table("annotations").update(annotation.id, values)
            lib._log("annotation", annotation.id, "update")
            if annotation.deleted:
                continue
            if found.state == "ok":
                report.ok += 1
            elif found.state == "moved":
                report.moved.append(annotation)
            else:
                report.orphaned.append(annotation)
                report.reasons[annotation.id] = found.reason
    return report
