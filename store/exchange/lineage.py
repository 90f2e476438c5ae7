"""Lineage: the version of a record (a digest of what its author controls) and the version an
exported record derives from, so a later merge can tell an old copy of ours from an edit made
on both sides since the last exchange (see store.exchange.rule)."""

from __future__ import annotations

import hashlib
import json

from store.library import Library
from store.records import Annotation, Link

from .validate import InAnnotation, InLink, normal_time


def _digest(payload: list) -> str:
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(data.encode("utf-8")).hexdigest()


def annotation_version(a: Annotation | InAnnotation) -> str:
    """The version of an annotation: what its author controls, not where it sits in a text."""
    return _digest(
        [
            a.author_id,
            a.role,
            a.note,
            sorted(a.tags),
            bool(a.deleted),
            normal_time(a.created),
            normal_time(a.modified),
        ]
    )


def link_version(link: Link | InLink) -> str:
    """The version of a link."""
    return _digest(
        [
            link.author_id,
            link.claim_id,
            link.evidence_id,
            link.relation,
            link.note,
            bool(link.deleted),
            normal_time(link.created),
            normal_time(link.modified),
        ]
    )


def export_parent(lib: Library, entity: str, record_id: str, version: str) -> str | None:
    """The version an exported record derives from (and remember that it was exported)."""
    found = lib.exchange_base(entity, record_id)
    if found is None:
        parent = None
    elif found[0] == version:
        parent = found[1]
    else:
        parent = found[0]  # edited here since it was last exchanged
    lib.remember_version(entity, record_id, version, parent, base=True)
    return parent
