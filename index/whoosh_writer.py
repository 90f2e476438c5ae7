"""whoosh's SegmentWriter with three changes measured on the corpus, and the helpers that end
a writer safely.

Terms come from `index.schema.fast_terms` (the analyzer's output without its per-token
generators), postings are pooled per term instead of one tuple each sorted at commit, and
field lengths are read once per field at flush instead of once per posting. Together about
2.5-3x faster. These reach into whoosh's private API (`_added`, `_tempstorage`, the pool),
so whoosh-reloaded is pinned in pyproject.toml to the versions they were written against.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable

from whoosh.writing import PostingPool, SegmentWriter

log = logging.getLogger(__name__)

# Memory for a writer's posting pool before it spills sorted runs to disk (see index.sync).
LIMIT_MB = 1024
# The scratch folders of helper writers carry this in their names.
HELPER_TEMP = "helper-"

# -- writers ----------------------------------------------------------------------------------


class _Lengths:
    """Field lengths read once per field (whoosh's flush reads one per posting from disk)."""

    def __init__(self, reader: object) -> None:
        self._reader = reader
        self._count = reader.doc_count_all()  # type: ignore[attr-defined]
        self._cache: dict[str, list[int]] = {}

    def column(self, fieldname: str) -> list[int]:
        """Every document's length in this field, by docnum."""
        lengths = self._cache.get(fieldname)
        if lengths is None:
            read = self._reader.doc_field_length  # type: ignore[attr-defined]
            lengths = self._cache[fieldname] = [read(n, fieldname, 0) for n in range(self._count)]
        return lengths

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int:
        return self.column(fieldname)[docnum]


class _Pool(PostingPool):
    """whoosh's posting pool, grouped by term as postings arrive.

    whoosh keeps one (field, term, docnum, weight, value) tuple per posting and sorts them
    all at commit (2 million for 14 M characters); here postings are appended to their
    term's list (docnums only grow) and only the terms are sorted. When the pool outgrows
    its limit it spills a sorted run to disk as whoosh does.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._terms: dict[tuple[str, bytes], list] = {}

    def add(self, item: tuple) -> None:
        fieldname, btext, docnum, weight, value = item
        postings = self._terms.get((fieldname, btext))
        if postings is None:
            self._terms[(fieldname, btext)] = [(docnum, weight, value)]
            self.currentsize += 150 + 2 * len(btext)
        else:
            postings.append((docnum, weight, value))
        self.currentsize += 60 + len(value or b"")
        if self.currentsize > self.limit:
            self._spill()

    def by_term(self) -> Iterable[tuple[tuple[str, bytes], list]]:
        """((field, term), [(docnum, weight, value), ...]) in field and term order."""
        terms = self._terms
        for key in sorted(terms):
            yield key, terms[key]

    def _sorted(self) -> Iterable[tuple]:
        for (fieldname, btext), postings in self.by_term():
            for docnum, weight, value in postings:
                yield fieldname, btext, docnum, weight, value

    def _spill(self) -> None:
        self.current = list(self._sorted())
        self._terms = {}
        PostingPool.save(self)  # the items are in order already: sorting them is one pass

    def save(self) -> None:
        self._spill()

    def iter_postings(self) -> Iterable[tuple]:
        if not self.runs:
            return self._sorted()
        self._spill()
        return PostingPool.items(self)


class _Writer(SegmentWriter):
    """whoosh's one-process writer; the lock is released if it fails while being set up, and
    the flush reads field lengths once (commit about 25% faster, measured on the corpus)."""

    def __init__(self, ix: object, *, private_temp: bool = False, **kwargs: object) -> None:
        try:
            super().__init__(ix, **kwargs)
            if private_temp:
                # whoosh names every writer's scratch folder MAIN.tmp and deletes it when it
                # finishes: a helper writing beside the main writer needs its own.
                name = f"{self.indexname}.{HELPER_TEMP}{secrets.token_hex(4)}.tmp"
                self._tempstorage = self.storage.temp_storage(name)
            limit = kwargs.get("limitmb", 128)
            self.pool = _Pool(self._tempstorage, self.newsegment, limitmb=limit)
        except BaseException:
            lock = getattr(self, "writelock", None)
            if lock is not None and getattr(lock, "fd", None) is not None:
                lock.release()
            raise

    def commit_with(self, more: Callable[[], list] | None = None, merge: bool = True) -> None:
        """Commit; `more()` returns segments other writers made (a helper's), added to the
        same TOC, so to the same commit. It is called after this writer's own flush, so the
        helper's work and ours overlap."""
        self._check_state()
        final = self._merge_segments(None, None, merge)
        own = self._finalize_segment() if self._added else None
        if own is None:
            self._close_segment()
        if more is not None:
            final.extend(more())
        if own is not None:
            final.append(own)
        self._commit_toc(final)
        self._finish()

    def finish_segment(self) -> object | None:
        """End this writer without committing and return its segment (None, cancelled, when
        nothing was added): a helper's work, committed by the lock holder's `commit_with`."""
        if not self._added:
            self.cancel()
            return None
        segment = self._finalize_segment()
        self._finish()
        return segment

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        reader = self.per_document_reader() if self.codec.length_stats else None
        lengths = _Lengths(reader) if reader else None
        pool = self.pool
        if isinstance(pool, _Pool) and not pool.runs and lengths is not None:
            # Term by term from the pool's lists: the same calls whoosh's add_postings makes,
            # without building and re-comparing a tuple per posting.
            writer = self.fieldwriter
            schema = self.schema
            field = None
            for key, postings in pool.by_term():
                fieldname, btext = key
                if fieldname != field:
                    if field is not None:
                        writer.finish_field()
                    writer.start_field(fieldname, schema[fieldname])
                    field = fieldname
                    length_of = lengths.column(fieldname)
                writer.start_term(btext)
                add = writer.add
                for docnum, weight, value in postings:
                    add(docnum, weight, value or b"", length_of[docnum])
                writer.finish_term()
            if field is not None:
                writer.finish_field()
        else:
            self.fieldwriter.add_postings(self.schema, lengths, pool.iter_postings())
        self.fieldwriter.close()
        if reader:
            reader.close()


# Writers our code is using right now (by id): any other writer of ours still holding the
# lock was abandoned.
_ACTIVE: set[int] = set()


def _discard(writer: SegmentWriter) -> None:
    """Cancel a writer and make sure its lock is released, whatever fails on the way."""
    _ACTIVE.discard(id(writer))
    try:
        if not writer.is_closed:
            writer.cancel()
    except BaseException as error:  # a full disk makes cancel() raise too (W5)
        log.warning("cancelling an index writer failed: %s", error)
    finally:
        lock = getattr(writer, "writelock", None)
        if lock is not None and getattr(lock, "fd", None) is not None:
            try:
                lock.release()
            except OSError as error:  # pragma: no cover - nothing more to do
                log.warning("releasing the index lock failed: %s", error)
