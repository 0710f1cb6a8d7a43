"""An open collection: what a Searcher ranks and reads hits from. One index is a collection of
one shard, open in this process; a sharded index (search.index.shards), a collection of its
shards, open in this process one after another, or on a cluster (search.cluster).

The shards of a sharded index score with the collection's figures: counts and field lengths
from its manifest, a query's document frequencies summed over the shards (ranking.gathering).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from search.engine.documents import Documents
from search.errors import IndexDamaged
from search.index.directory import damaged
from search.index.manifest import Manifest
from search.index.opening import open_live_index, translate_damage
from search.index.shards import ShardedManifest, open_shard, translate_shard_damage
from search.ranking.gathering import OwnFigures, SummedFigures, collection_figures
from search.ranking.ranking import Ranking
from search.ranking.shard import Shard
from search.ranking.shards import LocalShards
from search.service.status import describe, indexed_sources, sharded_document_list


@dataclass
class OpenCollection:
    """A collection open for searching: the documents folder it was built from, its ranking
    (None for a collection of no paragraph), the generation folders it reads (for their synonym
    groups), how to close it, and whether queries may run on it at once."""

    docs_dir: Path
    ranking: Ranking | None
    generation_dirs: list[Path]
    close: Callable[[], None] = field(default=lambda: None)
    concurrent: bool = False  # whether queries may run at once (its shards are not open here)
    shard: Shard | None = None  # one index's one shard
    # Where it is and what it holds: one index's manifest, or a sharded index's.
    index_dir: Path = Path(".")
    manifest: Manifest | ShardedManifest | None = None

    @property
    def sizes(self) -> list[int]:
        """The paragraphs of each shard (deleted ones included)."""
        if isinstance(self.manifest, ShardedManifest):
            return [entry.doc_count_all for entry in self.manifest.shards]
        return [self.shard.statistics.doc_count] if self.shard else [0]

    def document_list(self, offset: int, limit: int | None) -> tuple[int, list]:
        """How many documents the collection holds, and those from `offset` on (at most
        `limit`), by source, as status.IndexedDocument."""
        manifest = self.manifest
        if isinstance(manifest, ShardedManifest):
            return sharded_document_list(self.index_dir, manifest, offset, limit)
        assert manifest is not None and self.shard is not None
        sources = indexed_sources(manifest)
        chosen = sources[offset : None if limit is None else offset + limit]
        shard = self.shard
        with shard.damage():
            return len(sources), describe(manifest, shard.searcher, shard.statistics.terms, chosen)

    def documents(self) -> Documents:
        """The documents of one index by paragraph; a sharded index's are its shards'."""
        if self.shard is None:
            raise ValueError("a sharded index's documents are its shards': search them instead")
        return self.shard.documents()


def open_collection(index_dir: Path, cluster: str | None = None) -> OpenCollection:
    """The collection of the index in `index_dir`, as its manifest names it, its shards open in
    this process or, with `cluster`, served by the cluster at that address (one index is
    searched in this process all the same); raises IndexNotFound, or IndexDamaged when it cannot
    be opened."""
    index_dir = Path(index_dir)
    if cluster is not None:
        from search.cluster.connection import checked_address

        checked_address(cluster)  # even for one index, which ignores it: a typo is said
    sharded = ShardedManifest.load(index_dir) if index_dir.is_dir() else None
    if sharded is None:  # one index: nothing to spread over a cluster
        return _open_one(index_dir)
    if cluster is not None:
        from search.cluster.searching import serve_shards

        ranking, close = serve_shards(index_dir, sharded, cluster)
        return OpenCollection(
            sharded.docs_dir,
            ranking,
            _generation_dirs(index_dir, sharded),
            close,
            concurrent=True,
            index_dir=index_dir,
            manifest=sharded,
        )
    return _open_shards(index_dir, sharded)


def _generation_dirs(index_dir: Path, manifest: ShardedManifest) -> list[Path]:
    return [index_dir / entry.name / entry.generation for entry in manifest.shards]


def _open_shards(index_dir: Path, manifest: ShardedManifest) -> OpenCollection:
    """The shards of a sharded index, open in this process, the generation of each its manifest
    names."""
    from whoosh.scoring import BM25F

    figures = collection_figures(manifest)
    searchers = []
    shards = []
    offset = 0
    try:
        for entry in manifest.shards:
            with translate_shard_damage(index_dir, entry.name):
                searcher = open_shard(index_dir, entry.name, entry.generation).searcher(
                    weighting=BM25F()
                )
                searchers.append(searcher)
                if searcher.reader().doc_count_all() != entry.doc_count_all:
                    raise IndexDamaged(
                        damaged(index_dir, f"its {entry.name} does not hold what it should")
                    )
            shards.append(Shard.of(searcher, index_dir, entry.name, figures, offset))
            offset += entry.doc_count_all
    except BaseException:
        for searcher in searchers:
            searcher.close()
        raise
    local = LocalShards(shards)
    empty = all(shard.empty for shard in shards)

    def close() -> None:
        for searcher in searchers:
            searcher.close()

    return OpenCollection(
        manifest.docs_dir,
        None if empty else Ranking(local, SummedFigures(local, figures)),
        _generation_dirs(index_dir, manifest),
        close,
        index_dir=index_dir,
        manifest=manifest,
    )


def _open_one(index_dir: Path) -> OpenCollection:
    """One index, the live generation its manifest names, as a collection of one shard."""
    from whoosh.scoring import BM25F

    with translate_damage(index_dir):
        manifest, index = open_live_index(index_dir)
        searcher = index.searcher(weighting=BM25F())
    shard = Shard.of(searcher, index_dir)
    ranking = (
        None if shard.empty else Ranking(LocalShards([shard]), OwnFigures(shard.statistics.figures))
    )
    return OpenCollection(
        manifest.docs_dir,
        ranking,
        [Path(index.storage.folder)],
        searcher.close,
        shard=shard,
        index_dir=index_dir,
        manifest=manifest,
    )
