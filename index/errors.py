"""The index's own error, in a module that imports nothing heavy: the service catches it on
every write, and `margin list` should not load whoosh to know its name."""

from __future__ import annotations

from store.errors import MarginError


class IndexBusy(MarginError):
    """The index is being written by someone else (or could not be written); try again later."""
