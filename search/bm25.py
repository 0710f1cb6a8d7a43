"""BM25F scores computed a block of postings at a time: questions' first stage, and the scores
of keyword matches (see matching).

Whoosh would score an OR of a question's dozen terms document at a time through a tree of
matchers, a few Python calls per term per document: 100–900 ms on 40,000 paragraphs. Adding each
term's postings into one table, a block of postings at a time, gives the very same scores
(Whoosh's BM25F: its idf, average field lengths, byte-coded field lengths and query boosts) in a
fraction of that.
"""

from __future__ import annotations

from typing import AbstractSet as Set, Iterable

from whoosh.scoring import BM25F
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

from .postings import blocks, deleted, length_bytes

# (field, term, boost): one Term of the OR.
WeightedTerm = tuple[str, str, float]


def score_any(searcher: Searcher, terms: Iterable[WeightedTerm], among: Set[int] | None = None,
              into: dict[int, float] | None = None, bonus: float = 0.0) -> dict[int, float]:
    """docnum -> the BM25F score of every live paragraph holding any of `terms`, summed over the
    terms exactly as Whoosh's Or of Term queries would with `searcher`, which weighs by BM25F.

    `among` keeps only those paragraphs (and reads only the posting blocks that may hold them).
    The scores are added into `into` when given, and `bonus` to each posting's score: with one
    term, a constant added to every paragraph's.
    """
    segments = [(reader, offset, deleted(reader))
                for reader, offset in searcher.reader().leaf_readers()]
    scores: dict[int, float] = {} if into is None else into
    for field, term, boost in terms:
        if (field, term) not in searcher.reader():
            continue
        scale = term_scale(searcher, field, term, boost)
        for reader, offset, gone in segments:
            if (field, term) not in reader:
                continue
            lengths, norm_of = field_norms(searcher, reader, field)
            wanted = None if among is None else local_docnums(among, offset, reader.doc_count_all())
            if wanted is not None and not wanted:
                continue
            get = scores.get
            for docnums, weights, _ in blocks(reader, field, term, among=wanted):
                for docnum, weight in zip(docnums, weights):
                    if docnum not in gone and (among is None or docnum + offset in among):
                        key = docnum + offset
                        scores[key] = (get(key, 0.0) + bonus
                                       + scale * weight / (weight + norm_of[lengths[docnum]]))
    return scores


def local_docnums(among: Set[int], offset: int, count: int) -> list[int]:
    """The docnums of `among` (index-wide) that lie in the segment starting at `offset`, as the
    segment's own docnums, ascending."""
    return sorted(docnum - offset for docnum in among if offset <= docnum < offset + count)


def term_scale(searcher: Searcher, field: str, term: str, boost: float) -> float:
    """What a term's BM25F score is proportional to: boost · idf · (K1 + 1). A posting of weight
    w in a document whose length norm is n scores scale · w / (w + n)."""
    return boost * searcher.idf(field, term) * (_parameters(searcher)[1] + 1)


def field_norms(searcher: Searcher, reader, field: str) -> tuple[bytes, list[float]]:
    """The field's length byte of every document in one segment, and the length norm
    K1 · (1 − B + B · length / average length) of each byte value."""
    b, k1 = _parameters(searcher)
    average = searcher.avg_field_length(field) or 1
    norm_of = [k1 * ((1 - b) + b * (byte_to_length(i) or 1) / average) for i in range(256)]
    return length_bytes(reader, field), norm_of


def _parameters(searcher: Searcher) -> tuple[float, float]:
    weighting: BM25F = searcher.weighting
    if weighting._field_B:  # noqa: SLF001 - per-field B is not supported here
        raise ValueError("BM25F scores here take one B for all fields")
    return weighting.B, weighting.K1
