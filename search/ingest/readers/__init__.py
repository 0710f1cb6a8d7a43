"""Readers: one module a document format, each turning a file's bytes into blocks of text.

| suffix | reader |
|---|---|
| .txt, .text | text: each non-blank line a paragraph |
| .md, .markdown | markdown: blocks between blank lines, headings |
| .html, .htm, .xhtml | html: block elements, `<title>`, ruby as base text |
| .pdf | pdf: paragraphs from the layout, page by page |
| .docx | docx: paragraphs, headings and table rows in order |
| .epub | epub: the spine's chapters in order |

A reader module is imported only when a file of its format is read.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # `kensaku search` lists documents by SUFFIXES without reading any
    from search.ingest.readers.base import Extracted

_READERS = {
    ".txt": ("text", "read_text"),
    ".text": ("text", "read_text"),
    ".md": ("markdown", "read_markdown"),
    ".markdown": ("markdown", "read_markdown"),
    ".html": ("html", "read_html"),
    ".htm": ("html", "read_html"),
    ".xhtml": ("html", "read_html"),
    ".pdf": ("pdf", "read_pdf"),
    ".docx": ("docx", "read_docx"),
    ".epub": ("epub", "read_epub"),
}
SUFFIXES = tuple(_READERS)


def format_of(name: str) -> str:
    """The reader module's name for a file name ("text", "pdf", ...); KeyError for others."""
    return _READERS[_suffix(name)][0]


def read(data: bytes, name: str) -> Extracted:
    """The blocks of a file named `name` holding `data`; raises UnreadableDocument."""
    module, function = _READERS[_suffix(name)]
    reader = getattr(importlib.import_module(f"{__name__}.{module}"), function)
    return reader(data)


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot >= 0 else ""
