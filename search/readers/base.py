"""What every format reader returns: a document's own title and its text blocks with citations.

A reader turns the bytes of one file into an `Extracted`: the title the document gives itself (or
None) and its blocks in reading order, each one paragraph of text with the line where it starts
and, for paged formats, its page. Readers know nothing of the index; `documents.py` numbers the
blocks, chooses the title and cuts over-long text.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class UnreadableDocument(Exception):
    """A document that cannot be read or holds no text; indexing skips it with a warning that
    gives this exception's message as the reason."""


@dataclass(frozen=True)
class Block:
    """One paragraph of a document as the reader found it.

    `line` is 1-based: the line of the source file where the block starts, or for a paged format
    the line on its page. `page` is 1-based for paged formats (PDF), else None. `heading` marks a
    heading (of a section, a chapter): a title candidate that is still indexed as a paragraph.
    """

    text: str
    line: int
    page: int | None = None
    heading: bool = False


@dataclass
class Extracted:
    """A document's blocks in reading order, the title it gives itself (metadata, <title>, first
    heading; None when it has none) and warnings to report (a few bad bytes replaced, ...)."""

    title: str | None
    blocks: list[Block]
    warnings: list[str] = field(default_factory=list)
