"""Status: what an index holds and how it stands, for `kensaku status` and `kensaku documents`.

`index_status` reads the manifest (the documents folder, counts, skipped files, files with text
that could not be read, rules, when the index was built and last updated), measures the index on
disk, checks that the live generation's files are whole, and compares the documents folder with
what was indexed (files added, changed or removed since, a file with a new modification time but
the same bytes not counted as changed, files read with a version of a library other than the one
installed now, what its rules leave out now, and the folders that cannot be listed).
`indexed_documents` lists each document the index holds with its paragraph count and title.
Neither writes anything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from search.errors import DocumentsNotFound
from search.index.changes import analyzer_change, changes_since, describe_analyzer
from search.index.manifest import FORMAT_VERSION, Manifest
from search.index.opening import generation_problem, open_index, translate_damage
from search.index.schema import SOURCE, TITLE
from search.ingest.discovery import Rules, scan

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"  # as the manifest records times


@dataclass
class IndexStatus:
    """An index and its documents folder as they stand now."""

    index_dir: Path
    docs_dir: Path
    format: int
    documents: int
    paragraphs: int
    # The documents that could not be read (source: why), as the last build or update found.
    skipped: dict[str, str]
    # The documents indexed with text that could not be read (source: pages; see readers).
    unread: dict[str, list[int]]
    rules: Rules
    # Bytes on disk: every file under the index directory, hard links counted once.
    size: int
    built: datetime | None  # the last build from scratch
    updated: datetime | None  # the last change, by a build or an update
    # What is wrong with the index's files (a rebuild repairs it), or None.
    problem: str | None
    # Whether the documents folder is still there; what changed in it since the index was built,
    # and what its rules leave out now (empty when it is gone).
    docs_found: bool = True
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    # Unchanged, but read with another version of a library than the one installed now.
    reread: list[str] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)
    other_formats: list[str] = field(default_factory=list)
    unreadable_folders: list[tuple[str, str]] = field(default_factory=list)  # (source, why)
    # The versions of SudachiPy and its dictionary that cut the text into words (name: version;
    # none recorded by an earlier kensaku), and why the index must be built anew for those
    # installed now (changes.analyzer_change), or None.
    analyzer: dict[str, str] = field(default_factory=dict)
    analyzer_change: str | None = None

    @property
    def analyzer_text(self) -> str:
        """`SudachiPy 0.7.0 with sudachidict-core 20261015`, or `none recorded`."""
        return describe_analyzer(self.analyzer)

    @property
    def up_to_date(self) -> bool:
        return (
            self.docs_found
            and not self.analyzer_change
            and not (self.added or self.changed or self.removed or self.reread)
        )

    def to_dict(self) -> dict:
        """The JSON form of `kensaku status --json`."""
        return {
            "index": str(self.index_dir),
            "docs": str(self.docs_dir),
            "format": self.format,
            "documents": self.documents,
            "paragraphs": self.paragraphs,
            "skipped": self.skipped,
            "unread": self.unread,
            "rules": self.rules.to_json(),
            "size": self.size,
            "built": _iso(self.built),
            "updated": _iso(self.updated),
            "problem": self.problem,
            "docs_found": self.docs_found,
            "up_to_date": self.up_to_date,
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "reread": self.reread,
            "ignored": [list(pair) for pair in self.ignored],
            "other_formats": self.other_formats,
            "unreadable_folders": [list(pair) for pair in self.unreadable_folders],
            "analyzer": self.analyzer,
            "analyzer_change": self.analyzer_change,
        }


@dataclass(frozen=True)
class IndexedDocument:
    """A document the index holds: its source (relative to the documents folder), how many
    paragraphs it gave, its title, and its size and modification time when it was indexed."""

    source: str
    paragraphs: int
    title: str
    size: int
    modified: datetime

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "paragraphs": self.paragraphs,
            "title": self.title,
            "size": self.size,
            "modified": _iso(self.modified),
        }


def index_status(index_dir: Path) -> IndexStatus:
    """How the index in `index_dir` stands; raises IndexNotFound when there is none, and
    IndexDamaged when its manifest cannot be read."""
    index_dir = Path(index_dir)
    manifest = Manifest.existing(index_dir)
    status = IndexStatus(
        index_dir=index_dir,
        docs_dir=manifest.docs_dir,
        format=FORMAT_VERSION,
        documents=manifest.documents,
        paragraphs=manifest.paragraphs,
        skipped=dict(manifest.skipped),
        unread=dict(manifest.unread),
        rules=manifest.rules,
        size=_disk_size(index_dir),
        built=_time(manifest.built),
        updated=_time(manifest.updated or manifest.built),
        problem=generation_problem(index_dir, manifest),
        analyzer=dict(manifest.analyzer),
        analyzer_change=analyzer_change(manifest),
    )
    try:
        found = scan(status.docs_dir, status.rules)
    except DocumentsNotFound:
        status.docs_found = False
        return status
    changes = changes_since(manifest, found.documents)
    status.added = [document.source for document in changes.added]
    status.changed = [document.source for document in changes.changed]
    status.removed = changes.removed
    status.reread = [document.source for document in changes.reread]
    status.ignored, status.other_formats = found.ignored, found.other_formats
    status.unreadable_folders = found.unreadable_folders
    return status


def indexed_documents(index_dir: Path) -> list[IndexedDocument]:
    """The documents the index in `index_dir` holds, by source; raises IndexNotFound or
    IndexDamaged."""
    from search.engine.postings import TermIndex

    manifest = Manifest.existing(index_dir)
    with translate_damage(index_dir), open_index(index_dir).searcher() as searcher:
        return describe(manifest, searcher, TermIndex(searcher.reader()), indexed_sources(manifest))


def indexed_sources(manifest: Manifest) -> list[str]:
    """The sources of the documents the index of `manifest` holds (those read, not skipped),
    sorted."""
    return sorted(source for source in manifest.files if source not in manifest.skipped)


def describe(manifest: Manifest, searcher, terms, sources: list[str]) -> list[IndexedDocument]:
    """Each document of `sources` as the index of `manifest` holds it, read through its Whoosh
    `searcher` and TermIndex `terms`: its paragraphs, title, size and modification time."""
    from search.engine.postings import live_docnums

    listed = []
    for source in sources:
        size, mtime_ns = manifest.files[source]
        docnums = live_docnums(terms, SOURCE, source)
        title = searcher.stored_fields(docnums[0])[TITLE] if docnums else ""
        modified = datetime.fromtimestamp(mtime_ns / 1e9).astimezone()
        listed.append(IndexedDocument(source, len(docnums), title, size, modified))
    return listed


def _disk_size(index_dir: Path) -> int:
    """Bytes of every file under `index_dir`, each inode once (generations share hard links)."""
    seen, total = set(), 0
    for folder, _, files in os.walk(index_dir):
        for name in files:
            try:
                info = os.lstat(os.path.join(folder, name))
            except OSError:
                continue  # removed meanwhile by a build
            if (info.st_dev, info.st_ino) not in seen:
                seen.add((info.st_dev, info.st_ino))
                total += info.st_size
    return total


def _time(text) -> datetime | None:
    try:
        return datetime.strptime(text, TIME_FORMAT)
    except (TypeError, ValueError):
        return None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
