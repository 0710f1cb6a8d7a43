"""Results: run a query on the index and return ranked, cited, highlighted hits.

`search()` is the one-call API; `Searcher` keeps the index open for many queries. A hit carries its
citation (source, line, paragraph number, title), the whole paragraph text, the character spans of
every match in it, and a snippet around the best match. Paragraphs with the same text (a document
that repeats itself, or two copies of one article) are one hit citing every place they stand.
"""

from __future__ import annotations

import heapq
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Iterable

from .highlight import Span, match_spans, snippet
from .index import DEFAULT_INDEX_DIR, open_index, translate_damage
from .bm25 import Statistics, score_any
from .matching import match, tiers
from .postings import TermIndex, live_docnums
from .query import (Phrase, Question, Synonyms, in_title, parse, phrases, question_terms,
                    relaxed_words, soft_parts, to_whoosh, untiered)
from .rerank import Asked, Candidate, asked, content_first, idf, rank_keywords, rerank
from .synonyms import SudachiSynonyms, SynonymTable, expander

DEFAULT_LIMIT = 10
RERANK_DEPTH = 100  # how many of BM25's best paragraphs a question reorders
KEYWORD_DEPTH = 20  # how many of the best paragraphs holding all (or some) keywords are reordered
KEYWORD_POOL = 50  # of how many of them those are chosen, content before headings and citations


@dataclass(frozen=True, order=True)
class Place:
    """Where else a hit's text stands."""

    source: str
    line: int
    paragraph: int
    page: int | None = None


@dataclass
class Hit:
    """One ranked paragraph. Its highlights and snippet are worked out when first read: a program
    that wants only the ranking and the citations does not pay for them."""

    rank: int
    score: float
    source: str
    title: str
    paragraph: int
    line: int
    text: str
    also: list[Place] = field(default_factory=list)
    # The page of a paged document (PDF), from 1; None for the others.
    page: int | None = None
    # True when the paragraph holds only some of the query's words (soft AND).
    partial: bool = False
    # The query's phrases, which the highlights mark.
    phrases: tuple[Phrase, ...] = field(default=(), repr=False, compare=False)

    @cached_property
    def highlights(self) -> list[Span]:
        """Character spans of `text` where the query matched, merged where they overlap."""
        return match_spans(self.text, self.phrases)

    @property
    def snippet(self) -> str:
        """The sentences around the best matches, at most about SNIPPET_CHARS characters."""
        return self._snippet[0]

    @property
    def snippet_highlights(self) -> list[Span]:
        """The highlights within `snippet`."""
        return self._snippet[1]

    @cached_property
    def _snippet(self) -> tuple[str, list[Span]]:
        return snippet(self.text, self.highlights)

    def to_dict(self) -> dict:
        """The JSON form: exactly the fields of the `--json` contract."""
        return {"rank": self.rank, "score": round(self.score, 4), "source": self.source,
                "title": self.title, "paragraph": self.paragraph, "line": self.line,
                "page": self.page, "partial": self.partial, "text": self.text, "snippet": self.snippet,
                "highlights": [list(span) for span in self.highlights],
                "also": [vars(place) for place in self.also]}


@dataclass
class SearchResults:
    query: str
    total: int
    hits: list[Hit]
    # True when no paragraph had all the words, so those holding some of them were searched for.
    relaxed: bool = False

    def to_dict(self) -> dict:
        return {"query": self.query, "total": self.total,
                "hits": [hit.to_dict() for hit in self.hits]}


@dataclass(frozen=True)
class KeywordCandidates:
    """What a keyword query's ranking reorders, and what the results say of it."""

    candidates: list[Candidate]
    total: int  # paragraphs holding all the query, or when none does, some of it
    relaxed: bool  # no paragraph holds all the query
    relaxed_into: tuple[Phrase, ...]  # the words looked for instead of phrases found nowhere
    question: Asked  # what the reranker knows of the query


class Searcher:
    """An open index answering queries; use as a context manager or call `close()`."""

    def __init__(self, index_dir: Path, synonyms_file: Path | None = None,
                 sudachi_synonyms: bool = False) -> None:
        from whoosh.scoring import BM25F

        self._damage = lambda: translate_damage(index_dir)
        self._lock = threading.Lock()
        with self._damage():
            self._index = open_index(index_dir)
            self._searcher = self._index.searcher(weighting=BM25F())
            self._reader = self._searcher.reader()
            self._same_text = self._reader.column_reader("same_text")
            # The searcher reads one fixed state of the index, so what BM25F needs of it (terms
            # looked up in each segment, idf, average lengths) holds for every query.
            self._statistics = Statistics(self._searcher)
            self._synonyms = self._expander(synonyms_file, sudachi_synonyms)

    def _expander(self, synonyms_file: Path | None, sudachi_synonyms: bool) -> Synonyms | None:
        sources = []
        if synonyms_file is not None:
            sources.append(SynonymTable.read(synonyms_file))
        if sudachi_synonyms:
            sources.append(SudachiSynonyms.of_index(Path(self._index.storage.folder)))
        return expander(*sources) if sources else None

    def search(self, query: str, limit: int = DEFAULT_LIMIT, mode: str = "auto") -> SearchResults:
        """The best `limit` paragraphs for `query`, and how many match in all.

        `mode` is "keyword" (the query syntax), "question" (any content word, BM25) or "auto".
        Threads may share a Searcher: their queries run one at a time (Whoosh's readers share
        file positions).
        """
        with self._lock:
            return self._search(query, limit, mode)

    def _search(self, query: str, limit: int, mode: str) -> SearchResults:
        tree = parse(query, mode, self._synonyms)
        statistics = self._statistics
        if isinstance(tree, Question):
            ranked, total = self._run_question(tree, limit, query, statistics)
            found, relaxed, wanted = [(score, docnum, False) for score, docnum in ranked], False, ()
        else:
            found, total, relaxed, wanted = self._run_keywords(tree, limit, query, statistics)
        wanted = tuple(phrases(tree)) + wanted
        hits = [self._hit(rank, score, docnum, wanted, statistics.terms, partial)
                for rank, (score, docnum, partial) in enumerate(found[:limit], start=1)]
        return SearchResults(query, total, hits, relaxed=relaxed)

    def _run_keywords(self, tree, limit: int, text: str, statistics: Statistics
                      ) -> tuple[list[tuple[float, int, bool]], int, bool, tuple[Phrase, ...]]:
        """(score, docnum, partial) of the hits, best first; how many paragraphs match (all the
        words, or when none does, some); whether none does; and the words a failed phrase was
        relaxed into."""
        found = self._keyword_candidates(tree, limit, text, statistics)
        with self._damage():
            ranked = rank_keywords(found.candidates, self._text_and_title, found.question)
        return ([(score, c.docnum, c.partial) for score, c in ranked], found.total,
                found.relaxed, found.relaxed_into)

    def _keyword_candidates(self, tree, limit: int, text: str,
                            statistics: Statistics) -> KeywordCandidates:
        """The paragraphs a keyword query's ranking reorders. Soft AND: where fewer than `limit`
        paragraphs hold all the parts of a query typed without syntax, the best of those holding
        some of them follow; where none holds any part, the parts' words are looked for."""
        depth = max(limit, KEYWORD_DEPTH)
        query = self._whoosh(tree, statistics)
        scores = self._match(query, statistics)
        best = self._content_first(self._best_distinct(scores, max(depth, KEYWORD_POOL)), depth)
        tiers = self._tiers(query, [docnum for _, docnum in best], statistics)
        candidates = [Candidate(score, tiers[docnum], docnum) for score, docnum in best]
        parts, relaxed_into = soft_parts(text, tree), ()
        partial, total_partial = [], 0
        if len(parts) > 1 and len(candidates) < limit:
            partial, total_partial = self._partial(parts, scores, depth, statistics)
        if parts and not scores and not partial:  # no paragraph holds any part: their words
            relaxed_into = relaxed_words(parts)
            if relaxed_into:
                parts = relaxed_into
                partial, total_partial = self._partial(parts, scores, depth, statistics)
        candidates += partial
        total = len(scores) or total_partial
        question = self._asked_keywords(text, parts or tuple(phrases(tree)), statistics.terms)
        return KeywordCandidates(candidates, total, not scores and bool(candidates), relaxed_into,
                                 question)

    def _whoosh(self, tree, statistics: Statistics, tiered: bool = True):
        """The Whoosh query of a keyword tree (a phrase without tier bonuses, if not `tiered`),
        kana phrases matching the readings the index holds."""

        def known(field_name: str, term: str) -> bool:
            with self._damage():
                return (field_name, term) in statistics.terms

        return to_whoosh(tree, known) if tiered else untiered(tree, known)

    def _match(self, query, statistics: Statistics) -> dict[int, float]:
        with self._damage():
            return match(self._searcher, query, statistics)

    def _tiers(self, query, docnums: list[int], statistics: Statistics) -> dict[int, float]:
        with self._damage():
            return tiers(self._searcher, query, docnums, statistics)

    def _partial(self, parts: tuple[Phrase, ...], whole: dict[int, float], depth: int,
                 statistics: Statistics) -> tuple[list[Candidate], int]:
        """The best `depth` distinct paragraphs holding some of `parts` but not all the query
        (those of `whole`), and how many there are in all. They are chosen by the share of the
        parts they hold, rarer parts weighing more and a part in the document's title counting
        as held (a paragraph of the article 梅雨 need not say 梅雨), then by BM25F."""
        doc_count = self._reader.doc_count_all()
        held: dict[int, float] = {}
        summed: dict[int, float] = {}
        weights, titled = [], []
        for part in parts:
            scores = self._match(self._whoosh(part, statistics, tiered=False), statistics)
            weights.append(idf(len(scores), doc_count))
            titled.append(self._in_titles(part, statistics) - scores.keys())
            for docnum, score in scores.items():
                if docnum not in whole:
                    held[docnum] = held.get(docnum, 0.0) + weights[-1]
                    summed[docnum] = summed.get(docnum, 0.0) + score
        for weight, docnums in zip(weights, titled):
            for docnum in docnums & held.keys():
                held[docnum] += weight
        total_weight = sum(weights) or 1.0
        # By the share held, then by score (scores stay far below a millionth of a share's step).
        order = {docnum: share * 1e6 + summed[docnum] for docnum, share in held.items()}
        best = self._content_first(self._best_distinct(order, max(depth, KEYWORD_POOL)), depth)
        return [Candidate(summed[docnum], 0.0, docnum, partial=True, covered=held[docnum] / total_weight)
                for _, docnum in best], len(held)

    def _content_first(self, pool: list[tuple[float, int]], depth: int) -> list[tuple[float, int]]:
        with self._damage():
            return content_first(pool, lambda docnum: self._text_and_title(docnum)[0], depth)

    def _in_titles(self, part: Phrase, statistics: Statistics) -> set[int]:
        """The paragraphs whose document's title holds the phrase's words."""
        query = in_title(part)
        if query is None:
            return set()
        with self._damage():
            return set(match(self._searcher, query, statistics))

    def _asked_keywords(self, text: str, parts: tuple[Phrase, ...], terms: TermIndex) -> Asked:
        """What the reranker knows of a keyword query: its phrases, weighted by the rarest word
        in each (a phrase is at most as common as that)."""
        with self._damage():
            frequencies = {_normalized(part): min((terms.doc_frequency(field, term)
                                                   for field, words in (("words", part.words),
                                                                        ("subwords", part.subwords))
                                                   for term in words), default=1)
                           for part in parts}
            doc_count = self._reader.doc_count_all()
        return asked(text, [(part.text, _normalized(part)) for part in parts],
                     frequencies.__getitem__, doc_count, keywords=True)

    def _run_question(self, tree: Question, limit: int, text: str,
                      statistics: Statistics) -> tuple[list[tuple[float, int]], int]:
        """BM25F's best paragraphs, reordered by how well each could answer (see rerank)."""
        best, total, by_title = self._question_candidates(tree, max(limit, RERANK_DEPTH), statistics)
        question = self._asked(tree, text, statistics.terms)
        with self._damage():
            paragraphs = {docnum: self._text_and_title(docnum) for _, docnum in best}
        return rerank(best, paragraphs.__getitem__, question,
                      lambda docnum: docnum not in by_title), total

    def _question_candidates(self, tree: Question, depth: int, statistics: Statistics
                             ) -> tuple[list[tuple[float, int]], int, set[int]]:
        """BM25F's best `depth` distinct paragraphs (score, docnum), how many match, and which
        paragraphs match by their document's title alone, holding none of the question's words
        (or sub-words) as the index found them (変わった holds 変わる)."""
        terms = question_terms(tree)
        with self._damage():
            scores = score_any(self._searcher, [t for t in terms if t[0] != "context"],
                               statistics=statistics)
            titles = score_any(self._searcher, [t for t in terms if t[0] == "context"],
                               statistics=statistics)
        by_title = set()
        for docnum, score in titles.items():
            if docnum in scores:
                scores[docnum] += score
            else:
                scores[docnum] = score
                by_title.add(docnum)
        return self._best_distinct(scores, depth), len(scores), by_title

    def _asked(self, tree: Question, text: str, terms: TermIndex) -> Asked:
        with self._damage():
            frequencies = {word.words[0]: terms.doc_frequency("words", word.words[0])
                           for word in tree.words}
            doc_count = self._reader.doc_count_all()
        return asked(text, [(word.text, word.words[0]) for word in tree.words],
                     frequencies.__getitem__, doc_count)

    def _best_distinct(self, scores: dict[int, float], wanted: int) -> list[tuple[float, int]]:
        """The `wanted` best (score, docnum), best first, one per text: repeats give way."""
        # Most paragraphs are unique, so twice as many candidates (and any tied with the last of
        # them) nearly always suffice.
        lowest = min(heapq.nlargest(2 * wanted, scores.values()), default=0.0)
        pool = [docnum for docnum, score in scores.items() if score >= lowest]
        best = self._distinct(pool, scores, wanted)
        if len(best) < wanted and len(pool) < len(scores):
            best = self._distinct(scores, scores, wanted)
        return best

    def _distinct(self, docnums: Iterable[int], scores: dict[int, float],
                  wanted: int) -> list[tuple[float, int]]:
        seen, distinct = set(), []
        for docnum in sorted(docnums, key=lambda docnum: (-scores[docnum], docnum)):
            key = self._same_text[docnum]
            if key not in seen:
                seen.add(key)
                distinct.append((scores[docnum], docnum))
                if len(distinct) == wanted:
                    break
        return distinct

    def _text_and_title(self, docnum: int) -> tuple[str, str]:
        stored = self._searcher.stored_fields(docnum)
        return stored["text"], stored["title"]

    def _hit(self, rank: int, score: float, docnum: int, wanted: tuple[Phrase, ...],
             terms: TermIndex, partial: bool = False) -> Hit:
        with self._damage():
            stored = self._searcher.stored_fields(docnum)
            also = self._also(docnum, terms)
        return Hit(rank=rank, score=score, source=stored["source"], title=stored["title"],
                   paragraph=stored["paragraph"], line=stored["line"], text=stored["text"],
                   also=also, partial=partial, phrases=wanted)

    def _also(self, docnum: int, terms: TermIndex) -> list[Place]:
        key = self._same_text[docnum]
        others = [self._searcher.stored_fields(other)
                  for other in live_docnums(terms, "same_text", key) if other != docnum]
        return sorted(Place(o["source"], o["line"], o["paragraph"]) for o in others)

    def close(self) -> None:
        self._searcher.close()

    def __enter__(self) -> "Searcher":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _normalized(phrase: Phrase) -> str:
    """A phrase's words run together, as the reranker looks for them in a paragraph's text."""
    return "".join(phrase.words) or phrase.folded


def search(query: str, index_dir: Path = DEFAULT_INDEX_DIR, limit: int = DEFAULT_LIMIT,
           mode: str = "auto", synonyms_file: Path | None = None,
           sudachi_synonyms: bool = False) -> SearchResults:
    """Search the index in `index_dir` once; see `Searcher` to run many queries."""
    with Searcher(index_dir, synonyms_file, sudachi_synonyms) as searcher:
        return searcher.search(query, limit, mode)
