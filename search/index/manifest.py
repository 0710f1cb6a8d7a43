"""The manifest, `kensaku.json`: which generation folder holds the live index, and what it was
built from (the documents folder, the rules, each file's stamp and digest), with counts and times.

A build replaces it in one `os.replace` (`Manifest.save`), so a reader always sees a whole
manifest, the old or the new. Its JSON keys are the file's contract: an index written by an
earlier kensaku of the same FORMAT_VERSION reads as it was written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from search.errors import IndexDamaged, IndexNotFound, IndexOutdated, NotAnIndex
from search.index.directory import (
    MANIFEST_NAME,
    damaged,
    fsync_directory,
    is_generation_name,
    refuse_foreign_directory,
    temporary_manifest_name,
)
from search.ingest.discovery import DocumentFile, Rules

FORMAT_VERSION = 13  # 2: word_pairs, subword_pairs; 3: page, column, section; 4: search.schema
# pickled; 5: kensaku's own codec (engine.format.CompactCodec); 6: stored fields deflated in
# blocks of documents (engine.format.StoredColumn); 7: same_text a fixed-width column; 8: chars;
# 9: the schema and codec pickled by their new paths (search.index.schema,
# search.index.codec.whoosh); 10: the document's date (stored, and a column), and each segment's
# vocabulary for suggestions (search.index.vocabulary); 11: bit-packed postings and terms, no
# deflate (KSp2, KSt2, KSs3: strings as UTF-16), duplicate keys in base64; 12: skip data,
# docnums, weights and the terms' front coding and sizes packed at their quick widths; 13: text
# folded for substrings without format characters and variation selectors, ﾞ and ﾟ composed

Stamp = list[int]  # a file's size and modification time (discovery.DocumentFile.stamp)


@dataclass(frozen=True)
class Manifest:
    """What the manifest says: the live `generation`, the `docs_dir` it was built from with
    `rules`, each file's `files` stamp and `digests` (source: content digest), the files
    `skipped` (source: why), the files indexed with text that could not be read (`unread`,
    source: pages), the libraries each file was read with where they matter (`extractors`,
    source: {name: version}), the versions of SudachiPy and its dictionary that cut the text
    into words (`analyzer`, name: version; none recorded by an earlier kensaku), the counts, when it was `built` whole and last `updated` (local
    time, ISO 8601), and the size of each file of the generation (`sizes`)."""

    generation: str
    docs_dir: Path
    files: dict[str, Stamp]
    documents: int = 0
    paragraphs: int = 0
    built: str | None = None
    updated: str | None = None
    digests: dict[str, str] = field(default_factory=dict)
    unread: dict[str, list[int]] = field(default_factory=dict)
    extractors: dict[str, dict[str, str]] = field(default_factory=dict)
    analyzer: dict[str, str] = field(default_factory=dict)
    rules: Rules = field(default_factory=Rules)
    skipped: dict[str, str] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    format: int = FORMAT_VERSION

    @classmethod
    def load(cls, index_dir: Path) -> Manifest | None:
        """The manifest of the index in `index_dir`, or None when there is no index there yet;
        raises NotAnIndex, IndexDamaged, or IndexOutdated for another version's index."""
        index_dir = Path(index_dir)
        if not index_dir.exists():
            return None
        if not index_dir.is_dir():
            raise NotAnIndex(f"{index_dir} is not a directory, so it cannot hold an index")
        path = index_dir / MANIFEST_NAME
        if not path.exists():
            refuse_foreign_directory(index_dir)
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            data["files"], data["docs_dir"]
            if not is_generation_name(data["generation"]):
                raise ValueError("the live generation is not a generation directory's name")
        except (OSError, ValueError, KeyError, TypeError):
            raise IndexDamaged(damaged(index_dir, "its manifest is unreadable")) from None
        if data.get("format") != FORMAT_VERSION:
            raise IndexOutdated(
                damaged(index_dir, "it was built by another version of kensaku"),
                data["docs_dir"],
                data.get("rules"),
            )
        try:
            return cls.from_json(data)
        except (ValueError, TypeError, AttributeError):
            raise IndexDamaged(damaged(index_dir, "its manifest is unreadable")) from None

    @classmethod
    def existing(cls, index_dir: Path) -> Manifest:
        """The manifest of the index in `index_dir`; raises IndexNotFound when there is none."""
        manifest = cls.load(index_dir)
        if manifest is None:
            raise IndexNotFound(
                f"no index in {index_dir} yet; build one with "
                f"`kensaku index --docs DIR --index {index_dir}`"
            )
        return manifest

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        """The manifest of its JSON form (keys an earlier kensaku left out take defaults)."""
        digests, sizes = data.get("digests"), data.get("sizes")
        unread, extractors = data.get("unread"), data.get("extractors")
        analyzer = data.get("analyzer")
        return cls(
            generation=data["generation"],
            docs_dir=Path(data["docs_dir"]),
            files=dict(data["files"]),
            documents=data.get("documents", 0),
            paragraphs=data.get("paragraphs", 0),
            built=data.get("built"),
            updated=data.get("updated"),
            digests=digests if isinstance(digests, dict) else {},
            unread=unread if isinstance(unread, dict) else {},
            extractors=extractors if isinstance(extractors, dict) else {},
            analyzer=analyzer if isinstance(analyzer, dict) else {},
            rules=Rules.from_json(data.get("rules")),
            skipped=dict(data.get("skipped") or {}),
            sizes=sizes if isinstance(sizes, dict) else {},
            format=data["format"],
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON form, its keys in the order the file has always had them."""
        return {
            "format": self.format,
            "generation": self.generation,
            "docs_dir": str(self.docs_dir),
            "documents": self.documents,
            "paragraphs": self.paragraphs,
            # When the index was last built whole, and when last changed (by a build or update).
            "built": self.built,
            "updated": self.updated,
            "files": self.files,
            "digests": self.digests,
            "unread": self.unread,
            "extractors": self.extractors,
            "analyzer": self.analyzer,
            "rules": self.rules.to_json(),
            "skipped": self.skipped,
            "sizes": self.sizes,
        }

    def save(self, index_dir: Path) -> None:
        """Make this the index's manifest in one atomic step that survives a crash (the caller
        holds the writer lock; see `save_manifest`)."""
        save_manifest(index_dir, self.to_json())

    def restamped(self, documents: list[DocumentFile]) -> Manifest:
        """This manifest with the stamps of `documents` (whose bytes are those indexed)."""
        return dataclasses.replace(self, files={d.source: d.stamp for d in documents})

    def summary(self) -> dict[str, Any]:
        """What the manifest says of its index: documents, paragraphs, when it was built (local
        time, ISO 8601) and its format version."""
        return {
            "documents": self.documents,
            "paragraphs": self.paragraphs,
            "built": self.built,
            "format": self.format,
        }


def save_manifest(index_dir: Path, data: dict[str, Any]) -> None:
    """Make `data` the manifest of the index in `index_dir` in one atomic step that survives a
    crash.

    The caller holds the writer lock. The new manifest is written to a temporary file, flushed
    to disk, renamed over the old one, and the rename flushed, so that a reader, a crash or a
    SIGKILL at any moment sees the old manifest or the new one, whole.
    """
    encoded = json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")
    temporary = Path(index_dir) / temporary_manifest_name()
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(descriptor, "wb") as file:
            file.write(encoded)
            file.flush()
            os.fsync(descriptor)
        os.replace(temporary, Path(index_dir) / MANIFEST_NAME)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    fsync_directory(Path(index_dir))


def recorded_docs_dir(index_dir: Path) -> Path | None:
    """The documents directory the index was built from; None without a readable manifest."""
    try:
        manifest = Manifest.load(index_dir)
    except IndexOutdated as outdated:  # built by another version: rebuilt from the same folder
        return Path(outdated.docs_dir)
    except IndexDamaged:
        return None
    return manifest.docs_dir if manifest else None


def recorded_rules(manifest: Manifest | None) -> Rules:
    """The include and exclude rules the index was built with (none for a new index)."""
    return manifest.rules if manifest else Rules()


def readable_manifest(index_dir: Path) -> Manifest | None:
    """The live manifest, or None for a new or damaged index (which a build replaces)."""
    try:
        return Manifest.load(index_dir)
    except IndexDamaged:
        return None
