"""Gathering a query's figures: the document frequencies of the terms a query needs, summed over
the shards before any shard scores it (Elasticsearch's DFS phase).

A query needs the frequencies of the terms its plan scores (each Term and each word of a Phrase
of its Whoosh queries: the whole query with tiers, each part alone and in titles), of the words
the reranker weighs, and of the readings the planner asks about: a kana phrase matches by the
fewest readings the collection holds, so the planner asks whether pieces of it are held, and
which it asks depends on the answers. The plan is made again with what is known until it asks
nothing new (once or twice: a reading's pieces are few).

`SummedFigures` keeps what it gathered for one generation of the collection: the next query of
the same words asks the shards nothing. `OwnFigures` is one index's: it reads its own figures as
they are asked for, and gathers nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from whoosh import query as q

from search.engine.figures import CollectionFigures, Figures, TermKey
from search.index.schema import SUBWORDS, WORDS
from search.index.shards import ShardedManifest
from search.query.parser import ParsedQuery
from search.query.plan import in_title, question_terms, to_whoosh, untiered
from search.query.tree import Node, Phrase, Question
from search.ranking.definitions import defining_query
from search.ranking.shards import Shards

# Document frequencies a generation's cache keeps (a term and its count: ~200 bytes).
_CACHED_TERMS = 200_000
# Times a plan is made again with newly known readings before its terms are taken as they are.
_PLANNING_ROUNDS = 16


class OwnFigures:
    """The figures of one index, its own collection: read from it as asked for."""

    gathers = False

    def __init__(self, figures: CollectionFigures) -> None:
        self.figures = figures

    def of_terms(self, terms: Iterable[TermKey]) -> CollectionFigures:
        return self.figures

    def known(self, terms: Iterable[TermKey]) -> dict[TermKey, int]:
        return {}


class SummedFigures:
    """The figures of a collection of shards at one generation: counts and field lengths from
    its manifest (`base`), each term's document frequency summed over `shards` when first
    needed, and kept."""

    gathers = True

    def __init__(self, shards: Shards, base: Figures) -> None:
        self.shards = shards
        self.base = base
        self._frequencies: dict[TermKey, int] = {}

    @property
    def figures(self) -> Figures:
        return self.base

    def of_terms(self, terms: Iterable[TermKey]) -> Figures:
        """The collection's figures with the document frequencies of `terms`."""
        return self.base.with_frequencies(self.known(terms))

    def known(self, terms: Iterable[TermKey]) -> dict[TermKey, int]:
        """term -> its document frequency over the collection, gathered where not known yet."""
        found: dict[TermKey, int] = {}
        missing = []
        for term in dict.fromkeys(terms):  # queries on a cluster gather at once: get, not []
            count = self._frequencies.get(term)
            if count is None:
                missing.append(term)
            else:
                found[term] = count
        if missing:
            counts = [0] * len(missing)
            for shard_counts in self.shards.each("doc_frequencies", missing):
                counts = [total + count for total, count in zip(counts, shard_counts)]
            if len(self._frequencies) + len(missing) > _CACHED_TERMS:
                self._frequencies.clear()
            gathered = dict(zip(missing, counts))
            self._frequencies.update(gathered)
            found.update(gathered)
        return found


FigureSource = OwnFigures | SummedFigures


def collection_figures(manifest: ShardedManifest) -> Figures:
    """The counts and field lengths of a sharded index's collection, from its manifest."""
    totals = manifest.statistics()
    return Figures(totals["doc_count_all"], totals["doc_count"], totals["field_lengths"])


def keyword_figures(
    source: FigureSource, parsed: ParsedQuery, parts: tuple[Phrase, ...] = ()
) -> CollectionFigures:
    """The figures a keyword query needs: its plan's terms with tiers, and alone and in titles
    those of each of `parts` (its soft parts by default) and of its phrases, and the words the
    reranker weighs."""
    if not source.gathers:
        return source.figures
    parts = parts or parsed.soft_parts
    weighed = set(parts) | set(parsed.phrases)
    tiered = [parsed.tree] if parsed.tree is not None else []
    terms = _planned_terms(source, tiered, list(parts), parts)
    return source.of_terms(terms | set(weighed_terms(weighed)))


def question_figures(source: FigureSource, parsed: ParsedQuery) -> CollectionFigures:
    """The figures a question needs: its terms (each word as a word, a sub-word and in titles),
    and for a question asking what a term is, those of the term's defining forms."""
    if not source.gathers:
        return source.figures
    if not isinstance(parsed.tree, Question):
        raise TypeError("a question's figures were asked of keywords")
    terms = {(name, term) for name, term, _ in question_terms(parsed.tree)}
    if parsed.defined is not None:
        terms |= _planned_terms(source, [], [defining_query(parsed.defined)], ())
    return source.of_terms(terms)


def _planned_terms(
    source: FigureSource, tiered: list[Node], untiered_trees: list[Node], titled: tuple
) -> set[TermKey]:
    """The terms the plans of trees need (with tiers, without them, and of phrases in titles):
    those a plan scores, and the readings it asks whether the collection holds, planned again
    with what is gathered until nothing new is asked."""
    lexicon = _Lexicon()
    for _ in range(_PLANNING_ROUNDS):
        lexicon.asked, lexicon.unknown = set(), set()
        plans = [to_whoosh(tree, lexicon) for tree in tiered]
        plans += [untiered(tree, lexicon) for tree in untiered_trees]
        plans += [in_title(part) for part in titled]
        if not lexicon.unknown:
            break
        lexicon.known.update(source.known(lexicon.unknown))
    return lexicon.asked | set(plan_terms(plans))


class _Lexicon:
    """What a plan asks of the collection's lexicon, answered from the terms known so far (an
    unknown term is taken as not held, and noted, to be gathered for the next plan)."""

    def __init__(self) -> None:
        self.known: dict[TermKey, int] = {}
        self.asked: set[TermKey] = set()
        self.unknown: set[TermKey] = set()

    def __call__(self, field_name: str, term: str) -> bool:
        key = (field_name, term)
        self.asked.add(key)
        if key not in self.known:
            self.unknown.add(key)
            return False
        return self.known[key] > 0


def plan_terms(plans: Iterable) -> Iterator[TermKey]:
    """The (field, term) of every Term and every word of every Phrase of Whoosh queries."""
    for plan in plans:
        if plan is None:
            continue
        if isinstance(plan, q.Term):
            yield plan.fieldname, plan.text
        elif isinstance(plan, q.Phrase):
            for word in plan.words:
                yield plan.fieldname, word
        else:
            yield from plan_terms(plan.children())


def weighed_terms(phrases: Iterable[Phrase]) -> Iterator[TermKey]:
    """The terms whose rarity weighs a keyword query's phrases in the reranker."""
    for phrase in phrases:
        yield from ((WORDS, word) for word in phrase.words)
        yield from ((SUBWORDS, word) for word in phrase.subwords)
