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
    """What a build or an update did: documents and paragraphs it indexed, the files it skipped
    (source: why) and those the rules left out (source, why; see discovery), files in formats it
    does not read, the folders it could not list, the digest of each file it read (source:
    paragraphs.content_digest), the files it read with text that could not be read (source:
    pages, none for a format without pages), the libraries each file was read with when they
    matter (source: {name: version}), and for an update which sources it added, re-indexed, read
    again for a new version of a library that read them, and removed."""

    documents: int = 0
    paragraphs: int = 0
    seconds: float = 0.0
    skipped: dict[str, str] = field(default_factory=dict)
    ignored: list[tuple[str, str]] = field(default_factory=list)
    other_formats: list[str] = field(default_factory=list)
    # Folders that could not be listed (source ending in `/`, why), as discovery.Found.
    unreadable_folders: list[tuple[str, str]] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)
    unread: dict[str, list[int]] = field(default_factory=dict)
    extractors: dict[str, dict[str, str]] = field(default_factory=dict)
    incremental: bool = False
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    reread: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    # The whole index afterwards.
    total_documents: int = 0
    total_paragraphs: int = 0
