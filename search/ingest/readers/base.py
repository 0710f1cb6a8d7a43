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

    # The digest of the bytes that could not be made into text (documents.read_document sets
    # it), so that an update does not try the same bytes again; None when none could be read.
    digest: str | None = None


@dataclass(frozen=True)
class Block:
    """One paragraph of a document as the reader found it.

    `line` is 1-based: the line of the source file where the block starts, or for a paged format
    the line on its page. `page` is 1-based for paged formats (PDF), else None. `heading` marks a
    heading (of a section, a chapter): a title candidate that is still indexed as a paragraph.
    `section` names the part of the document the block is in, where the reader knows it better
    than the headings before it tell (an EPUB's chapter); None otherwise.
    """

    text: str
    line: int
    page: int | None = None
    heading: bool = False
    section: str | None = None


@dataclass
class Extracted:
    """A document's blocks in reading order, the title it gives itself (metadata, <title>, first
    heading; None when it has none), warnings to report (a few bad bytes replaced, ...) and the
    date it gives itself (YYYY-MM-DD, see readers.dates; None when it has none).

    `unread_pages` are the pages (of a paged format) holding text that could not be read and was
    left out, which a warning names; `extractors` the libraries the text was read with that
    another version of might read the same bytes differently (name: version)."""

    title: str | None
    blocks: list[Block]
    warnings: list[str] = field(default_factory=list)
    unread_pages: list[int] = field(default_factory=list)
    extractors: dict[str, str] = field(default_factory=dict)
    date: str | None = None


def page_list(numbers: list[int]) -> str:
    """Page numbers as a reader writes them: "page 3", "pages 1, 4–6"."""
    runs: list[list[int]] = []
    for number in numbers:
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    text = ", ".join(str(run[0]) if len(run) == 1 else f"{run[0]}–{run[-1]}" for run in runs)
    return ("page " if len(numbers) == 1 else "pages ") + text


# Scripts written without spaces between words: a line break between two of their characters
# joins them directly.
_UNSPACED = (
    "\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
    "\u2e80-\u2fdf\u31f0-\u31ff\ufe10-\ufe1f\ufe30-\ufe4f"
)


def _is_unspaced(char: str) -> bool:
    return any(low <= char <= high for low, high in zip(_UNSPACED[::3], _UNSPACED[2::3]))


def join_lines(lines: list[str]) -> str:
    """The lines of one paragraph as one line: a break between two Japanese characters (or
    between Japanese and Latin) disappears, a break between two Latin words becomes a space."""
    text = ""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if text and not (_is_unspaced(text[-1]) or _is_unspaced(line[0])):
            text += " "
        text += line
    return text
