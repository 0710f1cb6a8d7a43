"""What a build reports: its progress and warnings as it goes (callbacks, gathered in a
BuildReport), its summary at the end."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# progress(documents done, documents in all, the document just done: a discovery.DocumentFile)
Progress = Callable[[int, int, Any], None]
Warn = Callable[[str], None]


@dataclass(frozen=True)
class BuildReport:
    """Whom a build tells what it does as it goes: `progress` of each document done, `warn` of
    each file skipped or read with a problem, `notify` of why a build happens (the index missing,
    outdated or behind its documents) or waits (another writer). None: no one."""

    progress: Progress | None = None
    warn: Warn | None = None
    notify: Warn | None = None

    def say(self, message: str) -> None:
        """Tell `notify` of `message`, if anyone listens."""
        if self.notify:
            self.notify(message)

    def warning(self, message: str) -> None:
        """Tell `warn` of `message`, if anyone listens."""
        if self.warn:
            self.warn(message)


QUIET = BuildReport()  # a build that tells no one


@dataclass
class IndexSummary:
    """What a build or an update did.

    Attributes:
        documents: The documents it indexed.
        paragraphs: The paragraphs it indexed.
        seconds: How long it took.
        skipped: The files it skipped (source: why).
        ignored: The files the rules left out (source, why; see discovery).
        other_formats: The files in formats it does not read.
        unreadable_folders: The folders it could not list (source ending in `/`, why), as
            discovery.Found.
        digests: The digest of each file it read (source: paragraphs.content_digest).
        unread: The files it read with text that could not be read (source: pages, none for a
            format without pages).
        extractors: The libraries each file was read with, when they matter (source:
            {name: version}).
        incremental: True for an update.
        added: Of an update, the sources it added.
        changed: Of an update, the sources it re-indexed.
        reread: Of an update, the sources read again for a new version of a library that
            read them.
        removed: Of an update, the sources it removed.
        total_documents: The documents of the whole index afterwards.
        total_paragraphs: The paragraphs of the whole index afterwards.
    """

    documents: int = 0
    paragraphs: int = 0
    seconds: float = 0.0
    skipped: dict[str, str] = field(default_factory=dict)
    ignored: list[tuple[str, str]] = field(default_factory=list)
    other_formats: list[str] = field(default_factory=list)
    unreadable_folders: list[tuple[str, str]] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)
    unread: dict[str, list[int]] = field(default_factory=dict)
    extractors: dict[str, dict[str, str]] = field(default_factory=dict)
    incremental: bool = False
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    reread: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    total_documents: int = 0
    total_paragraphs: int = 0
