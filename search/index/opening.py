"""Opening an index: the live generation's Whoosh index, read together with the manifest that
names it, and what reading a damaged index raises turned into one line (IndexDamaged) that says
how to rebuild it."""

from __future__ import annotations

import contextlib
import pickle
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from search.errors import IndexDamaged, KensakuError
from search.index.directory import damaged
from search.index.manifest import Manifest

if TYPE_CHECKING:
    from whoosh.index import FileIndex

# What reading a damaged Whoosh index raises: its own errors are added in translate_damage.
_READ_ERRORS = (
    OSError,
    EOFError,
    ValueError,
    LookupError,
    TypeError,
    AttributeError,
    struct.error,
    pickle.UnpicklingError,
    zlib.error,
)
_DESCRIBE_CHARS = 160


def open_index(index_dir: Path) -> FileIndex:
    """The live Whoosh index in `index_dir`; raises IndexDamaged when it cannot be opened."""
    return open_live_index(index_dir)[1]


def open_live_index(index_dir: Path) -> tuple[Manifest, FileIndex]:
    """The manifest of the index in `index_dir` and the Whoosh index of the generation it names
    (read together: a build may replace the manifest at any moment); raises IndexNotFound, or
    IndexDamaged when it cannot be opened."""
    from whoosh.index import open_dir

    generation, problem = None, ""
    while True:
        manifest = Manifest.existing(index_dir)
        if manifest.generation == generation:
            raise IndexDamaged(damaged(index_dir, problem))
        generation = manifest.generation
        try:
            return manifest, open_dir(str(Path(index_dir) / generation))
        except Exception as error:  # Whoosh raises many kinds on damaged files
            # Try again if builds replaced this generation meanwhile; damage leaves it live.
            problem = describe(error)


@contextlib.contextmanager
def translate_damage(index_dir: Path) -> Iterator[None]:
    """Turn what reading a damaged index raises (Whoosh, OS, unpickling errors) into IndexDamaged.

    Whoosh reads segment files lazily, so damage may surface only at search time: wrap every call
    that reads the index (opening it, searching, reading stored fields) in this.
    """
    from whoosh.filedb.filestore import StorageError
    from whoosh.filedb.filetables import FileFormatError
    from whoosh.index import IndexError as WhooshIndexError

    try:
        yield
    except KensakuError:
        raise
    except (*_READ_ERRORS, WhooshIndexError, StorageError, FileFormatError) as error:
        raise IndexDamaged(damaged(Path(index_dir), describe(error))) from error
    except Exception as error:
        if type(error) is not Exception:  # Whoosh's format checks raise plain Exception
            raise
        raise IndexDamaged(damaged(Path(index_dir), describe(error))) from error


def generation_problem(index_dir: Path, manifest: Manifest) -> str | None:
    """What is wrong with the files of the live generation, or None when they look whole: a
    missing directory or file, a file not the size it was written with, a table of contents that
    cannot be read. Cheap (a stat a file): a file garbled in place is found only when read."""
    path = Path(index_dir) / manifest.generation
    if not path.is_dir():
        return f"its live generation {manifest.generation} is missing"
    for name, size in manifest.sizes.items():
        try:
            actual = (path / name).stat().st_size
        except OSError:
            return f"{manifest.generation}/{name} is missing"
        if actual != size:
            return f"{manifest.generation}/{name} holds {actual:,} bytes of the {size:,} written"
    from whoosh.index import open_dir

    try:
        with open_dir(str(path)).reader() as reader:
            reader.doc_count()
    except Exception as error:  # Whoosh raises many kinds on damaged files
        return describe(error)
    return None


def describe(error: Exception) -> str:
    """An error in one line: its type, and the start of its message's first line."""
    lines = str(error).splitlines()
    text = lines[0][:_DESCRIBE_CHARS] if lines else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
