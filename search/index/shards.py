"""A sharded index: shards that are each an ordinary index, and the top-level manifest naming them.

    index/
      kensaku.json   the collection's manifest: each shard, the generation of it the collection
                     reads, the run of documents it holds, its counts and field lengths
      shard-00/      an ordinary index: its own manifest, generations and writer lock
      shard-01/      ...

A shard holds a contiguous run of the documents in the order of their sources: from its `first`
source up to the next shard's, so that the docnums of the shards, one after another, follow the
order of one index of all the documents. The collection's manifest is replaced in one
`os.replace`, as an index's is: it names the generation of every shard, so a reader opens the
shards as one build left them all, never some before and some after a build.
"""

from __future__ import annotations

import contextlib
import json
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from search.errors import IndexDamaged, IndexOutdated
from search.index.directory import MANIFEST_NAME, SHARD_PREFIX, damaged, is_generation_name
from search.index.manifest import FORMAT_VERSION, save_manifest
from search.index.opening import describe, translate_damage
from search.ingest.discovery import Rules


@dataclass(frozen=True)
class ShardEntry:
    """One shard as the collection's manifest names it: its folder (`name`), the first source it
    may hold (every source from it up to the next shard's first; "" for the first shard), the
    generation of it the collection reads, and what that generation holds: documents and
    paragraphs, documents counted as Whoosh counts them for BM25F (deleted or not, and live)
    and each field's total length."""

    name: str
    first: str
    generation: str
    documents: int = 0
    paragraphs: int = 0
    doc_count_all: int = 0
    doc_count: int = 0
    field_lengths: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ShardEntry:
        entry = cls(
            name=data["name"],
            first=data["first"],
            generation=data["generation"],
            documents=data["documents"],
            paragraphs=data["paragraphs"],
            doc_count_all=data["doc_count_all"],
            doc_count=data["doc_count"],
            field_lengths={str(k): int(v) for k, v in data["field_lengths"].items()},
        )
        if not (entry.name.startswith(SHARD_PREFIX) and "/" not in entry.name):
            raise ValueError(f"{entry.name!r} is not a shard's folder")
        if not is_generation_name(entry.generation) or not isinstance(entry.first, str):
            raise ValueError("a shard's generation or first source is not one")
        return entry

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "first": self.first,
            "generation": self.generation,
            "documents": self.documents,
            "paragraphs": self.paragraphs,
            "doc_count_all": self.doc_count_all,
            "doc_count": self.doc_count,
            "field_lengths": self.field_lengths,
        }


@dataclass(frozen=True)
class ShardedManifest:
    """The manifest of a sharded index: the documents folder and rules it was built from, its
    shards in the order of their documents, totals, files skipped (source: why), and when it was
    built whole and last updated."""

    docs_dir: Path
    shards: list[ShardEntry]
    rules: Rules = field(default_factory=Rules)
    documents: int = 0
    paragraphs: int = 0
    skipped: dict[str, str] = field(default_factory=dict)
    built: str | None = None
    updated: str | None = None
    format: int = FORMAT_VERSION

    @classmethod
    def load(cls, index_dir: Path) -> ShardedManifest | None:
        """The manifest of the sharded index in `index_dir`; None when `index_dir` holds no
        index or an index that is not sharded. Raises IndexDamaged for a manifest that cannot be
        read, IndexOutdated for another version's."""
        path = Path(index_dir) / MANIFEST_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            raise IndexDamaged(damaged(Path(index_dir), "its manifest is unreadable")) from None
        if not isinstance(data, dict) or "shards" not in data:
            return None
        if data.get("format") != FORMAT_VERSION:
            raise IndexOutdated(
                damaged(Path(index_dir), "it was built by another version of kensaku"),
                str(data.get("docs_dir", "")),
                data.get("rules"),
            )
        try:
            return cls.from_json(data)
        except (KeyError, ValueError, TypeError, AttributeError):
            raise IndexDamaged(damaged(Path(index_dir), "its manifest is unreadable")) from None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ShardedManifest:
        shards = [ShardEntry.from_json(entry) for entry in data["shards"]]
        if not shards or shards[0].first != "":
            raise ValueError("a sharded index has shards, the first from the first source")
        if [entry.first for entry in shards] != sorted({entry.first for entry in shards}):
            raise ValueError("the shards' runs of documents are out of order")
        return cls(
            docs_dir=Path(data["docs_dir"]),
            shards=shards,
            rules=Rules.from_json(data.get("rules")),
            documents=data.get("documents", 0),
            paragraphs=data.get("paragraphs", 0),
            skipped=dict(data.get("skipped") or {}),
            built=data.get("built"),
            updated=data.get("updated"),
            format=data["format"],
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "docs_dir": str(self.docs_dir),
            "documents": self.documents,
            "paragraphs": self.paragraphs,
            "built": self.built,
            "updated": self.updated,
            "rules": self.rules.to_json(),
            "skipped": self.skipped,
            "statistics": self.statistics(),
            "shards": [entry.to_json() for entry in self.shards],
        }

    def save(self, index_dir: Path) -> None:
        """Make this the collection's manifest in one atomic step (the caller holds the
        collection's writer lock)."""
        save_manifest(Path(index_dir), self.to_json())

    def statistics(self) -> dict[str, Any]:
        """The collection's counts and field lengths: its shards', summed."""
        lengths: dict[str, int] = {}
        for entry in self.shards:
            for name, length in entry.field_lengths.items():
                lengths[name] = lengths.get(name, 0) + length
        return {
            "doc_count_all": sum(entry.doc_count_all for entry in self.shards),
            "doc_count": sum(entry.doc_count for entry in self.shards),
            "field_lengths": lengths,
        }

    def shard_of(self, source: str) -> int:
        """The number of the shard whose run of documents `source` falls in."""
        return bisect_right([entry.first for entry in self.shards], source) - 1

    def summary(self) -> dict[str, Any]:
        """What the manifest says of its index: documents, paragraphs, when it was built, its
        format version and its number of shards."""
        return {
            "documents": self.documents,
            "paragraphs": self.paragraphs,
            "built": self.built,
            "format": self.format,
            "shards": len(self.shards),
        }


def shard_name(number: int) -> str:
    """The folder of shard `number`."""
    return f"{SHARD_PREFIX}{number:02d}"


@contextlib.contextmanager
def translate_shard_damage(index_dir: Path, name: str) -> Iterator[None]:
    """`translate_damage` of a shard of the sharded index in `index_dir`: the one line names the
    shard, and says to rebuild the whole index."""
    try:
        with translate_damage(Path(index_dir) / name):
            yield
    except IndexDamaged as damage:
        cause = damage.__cause__
        reason = describe(cause) if isinstance(cause, Exception) else str(damage)
        raise IndexDamaged(damaged(Path(index_dir), f"its {name} is damaged: {reason}")) from cause


def open_shard(index_dir: Path, name: str, generation: str):
    """The Whoosh index of generation `generation` of the shard `name` (the one the collection
    reads); IndexDamaged, naming the shard, when it cannot be opened."""
    from whoosh.index import open_dir

    with translate_shard_damage(index_dir, name):
        path = Path(index_dir) / name / generation
        if not path.is_dir():
            raise FileNotFoundError(f"its generation {generation} is missing")
        return open_dir(str(path))
