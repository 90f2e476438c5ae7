"""The index's meta entry: the change-log seq it has applied, and a fingerprint of the store
at that seq (a replaced library file is noticed and the index rebuilt)."""

from __future__ import annotations

from dataclasses import dataclass

from whoosh.searching import Searcher
from whoosh.writing import SegmentWriter

from index.schema import (
    KIND_META,
    META_UID,
    SCHEMA_VERSION,
)
from store.library import StoreReader

# -- the meta entry -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Meta:
    """What the index says about itself: the last change applied and who it belongs to."""

    seq: int
    version: int
    # "entity:id" of the change at `seq`: another library's log differs there.
    fingerprint: str | None


def _read_meta(searcher: Searcher) -> Meta | None:
    docnum = searcher.document_number(uid=META_UID)
    if docnum is None:
        return None
    key = searcher.stored_fields(docnum).get("key")
    if not isinstance(key, tuple) or len(key) != 4 or key[0] != "m":
        return None
    return Meta(seq=int(key[1]), version=int(key[2]), fingerprint=key[3])


def _fingerprint(db: StoreReader, seq: int) -> str | None:
    if seq <= 0:
        return None
    sql = "SELECT entity, id FROM changes WHERE seq = ?"
    row = db.execute(sql, [seq]).fetchone()
    return f"{row[0]}:{row[1]}" if row else ""


def _write_meta(writer: SegmentWriter, seq: int, fingerprint: str | None) -> None:
    """Add the meta entry (the caller deletes the previous one in the same writer)."""
    writer.add_document(uid=META_UID, kind=KIND_META, key=("m", seq, SCHEMA_VERSION, fingerprint))
