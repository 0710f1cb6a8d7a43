"""Matching: every paragraph a keyword query matches, with the score Whoosh would give it.

`plan.to_whoosh` says what a keyword query means, as a tree of Whoosh queries. Whoosh runs such a
tree through matchers a document at a time, several Python calls per document and node: 100–200 ms
for a phrase of frequent words (一つの) on 40,000 paragraphs. Here each node becomes a table
docnum -> score instead: a term's from its posting blocks (bm25); a phrase's by intersecting its
terms rarest first, so that blocks without a candidate are never decompressed, and by reading
positions only where all of its terms are; OR adds its children's tables, AND keeps the paragraphs
all of them hold, a tier bonus is added to a table. The scores are Whoosh's (a test compares them
on many queries); a node of any other kind is handed to Whoosh's own matchers. The query of one
word (an OR of terms) is also scored in bulk into an array (`match_in_bulk`).

`tiers` says how much of the score of a few paragraphs is tier bonus (query.TIER_BONUS: which
fields a phrase matched in), so that a ranking can keep tiers apart and weigh the rest (BM25F) as
it sees fit; the bonuses of what a NOT excludes are never counted.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence

from whoosh import query as q
from whoosh.searching import Searcher

from search.engine.bm25 import Statistics, WeightedTerm, in_bulk, score_any, score_dense
from search.engine.nodes import Bonus, Bounded
from search.engine.postings import Wanted
from search.index.codec import BlockPositions, OpenSegment, Posted, blocks
from search.index.schema import PARAGRAPH_TEXT

Scores = dict[int, float]  # docnum -> score
Among = Wanted | None  # the paragraphs to consider (None: all)
# A block holding at least one candidate in this many of its postings is read through rather
# than searched by bisection for each candidate.
_DENSE = 4
# (documents found so far as docnum -> {word: (weight, positions)}, words just added) -> those kept
Narrow = Callable[[dict[int, dict], list[str]], dict[int, dict]]


def match(
    searcher: Searcher,
    query: q.Query,
    statistics: Statistics | None = None,
    phrases: dict | None = None,
) -> Scores:
    """docnum -> score of every live paragraph that `query` (a tree from plan.to_whoosh)
    matches, as Whoosh would score it with `searcher`, which weighs by BM25F. `statistics` of the
    searcher's index, when given, saves looking them up again. `phrases`, a dict shared by the
    queries of one search, keeps the phrases matched in all the index for the next query to
    read (a keyword query's parts are matched together, then one by one)."""
    evaluation = _Evaluation(searcher, statistics or Statistics(searcher), phrases)
    return evaluation.scores(query)


def match_in_bulk(query: q.Query, statistics: Statistics):
    """`match` as a numpy array of scores by docnum (0: not matched), the same floats, for a
    query that is an OR of terms, each alone or under a tier bonus (the query of one word), when
    scoring it in bulk pays (bm25.in_bulk); None for any other query."""
    flat = _flat_terms(query)
    if flat is None or not in_bulk(statistics, flat[0]):
        return None
    return score_dense(statistics, *flat)


def _flat_terms(query: q.Query) -> tuple[list[WeightedTerm], list[float]] | None:
    """The (field, term, boost) and the tier bonus of each term of an OR of terms each alone or
    under a bonus, in order; None for a query of any other shape."""
    children = query.subqueries if _plain_or(query) else [query]
    terms, bonuses = [], []
    for child in children:
        bonus = 0.0
        if type(child) is Bonus:
            child, bonus = child.child, child.bonus
        if type(child) is not q.Term:
            return None
        terms.append((child.fieldname, child.text, child.boost))
        bonuses.append(bonus)
    return terms, bonuses


def _plain_or(query: q.Query) -> bool:
    """Whether `query` is an OR whose score is its children's scores summed."""
    return type(query) is q.Or and query.boost == 1.0 and not query.minmatch and query.scale is None


def tiers(
    searcher: Searcher, query: q.Query, docnums: Iterable[int], statistics: Statistics | None = None
) -> Scores:
    """docnum -> the part of `match`'s score that is tier bonus, for some of the paragraphs
    `query` matches: the bonuses of the tiers their phrases matched in (0 for a paragraph matched
    by readings or synonyms only). Each tier is evaluated among those paragraphs only."""
    evaluation = _Evaluation(searcher, statistics or Statistics(searcher))
    wanted = Wanted(set(docnums))
    found = dict.fromkeys(wanted.docnums, 0.0)
    for bonus in _bonuses(query):
        for docnum in evaluation.holders(bonus.child, wanted):
            found[docnum] += bonus.bonus
    return found


def _bonuses(query: q.Query) -> Iterator[Bonus]:
    """The tier bonuses of a query tree, but those under a NOT."""
    if type(query) is Bonus:
        yield query
    elif type(query) is q.AndNot:
        yield from _bonuses(query.a)
    else:
        for child in query.children():
            yield from _bonuses(child)


class _Evaluation:
    def __init__(
        self, searcher: Searcher, statistics: Statistics, phrases: dict | None = None
    ) -> None:
        self.searcher = searcher
        self.statistics = statistics
        self.terms = statistics.terms
        self.phrases = {} if phrases is None else phrases  # (field, words, slop, boost) -> Scores

    def scores(self, query: q.Query, among: Among = None) -> Scores:
        """docnum -> score of the paragraphs `query` matches (of those in `among`, if given)."""
        table: Scores = {}
        self.add(query, table, among)
        return table

    def holders(self, query: q.Query, among: Wanted) -> Iterable[int]:
        """The paragraphs of `among` that `query` matches (`scores` without the scores)."""
        return self.scores(query, among).keys()

    def add(self, query: q.Query, table: Scores, among: Among, bonus: float = 0.0) -> None:
        """Add the scores of `query`'s matches (plus `bonus` each) into `table`."""
        kind = type(query)
        if kind is Bonus:
            self.add(query.child, table, among, bonus + query.bonus)
        elif kind is q.Term:
            score_any(
                self.searcher,
                [(query.fieldname, query.text, query.boost)],
                among,
                into=table,
                bonus=bonus,
                statistics=self.statistics,
            )
        elif _plain_or(query):
            if bonus:  # added once for a paragraph, whichever children match it
                _add(table, self.scores(query, among), bonus)
            else:
                for child in query.subqueries:
                    self.add(child, table, among)
        else:
            _add(table, self.evaluate(query, among), bonus)

    def evaluate(self, query: q.Query, among: Among) -> Scores:
        kind = type(query)
        if kind is q.Phrase:
            return self.remembered_phrase(
                query.fieldname, tuple(query.words), query.slop, query.boost, among
            )
        if kind is Bounded:
            stored = self.searcher.stored_fields
            return {
                docnum: score
                for docnum, score in self.scores(query.child, among).items()
                if query.admits(stored(docnum)[PARAGRAPH_TEXT])
            }
        if kind is q.And and query.boost == 1.0:
            return self.all_of(query.subqueries, among)
        if kind is q.AndNot and query.boost == 1.0:
            wanted = self.scores(query.a, among)
            unwanted = self.scores(query.b, Wanted(wanted.keys())) if wanted else {}
            return {docnum: score for docnum, score in wanted.items() if docnum not in unwanted}
        return self.whoosh(query, among)

    def all_of(self, queries: list[q.Query], among: Among) -> Scores:
        """AND: the paragraphs every query matches, their scores summed; the query expected to
        match fewest first, the others only among what it matched."""
        table = None
        # In the order of the collection's estimates: the order of the additions is the sum's.
        sizes = self.statistics.sizes
        for query in sorted(queries, key=lambda query: query.estimate_size(sizes)):
            found = self.scores(query, among if table is None else Wanted(table.keys()))
            table = found if table is None else {d: table[d] + score for d, score in found.items()}
            if not table:
                break
        return table or {}

    def whoosh(self, query: q.Query, among: Among) -> Scores:
        """What Whoosh's own matchers make of `query`."""
        return {
            docnum: score
            for score, docnum in self.searcher.search(query, limit=None).top_n
            if among is None or docnum in among
        }

    def remembered_phrase(
        self, field: str, words: tuple[str, ...], slop: int, boost: float, among: Among
    ) -> Scores:
        """`phrase`, from `phrases` when it was matched in all the index before (the result is
        shared: not to be changed)."""
        key = (field, words, slop, boost)
        found = self.phrases.get(key)
        if found is not None:
            return (
                found
                if among is None
                else {docnum: score for docnum, score in found.items() if docnum in among}
            )
        found = self.phrase(field, list(words), slop, boost, among)
        if among is None:
            self.phrases[key] = found
        return found

    def phrase(self, field: str, words: list[str], slop: int, boost: float, among: Among) -> Scores:
        """Paragraphs holding `words` in order, each within `slop` positions of the one before
        (next to it when `slop` is 1, the usual case, found by `_adjacent`); scored as Whoosh's
        Phrase: the BM25F scores of its words, summed, times `boost`."""
        if not words or any((field, word) not in self.terms for word in words):
            return {}
        scales = {word: self.statistics.scale(field, word, 1.0) for word in words}
        in_segment = {
            word: {posted.segment.offset: posted for posted in self.terms.posted(field, word)}
            for word in scales
        }
        scores: Scores = {}
        for segment in self.terms.segments:
            posted = {
                word: found[segment.offset]
                for word, found in in_segment.items()
                if segment.offset in found
            }
            if len(posted) < len(in_segment):
                continue
            wanted = None if among is None else among.in_segment(segment)
            if wanted is not None and not wanted:
                continue
            if slop == 1:
                found = _together(posted, field, segment, wanted, _adjacent(words))
            else:
                found = _together(posted, field, segment, wanted)
                found = {
                    docnum: postings
                    for docnum, postings in found.items()
                    if _in_order((postings[word][1] for word in words), slop)
                }
            if not found:
                continue
            lengths, norm_of = self.statistics.norms(segment, field)
            offset = segment.offset
            for docnum, postings in found.items():
                norm = norm_of[lengths[docnum]]
                total = 0.0
                for word in words:
                    weight = postings[word][0]
                    total += scales[word] * weight / (weight + norm)
                scores[docnum + offset] = total * boost
        return scores


def _with_positions(
    posted: Posted, field: str, term: str, among: Sequence[int] | None
) -> Iterator[tuple[list[int], Sequence[float], BlockPositions]]:
    """The blocks of a term of a positional field, with their positions."""
    for block in blocks(posted, field, term, values=True, among=among):
        if not isinstance(block.values, BlockPositions):
            raise TypeError(f"the field {field!r} holds no positions")
        yield block.docnums, block.weights, block.values


def _adjacent(words: list[str]) -> Narrow:
    """For `_together`: keeps the documents where the words read so far stand where the
    phrase has them, side by side, judged by the places where the phrase could start."""
    if len(words) == 2 and words[0] != words[1]:
        return _pair_adjacent(*words)
    places: dict[str, list[int]] = {}
    for place, word in enumerate(words):
        places.setdefault(word, []).append(place)
    starts: dict[int, set[int]] = {}

    def narrow(found: dict[int, dict], new_words: list[str]) -> dict[int, dict]:
        kept = {}
        for docnum, postings in found.items():
            possible = starts.get(docnum)
            for word in new_words:
                positions = postings[word][1]
                for place in places[word]:
                    if possible is None:
                        possible = {p - place for p in positions}
                    else:
                        possible.intersection_update([p - place for p in positions])
            if possible:
                starts[docnum] = possible
                kept[docnum] = postings
        return kept

    return narrow


def _pair_adjacent(first: str, second: str) -> Narrow:
    """`_adjacent` for a phrase of two different words, read together: the usual case (the
    bigrams of a three-character substring), and a quicker test."""

    def narrow(found: dict[int, dict], new_words: list[str]) -> dict[int, dict]:
        kept = {}
        for docnum, postings in found.items():
            before = postings[first][1]
            after = postings[second][1]
            if len(before) == 1 and len(after) == 1:
                if after[0] - before[0] == 1:
                    kept[docnum] = postings
            elif not set(before).isdisjoint([p - 1 for p in after]):
                kept[docnum] = postings
        return kept

    return narrow


def _together(
    posted: dict[str, Posted],
    field: str,
    segment: OpenSegment,
    wanted: list[int] | None,
    narrow: Narrow | None = None,
) -> dict[int, dict]:
    """docnum -> {word: (weight, positions)} of the live documents of one segment (those of `wanted`,
    if given) holding every word of `posted` (word -> its postings in the segment); the rarest
    word is read first, then only the blocks of the others that may hold one of the documents
    still in the running, looked up by bisection where a block holds few of them and read
    through where it holds many. `narrow(found, words just added)`, if given, drops documents
    along the way."""
    order = sorted(posted, key=lambda word: posted[word].info.doc_frequency())
    first = order[0]
    found = {}
    gone = segment.deleted
    keep = None if wanted is None else set(wanted)
    for docnums, weights, values in _with_positions(posted[first], field, first, wanted):
        for docnum, weight, value in zip(docnums, weights, values):
            if docnum not in gone and (keep is None or docnum in keep):
                found[docnum] = {first: (weight, value)}
    for number, word in enumerate(order[1:], start=1):
        if not found:
            break
        candidates = sorted(found)
        kept: dict[int, dict] = {}
        at = 0
        get = found.get
        for docnums, weights, values in _with_positions(posted[word], field, word, candidates):
            at = bisect_left(candidates, docnums[0], at)  # past those in skipped blocks
            end = bisect_right(candidates, docnums[-1], at)
            if (end - at) * _DENSE < len(docnums):  # a few candidates: look each one up
                for docnum in candidates[at:end]:
                    i = bisect_left(docnums, docnum)
                    if docnums[i] == docnum:
                        postings = found[docnum]
                        postings[word] = (weights[i], values[i])
                        kept[docnum] = postings
            else:  # many: read the block through (the positions of candidates only)
                for i, docnum in enumerate(docnums):
                    held = get(docnum)
                    if held is not None:
                        held[word] = (weights[i], values[i])
                        kept[docnum] = held
            at = end
        found = kept if narrow is None else narrow(kept, order[:2] if number == 1 else [word])
    if narrow is not None and len(order) == 1:
        found = narrow(found, order)
    return found


def _in_order(position_lists: Iterable[list[int]], slop: int) -> bool:
    """Whether one position from each list follows the one chosen before it by 1 to `slop`
    positions (Whoosh's SpanNear2, ordered, mindist 1); reads the lists only as far as needed."""
    lists = iter(position_lists)
    ends = set(next(lists))
    steps = range(1, slop + 1)
    for positions in lists:
        ends = {p for p in positions if any(p - step in ends for step in steps)}
        if not ends:
            return False
    return True


def _add(table: Scores, other: Scores, bonus: float = 0.0) -> None:
    """OR: add `other`'s scores (plus `bonus` each) into `table`."""
    get = table.get
    for docnum, score in other.items():
        table[docnum] = get(docnum, 0.0) + score + bonus
