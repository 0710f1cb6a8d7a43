"""HTML and XHTML: paragraphs from block elements, the title from `<title>` or the first heading.

The charset comes from a byte-order mark, the document's `<meta>` or XML declaration, or the bytes
themselves (see decoding). Script, style, navigation and hidden elements are left out; ruby is read
as its base text (`<ruby>漢字<rt>かんじ</rt></ruby>` is 漢字). A `<br>` ends a paragraph, as a line
does in a text file (Aozora Bunko's XHTML puts each paragraph on a line of its own). Each block is
cited by the source line where its text starts.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from search.ingest.readers.base import Block, Extracted, join_lines
from search.ingest.readers.dates import iso_day
from search.ingest.readers.decoding import decode

_DECLARED_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)|<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""",
    re.IGNORECASE,
)
_SNIFF_BYTES = 4096
_BLOCKS = {
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "caption",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "html",
    "li",
    "main",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "td",
    "th",
    "tr",
    "ul",
    "br",
    "title",
}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_LEFT_OUT = {
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "rt",
    "rp",
    "svg",
    "head",
    "iframe",
    "object",
    "select",
    "button",
}
_VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "param",
    "source",
    "track",
    "wbr",
}


# <meta> names (and properties) of a page's date: when it was made or published first, then when
# it was last changed.
_DATE_NAMES = (
    "dcterms.created",
    "dc.date.created",
    "dcterms.issued",
    "dc.date.issued",
    "article:published_time",
    "citation_publication_date",
    "citation_date",
    "date",
    "dc.date",
    "dcterms.date",
    "pubdate",
    "publishdate",
    "dcterms.modified",
    "dc.date.modified",
    "article:modified_time",
    "last-modified",
)


def read_html(data: bytes) -> Extracted:
    """The blocks and title of an HTML or XHTML document."""
    decoded = decode(data, declared_charset(data))
    extracted = read_html_text(decoded.text)
    extracted.warnings += [warning for warning in [decoded.warning()] if warning]
    return extracted


def declared_charset(data: bytes) -> str | None:
    """The charset an HTML or XML document declares in its first bytes, if any."""
    found = _DECLARED_CHARSET.search(data[:_SNIFF_BYTES])
    if not found:
        return None
    return (found.group(1) or found.group(2)).decode("ascii")


def read_html_text(text: str) -> Extracted:
    """The blocks and title of HTML already decoded."""
    parser = _BlockParser()
    parser.feed(text)
    parser.close()
    title = parser.title or next((block.text for block in parser.blocks if block.heading), None)
    return Extracted(title, parser.blocks, date=parser.date())


class _BlockParser(HTMLParser):
    """Collects the text of block elements, with the line where each block's text starts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.title: str | None = None
        self._open: list[str] = []  # elements that leave their content out, innermost last
        self._lines: list[str] = []
        self._start_line = 0
        self._in_title = False
        self._in_pre = 0
        self._heading = 0
        self._dates: dict[str, str] = {}  # the <meta> dates, by name

    def date(self) -> str | None:
        """The first of the <meta> dates (in `_DATE_NAMES` order) that reads as a day."""
        for name in _DATE_NAMES:
            day = iso_day(self._dates.get(name))
            if day:
                return day
        return None

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "meta":
            self._meta(dict(attrs))
        if self._open:
            if tag not in _VOID:
                self._open.append(tag)
            return
        if tag in _LEFT_OUT or _hidden(dict(attrs)):
            if tag not in _VOID and tag != "head":
                self._open.append(tag)
            if tag != "head":
                return
        if tag in _BLOCKS:
            self._end_block()
        self._in_title |= tag == "title"
        self._in_pre += tag == "pre"
        self._heading += tag in _HEADINGS

    def _meta(self, attrs: dict) -> None:
        name = (attrs.get("name") or attrs.get("property") or attrs.get("http-equiv") or "").lower()
        if name in _DATE_NAMES and attrs.get("content"):
            self._dates.setdefault(name, attrs["content"])

    def handle_startendtag(self, tag: str, attrs) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            if tag in self._open:
                del self._open[len(self._open) - 1 - self._open[::-1].index(tag) :]
            return
        if tag in _BLOCKS:
            self._end_block()
        if tag == "title":
            self._in_title = False
        self._in_pre = max(0, self._in_pre - (tag == "pre"))
        self._heading = max(0, self._heading - (tag in _HEADINGS))

    def handle_data(self, data: str) -> None:
        if self._open or (not data.strip() and not self._lines):
            return
        if not self._lines:
            self._start_line = self.getpos()[0] + _leading_newlines(data)
        if self._in_pre:
            self._pre_lines(data)
        else:
            self._lines.append(data)

    def _pre_lines(self, data: str) -> None:
        """Preformatted text keeps its lines: each is a block of its own."""
        first_line = self.getpos()[0]
        pieces = data.split("\n")
        for number, piece in enumerate(pieces[:-1], start=1):
            self._lines.append(piece)
            self._end_block()
            self._start_line = first_line + number
        self._lines.append(pieces[-1])

    def _end_block(self) -> None:
        text = _collapse(self._lines)
        self._lines = []
        if not text:
            return
        if self._in_title:
            self.title = self.title or text
            return
        self.blocks.append(Block(text, self._start_line, heading=self._heading > 0))

    def close(self) -> None:
        super().close()
        self._end_block()


def _collapse(pieces: list[str]) -> str:
    """Inline text as HTML shows it: white space collapsed, line breaks joined as in a paragraph."""
    return join_lines(re.split(r"[ \t]*[\r\n]+[ \t]*", re.sub(r"[ \t\f]+", " ", "".join(pieces))))


def _leading_newlines(data: str) -> int:
    """How many lines the white space before the text of `data` takes (as html.parser counts)."""
    return data[: len(data) - len(data.lstrip())].count("\n")


def _hidden(attrs: dict) -> bool:
    return (
        "hidden" in attrs or attrs.get("role") == "navigation" or attrs.get("aria-hidden") == "true"
    )
