"""The search index beside a library: open it, keep it in step with the change log, rebuild it.

Layout (one folder beside the library file, so a library is one place to move or delete):

    library.margin.index/
        REBUILD_LOCK        flock'd while a rebuild swaps the index (never deleted)
        ix/                 the whoosh index (its MAIN_WRITELOCK is whoosh's own)
        ix.new-PID-XXXX/    a rebuild in progress (swapped in when complete)

`sync()` applies every change-log entry newer than the seq stored in the index's meta entry,
in batches: one writer per batch, the meta entry updated in the same commit, so a crash loses
nothing (the next sync redoes the batch: applying an entry twice gives the same index).
Entries are applied by re-reading the current state of what they name, which makes replays and
out-of-date batches harmless.

A missing, unreadable, other-version or ahead-of-the-store index (the library file was
replaced) is rebuilt into a fresh folder and swapped in: the old index serves until then.

Locks (research/reliability.md W1-W5): whoosh's write lock is a kernel flock that dies with
its process, so the lock file is never deleted; a writer is taken with a 10 s timeout and
`IndexBusy` says who holds it. A writer our own process abandoned (an exception kept alive
holds it) is found and released. Every writer is cancelled, and its lock released, on any
exception.

Bulk work (a batch of at least HELPER_MIN_CHARS) is shared with one helper process started
with subprocess: it writes half the batch's documents as a segment of its own, without the
lock, and the lock holder commits that segment with its own in one TOC. The indexing child
and its helper run at niceness 10. Measured on the corpus on 2 cores: catch-up 27.5 s
instead of 47.4 s; a third process searching non-stop meanwhile got p50 11.5 ms / p95 47 ms
(11.8 / 44.6 with no helper; 37 / 145 before the processes were niced).
MARGIN_INDEX_HELPERS=0 (or HELPERS = 0) turns the helper off.

Writing is whoosh's SegmentWriter with three changes measured on the corpus: terms come from
`index.schema.fast_terms` (the analyzer's output without its per-token generators), postings
are pooled per term instead of one tuple each sorted at commit, and field lengths are read
once per field at flush instead of once per posting. Together about 2.5-3x faster.
"""

from __future__ import annotations

import errno
import gc
import logging
import multiprocessing
import os
import pickle
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.filedb.filestore import FileStorage
from whoosh.index import LockError
from whoosh.reading import EmptyReader, MultiReader, SegmentReader
from whoosh.searching import Searcher
from whoosh.writing import PostingPool, SegmentWriter

from index.passages import split_passages
from index.query import QueryError, SearchResult, TextReader, check_query, make_parser, run_search
from index.schema import (
    KIND_ANNOTATION,
    KIND_META,
    KIND_PASSAGE,
    META_UID,
    SCHEMA_VERSION,
    make_schema,
    tag_terms,
)
from index.suggest import KEY_TERMS, MAX_SHARE, Suggestions, run_suggest
from store.errors import MarginError
from store.processes import start_child

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: whoosh's own lock still guards writers
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

WHOOSH_DIR = "ix"
REBUILD_LOCK = "REBUILD_LOCK"
# Seconds to wait for another process's writer before saying the index is busy (L-W1).
LOCK_TIMEOUT = 10.0
# One writer per batch: at most this many change-log entries...
BATCH_CHANGES = 5_000
# ...and about this many characters of document text per process. A batch's pool then stays
# in memory (LIMIT_MB; about 450 MB at its peak) instead of spilling sorted runs to disk, the
# lock is free between batches, and the corpus ends in 4-5 segments (each segment costs a
# fuzzy term one more automaton walk: 8 segments made `grey~` 41 ms against 25 for one).
BATCH_CHARS = 16_000_000
LIMIT_MB = 1024
# Bulk work is shared with one helper process (two cores measured; a batch's documents are
# split by size) once a batch holds at least this many characters of text.
HELPER_MIN_CHARS = 2_000_000
HELPERS = int(os.environ.get("MARGIN_INDEX_HELPERS", "1" if (os.cpu_count() or 1) >= 2 else "0"))
HELPER_TEMP = "helper-"
# Niceness of the indexing child and its helper, so searches in the app come first.
BACKGROUND_NICENESS = 10
# Progress counts thousands of characters of text; an annotation counts as one.
UNIT_CHARS = 1000


class IndexBusy(MarginError):
    """The index is being written by someone else (or could not be written); try again later."""


class _Unusable(Exception):
    """The index on disk cannot be used as it is: the reason, for the rebuild log."""


def index_dir_for(library_path: Path | str) -> Path:
    """The index folder of a library: beside the file, named after it plus `.index`."""
    path = Path(library_path)
    return path.with_name(path.name + ".index")


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


def _reclaim_abandoned(folder: Path) -> int:
    """Release writers of this process on `folder` that nobody is using (a failed writer whose
    exception is kept alive, as a Textual worker keeps `.error`); returns how many."""
    gc.collect()  # an unreferenced writer releases its lock when collected
    target = os.path.realpath(folder)
    reclaimed = 0
    for obj in gc.get_objects():
        if not isinstance(obj, SegmentWriter) or id(obj) in _ACTIVE:
            continue
        lock = getattr(obj, "writelock", None)
        if lock is None or getattr(lock, "fd", None) is None:
            continue
        storage_folder = getattr(getattr(obj, "storage", None), "folder", None)
        if storage_folder and os.path.realpath(storage_folder) == target:
            log.warning("releasing an index writer abandoned by a failure in this process")
            _discard(obj)
            reclaimed += 1
    return reclaimed


def _lock_holder(lock_path: Path) -> int | None:
    """The pid holding a flock on `lock_path`, from /proc/locks (Linux), if it can be told."""
    try:
        inode = os.stat(lock_path).st_ino
        with open("/proc/locks", encoding="ascii", errors="replace") as locks:
            for line in locks:
                fields = line.split()
                # 1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF
                if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5].endswith(f":{inode}"):
                    return int(fields[4])
    except (OSError, ValueError):
        return None
    return None


def _same_file(fd: int, path: Path) -> bool:
    try:
        held, current = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (held.st_dev, held.st_ino) == (current.st_dev, current.st_ino)


class _FolderLock:
    """An flock on a file that is never deleted, taken with a timeout."""

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self.fd: int | None = None

    def __enter__(self) -> _FolderLock:
        if fcntl is None:  # pragma: no cover
            return self
        self.fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o644)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES):
                    os.close(self.fd)
                    raise
            if time.monotonic() > deadline:
                os.close(self.fd)
                self.fd = None
                holder = _lock_holder(self.path)
                raise IndexBusy(
                    "the search index is being rebuilt by another margin process"
                    + (f" (pid {holder})" if holder else "")
                    + "; try again when it finishes"
                )
            time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


# -- searchers ---------------------------------------------------------------------------------


def _same_deletions(old: object, new: object) -> bool:
    return set(old.deleted_docs()) == set(new.deleted_docs())  # type: ignore[attr-defined]


def _refreshed(ix: object, searcher: Searcher | None) -> Searcher:
    """A searcher on the latest commit, reusing the readers of segments that did not change.

    whoosh-reloaded 2.7.5's own `Searcher.refresh()` reuses a segment's reader even when the
    commit deleted documents in that segment (segments compare by id only), and it keeps
    merged-away segments: a deleted annotation or document stayed findable. Here a reader is
    reused only when its segment's deletions are unchanged.
    """
    latest = ix.latest_generation()  # type: ignore[attr-defined]
    if searcher is not None and latest == searcher.reader().generation():
        return searcher
    toc = ix._read_toc()  # type: ignore[attr-defined]
    previous: dict[str, Any] = {}  # segment id -> whoosh SegmentReader (untyped)
    if searcher is not None:
        for reader, _ in searcher.reader().leaf_readers():
            segment = reader.segment()
            if segment is not None:
                previous[segment.segment_id()] = reader
    readers = []
    for segment in toc.segments:
        reader = previous.pop(segment.segment_id(), None)
        if reader is not None and _same_deletions(reader.segment(), segment):
            reader._gen = toc.generation  # what up_to_date() compares
            readers.append(reader)
            continue
        if reader is not None:
            previous[segment.segment_id()] = reader
        storage = ix.storage  # type: ignore[attr-defined]
        readers.append(SegmentReader(storage, toc.schema, segment, generation=toc.generation))
    for reader in previous.values():
        reader.close()  # type: ignore[attr-defined]
    if searcher is not None:
        searcher.is_closed = True  # its readers are reused or closed
    if not readers:
        combined = EmptyReader(toc.schema)
    elif len(readers) == 1:
        combined = readers[0]
    else:
        combined = MultiReader(readers, generation=toc.generation)
    return Searcher(combined, fromindex=ix)


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


def _fingerprint(db: object, seq: int) -> str | None:
    if seq <= 0:
        return None
    sql = "SELECT entity, id FROM changes WHERE seq = ?"
    row = db.execute(sql, [seq]).fetchone()  # type: ignore[attr-defined]
    return f"{row[0]}:{row[1]}" if row else ""


def _write_meta(writer: SegmentWriter, seq: int, fingerprint: str | None) -> None:
    """Add the meta entry (the caller deletes the previous one in the same writer)."""
    writer.add_document(uid=META_UID, kind=KIND_META, key=("m", seq, SCHEMA_VERSION, fingerprint))


# -- reading the store ---------------------------------------------------------------------------


def _chunks(items: list, size: int = 500) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class _Annotation:
    id: str
    document_id: str
    exact: str
    note: str
    role: str
    author_id: str
    author_name: str
    deleted: bool
    title: str
    tags: list[str]
    evidence: list[str]


def _annotations(db: object, ids: list[str]) -> dict[str, _Annotation]:
    """The named annotations (those still stored), with tags, title and live evidence."""
    found: dict[str, _Annotation] = {}
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        rows = db.execute(  # type: ignore[attr-defined]
            f"SELECT a.id, a.document_id, a.exact, a.note, a.role, a.author_id, a.author_name, "
            f"a.deleted, d.title FROM annotations a JOIN documents d ON d.id = a.document_id "
            f"WHERE a.id IN ({marks})",
            chunk,
        ).fetchall()
        for row in rows:
            found[row[0]] = _Annotation(
                row[0], row[1], row[2], row[3], row[4], row[5], row[6], bool(row[7]), row[8], [], []
            )
        for annotation_id, name in db.execute(  # type: ignore[attr-defined]
            f"SELECT at.annotation_id, t.name FROM annotation_tags at "
            f"JOIN tags t ON t.id = at.tag_id WHERE at.annotation_id IN ({marks})",
            chunk,
        ).fetchall():
            if annotation_id in found:
                found[annotation_id].tags.append(name)
        for claim_id, evidence_id in db.execute(  # type: ignore[attr-defined]
            f"SELECT l.claim_id, l.evidence_id FROM links l "
            f"JOIN annotations e ON e.id = l.evidence_id "
            f"WHERE l.claim_id IN ({marks}) AND NOT l.deleted AND NOT e.deleted",
            chunk,
        ).fetchall():
            if claim_id in found:
                found[claim_id].evidence.append(evidence_id)
    return found


def _add_annotation(writer: SegmentWriter, a: _Annotation) -> None:
    flags = [a.role] + (["note"] if a.note.strip() else [])
    fields: dict[str, object] = {
        "kind": KIND_ANNOTATION,
        "uid": a.id,
        "doc_id": a.document_id,
        "key": ("a", a.id),
        # Tag names are words of the note too: typing "governance" finds what carries it.
        "text": f"{a.exact}\n{a.note}\n{' '.join(a.tags)}",
        "doc": f"{a.title} {a.document_id}",
        "author": f"{a.author_name} {a.author_id}",
        "is": ",".join(flags),
    }
    if a.tags:
        fields["tag"] = tag_terms(a.tags)
    if a.role == "claim":
        if a.evidence:
            fields["has"] = "evidence"
            fields["ev"] = ",".join(sorted(set(a.evidence)))
        else:
            fields["no"] = "evidence"
    writer.add_document(**fields)


def _length_row(db: object, doc_id: str) -> tuple | None:
    sql = "SELECT length FROM documents WHERE id = ?"
    return db.execute(sql, [doc_id]).fetchone()  # type: ignore[attr-defined]


def _add_stored(writer: SegmentWriter, db: object, doc_id: str) -> int:
    """Add a stored document's passages; returns its length in characters (0 when gone)."""
    row = db.execute(  # type: ignore[attr-defined]
        "SELECT title, author, text FROM documents WHERE id = ?", [doc_id]
    ).fetchone()
    if row is None:
        return 0
    _add_document(writer, doc_id, row[0], row[1], row[2])
    return len(row[2])


def _segment_of(ix: object, db: object, doc_ids: Iterable[str]) -> list:
    """The documents indexed here into a segment of their own (no lock: the caller holds it)."""
    writer = _Writer(ix, _lk=False, private_temp=True, limitmb=LIMIT_MB)
    try:
        for doc_id in sorted(doc_ids):
            _add_stored(writer, db, doc_id)
        if not writer._added:
            writer.cancel()
            return []
        segment = writer._finalize_segment()
        writer._finish()
        return [segment]
    except BaseException:
        _discard(writer)
        raise


def _helped(helpers: list, theirs: set[str], ix: object, db: object) -> Callable[[], list]:
    """What commit_with adds: the helper's segment, or (when it failed) one made here."""

    def more() -> list:
        if not theirs:
            return []
        segment = helpers[0].result()
        if segment is not None:
            return [segment]
        return _segment_of(ix, db, theirs)

    return more


def _length_of(db: object, doc_ids: Iterable[str]) -> int:
    total = 0
    for doc_id in doc_ids:
        row = _length_row(db, doc_id)
        total += row[0] if row else 0
    return total


def _byte_spans(text: str, passages: list) -> list[tuple[int, int]]:
    """Each passage's (UTF-8 byte offset, byte length) in the text, for blob reads of snippets."""
    if text.isascii():
        return [(p.start, p.end - p.start) for p in passages]
    spans = []
    position = byte = 0
    for p in passages:
        byte += len(text[position : p.start].encode("utf-8", "surrogatepass"))
        length = len(text[p.start : p.end].encode("utf-8", "surrogatepass"))
        spans.append((byte, length))
        byte += length
        position = p.end
    return spans


def _add_document(
    writer: SegmentWriter, doc_id: str, title: str, author: str | None, text: str
) -> int:
    """Add a document's passages; returns how many."""
    title_value = f"{title} {doc_id}"
    passages = split_passages(text)
    add = writer.add_document
    spans = _byte_spans(text, passages)
    for passage, (byte_start, byte_length) in zip(passages, spans, strict=True):
        add(
            kind=KIND_PASSAGE,
            doc_id=doc_id,
            key=("p", doc_id, passage.start, passage.end, byte_start, byte_length),
            text=text[passage.start : passage.end],
            doc=title_value,
            author=author or None,
        )
    return len(passages)


# -- a helper process -----------------------------------------------------------------------------


def _helper_main() -> None:
    """A helper process: index the documents it is sent into a new segment of the given index,
    without the lock (the process holding it commits that segment with its own). Jobs and
    answers are pickles over stdin and stdout; nothing else is written to either."""
    from store.library import Library

    _background()
    jobs, answers = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # stray prints must not corrupt the answers
    with Library(sys.argv[1]) as lib:
        while True:
            try:
                job = pickle.load(jobs)
            except EOFError:
                return
            if job is None:
                return
            folder, doc_ids = job
            writer = None
            try:
                ix = whoosh_index.open_dir(folder)
                writer = _Writer(ix, _lk=False, private_temp=True, limitmb=LIMIT_MB)
                for doc_id in doc_ids:
                    _add_stored(writer, lib.db, doc_id)
                if writer._added:
                    answer: tuple = ("segment", writer._finalize_segment())
                    writer._finish()
                else:
                    writer.cancel()
                    answer = ("segment", None)
            except BaseException as error:  # noqa: BLE001 - the parent indexes them instead
                if writer is not None:
                    _discard(writer)
                answer = ("error", f"{type(error).__name__}: {error}")
            pickle.dump(answer, answers, protocol=pickle.HIGHEST_PROTOCOL)
            answers.flush()


def _background() -> None:
    """Lower this process's CPU priority: bulk indexing yields to the app it works for."""
    try:
        os.nice(max(0, BACKGROUND_NICENESS - os.nice(0)))
    except (AttributeError, OSError):  # pragma: no cover - no nice() here
        pass


class _Helper:
    """A second process sharing bulk indexing (2 cores measured). Started with subprocess, not
    forked, so it inherits no lock (research W1: procs=2 workers, forked, held the write
    lock after a crash) and needs no `__main__` guard in whatever script runs us."""

    def __init__(self, library_path: Path) -> None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from index.sync import _helper_main; _helper_main()",
                str(library_path),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )

    def start(self, folder: Path, doc_ids: list[str]) -> bool:
        try:
            stdin = self._process.stdin
            assert stdin is not None  # opened with stdin=PIPE
            pickle.dump((str(folder), doc_ids), stdin, protocol=2)
            stdin.flush()
            return True
        except OSError:
            return False

    def result(self) -> object | None:
        """The helper's segment, or None when it failed (the caller indexes those itself)."""
        try:
            kind, value = pickle.load(self._process.stdout)  # type: ignore[arg-type]
        except (EOFError, OSError, pickle.UnpicklingError):
            return None
        if kind == "error":
            log.warning("index helper failed: %s", value)
            return None
        return value

    def close(self) -> None:
        try:
            stdin = self._process.stdin
            assert stdin is not None  # opened with stdin=PIPE
            pickle.dump(None, stdin, protocol=2)
            stdin.close()
        except OSError:
            pass
        try:
            self._process.wait(5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()


def _split(db: object, doc_ids: list[str]) -> tuple[list[str], list[str]]:
    """Two groups of about equal text, largest documents first: (ours, the helper's)."""
    lengths = []
    for doc_id in doc_ids:
        row = _length_row(db, doc_id)
        if row is not None:
            lengths.append((row[0], doc_id))
    ours: list[str] = []
    theirs: list[str] = []
    mine = other = 0
    for length, doc_id in sorted(lengths, reverse=True):
        if mine <= other:
            ours.append(doc_id)
            mine += length
        else:
            theirs.append(doc_id)
            other += length
    return ours, theirs


def _remove_helper_scratch(folder: Path) -> None:
    # Scratch folders of helpers that died; only called by the lock holder, whose own
    # helper is idle then.
    for path in folder.glob(f"*.{HELPER_TEMP}*.tmp"):
        shutil.rmtree(path, ignore_errors=True)


# -- the index ----------------------------------------------------------------------------------


class SearchIndex:
    """The whoosh index of one library, with one searcher kept open. Not thread-safe: use it
    from one thread at a time (the service holds a lock around it)."""

    def __init__(self, index_dir: Path | str) -> None:
        self.index_dir = Path(index_dir)
        self._ix: object | None = None
        self._searcher: Searcher | None = None
        self._parser = None
        self._dir_id: tuple[int, int] | None = None
        self._meta: Meta | None = None
        self._meta_of: object | None = None
        self._texts: TextReader | None = None

    @property
    def whoosh_dir(self) -> Path:
        return self.index_dir / WHOOSH_DIR

    # -- opening ------------------------------------------------------------------------

    def close(self) -> None:
        """Close the searcher and forget the open index."""
        self._close_searcher()
        if self._texts is not None:
            self._texts.close()
            self._texts = None

    def _close_searcher(self) -> None:
        if self._searcher is not None:
            try:
                self._searcher.close()
            except Exception:  # noqa: BLE001 - closing a broken index must not raise
                pass
        self._searcher = self._ix = self._parser = None
        self._dir_id = self._meta = self._meta_of = None

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open(self) -> Searcher:
        """The open searcher, refreshed to the latest commit; _Unusable when it cannot be."""
        try:
            stat = os.stat(self.whoosh_dir)
        except FileNotFoundError:
            self._close_searcher()
            raise _Unusable("the index is missing") from None
        dir_id = (stat.st_dev, stat.st_ino)
        try:
            if self._searcher is not None and dir_id == self._dir_id:
                self._searcher = _refreshed(self._ix, self._searcher)
            else:
                self._close_searcher()
                ix = whoosh_index.open_dir(str(self.whoosh_dir))
                self._searcher = _refreshed(ix, None)
                self._ix, self._dir_id = ix, dir_id
                self._parser = make_parser(ix.schema)
            if self._meta_of is not self._searcher:
                self._meta = _read_meta(self._searcher)
                self._meta_of = self._searcher
        except Exception as error:  # noqa: BLE001 - any failure to read means rebuild (W6)
            self._close_searcher()
            raise _Unusable(f"the index cannot be read ({type(error).__name__}: {error})") from None
        return self._searcher

    def refresh(self) -> None:
        """See the latest commit (after a child process has written); cheap when nothing changed."""
        try:
            self._open()
        except _Unusable:
            pass

    def _problem(self, lib: object) -> str | None:
        """Why the index cannot serve this library as it is, or None."""
        try:
            self._open()
        except _Unusable as reason:
            return str(reason)
        meta = self._meta
        if meta is None:
            return "the index has no record of what it holds"
        if meta.version != SCHEMA_VERSION:
            return (
                f"the index has schema version {meta.version}, this margin writes {SCHEMA_VERSION}"
            )
        store_seq = lib.max_seq()  # type: ignore[attr-defined]
        if meta.seq > store_seq:
            return "the index is ahead of the library (the library file was replaced)"
        db = lib.db  # type: ignore[attr-defined]
        if meta.seq and _fingerprint(db, meta.seq) != meta.fingerprint:
            return "the index was made for another library"
        return None

    def index_state(self, lib: object) -> tuple[int | None, int]:
        """(the seq the index has applied, or None when it is unusable; the store's newest seq)."""
        store_seq = lib.max_seq()  # type: ignore[attr-defined]
        if self._problem(lib) is not None or self._meta is None:
            return None, store_seq
        return self._meta.seq, store_seq

    # -- writing ------------------------------------------------------------------------

    def _writer(self) -> SegmentWriter:
        """A writer on the current index, or IndexBusy naming who holds the lock."""
        for attempt in range(2):
            ix = self._ix
            if ix is None:
                try:
                    self._open()
                except _Unusable as reason:
                    raise IndexBusy(f"the search index cannot be written now: {reason}") from None
                ix = self._ix
            try:
                try:
                    writer = _Writer(ix, timeout=0.0, limitmb=LIMIT_MB)
                except LockError:
                    if _reclaim_abandoned(self.whoosh_dir):
                        writer = _Writer(ix, timeout=0.0, limitmb=LIMIT_MB)
                    else:
                        writer = _Writer(ix, timeout=LOCK_TIMEOUT, limitmb=LIMIT_MB)
            except LockError:
                holder = _lock_holder(self.whoosh_dir / "MAIN_WRITELOCK")
                raise IndexBusy(
                    "the search index is being written by another margin process"
                    + (f" (pid {holder})" if holder else "")
                    + "; the change is stored and will be indexed by the next sync"
                ) from None
            # A rebuild may have swapped the folder while we waited: the lock we hold must be
            # the current index's lock, or a second writer could get in (never trust the file).
            lock = writer.writelock
            if lock is not None and _same_file(lock.fd, self.whoosh_dir / "MAIN_WRITELOCK"):
                _ACTIVE.add(id(writer))
                return writer
            _discard(writer)
            self._close_searcher()
            if attempt:
                break
        raise IndexBusy("the search index was replaced while waiting for it; try again")

    def _share(
        self, lib: object, helpers: list, doc_ids: list[str], chars: int, folder: Path
    ) -> set[str]:
        """Hand about half of a big batch's documents to the helper; returns those ids."""
        if not HELPERS or chars < HELPER_MIN_CHARS or len(doc_ids) < 2:
            return set()
        if not helpers:
            helpers.append(_Helper(Path(lib.path)))  # type: ignore[attr-defined]
        _remove_helper_scratch(folder)
        _, theirs = _split(lib.db, doc_ids)  # type: ignore[attr-defined]
        return set(theirs) if helpers[0].start(folder, theirs) else set()

    def _searcher_for(self, writer: SegmentWriter) -> Searcher:
        """A searcher on the commit the writer starts from: ours when it is that one (opening
        one over every segment costs more than the rest of a one-note sync)."""
        self.refresh()
        searcher = self._searcher
        if searcher is not None and searcher.reader().generation() == writer.generation - 1:
            return searcher
        return writer.searcher()

    def _commit(self, writer: _Writer, more: Callable[[], list] | None = None) -> None:
        try:
            writer.commit_with(more)
        except OSError as error:
            _discard(writer)
            raise IndexBusy(
                f"the search index could not be written ({error.strerror or error}); "
                "search may miss recent changes until that is fixed"
            ) from error
        _ACTIVE.discard(id(writer))

    def sync(self, lib: object, progress: Progress | None = None) -> int:
        """Apply every change newer than the index's seq; returns how many entries were applied.

        Rebuilds instead when the index is missing, unreadable, of another schema version or
        ahead of the library. Raises IndexBusy when another process holds the index.

        Args:
            progress: called with (done, total) in units of about 1,000 characters indexed.
        """
        problem = self._problem(lib)
        if problem is not None:
            log.info("rebuilding the search index: %s", problem)
            return self.rebuild(lib, progress, reason=problem)
        assert self._meta is not None
        if self._meta.seq >= lib.max_seq():  # type: ignore[attr-defined]
            return 0
        return self._catch_up(lib, progress)

    def _pending_work(self, lib: object, seq: int) -> int:
        db = lib.db  # type: ignore[attr-defined]
        chars = db.execute(
            "SELECT coalesce(sum(length), 0) FROM documents WHERE id IN "
            "(SELECT id FROM changes WHERE seq > ? AND entity = 'document')",
            [seq],
        ).fetchone()[0]
        notes = db.execute(
            "SELECT count(DISTINCT id) FROM changes WHERE seq > ? AND entity != 'document'",
            [seq],
        ).fetchone()[0]
        return chars // UNIT_CHARS + notes

    def _catch_up(self, lib: object, progress: Progress | None) -> int:
        helpers: list[_Helper] = []
        try:
            return self._catch_up_with(lib, progress, helpers)
        finally:
            for helper in helpers:
                helper.close()

    def _catch_up_with(self, lib: object, progress: Progress | None, helpers: list) -> int:
        db = lib.db  # type: ignore[attr-defined]
        applied = 0
        total: int | None = None
        done = 0  # set again, to 0, with total on the first batch
        batch_chars = BATCH_CHARS * (1 + HELPERS)
        while True:
            writer = self._writer()
            try:
                searcher = self._searcher_for(writer)
                meta = _read_meta(searcher)
                if meta is None or meta.seq > lib.max_seq():  # type: ignore[attr-defined]
                    # Changed under us (another process rebuilt or replaced it): start over.
                    _discard(writer)
                    self._close_searcher()
                    return applied + self.sync(lib, progress)
                if total is None:
                    total, done = self._pending_work(lib, meta.seq), 0
                changes = lib.changes_since(meta.seq, BATCH_CHANGES)  # type: ignore[attr-defined]
                if not changes:
                    _discard(writer)
                    break
                documents: dict[str, bool] = {}  # id -> changed in place (its notes re-titled)
                annotations: set[str] = set()
                chars = 0
                last = meta.seq
                for change in changes:
                    if change.entity == "document":
                        if change.id not in documents:
                            row = db.execute(
                                "SELECT length FROM documents WHERE id = ?", [change.id]
                            ).fetchone()
                            length = row[0] if row else 0
                            if chars + length > batch_chars and (documents or annotations):
                                break  # the next batch starts here
                            chars += length
                        updated = documents.get(change.id, False) or change.op == "update"
                        documents[change.id] = updated
                    elif change.entity == "annotation":
                        annotations.add(change.id)
                    elif change.entity == "link":
                        row = db.execute(
                            "SELECT claim_id FROM links WHERE id = ?", [change.id]
                        ).fetchone()
                        if row:
                            annotations.add(row[0])
                    last = change.seq
                for doc_id, updated in documents.items():
                    if updated:
                        annotations.update(
                            r[0]
                            for r in db.execute(
                                "SELECT id FROM annotations WHERE document_id = ?", [doc_id]
                            ).fetchall()
                        )
                # A claim's has:/no:evidence follows its evidence: find the claims of every
                # changed annotation, in the store and (for hard deletes) in the index.
                for annotation_id in list(annotations):
                    annotations.update(
                        r[0]
                        for r in db.execute(
                            "SELECT claim_id FROM links WHERE evidence_id = ?", [annotation_id]
                        ).fetchall()
                    )
                    for docnum in searcher.document_numbers(ev=annotation_id):
                        key = searcher.stored_fields(docnum).get("key")
                        if key and key[0] == "a":
                            annotations.add(key[1])
                theirs = self._share(lib, helpers, list(documents), chars, self.whoosh_dir)
                added_chars = 0
                for doc_id in documents:
                    writer.delete_by_query(
                        wq.And([wq.Term("kind", KIND_PASSAGE), wq.Term("doc_id", doc_id)]),
                        searcher=searcher,
                    )
                    if doc_id not in theirs:
                        added_chars += _add_stored(writer, db, doc_id)
                        if progress:
                            progress(min(total, done + added_chars // UNIT_CHARS // 2), total)
                found = _annotations(db, sorted(annotations))
                for annotation_id in sorted(annotations):
                    writer.delete_by_term("uid", annotation_id, searcher=searcher)
                    annotation = found.get(annotation_id)
                    if annotation is not None and not annotation.deleted:
                        _add_annotation(writer, annotation)
                writer.delete_by_term("uid", META_UID, searcher=searcher)
                _write_meta(writer, last, _fingerprint(db, last))
                added_chars += _length_of(db, theirs)
                self._commit(writer, _helped(helpers, theirs, self._ix, db))
            except BaseException:
                _discard(writer)
                raise
            applied += sum(1 for change in changes if change.seq <= last)
            done = min(total, done + added_chars // UNIT_CHARS + len(annotations))
            if progress:
                progress(done, total)
            self.refresh()
            if last >= lib.max_seq():  # type: ignore[attr-defined]
                break
        if progress and total is not None:
            progress(total, total)
        return applied

    # -- rebuilding ---------------------------------------------------------------------

    def rebuild(
        self, lib: object, progress: Progress | None = None, *, reason: str | None = None
    ) -> int:
        """Build the index afresh from the library in a new folder, then swap it in.

        Returns the library's seq the new index stands at. With `reason` (an automatic
        rebuild), nothing is done if another process fixed the index meanwhile.
        """
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with _FolderLock(self.index_dir / REBUILD_LOCK, LOCK_TIMEOUT):
            if reason is not None and self._problem(lib) is None:
                return 0  # rebuilt by another process while we waited
            self._remove_leftovers()
            fresh = self.index_dir / f"{WHOOSH_DIR}.new-{os.getpid()}-{secrets.token_hex(4)}"
            try:
                seq = self._build(lib, fresh, progress)
                self._swap_in(fresh)
            finally:
                if fresh.exists():
                    shutil.rmtree(fresh, ignore_errors=True)
        self._close_searcher()
        self.refresh()
        return seq

    def _remove_leftovers(self) -> None:
        # Under the rebuild lock nobody else builds, so these are from crashed rebuilds.
        for path in self.index_dir.glob(f"{WHOOSH_DIR}.*-*"):
            shutil.rmtree(path, ignore_errors=True)

    def _build(self, lib: object, folder: Path, progress: Progress | None) -> int:
        db = lib.db  # type: ignore[attr-defined]
        folder.mkdir()
        ix = whoosh_index.create_in(str(folder), make_schema())
        # Read the seq first: whatever is read after is at least that new, and anything
        # later is applied again by the next sync.
        seq = lib.max_seq()  # type: ignore[attr-defined]
        fingerprint = _fingerprint(db, seq)
        documents = db.execute(
            "SELECT id, length FROM documents ORDER BY imported_at, rowid"
        ).fetchall()
        annotation_ids = [
            r[0] for r in db.execute("SELECT id FROM annotations WHERE NOT deleted").fetchall()
        ]
        total = sum(length for _, length in documents) // UNIT_CHARS + len(annotation_ids)
        batch_chars = BATCH_CHARS * (1 + HELPERS)
        batches: list[tuple[list[str], int]] = [([], 0)]
        for doc_id, length in documents:
            if batches[-1][1] + length > batch_chars and batches[-1][0]:
                batches.append(([], 0))
            batches[-1][0].append(doc_id)
            batches[-1] = (batches[-1][0], batches[-1][1] + length)
        done = 0
        helpers: list[_Helper] = []
        try:
            for batch, chars in batches:
                writer = _Writer(ix, timeout=LOCK_TIMEOUT, limitmb=LIMIT_MB)
                _ACTIVE.add(id(writer))
                try:
                    theirs = self._share(lib, helpers, batch, chars, folder)
                    added = 0
                    for doc_id in batch:
                        if doc_id not in theirs:
                            added += _add_stored(writer, db, doc_id)
                            if progress:
                                progress(min(total, done + added // UNIT_CHARS // 2), total)
                    added += _length_of(db, theirs)
                    writer.commit_with(_helped(helpers, theirs, ix, db), merge=False)
                    _ACTIVE.discard(id(writer))
                except BaseException:
                    _discard(writer)
                    raise
                done = min(total, done + added // UNIT_CHARS)
                if progress:
                    progress(done, total)
        finally:
            for helper in helpers:
                helper.close()
        # Notes in a small segment of their own: editing one then never makes a refreshed
        # searcher reopen a big passage segment (whose deletions changed).
        writer = _Writer(ix, timeout=LOCK_TIMEOUT, limitmb=LIMIT_MB)
        _ACTIVE.add(id(writer))
        try:
            for annotation in _annotations(db, annotation_ids).values():
                if not annotation.deleted:
                    _add_annotation(writer, annotation)
            _write_meta(writer, seq, fingerprint)
            writer.commit_with(merge=False)
            _ACTIVE.discard(id(writer))
        except BaseException:
            _discard(writer)
            raise
        if progress:
            progress(total, total)
        return seq

    def _swap_in(self, fresh: Path) -> None:
        """Rename the old index aside and the fresh one in, holding the old one's write lock."""
        current = self.whoosh_dir
        self._close_searcher()
        if not current.exists():
            os.rename(fresh, current)
            return
        lock = None
        try:
            storage_lock = FileStorage(str(current)).lock("MAIN_WRITELOCK")
            deadline = time.monotonic() + LOCK_TIMEOUT
            while not storage_lock.acquire(blocking=False):
                if not _reclaim_abandoned(current) and time.monotonic() > deadline:
                    holder = _lock_holder(current / "MAIN_WRITELOCK")
                    raise IndexBusy(
                        "the search index is being written by another margin process"
                        + (f" (pid {holder})" if holder else "")
                        + "; rebuild again when it finishes"
                    )
                time.sleep(0.1)
            lock = storage_lock
        except IndexBusy:
            raise
        except OSError as error:  # an unreadable folder: nobody can be writing it
            log.info("old index folder not lockable (%s); replacing it", error)
        aside = self.index_dir / f"{WHOOSH_DIR}.old-{os.getpid()}-{secrets.token_hex(4)}"
        os.rename(current, aside)
        os.rename(fresh, current)
        if lock is not None:
            lock.release()
        shutil.rmtree(aside, ignore_errors=True)

    # -- searching ----------------------------------------------------------------------

    def search(self, lib: object, query: str, limit: int = 20, offset: int = 0) -> SearchResult:
        """Ranked hits for `query`: QueryError when it is refused; rebuilds a broken index first."""
        check_query(query)
        problem = self._problem(lib)
        if problem is not None:
            log.info("rebuilding the search index before searching: %s", problem)
            self.rebuild(lib, reason=problem)
            self._open()
        assert self._searcher is not None and self._parser is not None
        return run_search(
            self._searcher, self._parser, self._text_reader(lib), query, limit=limit, offset=offset
        )

    def _text_reader(self, lib: object) -> TextReader:
        path = Path(lib.path)  # type: ignore[attr-defined]
        if self._texts is not None and (self._texts.path != path or not self._texts.current()):
            self._texts.close()
            self._texts = None
        if self._texts is None:
            self._texts = TextReader(path)
        return self._texts

    # -- checking -----------------------------------------------------------------------

    def verify(self, lib: object) -> list[str]:
        """What is out of step between the index and the library (empty when in step)."""
        problem = self._problem(lib)
        if problem is not None:
            return [f"index: {problem}; `margin reindex` rebuilds it"]
        assert self._searcher is not None and self._meta is not None
        searcher = self._searcher
        db = lib.db  # type: ignore[attr-defined]
        store_seq = lib.max_seq()  # type: ignore[attr-defined]
        if self._meta.seq != store_seq:
            return [
                f"index: {store_seq - self._meta.seq} library changes not indexed yet "
                f"(index at {self._meta.seq}, library at {store_seq})"
            ]
        problems = []
        stored = {
            row[0]
            for row in db.execute("SELECT id, text FROM documents").fetchall()
            if row[1].strip()
        }
        indexed = set()
        for btext in searcher.reader().lexicon("doc_id"):
            doc_id = btext.decode("utf-8")
            passages = wq.And([wq.Term("kind", KIND_PASSAGE), wq.Term("doc_id", doc_id)])
            if next(iter(searcher.docs_for_query(passages)), None) is not None:
                indexed.add(doc_id)
        for doc_id in sorted(stored - indexed):
            problems.append(f"index: document {doc_id[:8]} has no passages in the index")
        for doc_id in sorted(indexed - stored):
            problems.append(f"index: passages of a deleted document {doc_id[:8]} remain")
        live = {r[0] for r in db.execute("SELECT id FROM annotations WHERE NOT deleted").fetchall()}
        in_index = set()
        for docnum in searcher.docs_for_query(wq.Term("kind", KIND_ANNOTATION)):
            key = searcher.stored_fields(docnum).get("key")
            if key:
                in_index.add(key[1])
        if live - in_index:
            problems.append(f"index: {len(live - in_index)} annotations missing from the index")
        if in_index - live:
            problems.append(f"index: {len(in_index - live)} deleted annotations still in the index")
        return problems

    # -- suggesting evidence (index.suggest) --------------------------------------------

    def suggest(
        self,
        lib: object,
        claim_text: str,
        *,
        exclude: dict[str, list[tuple[int, int]]],
        limit: int = 10,
        key_terms: int = KEY_TERMS,
        max_share: float = MAX_SHARE,
    ) -> Suggestions:
        """Passages most like a claim's text, leaving out the spans in `exclude`."""
        problem = self._problem(lib)
        if problem is not None:
            log.info("rebuilding the search index before suggesting: %s", problem)
            self.rebuild(lib, reason=problem)
            self._open()
        assert self._searcher is not None
        return run_suggest(
            self._searcher,
            self._text_reader(lib),
            claim_text,
            exclude=exclude,
            limit=limit,
            key_terms=key_terms,
            max_share=max_share,
        )


# -- catching up in a child process ------------------------------------------------------------


def _child_sync(library_path: str, index_dir: str, conn: object) -> None:
    """The child's side of sync_in_child: sync, report progress, never write to the terminal."""
    try:
        # Off the terminal entirely: a library's print or traceback must not draw over the
        # app, and the child has no business with the keyboard.
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.close(devnull)
    except OSError:
        pass
    from store.library import Library

    _background()
    last = [0.0]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.1 or done >= total:
            last[0] = now
            conn.send(("progress", done, total))  # type: ignore[attr-defined]

    try:
        with Library(library_path) as lib:
            search_index = SearchIndex(Path(index_dir))
            try:
                applied = search_index.sync(lib, progress=report)
            finally:
                search_index.close()
        conn.send(("done", applied))  # type: ignore[attr-defined]
    except IndexBusy as busy:
        conn.send(("busy", str(busy)))  # type: ignore[attr-defined]
    except BaseException as error:  # noqa: BLE001 - everything goes back to the parent
        conn.send(("error", f"{type(error).__name__}: {error}"))  # type: ignore[attr-defined]
    finally:
        conn.close()  # type: ignore[attr-defined]


class IndexSyncFailed(MarginError):
    """Catching the index up in a child process failed; the message says how."""


def sync_in_child(
    library_path: Path | str, index_dir: Path | str, on_progress: Progress | None = None
) -> int:
    """Run `SearchIndex(index_dir).sync()` in a spawned child process; returns the entries applied.

    Bulk indexing holds the GIL: in a thread it made every search of the app 30-40x slower,
    in a child it costs the app nothing (performance.md). Progress comes back over a pipe.
    The caller refreshes its own searcher afterwards (`SearchIndex.refresh()`).
    """
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_child_sync,
        args=(str(library_path), str(index_dir), sender),
        name="margin-index-sync",
        daemon=True,
    )
    start_child(child)
    sender.close()
    outcome: tuple | None = None
    try:
        while outcome is None:
            if receiver.poll(0.1):
                try:
                    message = receiver.recv()
                except EOFError:
                    break
                if message[0] == "progress":
                    if on_progress is not None:
                        on_progress(message[1], message[2])
                else:
                    outcome = message
            elif not child.is_alive() and not receiver.poll(0):
                break
        child.join()
    finally:
        if child.is_alive():  # the parent was interrupted: the commit is atomic, stop it
            child.terminate()
            child.join()
        receiver.close()
    if outcome is None:
        raise IndexSyncFailed(
            f"the indexing process stopped without finishing (exit code {child.exitcode}); "
            "the next sync continues from where it got to"
        )
    if outcome[0] == "busy":
        raise IndexBusy(outcome[1])
    if outcome[0] == "error":
        raise IndexSyncFailed(f"indexing failed: {outcome[1]}")
    return int(outcome[1])


__all__ = [
    "IndexBusy",
    "IndexSyncFailed",
    "QueryError",
    "SearchIndex",
    "index_dir_for",
    "sync_in_child",
]
