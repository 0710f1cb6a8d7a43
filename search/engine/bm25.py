"""BM25F scores computed a block of postings at a time: questions' first stage, and the scores
of keyword matches (see matching).

Whoosh would score an OR of a question's dozen terms document at a time through a tree of
matchers, a few Python calls per term per document: 100–900 ms on 40,000 paragraphs. Adding each
term's postings into one table, a block of postings at a time, gives the very same scores
(Whoosh's BM25F: its idf, average field lengths, byte-coded field lengths and query boosts) in a
fraction of that. A question's terms, and the OR of a one-word keyword query (tier bonuses
included), with nothing to skip, are scored in bulk when their postings are many (or numpy is
imported already): each term's postings in a segment decoded at once and scored by numpy into
one array by docnum over the index (`score_dense`, whose best the ranking picks without a dict
of every match), the same floating-point additions in the same order.
"""

from __future__ import annotations

import copy
import sys
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from itertools import repeat
from math import log
from typing import TYPE_CHECKING

from whoosh.scoring import BM25F
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

from search.engine.figures import CollectionFigures, IndexFigures, SizeReader
from search.engine.postings import TermIndex, Wanted
from search.index.codec import OpenSegment, Posted, blocks, length_bytes, posting_arrays

if TYPE_CHECKING:  # numpy is imported only when a query is scored in bulk
    import numpy

# (field, term, boost): one Term of the OR.
WeightedTerm = tuple[str, str, float]
# A block holding fewer wanted paragraphs than one in this many of its postings is searched for
# them rather than read through.
_FEW = 4
# Postings from which a question's terms are scored in bulk by numpy even when it is not imported
# yet (importing it takes ~70 ms, once a process): in a long-running process the first such
# question imports it, and every question after is scored in bulk.
_BULK_POSTINGS = 100_000


class Statistics:
    """What Whoosh's BM25F needs of an open index, each figure worked out once: the terms'
    document frequencies, the fields' average lengths and the length norm of each length byte.

    The idf and the average lengths are those of the collection the index belongs to
    (`figures`): by default the index itself; for a shard of a sharded index, the whole
    collection's (see figures), so that its scores are those one index would give."""

    def __init__(
        self,
        searcher: Searcher,
        terms: TermIndex | None = None,
        figures: CollectionFigures | None = None,
    ) -> None:
        weighting: BM25F = searcher.weighting
        if weighting._field_B:
            raise ValueError("BM25F scores here take one B for all fields")
        self.b, self.k1 = weighting.B, weighting.K1
        self.searcher = searcher
        reader = searcher.reader()
        self.terms = terms if terms is not None else TermIndex(reader)
        # This index's own documents: the length of an array of scores by docnum.
        self.doc_count = reader.doc_count_all()
        self.figures: CollectionFigures = (
            figures if figures is not None else IndexFigures(reader, self.terms)
        )
        # What Whoosh's estimate_size reads (matching orders an AND's parts by it).
        self.sizes = reader if figures is None else SizeReader(reader, figures)
        self._norms: dict[str, list[float]] = {}
        self._norm_arrays: dict[tuple[int, str], object] = {}
        self._deleted: list[numpy.ndarray] = []  # shared by `for_query`'s copies: filled once

    def for_query(self, figures: CollectionFigures) -> Statistics:
        """These statistics with the figures of one query (its terms' document frequencies over
        the collection), keeping the norms worked out so far: `figures` must have the counts
        and field lengths these were made with."""
        view = copy.copy(self)
        view.figures = figures
        view.sizes = SizeReader(self.searcher.reader(), figures)
        return view

    def scale(self, field: str, term: str, boost: float) -> float:
        """What a term's BM25F score is proportional to: boost · idf · (K1 + 1). A posting of
        weight w in a document whose length norm is n scores scale · w / (w + n)."""
        figures = self.figures
        idf = log(figures.doc_count_all / (figures.doc_frequency(field, term) + 1)) + 1  # Whoosh's
        return boost * idf * (self.k1 + 1)

    def average_length(self, field: str) -> float | None:
        """The field's average length over the collection, as Whoosh's avg_field_length; None
        for a field without lengths."""
        if not self.searcher.schema[field].scorable:
            return None
        return self.figures.field_length(field) / (self.figures.doc_count_all or 1)

    def norm_array(self, segment: OpenSegment, field: str):
        """The field's length norm (see `norms`) of every document in one segment, as a numpy
        array."""
        key = (segment.offset, field)
        found = self._norm_arrays.get(key)
        if found is None:
            import numpy

            lengths, norm_of = self.norms(segment, field)
            found = self._norm_arrays[key] = numpy.array(norm_of)[
                numpy.frombuffer(lengths, numpy.uint8)
            ]
        return found

    def deleted_array(self):
        """The docnums of the index's deleted documents, as a numpy array."""
        if not self._deleted:
            import numpy

            self._deleted.append(
                numpy.array(
                    [
                        docnum + segment.offset
                        for segment in self.terms.segments
                        for docnum in segment.deleted
                    ],
                    dtype=numpy.int64,
                )
            )
        return self._deleted[0]

    def norms(self, segment: OpenSegment, field: str) -> tuple[bytes, list[float]]:
        """The field's length byte of every document in one segment, and the length norm
        K1 · (1 − B + B · length / average length) of each byte value."""
        norm_of = self._norms.get(field)
        if norm_of is None:
            b, k1 = self.b, self.k1
            average = self.average_length(field) or 1
            norm_of = self._norms[field] = [
                k1 * ((1 - b) + b * (byte_to_length(i) or 1) / average) for i in range(256)
            ]
        return length_bytes(segment.reader, field), norm_of


def score_any(
    searcher: Searcher,
    terms: Iterable[WeightedTerm],
    among: Wanted | None = None,
    into: dict[int, float] | None = None,
    bonus: float = 0.0,
    statistics: Statistics | None = None,
) -> dict[int, float]:
    """docnum -> the BM25F score of every live paragraph holding any of `terms`, summed over the
    terms exactly as Whoosh's Or of Term queries would with `searcher`, which weighs by BM25F.

    `among` keeps only those paragraphs (and reads only the posting blocks that may hold them).
    The scores are added into `into` when given, and `bonus` to each posting's score: with one
    term, a constant added to every paragraph's. `statistics` of the searcher's index, when
    given, saves looking them up again.
    """
    statistics = statistics or Statistics(searcher)
    if into is None and among is None and not bonus:
        terms = list(terms)
        if in_bulk(statistics, terms):
            return _as_dict(score_dense(statistics, terms))
    scores: dict[int, float] = {} if into is None else into
    for field, term, scale, posted in _each_posted(statistics, terms):
        segment = posted.segment
        offset, gone = segment.offset, segment.deleted
        wanted = None if among is None else among.in_segment(segment)
        if wanted is not None and not wanted:
            continue
        lengths, norm_of = statistics.norms(segment, field)
        get = scores.get
        plain = among is None and not gone and not bonus
        for docnums, weights, _ in blocks(posted, field, term, among=wanted):
            if plain:  # the usual case, a question's terms: nothing to skip or add
                for docnum, weight in zip(docnums, weights):
                    key = docnum + offset
                    norm = norm_of[lengths[docnum]]
                    scores[key] = get(key, 0.0) + scale * weight / (weight + norm)
                continue
            if among is None and not gone:  # a bonus to add: a keyword query's tier
                for docnum, weight in zip(docnums, weights):
                    key = docnum + offset
                    norm = norm_of[lengths[docnum]]
                    scores[key] = get(key, 0.0) + bonus + scale * weight / (weight + norm)
                continue
            if wanted is not None and len(wanted) * _FEW < len(docnums):
                # A few wanted paragraphs, a long block: look each one up.
                postings = _looked_up(docnums, weights, wanted)
            else:
                postings = zip(docnums, weights)
            for docnum, weight in postings:
                if docnum not in gone and (among is None or docnum + offset in among):
                    key = docnum + offset
                    scores[key] = (
                        get(key, 0.0) + bonus + scale * weight / (weight + norm_of[lengths[docnum]])
                    )
    return scores


def _posted_terms(
    statistics: Statistics, terms: Iterable[WeightedTerm]
) -> Iterator[tuple[str, str, float, list[Posted]]]:
    """(field, term, scale, its postings in each segment holding it) of each term, in order (no
    postings for a term the index does not hold)."""
    for field, term, boost in terms:
        posted_in = statistics.terms.posted(field, term)
        scale = statistics.scale(field, term, boost) if posted_in else 0.0
        yield field, term, scale, posted_in


def _each_posted(
    statistics: Statistics, terms: Iterable[WeightedTerm]
) -> Iterator[tuple[str, str, float, Posted]]:
    """(field, term, scale, posted) of each term in each segment holding it, term by term."""
    for field, term, scale, posted_in in _posted_terms(statistics, terms):
        for posted in posted_in:
            yield field, term, scale, posted


def in_bulk(statistics: Statistics, terms: list[WeightedTerm]) -> bool:
    """Whether `score_dense` pays for a question's terms: numpy is imported already, or their
    postings are many enough to be worth importing it."""
    return "numpy" in sys.modules or _postings_of(statistics, terms) >= _BULK_POSTINGS


def _postings_of(statistics: Statistics, terms: list[WeightedTerm]) -> int:
    return sum(statistics.terms.doc_frequency(field, term) for field, term, _ in terms)


def score_dense(
    statistics: Statistics, terms: Sequence[WeightedTerm], bonuses: Sequence[float] = ()
):
    """`score_any` of live paragraphs with nothing to skip (a question's terms, the OR of a
    one-word keyword query), as a numpy array by docnum over the whole index (0 where none of
    `terms` is held, and for deleted paragraphs): each term's postings in a segment decoded at
    once and scored by numpy, the same additions in the same order as the dict of `score_any`.
    `bonuses`, one per term when given, are added as `score_any` adds its `bonus`."""
    import numpy

    summed = numpy.zeros(statistics.doc_count)
    for (field, _, scale, posted_in), bonus in zip(
        _posted_terms(statistics, terms), bonuses or repeat(0.0)
    ):
        for posted in posted_in:
            segment = posted.segment
            norm = statistics.norm_array(segment, field)
            docnums, weights = posting_arrays(posted, field)
            in_segment = summed[segment.offset : segment.offset + len(norm)]
            scored = scale * weights / (weights + norm[docnums])
            if bonus:  # (sum + bonus) + score, as score_any adds it
                in_segment[docnums] = in_segment[docnums] + bonus + scored
            else:
                in_segment[docnums] += scored
    summed[statistics.deleted_array()] = 0.0
    return summed


def _as_dict(summed) -> dict[int, float]:
    """docnum -> score of the paragraphs `score_dense` found (every score is above 0)."""
    import numpy

    held = numpy.flatnonzero(summed)
    return dict(zip(held.tolist(), summed[held].tolist()))


def _looked_up(
    docnums: Sequence[int], weights: Sequence[float], wanted: list[int]
) -> Iterator[tuple[int, float]]:
    """(docnum, weight) of the block's postings of `wanted` docnums (both ascending)."""
    start = bisect_left(wanted, docnums[0])
    end = bisect_right(wanted, docnums[-1], start)
    at = 0
    for docnum in wanted[start:end]:
        at = bisect_left(docnums, docnum, at)
        if at < len(docnums) and docnums[at] == docnum:
            yield docnum, weights[at]
