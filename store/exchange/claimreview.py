"""Verdicts as schema.org ClaimReview JSON-LD (the fact-checking vocabulary search engines and
fact-check tools read).

One ClaimReview per claim, with its latest verdict: a claim re-judged is one review that
changed, not several that disagree (a file of 66 verdicts on 48 claims published 18 claims
twice with conflicting ratings). "Needs evidence" is no verdict a reader can use: not
published. Each review has a `url` (fact-check markup requires one): the publisher's base URL,
set once (`publisher.json` beside the profile), followed by the claim's id.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from store.errors import InvalidInput
from store.library import Library
from store.sanitize import clip

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
# schema.org's advice for claimReviewed: a short summary, "less than 75 characters".
CLAIM_SHORT = 75
PUBLISHER_FILE = "publisher.json"
HOW_TO_SET = (
    "no url on the reviews (fact-check markup needs one): set your publisher's base URL once "
    "with margin export --format claimreview --publisher-url https://example.org/fact-checks/"
)


def load_publisher(config_dir: Path) -> str | None:
    """The publisher base URL set once for ClaimReview urls, or None."""
    try:
        data = json.loads((config_dir / PUBLISHER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    url = data.get("url") if isinstance(data, dict) else None
    return url if isinstance(url, str) and _WEB.fullmatch(url) else None


def save_publisher(config_dir: Path, url: str) -> str:
    """Remember the publisher base URL (an http(s) address) for every later export."""
    url = url.strip()
    if not _WEB.fullmatch(url):
        raise InvalidInput(f"publisher URL {url!r} is not an http:// or https:// address")
    config_dir.mkdir(parents=True, exist_ok=True)
    tmp = config_dir / (PUBLISHER_FILE + ".tmp")
    tmp.write_text(json.dumps({"url": url}, indent=2) + "\n", encoding="utf-8")
    tmp.replace(config_dir / PUBLISHER_FILE)
    return url


def review_url(base: str, claim_id: str) -> str:
    """Where the review of a claim is published: the base URL, then the claim's id."""
    return f"{base.rstrip('/')}/{claim_id}"


def claimreview_json(
    lib: Library,
    *,
    document_ids: list[str] | None = None,
    tag: str | None = None,
    claims_only: bool = True,  # noqa: ARG001 - verdicts are on claims: always true here
    publisher_url: str | None = None,
) -> dict:
    """The ClaimReview graph: the latest verdict of each chosen claim (all when no filter)."""
    chosen = select(
        lib, document_ids=document_ids, tag=tag, claims_only=True, include_deleted=False
    )
    claims = {a.id: a for a in chosen.annotations if a.role == "claim"}
    # The library's order (created, then insertion): two verdicts in one millisecond keep the
    # order they were given in, as the claims board reads them.
    latest = {r.claim_id: r for r in chosen.reviews}
    graph = []
    for claim_id, review in sorted(latest.items()):
        claim = claims.get(claim_id)
        if claim is None or review.verdict == "needs-evidence":
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
            "claimReviewed": clip(claim.exact, CLAIM_SHORT),
            "datePublished": normal_time(review.created),
            "itemReviewed": {
                "@id": urn(claim.id),
                "@type": "Claim",
                "appearance": appearance,
                "text": " ".join(claim.exact.split()),
                "author": {"@type": "Person", "name": doc.author} if doc.author else None,
            },
            "reviewRating": rating,
        }
        if item["itemReviewed"]["author"] is None:
            del item["itemReviewed"]["author"]
        if review.comment:
            item["reviewBody"] = review.comment
        if publisher_url:
            item["url"] = review_url(publisher_url, claim.id)
        graph.append(item)
    return {"@context": "https://schema.org", "@graph": graph}


def export_claimreview(
    lib: Library, out: Path, *, publisher_url: str | None = None, **filters: Any
) -> ExportSummary:
    """Write the latest verdict of each claim (of those `filters` choose, as `select` reads
    them) as schema.org ClaimReview JSON-LD; without `publisher_url` the summary says how to
    set one."""
    obj = claimreview_json(lib, publisher_url=publisher_url, **filters)
    data = (json.dumps(obj, sort_keys=True, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    summary = ExportSummary(path=out, reviews=len(obj["@graph"]), files=1, bytes=len(data))
    if not publisher_url:
        summary.notes.append(HOW_TO_SET)
    return summary
