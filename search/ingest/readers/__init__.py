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

import functools
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


# The formats whose readers record the libraries they read with (Extracted.extractors).
_RECORDING = frozenset({"pdf"})


def outdated(name: str, extractors: dict[str, str] | None) -> bool:
    """Whether the file `name`, read with these libraries (name: version, as Extracted.extractors
    records them; None when none were recorded), would be read with another version of one of
    them now: also when its reader records them and none were (a kensaku before the record)."""
    if extractors is None:
        return _suffix(name) in _READERS and format_of(name) in _RECORDING
    return any(_installed(library) != version for library, version in extractors.items())


@functools.cache
def _installed(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot >= 0 else ""
