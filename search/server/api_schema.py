"""API schema: the bodies of the JSON API's responses, for its OpenAPI description.

The routes build their bodies as dicts (a search's is `SearchResults.to_dict()`, the `--json`
contract, whose fields search.results.hits writes once as TypedDicts: the search bodies are made
from those); these models describe them, and the tests check real responses against them.
"""

from __future__ import annotations

from typing import Annotated, Any, get_args, get_origin, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model

from search.results.facets import FacetsJSON, FacetValueJSON
from search.results.hits import HitJSON, PlaceJSON, ResultsJSON


class _Body(BaseModel):
    """A body with exactly these fields: a test fails when a response gains one undescribed."""

    model_config = ConfigDict(extra="forbid")


def _body_of(contract: type, name: str, **fields: Any) -> type[_Body]:
    """The model of a JSON contract written as a TypedDict (search.results.hits), its nested
    contracts replaced by their models (`fields`), and any fields the API adds; each field
    described as the contract describes it (`Annotated[kind, "description"]`)."""
    hints: dict[str, Any] = {}
    for key, hint in get_type_hints(contract, include_extras=True).items():
        kind, description = _described(hint)
        hints[key] = (fields.pop(key, kind), Field(..., description=description))
    for key, hint in fields.items():
        kind, description = _described(hint)
        hints[key] = (kind, Field(..., description=description))
    return create_model(name, __base__=_Body, __doc__=contract.__doc__, **hints)


def _described(hint: Any) -> tuple[Any, str | None]:
    """A contract field's type and its description, if it has one."""
    if get_origin(hint) is Annotated:
        kind, *notes = get_args(hint)
        return kind, next((note for note in notes if isinstance(note, str)), None)
    return hint, None


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
    offset=Annotated[int, "The hits skipped before this page (the offset asked for)."],
    limit=Annotated[int, "The most hits a page holds (the limit asked for)."],
)


class ParagraphBody(_Body):
    """A paragraph of a document, where it stands and its text."""

    paragraph: int = Field(description="The paragraph's number in its document (1-based).")
    line: int = Field(description="The line it starts on (1-based; a PDF's: on its page).")
    page: int | None = Field(None, description="The PDF page (1-based); null for other formats.")
    text: str = Field(description="The paragraph as extracted.")


class DocumentBody(_Body):
    """A document's paragraphs, as the index holds them."""

    source: str = Field(description="The document's path relative to the documents folder.")
    title: str = Field(description="Its title, else its file name without the extension.")
    paragraphs: list[ParagraphBody] = Field(description="The paragraphs asked for, in order.")


class DocumentSummary(_Body):
    """A document the index holds: its path in the documents folder, how many paragraphs it
    gave, its title, and its size (bytes) and modification time (ISO 8601) when indexed."""

    source: str = Field(description="The path relative to the documents folder.")
    paragraphs: int = Field(description="How many paragraphs the index holds of it.")
    title: str = Field(description="Its title, else its file name without the extension.")
    size: int = Field(description="Its size in bytes when indexed.")
    modified: str = Field(description="Its modification time when indexed (ISO 8601).")


class DocumentsBody(_Body):
    """A page of the documents the index holds, by path."""

    total: int = Field(description="How many documents the index holds.")
    offset: int = Field(description="The documents skipped before this page.")
    limit: int = Field(description="The most documents a page holds.")
    documents: list[DocumentSummary] = Field(description="This page's documents.")


class StatusBody(_Body):
    """The index being served."""

    documents: int = Field(description="How many documents it holds.")
    paragraphs: int = Field(description="How many paragraphs it holds.")
    built: str = Field(description="When it was built (local time, ISO 8601).")
    format: int = Field(description="The version of its file format.")
    updating: bool = Field(description="True while the server is updating it.")


class SuggestionBody(_Body):
    """A completion of what was typed: a word or phrase as the documents write it, its reading
    (katakana, where known) and how many paragraphs hold it."""

    text: str = Field(description="The word or phrase as the documents write it.")
    reading: str | None = Field(description="Its reading in katakana; null where not known.")
    paragraphs: int = Field(description="How many paragraphs hold it.")


class SuggestBody(_Body):
    """Completions of what was typed, the most frequent first."""

    query: str = Field(description="What was typed.")
    suggestions: list[SuggestionBody] = Field(description="The completions.")


class ErrorBody(_Body):
    """What was wrong, in one line."""

    error: str = Field(description="The message, as the command line gives it.")
