"""The searcher: an open index answering queries, and `search()`, the one-call API.

A query is parsed (search.query.parser), its paragraphs ranked (search.ranking.ranking, over the engine in
search.engine) and the best of them made into hits citing where they stand (search.results.hits).
Paragraphs with the same text (a document that repeats itself, or two copies of one article) are
one hit citing every place they stand. Results come a page at a time (`limit` hits after
`offset`), saying whether more follow; `Searcher.sources` counts the matching paragraphs of every
document instead; `suggest` completes a prefix from the words of the documents. Filters (the query's own and those given as `filters`) narrow a search to some
documents, `sort="date"` orders it newest first, and `facets=True` counts all its matches by
format, folder and year (search.engine.documents, read once an open index is first asked to).
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from search.engine.bm25 import Statistics
from search.engine.documents import Documents
from search.engine.postings import TermIndex, live_docnums
from search.errors import QuerySyntaxError
from search.index.directory import DEFAULT_INDEX_DIR
from search.index.opening import open_live_index, translate_damage
from search.index.schema import (
    COLUMN,
    DATE,
    LINE,
    PAGE,
    PARAGRAPH,
    PARAGRAPH_TEXT,
    SAME_TEXT,
    SECTION,
    SOURCE,
    TITLE,
)
from search.index.vocabulary import Suggestion, Vocabulary
from search.query.filters import SORTS, Filters
from search.query.parser import ParsedQuery, parse, without_format_characters
from search.query.synonyms import SudachiSynonyms, SynonymTable, expander
from search.query.tree import Phrase, Synonyms
from search.ranking.ranking import EVERYWHERE, RankedParagraph, Ranking, Scope
from search.results.facets import Facets, count_facets
from search.results.highlight import Span, match_spans
from search.results.hits import Hit, Place, SearchResults

if TYPE_CHECKING:
    from search.ingest.paragraphs import Paragraph

DEFAULT_LIMIT = 10


class Searcher:
    """An open index answering queries; use as a context manager or call `close()`."""

    def __init__(
        self, index_dir: Path, synonyms_file: Path | None = None, sudachi_synonyms: bool = False
    ) -> None:
        from whoosh.scoring import BM25F

        self._damage = lambda: translate_damage(index_dir)
        self._lock = threading.Lock()
        self._closed = False
        with self._damage():
            manifest, self._index = open_live_index(index_dir)
            self._manifest = manifest
            self.docs_dir = manifest.docs_dir
            self._searcher = self._index.searcher(weighting=BM25F())
            self._reader = self._searcher.reader()
            # An index of a folder with nothing to index has no segment and no columns.
            empty = self._reader.doc_count_all() == 0
            self._same_text = None if empty else self._reader.column_reader(SAME_TEXT)
            # The searcher reads one fixed state of the index, so what BM25F needs of it (terms
            # looked up in each segment, idf, average lengths) holds for every query.
            self._statistics = Statistics(self._searcher)
            # The paragraphs a query's hits are chosen from (and bench/fit_rerank.py's hook).
            self.ranking = (
                None
                if empty
                else Ranking(self._searcher, self._statistics, index_dir, self._same_text)
            )
            self._synonyms = self._expander(synonyms_file, sudachi_synonyms)
        self._documents: Documents | None = None
        self._vocabulary: Vocabulary | None = None

    def _expander(self, synonyms_file: Path | None, sudachi_synonyms: bool) -> Synonyms | None:
        sources: list[SynonymTable | SudachiSynonyms] = []
        if synonyms_file is not None:
            sources.append(SynonymTable.read(synonyms_file))
        if sudachi_synonyms:
            sources.append(SudachiSynonyms.of_index(Path(self._index.storage.folder)))
        return expander(*sources) if sources else None

    def search(
        self,
        query: str,
        limit: int = DEFAULT_LIMIT,
        mode: str = "auto",
        offset: int = 0,
        filters: Filters | None = None,
        sort: str = "relevance",
        facets: bool = False,
    ) -> SearchResults:
        """The best `limit` paragraphs for `query` after the first `offset`, and how many match
        in all.

        `mode` is "keyword" (the query syntax), "question" (any content word, BM25) or "auto".
        `filters` narrow the search besides those the query gives (Filters.of(formats=["pdf"])),
        `sort` is "relevance" or "date" (newest first), and `facets` counts all the matches by
        format, folder and year (`SearchResults.facets`).
        Threads may share a Searcher: their queries run one at a time (Whoosh's readers share
        file positions).
        """
        _check_page(limit, offset)
        _check_sort(sort)
        with self._lock:
            self._check_open()
            return self._search(query, limit, mode, offset, filters or Filters(), sort, facets)

    def sources(
        self,
        query: str,
        mode: str = "auto",
        filters: Filters | None = None,
        sort: str = "relevance",
    ) -> dict[str, int]:
        """How many paragraphs match `query` in each document that has any (repeats included),
        the document of the best match first (or the newest first, by `sort`)."""
        _check_sort(sort)
        with self._lock:
            self._check_open()
            parsed = self._parse(query, mode, filters or Filters())
            if self.ranking is None:
                return {}
            scope = self._scope(parsed.filters, sort)
            scores = self.ranking.scores(parsed, scope)
            if scope.days is not None:
                days = scope.days
                order = sorted(scores, key=lambda d: (-days[d], -scores[d], d))
            else:
                order = sorted(scores, key=lambda docnum: (-scores[docnum], docnum))
            counts: dict[str, int] = {}
            with self._damage():
                for docnum in order:
                    source = self._searcher.stored_fields(docnum)[SOURCE]
                    counts[source] = counts.get(source, 0) + 1
            return counts

    def suggest(self, prefix: str, limit: int = 10) -> list[Suggestion]:
        """Words and phrases of the documents that complete `prefix` (in kana, also by their
        reading), those in the most paragraphs first (search.index.vocabulary; read the first
        time)."""
        _check_page(limit, 0)
        with self._lock:
            self._check_open()
            if self._vocabulary is None:
                self._vocabulary = Vocabulary(Path(self._index.storage.folder))
            return self._vocabulary.complete(prefix, limit)

    def _parse(self, query: str, mode: str, filters: Filters) -> ParsedQuery:
        """`query` parsed, with `filters` added to its own."""
        parsed = parse(query, mode, self._synonyms)
        return dataclasses.replace(parsed, filters=parsed.filters.merged(filters))

    def _scope(self, filters: Filters, sort: str) -> Scope:
        """What a ranking keeps to (the paragraphs of the documents `filters` admit) and its
        order."""
        if not filters and sort != "date":
            return EVERYWHERE
        documents = self.documents()
        return Scope(
            documents.admitted(filters.admits, filters) if filters else None,
            documents.days_by_paragraph if sort == "date" else None,
        )

    def documents(self) -> Documents:
        """The index's documents by paragraph (read the first time they are asked for)."""
        if self._documents is None:
            with self._damage():
                self._documents = Documents(self._reader, self._statistics.terms)
        return self._documents

    def line_before(self, hit: Hit) -> str:
        """The text of `hit`'s line before its paragraph: the earlier pieces of a long line that
        was cut (see paragraphs.cut_long); empty for a paragraph that starts its line."""
        if hit.column == 1:
            return ""
        with self._lock:
            self._check_open()
            with self._damage():
                pieces = [
                    self._searcher.stored_fields(docnum)
                    for docnum in live_docnums(self._statistics.terms, SOURCE, hit.source)
                ]
        return "".join(
            piece[PARAGRAPH_TEXT]
            for piece in pieces
            if piece[LINE] == hit.line
            and piece.get(PAGE) == hit.page
            and piece[PARAGRAPH] < hit.paragraph
        )

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError("this Searcher is closed; open a new one to search")

    def _search(
        self,
        query: str,
        limit: int,
        mode: str,
        offset: int,
        filters: Filters,
        sort: str,
        facets: bool,
    ) -> SearchResults:
        parsed = self._parse(query, mode, filters)
        shown = without_format_characters(query)
        if self.ranking is None:
            return SearchResults(
                shown,
                0,
                [],
                offset=offset,
                docs_dir=self.docs_dir,
                filters=parsed.filters,
                sort=sort,
                facets=Facets() if facets else None,
            )
        scope = self._scope(parsed.filters, sort)
        # One hit more than the page shows, to tell whether more follow.
        ranked = self.ranking.rank(parsed, offset + limit + 1, scope)
        wanted = parsed.phrases + ranked.relaxed_into
        hits = [
            self._hit(rank, found, wanted)
            for rank, found in enumerate(
                ranked.paragraphs[offset : offset + limit], start=offset + 1
            )
        ]
        return SearchResults(
            shown,
            ranked.total,
            hits,
            relaxed=ranked.relaxed,
            offset=offset,
            more=len(ranked.paragraphs) > offset + limit,
            docs_dir=self.docs_dir,
            filters=parsed.filters,
            sort=sort,
            facets=self._facets(ranked.matched, parsed.filters) if facets else None,
        )

    def _facets(self, matched, filters: Filters) -> Facets:
        documents = self.documents()
        with self._damage():
            return count_facets(documents, matched, filters.folder)

    def _hit(self, rank: int, found: RankedParagraph, wanted: tuple[Phrase, ...]) -> Hit:
        with self._damage():
            stored = self._searcher.stored_fields(found.docnum)
            also = self._also(found.docnum, self._statistics.terms)
        return Hit(
            rank=rank,
            score=found.score,
            source=stored[SOURCE],
            title=stored[TITLE],
            paragraph=stored[PARAGRAPH],
            line=stored[LINE],
            text=stored[PARAGRAPH_TEXT],
            also=also,
            page=stored.get(PAGE),
            column=stored.get(COLUMN, 1),
            section=stored.get(SECTION),
            partial=found.partial,
            date=stored.get(DATE),
            phrases=wanted,
        )

    def _also(self, docnum: int, terms: TermIndex) -> list[Place]:
        if self._same_text is None:  # an empty index: no hit to have places
            return []
        key = self._same_text[docnum]
        others = [
            self._searcher.stored_fields(other)
            for other in live_docnums(terms, SAME_TEXT, key)
            if other != docnum
        ]
        return sorted(Place(o[SOURCE], o[LINE], o[PARAGRAPH], o.get(PAGE)) for o in others)

    def highlights(self, query: str, text: str, mode: str = "auto") -> list[Span]:
        """Where `query` matches in `text`, as a hit's highlights mark it; raises
        QuerySyntaxError for a query that cannot be parsed."""
        with self._lock:
            return match_spans(text, parse(query, mode, self._synonyms).phrases)

    def document(self, source: str) -> list[Paragraph]:
        """The paragraphs the index holds of the document `source`, in order; none for a source
        it does not hold (nothing is read from the documents directory)."""
        from search.ingest.paragraphs import (
            Paragraph,
        )  # the server's document page: not a search's import

        with self._lock, self._damage():
            stored = [
                self._searcher.stored_fields(docnum)
                for docnum in live_docnums(self._statistics.terms, SOURCE, source)
            ]
        names = {field.name for field in dataclasses.fields(Paragraph)}
        paragraphs = [
            Paragraph(**{name: value for name, value in fields.items() if name in names})
            for fields in stored
        ]
        return sorted(paragraphs, key=lambda paragraph: paragraph.paragraph)

    def document_list(self, offset: int = 0, limit: int | None = None) -> tuple[int, list]:
        """How many documents the index holds, and those from `offset` on (at most `limit`),
        by source, as status.IndexedDocument: what `kensaku documents` lists, a page at a time."""
        from search.service.status import describe, indexed_sources

        sources = indexed_sources(self._manifest)
        chosen = sources[offset : None if limit is None else offset + limit]
        with self._lock, self._damage():
            return len(sources), describe(
                self._manifest, self._searcher, self._statistics.terms, chosen
            )

    def sample_texts(self, count: int) -> list[str]:
        """The texts of up to `count` live paragraphs spread evenly over the index, in order."""
        with self._lock, self._damage():
            every = self._reader.doc_count_all()
            step = max(1, every // max(count, 1))
            return [
                self._searcher.stored_fields(docnum)[PARAGRAPH_TEXT]
                for docnum in range(0, every, step)
                if not self._reader.is_deleted(docnum)
            ][:count]

    def close(self) -> None:
        self._closed = True
        self._searcher.close()

    def __enter__(self) -> Searcher:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def search(
    query: str,
    index_dir: Path = DEFAULT_INDEX_DIR,
    limit: int = DEFAULT_LIMIT,
    mode: str = "auto",
    synonyms_file: Path | None = None,
    sudachi_synonyms: bool = False,
    offset: int = 0,
    filters: Filters | None = None,
    sort: str = "relevance",
    facets: bool = False,
) -> SearchResults:
    """Search the index in `index_dir` once; see `Searcher` to run many queries."""
    _check_page(limit, offset)  # before opening the index
    _check_sort(sort)
    with Searcher(index_dir, synonyms_file, sudachi_synonyms) as searcher:
        return searcher.search(query, limit, mode, offset, filters, sort, facets)


def _check_sort(sort: str) -> None:
    if sort not in SORTS:
        raise QuerySyntaxError(f"unknown sort {sort!r}; use one of {', '.join(SORTS)}")


def _check_page(limit: int, offset: int) -> None:
    """Refuse a `limit` that is not a whole number of at least 1, an `offset` of at least 0."""
    for name, value, least in (("limit", limit, 1), ("offset", offset, 0)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be a whole number, not {type(value).__name__}")
        if value < least:
            raise ValueError(f"{name} must be {least} or more, not {value}")
