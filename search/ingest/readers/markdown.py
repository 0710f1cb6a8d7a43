"""Markdown: paragraphs are blocks between blank lines; headings give the title and the sections.

Parsed as CommonMark with tables (markdown-it-py), so that what is markup (`**`, `#`, `|`, link
targets, HTML comments) is never indexed while the text it marks is. A list item, a table row and
each line of a code block are paragraphs of their own; YAML front matter is left out, except its
`title`. Each block is cited by the source line where it starts.
"""

from __future__ import annotations

import re

from search.ingest.readers.base import Block, Extracted, join_lines
from search.ingest.readers.decoding import decode
from search.ingest.readers.html import read_html_text

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*$", re.DOTALL | re.MULTILINE)
_FRONT_MATTER_TITLE = re.compile(r"^title:[ \t]*[\"']?(.*?)[\"']?[ \t]*$", re.MULTILINE)


def read_markdown(data: bytes) -> Extracted:
    """The blocks and title of a Markdown document."""
    from markdown_it import MarkdownIt

    decoded = decode(data)
    text = decoded.text
    front_title, skipped_lines, text = _front_matter(text)
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    blocks = list(_blocks(tokens, skipped_lines))
    title = front_title or next((block.text for block in blocks if block.heading), None)
    return Extracted(title, blocks, [warning for warning in [decoded.warning()] if warning])


def _front_matter(text: str) -> tuple[str | None, int, str]:
    """(its title, how many lines it takes, the text after it) of YAML front matter."""
    found = _FRONT_MATTER.match(text)
    if not found:
        return None, 0, text
    title = _FRONT_MATTER_TITLE.search(found.group(1))
    lines = found.group(0).count("\n")
    return (title.group(1) if title else None), lines, text[found.end() :]


def _blocks(tokens, line_offset: int):
    """Blocks from the token stream: the inline text of paragraphs and headings, table rows,
    and the lines of code blocks."""
    heading = False
    row: list[str] | None = None  # the cells of the table row being read
    row_line = 0
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            heading = token.type == "heading_open"
        elif token.type == "tr_open":
            row, row_line = [], (token.map[0] if token.map else 0) + 1 + line_offset
        elif token.type == "tr_close":
            text = " ".join(cell for cell in row or () if cell)
            if text:
                yield Block(text, row_line)
            row = None
        elif token.type == "inline" and row is not None:
            row.append(_inline_text(token))
        elif token.type == "inline":
            text = _inline_text(token)
            if text:
                yield Block(text, token.map[0] + 1 + line_offset, heading=heading)
        elif token.type in ("fence", "code_block"):
            first = token.map[0] + 1 + line_offset + (token.type == "fence")
            for number, line in enumerate(token.content.split("\n")):
                if line.strip():
                    yield Block(line.strip(), first + number)
        elif token.type == "html_block":
            first = token.map[0] + line_offset
            for block in read_html_text(token.content).blocks:
                yield Block(block.text, first + block.line, heading=block.heading)


def _inline_text(token) -> str:
    """The text an inline token shows: markup, link targets and HTML left out."""
    lines, current = [], []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            current.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            lines.append("".join(current))
            current = []
        elif child.type == "image":
            current.append(child.content)
    lines.append("".join(current))
    return join_lines(lines)
