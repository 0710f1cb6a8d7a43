"""The PDF reader's second extractor: the characters of the pages PDFium cannot read, as
pdfminer.six reads them.

PDFium boxes a character by its glyph's outline and leaves out of its text a text object that
comes out zero wide. A Japanese font a PDF does not embed (官報's Ryumin-Light and GothicBBB)
has no outline without a Japanese font on the machine, and an OCR layer's invisible font has
empty glyphs, so such pages lose their characters, one-glyph objects first (a vertical column
drawn a glyph at a time, an OCR layer's particles). pdfminer.six maps character codes through
the Adobe CMaps it ships (Adobe-Japan1 and the others, for CID fonts without a ToUnicode map)
and places a character by the widths the PDF gives, never by a font of the machine: the same
characters on every machine.

Characters come in PDF user space (y up, before the page's /Rotate), where PDFium gives its own.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

_IDENTITY = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


@dataclass(frozen=True)
class PlacedChar:
    """A character, its font's name and its box (left, bottom, right, top) in user space."""

    char: str
    font: str
    left: float
    bottom: float
    right: float
    top: float


@dataclass
class PageChars:
    """A page's characters in drawing order, and how many more it draws that map to no
    character (no ToUnicode map, no CMap of their character collection)."""

    chars: list[PlacedChar]
    unmapped: int


class SecondReader:
    """pdfminer.six over one PDF's bytes, parsed once, read a page at a time."""

    def __init__(self, data: bytes) -> None:
        from pdfminer.pdfdocument import PDFDocument
        from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
        from pdfminer.pdfpage import PDFPage
        from pdfminer.pdfparser import PDFParser

        self._pages = list(PDFPage.create_pages(PDFDocument(PDFParser(io.BytesIO(data)))))
        resources = PDFResourceManager(caching=True)
        self._device = _device_class()(resources)
        self._interpreter = PDFPageInterpreter(resources, self._device)

    def page(self, index: int) -> PageChars:
        """The characters of the page at `index` (from 0)."""
        page = self._pages[index]
        device = self._device
        device.unmapped = 0
        device.begin_page(page, _IDENTITY)
        self._interpreter.render_contents(page.resources, page.contents, ctm=_IDENTITY)
        device.end_page(page)
        return PageChars(list(_placed_chars(device.get_result())), device.unmapped)


def version() -> str:
    """The version of pdfminer.six, as its text depends on it."""
    from importlib.metadata import version as installed

    return installed("pdfminer.six")


def _device_class() -> type:
    from pdfminer.converter import PDFPageAggregator

    class CharDevice(PDFPageAggregator):
        """pdfminer's page of characters, counting those that map to no character."""

        unmapped = 0

        def __init__(self, resources: Any) -> None:
            super().__init__(resources, laparams=None)

        def handle_undefined_char(self, font: Any, cid: int) -> str:
            self.unmapped += 1
            return ""

    return CharDevice


def _placed_chars(container: Any) -> Iterator[PlacedChar]:
    from pdfminer.layout import LTChar, LTContainer

    for item in container:
        if isinstance(item, LTChar):
            if item.get_text():
                yield PlacedChar(item.get_text(), item.fontname, *item.bbox)
        elif isinstance(item, LTContainer):  # a form XObject (LTFigure)
            yield from _placed_chars(item)
