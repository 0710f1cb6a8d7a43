"""Ranking: the paragraphs a query's hits are chosen from, in order, before they become hits.

A keyword query: every paragraph matching it (search.engine.matching), the best `KEYWORD_DEPTH`
distinct ones (content before headings and citations among the best `KEYWORD_POOL`) reordered by
search.rerank; soft AND adds the best of those holding some of its parts where fewer than the
page hold all, and a phrase found nowhere is looked for by its words. A question: BM25F's best
`RERANK_DEPTH` distinct paragraphs (search.engine.bm25, the first stage), and for a question asking
what a term is the best `DEFINING_DEPTH` holding it in a defining form (search.ranking.definitions),
reordered by how well each could answer. Whatever the number of hits asked for, those depths
stay the same and what follows the reordered head keeps the first pass's order (tier, score,
docnum), so that pages of any size and offset join into one list. A sentence that asks nothing
is a keyword query first: the paragraphs holding it as typed, if any; else the question.
Paragraphs of the same text count once.

A `Narrowing` keeps a ranking to the paragraphs of some documents (filters:
search.query.filters) and may order it by their documents' date instead, newest first: all a
keyword query matches, or a question's reordered best (the rest following by relevance); a
query of filters alone lists all the paragraphs they admit. Facets of all the matches are
counted by the shards, when asked for.

`Ranking` coordinates the shards of a collection (search.ranking.shard; one index is a
collection of one shard). It gathers the figures a query needs over the collection (gathering),
asks every shard for its best distinct paragraphs scored with them, merges those by score, ties
in docnum order (one index's order, as shards hold contiguous runs of documents in order), one
paragraph per text, and makes every decision that depends on the whole collection on its
figures: how many paragraphs match, the soft AND's weights and whether no paragraph holds a
part, content before headings, whether a sentence is found as typed. It fetches the stored text of the final candidates only, and
reranks them. So a sharded collection ranks exactly as one index of the same documents.

`Ranking` is also the hook through which bench/fit_rerank.py reads the candidates and what the
reranker knows of a query (`question_candidates`, `keyword_candidates`, `asked`).
"""

from __future__ import annotations

import heapq
import math
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from search.engine.figures import CollectionFigures, Figures
from search.index.schema import PARAGRAPH_TEXT, SUBWORDS, TITLE, WORDS
from search.query.parser import ParsedQuery
from search.query.plan import keeps_source
from search.query.tree import Phrase, Question
from search.ranking.gathering import FigureSource, keyword_figures, question_figures
from search.ranking.rerank import (
    Asked,
    Candidate,
    asked,
    content_first,
    following_order,
    idf,
    question_following,
    rank_keywords,
    rerank,
)
from search.ranking.scope import Narrowing
from search.ranking.shard import (
    DEFINING_DEPTH,
    Best,
    Defining,
    FacetRequest,
    Fetched,
    PlaceTuple,
    QueryContext,
    ShardBest,
    SourceCounts,
)
from search.ranking.shards import Shards, by_shard

RERANK_DEPTH = 100  # how many of BM25's best paragraphs a question reorders

KEYWORD_DEPTH = 20  # how many of the best paragraphs holding all (or some) keywords are reordered

KEYWORD_POOL = 50  # of how many of them those are chosen, content before headings and citations

NOWHERE_NARROWER = Narrowing()  # all the paragraphs, by relevance


@dataclass(frozen=True)
class KeywordCandidates:
    """What a keyword query's ranking reorders, and what the results say of it."""

    candidates: list[Candidate]  # the head: the best KEYWORD_DEPTH of each group, to reorder
    total: int  # paragraphs holding all the query, or when none does, some of it
    relaxed: bool  # no paragraph holds all the query
    relaxed_into: tuple[Phrase, ...]  # the words looked for instead of phrases found nowhere
    question: Asked  # what the reranker knows of the query
    paragraph: Callable[[int], tuple[str, str]]  # a docnum's (text, title)
    stored: dict[int, dict] = field(default_factory=dict)  # the candidates' stored fields
    keys: dict[int, str] = field(default_factory=dict)  # their text keys
    facets: list[Any] = field(default_factory=list)  # of all `total` counts, shard by shard
    # Those after the head of each group (all the query, some of it), in the first pass's order.
    following: list[Candidate] = field(default_factory=list)


class RankedParagraph(NamedTuple):
    """A paragraph ranked for a query: its score, its docnum, and whether it holds only some of
    the query's words (soft AND)."""

    score: float
    docnum: int
    partial: bool = False


@dataclass(frozen=True)
class Ranked:
    """A query's ranking, for keywords and questions alike: the paragraphs, best first; how many
    match in all (keywords: all the words, or where none holds all, some); whether no paragraph
    holds every word; the words a phrase found nowhere was looked for by instead; and the
    stored fields and text keys of the paragraphs (docnum -> each)."""

    paragraphs: list[RankedParagraph]
    total: int
    relaxed: bool = False
    relaxed_into: tuple[Phrase, ...] = ()
    stored: dict[int, dict] = field(default_factory=dict)
    keys: dict[int, str] = field(default_factory=dict)
    # The facets of all the matching paragraphs `total` counts, shard by shard (when asked for).
    facets: list[Any] = field(default_factory=list)


class _Some(NamedTuple):
    """Paragraphs holding some of a keyword query (soft AND), and what was looked for."""

    parts: tuple[Phrase, ...]  # the phrases looked for
    relaxed_into: tuple[Phrase, ...]  # the words looked for instead of phrases found nowhere
    best: list[Best]  # the best of them (the head), best first, one per text
    rest: list[Best]  # those following the head, in order
    partial: dict[int, tuple[float, float]]  # docnum -> (BM25F, the weighted share held)
    total: int  # how many hold some of the query
    context: QueryContext  # the query's, with the figures of what was looked for
    facets: list[Any]  # of those holding some of the query, shard by shard


class _Parts(NamedTuple):
    """The parts a soft AND looks for, how the collection weighs each, the query's context."""

    parts: tuple[Phrase, ...]
    relaxed_into: tuple[Phrase, ...]
    weights: list[float] | None  # None: none is looked for
    context: QueryContext


class Ranking:
    """The ranking of a collection: its `shards`, and where the figures of a query come from
    (`figures`: one index's own, or summed over the shards)."""

    def __init__(self, shards: Shards, figures: FigureSource) -> None:
        self.shards = shards
        self.figures = figures

    def rank(
        self,
        query: ParsedQuery,
        limit: int,
        narrowing: Narrowing = NOWHERE_NARROWER,
        facets: FacetRequest | None = None,
    ) -> Ranked:
        """The best `limit` or more paragraphs for `query` that `narrowing` keeps, best first
        (or newest first), and what the results say of them (their facets, with `facets`): for
        a sentence found as typed, the paragraphs holding it."""
        if query.tree is None:
            return self._listing(query, limit, narrowing, facets)
        if isinstance(query.tree, Question):
            as_typed = query.as_typed()
            if as_typed is not None:
                found = self._ranking_by_keywords(as_typed, limit, narrowing, facets)
                if found.paragraphs:
                    return found
            return self._question_ranking(query, limit, narrowing, facets)
        return self._ranking_by_keywords(query, limit, narrowing, facets)

    def _ranking_by_keywords(
        self, query: ParsedQuery, limit: int, narrowing: Narrowing, facets: FacetRequest | None
    ) -> Ranked:
        if narrowing.by_date:
            return self._keywords_by_date(query, limit, narrowing, facets)
        return self._keyword_ranking(query, limit, narrowing, facets)

    def sources(
        self, query: ParsedQuery, narrowing: Narrowing = NOWHERE_NARROWER
    ) -> dict[str, int]:
        """How many paragraphs match `query` in each document that has any (repeats included),
        the document of the best match first (or the newest first); for keywords no paragraph
        holds all together, those holding some (see keyword_candidates); for a sentence found
        as typed, those holding it; for a query of filters alone, all they keep."""
        as_typed = query.as_typed()
        if as_typed is not None and as_typed.tree is not None:
            with self._query(as_typed, narrowing) as context:
                found = self.shards.each("source_counts", context)
            if sum(counts.total for counts in found):
                return _by_source(found)
        with self._query(query, narrowing) as context:
            found = self.shards.each("source_counts", context)
            keywords = query.tree is not None and not isinstance(query.tree, Question)
            if keywords and not sum(counts.total for counts in found):
                some = self._parts(context, query, 0)
                found = (
                    self.shards.each("source_counts", some.context, some.parts, some.weights)
                    if some.weights is not None
                    else []
                )
        return _by_source(found)

    def places(
        self, keys: list[str], query: ParsedQuery, narrowing: Narrowing = NOWHERE_NARROWER
    ) -> dict[str, list[tuple[int, PlaceTuple]]]:
        """Where the paragraphs of each text key stand in the collection, in the documents
        that `narrowing` and the `source:` filters of `query` keep: (docnum, place)."""
        found: dict[str, list[tuple[int, PlaceTuple]]] = {key: [] for key in keys}
        if keys:
            for shard_places in self.shards.each("places", keys, Narrowing(narrowing.filters)):
                for key, places in shard_places.items():
                    found[key] += [
                        (docnum, place)
                        for docnum, place in places
                        if keeps_source(query.tree, place[0])
                    ]
        return found

    def document(self, source: str) -> list[dict]:
        """The stored fields of the paragraphs of `source`, in index order."""
        return [fields for shard in self.shards.each("document", source) for fields in shard]

    def samples(self, count: int, sizes: list[int]) -> list[str]:
        """The texts of up to `count` paragraphs spread evenly over the collection, in order:
        each shard's share of them by its size (`sizes`: its paragraphs)."""
        total = sum(sizes) or 1
        shares = [round(count * size / total) for size in sizes]
        if len(sizes) == 1:
            shares = [count]
        found = self.shards.some(
            "samples", {number: (share,) for number, share in enumerate(shares) if share}
        )
        return [text for number in sorted(found) for text in found[number]]

    def stored_fields(self, docnum: int) -> dict:
        """What the index stores of a paragraph (search.schema)."""
        return self._fetch(None, [docnum]).stored[docnum]

    # Keywords ---------------------------------------------------------------------------------

    def _keyword_ranking(
        self, query: ParsedQuery, limit: int, narrowing: Narrowing, facets: FacetRequest | None
    ) -> Ranked:
        found = self.keyword_candidates(query, limit, narrowing, facets)
        reranked = rank_keywords(found.candidates, found.paragraph, found.question)
        ranked: list[tuple[float, Candidate]] = []
        for partial in (False, True):
            ranked += [pair for pair in reranked if pair[1].partial == partial]
            following = [one for one in found.following if one.partial == partial]
            lowest = ranked[-1][0] if ranked else math.inf
            ranked += following_order(following, lowest)
        return Ranked(
            [RankedParagraph(score, c.docnum, c.partial) for score, c in ranked],
            found.total,
            found.relaxed,
            found.relaxed_into,
            found.stored,
            found.keys,
            found.facets,
        )

    def _keywords_by_date(
        self, query: ParsedQuery, limit: int, narrowing: Narrowing, facets: FacetRequest | None
    ) -> Ranked:
        """All the paragraphs a keyword query matches, newest first (by relevance within a day);
        where none holds all its words, those holding some."""
        with self._query(query, narrowing, facets) as context:
            found = self.shards.each("keyword_newest", context, limit)
            relaxed_into: tuple[Phrase, ...] = ()
            partial = False
            if not sum(shard.total for shard in found):
                some = self._parts(context, query, 0)
                relaxed_into = some.relaxed_into
                if some.weights is not None:
                    found = self.shards.each(
                        "partial_newest", some.context, some.parts, some.weights, limit
                    )
                    partial = bool(sum(shard.total for shard in found))
                    context = some.context
            best = _merged(found, limit, _newest_first(found))
            stored = self._fetch(None, [one.docnum for one in best]).stored
        return Ranked(
            [RankedParagraph(one.score, one.docnum, partial) for one in best],
            sum(shard.total for shard in found),
            partial,
            relaxed_into,
            stored,
            {one.docnum: one.key for one in best},
            _facets_of(found),
        )

    def _listing(
        self, query: ParsedQuery, limit: int, narrowing: Narrowing, facets: FacetRequest | None
    ) -> Ranked:
        """A query of filters alone: every paragraph they keep, in the documents' order (or
        newest first), each text once."""
        with self._query(query, narrowing, facets) as context:
            found = self.shards.each("listing", context, limit)
            order = _newest_first(found) if narrowing.by_date else None
            best = _merged(found, limit, order)
            stored = self._fetch(None, [one.docnum for one in best]).stored
        return Ranked(
            [RankedParagraph(one.score, one.docnum) for one in best],
            sum(shard.total for shard in found),
            stored=stored,
            keys={one.docnum: one.key for one in best},
            facets=_facets_of(found),
        )

    def keyword_candidates(
        self,
        query: ParsedQuery,
        limit: int,
        narrowing: Narrowing = NOWHERE_NARROWER,
        facets: FacetRequest | None = None,
    ) -> KeywordCandidates:
        """The paragraphs a keyword query's ranking reorders (the head: the best KEYWORD_DEPTH)
        and those following them, `limit` or more in all. Soft AND: where fewer than `limit`
        paragraphs hold all the parts of a query typed without syntax, those holding some of
        them follow; where none holds any part, the parts' words are looked for."""
        pool_size = max(limit, KEYWORD_POOL)
        with self._query(query, narrowing, facets) as context:
            found = self.shards.each("keyword_best", context, pool_size)
            best, rest = _content_first(found, pool_size)
            total = sum(shard.total for shard in found)
            some = _Some(query.soft_parts, (), [], [], {}, 0, context, [])
            if len(best) + len(rest) < limit:
                some = self._holding_some_of(context, query, total, pool_size)
            question = self._asked_keywords(some.context, query, some.parts or query.phrases)
            whole = [one.docnum for one in best + rest]
            held_some = [one.docnum for one in some.best + some.rest]
            fetched = self._fetch(some.context, whole + held_some, whole)

        def whole_candidates(chosen: list[Best]) -> list[Candidate]:
            return [Candidate(one.score, fetched.tiers[one.docnum], one.docnum) for one in chosen]

        def following(chosen: list[Best]) -> list[Candidate]:
            return _tier_first(whole_candidates(chosen), KEYWORD_POOL - KEYWORD_DEPTH)

        def partial_candidates(chosen: list[Best]) -> list[Candidate]:
            return [
                Candidate(
                    some.partial[one.docnum][0], 0.0, one.docnum, True, some.partial[one.docnum][1]
                )
                for one in chosen
            ]

        stored = fetched.stored
        return KeywordCandidates(
            whole_candidates(best) + partial_candidates(some.best),
            total or some.total,
            not total and bool(best or rest or some.best or some.rest),
            some.relaxed_into,
            question,
            lambda docnum: (stored[docnum][PARAGRAPH_TEXT], stored[docnum][TITLE]),
            stored,
            {one.docnum: one.key for one in best + rest + some.best + some.rest},
            _facets_of(found) if total else some.facets,
            following(rest) + partial_candidates(some.rest),
        )

    def _holding_some_of(
        self, context: QueryContext, query: ParsedQuery, whole: int, pool_size: int
    ) -> _Some:
        """Soft AND: the best `pool_size` distinct paragraphs holding some of the parts of a
        keyword query typed without syntax but not all of it (`whole` paragraphs hold all of
        it), by the share of its parts they hold, then by BM25F, the head to reorder apart;
        where none holds all or any, those holding some of the words of its parts (never single
        characters or numbers: relaxed_words)."""
        some = self._parts(context, query, whole)
        if some.weights is None:
            return _Some(some.parts, some.relaxed_into, [], [], {}, 0, some.context, [])
        found = self.shards.each("partial_best", some.context, some.parts, some.weights, pool_size)
        best, rest = _content_first(found, pool_size)
        partial = {docnum: held for shard in found for docnum, held in shard.partial.items()}
        total = sum(shard.total for shard in found)
        return _Some(
            some.parts,
            some.relaxed_into,
            best,
            rest,
            partial,
            total,
            some.context,
            _facets_of(found),
        )

    def _parts(self, context: QueryContext, query: ParsedQuery, whole: int) -> _Parts:
        """The parts a soft AND looks for and their weights: the rarer a part in the collection,
        the more it weighs. The parts' words instead where no paragraph holds the whole query
        (`whole` is how many do) nor any part of it."""
        parts = query.soft_parts
        counts, held = self._part_counts(context, parts) if len(parts) > 1 else (None, False)
        relaxed_into = query.relaxed_words if parts and not whole and not held else ()
        if relaxed_into:
            parts = relaxed_into
            figures = keyword_figures(self.figures, query, parts)
            context = replace(context, figures=self._shipped(figures))
            counts, _ = self._part_counts(context, parts)
        if counts is None:
            return _Parts(parts, relaxed_into, None, context)
        doc_count = self._figures(context).doc_count_all
        return _Parts(parts, relaxed_into, [idf(count, doc_count) for count in counts], context)

    def _part_counts(
        self, context: QueryContext, parts: tuple[Phrase, ...]
    ) -> tuple[list[int], bool]:
        """How many paragraphs of the collection match each part, and whether any holds a part
        but not the whole query."""
        found = self.shards.each("part_counts", context, parts)
        counts = [sum(column) for column in zip(*(shard.counts for shard in found))]
        return counts or [0] * len(parts), any(shard.held for shard in found)

    def _asked_keywords(
        self, context: QueryContext, query: ParsedQuery, parts: tuple[Phrase, ...]
    ) -> Asked:
        """What the reranker knows of a keyword query: its phrases, weighted by the rarest word
        in each (a phrase is at most as common as that)."""
        figures = self._figures(context)
        frequencies = {
            _normalized(part): min(
                (
                    figures.doc_frequency(field_name, term)
                    for field_name, words in ((WORDS, part.words), (SUBWORDS, part.subwords))
                    for term in words
                ),
                default=1,
            )
            for part in parts
        }
        return asked(
            query.text,
            [(part.text, _normalized(part)) for part in parts],
            frequencies.__getitem__,
            figures.doc_count_all,
            keywords=True,
        )

    # Questions --------------------------------------------------------------------------------

    def _question_ranking(
        self, query: ParsedQuery, limit: int, narrowing: Narrowing, facets: FacetRequest | None
    ) -> Ranked:
        """BM25F's best paragraphs: the best RERANK_DEPTH reordered by how well each could answer
        (see rerank), then the others in BM25F's order, `limit` or more in all; by date, the
        reordered ones newest first (the others follow in BM25F's order, as the newest of all
        the matches are not known)."""
        wanted = max(limit, RERANK_DEPTH)
        with self._query(query, narrowing, facets) as context:
            found = self.shards.each("question_best", context, wanted)
            head, rest, total, by_title = _question_best(found, wanted, RERANK_DEPTH)
            question = self._asked(context, query)
            stored = self._fetch(None, [one.docnum for one in head + rest]).stored
        reranked = rerank(
            [(one.score, one.docnum) for one in head],
            lambda docnum: (stored[docnum][PARAGRAPH_TEXT], stored[docnum][TITLE]),
            question,
            lambda docnum: docnum not in by_title,
            defined=query.defined,
        )
        following = question_following(
            [(one.score, one.docnum) for one in rest], reranked[-1][0] if reranked else 0.0
        )
        if narrowing.by_date:
            days = {docnum: day for shard in found for docnum, day in shard.days.items()}
            reranked = _newest_of(reranked, days)
        reranked += following
        return Ranked(
            [RankedParagraph(score, docnum) for score, docnum in reranked],
            total,
            stored=stored,
            keys={one.docnum: one.key for one in head + rest},
            facets=_facets_of(found),
        )

    def question_candidates(
        self, query: ParsedQuery, depth: int, narrowing: Narrowing = NOWHERE_NARROWER
    ) -> tuple[list[tuple[float, int]], int, set[int]]:
        """BM25F's best `depth` distinct paragraphs (score, docnum) that `narrowing` keeps, then
        for a question asking what a term is the paragraphs defining it that those miss; how
        many match, and which of them match by their document's title alone, holding none of
        the question's words (or sub-words) as the index found them (変わった holds 変わる)."""
        if not isinstance(query.tree, Question):
            raise TypeError("question_candidates ranks a question, not keywords")
        with self._query(query, narrowing) as context:
            found = self.shards.each("question_best", context, depth)
        best, _, total, by_title = _question_best(found, depth, depth)
        return [(one.score, one.docnum) for one in best], total, by_title

    def asked(self, query: ParsedQuery) -> Asked:
        """What the reranker knows of a question: its words, weighted by how rare each is."""
        with self._query(query) as context:
            return self._asked(context, query)

    def _asked(self, context: QueryContext, query: ParsedQuery) -> Asked:
        figures = self._figures(context)
        words = query.question_words
        frequencies = {word.words[0]: figures.doc_frequency(WORDS, word.words[0]) for word in words}
        return asked(
            query.text,
            [(word.text, word.words[0]) for word in words],
            frequencies.__getitem__,
            figures.doc_count_all,
        )

    # The collection ---------------------------------------------------------------------------

    def _query(
        self,
        query: ParsedQuery,
        narrowing: Narrowing = NOWHERE_NARROWER,
        facets: FacetRequest | None = None,
    ) -> _Query:
        """The context of one query for every shard (its figures gathered), in a `with` block
        that tells the shards when it is done."""
        if isinstance(query.tree, Question):
            figures = question_figures(self.figures, query)
        else:
            figures = keyword_figures(self.figures, query)
        context = QueryContext(uuid.uuid4().hex, query, self._shipped(figures), narrowing, facets)
        return _Query(self.shards, context)

    def _shipped(self, figures: CollectionFigures) -> Figures | None:
        """What the shards are sent of the figures: None where a shard is the collection."""
        return figures if self.figures.gathers else None  # type: ignore[return-value]

    def _figures(self, context: QueryContext) -> CollectionFigures:
        return context.figures if context.figures is not None else self.figures.figures

    def _fetch(
        self, context: QueryContext | None, docnums: list[int], tiered: Iterable[int] = ()
    ) -> Fetched:
        """The stored fields of `docnums` and the tiers of those of `tiered`, each from the
        shard holding it."""
        offsets = self.shards.offsets
        wanted = by_shard(offsets, docnums)
        with_tiers = by_shard(offsets, tiered)
        answers = self.shards.some(
            "fetch",
            {
                number: (context, shard_docnums, with_tiers.get(number, []))
                for number, shard_docnums in wanted.items()
            },
        )
        stored: dict[int, dict] = {}
        tiers: dict[int, float] = {}
        for answer in answers.values():
            stored.update(answer.stored)
            tiers.update(answer.tiers)
        return Fetched(stored, tiers)


class _Query:
    """A query's context, and its sessions forgotten by every shard at the end of the block."""

    def __init__(self, shards: Shards, context: QueryContext) -> None:
        self._shards = shards
        self.context = context

    def __enter__(self) -> QueryContext:
        return self.context

    def __exit__(self, *exc_info) -> None:
        self._shards.forget(self.context.id)


def _merged(
    found: list[ShardBest], wanted: int, order: Callable[[Best], tuple] | None = None
) -> list[Best]:
    """The best `wanted` distinct paragraphs of the shards' best: by score, ties in docnum order
    (or by `order`), the first paragraph of each text (each shard's lists are so ordered
    already)."""
    if len(found) == 1:
        return found[0].best[:wanted]
    key = order or (lambda one: (-one.score, one.docnum))
    merged = heapq.merge(*(shard.best for shard in found), key=key)
    seen: set[str] = set()
    best = []
    for one in merged:
        if one.key not in seen:
            seen.add(one.key)
            best.append(one)
            if len(best) == wanted:
                break
    return best


def _newest_first(found: list[ShardBest]) -> Callable[[Best], tuple]:
    """The order of paragraphs by date: newest first, by relevance within a day, then docnum."""
    days = {docnum: day for shard in found for docnum, day in shard.days.items()}
    return lambda one: (-days.get(one.docnum, 0), -one.score, one.docnum)


def _question_best(
    found: list[ShardBest], depth: int, head: int
) -> tuple[list[Best], list[Best], int, set[int]]:
    """A question's candidates from the shards': the head to rerank (the best `head` distinct,
    then the paragraphs defining its term that those miss: the best DEFINING_DEPTH distinct by
    the form's score, with a score for the question), the rest of the best `depth` in order,
    how many match, those matching by title alone."""
    merged = _merged(found, depth)
    best, rest = merged[:head], merged[head:]
    total = sum(shard.total for shard in found)
    by_title = {docnum for shard in found for docnum in shard.marked}
    defining = [one for shard in found for one in shard.defining]
    if not defining:
        return best, rest, total, by_title
    ordered = sorted(defining, key=lambda one: (-one.score, one.docnum))
    seen = {one.key for one in best}
    distinct: dict[str, Defining] = {}
    for one in ordered:
        distinct.setdefault(one.key, one)
    for one in list(distinct.values())[:DEFINING_DEPTH]:
        if one.key not in seen and one.question_score is not None:
            seen.add(one.key)
            best.append(Best(one.question_score, one.docnum, one.key))
    return best, [one for one in rest if one.key not in seen], total, by_title


def _newest_of(ranked: list[tuple[float, int]], days: dict[int, int]) -> list[tuple[float, int]]:
    """(score, docnum) pairs newest first, then by score, then docnum."""
    return sorted(ranked, key=lambda pair: (-days[pair[1]], -pair[0], pair[1]))


def _by_source(found: list[SourceCounts]) -> dict[str, int]:
    """The documents' counts of the shards', the document first whose first paragraph comes
    first in the query's order."""
    first = {
        source: (-day, -score, docnum, count)
        for counts in found
        for source, (count, day, score, docnum) in counts.counts.items()
    }
    return {source: key[3] for source, key in sorted(first.items(), key=lambda item: item[1])}


def _facets_of(found: list[ShardBest]) -> list[Any]:
    """The shards' facets, where they were counted."""
    return [shard.facets for shard in found if shard.facets is not None]


def _content_first(found: list[ShardBest], wanted: int) -> tuple[list[Best], list[Best]]:
    """The head of the best `wanted` distinct paragraphs, to reorder (the first KEYWORD_DEPTH
    of the best KEYWORD_POOL, content before headings), and the others in order (the rest of
    the pool, content before headings, then the others by score; the pool's by tier first, see
    _tier_first): the same whatever the number wanted."""
    headings = {docnum for shard in found for docnum in shard.marked}
    merged = _merged(found, wanted)
    pool = content_first(merged[:KEYWORD_POOL], headings.__contains__, KEYWORD_POOL)
    return pool[:KEYWORD_DEPTH], pool[KEYWORD_DEPTH:] + merged[KEYWORD_POOL:]


def _tier_first(candidates: list[Candidate], pooled: int) -> list[Candidate]:
    """Candidates after the head, the first `pooled` of them (the rest of the pool, content
    before headings) by tier first, as the reordered head is: a heading whose words match as
    words before content matching only by a synonym. Those after the pool follow by score."""
    return sorted(candidates[:pooled], key=lambda one: -one.tier) + candidates[pooled:]


def _normalized(phrase: Phrase) -> str:
    """A phrase's words run together, as the reranker looks for them in a paragraph's text."""
    return "".join(phrase.words) or phrase.folded
