"""Schema: the bounds of the tools' inputs and the models of their outputs.

Each tool publishes its output model's JSON schema and answers with an instance of it as its
structured content. Every place a paragraph stands is a `Citation`: its document (`source`, the
path in the documents folder), its page for a paged document (PDF), its line and its paragraph
number, with the same written out as an assistant cites it (`cite`) and the resource that holds it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

MAX_LIMIT = 50  # hits in one search answer
MAX_DEPTH = 1_000  # how far down the ranking paging reaches: offset + limit
DEFAULT_LIMIT = 10
MAX_CONTEXT = 10  # paragraphs of context on each side of what `read` returns
DEFAULT_CONTEXT = 1
MAX_DOCUMENTS = 200  # documents in one answer of `documents`
DEFAULT_DOCUMENTS = 50


class _Output(BaseModel):
    """An output with exactly these fields."""

    model_config = ConfigDict(extra="forbid")


class Citation(_Output):
    """Where a paragraph stands."""

    source: str = Field(description="the document's path in the documents folder")
    page: int | None = Field(description="the page, from 1, of a paged document (PDF); else null")
    line: int = Field(description="the line where the paragraph starts (on its page, for a PDF)")
    column: int = Field(description="where on its line the paragraph starts (1 but in long lines)")
    paragraph: int = Field(description="the paragraph's number in its document, from 1")
    cite: str = Field(description="the citation to give: `file:line`, or `file p.N` for a PDF")
    uri: str = Field(description="the resource holding the document's text")


class Hit(_Output):
    rank: int
    score: float
    title: str = Field(description="the document's title")
    section: str | None = Field(description="the heading the paragraph stands under, if any")
    citation: Citation
    text: str = Field(description="the whole paragraph")
    snippet: str = Field(description="the sentences around the matches")
    highlights: list[tuple[int, int]] = Field(
        description="[start, end) character offsets of the matches in text"
    )
    snippet_highlights: list[tuple[int, int]] = Field(
        description="[start, end) character offsets of the matches in snippet"
    )
    partial: bool = Field(description="true when the paragraph holds only some of the words")
    also: list[Citation] = Field(description="other places where the same text stands")


class SearchOutput(_Output):
    query: str
    source: str | None = Field(description="the source pattern the search was narrowed to")
    total: int = Field(description="how many paragraphs match, repeats included")
    offset: int
    limit: int
    more: bool = Field(description="whether more hits follow this page")
    next_offset: int | None = Field(description="the offset of the next page, when there is one")
    relaxed: bool = Field(
        description="true when no paragraph holds all the words, so hits hold some of them"
    )
    partial: bool = Field(description="true when some hits hold only some of the words")
    hits: list[Hit]


class QuotedParagraph(_Output):
    citation: Citation
    section: str | None
    text: str


class ReadOutput(_Output):
    source: str
    title: str
    citation: Citation = Field(
        description="the paragraph asked for, or the first paragraph of the page asked for"
    )
    text: str = Field(description="the paragraphs returned, in order, separated by blank lines")
    paragraphs: list[QuotedParagraph]
    document_paragraphs: int = Field(description="how many paragraphs the document has")
    document_pages: int | None = Field(description="how many pages a paged document has")


class Document(_Output):
    source: str = Field(description="the document's path in the documents folder")
    title: str
    format: str = Field(description="text, markdown, html, pdf, docx or epub")
    paragraphs: int
    pages: int | None = Field(description="how many pages a paged document (PDF) has; else null")
    size: int = Field(description="bytes, when it was indexed")
    modified: str = Field(description="its modification time when it was indexed (ISO 8601)")
    uri: str = Field(description="the resource holding its text")


class DocumentsOutput(_Output):
    source: str | None = Field(description="the source pattern the list was narrowed to")
    total: int = Field(description="how many documents the index holds (that match the pattern)")
    offset: int
    limit: int
    more: bool
    next_offset: int | None
    documents: list[Document]


class StatusOutput(_Output):
    documents: int
    paragraphs: int
    skipped: int = Field(description="files that could not be read")
    unread: dict[str, list[int]] = Field(
        description="documents indexed without some pages' text (scans, unmapped fonts): "
        "source -> the page numbers"
    )
    format: int = Field(description="the index's format version")
    built: str | None = Field(description="when the index was last built from scratch")
    updated: str | None = Field(description="when the index last changed")
    up_to_date: bool = Field(description="whether the index holds the documents as they are now")
    added: int = Field(description="documents added to the folder since the index was updated")
    changed: int = Field(description="documents changed since")
    removed: int = Field(description="documents removed since")
    updating: bool = Field(description="whether the server is updating the index now")
    refresh_seconds: float | None = Field(
        description="how often the server looks for changed documents (null: never)"
    )
    problem: str | None = Field(description="what is wrong with the index's files, if anything")
    docs: str = Field(description="the documents folder")
