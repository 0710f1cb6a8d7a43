"""Documents: find the text files of a collection and cut them into paragraphs.

Every `.txt` file under the documents directory is a document; each non-blank line is one paragraph.
A paragraph keeps its source (the path relative to the documents directory, with `/`), the document's
title (its first non-blank line), its 1-based paragraph number and line number, and its text as it
stands in the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .errors import DocumentsNotFound

DOCUMENT_SUFFIX = ".txt"


@dataclass(frozen=True)
class Paragraph:
    source: str
    title: str
    paragraph: int
    line: int
    text: str


@dataclass(frozen=True)
class DocumentFile:
    path: Path
    source: str
    size: int
    mtime_ns: int

    @property
    def stamp(self) -> list[int]:
        """What changes when the file changes: size and modification time."""
        return [self.size, self.mtime_ns]


class UnreadableDocument(Exception):
    """A document that cannot be read or decoded; indexing skips it with a warning."""


def find_documents(docs_dir: Path) -> list[DocumentFile]:
    """Every `.txt` file under `docs_dir`, sorted by source path."""
    docs_dir = Path(docs_dir)
    if not docs_dir.is_dir():
        raise DocumentsNotFound(f"documents directory not found: {docs_dir}")
    documents = []
    for folder, subfolders, files in os.walk(docs_dir):
        subfolders.sort()
        for name in files:
            if name.endswith(DOCUMENT_SUFFIX) and not name.startswith("."):
                path = Path(folder, name)
                documents.append(_document_file(path, docs_dir))
    return sorted((d for d in documents if d is not None), key=lambda d: d.source)


def _document_file(path: Path, docs_dir: Path) -> DocumentFile | None:
    try:
        status = path.stat()
    except OSError:
        return None
    source = path.relative_to(docs_dir).as_posix()
    return DocumentFile(path, source, status.st_size, status.st_mtime_ns)


def read_paragraphs(document: DocumentFile) -> Iterator[Paragraph]:
    """The paragraphs of one document, in file order."""
    text = _read_text(document.path)
    title = ""
    number = 0
    for line_number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        number += 1
        if not title:
            title = line.strip()
        yield Paragraph(document.source, title, number, line_number, line)


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UnreadableDocument(f"cannot read {path}: {error.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableDocument(f"{path} is not UTF-8 text") from None
