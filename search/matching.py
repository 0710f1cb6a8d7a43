"""Matching: every paragraph a keyword query matches, with the score Whoosh would give it.

`query.to_whoosh` says what a keyword query means, as a tree of Whoosh queries. Whoosh runs such a
tree through matchers a document at a time, several Python calls per document and node: 100–200 ms
for a phrase of frequent words (一つの) on 40,000 paragraphs. Here each node becomes a table
docnum -> score instead: a term's from its posting blocks (bm25); a phrase's by intersecting its
terms rarest first, so that blocks without a candidate are never decompressed, and by reading
positions only where all of its terms are; OR adds its children's tables, AND keeps the paragraphs
all of them hold, a tier bonus is added to a table. The scores are Whoosh's (a test compares them
on many queries), but for a prefix (a one-character query's bigrams), whose Whoosh scores vary by
segment; a node of any other kind is handed to Whoosh's own matchers.
"""

from __future__ import annotations

from bisect import bisect_left
from itertools import accumulate
from pickle import loads
from typing import Callable, Iterable

from whoosh import formats
from whoosh import query as q
from whoosh.searching import Searcher

from .bm25 import field_norms, score_any, term_scale
from .postings import blocks, deleted
from .query import Bonus

Scores = dict[int, float]  # docnum -> score


def match(searcher: Searcher, query: q.Query) -> Scores:
    """docnum -> score of every live paragraph that `query` (a tree from query.to_whoosh)
    matches, as Whoosh would score it with `searcher`, which weighs by BM25F."""
    return _Evaluation(searcher).scores(query)


class _Evaluation:
    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.segments = [(reader, offset, deleted(reader))
                         for reader, offset in self.reader.leaf_readers()]
        self.decoded: dict[tuple[str, bytes], list[int]] = {}
        self.decoders: dict[str, Callable[[bytes], list[int]]] = {}

    def scores(self, query: q.Query) -> Scores:
        kind = type(query)
        if kind is Bonus:
            bonus = query.bonus
            return {docnum: score + bonus for docnum, score in self.scores(query.child).items()}
        if kind is q.Term:
            return score_any(self.searcher, [(query.fieldname, query.text, query.boost)])
        if kind is q.Prefix:
            # Whoosh's Prefix matches the same paragraphs, but its score depends on the segment
            # (constant in one, BM25F with or without the boost in another): here it is always
            # the boosted BM25F of the terms with the prefix, summed.
            field = query.fieldname
            terms = [term.decode("utf-8") for term in self.reader.expand_prefix(field, query.text)]
            return score_any(self.searcher, [(field, term, query.boost) for term in terms])
        if kind is q.Phrase:
            return self.phrase(query.fieldname, query.words, query.slop, query.boost)
        if kind is q.Or and query.boost == 1.0 and not query.minmatch and query.scale is None:
            return _add([self.scores(child) for child in query.subqueries])
        if kind is q.And and query.boost == 1.0:
            return _intersect([self.scores(child) for child in query.subqueries])
        if kind is q.AndNot and query.boost == 1.0:
            unwanted = self.scores(query.b)
            return {docnum: score for docnum, score in self.scores(query.a).items()
                    if docnum not in unwanted}
        return self.whoosh(query)

    def whoosh(self, query: q.Query) -> Scores:
        """What Whoosh's own matchers make of `query`."""
        return {docnum: score for score, docnum in self.searcher.search(query, limit=None).top_n}

    def phrase(self, field: str, words: list[str], slop: int, boost: float) -> Scores:
        """Paragraphs holding `words` in order, each within `slop` positions of the one before;
        scored as Whoosh's Phrase: the BM25F scores of its words, summed, times `boost`."""
        if not words or any((field, word) not in self.reader for word in words):
            return {}
        scales = {word: term_scale(self.searcher, field, word, 1.0) for word in words}
        scores: Scores = {}
        for reader, offset, gone in self.segments:
            if any((field, word) not in reader for word in scales):
                continue
            found = _together(reader, field, list(scales), gone)
            if not found:
                continue
            lengths, norm_of = field_norms(self.searcher, reader, field)
            for docnum, postings in found.items():
                if _in_order((self.positions(field, postings[word][1]) for word in words), slop):
                    norm = norm_of[lengths[docnum]]
                    total = 0.0
                    for word in words:
                        weight = postings[word][0]
                        total += scales[word] * weight / (weight + norm)
                    scores[docnum + offset] = total * boost
        return scores

    def positions(self, field: str, value: bytes) -> list[int]:
        """The positions a posting's value holds (the same values recur: decoded once)."""
        key = (field, value)
        positions = self.decoded.get(key)
        if positions is None:
            decode = self.decoders.get(field) or self.decoders.setdefault(field, self._decoder(field))
            positions = self.decoded[key] = decode(value)
        return positions

    def _decoder(self, field: str) -> Callable[[bytes], list[int]]:
        fmt = self.searcher.schema[field].format
        if type(fmt) is formats.Positions:
            # Its decode_positions, without a method call and a Python loop per position:
            # the frequency, then a pickled list of deltas (its final STOP may be left out).
            return lambda value: list(accumulate(loads(value[4:] if value[-1:] == b"." else value[4:] + b".")))
        return fmt.decode_positions


def _together(reader, field: str, words: list[str], gone: frozenset[int]) -> dict[int, dict]:
    """docnum -> {word: (weight, value)} of the live documents of one segment holding every one of
    `words`; the rarest word is read whole, then only the blocks of the others that may hold one
    of the documents still in the running, looked up in each by bisection."""
    order = sorted(words, key=lambda word: reader.doc_frequency(field, word))
    first = order[0]
    found = {}
    for docnums, weights, values in blocks(reader, field, first, values=True):
        for docnum, weight, value in zip(docnums, weights, values):
            if docnum not in gone:
                found[docnum] = {first: (weight, value)}
    for word in order[1:]:
        if not found:
            break
        wanted = sorted(found)
        kept = {}
        at = 0
        for docnums, weights, values in blocks(reader, field, word, values=True, among=wanted):
            last = docnums[-1]
            while at < len(wanted) and wanted[at] <= last:
                docnum = wanted[at]
                at += 1
                i = bisect_left(docnums, docnum)
                if docnums[i] == docnum:
                    postings = found[docnum]
                    postings[word] = (weights[i], values[i])
                    kept[docnum] = postings
        found = kept
    return found


def _in_order(position_lists: Iterable[list[int]], slop: int) -> bool:
    """Whether one position from each list follows the one chosen before it by 1 to `slop`
    positions (Whoosh's SpanNear2, ordered, mindist 1); reads the lists only as far as needed."""
    lists = iter(position_lists)
    ends = set(next(lists))
    steps = range(1, slop + 1)
    for positions in lists:
        if slop == 1:
            ends = {p for p in positions if p - 1 in ends}
        else:
            ends = {p for p in positions if any(p - step in ends for step in steps)}
        if not ends:
            return False
    return True


def _add(tables: list[Scores]) -> Scores:
    """OR: every paragraph of any table, with its scores summed."""
    total: Scores = {}
    for table in tables:
        get = total.get
        for docnum, score in table.items():
            total[docnum] = get(docnum, 0.0) + score
    return total


def _intersect(tables: list[Scores]) -> Scores:
    """AND: the paragraphs of every table, with their scores summed."""
    if not tables:
        return {}
    common = set(min(tables, key=len))
    for table in tables:
        common.intersection_update(table)
    return {docnum: sum(table[docnum] for table in tables) for docnum in common}
