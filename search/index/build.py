"""Index: store paragraphs in a Whoosh index on disk and keep it in step with the documents.

An index directory holds a manifest, `kensaku.json`, naming the generation directory that holds the
live Whoosh index and recording the documents it was built from (directory, and size and mtime of
each file, its "stamp", and the digest of the bytes read, documents.content_digest). A rebuild
writes a new generation beside the live one; an update starts one from hard links to the live
one's segments and re-indexes only the files that changed. Either then replaces the manifest in
one `os.replace`, so a reader always sees a whole index, the old or the new.

Whether the index is current is told by the stamps, a stat a file. A file whose stamp changed is
hashed: when its bytes are those indexed (a folder copied anew, a file touched), only its new
stamp is recorded, in the manifest of the same generation, and nothing is indexed again. A
file with no digest recorded (a manifest of an earlier kensaku) counts as changed.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import pickle
import re
import shutil
import struct
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from search.errors import (
    IndexBusy,
    IndexDamaged,
    IndexNotFound,
    IndexOutdated,
    KensakuError,
    NotAnIndex,
)
from search.index.schema import WORDS
from search.ingest.discovery import DocumentFile, Found, Rules, scan
from search.ingest.reporting import IndexSummary, Progress, Warn

MANIFEST_NAME = "kensaku.json"
LOCK_NAME = "kensaku.lock"
GENERATION_PREFIX = "gen-"
SHARD_PREFIX = "shard-"  # a sharded index's shards (see shards)
FORMAT_VERSION = 9  # 2: word_pairs, subword_pairs; 3: page, column, section; 4: search.schema
# pickled; 5: kensaku's own codec (engine.format.CompactCodec); 6: stored fields deflated in
# blocks of documents (engine.format.StoredColumn); 7: same_text a fixed-width column; 8: chars;
# 9: the schema and codec pickled by their new paths (search.index.schema, search.index.codec)
LOCK_WAIT_SECONDS = 30.0
DEFAULT_DOCS_DIR = Path("seeds")
MAX_BUILD_PROCESSES = 2
BUILD_PROCESSES_VARIABLE = "KENSAKU_BUILD_PROCESSES"  # worker processes a build may use instead
DEFAULT_INDEX_DIR = Path("index")
# How segments are written (see engine.builder.Layout): one file per part, which opens faster
# than a compound file.
SEGMENT_LAYOUT = {"compound": False}
# Files a fresh checkout's index/ directory may hold besides an index.
_HARMLESS_NAMES = {".gitignore", ".gitkeep", LOCK_NAME}
# The manifest being written by a build (left behind when the build was killed).
_TEMPORARY_MANIFEST = re.compile(rf"\.{re.escape(MANIFEST_NAME)}\.[0-9a-f-]+\.tmp")
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
        manifest["files"], manifest["docs_dir"]
        if not _is_generation_name(manifest["generation"]):
            raise ValueError("the live generation is not a generation directory's name")
    except (OSError, ValueError, KeyError, TypeError):
        raise IndexDamaged(_damaged(index_dir, "its manifest is unreadable")) from None
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexOutdated(
            _damaged(index_dir, "it was built by another version of kensaku"),
            manifest["docs_dir"],
            manifest.get("rules"),
        )
    return manifest


def manifest_summary(manifest: dict) -> dict:
    """What the manifest says of its index: documents, paragraphs, when it was built (local time,
    ISO 8601) and its format version."""
    return {key: manifest[key] for key in ("documents", "paragraphs", "built", "format")}


def existing_manifest(index_dir: Path) -> dict:
    """The manifest of the index in `index_dir`; raises IndexNotFound when there is none."""
    manifest = read_manifest(index_dir)
    if manifest is None:
        raise IndexNotFound(
            f"no index in {index_dir} yet; build one with "
            f"`kensaku index --docs DIR --index {index_dir}`"
        )
    return manifest


def recorded_docs_dir(index_dir: Path) -> Path | None:
    """The documents directory the index was built from; None without a readable manifest."""
    try:
        manifest = read_manifest(index_dir)
    except IndexOutdated as outdated:  # built by another version: rebuilt from the same folder
        return Path(outdated.docs_dir)
    except IndexDamaged:
        return None
    return Path(manifest["docs_dir"]) if manifest else None


def recorded_rules(manifest: dict | None) -> Rules:
    """The include and exclude rules the index was built with (none for a new index)."""
    return Rules.from_json(manifest.get("rules")) if manifest else Rules()


def _is_generation_name(name) -> bool:
    """Whether `name` is a generation directory's name, and nothing that leads elsewhere."""
    return (
        isinstance(name, str)
        and name.startswith(GENERATION_PREFIX)
        and "/" not in name
        and os.sep not in name
        and "\0" not in name
    )


def _refuse_foreign_directory(index_dir: Path) -> None:
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
        or _TEMPORARY_MANIFEST.fullmatch(name) is not None
    )


def _damaged(index_dir: Path, reason: str) -> str:
    return (
        f"the index in {index_dir} cannot be read ({reason}); "
        f"run `kensaku index --rebuild --index {index_dir}` to rebuild it"
    )


def open_index(index_dir: Path):
    """The live Whoosh index in `index_dir`; raises IndexDamaged when it cannot be opened."""
    return open_live_index(index_dir)[1]


def open_live_index(index_dir: Path) -> tuple[dict, object]:
    """The manifest of the index in `index_dir` and the Whoosh index of the generation it names
    (read together: a build may replace the manifest at any moment); raises IndexNotFound, or
    IndexDamaged when it cannot be opened."""
    from whoosh.index import open_dir

    generation, problem = None, ""
    while True:
        manifest = existing_manifest(index_dir)
        if manifest["generation"] == generation:
            raise IndexDamaged(_damaged(index_dir, problem))
        generation = manifest["generation"]
        try:
            return manifest, open_dir(str(Path(index_dir) / generation))
        except Exception as error:  # Whoosh raises many kinds on damaged files
            # Try again if builds replaced this generation meanwhile; damage leaves it live.
            problem = _describe(error)


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
    except _READ_ERRORS + (WhooshIndexError, StorageError, FileFormatError) as error:
        raise IndexDamaged(_damaged(Path(index_dir), _describe(error))) from error
    except Exception as error:
        if type(error) is not Exception:  # Whoosh's format checks raise plain Exception
            raise
        raise IndexDamaged(_damaged(Path(index_dir), _describe(error))) from error


def generation_problem(index_dir: Path, manifest: dict) -> str | None:
    """What is wrong with the files of the live generation, or None when they look whole: a
    missing directory or file, a file not the size it was written with, a table of contents that
    cannot be read. Cheap (a stat a file): a file garbled in place is found only when read."""
    path = Path(index_dir) / manifest["generation"]
    if not path.is_dir():
        return f"its live generation {manifest['generation']} is missing"
    sizes = manifest.get("sizes")
    for name, size in sizes.items() if isinstance(sizes, dict) else ():
        try:
            actual = (path / name).stat().st_size
        except OSError:
            return f"{manifest['generation']}/{name} is missing"
        if actual != size:
            return f"{manifest['generation']}/{name} holds {actual:,} bytes of the {size:,} written"
    from whoosh.index import open_dir

    try:
        with open_dir(str(path)).reader() as reader:
            reader.doc_count()
    except Exception as error:  # Whoosh raises many kinds on damaged files
        return _describe(error)
    return None


def _describe(error: Exception) -> str:
    lines = str(error).splitlines()
    text = lines[0][:_DESCRIBE_CHARS] if lines else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def stamps_current(
    manifest: dict, docs_dir: Path, documents: list[DocumentFile], rules: Rules | None = None
) -> bool:
    """Whether the index of `manifest` was built from `docs_dir` with `rules` (None: whatever
    rules) and from `documents` as they stand, each with the stamp it has now: the cheap check,
    which hashes nothing."""
    return _same_origin(manifest, docs_dir, rules) and manifest["files"] == {
        d.source: d.stamp for d in documents
    }


def _same_origin(manifest: dict, docs_dir: Path, rules: Rules | None) -> bool:
    """Whether the index of `manifest` was built from `docs_dir` with `rules` (None: any)."""
    return manifest["docs_dir"] == str(Path(docs_dir).resolve()) and (
        rules is None or recorded_rules(manifest) == rules
    )


@dataclass
class Changes:
    """How the documents differ from those an index holds: files added, changed and removed
    (by source), and those `restamped`, whose stamp changed but whose bytes are the ones indexed."""

    added: list[DocumentFile] = field(default_factory=list)
    changed: list[DocumentFile] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    restamped: list[DocumentFile] = field(default_factory=list)

    @property
    def documents_changed(self) -> bool:
        """Whether anything is to be indexed again or dropped."""
        return bool(self.added or self.changed or self.removed)


def changes_since(manifest: dict, documents: list[DocumentFile]) -> Changes:
    """How `documents` differ from those the index of `manifest` was built from. A file whose
    stamp changed is hashed, and is changed unless its digest is the one recorded."""
    before = manifest["files"]
    digests = recorded_digests(manifest)
    changes = Changes(
        added=[d for d in documents if d.source not in before],
        removed=sorted(set(before) - {d.source for d in documents}),
    )
    for document in documents:
        if document.source in before and before[document.source] != document.stamp:
            recorded = digests.get(document.source)
            same = (
                recorded is not None and _digest(document.path, tuple(document.stamp)) == recorded
            )
            (changes.restamped if same else changes.changed).append(document)
    return changes


@functools.lru_cache(maxsize=1 << 16)
def _digest(path: str, stamp: tuple) -> str | None:
    """documents.file_digest of the file at `path` while its stamp is `stamp`: a file is hashed
    once per stamp, though a search that finds it changed checks it again under the lock."""
    from search.ingest.paragraphs import (
        file_digest,
    )  # the readers: not a search's imports, unless it hashes

    return file_digest(path)


def recorded_digests(manifest: dict) -> dict[str, str]:
    """The digest of each indexed file's bytes (source: digest); none in an earlier manifest."""
    digests = manifest.get("digests")
    return digests if isinstance(digests, dict) else {}


def record_new_stamps(
    index_dir: Path,
    manifest: dict,
    docs_dir: Path,
    documents: list[DocumentFile],
    rules: Rules | None = None,
) -> bool:
    """Whether `documents` hold what the index of `manifest` holds, some of them with new stamps
    only (a folder copied anew, a file touched); if so, their new stamps are recorded, so that
    the next check is the cheap one again. False when an update is needed.

    Hashes the files whose stamp changed. Writes nothing when another process holds the writer
    lock, has replaced the manifest since it was read, or the index directory cannot be
    written: the index is current all the same, and a later check records the stamps.
    """
    if not _same_origin(manifest, docs_dir, rules):
        return False
    if changes_since(manifest, documents).documents_changed:
        return False
    with contextlib.suppress(IndexBusy, OSError), _writer_lock(Path(index_dir), wait=0):
        if _readable_manifest(Path(index_dir)) == manifest:
            _restamp(Path(index_dir), manifest, documents)
    return True


def _restamp(index_dir: Path, manifest: dict, documents: list[DocumentFile]) -> None:
    """Record the stamps of `documents`, whose bytes are those of the index of `manifest`, in its
    manifest (the caller holds the writer lock): the same generation, nothing else changed."""
    replace_manifest(index_dir, {**manifest, "files": {d.source: d.stamp for d in documents}})


def build_index(
    docs_dir: Path,
    index_dir: Path,
    progress: Progress | None = None,
    warn: Warn | None = None,
    rules: Rules | None = None,
) -> IndexSummary:
    """Index every document under `docs_dir` from scratch into `index_dir`; `rules` choose the
    files (by default those the index was built with: see discovery)."""
    rules = _rules_for(index_dir, rules)
    return _build(
        Path(docs_dir), Path(index_dir), scan(docs_dir, rules, warn), rules, progress, warn
    )


def update_index(
    docs_dir: Path,
    index_dir: Path,
    progress: Progress | None = None,
    warn: Warn | None = None,
    rules: Rules | None = None,
) -> IndexSummary:
    """Bring the index in step with `docs_dir`, re-indexing only the files added or changed
    since it was built and dropping those removed; a new or unreadable index is built anew."""
    rules = _rules_for(index_dir, rules)
    return _build(
        Path(docs_dir),
        Path(index_dir),
        scan(docs_dir, rules, warn),
        rules,
        progress,
        warn,
        incremental=True,
    )


def _rules_for(index_dir: Path, rules: Rules | None) -> Rules:
    """`rules`, or those the index in `index_dir` was built with."""
    if rules is not None:
        return rules
    try:
        return recorded_rules(read_manifest(index_dir))
    except IndexDamaged:
        return Rules()


def ensure_index(
    docs_dir: Path | None,
    index_dir: Path,
    notify: Warn | None = None,
    progress: Progress | None = None,
    warn: Warn | None = None,
    rules: Rules | None = None,
) -> IndexSummary | None:
    """Build the index when it is missing or was built by another version of kensaku, and
    update it when the documents changed since.

    `docs_dir` None means the directory the index was built from, or `./seeds` for a new index;
    when that recorded directory has gone, the index is searched as it stands. `rules` None means
    the rules the index was built with. Returns what a build did, or None when the index was
    current. `notify` hears why a build happens.
    """
    try:
        manifest = read_manifest(index_dir)
    except IndexOutdated as outdated:
        docs_dir = Path(docs_dir or outdated.docs_dir)
        rules = rules or Rules.from_json(outdated.rules)
        _say(
            notify,
            f"the index in {index_dir} was built by another version of kensaku: "
            f"rebuilding it from {docs_dir}",
        )
        # incremental: a process that waited for the lock finds the index rebuilt meanwhile.
        return _build(
            docs_dir,
            Path(index_dir),
            scan(docs_dir, rules, warn),
            rules,
            progress,
            warn,
            incremental=True,
        )
    if docs_dir is None:
        docs_dir = Path(manifest["docs_dir"]) if manifest else DEFAULT_DOCS_DIR
        if manifest and not docs_dir.is_dir():
            _say(notify, f"documents directory {docs_dir} not found; searching the index as it is")
            return None
    rules = rules if rules is not None else recorded_rules(manifest)
    found = scan(docs_dir, rules, warn)
    if manifest is None:
        _say(notify, f"no index in {index_dir} yet: building it from {docs_dir}")
    elif stamps_current(manifest, docs_dir, found.documents, rules) or record_new_stamps(
        index_dir, manifest, docs_dir, found.documents, rules
    ):
        return None  # current, or only files' stamps changed (recorded quietly)
    else:
        _say(notify, f"documents in {docs_dir} changed since the index was built: updating it")
    try:
        # With an index to search, do not wait for another writer: search what is there.
        return _build(
            Path(docs_dir),
            Path(index_dir),
            found,
            rules,
            progress,
            warn,
            lock_wait=0 if manifest else None,
            incremental=True,
        )
    except IndexBusy:
        if manifest is None:
            raise
        _say(notify, "another kensaku process is writing the index; searching it as it is")
        return None


def _say(notify: Warn | None, message: str) -> None:
    if notify:
        notify(message)


def _build(
    docs_dir: Path,
    index_dir: Path,
    found: Found,
    rules: Rules,
    progress: Progress | None,
    warn: Warn | None,
    lock_wait: float | None = None,
    incremental: bool = False,
    keep: frozenset[str] = frozenset(),
) -> IndexSummary:
    """Write a new generation and make it live; `lock_wait` as for `_writer_lock`.

    `incremental` starts the new generation from the live one (hard links to its immutable
    segment files) and re-indexes only what changed, when the live index was built from the
    same documents directory; otherwise every document is indexed. The generations of `keep`
    stay besides the new and the previous one (a shard's that its collection still reads).
    """
    _readable_manifest(index_dir)  # refuses a directory that holds something else
    documents = found.documents
    index_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    _owner_only(index_dir)
    with _writer_lock(index_dir, lock_wait, warn):
        started = time.perf_counter()
        previous = _intact_manifest(index_dir, warn)
        changes = None
        if incremental and previous and _same_origin(previous, docs_dir, rules):
            if stamps_current(previous, docs_dir, documents, rules):
                return _up_to_date(previous, found)
            changes = changes_since(previous, documents)
            if not changes.documents_changed:
                _restamp(index_dir, previous, documents)
                return _up_to_date(previous, found)
        generation = f"{GENERATION_PREFIX}{time.time_ns():x}-{os.getpid()}"
        path = index_dir / generation
        try:
            if changes is not None:
                summary = _update_generation(
                    index_dir / previous["generation"],
                    path,
                    previous,
                    changes,
                    documents,
                    progress,
                    warn,
                )
            else:
                summary = _write_generation(path, documents, progress, warn)
            summary.total_paragraphs = _record_synonym_groups(path)
            summary.total_documents = len(documents) - len(summary.skipped)
            summary.ignored, summary.other_formats = found.ignored, found.other_formats
            sizes = _seal_generation(path)
        except BaseException:
            # Interrupted (Ctrl-C) or failed: the live index is untouched; leave nothing behind.
            shutil.rmtree(path, ignore_errors=True)
            raise
        _write_manifest(index_dir, generation, docs_dir, documents, rules, summary, sizes, previous)
        # The previous generation stays: a search that opened it may still be reading it.
        _remove_generations(
            index_dir, keep={generation, previous and previous["generation"], *keep}
        )
        summary.seconds = time.perf_counter() - started
    return summary


def _up_to_date(manifest: dict, found: Found) -> IndexSummary:
    """The summary of an update that had nothing to index."""
    return IndexSummary(
        incremental=True,
        total_documents=manifest["documents"],
        total_paragraphs=manifest["paragraphs"],
        skipped=manifest["skipped"],
        ignored=found.ignored,
        other_formats=found.other_formats,
    )


def _readable_manifest(index_dir: Path) -> dict | None:
    """The live manifest, or None for a new or damaged index (which a build replaces)."""
    try:
        return read_manifest(index_dir)
    except IndexDamaged:
        return None


def _intact_manifest(index_dir: Path, warn: Warn | None) -> dict | None:
    """The live manifest when its generation is whole; None for a new index, and for a damaged
    one, which is then built anew (saying so)."""
    manifest = _readable_manifest(index_dir)
    problem = manifest and generation_problem(index_dir, manifest)
    if problem:
        _say(warn, f"the index in {index_dir} is damaged ({problem}): building it anew")
        return None
    return manifest


def _update_generation(
    live: Path,
    path: Path,
    previous: dict,
    changes: Changes,
    documents: list[DocumentFile],
    progress: Progress | None,
    warn: Warn | None,
) -> IndexSummary:
    """A new generation `path`: the live one with the `changes` made (documents added and
    changed indexed, those changed and removed deleted). Its summary's digests are those of
    every document, kept from `previous` for those not read again."""
    from search.index.writer import add_to_index

    _link_generation(live, path)
    summary = add_to_index(
        path,
        changes.added + changes.changed,
        procs=_build_processes(),
        progress=progress,
        warn=warn,
        delete_sources=changes.removed,
        **SEGMENT_LAYOUT,
    )
    summary.incremental = True
    summary.added = [d.source for d in changes.added]
    summary.changed = [d.source for d in changes.changed]
    summary.removed = changes.removed
    kept = {d.source for d in documents} - set(summary.added + summary.changed)
    still_skipped = {source: why for source, why in previous["skipped"].items() if source in kept}
    summary.skipped = dict(sorted({**still_skipped, **summary.skipped}.items()))
    summary.digests = {
        **{
            source: digest
            for source, digest in recorded_digests(previous).items()
            if source in kept
        },
        **summary.digests,
    }
    return summary


def _link_generation(live: Path, path: Path) -> None:
    """Start generation `path` as a copy of `live`: hard links, as Whoosh never rewrites a segment
    file in place (it writes new files and a new table of contents, then deletes the old)."""
    from search.text.synonym_groups import SYNONYM_GROUPS_FILE

    path.mkdir(mode=0o700)
    for item in live.iterdir():
        if item.name == SYNONYM_GROUPS_FILE or not item.is_file():
            continue  # rewritten for the new generation: a shared inode would change the old
        try:
            os.link(item, path / item.name)
        except OSError:
            shutil.copy2(item, path / item.name)


def _owner_only(index_dir: Path) -> None:
    """Make the index directory readable by its owner only, as a new one is created."""
    with contextlib.suppress(PermissionError):
        if index_dir.stat().st_mode & 0o077:
            index_dir.chmod(0o700)


def _seal_generation(path: Path) -> dict[str, int]:
    """Make a written generation owner-only and durable before the manifest names it; returns
    the size of each of its files (by path relative to it), for generation_problem."""
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
        _fsync_directory(Path(folder))
    return sizes


def _fsync_directory(path: Path) -> None:
    """Make the entries of directory `path` (new, renamed files) durable."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _record_synonym_groups(path: Path) -> int:
    """Store which indexed words share a Sudachi synonym group, for `--sudachi-synonyms`;
    returns the number of paragraphs in the index."""
    from whoosh.index import open_dir

    from search.text.synonym_groups import write_synonym_groups

    with open_dir(str(path)).reader() as reader:
        words = [term.decode("utf-8") for term in reader.lexicon(WORDS)]
        paragraphs = reader.doc_count()
    write_synonym_groups(words, path)
    return paragraphs


def _build_processes() -> int:
    """Worker processes for indexing: up to two cores (or $KENSAKU_BUILD_PROCESSES: a cluster's
    build task indexes in its own process), none from a daemonic process (a multiprocessing
    pool's worker), which may not start children."""
    import multiprocessing

    if multiprocessing.current_process().daemon:
        return 1
    wanted = os.environ.get(BUILD_PROCESSES_VARIABLE, "")
    if wanted.isdigit() and int(wanted) >= 1:
        return int(wanted)
    return min(MAX_BUILD_PROCESSES, os.cpu_count() or 1)


def _write_generation(
    path: Path, documents: list[DocumentFile], progress: Progress | None, warn: Warn | None
) -> IndexSummary:
    from search.index.writer import write_index

    path.mkdir(mode=0o700)
    return write_index(
        path, documents, procs=_build_processes(), progress=progress, warn=warn, **SEGMENT_LAYOUT
    )


def _write_manifest(
    index_dir: Path,
    generation: str,
    docs_dir: Path,
    documents: list[DocumentFile],
    rules: Rules,
    summary: IndexSummary,
    sizes: dict[str, int],
    previous: dict | None,
) -> None:
    now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    manifest = {
        "format": FORMAT_VERSION,
        "generation": generation,
        "docs_dir": str(docs_dir.resolve()),
        "documents": summary.total_documents,
        "paragraphs": summary.total_paragraphs,
        # When the index was last built whole, and when last changed (by a build or an update).
        "built": previous.get("built", now) if summary.incremental and previous else now,
        "updated": now,
        "files": {d.source: d.stamp for d in documents},
        "digests": dict(sorted(summary.digests.items())),
        "rules": rules.to_json(),
        "skipped": summary.skipped,
        "sizes": sizes,
    }
    replace_manifest(index_dir, manifest)


def replace_manifest(index_dir: Path, manifest: dict) -> None:
    """Make `manifest` the index's manifest in one atomic step that survives a crash.

    The caller holds the writer lock. The new manifest is written to a temporary file, flushed to
    disk, renamed over the old one, and the rename flushed, so that a reader, a crash or a SIGKILL
    at any moment sees the old manifest or the new one, whole.
    """
    data = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
    temporary = index_dir / f".{MANIFEST_NAME}.{os.getpid()}-{time.time_ns():x}.tmp"
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(descriptor)
        os.replace(temporary, index_dir / MANIFEST_NAME)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    _fsync_directory(index_dir)


def _remove_generations(index_dir: Path, keep: set) -> None:
    """Remove every generation directory not in `keep`, and every temporary manifest: the
    left-overs of interrupted builds (the caller holds the writer lock, so no build is running)."""
    for path in index_dir.iterdir():
        if path.name.startswith(GENERATION_PREFIX) and path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)
        elif _TEMPORARY_MANIFEST.fullmatch(path.name):
            with contextlib.suppress(OSError):
                path.unlink()


@contextlib.contextmanager
def _writer_lock(
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
                if not waiting:
                    _say(
                        notify,
                        f"another kensaku process is writing the index in {index_dir}: "
                        f"waiting for it to finish (up to {wait:g} s)",
                    )
                    waiting = True
                time.sleep(0.1)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock
