"""Questions' first stage: BM25F over any of the question's terms, one term at a time.

Whoosh would score an OR of a question's dozen terms document at a time through a tree of
matchers, a few Python calls per term per document: 100–900 ms on 40,000 paragraphs. Adding each
term's postings into one table, a block of postings at a time, gives the very same scores
(Whoosh's BM25F: its idf, average field lengths, byte-coded field lengths and query boosts) in a
fraction of that.
"""

from __future__ import annotations

import weakref
from itertools import accumulate, repeat
from typing import Iterable, Iterator, Sequence

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.matching.wrappers import FilterMatcher
from whoosh.scoring import BM25F
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

# (field, term, boost): one Term of the OR.
WeightedTerm = tuple[str, str, float]


def score_any(searcher: Searcher, terms: Iterable[WeightedTerm]) -> dict[int, float]:
    """docnum -> the BM25F score of every live paragraph holding any of `terms`, summed over the
    terms exactly as Whoosh's Or of Term queries would with `searcher`, which weighs by BM25F."""
    weighting: BM25F = searcher.weighting
    if weighting._field_B:  # noqa: SLF001 - per-field B is not supported here
        raise ValueError("score_any takes one B for all fields")
    b, k1 = weighting.B, weighting.K1
    segments = [(reader, offset, _deleted(reader)) for reader, offset in searcher.reader().leaf_readers()]
    scores: dict[int, float] = {}
    for field, term, boost in terms:
        if (field, term) not in searcher.reader():
            continue
        idf = searcher.idf(field, term)
        average = searcher.avg_field_length(field) or 1
        for reader, offset, deleted in segments:
            if (field, term) not in reader:
                continue
            lengths, norm_of = _length_norms(reader, field, b, k1, average)
            scale = boost * idf * (k1 + 1)
            get = scores.get
            for docnums, weights in _blocks(reader, field, term):
                for docnum, weight in zip(docnums, weights):
                    if docnum not in deleted:
                        key = docnum + offset
                        scores[key] = get(key, 0.0) + scale * weight / (weight + norm_of[lengths[docnum]])
    return scores


def _deleted(reader) -> frozenset[int]:
    """The segment's deleted documents (their postings stay until the segment is rewritten)."""
    return frozenset(reader._perdoc.deleted_docs()) if reader.has_deletions() else frozenset()


def _blocks(reader, field: str, term: str) -> Iterator[tuple[Sequence[int], Sequence[float]]]:
    """The term's postings in one segment, deleted documents included, as (docnums, weights),
    a block at a time."""
    matcher = reader.postings(field, term)
    if isinstance(matcher, FilterMatcher):  # Whoosh's filter of deleted documents; see _deleted
        matcher = matcher.child
    if not isinstance(matcher, W3LeafMatcher):  # another matcher (e.g. a posting list held in memory)
        docnums, weights = [], []
        while matcher.is_active():
            docnums.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
        yield docnums, weights
        return
    while matcher.is_active():
        # Whoosh 2.7.4's block reader, used whole: one decode per block instead of per posting.
        matcher._read_data()
        docnums, weights = matcher._data[0], matcher._data[1]
        if not matcher._byteids:  # delta-coded
            docnums = accumulate(docnums)
        if weights is None or isinstance(weights, float):  # all 1.0, or all the same
            weights = repeat(1.0 if weights is None else weights)
        yield docnums, weights
        matcher._next_block()


_lengths: "weakref.WeakKeyDictionary[object, dict[str, bytes]]" = weakref.WeakKeyDictionary()


def _length_norms(reader, field: str, b: float, k1: float, average: float) -> tuple[bytes, list[float]]:
    """The field's length byte of every document in one segment (read once per open segment),
    and K1 · (1 − B + B · length / average) for each byte value."""
    cached = _lengths.setdefault(reader, {})
    if field not in cached:
        cached[field] = _length_bytes(reader, field)
    norm_of = [k1 * ((1 - b) + b * (byte_to_length(i) or 1) / average) for i in range(256)]
    return cached[field], norm_of


def _length_bytes(reader, field: str) -> bytes:
    """The field's length byte of every document in one segment (0 where it has none), read
    whole from Whoosh 2.7.4's lengths column instead of a call per document."""
    doc_count = reader.doc_count_all()
    column = reader._perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
    if column is None:
        return bytes(doc_count)
    stored = min(column._count, doc_count)  # documents past it have the default, 0
    return column._dbfile.get(column._basepos, stored) + bytes(doc_count - stored)
