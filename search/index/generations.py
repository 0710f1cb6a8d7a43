"""Generations: the folders that each hold one whole Whoosh index, the writer's lock, and how a
new generation is started, sealed and the old ones removed.

A build writes a new generation beside the live one (an update starts it from hard links to the
live one's segment files) while holding the writer lock, then makes it live by saving the
manifest that names it (manifest.Manifest.save). The previous generation stays while a search may
still read it; older ones and what killed builds left behind are removed under the lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from search.errors import IndexBusy
from search.index.directory import (
    GENERATION_PREFIX,
    LOCK_NAME,
    TEMPORARY_MANIFEST,
    fsync_directory,
)
from search.ingest.reporting import Warn

LOCK_WAIT_SECONDS = 30.0


def new_generation_name() -> str:
    """A name for a new generation folder, unique to this process and moment."""
    return f"{GENERATION_PREFIX}{time.time_ns():x}-{os.getpid()}"


@contextlib.contextmanager
def writer_lock(
    index_dir: Path, wait: float | None = None, notify: Warn | None = None
) -> Iterator[None]:
    """Hold the index's writer lock, waiting at most `wait` seconds (default LOCK_WAIT_SECONDS)
    for another writer, and telling `notify` at once when it waits. The lock is an flock, so a
    killed writer releases it."""
    wait = LOCK_WAIT_SECONDS if wait is None else wait
    descriptor = os.open(index_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait
        waiting = False
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexBusy(
                        f"another kensaku process is writing the index in "
                        f"{index_dir}; try again when it is done"
                    ) from None
                if not waiting and notify:
                    notify(
                        f"another kensaku process is writing the index in {index_dir}: "
                        f"waiting for it to finish (up to {wait:g} s)"
                    )
                waiting = True
                time.sleep(0.1)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def link_generation(live: Path, path: Path, rewritten: str) -> None:
    """Start generation `path` as a copy of `live`: hard links, as Whoosh never rewrites a segment
    file in place (it writes new files and a new table of contents, then deletes the old). The
    file named `rewritten` is left out: written anew, a shared inode would change the old."""
    path.mkdir(mode=0o700)
    for item in live.iterdir():
        if item.name == rewritten or not item.is_file():
            continue
        try:
            os.link(item, path / item.name)
        except OSError:
            shutil.copy2(item, path / item.name)


def owner_only(index_dir: Path) -> None:
    """Make the index directory readable by its owner only, as a new one is created."""
    with contextlib.suppress(PermissionError):
        if index_dir.stat().st_mode & 0o077:
            index_dir.chmod(0o700)


def seal_generation(path: Path) -> dict[str, int]:
    """Make a written generation owner-only and durable before the manifest names it; returns
    the size of each of its files (by path relative to it), for opening.generation_problem."""
    sizes = {}
    for folder, _, files in os.walk(path):
        os.chmod(folder, 0o700)
        for name in files:
            file_path = os.path.join(folder, name)
            os.chmod(file_path, 0o600)
            descriptor = os.open(file_path, os.O_RDONLY)
            try:
                os.fsync(descriptor)
                sizes[os.path.relpath(file_path, path)] = os.fstat(descriptor).st_size
            finally:
                os.close(descriptor)
        fsync_directory(Path(folder))
    return sizes


def remove_generations(index_dir: Path, keep: set[str]) -> None:
    """Remove every generation directory not in `keep`, and every temporary manifest: the
    left-overs of interrupted builds (the caller holds the writer lock, so no build is running)."""
    for path in index_dir.iterdir():
        if path.name.startswith(GENERATION_PREFIX) and path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)
        elif TEMPORARY_MANIFEST.fullmatch(path.name):
            with contextlib.suppress(OSError):
                path.unlink()
