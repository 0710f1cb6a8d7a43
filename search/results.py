"""Results: run a query on the index and return ranked, cited, highlighted hits.

`search()` is the one-call API; `Searcher` keeps the index open for many queries. A hit carries its
citation (source, line, paragraph number, title), the whole paragraph text, the character spans of
every match in it, and a snippet around the best match. Paragraphs with the same text (a document
that repeats itself, or two copies of one article) are one hit citing every place they stand.
Results come a page at a time (`limit` hits after `offset`), saying whether more follow;
`Searcher.sources` counts the matching paragraphs of every document instead.
"""

from __future__ import annotations

import dataclasses
import heapq
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterable, NamedTuple

from .documents import Paragraph
from .highlight import Span, match_spans, snippet
from .index import DEFAULT_INDEX_DIR, open_index, read_manifest, translate_damage
from .bm25 import Statistics, score_any
from .matching import match, tiers
from .postings import TermIndex, live_docnums
from .query import (Phrase, Question, Synonyms, in_title, parse, phrases, question_terms,
                    relaxed_words, soft_parts, to_whoosh, untiered, without_format_characters)
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
    # Where on its line the paragraph starts, from 1 (more than 1 where a long line was cut).
    column: int = 1
    # The heading (or chapter) the paragraph stands under, if the document has headings.
    section: str | None = None
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
                "page": self.page, "column": self.column, "section": self.section,
                "partial": self.partial, "text": self.text, "snippet": self.snippet,
                "highlights": [list(span) for span in self.highlights],
                "snippet_highlights": [list(span) for span in self.snippet_highlights],
                "also": [vars(place) for place in self.also]}


@dataclass
class SearchResults:
    """One page of hits: `total` counts every matching paragraph (repeats included)."""

    query: str
    total: int
    hits: list[Hit]
    # True when no paragraph had all the words, so those holding some of them were searched for.
    relaxed: bool = False
    # How many hits came before this page, and whether more follow it.
    offset: int = 0
    more: bool = False
    # The documents directory the index was built from (sources are relative to it).
    docs_dir: Path | None = None

    def to_dict(self) -> dict:
        """The JSON form: exactly the fields of the `--json` contract."""
        return {"query": self.query, "total": self.total, "relaxed": self.relaxed,
                "more": self.more, "hits": [hit.to_dict() for hit in self.hits]}


@dataclass(frozen=True)
class KeywordCandidates:
    """What a keyword query's ranking reorders, and what the results say of it."""

    candidates: list[Candidate]
    total: int  # paragraphs holding all the query, or when none does, some of it
    relaxed: bool  # no paragraph holds all the query
    relaxed_into: tuple[Phrase, ...]  # the words looked for instead of phrases found nowhere
    question: Asked  # what the reranker knows of the query
    paragraph: Callable[[int], tuple[str, str]]  # a docnum's (text, title)


class _Some(NamedTuple):
    """Paragraphs holding some of a keyword query (soft AND), and what was looked for."""

    parts: tuple[Phrase, ...]  # the phrases looked for
    relaxed_into: tuple[Phrase, ...]  # the words looked for instead of phrases found nowhere
    held: dict[int, float]  # docnum -> the weighted share of the parts it holds
    scores: dict[int, float]  # docnum -> BM25F for the parts, without tier bonuses


class Searcher:
    """An open index answering queries; use as a context manager or call `close()`."""

    def __init__(self, index_dir: Path, synonyms_file: Path | None = None,
                 sudachi_synonyms: bool = False) -> None:
        from whoosh.scoring import BM25F

        self._damage = lambda: translate_damage(index_dir)
        self._lock = threading.Lock()
        self._closed = False
        with self._damage():
            self._index = open_index(index_dir)
            manifest = read_manifest(index_dir)
            self.docs_dir = Path(manifest["docs_dir"]) if manifest else None
            self._searcher = self._index.searcher(weighting=BM25F())
            self._reader = self._searcher.reader()
            # An index of a folder with nothing to index has no segment and no columns.
            self._empty = self._reader.doc_count_all() == 0
            self._same_text = None if self._empty else self._reader.column_reader("same_text")
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

    def search(self, query: str, limit: int = DEFAULT_LIMIT, mode: str = "auto",
               offset: int = 0) -> SearchResults:
        """The best `limit` paragraphs for `query` after the first `offset`, and how many match
        in all.

        `mode` is "keyword" (the query syntax), "question" (any content word, BM25) or "auto".
        Threads may share a Searcher: their queries run one at a time (Whoosh's readers share
        file positions).
        """
        _check_page(limit, offset)
        with self._lock:
            self._check_open()
            return self._search(query, limit, mode, offset)

    def sources(self, query: str, mode: str = "auto") -> dict[str, int]:
        """How many paragraphs match `query` in each document that has any (repeats included),
        the document of the best match first."""
        with self._lock:
            self._check_open()
            query = without_format_characters(query)
            tree = parse(query, mode, self._synonyms)
            if self._empty:
                return {}
            scores = self._scores(tree, query, self._statistics)
            counts: dict[str, int] = {}
            with self._damage():
                for docnum in sorted(scores, key=lambda docnum: (-scores[docnum], docnum)):
                    source = self._searcher.stored_fields(docnum)["source"]
                    counts[source] = counts.get(source, 0) + 1
            return counts

    def line_before(self, hit: Hit) -> str:
        """The text of `hit`'s line before its paragraph: the earlier pieces of a long line that
        was cut (see documents.cut_long); empty for a paragraph that starts its line."""
        if hit.column == 1:
            return ""
        with self._lock:
            self._check_open()
            with self._damage():
                pieces = [self._searcher.stored_fields(docnum) for docnum in
                          live_docnums(self._statistics.terms, "source", hit.source)]
        return "".join(piece["text"] for piece in pieces
                       if piece["line"] == hit.line and piece.get("page") == hit.page
                       and piece["paragraph"] < hit.paragraph)

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError("this Searcher is closed; open a new one to search")

    def _search(self, query: str, limit: int, mode: str, offset: int) -> SearchResults:
        query = without_format_characters(query)
        tree = parse(query, mode, self._synonyms)
        if self._empty:
            return SearchResults(query, 0, [], offset=offset, docs_dir=self.docs_dir)
        statistics = self._statistics
        # One hit more than the page shows, to tell whether more follow.
        wanted = offset + limit + 1
        if isinstance(tree, Question):
            ranked, total = self._run_question(tree, wanted, query, statistics)
            found, relaxed, relaxed_into = [(score, docnum, False) for score, docnum in ranked], False, ()
        else:
            found, total, relaxed, relaxed_into = self._run_keywords(tree, wanted, query, statistics)
        phrases_wanted = tuple(phrases(tree)) + relaxed_into
        hits = [self._hit(rank, score, docnum, phrases_wanted, statistics.terms, partial)
                for rank, (score, docnum, partial) in enumerate(found[offset:offset + limit],
                                                                start=offset + 1)]
        return SearchResults(query, total, hits, relaxed=relaxed, offset=offset,
                             more=len(found) > offset + limit, docs_dir=self.docs_dir)

    def _scores(self, tree, text: str, statistics: Statistics) -> dict[int, float]:
        """The docnum and score of every paragraph matching `tree` (BM25F's, for a question); for
        keywords no paragraph holds all together, those holding some (see _keyword_candidates)."""
        if isinstance(tree, Question):
            with self._damage():
                return score_any(self._searcher, question_terms(tree), statistics=statistics)
        scores = self._match(self._whoosh(tree, statistics), statistics)
        return scores or self._holding_some_of(tree, text, scores, statistics).scores

    def _run_keywords(self, tree, limit: int, text: str, statistics: Statistics
                      ) -> tuple[list[tuple[float, int, bool]], int, bool, tuple[Phrase, ...]]:
        """(score, docnum, partial) of the hits, best first; how many paragraphs match (all the
        words, or when none does, some); whether none does; and the words a failed phrase was
        relaxed into."""
        found = self._keyword_candidates(tree, limit, text, statistics)
        with self._damage():
            ranked = rank_keywords(found.candidates, found.paragraph, found.question)
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
        paragraph = self._remembering_paragraphs()
        best = self._content_first(self._best_distinct(scores, max(depth, KEYWORD_POOL)), depth,
                                   paragraph)
        tiers = self._tiers(query, [docnum for _, docnum in best], statistics)
        candidates = [Candidate(score, tiers[docnum], docnum) for score, docnum in best]
        some = _Some(soft_parts(text, tree), (), {}, {})
        if len(candidates) < limit:
            some = self._holding_some_of(tree, text, scores, statistics)
            candidates += self._partial(some, depth, paragraph)
        question = self._asked_keywords(text, some.parts or tuple(phrases(tree)), statistics.terms)
        return KeywordCandidates(candidates, len(scores) or len(some.scores),
                                 not scores and bool(candidates), some.relaxed_into, question,
                                 paragraph)

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

    def _holding_some_of(self, tree, text: str, whole: dict[int, float],
                         statistics: Statistics) -> "_Some":
        """Soft AND: the paragraphs holding some of the parts of a keyword query typed without
        syntax but not all of it (those of `whole`); where none holds all or any, those holding
        some of the words of its parts (never single characters or numbers: relaxed_words)."""
        parts = soft_parts(text, tree)
        held, scores = self._holding_some(parts, whole, statistics) if len(parts) > 1 else ({}, {})
        relaxed_into = relaxed_words(parts) if parts and not whole and not held else ()
        if relaxed_into:
            parts = relaxed_into
            held, scores = self._holding_some(parts, whole, statistics)
        return _Some(parts, relaxed_into, held, scores)

    def _partial(self, some: "_Some", depth: int,
                 paragraph: Callable[[int], tuple[str, str]]) -> list[Candidate]:
        """The best `depth` distinct paragraphs holding some of the query, by the share of its
        parts they hold, then by BM25F."""
        # By the share held, then by score (scores stay far below a millionth of a share's step).
        order = {docnum: share * 1e6 + some.scores[docnum] for docnum, share in some.held.items()}
        best = self._content_first(self._best_distinct(order, max(depth, KEYWORD_POOL)), depth,
                                   paragraph)
        return [Candidate(some.scores[docnum], 0.0, docnum, partial=True, covered=some.held[docnum])
                for _, docnum in best]

    def _holding_some(self, parts: tuple[Phrase, ...], whole: dict[int, float],
                      statistics: Statistics) -> tuple[dict[int, float], dict[int, float]]:
        """For the paragraphs holding some of `parts` but not all the query (those of `whole`):
        docnum -> the share of the parts each holds, rarer parts weighing more and a part in the
        document's title counting as held (a paragraph of the article 梅雨 need not say 梅雨);
        and docnum -> its BM25F score for the parts, without tier bonuses."""
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
        return {docnum: weight / total_weight for docnum, weight in held.items()}, summed

    def _content_first(self, pool: list[tuple[float, int]], depth: int,
                       paragraph: Callable[[int], tuple[str, str]]) -> list[tuple[float, int]]:
        with self._damage():
            return content_first(pool, lambda docnum: paragraph(docnum)[0], depth)

    def _remembering_paragraphs(self) -> Callable[[int], tuple[str, str]]:
        """`_text_and_title`, reading each paragraph once (a query's ranking reads a few twice)."""
        read: dict[int, tuple[str, str]] = {}

        def paragraph(docnum: int) -> tuple[str, str]:
            found = read.get(docnum)
            if found is None:
                found = read[docnum] = self._text_and_title(docnum)
            return found
        return paragraph

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
                   also=also, page=stored.get("page"), column=stored.get("column", 1),
                   section=stored.get("section"), partial=partial, phrases=wanted)

    def _also(self, docnum: int, terms: TermIndex) -> list[Place]:
        key = self._same_text[docnum]
        others = [self._searcher.stored_fields(other)
                  for other in live_docnums(terms, "same_text", key) if other != docnum]
        return sorted(Place(o["source"], o["line"], o["paragraph"], o.get("page"))
                      for o in others)

    def highlights(self, query: str, text: str, mode: str = "auto") -> list[Span]:
        """Where `query` matches in `text`, as a hit's highlights mark it; raises
        QuerySyntaxError for a query that cannot be parsed."""
        with self._lock:
            return match_spans(text, tuple(phrases(parse(query, mode, self._synonyms))))

    def document(self, source: str) -> list[Paragraph]:
        """The paragraphs the index holds of the document `source`, in order; none for a source
        it does not hold (nothing is read from the documents directory)."""
        with self._lock, self._damage():
            stored = [self._searcher.stored_fields(docnum)
                      for docnum in live_docnums(self._statistics.terms, "source", source)]
        names = {field.name for field in dataclasses.fields(Paragraph)}
        paragraphs = [Paragraph(**{name: value for name, value in fields.items() if name in names})
                      for fields in stored]
        return sorted(paragraphs, key=lambda paragraph: paragraph.paragraph)

    def close(self) -> None:
        self._closed = True
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
           sudachi_synonyms: bool = False, offset: int = 0) -> SearchResults:
    """Search the index in `index_dir` once; see `Searcher` to run many queries."""
    _check_page(limit, offset)  # before opening the index
    with Searcher(index_dir, synonyms_file, sudachi_synonyms) as searcher:
        return searcher.search(query, limit, mode, offset)


def _check_page(limit: int, offset: int) -> None:
    """Refuse a `limit` that is not a whole number of at least 1, an `offset` of at least 0."""
    for name, value, least in (("limit", limit, 1), ("offset", offset, 0)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be a whole number, not {type(value).__name__}")
        if value < least:
            raise ValueError(f"{name} must be {least} or more, not {value}")
