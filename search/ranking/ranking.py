"""Ranking: the paragraphs a query's hits are chosen from, in order, before they become hits.

A keyword query: every paragraph matching it (search.engine.matching), the best `KEYWORD_DEPTH`
distinct ones (content before headings and citations among the best `KEYWORD_POOL`) reordered by
search.ranking.rerank; soft AND adds the best of those holding some of its parts where fewer than the
page hold all, and a phrase found nowhere is looked for by its words. A question: BM25F's best
`RERANK_DEPTH` distinct paragraphs (search.engine.bm25, the first stage), and for a question asking
what a term is the best `DEFINING_DEPTH` holding it in a defining form (search.ranking.definitions),
reordered by how well each could answer. A sentence that asks nothing is a keyword query first:
the paragraphs holding it as typed, if any; else the question. Paragraphs of the same text count
once (`best_distinct`).

A `Scope` narrows a ranking to the paragraphs of some documents (filters: search.query.filters)
and may order it by their documents' date instead, newest first: all a keyword query matches,
or the best of a question's; a query of filters alone lists all the paragraphs they admit. The
`Ranked` says which paragraphs match (`matched`), for counting facets over all of them.

`Ranking` is also the hook through which bench/fit_rerank.py reads the candidates and what the
reranker knows of a query (`question_candidates`, `keyword_candidates`, `asked`).
"""

from __future__ import annotations

import contextlib
import heapq
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from functools import cached_property
from itertools import compress
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from search.engine.bm25 import Statistics, in_bulk, score_any, score_dense
from search.engine.matching import match, match_in_bulk, tiers
from search.engine.postings import Wanted
from search.index.opening import translate_damage
from search.index.schema import CONTEXT, PARAGRAPH_TEXT, SUBWORDS, TITLE, WORDS
from search.query.parser import ParsedQuery
from search.query.plan import in_title, question_terms, to_whoosh, untiered
from search.query.tree import Phrase, Question
from search.ranking.definitions import defining_query
from search.ranking.rerank import Asked, Candidate, asked, content_first, idf, rank_keywords, rerank

if TYPE_CHECKING:  # numpy is imported only when a query is scored in bulk
    import numpy

RERANK_DEPTH = 100  # how many of BM25's best paragraphs a question reorders

DEFINING_DEPTH = 20  # how many paragraphs holding its term in a defining form a question adds

KEYWORD_DEPTH = 20  # how many of the best paragraphs holding all (or some) keywords are reordered

KEYWORD_POOL = 50  # of how many of them those are chosen, content before headings and citations


@dataclass(frozen=True)
class KeywordCandidates:
    """What a keyword query's ranking reorders, and what the results say of it."""

    candidates: list[Candidate]
    total: int  # paragraphs holding all the query, or when none does, some of it
    relaxed: bool  # no paragraph holds all the query
    relaxed_into: tuple[Phrase, ...]  # the words looked for instead of phrases found nowhere
    question: Asked  # what the reranker knows of the query
    paragraph: Callable[[int], tuple[str, str]]  # a docnum's (text, title)
    matched: Collection[int] = ()  # the docnums of the paragraphs `total` counts


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
    holds every word; the words a phrase found nowhere was looked for by instead; and the docnums
    of all the matching paragraphs that `total` counts (a numpy array, or a dict's keys)."""

    paragraphs: list[RankedParagraph]
    total: int
    relaxed: bool = False
    relaxed_into: tuple[Phrase, ...] = ()
    matched: Collection[int] = ()


@dataclass(frozen=True)
class Scope:
    """What a ranking keeps to and how it orders: `allowed`, by docnum, whether a paragraph may
    match (a numpy boolean array; None: all may), and `days`, by docnum, its document's day
    (YYYYMMDD) when the ranking is by date, newest first (None: by relevance)."""

    allowed: Any = None
    days: Any = None

    @cached_property
    def _allowed_bytes(self) -> bytes:
        return self.allowed.tobytes()

    def admits(self, docnum: int) -> bool:
        return self.allowed is None or bool(self._allowed_bytes[docnum])

    def within(self, scores: dict[int, float]) -> dict[int, float]:
        """The scores of the paragraphs it allows."""
        if self.allowed is None:
            return scores
        allowed = self._allowed_bytes
        return {docnum: score for docnum, score in scores.items() if allowed[docnum]}


EVERYWHERE = Scope()


class _Some(NamedTuple):
    """Paragraphs holding some of a keyword query (soft AND), and what was looked for."""

    parts: tuple[Phrase, ...]  # the phrases looked for
    relaxed_into: tuple[Phrase, ...]  # the words looked for instead of phrases found nowhere
    held: dict[int, float]  # docnum -> the weighted share of the parts it holds
    scores: dict[int, float]  # docnum -> BM25F for the parts, without tier bonuses


@dataclass(frozen=True)
class _Held:
    """The paragraphs a query matches and their scores, as numpy arrays (docnums ascending)."""

    docnums: numpy.ndarray
    scores: numpy.ndarray

    @classmethod
    def of(cls, summed) -> _Held:
        """Those of an array of scores by docnum (bm25.score_dense) that are not 0."""
        import numpy

        docnums = numpy.flatnonzero(summed)
        return cls(docnums, summed[docnums])

    def __len__(self) -> int:
        return len(self.docnums)

    def items(self) -> Iterable[tuple[int, float]]:
        return zip(self.docnums.tolist(), self.scores.tolist())

    def within(self, scope: Scope) -> _Held:
        """Those of the paragraphs `scope` allows."""
        if scope.allowed is None:
            return self
        kept = scope.allowed[self.docnums]
        return _Held(self.docnums[kept], self.scores[kept])


class Ranking:
    """The ranking stages of one open index: Whoosh's searcher over it, what BM25F needs of it
    (`statistics`), the index's folder (a damaged file's errors are reported as its damage),
    and its `same_text` column (a paragraph's text key, read once per open index)."""

    def __init__(self, searcher, statistics: Statistics, index_dir: Path, same_text) -> None:
        self._searcher = searcher
        self._reader = searcher.reader()
        self._statistics = statistics
        self._index_dir = index_dir
        self._same_text = same_text

    def _damage(self) -> contextlib.AbstractContextManager[None]:
        """Reading the index with a damaged file's errors made one line (IndexDamaged)."""
        return translate_damage(self._index_dir)

    def rank(self, query: ParsedQuery, limit: int, scope: Scope = EVERYWHERE) -> Ranked:
        """The best `limit` or more paragraphs for `query` that `scope` allows, best first (or
        newest first), and what the results say of them: for a sentence found as typed, the
        paragraphs holding it."""
        if query.tree is None:
            return self._listing(limit, scope)
        if isinstance(query.tree, Question):
            as_typed = query.as_typed()
            if as_typed is not None:
                found = self._ranking_by_keywords(as_typed, limit, scope)
                if found.paragraphs:
                    return found
            return self._question_ranking(query, limit, scope)
        return self._ranking_by_keywords(query, limit, scope)

    def _ranking_by_keywords(self, query: ParsedQuery, limit: int, scope: Scope) -> Ranked:
        if scope.days is not None:
            return self._keywords_by_date(query, limit, scope)
        return self._keyword_ranking(query, limit, scope)

    def scores(self, query: ParsedQuery, scope: Scope = EVERYWHERE) -> dict[int, float]:
        """The docnum and score of every paragraph matching `query` that `scope` allows (BM25F's,
        for a question; a sentence's as typed, when found so); for keywords no paragraph holds
        all together, those holding some (see keyword_candidates); 0 for each paragraph a query
        of filters alone keeps."""
        if query.tree is None:
            return dict.fromkeys(self._allowed(scope).tolist(), 0.0)
        as_typed = query.as_typed()
        if as_typed is not None and as_typed.tree is not None:
            scores = scope.within(self._match(self._whoosh(as_typed.tree)))
            if scores:
                return scores
        if isinstance(query.tree, Question):
            with self._damage():
                return scope.within(
                    score_any(
                        self._searcher, question_terms(query.tree), statistics=self._statistics
                    )
                )
        scores = scope.within(self._match(self._whoosh(query.tree)))
        return scores or self._holding_some_of(query, scores, scope=scope).scores

    def _allowed(self, scope: Scope):
        """The docnums of the live paragraphs `scope` allows, ascending (a numpy array)."""
        import numpy

        if scope.allowed is not None:
            return numpy.flatnonzero(scope.allowed)
        with self._damage():
            return numpy.fromiter(self._reader.all_doc_ids(), dtype=numpy.int64)

    def _listing(self, limit: int, scope: Scope) -> Ranked:
        """A query of filters alone: every paragraph they allow, in the documents' order (or
        newest first), each text once."""
        import numpy

        docnums = self._allowed(scope)
        held = _Held(docnums, numpy.zeros(len(docnums)))
        if scope.days is not None:
            best = self._newest_distinct(held, limit, scope.days)
        else:
            best = self._distinct(docnums.tolist(), dict.fromkeys(docnums.tolist(), 0.0), limit)
        return Ranked(
            [RankedParagraph(score, docnum) for score, docnum in best],
            len(docnums),
            matched=docnums,
        )

    def _keyword_ranking(self, query: ParsedQuery, limit: int, scope: Scope) -> Ranked:
        found = self.keyword_candidates(query, limit, scope)
        with self._damage():
            ranked = rank_keywords(found.candidates, found.paragraph, found.question)
        return Ranked(
            [RankedParagraph(score, c.docnum, c.partial) for score, c in ranked],
            found.total,
            found.relaxed,
            found.relaxed_into,
            found.matched,
        )

    def _keywords_by_date(self, query: ParsedQuery, limit: int, scope: Scope) -> Ranked:
        """All the paragraphs a keyword query matches, newest first (by relevance within a day);
        where none holds all its words, those holding some."""
        planned = self._whoosh(query.tree)
        phrases: dict = {}
        with self._damage():
            summed = match_in_bulk(planned, self._statistics)
        scores: dict[int, float] | _Held = (
            scope.within(self._match(planned, phrases))
            if summed is None
            else _Held.of(summed).within(scope)
        )
        some = _Some((), (), {}, {})
        if not len(scores):
            some = self._holding_some_of(query, {}, phrases, scope)
            scores = some.scores
        partial = bool(some.scores)
        best = self._newest_distinct(scores, limit, scope.days)
        return Ranked(
            [RankedParagraph(score, docnum, partial) for score, docnum in best],
            len(scores),
            partial,
            some.relaxed_into,
            _docnums(scores),
        )

    def _newest_distinct(
        self, scores: dict[int, float] | _Held, wanted: int, days
    ) -> list[tuple[float, int]]:
        """The `wanted` newest (score, docnum) of `scores`, by relevance within a day, then by
        docnum; one per text."""
        import numpy

        if isinstance(scores, dict):
            docnums = numpy.fromiter(scores.keys(), dtype=numpy.int64, count=len(scores))
            values = numpy.fromiter(scores.values(), dtype=numpy.float64, count=len(scores))
        else:
            docnums, values = scores.docnums, scores.scores
        order = numpy.lexsort((docnums, -values, -days[docnums]))
        best: list[tuple[float, int]] = []
        seen: set = set()
        step = max(4 * wanted, 256)  # paragraphs are mostly unique: one slice nearly always does
        for start in range(0, len(order), step):
            chunk = order[start : start + step]
            for docnum, score in zip(docnums[chunk].tolist(), values[chunk].tolist()):
                key = self._same_text[docnum]
                if key not in seen:
                    seen.add(key)
                    best.append((score, docnum))
                    if len(best) == wanted:
                        return best
        return best

    def keyword_candidates(
        self, query: ParsedQuery, limit: int, scope: Scope = EVERYWHERE
    ) -> KeywordCandidates:
        """The paragraphs a keyword query's ranking reorders. Soft AND: where fewer than `limit`
        paragraphs hold all the parts of a query typed without syntax, the best of those holding
        some of them follow; where none holds any part, the parts' words are looked for."""
        depth = max(limit, KEYWORD_DEPTH)
        planned = self._whoosh(query.tree)
        matched: dict = {}  # the phrases matched in all the index, for the soft AND to reread
        scores, best = self._best_matches(planned, max(depth, KEYWORD_POOL), matched, scope)
        paragraph = self._remembering_paragraphs()
        best = self._content_first(best, depth, paragraph)
        tiers = self._tiers(planned, [docnum for _, docnum in best])
        candidates = [Candidate(score, tiers[docnum], docnum) for score, docnum in best]
        some = _Some(query.soft_parts, (), {}, {})
        if len(candidates) < limit:
            some = self._holding_some_of(query, dict(scores.items()), matched, scope)
            candidates += self._partial(some, depth, paragraph)
        question = self._asked_keywords(query.text, some.parts or query.phrases)
        return KeywordCandidates(
            candidates,
            len(scores) or len(some.scores),
            not len(scores) and bool(candidates),
            some.relaxed_into,
            question,
            paragraph,
            _docnums(scores) if len(scores) else some.scores.keys(),
        )

    def _best_matches(self, query, wanted: int, phrases: dict, scope: Scope = EVERYWHERE):
        """The paragraphs `query` matches that `scope` allows (docnum -> score, or `_Held` when
        they were scored in bulk) and the `wanted` best distinct of them, best first."""
        with self._damage():
            summed = match_in_bulk(query, self._statistics)
        if summed is None:
            scores = scope.within(self._match(query, phrases))
            return scores, self._best_distinct(scores, wanted)
        held = _Held.of(summed).within(scope)
        return held, self._best_distinct_held(held, wanted)

    def _whoosh(self, tree, tiered: bool = True):
        """The Whoosh query of a keyword tree (a phrase without tier bonuses, if not `tiered`),
        kana phrases matching the readings the index holds."""

        def known(field_name: str, term: str) -> bool:
            with self._damage():
                return (field_name, term) in self._statistics.terms

        return to_whoosh(tree, known) if tiered else untiered(tree, known)

    def _match(self, query, phrases: dict | None = None) -> dict[int, float]:
        with self._damage():
            return match(self._searcher, query, self._statistics, phrases)

    def _tiers(self, query, docnums: list[int]) -> dict[int, float]:
        with self._damage():
            return tiers(self._searcher, query, docnums, self._statistics)

    def _holding_some_of(
        self,
        query: ParsedQuery,
        whole: dict[int, float],
        phrases: dict | None = None,
        scope: Scope = EVERYWHERE,
    ) -> _Some:
        """Soft AND: the paragraphs holding some of the parts of a keyword query typed without
        syntax but not all of it (those of `whole`); where none holds all or any, those holding
        some of the words of its parts (never single characters or numbers: relaxed_words)."""
        parts = query.soft_parts
        phrases = {} if phrases is None else phrases
        held, scores = (
            self._holding_some(parts, whole, phrases, scope) if len(parts) > 1 else ({}, {})
        )
        relaxed_into = query.relaxed_words if parts and not whole and not held else ()
        if relaxed_into:
            parts = relaxed_into
            held, scores = self._holding_some(parts, whole, phrases, scope)
        return _Some(parts, relaxed_into, held, scores)

    def _partial(
        self, some: _Some, depth: int, paragraph: Callable[[int], tuple[str, str]]
    ) -> list[Candidate]:
        """The best `depth` distinct paragraphs holding some of the query, by the share of its
        parts they hold, then by BM25F."""
        # By the share held, then by score (scores stay far below a millionth of a share's step).
        order = {docnum: share * 1e6 + some.scores[docnum] for docnum, share in some.held.items()}
        best = self._content_first(
            self._best_distinct(order, max(depth, KEYWORD_POOL)), depth, paragraph
        )
        return [
            Candidate(some.scores[docnum], 0.0, docnum, partial=True, covered=some.held[docnum])
            for _, docnum in best
        ]

    def _holding_some(
        self,
        parts: tuple[Phrase, ...],
        whole: dict[int, float],
        phrases: dict,
        scope: Scope = EVERYWHERE,
    ) -> tuple[dict[int, float], dict[int, float]]:
        """For the paragraphs holding some of `parts` but not all the query (those of `whole`):
        docnum -> the share of the parts each holds, rarer parts weighing more and a part in the
        document's title counting as held (a paragraph of the article 梅雨 need not say 梅雨);
        and docnum -> its BM25F score for the parts, without tier bonuses."""
        doc_count = self._reader.doc_count_all()
        held: dict[int, float] = {}
        summed: dict[int, float] = {}
        weights, titled = [], []
        for part in parts:
            scores = self._match(self._whoosh(part, tiered=False), phrases)
            weights.append(idf(len(scores), doc_count))
            scores = scope.within(scores)
            titled.append(self._in_titles(part, phrases) - scores.keys())
            for docnum, score in scores.items():
                if docnum not in whole:
                    held[docnum] = held.get(docnum, 0.0) + weights[-1]
                    summed[docnum] = summed.get(docnum, 0.0) + score
        for weight, docnums in zip(weights, titled):
            for docnum in docnums & held.keys():
                held[docnum] += weight
        total_weight = sum(weights) or 1.0
        return {docnum: weight / total_weight for docnum, weight in held.items()}, summed

    def _content_first(
        self, pool: list[tuple[float, int]], depth: int, paragraph: Callable[[int], tuple[str, str]]
    ) -> list[tuple[float, int]]:
        with self._damage():
            return content_first(pool, lambda docnum: paragraph(docnum)[0], depth)

    def _remembering_paragraphs(self) -> Callable[[int], tuple[str, str]]:
        """`_text_and_title`, reading each paragraph once (a query's ranking reads a few twice)."""
        read: dict[int, tuple[str, str]] = {}

        def paragraph(docnum: int) -> tuple[str, str]:
            found = read.get(docnum)
            if found is None:
                found = read[docnum] = self.text_and_title(docnum)
            return found

        return paragraph

    def _in_titles(self, part: Phrase, phrases: dict) -> set[int]:
        """The paragraphs whose document's title holds the phrase's words."""
        query = in_title(part)
        if query is None:
            return set()
        with self._damage():
            return set(match(self._searcher, query, self._statistics, phrases))

    def _asked_keywords(self, text: str, parts: tuple[Phrase, ...]) -> Asked:
        """What the reranker knows of a keyword query: its phrases, weighted by the rarest word
        in each (a phrase is at most as common as that)."""
        with self._damage():
            frequencies = {
                _normalized(part): min(
                    (
                        self._statistics.terms.doc_frequency(field, term)
                        for field, words in ((WORDS, part.words), (SUBWORDS, part.subwords))
                        for term in words
                    ),
                    default=1,
                )
                for part in parts
            }
            doc_count = self._reader.doc_count_all()
        return asked(
            text,
            [(part.text, _normalized(part)) for part in parts],
            frequencies.__getitem__,
            doc_count,
            keywords=True,
        )

    def _question_ranking(self, query: ParsedQuery, limit: int, scope: Scope) -> Ranked:
        """BM25F's best paragraphs, reordered by how well each could answer (see rerank); by
        date, those reordered, newest first."""
        found = self.question_candidates(query, max(limit, RERANK_DEPTH), scope)
        best, total, by_title = found[:3]
        question = self.asked(query)
        with self._damage():
            paragraphs = {docnum: self.text_and_title(docnum) for _, docnum in best}
        reranked = rerank(
            best,
            paragraphs.__getitem__,
            question,
            lambda docnum: docnum not in by_title,
            defined=query.defined,
        )
        if scope.days is not None:
            days = scope.days
            reranked = sorted(reranked, key=lambda pair: (-days[pair[1]], -pair[0], pair[1]))
        return Ranked(
            [RankedParagraph(score, docnum) for score, docnum in reranked],
            total,
            matched=found[3],
        )

    def question_candidates(
        self, query: ParsedQuery, depth: int, scope: Scope = EVERYWHERE
    ) -> tuple[list[tuple[float, int]], int, set[int], Collection[int]]:
        """BM25F's best `depth` distinct paragraphs (score, docnum) that `scope` allows, how
        many match, which paragraphs match by their document's title alone, holding none of the
        question's words (or sub-words) as the index found them (変わった holds 変わる), and the
        docnums of all that match."""
        if not isinstance(query.tree, Question):
            raise TypeError("question_candidates ranks a question, not keywords")
        terms = question_terms(query.tree)
        with self._damage():
            if in_bulk(self._statistics, terms):
                best, total, by_title, matched = self._question_candidates_in_bulk(
                    terms, depth, scope
                )
            else:
                best, total, by_title, matched = self._question_candidates_by_dict(
                    terms, depth, scope
                )
            return self._with_defining(best, terms, query.defined, scope), total, by_title, matched

    def _defining(self, term: str | None, scope: Scope) -> list[int]:
        """The best `DEFINING_DEPTH` distinct paragraphs `scope` allows holding `term` in a
        defining form (by BM25F of the form's substrings), best first; none without a term."""
        if term is None:
            return []
        scores = scope.within(self._match(self._whoosh(defining_query(term), tiered=False)))
        return [docnum for _, docnum in self._best_distinct(scores, DEFINING_DEPTH)]

    def _with_defining(
        self, best: list[tuple[float, int]], terms: list, term: str | None, scope: Scope
    ) -> list[tuple[float, int]]:
        """`best`, and after it the paragraphs holding `term` in a defining form that it misses
        (`_defining`), with their BM25F scores for the question's `terms`, repeating none of its
        texts."""
        defining = self._defining(term, scope)
        seen = {self._same_text[docnum] for _, docnum in best}
        missed = [docnum for docnum in defining if self._same_text[docnum] not in seen]
        if not missed:
            return best
        scores = score_any(self._searcher, terms, Wanted(set(missed)), statistics=self._statistics)
        added = []
        for docnum in missed:
            key = self._same_text[docnum]
            if key not in seen and docnum in scores:
                seen.add(key)
                added.append((scores[docnum], docnum))
        return best + added

    def _question_candidates_by_dict(
        self, terms: list, depth: int, scope: Scope = EVERYWHERE
    ) -> tuple[list[tuple[float, int]], int, set[int], Collection[int]]:
        """`question_candidates` from dicts of scores by docnum (bm25.score_any): a question of
        few postings, in a process that has not imported numpy."""
        scores = score_any(
            self._searcher, [t for t in terms if t[0] != CONTEXT], statistics=self._statistics
        )
        titles = score_any(
            self._searcher, [t for t in terms if t[0] == CONTEXT], statistics=self._statistics
        )
        by_title = set()
        for docnum, score in titles.items():
            if docnum in scores:
                scores[docnum] += score
            else:
                scores[docnum] = score
                by_title.add(docnum)
        scores = scope.within(scores)
        return self._best_distinct(scores, depth), len(scores), by_title, scores.keys()

    def _question_candidates_in_bulk(
        self, terms: list, depth: int, scope: Scope = EVERYWHERE
    ) -> tuple[list[tuple[float, int]], int, set[int], Collection[int]]:
        """`question_candidates` from arrays of scores by docnum (bm25.score_dense): the sums
        are the dict's, to the bit, and only the best become (score, docnum) pairs."""
        import numpy

        scores = score_dense(self._statistics, [t for t in terms if t[0] != CONTEXT])
        titles = score_dense(self._statistics, [t for t in terms if t[0] == CONTEXT])
        by_title = numpy.flatnonzero((titles > 0) & (scores == 0)).tolist()
        scores += titles
        held = _Held.of(scores).within(scope)
        return self._best_distinct_held(held, depth), len(held), set(by_title), held.docnums

    def _best_distinct_held(self, held: _Held, wanted: int) -> list[tuple[float, int]]:
        """`_best_distinct` of the paragraphs `held`: a pool of the best twice as many (and any
        tied with the last of them), four times larger until it gives `wanted` distinct texts or
        holds them all."""
        import numpy

        docnums, scores = held.docnums, held.scores
        pool_size = 2 * wanted
        while True:
            if pool_size < len(held):
                at = len(scores) - pool_size
                pool = scores >= numpy.partition(scores, at)[at]
                pooled = dict(zip(docnums[pool].tolist(), scores[pool].tolist()))
            else:
                pooled = dict(held.items())
            best = self._distinct(pooled, pooled, wanted)
            if len(best) == wanted or len(pooled) == len(held):
                return best
            pool_size *= 4

    def asked(self, query: ParsedQuery) -> Asked:
        """What the reranker knows of a question: its words, weighted by how rare each is."""
        words = query.question_words
        with self._damage():
            frequencies = {
                word.words[0]: self._statistics.terms.doc_frequency(WORDS, word.words[0])
                for word in words
            }
            doc_count = self._reader.doc_count_all()
        return asked(
            query.text,
            [(word.text, word.words[0]) for word in words],
            frequencies.__getitem__,
            doc_count,
        )

    def _best_distinct(self, scores: dict[int, float], wanted: int) -> list[tuple[float, int]]:
        """The `wanted` best (score, docnum), best first, one per text: repeats give way."""
        # Most paragraphs are unique, so twice as many candidates (and any tied with the last of
        # them) nearly always suffice.
        lowest = min(heapq.nlargest(2 * wanted, scores.values()), default=0.0)
        pool = list(compress(scores.keys(), map(lowest.__le__, scores.values())))
        best = self._distinct(pool, scores, wanted)
        if len(best) < wanted and len(pool) < len(scores):
            best = self._distinct(scores, scores, wanted)
        return best

    def _distinct(
        self, docnums: Iterable[int], scores: dict[int, float], wanted: int, ordered: bool = False
    ) -> list[tuple[float, int]]:
        """The first `wanted` (score, docnum) of `docnums`, best first (in their order, if
        `ordered`), one per text."""
        seen, distinct = set(), []
        if not ordered:
            docnums = sorted(docnums, key=lambda docnum: (-scores[docnum], docnum))
        for docnum in docnums:
            key = self._same_text[docnum]
            if key not in seen:
                seen.add(key)
                distinct.append((scores[docnum], docnum))
                if len(distinct) == wanted:
                    break
        return distinct

    def stored_fields(self, docnum: int) -> dict:
        """What the index stores of a paragraph (search.index.schema)."""
        with self._damage():
            return self._searcher.stored_fields(docnum)

    def text_and_title(self, docnum: int) -> tuple[str, str]:
        stored = self._searcher.stored_fields(docnum)
        return stored[PARAGRAPH_TEXT], stored[TITLE]


def _docnums(scores: dict[int, float] | _Held) -> Collection[int]:
    """The docnums of a table of scores."""
    return scores.keys() if isinstance(scores, dict) else scores.docnums


def _normalized(phrase: Phrase) -> str:
    """A phrase's words run together, as the reranker looks for them in a paragraph's text."""
    return "".join(phrase.words) or phrase.folded
