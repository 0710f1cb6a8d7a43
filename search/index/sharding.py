"""Building a sharded index: the documents cut into contiguous runs balanced by bytes, each run an
ordinary index (a shard), and the collection's manifest naming them all (see shards).

A build plans the runs (a rebuild, or a new number of shards: afresh; an update: the runs the
index has, a new document going to the run its source falls in), gives each shard whose
documents changed a job, runs the jobs (one after another here, or as a cluster's tasks: a
`JobRunner`), and then replaces the collection's manifest: until then, readers read the shards
as the previous build left them. A job is an ordinary build or update of one shard from its run
of documents, which writes a new generation of it and makes that live for the shard alone; the
generation the collection still reads stays until the next build. A job that fails fails the
build, and the collection's manifest, and so every search, stays as it was.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import time
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from search.errors import IndexBusy, IndexDamaged, KensakuError
from search.index.build import build_run
from search.index.changes import analyzer_change, read_with_other_versions, stamps_current
from search.index.directory import GENERATION_PREFIX
from search.index.generations import owner_only, writer_lock
from search.index.manifest import Manifest, readable_manifest
from search.index.opening import generation_problem, open_index
from search.index.shards import SHARD_PREFIX, ShardedManifest, ShardEntry, shard_name
from search.ingest.discovery import DocumentFile, Found, Rules, scan
from search.ingest.reporting import QUIET, BuildReport, IndexSummary, Progress

# (the jobs, whom to tell of the documents done) -> their results, in order; raises when one fails.
JobRunner = Callable[[list["ShardJob"], Progress | None], list["ShardResult"]]


@dataclass(frozen=True)
class ShardJob:
    """The build of one shard: the documents of its run, from `docs_dir` with `rules`, into the
    folder `name` of the sharded index in `index_dir`; `incremental`: an update (only what
    changed is indexed again); `keep`: the generation the collection reads, which stays."""

    index_dir: Path
    name: str
    docs_dir: Path
    documents: list[DocumentFile]
    rules: Rules
    incremental: bool
    keep: str | None = None


@dataclass
class ShardResult:
    """What a shard's build did, and the shard as the collection's manifest is to name it."""

    summary: IndexSummary
    entry: ShardEntry


@dataclass
class _Plan:
    """The runs of a build: each shard's folder, first source and documents."""

    names: list[str]
    firsts: list[str]
    documents: list[list[DocumentFile]] = field(default_factory=list)


def in_process(jobs: list[ShardJob], progress: Progress | None = None) -> list[ShardResult]:
    """Run the jobs one after another in this process."""
    total = sum(len(job.documents) for job in jobs)
    results = []
    done = 0
    for job in jobs:
        results.append(build_shard(job, _shifted(progress, done, total)))
        done += len(job.documents)
    return results


def _shifted(progress: Progress | None, done: int, total: int) -> Progress | None:
    """`progress` of one job's documents, counted after `done` of `total`."""
    if progress is None:
        return None
    return lambda shard_done, _, document: progress(done + shard_done, total, document)


def build_shard(job: ShardJob, progress: Progress | None = None) -> ShardResult:
    """Build or update one shard (an ordinary index of its run of documents)."""
    shard_dir = job.index_dir / job.name
    if not job.docs_dir.is_dir():
        raise KensakuError(
            f"the documents folder {job.docs_dir} cannot be seen on {socket.gethostname()}: "
            "documents and index must be on a filesystem every node sees, at the same path"
        )
    summary = build_run(
        job.docs_dir,
        shard_dir,
        job.documents,
        job.rules,
        incremental=job.incremental,
        keep=frozenset({job.keep} if job.keep else ()),
        report=BuildReport(progress=progress),
    )
    manifest = Manifest.load(shard_dir)
    assert manifest is not None  # just built
    return ShardResult(summary, _entry_of(shard_dir, manifest, ""))


def build_sharded(
    docs_dir: Path,
    index_dir: Path,
    found: Found,
    rules: Rules,
    shards: int | None,
    incremental: bool,
    run: JobRunner = in_process,
    report: BuildReport = QUIET,
    lock_wait: float | None = None,
) -> IndexSummary:
    """Build (`incremental`: update) the sharded index in `index_dir` from `found`, the documents
    of `docs_dir` chosen by `rules`, in `shards` shards (None: as many as it has, or one); the
    shards' jobs are run by `run`."""
    readable_manifest(index_dir)  # refuses a directory that holds something else
    for folder, why in found.unreadable_folders:  # once a build, as build._build says them
        report.warning(f"skipped folder {folder}: {why}")
    index_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    owner_only(index_dir)
    with writer_lock(index_dir, lock_wait, report.warn):
        started = time.perf_counter()
        previous = _intact_sharded(index_dir, report)
        same_origin = bool(
            previous and previous.docs_dir == Path(docs_dir).resolve() and previous.rules == rules
        )
        keeps_runs = (
            incremental and previous and same_origin and shards in (None, len(previous.shards))
        )
        plan = (
            _Plan([e.name for e in previous.shards], [e.first for e in previous.shards])
            if keeps_runs and previous
            else _planned(found.documents, shards or _shard_count(index_dir, previous))
        )
        plan.documents = _runs(found.documents, plan.firsts)
        jobs, entries = _jobs(index_dir, docs_dir, rules, plan, previous, bool(keeps_runs))
        results = iter(run(jobs, report.progress))
        summary = IndexSummary(incremental=bool(keeps_runs))
        shard_entries = []
        for number, entry in enumerate(entries):
            if entry is None:
                result = next(results)
                entry = replace(result.entry, first=plan.firsts[number])
                _add(summary, result.summary)
            shard_entries.append(entry)
        manifest = _manifest(index_dir, docs_dir, rules, shard_entries, summary, previous, found)
        manifest.save(index_dir)
        _remove_left_overs(
            index_dir, {e.name for e in shard_entries} | _names(previous), previous is not None
        )
        summary.total_documents = manifest.documents
        summary.total_paragraphs = manifest.paragraphs
        summary.skipped = manifest.skipped
        summary.ignored, summary.other_formats = found.ignored, found.other_formats
        summary.seconds = time.perf_counter() - started
    return summary


def sharded_current(
    manifest: ShardedManifest, index_dir: Path, documents: list[DocumentFile]
) -> bool:
    """Whether every shard's documents are those its live generation was built from, as the
    collection reads it: the cheap check, which hashes nothing."""
    runs = _runs(documents, [entry.first for entry in manifest.shards])
    for entry, run in zip(manifest.shards, runs):
        shard = _shard_manifest(index_dir / entry.name)
        if (
            shard is None
            or shard.generation != entry.generation
            or not stamps_current(shard, manifest.docs_dir, run, manifest.rules)
            or analyzer_change(shard)
        ):
            return False
    return True


def _jobs(
    index_dir: Path,
    docs_dir: Path,
    rules: Rules,
    plan: _Plan,
    previous: ShardedManifest | None,
    incremental: bool,
) -> tuple[list[ShardJob], list[ShardEntry | None]]:
    """The jobs of the shards that need one, and the entries of those that do not (None where a
    job is to make it). `incremental`: the runs are the previous manifest's, and a shard whose
    documents are those of the generation the collection reads needs no job."""
    before_by_name = {entry.name: entry for entry in previous.shards} if previous else {}
    jobs: list[ShardJob] = []
    entries: list[ShardEntry | None] = []
    for name, run in zip(plan.names, plan.documents):
        before = before_by_name.get(name)
        shard = _shard_manifest(index_dir / name) if before else None
        if (
            incremental
            and before is not None
            and shard is not None
            and shard.generation == before.generation
            and stamps_current(shard, Path(docs_dir), run, rules)
            and not read_with_other_versions(shard, run)  # read anew by another reader
            and not analyzer_change(shard)  # cut into words anew
            and generation_problem(index_dir / name, shard) is None  # damage: built anew
        ):
            entries.append(before)
            continue
        entries.append(None)
        jobs.append(
            ShardJob(
                index_dir,
                name,
                Path(docs_dir),
                run,
                rules,
                incremental=incremental and before is not None,
                keep=before.generation if before else None,
            )
        )
    return jobs, entries


def _planned(documents: list[DocumentFile], shards: int) -> _Plan:
    """Runs of the documents (sorted by source) balanced by bytes: at most `shards`, and at most
    one a document."""
    count = max(1, min(shards, len(documents)))
    total = sum(document.size for document in documents)
    firsts = [""]
    done = 0
    for at, document in enumerate(documents):
        wanted = len(firsts) * total / count  # bytes before the next run's first document
        if at and len(firsts) < count and done + document.size / 2 > wanted:
            firsts.append(document.source)
        done += document.size
        if len(firsts) < count and len(documents) - at - 1 == count - len(firsts):
            # As many documents left as runs to start: one each.
            firsts += [d.source for d in documents[at + 1 :]]
            break
    return _Plan([shard_name(number) for number in range(len(firsts))], firsts)


def _runs(documents: list[DocumentFile], firsts: list[str]) -> list[list[DocumentFile]]:
    """The documents (sorted by source) of each run that starts at its first source."""
    runs: list[list[DocumentFile]] = [[] for _ in firsts]
    for document in documents:
        runs[bisect_right(firsts, document.source) - 1].append(document)
    return runs


def _entry_of(shard_dir: Path, manifest: Manifest, first: str) -> ShardEntry:
    """The collection's entry of a shard's live generation: its counts and field lengths."""
    with open_index(shard_dir).reader() as reader:
        lengths = {
            name: reader.field_length(name)
            for name, field_type in reader.schema.items()
            if field_type.scorable
        }
        return ShardEntry(
            name=shard_dir.name,
            first=first,
            generation=manifest.generation,
            documents=manifest.documents,
            paragraphs=manifest.paragraphs,
            doc_count_all=reader.doc_count_all(),
            doc_count=reader.doc_count(),
            field_lengths=lengths,
        )


def _manifest(
    index_dir: Path,
    docs_dir: Path,
    rules: Rules,
    entries: list[ShardEntry],
    summary: IndexSummary,
    previous: ShardedManifest | None,
    found: Found,
) -> ShardedManifest:
    now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    skipped: dict[str, str] = {}
    for entry in entries:
        shard = _shard_manifest(index_dir / entry.name)
        skipped.update(shard.skipped if shard else {})
    return ShardedManifest(
        docs_dir=Path(docs_dir).resolve(),
        shards=entries,
        rules=rules,
        documents=sum(entry.documents for entry in entries),
        paragraphs=sum(entry.paragraphs for entry in entries),
        skipped=dict(sorted(skipped.items())),
        built=previous.built if summary.incremental and previous else now,
        updated=now,
    )


def _add(summary: IndexSummary, shard: IndexSummary) -> None:
    """Add what one shard's build did to the collection's summary."""
    summary.documents += shard.documents
    summary.paragraphs += shard.paragraphs
    summary.added += shard.added
    summary.changed += shard.changed
    summary.removed += shard.removed


def _intact_sharded(index_dir: Path, report: BuildReport) -> ShardedManifest | None:
    """The collection's manifest, or None for a new index, one that is not sharded (a sharded
    build replaces it) or a damaged one (built anew, saying so)."""
    try:
        return ShardedManifest.load(index_dir)
    except IndexDamaged as damage:
        report.warning(f"{damage}: building it anew")
        return None


def _shard_manifest(shard_dir: Path) -> Manifest | None:
    """A shard's own manifest; None where it has none or it cannot be read."""
    with contextlib.suppress(IndexDamaged):
        return Manifest.load(shard_dir)
    return None


def _shard_count(index_dir: Path, previous: ShardedManifest | None) -> int:
    """How many shards an index keeps when no number is given: as many as it has (as many
    folders as it holds, where its manifest is damaged), or one."""
    if previous is not None:
        return len(previous.shards)
    return sum(path.name.startswith(SHARD_PREFIX) for path in index_dir.iterdir()) or 1


def _names(manifest: ShardedManifest | None) -> set[str]:
    return {entry.name for entry in manifest.shards} if manifest else set()


def _remove_left_overs(index_dir: Path, keep: set[str], previous_sharded: bool) -> None:
    """Remove the shards no manifest names any more (the previous manifest's stay: a search may
    still read them), and once the previous manifest was a sharded one, the generations of the
    ordinary index the folder held before."""
    for path in index_dir.iterdir():
        if (path.name.startswith(SHARD_PREFIX) and path.name not in keep) or (
            previous_sharded and path.name.startswith(GENERATION_PREFIX)
        ):
            shutil.rmtree(path, ignore_errors=True)


def ensure_sharded(
    docs_dir: Path | None,
    index_dir: Path,
    manifest: ShardedManifest,
    rules: Rules | None = None,
    run: JobRunner = in_process,
    report: BuildReport = QUIET,
) -> IndexSummary | None:
    """What a search does first to a sharded index: update it when its documents changed since
    it was built (see build.ensure_index). None when it was current."""
    if docs_dir is None:
        docs_dir = manifest.docs_dir
        if not docs_dir.is_dir():
            report.say(f"documents directory {docs_dir} not found; searching the index as it is")
            return None
    rules = rules if rules is not None else manifest.rules
    found = scan(docs_dir, rules)
    if (
        manifest.docs_dir == Path(docs_dir).resolve()
        and manifest.rules == rules
        and sharded_current(manifest, index_dir, found.documents)
    ):
        return None
    report.say(f"documents in {docs_dir} changed since the index was built: updating it")
    try:
        # With an index to search, do not wait for another writer: search what is there.
        return build_sharded(
            Path(docs_dir), index_dir, found, rules, None, True, run, report, lock_wait=0
        )
    except IndexBusy:
        report.say("another kensaku process is writing the index; searching it as it is")
        return None
