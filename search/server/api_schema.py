"""API schema: the bodies of the JSON API's responses, for its OpenAPI description.

The routes build their bodies as dicts (a search's is `SearchResults.to_dict()`, the `--json`
contract, whose fields search.results.hits writes once as TypedDicts: the search bodies are made
from those); these models describe them, and the tests check real responses against them.
"""

from __future__ import annotations

from typing import Any, get_type_hints

from pydantic import BaseModel, ConfigDict, create_model

from search.results.facets import FacetsJSON, FacetValueJSON
from search.results.hits import HitJSON, PlaceJSON, ResultsJSON


class _Body(BaseModel):
    """A body with exactly these fields: a test fails when a response gains one undescribed."""

    model_config = ConfigDict(extra="forbid")


def _body_of(contract: type, name: str, **fields: Any) -> type[_Body]:
    """The model of a JSON contract written as a TypedDict (search.results.hits), its nested
    contracts replaced by their models (`fields`), and any fields the API adds."""
    hints: dict[str, Any] = {key: (kind, ...) for key, kind in get_type_hints(contract).items()}
    hints.update({key: (kind, ...) for key, kind in fields.items()})
    return create_model(name, __base__=_Body, __doc__=contract.__doc__, **hints)


PlaceBody = _body_of(PlaceJSON, "PlaceBody")
HitBody = _body_of(HitJSON, "HitBody", also=list[PlaceBody])  # type: ignore[valid-type]
FacetValueBody = _body_of(FacetValueJSON, "FacetValueBody")
FacetsBody = _body_of(
    FacetsJSON,
    "FacetsBody",
    format=list[FacetValueBody],  # type: ignore[valid-type]
    folder=list[FacetValueBody],  # type: ignore[valid-type]
    year=list[FacetValueBody],  # type: ignore[valid-type]
)
SearchBody = _body_of(
    ResultsJSON,
    "SearchBody",
    hits=list[HitBody],  # type: ignore[valid-type]
    facets=FacetsBody | None,
    # The page asked for.
    offset=int,
    limit=int,
)


class ParagraphBody(_Body):
    paragraph: int
    line: int
    page: int | None = None
    text: str


class DocumentBody(_Body):
    source: str
    title: str
    paragraphs: list[ParagraphBody]


class DocumentSummary(_Body):
    """A document the index holds: its path in the documents folder, how many paragraphs it
    gave, its title, and its size (bytes) and modification time (ISO 8601) when indexed."""

    source: str
    paragraphs: int
    title: str
    size: int
    modified: str


class DocumentsBody(_Body):
    total: int
    offset: int
    limit: int
    documents: list[DocumentSummary]


class StatusBody(_Body):
    documents: int
    paragraphs: int
    built: str
    format: int
    updating: bool


class SuggestionBody(_Body):
    """A completion of what was typed: a word or phrase as the documents write it, its reading
    (katakana, where known) and how many paragraphs hold it."""

    text: str
    reading: str | None
    paragraphs: int


class SuggestBody(_Body):
    query: str
    suggestions: list[SuggestionBody]


class ErrorBody(_Body):
    error: str
