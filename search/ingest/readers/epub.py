"""EPUB: the documents of the spine in reading order, each chapter's blocks under its title.

An EPUB is a zip: META-INF/container.xml names the package document, whose spine lists the
chapters' XHTML files in order; each is read as HTML (ruby as its base text). A block's `line` is
its line in its chapter's file, and its `section` the chapter's title: its first heading, else its
`<title>`, else its file name. The book's date is its `dc:date`, else its `dcterms:modified`.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from urllib.parse import unquote
from xml.etree import ElementTree

from search.ingest.readers.base import Block, Extracted, UnreadableDocument
from search.ingest.readers.dates import iso_day
from search.ingest.readers.html import read_html

_CONTAINER = "META-INF/container.xml"
_NAMESPACES = {
    "c": "urn:oasis:names:tc:opendocument:xmlns:container",
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
}
_XHTML_TYPES = {"application/xhtml+xml", "text/html"}
# A chapter file larger than this is not read whole into memory (a zip bomb).
MAX_CHAPTER_BYTES = 64 * 1024 * 1024


def read_epub(data: bytes) -> Extracted:
    """The blocks and title of an EPUB book, chapter after chapter."""
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
        package_path = _package_path(book)
        package = ElementTree.fromstring(book.read(package_path))
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, ValueError) as error:
        raise UnreadableDocument(f"it is not an EPUB book that can be read ({error})") from None
    blocks, warnings = [], []
    for chapter in _spine(package, posixpath.dirname(package_path)):
        extracted = _read_chapter(book, chapter)
        if extracted is None:
            warnings.append(f"chapter {chapter} is missing from the book")
            continue
        warnings += extracted.warnings
        section = (
            next((block.text for block in extracted.blocks if block.heading), None)
            or extracted.title
            or posixpath.basename(chapter)
        )
        blocks += [
            Block(block.text, block.line, heading=block.heading, section=section)
            for block in extracted.blocks
        ]
    title = package.findtext(".//dc:title", namespaces=_NAMESPACES)
    return Extracted((title or "").strip() or None, blocks, warnings, date=_date(package))


def _date(package) -> str | None:
    """The book's `dc:date` (its publication), else its `dcterms:modified`."""
    dates = [element.text for element in package.iterfind(".//dc:date", _NAMESPACES)]
    dates += [
        element.text
        for element in package.iterfind(".//opf:meta", _NAMESPACES)
        if element.get("property") == "dcterms:modified"
    ]
    return next(filter(None, map(iso_day, dates)), None)


def _package_path(book: zipfile.ZipFile) -> str:
    container = ElementTree.fromstring(book.read(_CONTAINER))
    rootfile = container.find(".//c:rootfile", _NAMESPACES)
    path = None if rootfile is None else rootfile.get("full-path")
    if not path:
        raise ValueError("its container names no package document")
    return path


def _spine(package, folder: str) -> list[str]:
    """The paths, inside the zip, of the spine's XHTML documents in reading order."""
    manifest = {
        item.get("id"): item for item in package.iterfind(".//opf:manifest/opf:item", _NAMESPACES)
    }
    paths = []
    for reference in package.iterfind(".//opf:spine/opf:itemref", _NAMESPACES):
        item = manifest.get(reference.get("idref"))
        if item is not None and item.get("media-type") in _XHTML_TYPES and item.get("href"):
            paths.append(posixpath.normpath(posixpath.join(folder, unquote(item.get("href")))))
    return paths


def _read_chapter(book: zipfile.ZipFile, path: str) -> Extracted | None:
    try:
        info = book.getinfo(path)
    except KeyError:
        return None
    if info.file_size > MAX_CHAPTER_BYTES:
        return Extracted(
            None, [], [f"chapter {path} is larger than {MAX_CHAPTER_BYTES} bytes: left out"]
        )
    return read_html(book.read(info))
