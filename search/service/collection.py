"""An open collection: what a Searcher ranks and reads hits from. One index is a collection of
one shard, open in this process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from search.index.build import open_live_index, translate_damage
from search.ranking.gathering import OwnFigures
from search.ranking.ranking import Ranking
from search.ranking.shard import Shard
from search.ranking.shards import LocalShards


@dataclass
class OpenCollection:
    """A collection open for searching: the documents folder it was built from, its ranking
    (None for a collection of no paragraph), the generation folders it reads (for their synonym
    groups), and how to close it."""

    docs_dir: Path
    ranking: Ranking | None
    generation_dirs: list[Path]
    close: Callable[[], None] = field(default=lambda: None)


def open_collection(index_dir: Path) -> OpenCollection:
    """The collection of the index in `index_dir`, as its manifest names it; raises
    IndexNotFound, or IndexDamaged when it cannot be opened."""
    return _open_one(Path(index_dir))


def _open_one(index_dir: Path) -> OpenCollection:
    """One index, the live generation its manifest names, as a collection of one shard."""
    from whoosh.scoring import BM25F

    def damage():
        return translate_damage(index_dir)

    with damage():
        manifest, index = open_live_index(index_dir)
        searcher = index.searcher(weighting=BM25F())  # type: ignore[attr-defined]
    shard = Shard.of(searcher, damage)
    ranking = (
        None if shard.empty else Ranking(LocalShards([shard]), OwnFigures(shard.statistics.figures))
    )
    return OpenCollection(
        Path(manifest["docs_dir"]),
        ranking,
        [Path(index.storage.folder)],  # type: ignore[attr-defined]
        searcher.close,
    )
