"""Status: what an index holds and how it stands, for `kensaku status` and `kensaku documents`.

`index_status` reads the manifest (the documents folder, counts, skipped files, files with text
that could not be read, rules, when the index was built and last updated), measures the index on
disk, checks that the live generation's files are whole, and compares the documents folder with
what was indexed (files added, changed or removed since, a file with a new modification time but
the same bytes not counted as changed, files read with a version of a library other than the one
installed now, what its rules leave out now, and the folders that cannot be listed).
`indexed_documents` lists each document the index holds with its paragraph count and title.
Neither writes anything. Of a sharded index (search.index.shards), both tell of the whole and of
each shard.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from search.errors import DocumentsNotFound, IndexDamaged
from search.index.changes import analyzer_change, changes_since, describe_analyzer
from search.index.manifest import FORMAT_VERSION, Manifest
from search.index.opening import generation_problem, open_index, translate_damage
from search.index.schema import SOURCE, TITLE
from search.index.shards import ShardedManifest, ShardEntry, open_shard, translate_shard_damage
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
    # Of a sharded index, each shard (none for one index).
    shards: list[ShardStatus] = field(default_factory=list)

    @property
    def analyzer_text(self) -> str:
        """`SudachiPy 0.7.0 with sudachidict-core 20261015`, or `none recorded`."""
        return describe_analyzer(self.analyzer)

    @property
    def up_to_date(self) -> bool:
        """True when the documents folder is there, no file in it was added, changed or removed
        since the index was built nor needs reading again, and the SudachiPy and dictionary
        installed now cut its words."""
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
        } | ({"shards": [shard.to_dict() for shard in self.shards]} if self.shards else {})


@dataclass(frozen=True)
class ShardStatus:
    """A shard of a sharded index: its folder, the first source of its run of documents, what
    it holds, its bytes on disk, and what is wrong with its files (None when whole)."""

    name: str
    first: str
    documents: int
    paragraphs: int
    size: int
    problem: str | None

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "first": self.first,
            "documents": self.documents,
            "paragraphs": self.paragraphs,
            "size": self.size,
            "problem": self.problem,
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
    shard: str | None = None  # of a sharded index, the shard holding it

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "paragraphs": self.paragraphs,
            "title": self.title,
            "size": self.size,
            "modified": _iso(self.modified),
        } | ({"shard": self.shard} if self.shard else {})


def index_status(index_dir: Path) -> IndexStatus:
    """How the index in `index_dir` stands; raises IndexNotFound when there is none, and
    IndexDamaged when its manifest cannot be read."""
    index_dir = Path(index_dir)
    sharded = ShardedManifest.load(index_dir) if index_dir.is_dir() else None
    if sharded is not None:
        return _sharded_status(index_dir, sharded)
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
    return _compared(status, manifest)


def _compared(status: IndexStatus, manifest: Manifest) -> IndexStatus:
    """`status` with what changed in the documents folder since the index of `manifest` (its
    files and digests) was built."""
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


def _sharded_status(index_dir: Path, manifest: ShardedManifest) -> IndexStatus:
    """How a sharded index stands: the whole, and each shard."""
    shards = []
    files: dict = {}
    digests: dict = {}
    unread: dict = {}
    extractors: dict = {}
    owns = []
    for entry in manifest.shards:
        own = _shard_manifest(index_dir / entry.name)
        if own is not None:
            owns.append(own)
            files.update(own.files)
            digests.update(own.digests)
            unread.update(own.unread)
            extractors.update(own.extractors)
        shards.append(
            ShardStatus(
                entry.name,
                entry.first,
                entry.documents,
                entry.paragraphs,
                _disk_size(index_dir / entry.name),
                _shard_problem(index_dir, manifest, entry, own),
            )
        )
    analyzers = [own.analyzer for own in owns]
    problem = next(
        (f"its {shard.name} is damaged: {shard.problem}" for shard in shards if shard.problem),
        None,
    )
    status = IndexStatus(
        index_dir=index_dir,
        docs_dir=manifest.docs_dir,
        format=FORMAT_VERSION,
        documents=manifest.documents,
        paragraphs=manifest.paragraphs,
        skipped=dict(manifest.skipped),
        unread=dict(sorted(unread.items())),
        rules=manifest.rules,
        size=_disk_size(index_dir),
        built=_time(manifest.built),
        updated=_time(manifest.updated or manifest.built),
        problem=problem,
        analyzer=dict(analyzers[0]) if analyzers else {},
        analyzer_change=next(filter(None, map(analyzer_change, owns)), None),
        shards=shards,
    )
    # The documents of all the shards, as one index's manifest would list them.
    as_one = Manifest(
        manifest.shards[0].generation,
        manifest.docs_dir,
        files,
        digests=digests,
        unread=unread,
        extractors=extractors,
        skipped=dict(manifest.skipped),
    )
    return _compared(status, as_one)


def _shard_manifest(shard_dir: Path) -> Manifest | None:
    try:
        return Manifest.load(shard_dir)
    except IndexDamaged:
        return None


def _shard_problem(
    index_dir: Path, manifest: ShardedManifest, entry: ShardEntry, own: Manifest | None
) -> str | None:
    """What is wrong with the generation of a shard its collection reads, or None."""
    if own is None or own.generation != entry.generation:  # sizes unknown: the rest is checked
        own = Manifest(entry.generation, manifest.docs_dir, {})
    return generation_problem(index_dir / entry.name, own)


def indexed_documents(index_dir: Path) -> list[IndexedDocument]:
    """The documents the index in `index_dir` holds, by source; raises IndexNotFound or
    IndexDamaged."""
    from search.engine.postings import TermIndex

    index_dir = Path(index_dir)
    sharded = ShardedManifest.load(index_dir) if index_dir.is_dir() else None
    if sharded is None:
        manifest = Manifest.existing(index_dir)
        with translate_damage(index_dir), open_index(index_dir).searcher() as searcher:
            return describe(
                manifest, searcher, TermIndex(searcher.reader()), indexed_sources(manifest)
            )
    listed = []
    for entry in sharded.shards:
        own = _shard_manifest(index_dir / entry.name) or Manifest(
            entry.generation, sharded.docs_dir, {}
        )
        shard_index = open_shard(index_dir, entry.name, entry.generation)
        with translate_shard_damage(index_dir, entry.name), shard_index.searcher() as searcher:
            terms = TermIndex(searcher.reader())
            listed += describe(own, searcher, terms, indexed_sources(own), entry.name)
    return listed


def sharded_document_list(
    index_dir: Path, manifest: ShardedManifest, offset: int, limit: int | None
) -> tuple[int, list[IndexedDocument]]:
    """How many documents a sharded index holds, and those from `offset` on (at most `limit`),
    by source (the shards hold runs of sources in order), each read from its shard."""
    from search.engine.postings import TermIndex

    owns = [
        _shard_manifest(index_dir / entry.name) or Manifest(entry.generation, manifest.docs_dir, {})
        for entry in manifest.shards
    ]
    runs = [indexed_sources(own) for own in owns]
    end = None if limit is None else offset + limit
    listed: list[IndexedDocument] = []
    start = 0
    for entry, own, sources in zip(manifest.shards, owns, runs):
        chosen = sources[max(offset - start, 0) : None if end is None else max(end - start, 0)]
        start += len(sources)
        if not chosen:
            continue
        shard_index = open_shard(index_dir, entry.name, entry.generation)
        with translate_shard_damage(index_dir, entry.name), shard_index.searcher() as searcher:
            listed += describe(own, searcher, TermIndex(searcher.reader()), chosen, entry.name)
    return sum(map(len, runs)), listed


def indexed_sources(manifest: Manifest) -> list[str]:
    """The sources of the documents the index of `manifest` holds (those read, not skipped),
    sorted."""
    return sorted(source for source in manifest.files if source not in manifest.skipped)


def describe(
    manifest: Manifest, searcher, terms, sources: list[str], shard: str | None = None
) -> list[IndexedDocument]:
    """Each document of `sources` as the index of `manifest` holds it, read through its Whoosh
    `searcher` and TermIndex `terms`: its paragraphs, title, size and modification time (and
    the shard holding it, of a sharded index)."""
    from search.engine.postings import live_docnums

    listed = []
    for source in sources:
        size, mtime_ns = manifest.files[source]
        docnums = live_docnums(terms, SOURCE, source)
        title = searcher.stored_fields(docnums[0])[TITLE] if docnums else ""
        modified = datetime.fromtimestamp(mtime_ns / 1e9).astimezone()
        listed.append(IndexedDocument(source, len(docnums), title, size, modified, shard))
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
