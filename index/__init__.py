"""margin's full-text index: whoosh over the library's passages and annotations.

`SearchIndex(index_dir_for(library_path))` opens (or rebuilds) the index beside a library;
`sync()` catches it up from the library's change log, `sync_in_child()` does the same in a
child process for bulk work, and `search()` answers queries with ranked, snippeted hits.
"""

from index.child import IndexSyncFailed, sync_in_child
from index.query import Hit, QueryError, SearchResult
from index.sync import IndexBusy, SearchIndex, index_dir_for

__all__ = [
    "Hit",
    "IndexBusy",
    "IndexSyncFailed",
    "QueryError",
    "SearchIndex",
    "SearchResult",
    "index_dir_for",
    "sync_in_child",
]
