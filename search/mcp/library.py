"""Library: what the MCP tools and resources ask of the live index, answered as schema's models.

Searches (narrowed to a source pattern if asked), the paragraphs to quote around a paragraph or a
page, the documents the index holds, the index's state, and a document's text in parts. Each use
holds the live generation of the index (service.live), so answers follow the index as the
refresher updates it. Bad input raises `BadInput` with a one-line message; a source the index does
not hold is `UnknownDocument`. Nothing is read from the documents folder but its listing, which
`status` compares with the index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from search.errors import KensakuError
from search.ingest.readers import format_of
from search.mcp.schema import (
    MAX_DEPTH,
    Citation,
    Document,
    DocumentsOutput,
    Hit,
    QuotedParagraph,
    ReadOutput,
    SearchOutput,
    StatusOutput,
)
from search.query.filters import Filters, starts_with
from search.results.hits import Hit as FoundHit
from search.results.hits import Place
from search.service.live import LiveIndex
from search.service.refresh import Refresher
from search.service.status import IndexedDocument, index_status, indexed_documents

if TYPE_CHECKING:
    from search.ingest.paragraphs import Paragraph

URI_PREFIX = "kensaku://documents/"
URI_TEMPLATE = URI_PREFIX + "{+source}{?part}"
PART_CHARS = 20_000  # text in one part of a document read as a resource


class BadInput(KensakuError):
    """An argument out of bounds, or arguments that do not go together."""

    exit_code = 2


class UnknownDocument(BadInput):
    """A source the index does not hold."""


@dataclass(frozen=True)
class DocumentPart:
    """Part `part` (from 1) of `parts` of a document read as a resource: whole paragraphs."""

    source: str
    title: str
    part: int
    parts: int
    paragraphs: Sequence[Paragraph]


def document_uri(source: str, part: int = 1) -> str:
    """The resource of the document `source` (of its part `part`)."""
    return URI_PREFIX + quote(source, safe="/") + (f"?part={part}" if part > 1 else "")


def cite(source: str, line: int, page: int | None, column: int = 1) -> str:
    """`file:line` (`file:line:column` inside a long line), or `file p.N` for a paged document."""
    if page is not None:
        return f"{source} p.{page}"
    return f"{source}:{line}" + (f":{column}" if column > 1 else "")


def citation(place: FoundHit | Place | Paragraph) -> Citation:
    """The citation of a hit, a Place or a Paragraph."""
    column = getattr(place, "column", 1)
    return Citation(
        source=place.source,
        page=place.page,
        line=place.line,
        column=column,
        paragraph=place.paragraph,
        cite=cite(place.source, place.line, place.page, column),
        uri=document_uri(place.source),
    )


class Library:
    """The live index in `live`, kept up to date by `refresher` (None: not refreshed), searched
    in `default_mode` unless a search says otherwise."""

    def __init__(
        self, live: LiveIndex, refresher: Refresher | None, default_mode: str = "auto"
    ) -> None:
        self.live = live
        self.refresher = refresher
        self.default_mode = default_mode

    def search(
        self,
        query: str,
        limit: int,
        offset: int = 0,
        mode: str | None = None,
        source: str | None = None,
    ) -> SearchOutput:
        """The hits ranked offset + 1 to offset + limit, narrowed to documents whose source
        starts with (or, with * and ?, matches) `source`."""
        if offset + limit > MAX_DEPTH:
            raise BadInput(
                f"only the best {MAX_DEPTH:,} hits can be paged through: "
                f"offset + limit must be at most {MAX_DEPTH:,}"
            )
        mode = mode or self.default_mode
        with self.live.searcher() as searcher:
            results = searcher.search(query, limit, mode, offset, _kept_to(source))
            hits = [_hit(hit) for hit in results.hits]
        return SearchOutput(
            query=query,
            source=source,
            total=results.total,
            offset=offset,
            limit=limit,
            more=results.more,
            next_offset=offset + len(hits) if results.more else None,
            relaxed=results.relaxed,
            partial=any(hit.partial for hit in hits),
            hits=hits,
        )

    def read(
        self, source: str, paragraph: int | None, page: int | None, context: int
    ) -> ReadOutput:
        """Paragraph `paragraph` of `source`, or the paragraphs on its page `page`, with
        `context` paragraphs before and after."""
        if (paragraph is None) == (page is None):
            raise BadInput(
                "give either a paragraph (the number a hit cites) or a page (of a PDF), not "
                + ("both" if paragraph is not None else "neither")
            )
        paragraphs = self._paragraphs(source)
        pages = _pages(paragraphs)
        if paragraph is not None:
            first = last = _paragraph_at(paragraphs, paragraph, source)
        elif page is not None:
            first, last = _page_span(paragraphs, page, pages, source)
        chosen = paragraphs[max(first - context, 0) : last + context + 1]
        return ReadOutput(
            source=source,
            title=paragraphs[0].title,
            citation=citation(paragraphs[first]),
            text="\n\n".join(p.text for p in chosen),
            paragraphs=[
                QuotedParagraph(citation=citation(p), section=p.section, text=p.text)
                for p in chosen
            ],
            document_paragraphs=len(paragraphs),
            document_pages=pages,
        )

    def documents(self, offset: int, limit: int, source: str | None = None) -> DocumentsOutput:
        """The documents the index holds, by source, `limit` of them after the first `offset`;
        only those whose source starts with (or matches) `source` when given."""
        listed = indexed_documents(self.live.index_dir)
        if source is not None:
            listed = [document for document in listed if starts_with(document.source, source)]
        shown = listed[offset : offset + limit]
        more = offset + limit < len(listed)
        return DocumentsOutput(
            source=source,
            total=len(listed),
            offset=offset,
            limit=limit,
            more=more,
            next_offset=offset + limit if more else None,
            documents=[self._document(document) for document in shown],
        )

    def status(self) -> StatusOutput:
        """How the index stands: what it holds, whether it holds the documents as they are."""
        status = index_status(self.live.index_dir)
        return StatusOutput(
            documents=status.documents,
            paragraphs=status.paragraphs,
            skipped=len(status.skipped),
            unread=status.unread,
            format=status.format,
            built=status.built.isoformat() if status.built else None,
            updated=status.updated.isoformat() if status.updated else None,
            up_to_date=status.up_to_date,
            added=len(status.added),
            changed=len(status.changed),
            removed=len(status.removed),
            updating=bool(self.refresher and self.refresher.updating),
            refresh_seconds=self.refresher.interval if self.refresher else None,
            problem=status.problem,
            docs=str(status.docs_dir),
        )

    def part(self, source: str, part: int) -> DocumentPart:
        """Part `part` of the document `source`: whole paragraphs of about PART_CHARS."""
        paragraphs = self._paragraphs(source)
        parts = _parts(paragraphs)
        if not 1 <= part <= len(parts):
            raise BadInput(
                f"{source} has {len(parts)} part{'s' if len(parts) > 1 else ''}: "
                f"part must be 1 to {len(parts)}, not {part}"
            )
        return DocumentPart(source, paragraphs[0].title, part, len(parts), parts[part - 1])

    def sources(self) -> list[tuple[str, str, int]]:
        """(source, title, paragraphs) of every document the index holds, by source."""
        return [
            (document.source, document.title, document.paragraphs)
            for document in indexed_documents(self.live.index_dir)
            if document.paragraphs
        ]

    def _paragraphs(self, source: str) -> list[Paragraph]:
        with self.live.searcher() as searcher:
            paragraphs = searcher.document(source)
        if not paragraphs:
            raise UnknownDocument(
                f"no document {source!r} in the index: give a source as a hit cites it, "
                "or as the documents tool lists it"
            )
        return paragraphs

    def _document(self, document: IndexedDocument) -> Document:
        kind = _format(document.source)
        return Document(
            source=document.source,
            title=document.title,
            format=kind,
            paragraphs=document.paragraphs,
            pages=_pages(self._paragraphs(document.source))
            if kind == "pdf" and document.paragraphs
            else None,
            size=document.size,
            modified=document.modified.isoformat(),
            uri=document_uri(document.source),
        )


def _hit(hit: FoundHit) -> Hit:
    return Hit(
        rank=hit.rank,
        score=round(hit.score, 4),
        title=hit.title,
        section=hit.section,
        citation=citation(hit),
        text=hit.text,
        snippet=hit.snippet,
        highlights=hit.highlights,
        snippet_highlights=hit.snippet_highlights,
        partial=hit.partial,
        also=[citation(place) for place in hit.also],
    )


def _kept_to(source: str | None) -> Filters | None:
    """The narrowing to documents whose source starts with (or matches) `source`, if given."""
    if source is None:
        return None
    if not source:
        raise BadInput("source must be a path or a pattern, not empty")
    return Filters(starts=(source,))


def _format(source: str) -> str:
    try:
        return format_of(source)
    except KeyError:
        return "unknown"


def _pages(paragraphs: Sequence[Paragraph]) -> int | None:
    pages = [p.page for p in paragraphs if p.page is not None]
    return max(pages) if pages else None


def _paragraph_at(paragraphs: Sequence[Paragraph], number: int, source: str) -> int:
    """The index in `paragraphs` of paragraph `number`."""
    for at, paragraph in enumerate(paragraphs):
        if paragraph.paragraph == number:
            return at
    raise BadInput(
        f"{source} has paragraphs {paragraphs[0].paragraph} to {paragraphs[-1].paragraph}, "
        f"not {number}"
    )


def _page_span(
    paragraphs: Sequence[Paragraph], page: int, pages: int | None, source: str
) -> tuple[int, int]:
    """The indexes in `paragraphs` of the first and the last paragraph on `page`."""
    if pages is None:
        raise BadInput(f"{source} has no pages (only PDFs have): give a paragraph instead")
    on_page = [at for at, paragraph in enumerate(paragraphs) if paragraph.page == page]
    if not on_page:
        raise BadInput(f"{source} has no text on page {page} (its pages are 1 to {pages})")
    return on_page[0], on_page[-1]


def _parts(paragraphs: Sequence[Paragraph]) -> list[list[Paragraph]]:
    """The paragraphs cut into parts of whole paragraphs, each of about PART_CHARS at most."""
    parts: list[list[Paragraph]] = [[]]
    size = 0
    for paragraph in paragraphs:
        if parts[-1] and size + len(paragraph.text) > PART_CHARS:
            parts.append([])
            size = 0
        parts[-1].append(paragraph)
        size += len(paragraph.text)
    return parts
