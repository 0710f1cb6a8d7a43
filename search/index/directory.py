"""An index directory: the names of what it holds (the manifest, the writer's lock, generation
folders, manifests being written), the refusal of a folder that holds something else, and the
one line that says an index cannot be read and how to rebuild it."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from search.errors import NotAnIndex

MANIFEST_NAME = "kensaku.json"
LOCK_NAME = "kensaku.lock"
GENERATION_PREFIX = "gen-"
SHARD_PREFIX = "shard-"  # a sharded index's shards (see shards)
DEFAULT_INDEX_DIR = Path("index")
# Files a fresh checkout's index/ directory may hold besides an index.
_HARMLESS_NAMES = {".gitignore", ".gitkeep", LOCK_NAME}
# The manifest being written by a build (left behind when the build was killed).
TEMPORARY_MANIFEST = re.compile(rf"\.{re.escape(MANIFEST_NAME)}\.[0-9a-f-]+\.tmp")


def temporary_manifest_name() -> str:
    """A name for a manifest being written, which TEMPORARY_MANIFEST matches."""
    return f".{MANIFEST_NAME}.{os.getpid()}-{time.time_ns():x}.tmp"


def is_generation_name(name: object) -> bool:
    """Whether `name` is a generation directory's name, and nothing that leads elsewhere."""
    return (
        isinstance(name, str)
        and name.startswith(GENERATION_PREFIX)
        and "/" not in name
        and os.sep not in name
        and "\0" not in name
    )


def refuse_foreign_directory(index_dir: Path) -> None:
    """Raise NotAnIndex when `index_dir` (without a manifest) holds what kensaku did not put."""
    foreign = [p.name for p in index_dir.iterdir() if not _is_ours(p.name)]
    if foreign:
        raise NotAnIndex(
            f"{index_dir} is not a kensaku index (it holds {foreign[0]!r} and "
            "perhaps more); choose an empty or new directory for --index"
        )


def _is_ours(name: str) -> bool:
    """Whether an index directory may hold `name`: kensaku's files, left-overs of killed builds."""
    return (
        name in _HARMLESS_NAMES
        or name.startswith((GENERATION_PREFIX, SHARD_PREFIX))
        or TEMPORARY_MANIFEST.fullmatch(name) is not None
    )


def damaged(index_dir: Path, reason: str) -> str:
    """The message of an index that cannot be read for `reason`, saying how to rebuild it."""
    return (
        f"the index in {index_dir} cannot be read ({reason}); "
        f"run `kensaku index --rebuild --index {index_dir}` to rebuild it"
    )


def fsync_directory(path: Path) -> None:
    """Make the entries of directory `path` (new, renamed files) durable."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
