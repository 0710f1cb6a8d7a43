"""Collection figures: what BM25F and the ranking need of the whole collection an open index
belongs to: how many documents it holds, its fields' total lengths, its terms' document
frequencies.

One index is its own collection: `IndexFigures` reads them from the open index as they are asked
for. A shard of a sharded index scores with the figures of the whole collection (`Figures`, plain
data a coordinator gathers: counts and lengths summed over the shards' manifest entries, a
query's document frequencies summed over the shards), so that each shard gives a paragraph the
very score one index of all the documents would give it. As Elasticsearch's dfs_query_then_fetch
and Solr's ExactStatsCache do, for the same reason: a term's idf and a field's average length
taken shard by shard rank the same paragraphs differently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from search.engine.postings import TermIndex

TermKey = tuple[str, str]  # (field, term)


class CollectionFigures(Protocol):
    """The figures of a collection: `doc_count_all` counts its documents deleted or not (as
    Whoosh's idf and average lengths count them), `doc_count` its live ones."""

    @property
    def doc_count_all(self) -> int: ...

    @property
    def doc_count(self) -> int: ...

    def field_length(self, field_name: str) -> int:
        """The total length of a field over the collection's documents."""
        ...

    def doc_frequency(self, field_name: str, term: str) -> int:
        """How many documents hold the term, deleted ones included (as Whoosh counts)."""
        ...


class MissingFigure(LookupError):
    """A query asked for a term's figure that was not gathered for it (a defect, not damage)."""


@dataclass(frozen=True)
class Figures:
    """A collection's figures as plain data: its counts and field lengths, and the document
    frequencies of the terms one query needs (a shard is sent them with the query)."""

    doc_count_all: int
    doc_count: int
    field_lengths: Mapping[str, int]
    doc_frequencies: Mapping[TermKey, int] = field(default_factory=dict)

    def field_length(self, field_name: str) -> int:
        return self.field_lengths.get(field_name, 0)

    def doc_frequency(self, field_name: str, term: str) -> int:
        try:
            return self.doc_frequencies[(field_name, term)]
        except KeyError:
            raise MissingFigure(
                f"no document frequency was gathered for {field_name}:{term!r}"
            ) from None

    def with_frequencies(self, doc_frequencies: Mapping[TermKey, int]) -> Figures:
        """The same counts and lengths with these document frequencies."""
        return Figures(self.doc_count_all, self.doc_count, self.field_lengths, doc_frequencies)


class IndexFigures:
    """The figures of one open index, read from it: the collection is the index itself."""

    def __init__(self, reader, terms: TermIndex) -> None:
        self._reader = reader
        self._terms = terms
        self.doc_count_all = reader.doc_count_all()
        self.doc_count = reader.doc_count()

    def field_length(self, field_name: str) -> int:
        return self._reader.field_length(field_name)

    def doc_frequency(self, field_name: str, term: str) -> int:
        return self._terms.doc_frequency(field_name, term)


def index_figures(reader, field_names) -> Figures:
    """The counts and field lengths of one open index, as data to add up with other shards'."""
    return Figures(
        reader.doc_count_all(),
        reader.doc_count(),
        {name: reader.field_length(name) for name in field_names},
    )


def added(parts: list[Figures]) -> Figures:
    """The counts and field lengths of a collection of shards: each shard's, summed."""
    lengths: dict[str, int] = {}
    for part in parts:
        for name, length in part.field_lengths.items():
            lengths[name] = lengths.get(name, 0) + length
    return Figures(
        sum(part.doc_count_all for part in parts), sum(part.doc_count for part in parts), lengths
    )


class SizeReader:
    """An index reader whose document counts and frequencies are the collection's, for Whoosh's
    `estimate_size`: matching adds an AND's parts in the order of their estimated sizes, and the
    order of three or more floating-point additions changes the sum's last bit.

    A term without a gathered figure (the terms a `source:` prefix expands to, shard by shard)
    is estimated by the shard's own count: such a part scores a constant 0, so where it stands in
    the order changes no sum.
    """

    def __init__(self, reader, figures: CollectionFigures) -> None:
        self._reader = reader
        self._figures = figures

    def doc_frequency(self, field_name: str, text) -> int:
        term = text.decode("utf-8") if isinstance(text, bytes) else text
        try:
            return self._figures.doc_frequency(field_name, term)
        except MissingFigure:
            return self._reader.doc_frequency(field_name, text)

    def doc_count(self) -> int:
        return self._figures.doc_count

    def doc_count_all(self) -> int:
        return self._figures.doc_count_all

    def __getattr__(self, name: str):
        return getattr(self._reader, name)
