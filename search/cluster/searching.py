"""Searching on a cluster: a collection whose shards are served by Ray actors (servers), called
in parallel, ranked by the same coordinator as shards open in this process (search.ranking).

A query's sessions are dropped at its end: each server is told with its next call (or, after a
few queries without one, on its own). A call a server cannot answer because it died is run again
by Ray once it is restarted; a call
that still fails for that reason is made again here, a few times, to the server found again by
its name: a query goes on, and a stream of searches with it. An error of the shard's own (a
damaged file) reaches the user as its one line. A server that does not answer within
`CALL_SECONDS` fails the query with a message naming the shard.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from search.cluster.connection import ClusterError, connect, one_line
from search.cluster.servers import ShardSpec, server_for
from search.errors import KensakuError
from search.index.shards import ShardedManifest
from search.ranking.gathering import SummedFigures, collection_figures
from search.ranking.ranking import Ranking

CALL_SECONDS = 120.0  # a shard's answer to one call, at most (a cold shard opens first)
_ATTEMPTS = 5  # calls made to a server that died before it answered
_BACKOFF_SECONDS = 0.5
_DONE_TOLD_ALONE = 16  # queries done a server is told of in a message of its own


class RayShards:
    """The shards of a collection served on a Ray cluster (see ranking.shards.Shards)."""

    def __init__(self, ray: Any, index_dir: Path, specs: list[ShardSpec]) -> None:
        self._ray = ray
        self._index_dir = index_dir
        self.specs = specs
        self.offsets = [spec.offset for spec in specs]
        self.servers = [server_for(ray, index_dir, spec.name) for spec in specs]
        # The queries done, for each server: told with its next call (a message saved a query).
        self._done: list[list[str]] = [[] for _ in specs]
        self._done_lock = threading.Lock()

    def each(self, name: str, *args) -> list:
        answers = self._gather(name, dict.fromkeys(range(len(self.specs)), args))
        return [answers[number] for number in range(len(self.specs))]

    def some(self, name: str, arguments: dict[int, tuple]) -> dict[int, Any]:
        return self._gather(name, arguments)

    def forget(self, query_id: str) -> None:
        with self._done_lock:
            for number, done in enumerate(self._done):
                done.append(query_id)
                if len(done) >= _DONE_TOLD_ALONE:  # a server not called for a while
                    self.servers[number].forget.remote(tuple(done))  # no answer awaited
                    done.clear()

    def where(self) -> list[tuple[str, int]]:
        """The node each shard's server runs on, and its process id."""
        return self._ray.get([server.where.remote() for server in self.servers])

    def _gather(self, name: str, arguments: dict[int, tuple]) -> dict[int, Any]:
        """Stage `name` on each shard of `arguments` at once, then their answers (where one
        fails, each answer on its own, calls made again as `_answer` says)."""
        pending = {number: self._call(number, name, args) for number, args in arguments.items()}
        exceptions = self._ray.exceptions
        try:
            answers = self._ray.get(list(pending.values()), timeout=CALL_SECONDS)
        except (exceptions.RayTaskError, exceptions.RayActorError, exceptions.GetTimeoutError):
            return {
                number: self._answer(number, name, arguments[number], reference)
                for number, reference in pending.items()
            }
        return dict(zip(pending, answers))

    def _call(self, number: int, name: str, args: tuple) -> Any:
        with self._done_lock:
            done, self._done[number] = tuple(self._done[number]), []
        return self.servers[number].call.remote(self.specs[number], name, args, done)

    def _answer(self, number: int, name: str, args: tuple, reference: Any) -> Any:
        exceptions = self._ray.exceptions
        shard = self.specs[number].name
        for attempt in range(_ATTEMPTS):
            try:
                return self._ray.get(reference, timeout=CALL_SECONDS)
            except exceptions.RayTaskError as error:
                cause = getattr(error, "cause", None)
                if isinstance(cause, KensakuError):
                    raise cause from None
                raise ClusterError(
                    f"{shard} failed to answer: {one_line(cause or error)}"
                ) from None
            except exceptions.GetTimeoutError:
                raise ClusterError(
                    f"{shard} did not answer within {CALL_SECONDS:g} s; is its node alive?"
                ) from None
            except exceptions.RayActorError as error:
                if attempt == _ATTEMPTS - 1:
                    raise ClusterError(
                        f"the server of {shard} was lost and could not be restarted: "
                        f"{one_line(error)}"
                    ) from None
                time.sleep(_BACKOFF_SECONDS * (attempt + 1))
                self.servers[number] = server_for(self._ray, self._index_dir, shard)
                reference = self._call(number, name, args)
        raise AssertionError("unreachable")


def serve_shards(
    index_dir: Path, manifest: ShardedManifest, address: str
) -> tuple[Ranking | None, Callable[[], None]]:
    """The ranking of a sharded index whose shards the cluster at `address` serves (None for an
    index of no paragraph), and what closes it; ClusterError when a server cannot open its
    shard (a node that cannot see the index)."""
    ray = connect(address)
    index_dir = Path(index_dir).resolve()
    figures = collection_figures(manifest)
    specs = []
    offset = 0
    for entry in manifest.shards:
        specs.append(ShardSpec(str(index_dir), entry.name, entry.generation, offset, figures))
        offset += entry.doc_count_all
    shards = RayShards(ray, index_dir, specs)
    # Every server opens its shard now: a node that cannot see it fails here, not mid-query.
    shards.each("doc_frequencies", [])
    if not offset:
        return None, lambda: None
    return Ranking(shards, SummedFigures(shards, figures)), lambda: None
