"""Discovery: which files under a documents folder are documents, and which are left out and why.

A document is a file in a format kensaku reads (readers.SUFFIXES, any case of extension). Left
out, and counted: hidden files and folders (a leading dot: .git, .venv), folders of version
control, virtual environments and dependencies (node_modules, __pycache__, a folder holding
pyvenv.cfg), whatever a `.gitignore` or `.kensakuignore` in the folder or above it (up to the
documents folder) ignores, what an `exclude` pattern matches, and with `include` patterns what
none of them matches. Patterns use .gitignore's syntax (`*.pdf`, `drafts/`, `/top-level.txt`,
`**/old/*`). Files in other formats are listed too, so that a summary can say they were seen.
A kensaku index (a folder holding its manifest or lock, wherever it lies, `./index` inside the
documents folder too) is not the user's: it is left out without a word.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path

from search.errors import DocumentsNotFound
from search.ingest.readers import SUFFIXES

IGNORE_FILES = (".gitignore", ".kensakuignore")
# Folders that hold tools, not documents, whatever their owner's ignore files say.
SKIPPED_FOLDERS = {
    "node_modules": "dependencies",
    "__pycache__": "Python cache",
    "site-packages": "Python packages",
    "CVS": "version control",
    "_darcs": "version control",
}
_VIRTUAL_ENVIRONMENT_MARKERS = ("pyvenv.cfg", "conda-meta")
# The files that make a folder a kensaku index: index.directory's MANIFEST_NAME and LOCK_NAME (the
# lock comes first: a build takes it before it writes anything).
INDEX_MARKERS = ("kensaku.json", "kensaku.lock")


@dataclass(frozen=True)
class DocumentFile:
    # Where to read it: a plain string as scan finds it (a Path a file would cost `kensaku
    # search` 5 ms on 2,000 files), a Path where a caller made one.
    path: str | Path
    source: str
    size: int
    mtime_ns: int

    @property
    def stamp(self) -> list[int]:
        """What changes when the file changes: size and modification time."""
        return [self.size, self.mtime_ns]


@dataclass(frozen=True)
class Rules:
    """Which files to take: `include` patterns (all files in a known format when empty) and
    `exclude` patterns, in .gitignore's syntax, relative to the documents folder."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"include": list(self.include), "exclude": list(self.exclude)}

    @classmethod
    def from_json(cls, value: dict | None) -> Rules:
        value = value or {}
        return cls(tuple(value.get("include", ())), tuple(value.get("exclude", ())))


@dataclass
class Found:
    """What a folder holds: its documents, sorted by source, and what was left out, as
    (source, why) with a folder's source ending in `/`."""

    documents: list[DocumentFile] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)
    other_formats: list[str] = field(default_factory=list)
    # Folders that could not be listed, as (source ending in `/`, why): their files are unseen.
    unreadable_folders: list[tuple[str, str]] = field(default_factory=list)


def scan(docs_dir: Path, rules: Rules | None = None) -> Found:
    """The documents under `docs_dir` and what was left out.

    A document name that cannot be examined (a broken symlink, a symlink loop) is still listed,
    so that reading it reports why it is skipped. A folder that cannot be listed is recorded in
    `Found.unreadable_folders`, for a build to warn of once (a search that only checks the index does not).
    """
    docs_dir = Path(docs_dir)
    if not docs_dir.is_dir():
        raise DocumentsNotFound(f"documents directory not found: {docs_dir}")
    rules = rules or Rules()
    patterns = _Patterns(rules)
    found = Found()

    def unlistable(error: OSError) -> None:
        relative = os.path.relpath(error.filename, docs_dir).replace(os.sep, "/")
        found.unreadable_folders.append((f"{relative}/", error.strerror or str(error)))

    ignore_specs: dict[str, list] = {}
    for folder, subfolders, files in os.walk(docs_dir, onerror=unlistable):
        # Plain string work: `kensaku search` lists every document to see whether the index is
        # current, and Path operations per file cost 40 ms on 2,000 files.
        relative = os.path.relpath(folder, docs_dir)
        prefix = "" if relative == os.curdir else relative.replace(os.sep, "/") + "/"
        specs = ignore_specs.pop(prefix, []) + _ignore_specs(folder, prefix, files)
        subfolders.sort()
        subfolders[:] = [
            name
            for name in subfolders
            if not _left_out_folder(folder, name, prefix + name + "/", specs, patterns, found)
        ]
        for name in subfolders:
            ignore_specs[prefix + name + "/"] = specs
        base = folder if folder.endswith(os.sep) else folder + os.sep
        for name in sorted(files):
            _take_file(base, name, prefix + name, specs, patterns, found)
    found.documents.sort(key=attrgetter("source"))
    found.ignored.sort()
    found.unreadable_folders.sort()
    return found


def _left_out_folder(
    folder: str, name: str, source: str, specs: list, patterns: _Patterns, found: Found
) -> bool:
    if _kensaku_index(folder, name):
        return True  # kensaku's own files: neither a document nor anything the user left out
    why = (
        _hidden(name)
        or SKIPPED_FOLDERS.get(name)
        or _virtual_environment(folder, name)
        or _ignored_by(specs, source)
        or patterns.excludes(source)
    )
    if why:
        found.ignored.append((source, why))
    return bool(why)


def _take_file(
    base: str, name: str, source: str, specs: list, patterns: _Patterns, found: Found
) -> None:
    """File `name` of the folder `base` (which ends in a separator): a document, a file left
    out, or one in another format."""
    if not name.lower().endswith(SUFFIXES):
        if not _hidden(name):
            found.other_formats.append(source)
        return
    why = _hidden(name) or _ignored_by(specs, source) or patterns.excludes(source)
    if why:
        found.ignored.append((source, why))
    else:
        found.documents.append(_document_file(base + name, source))


def _hidden(name: str) -> str | None:
    return "hidden" if name.startswith(".") else None


def _kensaku_index(folder: str, name: str) -> bool:
    path = os.path.join(folder, name)
    return any(os.path.isfile(os.path.join(path, marker)) for marker in INDEX_MARKERS)


def _virtual_environment(folder: str, name: str) -> str | None:
    path = os.path.join(folder, name)
    if any(os.path.exists(os.path.join(path, marker)) for marker in _VIRTUAL_ENVIRONMENT_MARKERS):
        return "virtual environment"
    return None


def _ignore_specs(folder: str, prefix: str, files: Sequence[str]) -> list:
    """(prefix, file name, spec) of the ignore files in `folder`, whose patterns are relative to it."""
    specs = []
    for name in IGNORE_FILES:
        if name in files:
            lines = _read_lines(os.path.join(folder, name))
            if lines:
                from pathspec import GitIgnoreSpec

                specs.append((prefix, name, GitIgnoreSpec.from_lines(lines)))
    return specs


def _read_lines(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            return file.read().splitlines()
    except OSError:
        return []


def _ignored_by(specs: list, source: str) -> str | None:
    """The ignore file that leaves `source` out, the deepest that has a say deciding."""
    verdict = None
    for prefix, name, spec in specs:
        result = spec.check_file(source[len(prefix) :])
        if result.include is not None:
            verdict = f"{prefix}{name}" if result.include else None
    return verdict


class _Patterns:
    """The include and exclude patterns of the rules, compiled once."""

    def __init__(self, rules: Rules) -> None:
        self.include = _spec(rules.include)
        self.exclude = _spec(rules.exclude)

    def excludes(self, source: str) -> str | None:
        """Why the rules leave `source` out (a folder's ends in `/`), or None."""
        if self.exclude is not None and self.exclude.match_file(source):
            return "--exclude"
        if (
            self.include is not None
            and not source.endswith("/")
            and not self.include.match_file(source)
        ):
            return "not matched by --include"
        return None


def _spec(patterns: tuple[str, ...]):
    """`patterns` compiled, or None for none; pathspec (10 ms to import) only when there are."""
    if not patterns:
        return None
    from pathspec import GitIgnoreSpec

    return GitIgnoreSpec.from_lines(patterns)


def _document_file(path: str, source: str) -> DocumentFile:
    try:
        status = os.stat(path)
    except OSError:
        return DocumentFile(path, source, -1, 0)
    return DocumentFile(path, source, status.st_size, status.st_mtime_ns)
