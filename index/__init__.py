"""margin's full-text index: whoosh over the library's passages and annotations.

`SearchIndex(index_dir_for(library_path))` opens (or rebuilds) the index beside a library;
`sync()` catches it up from the library's change log, `sync_in_child()` does the same in a
child process for bulk work, and `search()` answers queries with ranked, snippeted hits.

Each name is imported when first asked for (PEP 562): whoosh and the store's reader cost
`margin list` 0.2 s of CPU it never used (issue 11).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from index.child import IndexSyncFailed, sync_in_child
    from index.errors import IndexBusy
    from index.query import Hit, QueryError, SearchResult
    from index.sync import SearchIndex, index_dir_for

_HOME = {
    "Hit": "index.query",
    "IndexBusy": "index.errors",
    "IndexSyncFailed": "index.child",
    "QueryError": "index.query",
    "SearchIndex": "index.sync",
    "SearchResult": "index.query",
    "index_dir_for": "index.sync",
    "sync_in_child": "index.child",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(_HOME[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
