"""Refresh: keep a served index in step with its documents, from a thread of the serving process.

Every `interval` seconds the refresher lists the documents (their sizes and modification times,
as `kensaku search` does before a search) and, when they differ from those the index was built
from, runs `kensaku index` in a child process; files with new times but the same bytes only have
their new times recorded, here (see index.changes.record_new_stamps). The update writes a new generation
and makes it live; the server's LiveIndex opens it at its next request. A child process rather than a call: indexing
forks worker processes, which a process running threads must not do, and a build that fails or is
killed cannot take the server down with it.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from search.errors import KensakuError
from search.index.changes import record_new_stamps, stamps_current
from search.index.manifest import Manifest
from search.index.sharding import sharded_current
from search.index.shards import ShardedManifest
from search.ingest.discovery import scan


class Refresher:
    """Updates the index in `index_dir` when the documents in `docs_dir` change (`docs_dir`
    None: the directory the index was built from). `say` hears what it did, one line at a time."""

    def __init__(
        self,
        docs_dir: Path | None,
        index_dir: Path,
        interval: float,
        say: Callable[[str], None],
        cluster: str | None = None,
    ) -> None:
        self.docs_dir = docs_dir
        self.cluster = cluster
        self.index_dir = Path(index_dir)
        self.interval = interval
        self._say = say
        self._stopping = threading.Event()
        self._child: subprocess.Popen | None = None
        self._child_lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name="kensaku-refresh", daemon=True)

    @property
    def updating(self) -> bool:
        """Whether an update of the index is running."""
        return self._child is not None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop watching; an update under way is stopped too (the index stays as it was)."""
        self._stopping.set()
        with self._child_lock:
            if self._child is not None:
                self._child.terminate()
        if self._thread.is_alive():
            self._thread.join()

    def _watch(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                docs_dir = self._changed_documents()
            except (KensakuError, OSError) as error:
                self._say(f"cannot check the documents: {error}")
                continue
            if docs_dir is not None:
                self._update(docs_dir)

    def _changed_documents(self) -> Path | None:
        """The documents directory when its documents changed since the index was built. Files
        given new modification times with the same bytes are no change: their new stamps are
        recorded here, without an update."""
        sharded = ShardedManifest.load(self.index_dir)
        if sharded is not None:
            folder = self.docs_dir or sharded.docs_dir
            if not folder.is_dir():
                return None
            found = scan(folder, sharded.rules).documents
            current = sharded.docs_dir == folder.resolve() and sharded_current(
                sharded, self.index_dir, found
            )
            return None if current else folder
        manifest = Manifest.load(self.index_dir)
        docs_dir = self.docs_dir or (manifest.docs_dir if manifest else None)
        if manifest is None or docs_dir is None or not docs_dir.is_dir():
            return None
        rules = manifest.rules
        documents = scan(docs_dir, rules).documents
        if stamps_current(manifest, docs_dir, documents, rules) or record_new_stamps(
            self.index_dir, manifest, docs_dir, documents, rules
        ):
            return None
        return docs_dir

    def _update(self, docs_dir: Path) -> None:
        command = [
            sys.executable,
            "-m",
            "search",
            "index",
            "--docs",
            str(docs_dir),
            "--index",
            str(self.index_dir),
            *(["--cluster", self.cluster] if self.cluster else []),
        ]
        with self._child_lock:
            if self._stopping.is_set():
                return
            self._say(f"documents in {docs_dir} changed: updating the index")
            self._child = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        try:
            output, errors = self._child.communicate()
        finally:
            with self._child_lock:
                child, self._child = self._child, None
        if self._stopping.is_set():
            return
        lines = (output if child.returncode == 0 else errors).strip().splitlines()
        self._say(lines[-1] if lines else f"kensaku index exited with {child.returncode}")
