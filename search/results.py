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
from typing import Iterable

from .documents import Paragraph
from .highlight import Span, match_spans, snippet
from .index import DEFAULT_INDEX_DIR, open_index, read_manifest, translate_damage
from .bm25 import Statistics, score_any
from .matching import match
from .postings import TermIndex, live_docnums
from .query import (Phrase, Question, Synonyms, parse, phrases, question_terms, relaxed, to_whoosh,
                    without_format_characters)
from .rerank import Asked, asked, rerank
from .synonyms import SudachiSynonyms, SynonymTable, expander

DEFAULT_LIMIT = 10
RERANK_DEPTH = 100  # how many of BM25's best paragraphs a question reorders


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
                "text": self.text, "snippet": self.snippet,
                "highlights": [list(span) for span in self.highlights],
                "snippet_highlights": [list(span) for span in self.snippet_highlights],
                "also": [vars(place) for place in self.also]}


@dataclass
class SearchResults:
    """One page of hits: `total` counts every matching paragraph (repeats included)."""

    query: str
    total: int
    hits: list[Hit]
    # True when no paragraph had all the words, so any of them were searched for instead.
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
            scores = self._scores(tree, self._statistics)
            question = relaxed(query, tree) if not scores and mode == "auto" else None
            if question is not None:
                scores = self._scores(question, self._statistics)
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
        ranked, total = self._run(tree, wanted, query, statistics)
        question = relaxed(query, tree) if not total and mode == "auto" else None
        if question is not None:
            tree, (ranked, total) = question, self._run(question, wanted, query, statistics)
        phrases_wanted = tuple(phrases(tree))
        hits = [self._hit(rank, score, docnum, phrases_wanted, statistics.terms)
                for rank, (score, docnum) in enumerate(ranked[offset:offset + limit],
                                                       start=offset + 1)]
        return SearchResults(query, total, hits, relaxed=question is not None, offset=offset,
                             more=len(ranked) > offset + limit, docs_dir=self.docs_dir)

    def _run(self, tree, limit: int, text: str,
             statistics: Statistics) -> tuple[list[tuple[float, int]], int]:
        """(score, docnum) of the hits, best first, and the number of all matches; our own
        errors stay out of the damage guard."""
        if isinstance(tree, Question):
            return self._run_question(tree, limit, text, statistics)
        scores = self._scores(tree, statistics)
        with self._damage():
            return self._best_distinct(scores, limit), len(scores)

    def _scores(self, tree, statistics: Statistics) -> dict[int, float]:
        """The docnum and score of every paragraph matching `tree` (BM25F's, for a question)."""
        if isinstance(tree, Question):
            with self._damage():
                return score_any(self._searcher, question_terms(tree), statistics=statistics)

        def known(field_name: str, term: str) -> bool:
            with self._damage():
                return (field_name, term) in statistics.terms

        whoosh_query = to_whoosh(tree, known)
        with self._damage():
            return match(self._searcher, whoosh_query, statistics)

    def _run_question(self, tree: Question, limit: int, text: str,
                      statistics: Statistics) -> tuple[list[tuple[float, int]], int]:
        """BM25F's best paragraphs, reordered by how well each could answer (see rerank)."""
        best, total = self._question_candidates(tree, max(limit, RERANK_DEPTH), statistics)
        question = self._asked(tree, text, statistics.terms)
        with self._damage():
            paragraphs = {docnum: self._text_and_title(docnum) for _, docnum in best}
        return rerank(best, paragraphs.__getitem__, question), total

    def _question_candidates(self, tree: Question, depth: int,
                             statistics: Statistics) -> tuple[list[tuple[float, int]], int]:
        """BM25F's best `depth` distinct paragraphs (score, docnum), and how many match."""
        scores = self._scores(tree, statistics)
        with self._damage():
            return self._best_distinct(scores, depth), len(scores)

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
             terms: TermIndex) -> Hit:
        with self._damage():
            stored = self._searcher.stored_fields(docnum)
            also = self._also(docnum, terms)
        return Hit(rank=rank, score=score, source=stored["source"], title=stored["title"],
                   paragraph=stored["paragraph"], line=stored["line"], text=stored["text"],
                   also=also, page=stored.get("page"), column=stored.get("column", 1),
                   section=stored.get("section"), phrases=wanted)

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
