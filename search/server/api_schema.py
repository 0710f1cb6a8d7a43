"""API schema: the bodies of the JSON API's responses, for its OpenAPI description.

The routes build their bodies as dicts (a search's is `SearchResults.to_dict()`, the `--json`
contract); these models describe them, and the tests check real responses against them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Body(BaseModel):
    """A body with exactly these fields: a test fails when a response gains one undescribed."""

    model_config = ConfigDict(extra="forbid")


class PlaceBody(_Body):
    source: str
    line: int
    paragraph: int
    page: int | None = None


class HitBody(_Body):
    rank: int
    score: float
    source: str
    title: str
    paragraph: int
    line: int
    page: int | None = None
    # Where a cut line's paragraph starts, and the heading it stands under.
    column: int
    section: str | None = None
    # True for a hit holding only some of the query's words (soft AND).
    partial: bool
    text: str
    snippet: str
    highlights: list[tuple[int, int]]
    snippet_highlights: list[tuple[int, int]]
    also: list[PlaceBody]


class SearchBody(_Body):
    query: str
    total: int
    # True when no paragraph held the whole keyword query, so those holding some of it were shown.
    relaxed: bool
    # True when more hits follow this page.
    more: bool
    hits: list[HitBody]
    offset: int
    limit: int


class ParagraphBody(_Body):
    paragraph: int
    line: int
    page: int | None = None
    text: str


class DocumentBody(_Body):
    source: str
    title: str
    paragraphs: list[ParagraphBody]


class StatusBody(_Body):
    documents: int
    paragraphs: int
    built: str
    format: int
    updating: bool


class ErrorBody(_Body):
    error: str
