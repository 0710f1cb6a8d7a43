"""Documents: read one document file into the paragraphs the index stores, each with its citation.

The file's format reader (see readers) gives its blocks; this module numbers them, gives each
the document's title and the section it stands in, and cuts a block longer than
MAX_PARAGRAPH_CHARS at sentence ends, so that one giant line (a text file without line breaks)
becomes paragraphs of a readable size, each cited by its line and the column where it starts.

A document's title is the one it gives itself (PDF metadata, `<title>`, the first heading of HTML,
Markdown or Word), else its first paragraph when that reads as a title (short, no sentence end),
else its file name without the extension. Documents are only ever read.

A document's date is the one it gives itself (see readers.dates), else the day its file was last
modified, in local time.

A document's digest (`content_digest`, SHA-256 of its bytes) is taken of the very bytes read,
so that an index can tell a file given a new modification time but the same contents from one
that changed (see index.changes).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from search.ingest.discovery import DocumentFile
from search.ingest.readers import format_of, read
from search.ingest.readers.base import Block, UnreadableDocument
from search.ingest.readers.dates import local_day
from search.text.sentences import SENTENCE_END

# A paragraph longer than this is cut at its last sentence end before it (or, with none in its
# second half, at the last space or comma, or else right there).
MAX_PARAGRAPH_CHARS = 4000
# A first paragraph longer than this is not read as the document's title.
MAX_TITLE_CHARS = 80
# Indexing a paragraph takes about as long as this many bytes of its text more (measured on
# aozora: ~60 µs a paragraph, ~1 µs a byte), which a text file's lines count.
LINE_WORK = 60
_TITLE_ENDS = ("。", "．", "｡")
_SOFT_BREAKS = " 　、，,"

__all__ = [
    "Paragraph",
    "ReadDocument",
    "UnreadableDocument",
    "content_digest",
    "file_digest",
    "indexing_work",
    "read_bytes",
    "read_document",
    "read_paragraphs",
    "reads_as_title",
]


@dataclass(frozen=True)
class Paragraph:
    """One paragraph and its citation: `line` where it starts (in its file, or on its `page` for
    paged formats), `column` (1 unless a long line was cut), its number in the document and the
    `section` (the heading, or chapter) it stands under; and its document's `date` (YYYY-MM-DD)."""

    source: str
    title: str
    paragraph: int
    line: int
    text: str
    page: int | None = None
    column: int = 1
    section: str | None = None
    date: str | None = None


@dataclass
class ReadDocument:
    paragraphs: list[Paragraph]
    warnings: list[str]
    digest: str  # content_digest of the bytes the paragraphs were read from
    # The pages holding text that could not be read (see readers.base.Extracted), and the
    # libraries the text was read with (name: version).
    unread_pages: list[int] = field(default_factory=list)
    extractors: dict[str, str] = field(default_factory=dict)


def read_document(document: DocumentFile) -> ReadDocument:
    """The paragraphs of one document in reading order, what to warn of (bytes replaced) and the
    digest of its bytes; raises UnreadableDocument, whose `digest` is that of the bytes when they
    could be read."""
    data = read_bytes(document.path)
    digest = content_digest(data)
    try:
        extracted = read(data, document.source)
    except UnreadableDocument as problem:
        problem.digest = digest
        raise
    blocks = extracted.blocks
    title = extracted.title or title_of(blocks, document.source)
    date = extracted.date or local_day(document.mtime_ns / 1e9)
    paragraphs = list(_paragraphs(document.source, title, blocks, date))
    return ReadDocument(
        paragraphs, extracted.warnings, digest, extracted.unread_pages, extracted.extractors
    )


def read_paragraphs(document: DocumentFile) -> Iterator[Paragraph]:
    """The paragraphs of one document, in reading order; raises UnreadableDocument."""
    return iter(read_document(document).paragraphs)


def title_of(blocks: list[Block], source: str) -> str:
    """The title of a document that gives itself none: its first block when that reads as a
    title, else its file name without the extension."""
    if blocks and reads_as_title(blocks[0].text):
        return blocks[0].text.strip()
    name = source.rpartition("/")[2]
    stem = name.rpartition(".")[0]
    return stem or name


def reads_as_title(text: str) -> bool:
    """Whether a line reads as a title: short, and no sentence of its own."""
    text = text.strip()
    return (
        0 < len(text) <= MAX_TITLE_CHARS
        and not any(end in text for end in _TITLE_ENDS)
        and not text.endswith(".")
    )


def _paragraphs(
    source: str, title: str, blocks: list[Block], date: str | None = None
) -> Iterator[Paragraph]:
    number = 0
    section = None
    for block in blocks:
        if block.heading:
            section = block.text
        for column, text in cut_long(block.text):
            number += 1
            yield Paragraph(
                source,
                title,
                number,
                block.line,
                text,
                block.page,
                column,
                block.section or section,
                date,
            )


def cut_long(text: str, limit: int = MAX_PARAGRAPH_CHARS) -> Iterator[tuple[int, str]]:
    """(column from 1, piece) of `text` cut into pieces of at most `limit` characters, each
    ending at a sentence end where there is one in its second half."""
    start = 0
    while len(text) - start > limit:
        end = _cut_at(text, start, start + limit)
        yield start + 1, text[start:end]
        start = end
    yield start + 1, text[start:]


def _cut_at(text: str, start: int, end: int) -> int:
    """Where to end the piece of `text` that starts at `start` and may run to `end`."""
    middle = start + (end - start) // 2
    last = None
    for found in SENTENCE_END.finditer(text, middle, end):
        last = found.end()
    if last is not None:
        return last
    soft = max(text.rfind(char, middle, end) for char in _SOFT_BREAKS)
    return soft + 1 if soft >= 0 else end


def indexing_work(document: DocumentFile) -> int:
    """About how much work indexing a document is, in bytes of text: its size, and for a text
    or Markdown file LINE_WORK more a line (for the order a build hands out its work in: the
    most first). A file that cannot be read counts its size."""
    try:
        if format_of(document.source) not in ("text", "markdown"):
            return document.size
        with _regular_file(document.path) as file:
            lines = sum(piece.count(b"\n") for piece in iter(lambda: file.read(1 << 20), b""))
    except (KeyError, UnreadableDocument, OSError):
        return document.size
    return document.size + LINE_WORK * lines


def read_bytes(path) -> bytes:
    """The contents of the regular file at `path`; raises UnreadableDocument for anything else."""
    with _regular_file(path) as file:
        try:
            return file.read()
        except OSError as error:
            raise UnreadableDocument(f"cannot read it: {error.strerror}") from None


@contextlib.contextmanager
def _regular_file(path) -> Iterator[BinaryIO]:
    """The regular file at `path`, open for reading; raises UnreadableDocument for anything else."""
    try:
        # O_NONBLOCK: opening a FIFO named *.txt must not wait for a writer.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as error:
        raise UnreadableDocument(f"cannot read it: {error.strerror}") from None
    with open(descriptor, "rb") as file:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise UnreadableDocument("it is not a regular file")
        yield file


def content_digest(data: bytes) -> str:
    """What tells a file's contents from any other's: the SHA-256 of its bytes, in hex."""
    # SHA-256 rather than BLAKE2b: 1.5 GB/s against 0.9 on this project's machines (OpenSSL uses
    # the CPU's SHA instructions), and a hash of every document is read on a search when a folder
    # was copied anew.
    return hashlib.sha256(data).hexdigest()


def file_digest(path) -> str | None:
    """The content_digest of the regular file at `path`, read a piece at a time; None when it
    cannot be read."""
    try:
        with _regular_file(path) as file:
            digest = hashlib.sha256()  # hashlib.file_digest is Python 3.11's; kensaku runs on 3.10
            for piece in iter(lambda: file.read(1 << 20), b""):
                digest.update(piece)
            return digest.hexdigest()
    except (UnreadableDocument, OSError):
        return None
