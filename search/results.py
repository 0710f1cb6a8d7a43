"""Results: run a query on the index and return ranked, cited, highlighted hits.

`search()` is the one-call API; `Searcher` keeps the index open for many queries. A hit carries its
citation (source, line, paragraph number, title), the whole paragraph text, the character spans of
every match in it, and a snippet around the best match. Paragraphs with the same text (a document
that repeats itself, or two copies of one article) are one hit citing every place they stand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .analysis import fold
from .highlight import Span, match_spans, snippet
from .index import DEFAULT_INDEX_DIR, open_index, translate_damage
from .query import Question, Synonyms, parse, phrases, relaxed, to_whoosh
from .synonyms import SudachiSynonyms, SynonymTable, expander

DEFAULT_LIMIT = 10
RERANK_DEPTH = 50  # how many of BM25's best paragraphs a question reorders


@dataclass(frozen=True, order=True)
class Place:
    """Where else a hit's text stands."""

    source: str
    line: int
    paragraph: int


@dataclass
class Hit:
    rank: int
    score: float
    source: str
    title: str
    paragraph: int
    line: int
    text: str
    snippet: str
    highlights: list[Span]
    snippet_highlights: list[Span] = field(default_factory=list, repr=False)
    also: list[Place] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The JSON form: exactly the fields of the `--json` contract."""
        return {"rank": self.rank, "score": round(self.score, 4), "source": self.source,
                "title": self.title, "paragraph": self.paragraph, "line": self.line,
                "text": self.text, "snippet": self.snippet,
                "highlights": [list(span) for span in self.highlights],
                "also": [vars(place) for place in self.also]}


@dataclass
class SearchResults:
    query: str
    total: int
    hits: list[Hit]
    # True when no paragraph had all the words, so any of them were searched for instead.
    relaxed: bool = False

    def to_dict(self) -> dict:
        return {"query": self.query, "total": self.total,
                "hits": [hit.to_dict() for hit in self.hits]}


class Searcher:
    """An open index answering queries; use as a context manager or call `close()`."""

    def __init__(self, index_dir: Path, synonyms_file: Path | None = None,
                 sudachi_synonyms: bool = False) -> None:
        from whoosh.scoring import BM25F

        self._damage = lambda: translate_damage(index_dir)
        with self._damage():
            self._index = open_index(index_dir)
            self._searcher = self._index.searcher(weighting=BM25F())
            self._reader = self._searcher.reader()
            self._same_text = self._reader.column_reader("same_text")
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
        """
        tree = parse(query, mode, self._synonyms)
        ranked, total = self._run(tree, limit)
        question = relaxed(query, tree) if not total and mode == "auto" else None
        if question is not None:
            tree, (ranked, total) = question, self._run(question, limit)
        wanted = list(phrases(tree))
        hits = [self._hit(rank, score, docnum, wanted)
                for rank, (score, docnum) in enumerate(ranked[:limit], start=1)]
        return SearchResults(query, total, hits, relaxed=question is not None)

    def _run(self, tree, limit: int) -> tuple[list[tuple[float, int]], int]:
        """(score, docnum) of the hits, best first, and the number of all matches; our own
        errors stay out of the damage guard."""
        whoosh_query = to_whoosh(tree, self._has_term)
        with self._damage():
            if isinstance(tree, Question):
                return self._run_question(tree, whoosh_query, limit)
            # Whoosh counts the matches of a limited search by running it a second time, so one
            # unlimited pass that collects every match is cheaper.
            found = self._searcher.search(whoosh_query, limit=None, collapse="same_text")
            return found.top_n, found.scored_length() + sum(found.collapsed_counts.values())

    def _run_question(self, tree: Question, whoosh_query, limit: int):
        """BM25's best paragraphs, reordered by how many of the question's words each holds:
        BM25 alone lets one rare word in a short paragraph beat a paragraph with all of them."""
        found = self._searcher.search(whoosh_query, limit=None, collapse="same_text")
        total = found.scored_length() + sum(found.collapsed_counts.values())
        spellings = [{fold(word.text), word.words[0]} for word in tree.words]
        best = found.top_n[:max(limit, RERANK_DEPTH)]
        ranked = sorted(((score * self._coverage(docnum, spellings), docnum)
                         for score, docnum in best), key=lambda pair: -pair[0])
        return ranked, total

    def _coverage(self, docnum: int, spellings: list[set[str]]) -> float:
        """The share of the question's words found in the paragraph, as written or normalized."""
        text = fold(self._searcher.stored_fields(docnum)["text"])
        return sum(any(s in text for s in forms) for forms in spellings) / len(spellings)

    def _has_term(self, field_name: str, text: str) -> bool:
        with self._damage():
            return (field_name, text) in self._reader

    def _hit(self, rank: int, score: float, docnum: int, wanted) -> Hit:
        with self._damage():
            stored = self._searcher.stored_fields(docnum)
            also = self._also(docnum)
        text = stored["text"]
        spans = match_spans(text, wanted)
        short, short_spans = snippet(text, spans)
        return Hit(rank=rank, score=score, source=stored["source"], title=stored["title"],
                   paragraph=stored["paragraph"], line=stored["line"], text=text, snippet=short,
                   highlights=spans, snippet_highlights=short_spans, also=also)

    def _also(self, docnum: int) -> list[Place]:
        from whoosh.query import Term

        key = self._same_text[docnum]
        others = [self._searcher.stored_fields(other)
                  for other in self._searcher.docs_for_query(Term("same_text", key))
                  if other != docnum]
        return sorted(Place(o["source"], o["line"], o["paragraph"]) for o in others)

    def close(self) -> None:
        self._searcher.close()

    def __enter__(self) -> "Searcher":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def search(query: str, index_dir: Path = DEFAULT_INDEX_DIR, limit: int = DEFAULT_LIMIT,
           mode: str = "auto", synonyms_file: Path | None = None,
           sudachi_synonyms: bool = False) -> SearchResults:
    """Search the index in `index_dir` once; see `Searcher` to run many queries."""
    with Searcher(index_dir, synonyms_file, sudachi_synonyms) as searcher:
        return searcher.search(query, limit, mode)
