"""Errors margin raises on purpose: each says, in one line, what went wrong and where."""

from __future__ import annotations

from pathlib import Path


class MarginError(Exception):
    """Base of margin's own errors; str() is the line shown to the user."""


class LibraryError(MarginError):
    """The library file cannot be opened or written."""


class NotFound(MarginError):
    """A document, annotation, tag or link named by the user does not exist."""


class InvalidInput(MarginError):
    """A value from the user or a file that margin refuses, with the reason."""


class IngestError(MarginError):
    """A source file that could not be imported, and why."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path.name}: {reason}")
