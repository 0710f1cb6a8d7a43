"""Rendering: each answer as the short text a tool also returns, and a document's part as the text
its resource holds.

A client that shows a model only a tool's text (not its structured content) still gives it what it
needs: the citation of every hit, its snippet and where more follows; the paragraphs to quote, each
with its citation; the documents with their sources; how the index stands.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from search.mcp.library import DocumentPart, document_uri
from search.mcp.schema import DocumentsOutput, ReadOutput, SearchOutput, StatusOutput

if TYPE_CHECKING:
    from search.ingest.paragraphs import Paragraph


def counted(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def titled(title: str, source: str) -> str:
    """` · title`, or nothing for a title that only repeats the file name."""
    name = source.rpartition("/")[2]
    return "" if title in (name, name.rpartition(".")[0]) else f" · {title}"


def search_text(output: SearchOutput) -> str:
    return "\n".join(_search_lines(output))


def _search_lines(output: SearchOutput) -> Iterator[str]:
    yield _search_header(output)
    for hit in output.hits:
        partial = " (some of the words)" if hit.partial else ""
        yield ""
        title = titled(hit.title, hit.citation.source)
        yield f"{hit.rank}. {hit.citation.cite} ¶{hit.citation.paragraph}{title}{partial}"
        yield f"   {hit.snippet}"
        if hit.also:
            yield f"   also at {', '.join(place.cite for place in hit.also)}"
    if output.more:
        yield ""
        yield f"More hits follow: search again with offset {output.next_offset}."


def _search_header(output: SearchOutput) -> str:
    where = f" in {output.source}" if output.source else ""
    if not output.total:
        return f"No paragraph matches {output.query}{where}."
    if output.relaxed:
        lead = (
            f"No paragraph holds all of {output.query}{where}; "
            f"{counted(output.total, 'paragraph')} hold some of its words"
        )
    else:
        verb = "matches" if output.total == 1 else "match"
        lead = f"{counted(output.total, 'paragraph')} {verb} {output.query}{where}"
    if not output.hits:
        return f"{lead}; no hit after the first {output.offset}."
    first, last = output.offset + 1, output.offset + len(output.hits)
    shown = f"hit {first}" if first == last else f"hits {first}–{last}"
    partial = (
        "; those marked (some of the words) hold only some of them"
        if output.partial and not output.relaxed
        else ""
    )
    return f"{lead}: {shown}{partial}."


def read_text(output: ReadOutput) -> str:
    first, last = output.paragraphs[0].citation, output.paragraphs[-1].citation
    pages = f", {counted(output.document_pages, 'page')}" if output.document_pages else ""
    lines = [
        f"{output.source}{titled(output.title, output.source)}: ¶{first.paragraph}–"
        f"¶{last.paragraph} of {counted(output.document_paragraphs, 'paragraph')}{pages}. "
        "Cite each paragraph as given before it."
    ]
    for paragraph in output.paragraphs:
        lines += ["", f"[{paragraph.citation.cite}, ¶{paragraph.citation.paragraph}]"]
        lines.append(paragraph.text)
    return "\n".join(lines)


def documents_text(output: DocumentsOutput) -> str:
    where = f" matching {output.source}" if output.source else ""
    if not output.documents:
        if output.total:
            return f"No document{where} after the first {output.offset}."
        return f"The index holds no document{where}."
    first, last = output.offset + 1, output.offset + len(output.documents)
    lines = [f"{counted(output.total, 'document')}{where}; {first}–{last}:"]
    for document in output.documents:
        pages = f", {counted(document.pages, 'page')}" if document.pages else ""
        lines.append(
            f"{document.source} · {document.format}{pages}, "
            f"{counted(document.paragraphs, 'paragraph')}{titled(document.title, document.source)}"
        )
    if output.more:
        lines.append(f"More follow: list again with offset {output.next_offset}.")
    return "\n".join(lines)


def status_text(output: StatusOutput) -> str:
    held = (
        f"The index holds {counted(output.documents, 'document')}, "
        f"{counted(output.paragraphs, 'paragraph')}, of {output.docs}"
        + (f" ({output.skipped} could not be read)" if output.skipped else "")
        + (f"; updated {output.updated}" if output.updated else "")
        + "."
    )
    return " ".join(part for part in (held, _unread(output), _state(output)) if part)


def _unread(output: StatusOutput) -> str:
    if not output.unread:
        return ""
    listed = "; ".join(
        f"{source} p. {', '.join(map(str, pages))}" if pages else source
        for source, pages in output.unread.items()
    )
    return f"Text that could not be read (scans, unmapped fonts) was left out of: {listed}."


def _state(output: StatusOutput) -> str:
    if output.problem:
        return f"It is damaged ({output.problem}): `kensaku index --rebuild` repairs it."
    if output.updating:
        return "The server is updating it now; searches answer from it as it was until then."
    if output.up_to_date:
        return "It is up to date."
    changes = ", ".join(
        f"{number} {label}"
        for number, label in (
            (output.added, "added"),
            (output.changed, "changed"),
            (output.removed, "removed"),
        )
        if number
    )
    when = (
        f"the server updates it within {output.refresh_seconds:g} s"
        if output.refresh_seconds
        else "`kensaku index` updates it"
    )
    return f"Documents changed since ({changes or 'the folder is gone'}): {when}."


def part_text(part: DocumentPart) -> str:
    """The text of a document's part: a header saying which part and where the next is, then
    each paragraph after a tag naming its number and its line (or page)."""
    first, last = part.paragraphs[0].paragraph, part.paragraphs[-1].paragraph
    follows = (
        f"; the next part is {document_uri(part.source, part.part + 1)}"
        if part.part < part.parts
        else ""
    )
    paged = any(paragraph.page is not None for paragraph in part.paragraphs)
    how = f"{part.source} p.PAGE" if paged else f"{part.source}:LINE"
    lines = [
        f"# {part.title}",
        f"{part.source}, part {part.part} of {part.parts}: ¶{first}–¶{last}{follows}. "
        f"Cite a paragraph as {how}.",
    ]
    for paragraph in part.paragraphs:
        lines += ["", f"[¶{paragraph.paragraph} {_place(paragraph)}]", paragraph.text]
    return "\n".join(lines)


def _place(paragraph: Paragraph) -> str:
    if paragraph.page is not None:
        return f"p.{paragraph.page}"
    return f"line {paragraph.line}" + (f":{paragraph.column}" if paragraph.column > 1 else "")
