"""Results: what a search returns, as plain data: one page of hits (`SearchResults`), each a
ranked paragraph with its citation (source, line, paragraph number, page, title), its whole text,
where else the same text stands (`Place`), and the spans of its matches and its snippet, worked
out when first read (search.results.highlight); and the facets of all the matches, when asked
for (search.results.facets)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated, TypedDict

from search.query.filters import Filters, format_of
from search.query.tree import Phrase
from search.results.facets import Facets, FacetsJSON
from search.results.highlight import Span, match_spans, snippet

# The citation's fields, as a hit and the other places of its text give them.
_Source = Annotated[str, "The document's path relative to the documents folder."]
_Line = Annotated[int, "The line the paragraph starts on (1-based; a PDF's: on its page)."]
_Paragraph = Annotated[int, "The paragraph's number in its document (1-based)."]
_Page = Annotated[int | None, "The PDF page (1-based); null for other formats."]


class PlaceJSON(TypedDict):
    """Where else a hit's text stands, in the JSON contract."""

    source: _Source
    line: _Line
    paragraph: _Paragraph
    page: _Page


class HitJSON(TypedDict):
    """A hit in the JSON contract (`--json`, the API; search.server.api_schema describes it from
    these fields and their descriptions)."""

    rank: Annotated[int, "The hit's place in the whole ranking (1-based)."]
    score: Annotated[
        float,
        "A keyword hit's ranking tiers plus its answer signals (below 1 for a partial hit); "
        "a question's reranked score.",
    ]
    source: _Source
    title: Annotated[str, "The document's title, else its file name without the extension."]
    paragraph: _Paragraph
    line: _Line
    page: _Page
    column: Annotated[
        int,
        "The column (1-based) the paragraph starts at in its line: 1 unless a long line was "
        "cut into several paragraphs.",
    ]
    section: Annotated[
        str | None, "The heading or EPUB chapter the paragraph stands under, if any."
    ]
    format: Annotated[str, "The document's format: pdf, docx, html, epub, markdown or text."]
    date: Annotated[
        str | None,
        "YYYY-MM-DD: the document's own date where its format gives one, else its file's "
        "modification time.",
    ]
    partial: Annotated[bool, "True for a hit holding only some of the query's words (soft AND)."]
    text: Annotated[str, "The whole paragraph as extracted."]
    snippet: Annotated[str, "The part of the paragraph to show, its indent left out."]
    highlights: Annotated[
        list[list[int]],
        "[start, end) offsets into text, in code points, of every match (a phrase as one span).",
    ]
    snippet_highlights: Annotated[list[list[int]], "The same spans within snippet."]
    also: Annotated[list[PlaceJSON], "The other places where the same text stands."]


class ResultsJSON(TypedDict):
    """A page of hits in the JSON contract."""

    query: Annotated[str, "The query as given."]
    total: Annotated[int, "How many paragraphs match (repeats of a text included)."]
    relaxed: Annotated[
        bool,
        "True when no paragraph held the whole keyword query, so those holding some of it "
        "were counted.",
    ]
    more: Annotated[bool, "True when more hits follow this page."]
    filters: Annotated[
        list[str],
        "The filters in force, the query's and the options', in the query syntax.",
    ]
    sort: Annotated[str, 'The order of the hits: "relevance" or "date" (newest first).']
    hits: Annotated[list[HitJSON], "This page's hits, best first."]
    facets: Annotated[
        FacetsJSON | None,
        "How all the matches fall by format, folder and year; null where not counted.",
    ]


@dataclass(frozen=True, order=True)
class Place:
    """Where else a hit's text stands."""

    source: str
    line: int
    paragraph: int
    page: int | None = None

    def to_dict(self) -> PlaceJSON:
        return {
            "source": self.source,
            "line": self.line,
            "paragraph": self.paragraph,
            "page": self.page,
        }


@dataclass
class Hit:
    """One ranked paragraph. Its highlights and snippet are worked out when first read: a program
    that wants only the ranking and the citations does not pay for them.

    Attributes:
        rank: Its place in the results, from 1 (paging goes on from offset + 1).
        score: The score it was ranked by: a keyword query's tiers plus its answer signals, or
            a question's reranker score.
        source: The document's path relative to the documents folder.
        title: The document's title, else its file name without the extension.
        paragraph: The paragraph's number in its document, from 1.
        line: The line the paragraph starts on, in its file (for a PDF, on its page).
        text: The whole paragraph, as extracted.
        also: The other places where the same text stands.
        page: The page of a paged document (PDF), from 1; None for the others.
        column: Where on its line the paragraph starts, from 1 (more than 1 where a long line
            was cut).
        section: The heading (or chapter) the paragraph stands under, if the document has
            headings.
        partial: True when the paragraph holds only some of the query's words (soft AND).
        date: The document's date, YYYY-MM-DD (None in an index that records none).
        phrases: The query's phrases, which the highlights mark.
    """

    rank: int
    score: float
    source: str
    title: str
    paragraph: int
    line: int
    text: str
    also: list[Place] = field(default_factory=list)
    page: int | None = None
    column: int = 1
    section: str | None = None
    partial: bool = False
    date: str | None = None
    phrases: tuple[Phrase, ...] = field(default=(), repr=False, compare=False)

    @property
    def format(self) -> str:
        """The document's format, by its file name's suffix (search.query.filters.FORMATS)."""
        return format_of(self.source)

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

    def to_dict(self) -> HitJSON:
        """The JSON form: exactly the fields of the `--json` contract."""
        return {
            "rank": self.rank,
            "score": round(self.score, 4),
            "source": self.source,
            "title": self.title,
            "paragraph": self.paragraph,
            "line": self.line,
            "page": self.page,
            "column": self.column,
            "section": self.section,
            "format": self.format,
            "date": self.date,
            "partial": self.partial,
            "text": self.text,
            "snippet": self.snippet,
            "highlights": [list(span) for span in self.highlights],
            "snippet_highlights": [list(span) for span in self.snippet_highlights],
            "also": [place.to_dict() for place in self.also],
        }


@dataclass
class SearchResults:
    """One page of hits: `total` counts every matching paragraph (repeats included).

    Attributes:
        query: The query as given.
        total: How many paragraphs match, repeats included.
        hits: This page's hits, best first (or newest first).
        relaxed: True when no paragraph had all the words, so those holding some of them were
            searched for.
        offset: How many hits came before this page.
        more: True when more hits follow this page.
        docs_dir: The documents directory the index was built from (sources are relative to it).
        filters: The filters that narrowed the search.
        sort: The order: "relevance" or "date".
        facets: The counts of all the matches by format, folder and year (None where not asked
            for).
    """

    query: str
    total: int
    hits: list[Hit]
    relaxed: bool = False
    offset: int = 0
    more: bool = False
    docs_dir: Path | None = None
    filters: Filters = field(default_factory=Filters)
    sort: str = "relevance"
    facets: Facets | None = None

    def to_dict(self) -> ResultsJSON:
        """The JSON form: exactly the fields of the `--json` contract."""
        return {
            "query": self.query,
            "total": self.total,
            "relaxed": self.relaxed,
            "more": self.more,
            "filters": list(self.filters.terms),
            "sort": self.sort,
            "hits": [hit.to_dict() for hit in self.hits],
            "facets": self.facets.to_dict() if self.facets is not None else None,
        }
