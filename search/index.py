"""Index: store paragraphs in a Whoosh index on disk and keep it in step with the documents.

An index directory holds a manifest, `kensaku.json`, naming the generation directory that holds the
live Whoosh index and recording the documents it was built from (directory, and size and mtime of
each file). A rebuild writes a new generation beside the live one and then replaces the manifest in
one `os.replace`, so a reader always sees a whole index, the old or the new.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from .documents import DocumentFile, UnreadableDocument, find_documents, read_paragraphs
from .errors import IndexBusy, IndexDamaged, NotAnIndex

MANIFEST_NAME = "kensaku.json"
LOCK_NAME = "kensaku.lock"
GENERATION_PREFIX = "gen-"
FORMAT_VERSION = 1
LOCK_WAIT_SECONDS = 30.0
DEFAULT_DOCS_DIR = Path("seeds")
DEFAULT_INDEX_DIR = Path("index")
# Files a fresh checkout's index/ directory may hold besides an index.
_HARMLESS_NAMES = {".gitignore", ".gitkeep", LOCK_NAME}

# progress(documents done, documents in all, the document just done)
Progress = Callable[[int, int, DocumentFile], None]
Warn = Callable[[str], None]


@dataclass
class IndexSummary:
    """What a build did."""

    documents: int = 0
    paragraphs: int = 0
    seconds: float = 0.0
    skipped: list[str] = field(default_factory=list)


def schema():
    """The Whoosh schema: one document per paragraph."""
    from whoosh.fields import ID, STORED, TEXT, Schema

    from .analysis import SudachiTokenizer

    return Schema(
        source=ID(stored=True),
        title=STORED(),
        paragraph=STORED(),
        line=STORED(),
        text=STORED(),
        words=TEXT(analyzer=SudachiTokenizer("words"), phrase=True),
        subwords=TEXT(analyzer=SudachiTokenizer("subwords"), phrase=True),
    )


def read_manifest(index_dir: Path) -> dict | None:
    """The manifest of the index in `index_dir`, or None when there is no index there yet."""
    index_dir = Path(index_dir)
    if not index_dir.exists():
        return None
    if not index_dir.is_dir():
        raise NotAnIndex(f"{index_dir} is not a directory, so it cannot hold an index")
    manifest_path = index_dir / MANIFEST_NAME
    if not manifest_path.exists():
        _refuse_foreign_directory(index_dir)
        return None
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        manifest["generation"], manifest["files"], manifest["docs_dir"]
    except (OSError, ValueError, KeyError, TypeError):
        raise IndexDamaged(_damaged(index_dir, "its manifest is unreadable")) from None
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexDamaged(_damaged(index_dir, "it was built by another version of kensaku"))
    return manifest


def _refuse_foreign_directory(index_dir: Path) -> None:
    foreign = [p.name for p in index_dir.iterdir()
               if p.name not in _HARMLESS_NAMES and not p.name.startswith(GENERATION_PREFIX)]
    if foreign:
        raise NotAnIndex(f"{index_dir} is not a kensaku index (it holds {foreign[0]!r} and "
                         "perhaps more); choose an empty or new directory for --index")


def _damaged(index_dir: Path, reason: str) -> str:
    return (f"the index in {index_dir} cannot be read ({reason}); "
            f"run `kensaku index --rebuild --index {index_dir}` to rebuild it")


def open_index(index_dir: Path):
    """The live Whoosh index in `index_dir`; raises IndexDamaged when it cannot be opened."""
    from whoosh.index import open_dir

    manifest = read_manifest(index_dir)
    if manifest is None:
        raise IndexDamaged(f"no index in {index_dir}; run `kensaku index --index {index_dir}`")
    try:
        return open_dir(str(Path(index_dir) / manifest["generation"]))
    except Exception as error:  # Whoosh raises many kinds on damaged files
        raise IndexDamaged(_damaged(index_dir, _describe(error))) from None


def _describe(error: Exception) -> str:
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def documents_changed(manifest: dict, docs_dir: Path, documents: list[DocumentFile]) -> bool:
    """Whether `documents` differ from those the index was built from."""
    if manifest["docs_dir"] != str(Path(docs_dir).resolve()):
        return True
    return manifest["files"] != {d.source: d.stamp for d in documents}


def build_index(docs_dir: Path, index_dir: Path, progress: Progress | None = None,
                warn: Warn | None = None) -> IndexSummary:
    """Index every document under `docs_dir` from scratch into `index_dir`."""
    return _build(Path(docs_dir), Path(index_dir), find_documents(docs_dir), progress, warn)


def ensure_index(docs_dir: Path | None, index_dir: Path, notify: Warn | None = None,
                 progress: Progress | None = None, warn: Warn | None = None) -> IndexSummary | None:
    """Build the index when it is missing, rebuild it when the documents changed since.

    `docs_dir` None means the directory the index was built from, or `./seeds` for a new index;
    when that recorded directory has gone, the index is searched as it stands. Returns what a build
    did, or None when the index was current. `notify` hears why a build happens.
    """
    manifest = read_manifest(index_dir)
    if docs_dir is None:
        docs_dir = Path(manifest["docs_dir"]) if manifest else DEFAULT_DOCS_DIR
        if manifest and not docs_dir.is_dir():
            _say(notify, f"documents directory {docs_dir} not found; searching the index as it is")
            return None
    documents = find_documents(docs_dir)
    if manifest is None:
        _say(notify, f"no index in {index_dir} yet: building it from {docs_dir}")
    elif documents_changed(manifest, docs_dir, documents):
        _say(notify, f"documents in {docs_dir} changed since the index was built: rebuilding it")
    else:
        return None
    return _build(Path(docs_dir), Path(index_dir), documents, progress, warn)


def _say(notify: Warn | None, message: str) -> None:
    if notify:
        notify(message)


def _build(docs_dir: Path, index_dir: Path, documents: list[DocumentFile],
           progress: Progress | None, warn: Warn | None) -> IndexSummary:
    _live_generation(index_dir)  # refuses a directory that holds something else
    index_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    with _writer_lock(index_dir):
        started = time.perf_counter()
        previous = _live_generation(index_dir)
        generation = f"{GENERATION_PREFIX}{time.time_ns():x}-{os.getpid()}"
        summary = _write_generation(index_dir / generation, documents, progress, warn)
        _write_manifest(index_dir, generation, docs_dir, documents, summary)
        # The previous generation stays: a search that opened it may still be reading it.
        _remove_generations(index_dir, keep={generation, previous})
        summary.seconds = time.perf_counter() - started
    return summary


def _live_generation(index_dir: Path) -> str | None:
    """The generation a rebuild replaces; None for a new or damaged index."""
    try:
        manifest = read_manifest(index_dir)
    except IndexDamaged:
        return None
    return manifest["generation"] if manifest else None


def _write_generation(path: Path, documents: list[DocumentFile], progress: Progress | None,
                      warn: Warn | None) -> IndexSummary:
    from whoosh.index import create_in

    path.mkdir(mode=0o700)
    writer = create_in(str(path), schema()).writer(limitmb=256)
    summary = IndexSummary()
    try:
        for done, document in enumerate(documents, start=1):
            _add_document(writer, document, warn, summary)
            if progress:
                progress(done, len(documents), document)
        writer.commit()
    except BaseException:
        writer.cancel()
        raise
    return summary


def _add_document(writer, document: DocumentFile, warn: Warn | None,
                  summary: IndexSummary) -> None:
    try:
        paragraphs = list(read_paragraphs(document))
    except UnreadableDocument as problem:
        summary.skipped.append(document.source)
        if warn:
            warn(f"skipped {document.source}: {problem}")
        return
    for paragraph in paragraphs:
        writer.add_document(source=paragraph.source, title=paragraph.title,
                            paragraph=paragraph.paragraph, line=paragraph.line,
                            text=paragraph.text, words=paragraph.text, subwords=paragraph.text)
    summary.documents += 1
    summary.paragraphs += len(paragraphs)


def _write_manifest(index_dir: Path, generation: str, docs_dir: Path,
                    documents: list[DocumentFile], summary: IndexSummary) -> None:
    manifest = {
        "format": FORMAT_VERSION,
        "generation": generation,
        "docs_dir": str(docs_dir.resolve()),
        "documents": summary.documents,
        "paragraphs": summary.paragraphs,
        "built": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "files": {d.source: d.stamp for d in documents},
    }
    temporary = index_dir / f".{MANIFEST_NAME}.{os.getpid()}.tmp"
    temporary.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(temporary, index_dir / MANIFEST_NAME)


def _remove_generations(index_dir: Path, keep: set) -> None:
    """Remove every generation directory not in `keep`, left-overs of interrupted builds included."""
    for path in index_dir.iterdir():
        if path.name.startswith(GENERATION_PREFIX) and path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def _writer_lock(index_dir: Path, wait: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
    """Hold the index's writer lock, waiting at most `wait` seconds for another writer."""
    with open(index_dir / LOCK_NAME, "a") as lock_file:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexBusy(f"another kensaku process is writing the index in "
                                    f"{index_dir}; try again when it is done") from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
