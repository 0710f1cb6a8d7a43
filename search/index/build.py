"""Build: make the index of a documents folder, and keep it in step with the documents.

A rebuild writes a new generation beside the live one; an update starts one from hard links to
the live one's segments and re-indexes only the files that changed (see changes). Either then
saves the manifest that names it in one `os.replace`, so a reader always sees a whole index, the
old or the new (see generations, manifest). `ensure_index` does what a search does first: builds
the index when there is none or it is another version's, updates it when its documents changed.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from search.errors import IndexBusy, IndexDamaged, IndexOutdated
from search.index.changes import (
    Changes,
    analyzer_change,
    changes_since,
    read_with_other_versions,
    record_new_stamps,
    same_origin,
    stamps_current,
)
from search.index.generations import (
    link_generation,
    new_generation_name,
    owner_only,
    remove_generations,
    seal_generation,
    writer_lock,
)
from search.index.manifest import Manifest, readable_manifest, recorded_rules
from search.index.opening import generation_problem
from search.index.records import GenerationRecords
from search.ingest.discovery import DocumentFile, Found, Rules, scan
from search.ingest.reporting import QUIET, BuildReport, IndexSummary
from search.text.analysis import analyzer_versions

DEFAULT_DOCS_DIR = Path("seeds")
MAX_BUILD_PROCESSES = 2
BUILD_PROCESSES_VARIABLE = "KENSAKU_BUILD_PROCESSES"  # worker processes a build may use instead
# How segments are written (see writer.Layout): one file per part, which opens faster than a
# compound file.
SEGMENTS_COMPOUND = False


def build_index(
    docs_dir: Path | str,
    index_dir: Path | str,
    *,
    rules: Rules | None = None,
    report: BuildReport = QUIET,
) -> IndexSummary:
    """Index every document under `docs_dir` from scratch into `index_dir`; `rules` choose the
    files (by default those the index was built with: see discovery)."""
    rules = _rules_for(Path(index_dir), rules)
    found = scan(Path(docs_dir), rules)
    return _build(Path(docs_dir), Path(index_dir), found, rules, report)


def update_index(
    docs_dir: Path | str,
    index_dir: Path | str,
    *,
    rules: Rules | None = None,
    report: BuildReport = QUIET,
) -> IndexSummary:
    """Bring the index in step with `docs_dir`, re-indexing only the files added or changed
    since it was built and dropping those removed; a new or unreadable index is built anew."""
    rules = _rules_for(Path(index_dir), rules)
    found = scan(Path(docs_dir), rules)
    return _build(Path(docs_dir), Path(index_dir), found, rules, report, incremental=True)


def _rules_for(index_dir: Path, rules: Rules | None) -> Rules:
    """`rules`, or those the index in `index_dir` was built with."""
    if rules is not None:
        return rules
    try:
        return recorded_rules(Manifest.load(index_dir))
    except IndexDamaged:
        return Rules()


def ensure_index(
    docs_dir: Path | str | None,
    index_dir: Path | str,
    *,
    rules: Rules | None = None,
    report: BuildReport = QUIET,
) -> IndexSummary | None:
    """Build the index when it is missing or was built by another version of kensaku, and
    update it when the documents changed since.

    `docs_dir` None means the directory the index was built from, or `./seeds` for a new index;
    when that recorded directory has gone, the index is searched as it stands. `rules` None means
    the rules the index was built with. Returns what a build did, or None when the index was
    current. `report.notify` hears why a build happens.
    """
    index_dir = Path(index_dir)
    try:
        manifest = Manifest.load(index_dir)
    except IndexOutdated as outdated:
        docs_dir = Path(docs_dir or outdated.docs_dir)
        rules = rules or Rules.from_json(outdated.rules)
        report.say(
            f"the index in {index_dir} was built by another version of kensaku: "
            f"rebuilding it from {docs_dir}"
        )
        # incremental: a process that waited for the lock finds the index rebuilt meanwhile.
        found = scan(docs_dir, rules)
        return _build(docs_dir, index_dir, found, rules, report, incremental=True)
    if docs_dir is None:
        docs_dir = manifest.docs_dir if manifest else DEFAULT_DOCS_DIR
        if manifest and not docs_dir.is_dir():
            report.say(f"documents directory {docs_dir} not found; searching the index as it is")
            return None
    docs_dir = Path(docs_dir)
    rules = rules if rules is not None else recorded_rules(manifest)
    found = scan(docs_dir, rules)
    if manifest is None:
        report.say(f"no index in {index_dir} yet: building it from {docs_dir}")
    elif analyzer_change(manifest):
        pass  # built anew, saying why (_build)
    elif stamps_current(manifest, docs_dir, found.documents, rules) or record_new_stamps(
        index_dir, manifest, docs_dir, found.documents, rules
    ):
        return None  # current, or only files' stamps changed (recorded quietly)
    else:
        report.say(f"documents in {docs_dir} changed since the index was built: updating it")
    try:
        # With an index to search, do not wait for another writer: search what is there.
        return _build(
            docs_dir,
            index_dir,
            found,
            rules,
            report,
            lock_wait=0 if manifest else None,
            incremental=True,
        )
    except IndexBusy:
        if manifest is None:
            raise
        report.say("another kensaku process is writing the index; searching it as it is")
        return None


def build_run(
    docs_dir: Path,
    index_dir: Path,
    documents: list[DocumentFile],
    rules: Rules,
    *,
    incremental: bool,
    keep: frozenset[str] = frozenset(),
    report: BuildReport = QUIET,
) -> IndexSummary:
    """Build (`incremental`: update) the index in `index_dir` of `documents`, a run of those of
    `docs_dir` chosen by `rules`: a shard of a sharded index (see sharding). The generations of
    `keep` stay besides the new and the previous one (those its collection still reads)."""
    found = Found(documents=list(documents))
    return _build(docs_dir, index_dir, found, rules, report, incremental=incremental, keep=keep)


def _build(
    docs_dir: Path,
    index_dir: Path,
    found: Found,
    rules: Rules,
    report: BuildReport,
    lock_wait: float | None = None,
    incremental: bool = False,
    keep: frozenset[str] = frozenset(),
) -> IndexSummary:
    """Write a new generation and make it live; `lock_wait` as for `writer_lock`.

    `incremental` starts the new generation from the live one (hard links to its immutable
    segment files) and re-indexes only what changed, when the live index was built from the
    same documents directory with the same analyzer; otherwise every document is indexed. The
    generations of `keep` stay besides the new and the previous one.
    """
    readable_manifest(index_dir)  # refuses a directory that holds something else
    # Once a build: a search that only checks the index says nothing of them.
    for folder, why in found.unreadable_folders:
        report.warning(f"skipped folder {folder}: {why}")
    documents = found.documents
    index_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    owner_only(index_dir)
    with writer_lock(index_dir, lock_wait, report.warn):
        started = time.perf_counter()
        previous = _intact_manifest(index_dir, report)
        changes = None
        cut_otherwise = previous and analyzer_change(previous)
        if cut_otherwise:
            report.warning(f"the index in {index_dir} is built anew: {cut_otherwise}")
        elif incremental and previous and same_origin(previous, docs_dir, rules):
            if stamps_current(previous, docs_dir, documents, rules) and not (
                read_with_other_versions(previous, documents)
            ):
                return _up_to_date(previous, found)
            changes = changes_since(previous, documents)
            if not changes.documents_changed:
                previous.restamped(documents).save(index_dir)
                return _up_to_date(previous, found)
        generation = new_generation_name()
        path = index_dir / generation
        try:
            if previous is not None and changes is not None:
                summary, records = _update_generation(
                    index_dir / previous.generation, path, previous, changes, documents, report
                )
            else:
                records = GenerationRecords(path)
                summary = _write_generation(path, documents, report, records)
            summary.total_paragraphs = records.write()
            summary.total_documents = len(documents) - len(summary.skipped)
            summary.ignored, summary.other_formats = found.ignored, found.other_formats
            summary.unreadable_folders = found.unreadable_folders
            sizes = seal_generation(path)
        except BaseException:
            # Interrupted (Ctrl-C) or failed: the live index is untouched; leave nothing behind.
            shutil.rmtree(path, ignore_errors=True)
            raise
        _new_manifest(generation, docs_dir, documents, rules, summary, sizes, previous).save(
            index_dir
        )
        # The previous generation stays: a search that opened it may still be reading it.
        kept = {generation, *keep} | ({previous.generation} if previous else set())
        remove_generations(index_dir, keep=kept)
        summary.seconds = time.perf_counter() - started
    return summary


def _up_to_date(manifest: Manifest, found: Found) -> IndexSummary:
    """The summary of an update that had nothing to index."""
    return IndexSummary(
        incremental=True,
        total_documents=manifest.documents,
        total_paragraphs=manifest.paragraphs,
        skipped=manifest.skipped,
        unread=manifest.unread,
        ignored=found.ignored,
        other_formats=found.other_formats,
        unreadable_folders=found.unreadable_folders,
    )


def _intact_manifest(index_dir: Path, report: BuildReport) -> Manifest | None:
    """The live manifest when its generation is whole; None for a new index, and for a damaged
    one, which is then built anew (saying so)."""
    manifest = readable_manifest(index_dir)
    problem = manifest and generation_problem(index_dir, manifest)
    if problem:
        report.warning(f"the index in {index_dir} is damaged ({problem}): building it anew")
        return None
    return manifest


def _update_generation(
    live: Path,
    path: Path,
    previous: Manifest,
    changes: Changes,
    documents: list[DocumentFile],
    report: BuildReport,
) -> tuple[IndexSummary, GenerationRecords]:
    """A new generation `path`: the live one with the `changes` made (documents added, changed
    and to read again indexed, those changed, read again and removed deleted), and its records
    (gathered from the live segments while the changes are indexed). Its summary's digests,
    unread pages and extractors are those of every document, kept from `previous` for those not
    read again."""
    from search.index.writer import add_to_index
    from search.ingest.paragraphs import indexing_work, read_document
    from search.text.synonym_groups import SYNONYM_GROUPS_FILE

    link_generation(live, path, rewritten=SYNONYM_GROUPS_FILE)
    records = GenerationRecords.continuing(path)
    summary = add_to_index(
        path,
        changes.added + changes.changed + changes.reread,
        read_document,
        procs=_build_processes(),
        progress=report.progress,
        warn=report.warn,
        delete_sources=changes.removed,
        compound=SEGMENTS_COMPOUND,
        sideline=records,
        work=indexing_work,
    )
    summary.incremental = True
    summary.added = [d.source for d in changes.added]
    summary.changed = [d.source for d in changes.changed]
    summary.reread = [d.source for d in changes.reread]
    summary.removed = changes.removed
    kept = {d.source for d in documents} - set(summary.added + summary.changed + summary.reread)
    still_skipped = {source: why for source, why in previous.skipped.items() if source in kept}
    summary.skipped = dict(sorted({**still_skipped, **summary.skipped}.items()))
    summary.digests = {
        **{source: digest for source, digest in previous.digests.items() if source in kept},
        **summary.digests,
    }
    summary.unread = {
        **{source: pages for source, pages in previous.unread.items() if source in kept},
        **summary.unread,
    }
    summary.extractors = {
        **{source: used for source, used in previous.extractors.items() if source in kept},
        **summary.extractors,
    }
    return summary, records


def _write_generation(
    path: Path, documents: list[DocumentFile], report: BuildReport, records: GenerationRecords
) -> IndexSummary:
    from search.index.writer import write_index
    from search.ingest.paragraphs import indexing_work, read_document

    path.mkdir(mode=0o700)
    return write_index(
        path,
        documents,
        read_document,
        procs=_build_processes(),
        progress=report.progress,
        warn=report.warn,
        compound=SEGMENTS_COMPOUND,
        sideline=records,
        work=indexing_work,
    )


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


def _new_manifest(
    generation: str,
    docs_dir: Path,
    documents: list[DocumentFile],
    rules: Rules,
    summary: IndexSummary,
    sizes: dict[str, int],
    previous: Manifest | None,
) -> Manifest:
    """The manifest of a generation just written."""
    now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    # When the index was last built whole, and when last changed (by a build or an update).
    built = (previous.built or now) if summary.incremental and previous else now
    return Manifest(
        generation=generation,
        docs_dir=docs_dir.resolve(),
        files={d.source: d.stamp for d in documents},
        documents=summary.total_documents,
        paragraphs=summary.total_paragraphs,
        built=built,
        updated=now,
        digests=dict(sorted(summary.digests.items())),
        unread=dict(sorted(summary.unread.items())),
        extractors=dict(sorted(summary.extractors.items())),
        analyzer=analyzer_versions(),
        rules=rules,
        skipped=summary.skipped,
        sizes=sizes,
    )
