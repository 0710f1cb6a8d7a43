"""Shard servers: one long-lived Ray actor a shard, holding it open and answering the ranking's
stages of it (search.ranking.shard) for the coordinators that call it.

A server is named after its index's folder and its shard, and detached: every search and server
of the index on the cluster finds the same one, already open, and it outlives the process that
made it. Ray restarts it where it dies (a killed process, a lost node) and runs again the calls
it was given; it opens its shard again on the next call, and a query's session is made again
from the query, so the answers are the same. Each call names the generation of the shard the
caller's collection reads, with the shard's place in it (first docnum, the collection's counts
and lengths): a server keeps the last two it was asked for open, so callers on either side of a
new build are both answered from the generation they read.
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search.cluster.connection import NAMESPACE, ClusterError
from search.engine.figures import Figures
from search.index.shards import open_shard, translate_shard_damage
from search.ranking.shard import Shard

_OPEN_GENERATIONS = 2  # a build's new generation, and the one searches may still read
_CALL_RETRIES = 3  # times Ray runs a call again on a restarted server


@dataclass(frozen=True)
class ShardSpec:
    """A shard as a collection reads it: the folder of its sharded index, its name, its
    generation, its first docnum in the collection, and the collection's counts and lengths."""

    index_dir: str
    name: str
    generation: str
    offset: int
    figures: Figures

    @property
    def key(self) -> tuple:
        """What makes two specs open the same shard the same way."""
        figures = self.figures
        lengths = tuple(sorted(figures.field_lengths.items()))
        return (self.generation, self.offset, figures.doc_count_all, figures.doc_count, lengths)


class ShardServer:
    """Holds a shard open and answers the ranking's stages of it (see Shard.CALLS)."""

    def __init__(self) -> None:
        self._open: OrderedDict[tuple, tuple[Shard, Any]] = OrderedDict()

    def call(self, spec: ShardSpec, stage: str, args: tuple, forgotten: tuple[str, ...] = ()):
        """The stage `stage` of the shard `spec` names, with `args`, once the sessions of the
        queries `forgotten` are dropped (queries done since this server was last called)."""
        self.forget(forgotten)
        return self._shard(spec).call(stage, *args)

    def forget(self, query_ids: tuple[str, ...]) -> None:
        """Drop the sessions of queries that are done."""
        for shard, _ in self._open.values():
            for query_id in query_ids:
                shard.forget(query_id)

    def where(self) -> tuple[str, int]:
        """The node this server runs on, and its process id."""
        return socket.gethostname(), os.getpid()

    def _shard(self, spec: ShardSpec) -> Shard:
        found = self._open.get(spec.key)
        if found is not None:
            self._open.move_to_end(spec.key)
            return found[0]
        if not Path(spec.index_dir).is_dir():
            raise ClusterError(
                f"node {socket.gethostname()} cannot see the index {spec.index_dir}: documents "
                "and index must be on a filesystem every node sees, at the same path"
            )
        from whoosh.scoring import BM25F

        index_dir = Path(spec.index_dir)
        with translate_shard_damage(index_dir, spec.name):
            searcher = open_shard(index_dir, spec.name, spec.generation).searcher(weighting=BM25F())
        shard = Shard.of(searcher, index_dir, spec.name, spec.figures, spec.offset)
        self._open[spec.key] = (shard, searcher)
        while len(self._open) > _OPEN_GENERATIONS:
            _, (_, older) = self._open.popitem(last=False)
            older.close()
        return shard


def server_name(index_dir: Path, shard: str) -> str:
    """The name of the server of a shard of the index in `index_dir` (its absolute path)."""
    digest = hashlib.sha256(str(Path(index_dir).resolve()).encode("utf-8")).hexdigest()[:16]
    return f"shard-server:{digest}:{shard}"


def server_for(ray: Any, index_dir: Path, shard: str) -> Any:
    """The server of a shard: the one running, else a new one (detached, restarted by Ray
    wherever it dies, placed to spread the shards over the nodes)."""
    remote = ray.remote(ShardServer)
    return remote.options(
        name=server_name(index_dir, shard),
        namespace=NAMESPACE,
        get_if_exists=True,
        lifetime="detached",
        max_restarts=-1,
        max_task_retries=_CALL_RETRIES,
        num_cpus=0,
        scheduling_strategy="SPREAD",
    ).remote()
