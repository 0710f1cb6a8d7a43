"""Results: run a query on the index and return ranked, cited, highlighted hits.

`search()` is the one-call API; `Searcher` keeps the index open for many queries. A hit carries its
citation (source, line, paragraph number, title), the whole paragraph text, the character spans of
every match in it, and a snippet around the best match.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .highlight import Span, match_spans, snippet
from .index import DEFAULT_INDEX_DIR, open_index
from .query import parse, phrases, to_whoosh

DEFAULT_LIMIT = 10


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

    def to_dict(self) -> dict:
        """The JSON form: exactly the fields of the `--json` contract."""
        return {"rank": self.rank, "score": round(self.score, 4), "source": self.source,
                "title": self.title, "paragraph": self.paragraph, "line": self.line,
                "text": self.text, "snippet": self.snippet,
                "highlights": [list(span) for span in self.highlights]}


@dataclass
class SearchResults:
    query: str
    total: int
    hits: list[Hit]

    def to_dict(self) -> dict:
        return {"query": self.query, "total": self.total,
                "hits": [hit.to_dict() for hit in self.hits]}


class Searcher:
    """An open index answering queries; use as a context manager or call `close()`."""

    def __init__(self, index_dir: Path) -> None:
        from whoosh.scoring import BM25F

        self._index = open_index(index_dir)
        self._searcher = self._index.searcher(weighting=BM25F())

    def search(self, query: str, limit: int = DEFAULT_LIMIT) -> SearchResults:
        """The best `limit` paragraphs for `query`, and how many match in all."""
        tree = parse(query)
        found = self._searcher.search(to_whoosh(tree), limit=limit)
        wanted = list(phrases(tree))
        hits = [_hit(rank, found.score(rank - 1), found[rank - 1], wanted)
                for rank in range(1, found.scored_length() + 1)]
        return SearchResults(query, len(found), hits)

    def close(self) -> None:
        self._searcher.close()

    def __enter__(self) -> "Searcher":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _hit(rank: int, score: float, stored, wanted) -> Hit:
    text = stored["text"]
    spans = match_spans(text, wanted)
    short, short_spans = snippet(text, spans)
    return Hit(rank=rank, score=score, source=stored["source"], title=stored["title"],
               paragraph=stored["paragraph"], line=stored["line"], text=text, snippet=short,
               highlights=spans, snippet_highlights=short_spans)


def search(query: str, index_dir: Path = DEFAULT_INDEX_DIR, limit: int = DEFAULT_LIMIT) -> SearchResults:
    """Search the index in `index_dir` once; see `Searcher` to run many queries."""
    with Searcher(index_dir) as searcher:
        return searcher.search(query, limit)
