"""Change detection: whether an index is current with its documents, and what changed.

Whether the index is current is told by the stamps, a stat a file. A file whose stamp changed is
hashed: when its bytes are those indexed (a folder copied anew, a file touched), only its new
stamp is recorded, in the manifest of the same generation, and nothing is indexed again. A file
with no digest recorded (a manifest of an earlier kensaku) counts as changed. A file read with a
version of a library (PDFium, pdfminer.six) other than the one installed now is to be read
again: not by a search, whose check stays the stamps, but by the next `kensaku index`. An index
whose text was cut into words by other versions of SudachiPy or its dictionary than those
installed (or by a kensaku that recorded none) is built anew, by a search too: queries are cut
by the installed ones, and a word cut otherwise is not found.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from search.errors import IndexBusy
from search.index.generations import writer_lock
from search.index.manifest import Manifest, readable_manifest
from search.ingest.discovery import DocumentFile, Rules


def stamps_current(
    manifest: Manifest, docs_dir: Path, documents: list[DocumentFile], rules: Rules | None = None
) -> bool:
    """Whether the index of `manifest` was built from `docs_dir` with `rules` (None: whatever
    rules) and from `documents` as they stand, each with the stamp it has now: the cheap check,
    which hashes nothing."""
    return same_origin(manifest, docs_dir, rules) and manifest.files == {
        d.source: d.stamp for d in documents
    }


def analyzer_change(manifest: Manifest) -> str | None:
    """Why the index of `manifest` must be built anew for the SudachiPy and dictionary installed
    now (text.analysis.analyzer_versions), or None when it was cut into words by them."""
    from search.text.analysis import analyzer_versions

    installed = analyzer_versions()
    if manifest.analyzer == installed:
        return None
    if not manifest.analyzer:
        return (
            "it records no versions of SudachiPy and its dictionary (an earlier kensaku built "
            f"it); {describe_analyzer(installed)} is installed"
        )
    return (
        f"its text was cut into words by {describe_analyzer(manifest.analyzer)}, and "
        f"{describe_analyzer(installed)} is installed now"
    )


def describe_analyzer(versions: dict[str, str]) -> str:
    """`SudachiPy 0.7.0 with sudachidict-core 20261015`."""
    named = [f"{'SudachiPy' if name == 'sudachipy' else name} {v}" for name, v in versions.items()]
    return " with ".join(named) if named else "none recorded"


def same_origin(manifest: Manifest, docs_dir: Path, rules: Rules | None) -> bool:
    """Whether the index of `manifest` was built from `docs_dir` with `rules` (None: any)."""
    return str(manifest.docs_dir) == str(Path(docs_dir).resolve()) and (
        rules is None or manifest.rules == rules
    )


@dataclass
class Changes:
    """How the documents differ from those an index holds: files added, changed and removed
    (by source), those `reread`, unchanged but read with a version of a library other than the
    one installed now, and those `restamped`, whose stamp changed but whose bytes are the ones
    indexed."""

    added: list[DocumentFile] = field(default_factory=list)
    changed: list[DocumentFile] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    reread: list[DocumentFile] = field(default_factory=list)
    restamped: list[DocumentFile] = field(default_factory=list)

    @property
    def documents_changed(self) -> bool:
        """Whether anything is to be indexed again or dropped."""
        return bool(self.added or self.changed or self.removed or self.reread)


def changes_since(manifest: Manifest, documents: list[DocumentFile]) -> Changes:
    """How `documents` differ from those the index of `manifest` was built from. A file whose
    stamp changed is hashed, and is changed unless its digest is the one recorded."""
    before = manifest.files
    digests = manifest.digests
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
    changes.reread = read_with_other_versions(manifest, documents, changes.changed)
    return changes


def read_with_other_versions(
    manifest: Manifest, documents: list[DocumentFile], changed: Sequence[DocumentFile] = ()
) -> list[DocumentFile]:
    """The documents indexed, among those not `changed`, that were read with a version of a
    library other than the one installed now, or by a kensaku that recorded none: they would
    read differently."""
    from search.ingest.readers import outdated

    skip = {document.source for document in changed} | set(manifest.skipped)
    return [
        document
        for document in documents
        if document.source in manifest.files
        and document.source not in skip
        and outdated(document.source, manifest.extractors.get(document.source))
    ]


@functools.lru_cache(maxsize=1 << 16)
def _digest(path: str | Path, stamp: tuple[int, ...]) -> str | None:
    """paragraphs.file_digest of the file at `path` while its stamp is `stamp`: a file is hashed
    once per stamp, though a search that finds it changed checks it again under the lock."""
    # The readers: not a search's imports, unless it hashes.
    from search.ingest.paragraphs import file_digest

    return file_digest(path)


def record_new_stamps(
    index_dir: Path,
    manifest: Manifest,
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
    if not same_origin(manifest, docs_dir, rules):
        return False
    if changes_since(manifest, documents).documents_changed:
        return False
    with contextlib.suppress(IndexBusy, OSError), writer_lock(Path(index_dir), wait=0):
        if readable_manifest(Path(index_dir)) == manifest:
            manifest.restamped(documents).save(Path(index_dir))
    return True
