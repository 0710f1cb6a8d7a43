"""Word (.docx): paragraphs and headings in document order, tables row by row, no field codes.

Read with python-docx. The body is walked in order, including content controls (a table of
contents is one), so that a table's text stands where the table does; each table row is one
paragraph, its cells separated by a space. Field codes (TOC, PAGEREF instructions) are not text
and are left out; what a field shows is kept. A Word file has no lines: a block's `line` is its
number among the document's paragraphs and table rows, from 1. Its date is its core properties'
`created` (else `modified`).
"""

from __future__ import annotations

import io
import zipfile

from search.ingest.readers.base import Block, Extracted, UnreadableDocument, join_lines
from search.ingest.readers.dates import iso_day

_HEADING_STYLES = ("heading", "title")


def read_docx(data: bytes) -> Extracted:
    """The blocks and title of a Word document."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise UnreadableDocument(f"it is not a Word document that can be read ({error})") from None
    blocks = [
        Block(text, number, heading=heading)
        for number, (text, heading) in enumerate(_texts(document.element.body, document), 1)
    ]
    title = (document.core_properties.title or "").strip() or next(
        (block.text for block in blocks if block.heading), None
    )
    return Extracted(title, blocks, date=_date(document.core_properties))


def _date(properties) -> str | None:
    """The day the core properties say the document was created (else last modified): python-docx
    reads their W3C times, written in UTC, as naive datetimes."""
    for moment in (properties.created, properties.modified):
        if moment is not None:
            stamp = moment.isoformat() + ("Z" if moment.tzinfo is None else "")
            day = iso_day(stamp)
            if day:
                return day
    return None


def _texts(container, document):
    """(text, is a heading) of each non-empty paragraph and table row under `container`."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for element in container.iterchildren():
        tag = element.tag.rpartition("}")[2]
        if tag == "p":
            paragraph = Paragraph(element, document)
            text = join_lines(paragraph.text.split("\n"))
            if text:
                yield text, _is_heading(paragraph)
        elif tag == "tbl":
            yield from _rows(Table(element, document), document)
        elif tag in ("sdt", "sdtContent", "customXml", "ins", "smartTag"):
            yield from _texts(element, document)


def _rows(table, document):
    for row in table.rows:
        cells = []
        for cell in _distinct_cells(row):
            cells += [text for text, _ in _texts(cell._tc, document)]
        if cells:
            yield " ".join(cells), False


def _distinct_cells(row):
    """The cells of a row, a merged cell once (python-docx repeats it for each grid column)."""
    seen = set()
    for cell in row.cells:
        if id(cell._tc) not in seen:
            seen.add(id(cell._tc))
            yield cell


def _is_heading(paragraph) -> bool:
    try:
        name = (paragraph.style.name or "").lower()
    except (KeyError, ValueError):
        return False
    return name.startswith(_HEADING_STYLES)
