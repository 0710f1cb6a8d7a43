"""Live index: the one open Searcher a long-running process answers with, following the manifest.

A build or an update makes a new generation live by replacing the index's manifest in one atomic
rename (see search.index). Before each use, `LiveIndex` looks at the manifest file (one stat); when a
build replaced it, that use opens the generation it names, and the Searcher of the previous one is
closed as soon as the last use of it ends. Every use so reads one whole generation, the old or the
new, never a half-written one, and a process serving queries needs no restart to see a rebuilt index.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from search.errors import IndexBusy, IndexDamaged
from search.index.directory import MANIFEST_NAME
from search.index.manifest import Manifest
from search.index.shards import ShardedManifest
from search.service.searcher import Searcher

# How often opening is tried again when builds keep replacing the manifest meanwhile.
_OPEN_ATTEMPTS = 10

# (inode, modification time, size) of the manifest file: a new manifest is a new file.
_Stamp = tuple[int, int, int]


@dataclass(frozen=True)
class _Manifest:
    """What a manifest says of the index a LiveIndex follows: the generation it names (of each
    shard, for a sharded index), and its summary."""

    generation: object
    summary: dict


@dataclass
class _Opened:
    """One generation's open Searcher, the manifest naming it, and how many uses hold it."""

    searcher: Searcher
    manifest: _Manifest
    stamp: _Stamp | None
    users: int = 0
    retired: bool = False


class LiveIndex:
    """The live generation of the index in `index_dir`, opened once and followed across builds.

    Use `with live.searcher() as searcher:` for each request; threads may do so at once.
    """

    def __init__(
        self,
        index_dir: Path,
        synonyms_file: Path | None = None,
        sudachi_synonyms: bool = False,
        cluster: str | None = None,
    ) -> None:
        self.index_dir = Path(index_dir)
        self._searcher_options = (synonyms_file, sudachi_synonyms, cluster)
        self._lock = threading.Lock()
        self._current: _Opened | None = self._open()

    @contextlib.contextmanager
    def searcher(self) -> Iterator[Searcher]:
        """The Searcher of the live generation, held open until the block ends."""
        opened = self._hold()
        try:
            yield opened.searcher
        finally:
            self._release(opened)

    def status(self) -> dict:
        """The live index's documents, paragraphs, build time and format version."""
        opened = self._hold()
        self._release(opened)
        return opened.manifest.summary

    def close(self) -> None:
        """Close the Searcher now, or when its last use ends."""
        with self._lock:
            opened, self._current = self._current, None
            if opened is not None:
                self._retire(opened)

    def _hold(self) -> _Opened:
        stamp = self._stamp()
        with self._lock:
            if self._current is None:
                raise IndexDamaged(f"the index in {self.index_dir} is closed")
            if stamp != self._current.stamp:
                self._follow(stamp)
            self._current.users += 1
            return self._current

    def _release(self, opened: _Opened) -> None:
        with self._lock:
            opened.users -= 1
            if opened.retired and not opened.users:
                opened.searcher.close()

    def _follow(self, stamp: _Stamp | None) -> None:
        """Open the generation the replaced manifest names, unless it is the one open."""
        current = self._current
        assert current is not None, "a closed LiveIndex follows nothing"
        manifest = self._manifest()
        if manifest.generation == current.manifest.generation:
            current.manifest, current.stamp = manifest, stamp
            return
        self._current = self._open()
        self._retire(current)

    def _retire(self, opened: _Opened) -> None:
        opened.retired = True
        if not opened.users:
            opened.searcher.close()

    def _open(self) -> _Opened:
        """A Searcher of the live generation, with the manifest that names it: one read before
        opening and one after must agree, or a build replaced it meanwhile."""
        for _ in range(_OPEN_ATTEMPTS):
            stamp = self._stamp()
            before = self._manifest()
            synonyms_file, sudachi_synonyms, cluster = self._searcher_options
            searcher = Searcher(self.index_dir, synonyms_file, sudachi_synonyms, cluster)
            after = self._manifest()
            if after.generation == before.generation:
                return _Opened(searcher, before, stamp)
            searcher.close()
        raise IndexBusy(f"builds keep replacing the index in {self.index_dir}; try again later")

    def _manifest(self) -> _Manifest:
        sharded = ShardedManifest.load(self.index_dir) if self.index_dir.is_dir() else None
        if sharded is not None:
            generations = tuple(entry.generation for entry in sharded.shards)
            return _Manifest(generations, sharded.summary())
        manifest = Manifest.load(self.index_dir)
        if manifest is None:
            raise IndexDamaged(
                f"no index in {self.index_dir}; run `kensaku index --index {self.index_dir}`"
            )
        return _Manifest(manifest.generation, manifest.summary())

    def _stamp(self) -> _Stamp | None:
        try:
            status = os.stat(self.index_dir / MANIFEST_NAME)
        except OSError:
            return None
        return status.st_ino, status.st_mtime_ns, status.st_size
