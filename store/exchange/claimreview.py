"""Verdicts as schema.org ClaimReview JSON-LD (the fact-checking vocabulary search engines and
fact-check tools read): one ClaimReview per verdict on a live claim, oldest first per claim."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from store.library import Library

from .bundle import ExportSummary, select, urn
from .validate import normal_time

# 1 (worst) .. 5 (best); "needs evidence" is not a rating, so it carries none.
RATINGS = {"supported": 5, "partly-supported": 3, "unsupported": 2, "contradicted": 1}
WORDS = {
    "supported": "Supported",
    "partly-supported": "Partly supported",
    "unsupported": "Unsupported",
    "contradicted": "Contradicted",
    "needs-evidence": "Needs evidence",
}
_WEB = re.compile(r"https?://\S+", re.IGNORECASE)


def claimreview_json(
    lib: Library,
    *,
    document_ids: list[str] | None = None,
    tag: str | None = None,
    claims_only: bool = True,  # noqa: ARG001 - verdicts are on claims: always true here
) -> dict:
    """The ClaimReview graph for the verdicts on the chosen claims (all when no filter)."""
    chosen = select(
        lib, document_ids=document_ids, tag=tag, claims_only=True, include_deleted=False
    )
    claims = {a.id: a for a in chosen.annotations if a.role == "claim"}
    graph = []
    for review in chosen.reviews:
        claim = claims.get(review.claim_id)
        if claim is None:
            continue
        doc = chosen.documents[claim.document_id]
        appearance: dict = {"@type": "CreativeWork", "name": doc.title}
        if doc.author:
            appearance["author"] = {"@type": "Person", "name": doc.author}
        if doc.published:
            appearance["datePublished"] = doc.published
        if doc.source and _WEB.fullmatch(doc.source):
            appearance["url"] = doc.source
        rating: dict = {"@type": "Rating", "alternateName": WORDS[review.verdict]}
        if review.verdict in RATINGS:
            rating.update(ratingValue=RATINGS[review.verdict], bestRating=5, worstRating=1)
        item: dict[str, Any] = {
            "@id": urn(review.id),
            "@type": "ClaimReview",
            "author": {
                "@type": "Person",
                "identifier": urn(review.reviewer_id),
                "name": review.reviewer_name,
            },
            "claimReviewed": " ".join(claim.exact.split()),
            "datePublished": normal_time(review.created),
            "itemReviewed": {
                "@id": urn(claim.id),
                "@type": "Claim",
                "appearance": appearance,
                "author": {"@type": "Person", "name": doc.author} if doc.author else None,
            },
            "reviewRating": rating,
        }
        if item["itemReviewed"]["author"] is None:
            del item["itemReviewed"]["author"]
        if review.comment:
            item["reviewBody"] = review.comment
        graph.append(item)
    return {"@context": "https://schema.org", "@graph": graph}


def export_claimreview(lib: Library, out: Path, **filters: Any) -> ExportSummary:
    """Write the verdicts (of the claims `filters` choose, as `select` reads them) as
    schema.org ClaimReview JSON-LD."""
    obj = claimreview_json(lib, **filters)
    data = (json.dumps(obj, sort_keys=True, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    return ExportSummary(path=out, reviews=len(obj["@graph"]), files=1, bytes=len(data))
