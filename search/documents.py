"""Documents: find the text files of a collection and cut them into paragraphs.

Every `.txt` file under the documents directory is a document; each non-blank line is one paragraph.
A paragraph keeps its source (the path relative to the documents directory, with `/`), the document's
title (its first non-blank line), its 1-based paragraph number and line number, and its text as it
stands in the file.

Files are read as UTF-8 (a BOM is allowed), UTF-16 when they start with its BOM, or else as
Shift_JIS (CP932) or EUC-JP, whichever decodes without error into the more plausible Japanese.
Binary files (a NUL byte near the start), files that decode as none of these, and anything that is
not a regular file are unreadable documents: indexing skips them with a warning. Documents are only
ever read.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from .errors import DocumentsNotFound

DOCUMENT_SUFFIX = ".txt"
BINARY_SNIFF_BYTES = 8192
# Japanese encodings tried, in order of preference when both decode equally plausibly.
LEGACY_ENCODINGS = ("cp932", "euc_jp")
# Of the non-ASCII characters of a legacy-encoded file, at least this share must be Japanese.
MIN_JAPANESE_SHARE = 0.5
# Characters of Japanese text: kana, kanji, punctuation, full-width forms, and the symbols of
# JIS X 0208 (§ × ÷, Greek, Cyrillic, ※, arrows, ①, box drawing, ■, ★).
_JAPANESE = ("[\u00a7\u00a8\u00b0\u00b1\u00b4\u00b6\u00d7\u00f7\u0391-\u03c9"
             "\u0401-\u0451\u2010-\u203b\u2100-\u22ff\u2460-\u24ff\u2500-\u27bf"
             "\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff5e"
             "\uffe0-\uffe5]")
# Half-width katakana are rare in real text but typical of mis-decoding: they count half.
_HALF_WIDTH_KANA = re.compile("[\uff61-\uff9f]")


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


def find_documents(docs_dir: Path, warn: Callable[[str], None] | None = None) -> list[DocumentFile]:
    """Every `.txt` file under `docs_dir`, sorted by source path.

    A `.txt` name that cannot be examined (a broken symlink, a symlink loop) is still listed, so
    that reading it reports why it is skipped. `warn` hears of sub-directories that cannot be listed.
    """
    docs_dir = Path(docs_dir)
    if not docs_dir.is_dir():
        raise DocumentsNotFound(f"documents directory not found: {docs_dir}")

    def unlistable(error: OSError) -> None:
        if warn:
            warn(f"skipped directory {error.filename}: {error.strerror}")

    documents = []
    for folder, subfolders, files in os.walk(docs_dir, onerror=unlistable):
        subfolders.sort()
        # Plain string work: `kensaku search` lists every document to see whether the index is
        # current, and Path operations per file cost 40 ms on 2,000 files.
        relative = os.path.relpath(folder, docs_dir)
        prefix = "" if relative == os.curdir else relative.replace(os.sep, "/") + "/"
        for name in files:
            if name.endswith(DOCUMENT_SUFFIX) and not name.startswith("."):
                documents.append(_document_file(os.path.join(folder, name), prefix + name))
    return sorted(documents, key=lambda d: d.source)


def _document_file(path: str, source: str) -> DocumentFile:
    try:
        status = os.stat(path)
    except OSError:
        return DocumentFile(Path(path), source, -1, 0)
    return DocumentFile(Path(path), source, status.st_size, status.st_mtime_ns)


def read_paragraphs(document: DocumentFile) -> Iterator[Paragraph]:
    """The paragraphs of one document, in file order; raises UnreadableDocument."""
    text = decode(read_bytes(document.path))
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


def read_bytes(path: Path) -> bytes:
    """The contents of the regular file at `path`; raises UnreadableDocument for anything else."""
    try:
        # O_NONBLOCK: opening a FIFO named *.txt must not wait for a writer.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as error:
        raise UnreadableDocument(f"cannot read it: {error.strerror}") from None
    with open(descriptor, "rb") as file:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise UnreadableDocument("it is not a regular file")
        try:
            return file.read()
        except OSError as error:
            raise UnreadableDocument(f"cannot read it: {error.strerror}") from None


def decode(data: bytes) -> str:
    """The text of a document's bytes: UTF-16 by BOM, UTF-8, else CP932 or EUC-JP."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode_utf16(data)
    nul = data.find(b"\0", 0, BINARY_SNIFF_BYTES)
    if nul >= 0:
        raise UnreadableDocument(f"it is a binary file (a NUL byte at offset {nul})")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        bad_byte = f"byte 0x{data[utf8_error.start]:02x} at offset {utf8_error.start}"
        text = None if _mostly_utf8(data) else _decode_legacy(data)
        if text is None:
            raise UnreadableDocument(f"it is not valid text in UTF-8, Shift_JIS or EUC-JP "
                                     f"({bad_byte} is not UTF-8)") from None
        return text


def _mostly_utf8(data: bytes) -> bool:
    """Whether `data` is UTF-8 with a few invalid bytes, rather than a legacy encoding (where
    UTF-8 sequences occur only by chance): such a file is damaged, not Shift_JIS mojibake."""
    text = data.decode("utf-8", errors="replace")
    invalid = text.count("\ufffd")
    valid = sum(1 for char in text if char > "\x7f") - invalid
    return valid > 10 * invalid


def _decode_utf16(data: bytes) -> str:
    try:
        return data.decode("utf-16")
    except UnicodeDecodeError as error:
        raise UnreadableDocument(f"it starts with a UTF-16 BOM but is not UTF-16 text "
                                 f"(bad bytes at offset {error.start})") from None


def _decode_legacy(data: bytes) -> str | None:
    """The text of `data` in the Japanese legacy encoding it most plausibly uses, or None."""
    best, best_share = None, MIN_JAPANESE_SHARE
    for encoding in LEGACY_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        share = japanese_share(text)
        if share > best_share or (best is None and share >= best_share):
            best, best_share = text, share
    return best


def japanese_share(text: str) -> float:
    """The share of the non-ASCII characters of `text` that are plausible in Japanese text."""
    non_ascii = sum(1 for char in text if ord(char) > 0x7F)
    if not non_ascii:
        return 1.0
    # re caches the compiled pattern; compiling it at import would cost every search 3 ms.
    plausible = len(re.findall(_JAPANESE, text)) + len(_HALF_WIDTH_KANA.findall(text)) / 2
    return plausible / non_ascii
