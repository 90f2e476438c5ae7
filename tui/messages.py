"""Messages the app's workers post: named for what happened."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from tui.service import ImportResult


@dataclass
class ImportStarted(Message):
    total: int


@dataclass
class ImportProgress(Message):
    done: int
    total: int
    name: str

    def can_replace(self, message: Message) -> bool:
        # Progress coalesces: only the newest count matters.
        return isinstance(message, ImportProgress)


@dataclass
class ImportFinished(Message):
    imported: int
    duplicates: list[ImportResult]
    failures: list[ImportResult]
    updates: list[ImportResult]


@dataclass
class IndexProgress(Message):
    done: int
    total: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, IndexProgress)


@dataclass
class IndexFinished(Message):
    error: str | None = None
