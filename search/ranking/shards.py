"""The shards of a collection as its coordinator calls them: one stage on every shard (scatter,
then gather the answers in shard order), or on some of them with arguments of their own.

`LocalShards` holds the shards open in this process and calls them one after another: one
index (a collection of one shard), and a sharded index searched without a cluster. A cluster's
shards (search.cluster) answer the same calls from other processes, in parallel.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from typing import Any, Protocol

from search.ranking.shard import Shard


class Shards(Protocol):
    """A collection's shards, by number; `offsets[i]` is shard i's first docnum in the
    collection."""

    offsets: list[int]

    def each(self, name: str, *args) -> list:
        """Stage `name` with `args` on every shard: the answers in shard order."""
        ...

    def some(self, name: str, arguments: dict[int, tuple]) -> dict[int, Any]:
        """Stage `name` on each shard of `arguments`, with its own arguments."""
        ...

    def forget(self, query_id: str) -> None:
        """Tell every shard a query is done (its session may go)."""
        ...


class LocalShards:
    """Shards open in this process, called one after another."""

    def __init__(self, shards: list[Shard]) -> None:
        self.shards = shards
        self.offsets = [shard.offset for shard in shards]

    def each(self, name: str, *args) -> list:
        return [shard.call(name, *args) for shard in self.shards]

    def some(self, name: str, arguments: dict[int, tuple]) -> dict[int, Any]:
        return {number: self.shards[number].call(name, *args) for number, args in arguments.items()}

    def forget(self, query_id: str) -> None:
        for shard in self.shards:
            shard.forget(query_id)


def by_shard(offsets: list[int], docnums: Iterable[int]) -> dict[int, list[int]]:
    """The collection's `docnums` grouped by the shard holding each (shard number -> docnums, in
    the order given)."""
    grouped: dict[int, list[int]] = {}
    for docnum in docnums:
        grouped.setdefault(bisect_right(offsets, docnum) - 1, []).append(docnum)
    return grouped
