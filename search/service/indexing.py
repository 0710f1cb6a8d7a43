"""Indexing as the library and the command line ask for it: one index, or a sharded one, built in
this process or by a cluster.

`shards` N makes a sharded index of N shards (search.index.sharding); an index that is sharded
stays so, with as many shards, when it is updated or rebuilt without `shards`; an index that
is not, and no `shards`, is the ordinary one (search.index.build). `cluster` (an address, see
search.cluster) runs the shards' builds as a cluster's tasks, one a shard; without it they run
in this process, one after another.
"""

from __future__ import annotations

from pathlib import Path

from search.errors import IndexDamaged, IndexOutdated
from search.index import build
from search.index.directory import SHARD_PREFIX
from search.index.manifest import recorded_docs_dir as recorded_docs_dir_of_one
from search.index.sharding import JobRunner, build_sharded, ensure_sharded, in_process
from search.index.shards import ShardedManifest
from search.ingest.discovery import Rules, scan
from search.ingest.reporting import QUIET, BuildReport, IndexSummary


def build_index(
    docs_dir: Path | str,
    index_dir: Path | str,
    *,
    rules: Rules | None = None,
    report: BuildReport = QUIET,
    shards: int | None = None,
    cluster: str | None = None,
) -> IndexSummary:
    """Index every document under `docs_dir` from scratch into `index_dir`.

    `rules` choose the files (by default those the index was built with, else every file in a
    format kensaku reads); `report` hears the progress and the files skipped. `shards` N makes
    a sharded index of N shards (an index already sharded keeps as many when `shards` is None);
    `cluster`, a Ray cluster's address, builds the shards there, a task a shard, instead of
    one after another in this process."""
    return _index(docs_dir, index_dir, rules, report, shards, cluster, incremental=False)


def update_index(
    docs_dir: Path | str,
    index_dir: Path | str,
    *,
    rules: Rules | None = None,
    report: BuildReport = QUIET,
    shards: int | None = None,
    cluster: str | None = None,
) -> IndexSummary:
    """Bring the index in step with `docs_dir`, re-indexing only the files added or changed
    since it was built and dropping those removed (of a sharded index, in the shards whose
    documents changed only); a new or unreadable index is built anew. The options are those of
    `build_index`."""
    return _index(docs_dir, index_dir, rules, report, shards, cluster, incremental=True)


def ensure_index(
    docs_dir: Path | str | None,
    index_dir: Path | str,
    *,
    rules: Rules | None = None,
    report: BuildReport = QUIET,
    cluster: str | None = None,
) -> IndexSummary | None:
    """Build the index when it is missing or was built by another version of kensaku, and
    update it when the documents changed since, as `kensaku search` does before it searches.
    `docs_dir` None means the folder the index was built from (`./seeds` for a new index); when
    that folder has gone, the index is left as it stands. Returns what a build did, or None when
    the index was current."""
    index_dir = Path(index_dir)
    docs = Path(docs_dir) if docs_dir is not None else None
    try:
        sharded = ShardedManifest.load(index_dir)
    except IndexOutdated as outdated:
        docs = docs or Path(outdated.docs_dir)
        report.say(
            f"the index in {index_dir} was built by another version of kensaku: "
            f"rebuilding it from {docs}"
        )
        rules = rules or Rules.from_json(outdated.rules)
        return _index(docs, index_dir, rules, report, None, cluster, incremental=False)
    if sharded is None:
        return build.ensure_index(docs, index_dir, rules=rules, report=report)
    return ensure_sharded(docs, index_dir, sharded, rules, _runner(cluster), report)


def recorded_docs_dir(index_dir: Path | str) -> Path | None:
    """The documents directory the index (sharded or not) was built from; None without a
    readable manifest."""
    try:
        sharded = ShardedManifest.load(Path(index_dir))
    except IndexOutdated as outdated:
        return Path(outdated.docs_dir)
    except IndexDamaged:
        return None
    return sharded.docs_dir if sharded else recorded_docs_dir_of_one(Path(index_dir))


def _index(
    docs_dir: Path | str,
    index_dir: Path | str,
    rules: Rules | None,
    report: BuildReport,
    shards: int | None,
    cluster: str | None,
    incremental: bool,
) -> IndexSummary:
    docs, index = Path(docs_dir), Path(index_dir)
    if cluster is not None:
        from search.cluster.connection import checked_address

        checked_address(cluster)
    previous = _sharded_or_none(index)
    if shards is None and previous is None and not _has_shards(index):
        if cluster is not None:
            report.warning(
                f"the index in {index} is not sharded, so it is built here: --shards N spreads it"
            )
        ordinary = build.update_index if incremental else build.build_index
        return ordinary(docs, index, rules=rules, report=report)
    if rules is None:
        rules = previous.rules if previous else Rules()
    found = scan(docs, rules)
    return build_sharded(docs, index, found, rules, shards, incremental, _runner(cluster), report)


def _sharded_or_none(index_dir: Path) -> ShardedManifest | None:
    """The manifest of a sharded index in `index_dir`; None for none, another kind, another
    version's or a damaged one."""
    try:
        return ShardedManifest.load(index_dir)
    except (IndexOutdated, IndexDamaged):
        return None


def _has_shards(index_dir: Path) -> bool:
    """Whether `index_dir` holds shards (of a sharded index whose manifest is damaged)."""
    return index_dir.is_dir() and any(
        path.name.startswith(SHARD_PREFIX) and path.is_dir() for path in index_dir.iterdir()
    )


def _runner(cluster: str | None) -> JobRunner:
    """Who runs the shards' builds: this process, or the cluster at `cluster`."""
    if cluster is None:
        return in_process
    from search.cluster.building import cluster_runner

    return cluster_runner(cluster)
