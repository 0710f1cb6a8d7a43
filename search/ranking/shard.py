"""A shard's ranking stages: what one open index finds for a query, in the collection's terms.

The coordinator (search.ranking.ranking) asks every shard of a collection the same questions and
merges their answers; one index is a collection of one shard. A shard matches and scores its
paragraphs with the collection's figures (search.engine.figures), picks its best distinct ones
and answers in plain data: scores, the collection's docnums (its own plus its `offset`), text
keys, stored fields. What the later stages of a query reuse (its plan, the phrases matched, the
paragraphs matching it whole or in part, the paragraphs read) is kept in a session per query; a
session dropped meanwhile (a restarted shard, one evicted by other queries) is made again from the
query's context, so that every answer depends on the query and the index alone.

A query's context says what it keeps to and how it orders (a `Narrowing`: each shard makes it
its own `Scope`), and whether the shard counts facets of all it matches (with the counter it
names: the coordinator's caller's, search.results.facets), so that nothing matched leaves the
shard but its counts.
"""

from __future__ import annotations

import contextlib
import heapq
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import compress
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from search.engine.bm25 import Statistics, in_bulk, score_any, score_dense
from search.engine.documents import Documents
from search.engine.figures import Figures, TermKey
from search.engine.matching import match, match_in_bulk, tiers
from search.engine.postings import Wanted, live_docnums
from search.index.opening import translate_damage
from search.index.schema import (
    CONTEXT,
    LINE,
    PAGE,
    PARAGRAPH,
    PARAGRAPH_TEXT,
    SAME_TEXT,
    SOURCE,
)
from search.index.shards import translate_shard_damage
from search.query.parser import ParsedQuery
from search.query.plan import in_title, question_terms, to_whoosh, untiered
from search.query.tree import Phrase, Question
from search.ranking.definitions import defining_query
from search.ranking.rerank import is_heading
from search.ranking.scope import EVERYWHERE, Narrowing, Scope, scope_of

if TYPE_CHECKING:  # numpy is imported only when a query is scored in bulk
    import numpy

DEFINING_DEPTH = 20  # how many paragraphs holding its term in a defining form a question adds

# Sessions a shard keeps: one a query under way (more where several coordinators share it).
_SESSIONS = 8

# (source, line, paragraph, page) of a paragraph: where a text stands.
PlaceTuple = tuple[str, int, int, Any]


# (documents of an open index, the docnums matched, a folder) -> their facets: how a shard
# counts the facets of what it matches (results.facets.count_facets), and the folder counted in.
FacetCounter = Callable[[Documents, Any, str], Any]


@dataclass(frozen=True)
class FacetRequest:
    """Facets to count of all a query matches: with `counter`, within the folder `folder`."""

    counter: FacetCounter
    folder: str = ""


@dataclass(frozen=True)
class QueryContext:
    """A query as every shard is asked about it: the id of its session, the parsed query, the
    collection's figures for it (None: the shard's own index is the whole collection), what it
    keeps to and how it orders, and the facets to count of what it matches (None: none)."""

    id: str
    parsed: ParsedQuery
    figures: Figures | None = None
    narrowing: Narrowing = field(default_factory=Narrowing)
    facets: FacetRequest | None = None


class Best(NamedTuple):
    """One of the best distinct paragraphs: its score, its docnum in the collection, the key of
    its text (paragraphs of the same text share it)."""

    score: float
    docnum: int
    key: str


@dataclass(frozen=True)
class ShardBest:
    """A shard's best distinct paragraphs for a query, best first, and how many match in all.
    `marked`: those of them that are headings (a keyword query's), or that match by their
    document's title alone (a question's). `partial`, for paragraphs holding some of a keyword
    query: docnum -> (BM25F score, weighted share of the parts held)."""

    best: list[Best]
    total: int
    marked: frozenset[int] = frozenset()
    partial: dict[int, tuple[float, float]] = field(default_factory=dict)
    # By date: the day of each paragraph of `best` (and `defining`), docnum -> YYYYMMDD.
    days: dict[int, int] = field(default_factory=dict)
    # A question asking what a term is: the best paragraphs holding it in a defining form.
    defining: list[Defining] = field(default_factory=list)
    # The facets of all the paragraphs `total` counts, when the query asked for them.
    facets: Any = None


class Defining(NamedTuple):
    """A paragraph holding a question's term in a defining form: its score for the form, its
    docnum in the collection, its text's key, and its score for the question (None where it
    holds none of the question's words)."""

    score: float
    docnum: int
    key: str
    question_score: float | None


@dataclass(frozen=True)
class PartCounts:
    """How many paragraphs of a shard match each part of a keyword query, and whether one holds
    some part without the whole query (then the soft AND has something to show)."""

    counts: list[int]
    held: bool


@dataclass(frozen=True)
class SourceCounts:
    """The documents of a shard matching a query: source -> (paragraphs matching, and of the
    first of them in the query's order its day (by date; else 0), score and docnum in the
    collection), and the paragraphs matching in all."""

    counts: dict[str, tuple[int, int, float, int]]
    total: int


@dataclass(frozen=True)
class Fetched:
    """The stored fields of paragraphs (docnum -> fields) and the tier bonus of those matching
    a keyword query whole (docnum -> bonus)."""

    stored: dict[int, dict]
    tiers: dict[int, float] = field(default_factory=dict)


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

    def keys(self) -> set[int]:
        return set(self.docnums.tolist())

    def within(self, scope: Scope) -> _Held:
        """Those of the paragraphs `scope` allows."""
        if scope.allowed is None:
            return self
        kept = scope.allowed[self.docnums]
        return _Held(self.docnums[kept], self.scores[kept])


class _Session:
    """What one query's stages on a shard share (docnums are the shard's own)."""

    def __init__(self, statistics: Statistics, context: QueryContext, scope: Scope) -> None:
        self.statistics = statistics
        self.parsed = context.parsed
        self.figures = context.figures
        self.facets = context.facets
        self.scope = scope
        self.phrases: dict = {}  # the phrases matched in all the shard, for later parts to reread
        self.planned = None  # the keyword query's plan, with tiers
        # The whole query's matches, in scope.
        self.matched: dict[int, float] | _Held | None = None
        self.whole: set[int] | None = None  # their docnums
        # part -> (docnum -> BM25F score, paragraphs whose title holds it but not their text)
        self.parts: dict[Phrase, tuple[dict[int, float], set[int]]] = {}
        self.stored: dict[int, dict] = {}


class Shard:
    """The ranking stages of one open index: Whoosh's searcher over it, what BM25F needs of it
    (`statistics`, with the collection's counts and lengths), where it is (the index's folder,
    and the shard's name in it for a shard of a sharded index: a damaged file's errors are
    reported as its damage), its `same_text` column (a paragraph's text key: read once, ~90 ms
    on aozora; None for an index of no paragraph), and `offset`, its first docnum in the
    collection."""

    # What a coordinator may call, by name (a remote shard is called by name).
    CALLS = frozenset(
        {
            "doc_frequencies",
            "keyword_best",
            "part_counts",
            "partial_best",
            "question_best",
            "question_candidates",
            "keyword_newest",
            "partial_newest",
            "listing",
            "fetch",
            "places",
            "source_counts",
            "document",
            "samples",
            "forget",
        }
    )

    def __init__(
        self,
        searcher,
        statistics: Statistics,
        place: tuple[Path, str | None],
        same_text,
        offset: int = 0,
    ) -> None:
        self.searcher = searcher
        self.statistics = statistics
        self._place = place
        self.offset = offset
        self._same_text = same_text
        self._sessions: OrderedDict[str, _Session] = OrderedDict()
        self._documents: Documents | None = None

    @classmethod
    def of(
        cls,
        searcher,
        index_dir: Path,
        name: str | None = None,
        figures: Figures | None = None,
        offset: int = 0,
    ) -> Shard:
        """The shard of an open Whoosh searcher (weighing by BM25F) of the index in `index_dir`
        (of its shard `name`, for a sharded index), scoring with the collection's counts and
        field lengths in `figures` (None: its own index's)."""
        place = (Path(index_dir), name)
        with _damage(place):
            reader = searcher.reader()
            # An index of a folder with nothing to index has no segment and no columns.
            empty = reader.doc_count_all() == 0
            same_text = None if empty else reader.column_reader(SAME_TEXT)
            # The searcher reads one fixed state of the index, so what BM25F needs of it (terms
            # looked up in each segment, idf, average lengths) holds for every query.
            statistics = Statistics(searcher, figures=figures)
        return cls(searcher, statistics, place, same_text, offset)

    def damage(self) -> contextlib.AbstractContextManager[None]:
        """Reading the shard with a damaged file's errors made one line (IndexDamaged) that
        names it and says how to rebuild the index."""
        return _damage(self._place)

    @property
    def empty(self) -> bool:
        return self._same_text is None

    def call(self, name: str, *args):
        """The stage `name` with `args` (see CALLS)."""
        if name not in self.CALLS:
            raise ValueError(f"a shard has no stage {name!r}")
        return getattr(self, name)(*args)

    # Statistics -------------------------------------------------------------------------------

    def doc_frequencies(self, terms: Sequence[TermKey]) -> list[int]:
        """How many of the shard's documents hold each term (deleted ones included)."""
        if self.empty:
            return [0] * len(terms)
        with self.damage():
            return [self.statistics.terms.doc_frequency(name, term) for name, term in terms]

    # Keywords ---------------------------------------------------------------------------------

    def keyword_best(self, context: QueryContext, wanted: int) -> ShardBest:
        """The best `wanted` distinct paragraphs matching the whole keyword query in its scope,
        headings marked, how many match, and their facets when asked for."""
        if self.empty:
            return ShardBest([], 0)
        session = self._session(context)
        with self.damage():
            summed = match_in_bulk(self._planned(session), session.statistics)
        if summed is None:
            scores = self._matched(session)
            best = self._best_distinct(scores, wanted)
        else:
            held = session.matched = _Held.of(summed).within(session.scope)
            best = self._best_distinct_held(held, wanted)
        matched = session.matched
        assert matched is not None
        return ShardBest(
            self._as_best(best),
            len(matched),
            self._headings(session, best),
            facets=self._facets(session, _docnums(matched)),
        )

    def part_counts(self, context: QueryContext, parts: tuple[Phrase, ...]) -> PartCounts:
        """Soft AND: how many paragraphs match each part alone, and whether any holds a part
        but not the whole query."""
        if self.empty:
            return PartCounts([0] * len(parts), False)
        session = self._session(context)
        found = [self._part(session, part) for part in parts]
        whole = self._whole(session)
        within = session.scope.within
        held = any(docnum not in whole for scores, _ in found for docnum in within(scores))
        # The weights count every paragraph holding a part, in the scope or not.
        return PartCounts([len(scores) for scores, _ in found], held)

    def partial_best(
        self,
        context: QueryContext,
        parts: tuple[Phrase, ...],
        weights: list[float],
        wanted: int,
    ) -> ShardBest:
        """Soft AND: the best `wanted` distinct paragraphs holding some of `parts` but not the
        whole query, by the weighted share of the parts they hold (rarer parts weigh more:
        `weights`, from the whole collection's counts; a part in the document's title counts
        as held), then by BM25F."""
        if self.empty:
            return ShardBest([], 0)
        session = self._session(context)
        held, summed = self._holding_some(session, parts, weights)
        # By the share held, then by score (scores stay far below a millionth of a share's step).
        order = {docnum: share * 1e6 + summed[docnum] for docnum, share in held.items()}
        best = self._best_distinct(order, wanted)
        partial = {docnum + self.offset: (summed[docnum], held[docnum]) for _, docnum in best}
        return ShardBest(
            self._as_best(best),
            len(summed),
            self._headings(session, best),
            partial,
            facets=self._facets(session, summed.keys()),
        )

    def keyword_newest(self, context: QueryContext, wanted: int) -> ShardBest:
        """By date: the newest `wanted` distinct paragraphs matching the whole keyword query in
        its scope (by relevance within a day), how many match, and their facets."""
        if self.empty:
            return ShardBest([], 0)
        session = self._session(context)
        with self.damage():
            summed = match_in_bulk(self._planned(session), session.statistics)
        if summed is None:
            matched: dict[int, float] | _Held = self._matched(session)
        else:
            matched = session.matched = _Held.of(summed).within(session.scope)
        return self._newest(session, matched, wanted)

    def partial_newest(
        self,
        context: QueryContext,
        parts: tuple[Phrase, ...],
        weights: list[float],
        wanted: int,
    ) -> ShardBest:
        """By date: the newest `wanted` distinct paragraphs holding some of `parts` but not the
        whole query (by their BM25F for the parts within a day), how many, and their facets."""
        if self.empty:
            return ShardBest([], 0)
        session = self._session(context)
        return self._newest(session, self._holding_some(session, parts, weights)[1], wanted)

    def listing(self, context: QueryContext, wanted: int) -> ShardBest:
        """A query of filters alone: the first `wanted` distinct paragraphs they allow, in the
        documents' order (or newest first), how many they allow, and their facets."""
        import numpy

        if self.empty:
            return ShardBest([], 0)
        session = self._session(context)
        docnums = self._allowed(session.scope)
        if session.scope.days is not None:
            return self._newest(session, _Held(docnums, numpy.zeros(len(docnums))), wanted)
        listed = docnums.tolist()
        best = self._distinct(listed, dict.fromkeys(listed, 0.0), wanted, ordered=True)
        return ShardBest(self._as_best(best), len(docnums), facets=self._facets(session, docnums))

    def fetch(self, context: QueryContext | None, docnums: list[int], tiered: list[int]) -> Fetched:
        """The stored fields of `docnums` (the collection's), and the tier bonuses of those of
        `tiered`, which match the whole keyword query of `context`."""
        local = [docnum - self.offset for docnum in docnums]
        session = self._session(context) if context is not None else None
        with self.damage():
            stored = {docnum + self.offset: self._stored(session, docnum) for docnum in local}
            bonuses = {}
            if tiered and session is not None:
                wanted = [docnum - self.offset for docnum in tiered]
                found = tiers(self.searcher, self._planned(session), wanted, session.statistics)
                bonuses = {docnum + self.offset: bonus for docnum, bonus in found.items()}
        return Fetched(stored, bonuses)

    # Questions --------------------------------------------------------------------------------

    def question_best(self, context: QueryContext, depth: int) -> ShardBest:
        """BM25F's best `depth` distinct paragraphs for a question in its scope, those matching
        by their document's title alone marked, how many match, their facets; and for a
        question asking what a term is, the best paragraphs holding it in a defining form."""
        if self.empty:
            return ShardBest([], 0)
        session = self._session(context)
        best, total, by_title, matched = self.question_candidates(context, depth)
        defining = self._defining(session, context.parsed.defined)
        marked = frozenset(docnum + self.offset for _, docnum in best if docnum in by_title)
        dated = [docnum for _, docnum in best] + [one.docnum - self.offset for one in defining]
        return ShardBest(
            self._as_best(best),
            total,
            marked,
            days=self._days(session, dated),
            defining=defining,
            facets=self._facets(session, matched),
        )

    def question_candidates(
        self, context: QueryContext, depth: int
    ) -> tuple[list[tuple[float, int]], int, set[int], Collection[int]]:
        """BM25F's best `depth` distinct paragraphs (score, the shard's docnum) in the query's
        scope, how many match, which paragraphs match by their document's title alone, holding
        none of the question's words (or sub-words) as the index found them (変わった holds
        変わる), and the docnums of all that match."""
        session = self._session(context)
        terms = _question_terms(context.parsed)
        with self.damage():
            if in_bulk(session.statistics, terms):
                return self._question_candidates_in_bulk(
                    session.statistics, terms, depth, session.scope
                )
            return self._question_candidates_by_dict(
                session.statistics, terms, depth, session.scope
            )

    def _question_candidates_by_dict(
        self, statistics: Statistics, terms: list, depth: int, scope: Scope = EVERYWHERE
    ) -> tuple[list[tuple[float, int]], int, set[int], Collection[int]]:
        """`question_candidates` from dicts of scores by docnum (bm25.score_any): a question of
        few postings, in a process that has not imported numpy."""
        searcher = self.searcher
        scores = score_any(searcher, [t for t in terms if t[0] != CONTEXT], statistics=statistics)
        titles = score_any(searcher, [t for t in terms if t[0] == CONTEXT], statistics=statistics)
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
        self, statistics: Statistics, terms: list, depth: int, scope: Scope = EVERYWHERE
    ) -> tuple[list[tuple[float, int]], int, set[int], Collection[int]]:
        """`question_candidates` from arrays of scores by docnum (bm25.score_dense): the sums
        are the dict's, to the bit, and only the best become (score, docnum) pairs."""
        import numpy

        scores = score_dense(statistics, [t for t in terms if t[0] != CONTEXT])
        titles = score_dense(statistics, [t for t in terms if t[0] == CONTEXT])
        by_title = numpy.flatnonzero((titles > 0) & (scores == 0)).tolist()
        scores += titles
        held = _Held.of(scores).within(scope)
        return self._best_distinct_held(held, depth), len(held), set(by_title), held.docnums

    # Documents --------------------------------------------------------------------------------

    def source_counts(
        self,
        context: QueryContext,
        parts: tuple[Phrase, ...] = (),
        weights: Sequence[float] = (),
    ) -> SourceCounts:
        """The documents holding paragraphs that match the query in its scope (a question's
        words; a keyword query whole, or with `parts`, those holding some of them but not the
        whole query; every paragraph a query of filters alone allows)."""
        if self.empty:
            return SourceCounts({}, 0)
        session = self._session(context)
        parsed = context.parsed
        scores: dict[int, float]
        if parsed.tree is None:
            scores = dict.fromkeys(self._allowed(session.scope).tolist(), 0.0)
        elif isinstance(parsed.tree, Question):
            with self.damage():
                scores = session.scope.within(
                    score_any(self.searcher, _question_terms(parsed), statistics=session.statistics)
                )
        elif parts:
            scores = self._holding_some(session, parts, list(weights))[1]
        else:
            scores = self._matched(session)
        days = session.scope.days
        if days is not None:
            order = sorted(scores, key=lambda docnum: (-days[docnum], -scores[docnum], docnum))
        else:
            order = sorted(scores, key=lambda docnum: (-scores[docnum], docnum))
        counts: dict[str, tuple[int, int, float, int]] = {}
        with self.damage():
            for docnum in order:
                source = self.searcher.stored_fields(docnum)[SOURCE]
                found = counts.get(source)
                if found is None:  # its first paragraph in the order
                    day = int(days[docnum]) if days is not None else 0
                    counts[source] = (1, day, scores[docnum], docnum + self.offset)
                else:
                    counts[source] = (found[0] + 1, *found[1:])
        return SourceCounts(counts, len(scores))

    def places(
        self, keys: list[str], narrowing: Narrowing | None = None
    ) -> dict[str, list[tuple[int, PlaceTuple]]]:
        """Where the paragraphs of each text key stand in the documents `narrowing` keeps:
        (docnum, (source, line, paragraph, page)) of each."""
        if self.empty:
            return {}
        scope = scope_of(self.documents(), narrowing) if narrowing else EVERYWHERE
        found = {}
        with self.damage():
            for key in keys:
                found[key] = [
                    (docnum + self.offset, _place(self.searcher.stored_fields(docnum)))
                    for docnum in live_docnums(self.statistics.terms, SAME_TEXT, key)
                    if scope.admits(docnum)
                ]
        return found

    def document(self, source: str) -> list[dict]:
        """The stored fields of the paragraphs of `source` the shard holds, in index order."""
        if self.empty:
            return []
        with self.damage():
            return [
                self.searcher.stored_fields(docnum)
                for docnum in live_docnums(self.statistics.terms, SOURCE, source)
            ]

    def samples(self, count: int) -> list[str]:
        """The texts of up to `count` live paragraphs spread evenly over the shard, in order."""
        if self.empty or count < 1:
            return []
        with self.damage():
            reader = self.searcher.reader()
            every = reader.doc_count_all()
            step = max(1, every // count)
            return [
                self.searcher.stored_fields(docnum)[PARAGRAPH_TEXT]
                for docnum in range(0, every, step)
                if not reader.is_deleted(docnum)
            ][:count]

    def forget(self, query_id: str) -> None:
        """Drop the session of a query that is done."""
        self._sessions.pop(query_id, None)

    def documents(self) -> Documents:
        """The shard's documents by paragraph (read the first time they are asked for)."""
        if self._documents is None:
            with self.damage():
                self._documents = Documents(self.searcher.reader(), self.statistics.terms)
        return self._documents

    def matches(self, context: QueryContext) -> Collection[int]:
        """The shard's docnums of every paragraph a keyword query matches whole in its scope,
        as its facets count them."""
        return _docnums(self._matched(self._session(context)))

    def key_of(self, docnum: int) -> str:
        """The text key of a paragraph of the shard (the collection's docnum)."""
        return self._same_text[docnum - self.offset]

    # The stages' parts ------------------------------------------------------------------------

    def _session(self, context: QueryContext) -> _Session:
        session = self._sessions.get(context.id)
        if session is None:
            scope = (
                scope_of(self.documents(), context.narrowing) if context.narrowing else EVERYWHERE
            )
            session = self._sessions[context.id] = _Session(
                self._statistics_for(context), context, scope
            )
            while len(self._sessions) > _SESSIONS:
                self._sessions.popitem(last=False)
        else:
            self._sessions.move_to_end(context.id)
            if context.figures != session.figures:  # more terms gathered (soft AND's words)
                session.statistics = self._statistics_for(context)
                session.figures = context.figures
        return session

    def _statistics_for(self, context: QueryContext) -> Statistics:
        if context.figures is None:
            return self.statistics
        return self.statistics.for_query(context.figures)

    def _planned(self, session: _Session):
        if session.planned is None:
            session.planned = self._whoosh(session, session.parsed.tree)
        return session.planned

    def _whoosh(self, session: _Session, tree, tiered: bool = True):
        """The Whoosh query of a keyword tree (a phrase without tier bonuses, if not `tiered`),
        kana phrases matching the readings the collection holds."""
        figures = session.statistics.figures

        def known(field_name: str, term: str) -> bool:
            with self.damage():
                return figures.doc_frequency(field_name, term) > 0

        return to_whoosh(tree, known) if tiered else untiered(tree, known)

    def _matched(self, session: _Session) -> dict[int, float]:
        """Every paragraph matching the whole keyword query, and its score."""
        if session.matched is None or isinstance(session.matched, _Held):
            with self.damage():
                session.matched = session.scope.within(
                    match(
                        self.searcher, self._planned(session), session.statistics, session.phrases
                    )
                )
        return session.matched

    def _whole(self, session: _Session) -> set[int]:
        """The paragraphs matching the whole keyword query."""
        if session.whole is None:
            matched = session.matched if session.matched is not None else self._matched(session)
            session.whole = set(matched.keys())
        return session.whole

    def _part(self, session: _Session, part: Phrase) -> tuple[dict[int, float], set[int]]:
        """The paragraphs matching one part of a keyword query alone (docnum -> BM25F, without
        tier bonuses), in the scope or not, and those whose document's title holds it."""
        found = session.parts.get(part)
        if found is None:
            with self.damage():
                scores = match(
                    self.searcher,
                    self._whoosh(session, part, tiered=False),
                    session.statistics,
                    session.phrases,
                )
                titled = self._in_titles(session, part)
            found = session.parts[part] = (scores, titled)
        return found

    def _in_titles(self, session: _Session, part: Phrase) -> set[int]:
        """The paragraphs whose document's title holds the phrase's words."""
        query = in_title(part)
        if query is None:
            return set()
        return set(match(self.searcher, query, session.statistics, session.phrases))

    def _holding_some(
        self, session: _Session, parts: tuple[Phrase, ...], weights: list[float]
    ) -> tuple[dict[int, float], dict[int, float]]:
        """For the paragraphs holding some of `parts` but not the whole query: docnum -> the
        share of the parts each holds (each part weighing its `weights`, a part in the
        document's title counting as held: a paragraph of the article 梅雨 need not say 梅雨);
        and docnum -> its BM25F score for the parts, without tier bonuses."""
        whole = self._whole(session)
        held: dict[int, float] = {}
        summed: dict[int, float] = {}
        titled = []
        for part, weight in zip(parts, weights):
            scores, in_titles = self._part(session, part)
            scores = session.scope.within(scores)
            titled.append(in_titles - scores.keys())
            for docnum, score in scores.items():
                if docnum not in whole:
                    held[docnum] = held.get(docnum, 0.0) + weight
                    summed[docnum] = summed.get(docnum, 0.0) + score
        for weight, docnums in zip(weights, titled):
            for docnum in docnums & held.keys():
                held[docnum] += weight
        total_weight = sum(weights) or 1.0
        return {docnum: weight / total_weight for docnum, weight in held.items()}, summed

    def _newest(
        self, session: _Session, scores: dict[int, float] | _Held, wanted: int
    ) -> ShardBest:
        """The newest `wanted` distinct (score, docnum) of `scores`, by relevance within a day,
        then by docnum, with their days, how many `scores` holds, and their facets."""
        import numpy

        days = session.scope.days
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
                        break
            if len(best) == wanted:
                break
        return ShardBest(
            self._as_best(best),
            len(docnums),
            days=self._days(session, [docnum for _, docnum in best]),
            facets=self._facets(session, docnums),
        )

    def _allowed(self, scope: Scope):
        """The docnums of the live paragraphs `scope` allows, ascending (a numpy array)."""
        import numpy

        if scope.allowed is not None:
            return numpy.flatnonzero(scope.allowed)
        with self.damage():
            return numpy.fromiter(self.searcher.reader().all_doc_ids(), dtype=numpy.int64)

    def _days(self, session: _Session, docnums: Iterable[int]) -> dict[int, int]:
        """By date: the day of each of the shard's `docnums`, by the collection's docnum."""
        days = session.scope.days
        if days is None:
            return {}
        return {docnum + self.offset: int(days[docnum]) for docnum in docnums}

    def _facets(self, session: _Session, matched) -> Any:
        """The facets of the shard's paragraphs `matched`, when the query asked for them."""
        request = session.facets
        if request is None:
            return None
        with self.damage():
            return request.counter(self.documents(), matched, request.folder)

    def _defining(self, session: _Session, term: str | None) -> list[Defining]:
        """The best `DEFINING_DEPTH` distinct paragraphs in the scope holding `term` in a
        defining form (by BM25F of the form's substrings), best first, with their scores for
        the question; none without a term."""
        if term is None:
            return []
        with self.damage():
            scores = session.scope.within(
                match(
                    self.searcher,
                    self._whoosh(session, defining_query(term), tiered=False),
                    session.statistics,
                )
            )
            best = self._best_distinct(scores, DEFINING_DEPTH)
            asked = score_any(
                self.searcher,
                _question_terms(session.parsed),
                Wanted({docnum for _, docnum in best}),
                statistics=session.statistics,
            )
        return [
            Defining(score, docnum + self.offset, self._same_text[docnum], asked.get(docnum))
            for score, docnum in best
        ]

    def _headings(self, session: _Session, best: list[tuple[float, int]]) -> frozenset[int]:
        """The collection's docnums of those of `best` that are headings, navigation lines or
        citations (content goes first)."""
        with self.damage():
            return frozenset(
                docnum + self.offset
                for _, docnum in best
                if is_heading(self._stored(session, docnum)[PARAGRAPH_TEXT])
            )

    def _stored(self, session: _Session | None, docnum: int) -> dict:
        """A paragraph's stored fields (the shard's docnum), read once a query."""
        if session is None:
            return self.searcher.stored_fields(docnum)
        found = session.stored.get(docnum)
        if found is None:
            found = session.stored[docnum] = self.searcher.stored_fields(docnum)
        return found

    def _as_best(self, best: list[tuple[float, int]]) -> list[Best]:
        same_text, offset = self._same_text, self.offset
        return [Best(score, docnum + offset, same_text[docnum]) for score, docnum in best]

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


def _damage(place: tuple[Path, str | None]) -> contextlib.AbstractContextManager[None]:
    index_dir, name = place
    if name is None:
        return translate_damage(index_dir)
    return translate_shard_damage(index_dir, name)


def _docnums(scores: dict[int, float] | _Held) -> Collection[int]:
    """The docnums of a table of scores."""
    return scores.keys() if isinstance(scores, dict) else scores.docnums


def _question_terms(parsed: ParsedQuery) -> list[tuple[str, str, float]]:
    if not isinstance(parsed.tree, Question):
        raise TypeError("a question's stage was asked of keywords")
    return question_terms(parsed.tree)


def _place(stored: dict) -> PlaceTuple:
    return (stored[SOURCE], stored[LINE], stored[PARAGRAPH], stored.get(PAGE))
