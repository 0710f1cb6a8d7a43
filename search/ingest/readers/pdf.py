"""The PDF reader: a PDF's bytes to its title and paragraphs in reading order, page by page.

PDFium (through pypdfium2) gives every character of a page with its box; the rest is layout
analysis, in this order:

1. page → glyphs: the characters with their boxes, in the order the page draws them. PDFium is
   shown none of the machine's fonts, so that what it reads is the same on every machine; a page
   where it leaves characters out (a zero-wide text object: a Japanese font the PDF does not
   embed, an OCR layer's invisible glyphs) is read by the second extractor (pdf_fallback) when
   that reads more. Glyphs that map to no character are left out and counted;
2. glyphs → lines: runs of glyphs that follow one another along a baseline (horizontal writing)
   or down a column (vertical writing), fragments of one line merged, ruby dropped; a line of a
   symbol font's codes misread as Windows-1252 (™—›œ) left out and counted;
3. furniture: running headers, footers and side tabs (lines at a page's edge whose text, digits
   aside, stands at an edge of another page at the same height, and the row at a page's edge
   that held a misread line among other pieces) and lone page numbers are dropped;
4. lines → regions in reading order: recursive cuts along white space, first between rows of
   text, then between columns; on a vertical page the same in its own frame (tiers from top to
   bottom, columns from right to left);
5. regions → paragraphs: a paragraph ends at a wider gap, a change of size, a list marker, or a
   line that stops short of the column's end (before an indented line, after a sentence, or in
   prose); a paragraph that runs on from the foot of one column to the head of the next is one.

Text is joined as a reader reads it: a line break next to a Japanese character disappears, one
between Latin words becomes one space, a hyphen at a Latin line end joins the word; spaces between
Japanese characters (an OCR layer's, a spaced-out heading's) disappear. Kangxi and CJK radicals and
vertical presentation forms become the ordinary characters they stand for (⼀ → 一, ︑ → 、).
A block's line is the line of its page's extracted text (its kept lines in reading order) where it
starts. Headings are short lines set larger or bolder than the body text. What was left out
unread is one warning naming the pages (Extracted.unread_pages); the libraries the text was read
with are Extracted.extractors.
"""

from __future__ import annotations

import bisect
import ctypes
import functools
import itertools
import re
import statistics
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from search.ingest.readers.base import Block, Extracted, UnreadableDocument, join_lines, page_list
from search.ingest.readers.dates import pdf_day
from search.ingest.readers.pdf_fallback import PageChars, PlacedChar, SecondReader
from search.ingest.readers.pdf_fallback import version as second_reader_version

# Sizes are in ems: a line's glyph size across the line (its font size, near enough).
# Two glyphs are on one line when their boxes overlap across it by this share of the smaller.
SAME_LINE_OVERLAP = 0.5
# Along the page's direction of writing, glyphs further apart than this start a new line (a
# column gutter, a table cell); against it (a vertical line on a horizontal page), glyphs must
# stand this close (footnote numbers one below the other are no column of text).
MAX_GLYPH_GAP = 1.0
TIGHT_GLYPH_GAP = 0.35
# Pieces of a line are looked for among this many lines found before, in the order of lines,
# and stand at most this far apart (a space; a vertical page's tiers stand further apart).
MERGE_WINDOW = 12
MERGE_GAP = 0.6
# Glyphs of a line this many ems apart are words apart, where PDFium put no space between them.
WORD_GAP = 0.3
# A line at most this share of the size of a line right beside it (above a horizontal line,
# right of a vertical one: within this many of its ems), over the same stretch, is ruby.
RUBY_SIZE_RATIO = 0.62
RUBY_DISTANCE = 0.35
# Cuts: white space at least this wide across a region separates rows of text (a blank before a
# section; the leading between lines is less) ...
ROW_CUT_GAP = 1.0
# ... and this wide along it separates columns (or a vertical page's tiers). A column narrower
# than this many ems whose every line stands beside a line of the next (footnote numbers) stays.
COLUMN_CUT_GAP = 0.6
LABEL_COLUMN_WIDTH = 3.0
# Paragraphs: a line stopping this many ems short of its column's end may end a paragraph; in
# prose (at least this share of the column's lines reach the end) it does.
SHORT_LINE = 1.0
PROSE_FULL_LINES = 0.4
# A line starting this many ems in from the column's start is indented.
INDENT = 0.5
# Lines whose sizes differ by more than this ratio are of different paragraphs.
SIZE_CHANGE = 1.15
# Headings: at most this many lines and characters, set this much larger than the body text,
# or in a heavier font.
HEADING_MAX_LINES = 2
HEADING_MAX_CHARS = 60
HEADING_SIZE = 1.12
# Furniture: the lines nearest the top and the bottom of a page that may be running heads, and
# how far apart (a share of the page's height) the same running head stands on two pages.
EDGE_LINES = 2
# A line at a page's edge at most this many of its ems high is a row of text (not a column).
HEAD_ROW_HEIGHT = 2.0
SAME_HEIGHT = 0.02

# PDFium's text page leaves out a text object narrower than this (in points).
ZERO_WIDTH = 0.01
# Two glyphs of one character whose boxes overlap by this share, across and along, are one
# glyph drawn twice.
OVERPRINT = 0.7
# A line at least this share of whose characters are misread codes is left out.
MISREAD_SHARE = 0.25

NO_TEXT_LAYER = "it has no text layer (a scanned image?)"

_JAPANESE_CHARS = (
    "\u2e80-\u2fdf\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\ufe10-\ufe1f\ufe30-\ufe4f\uff01-\uff60\uffe0-\uffe6"
)
_JAPANESE = re.compile(f"[{_JAPANESE_CHARS}]")
_SPACE_BETWEEN_JAPANESE = re.compile(f"(?<=[{_JAPANESE_CHARS}]) +(?=[{_JAPANESE_CHARS}])")
# Set in half an em: opening brackets, and closing ones and punctuation.
_OPENING = frozenset("「『（(［[〔【〈《｛{〘〖“‘")
_CLOSING = frozenset("」』）)］]〕】〉》｝}〙〗”’、。，．")
_KANA = re.compile("[\u3041-\u30ff ]+")  # ruby is kana, with ー and ・
_LEADER_DOTS = re.compile(r" ?(?:[.．・･…‥] ?){4,}")
_LIST_MARKER = re.compile(
    r"^(?:[・•●○■□◆◇▪◦※＊*]|[（(][0-9０-９a-zａ-ｚ一二三四五六七八九十]{1,3}[）)]"
    r"|[①-⑳⑴-⒇]|[0-9０-９]{1,2}(?:[.．)）](?!\d)| (?=[A-Za-z])))"
)
_PAGE_NUMBER = re.compile(
    r"^[-－–—‐(（\[［]?\s*(?:p\.?|page|ページ)?\s*(?:[0-9０-９]+|[ivxlcdm]+)"
    r"\s*(?:/\s*[0-9０-９]+)?\s*[-－–—‐)）\]］]?$",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile("[。．.！？!?：:]$")
_PARAGRAPH_END = re.compile("[。．.！？!?：:」』）)】〕]$")
# A metadata title that is a file name or an identifier (ルビ簡便ルール5.indd, issue15340, jpn).
_NOT_A_TITLE = re.compile(
    r"^(?:untitled|microsoft (?:word|powerpoint) - .*|.*\.[a-z]{2,4}"
    r"|[\x21-\x7e]+)$",
    re.IGNORECASE,
)
# What a symbol font's codes come out as when read as Windows-1252 (the digits of 官報's date
# line: 平成 ™— 年 › 月): characters that Japanese text, or any, hardly ever sets together.
_MISREAD = re.compile("[‚ƒ„ˆŠ‹ŒŽ˜™š›œžŸ]")
_FONT_WEIGHT_NUMBER = re.compile(r"W(\d{1,2})(?!\d)")
_BOLD_FONT = re.compile(r"Bold|Heavy|Black|Demi|Semi|Ultra|Fat|Extra", re.IGNORECASE)
_NORMAL_WEIGHT = 4


def read_pdf(data: bytes) -> Extracted:
    """The PDF's own title (its metadata's, else the largest heading of its first page that
    has headings) and its paragraphs in reading order with page and line; UnreadableDocument
    when it gives no text (no text layer, encrypted, broken, not a PDF). The pages it could
    not read whole are named in one warning and in `unread_pages`."""
    import pypdfium2

    _hide_system_fonts()
    document = _open(pypdfium2, data)
    reading = _Reading(data)
    pages: list[_Page] = []
    try:
        for index in range(len(document)):
            try:
                pages.append(_read_page(document[index], index, reading))
            except pypdfium2.PdfiumError:
                reading.warnings.append(f"page {index + 1} is broken: left out")
                pages.append(_Page(1.0, 1.0, [], False))
        title = _metadata_title(document)
        date = pdf_day(document.get_metadata_value("CreationDate")) or pdf_day(
            document.get_metadata_value("ModDate")
        )
    finally:
        document.close()
    if not any(page.lines for page in pages):
        raise UnreadableDocument(NO_TEXT_LAYER)
    _drop_furniture(pages)
    body = _body_style(pages)
    sized_blocks = [list(_page_blocks(page, number, body)) for number, page in enumerate(pages, 1)]
    blocks = [block for page_blocks in sized_blocks for block, _ in page_blocks]
    if not blocks:
        raise UnreadableDocument("it holds no text but page numbers and running heads")
    return Extracted(
        title=title or _largest_heading(sized_blocks),
        blocks=blocks,
        warnings=reading.warnings + reading.unread_warning(),
        unread_pages=sorted(reading.unread),
        extractors=reading.extractors(),
        date=date,
    )


def _largest_heading(sized_blocks: list[list[tuple[Block, float]]]) -> str | None:
    """The largest heading (the first of the largest) of the first page that has headings."""
    for page_blocks in sized_blocks:
        headings = [(block, size) for block, size in page_blocks if block.heading]
        if headings:
            return max(headings, key=lambda heading: heading[1])[0].text
    return None


def _open(pypdfium2, data: bytes):
    if b"%PDF" not in data[:1024]:  # where PDF readers look for the header
        raise UnreadableDocument("it is not a PDF")
    try:
        return pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as error:
        code = getattr(error, "err_code", None)
        if code in (pypdfium2.raw.FPDF_ERR_PASSWORD, pypdfium2.raw.FPDF_ERR_SECURITY):
            raise UnreadableDocument("it is encrypted (password-protected)") from None
        raise UnreadableDocument("it is a broken PDF") from None


def _metadata_title(document) -> str | None:
    title = _clean(document.get_metadata_value("Title") or "").strip()
    return title if title and not _NOT_A_TITLE.match(title) else None


# --- 1. page → glyphs -------------------------------------------------------------------------


class _Glyph:
    """A character and its box (the font's em box, not the ink) on the page as displayed:
    x from its left edge, `top` and `bottom` down from its top edge; `index` is PDFium's, `font`
    the second extractor's font name."""

    __slots__ = ("bottom", "char", "font", "index", "is_space", "top", "x0", "x1")

    def __init__(
        self,
        char: str,
        x0: float,
        top: float,
        x1: float,
        bottom: float,
        index: int = -1,
        font: str = "",
    ):
        self.char, self.index, self.font, self.is_space = char, index, font, char == " "
        self.x0, self.top, self.x1, self.bottom = x0, top, x1, bottom


class _Reading:
    """One PDF being read: the second extractor, opened for the first page that needs it, and
    what could not be read, page by page."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.warnings: list[str] = []
        self.unread: dict[int, int] = {}  # page number: characters left out
        self._second: SecondReader | None = None
        self._second_failed = False

    def second_page(self, index: int) -> PageChars | None:
        """The second extractor's characters of the page at `index`; None when it cannot
        read them."""
        # Any exception: pdfminer.six's own, and those a malformed PDF raises inside it.
        if self._second is None and not self._second_failed:
            try:
                self._second = SecondReader(self.data)
            except Exception:
                self._second_failed = True
        if self._second is None:
            return None
        try:
            return self._second.page(index)
        except Exception:
            return None

    def left_out(self, page: int, characters: int) -> None:
        if characters:
            self.unread[page] = self.unread.get(page, 0) + characters

    def unread_warning(self) -> list[str]:
        """One warning for all the text that could not be read."""
        if not self.unread:
            return []
        count = sum(self.unread.values())
        what = "a character" if count == 1 else f"{count:,} characters"
        return [
            f"{what} that could not be read (their fonts map them to no character, or to wrong"
            f" ones) {'was' if count == 1 else 'were'} left out, on {page_list(sorted(self.unread))}"
        ]

    def extractors(self) -> dict[str, str]:
        """The extractors the text depends on, with their versions."""
        from importlib.metadata import version

        used = {"pypdfium2": version("pypdfium2")}  # its release pins PDFium's build
        if self._second is not None:
            used["pdfminer.six"] = second_reader_version()
        return used


_FONTS_HIDDEN: list[object] = []  # the font list PDFium was given, kept alive as it holds it


def _hide_system_fonts() -> None:
    """Show PDFium no font of the machine, only its own: what it reads then does not depend on
    the fonts installed. What it cannot read without them (text in Japanese fonts a PDF does not
    embed) the second extractor reads, on every machine alike."""
    if _FONTS_HIDDEN:
        return
    import pypdfium2.raw as pdfium

    no_fonts = pdfium.FPDF_SYSFONTINFO(version=1)  # no callbacks: no font to list or map
    pdfium.FPDF_SetSystemFontInfo(ctypes.byref(no_fonts))
    _FONTS_HIDDEN.append(no_fonts)


def _page_glyphs(page, text_page) -> tuple[list[_Glyph], int]:
    """A page's characters in drawing order, and how many it draws that PDFium maps to no
    character (a symbol font without a character map: those are left out). PDFium's own line
    breaks are dropped; its generated spaces (a gap it took for one) are kept."""
    import pypdfium2.raw as pdfium

    to_display = _display_transform(page)
    rect = pdfium.FS_RECTF()
    glyphs: list[_Glyph] = []
    unmapped = 0
    for index, char in _page_chars(text_page):
        if char in "\r\n":
            continue
        if char.isspace():
            char = " "
        elif pdfium.FPDFText_HasUnicodeMapError(text_page, index) == 1:
            unmapped += 1
            continue
        elif not _is_text(char):
            continue
        pdfium.FPDFText_GetLooseCharBox(text_page, index, rect)
        x0, top, x1, bottom = to_display(rect.left, rect.top, rect.right, rect.bottom)
        if char == " " or (x1 > x0 and bottom > top):
            glyphs.append(_Glyph(char, x0, top, x1, bottom, index))
    return glyphs, unmapped


def _is_text(char: str) -> bool:
    """Whether a character is text (not U+FFFD, a control or a private-use code)."""
    return char != "\ufffd" and unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co", "Cn")


def _dropped_objects(page) -> int:
    """How many text objects of this page PDFium's text page may leave characters of out: it
    leaves out a text object that comes out zero wide, and one drawn in a font the PDF does not
    embed or drawn invisibly (an OCR layer) may hold characters (where the others hold spaces)."""
    import pypdfium2.raw as pdfium

    dropped = 0
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    for text_object in _text_objects(page.raw):
        pdfium.FPDFPageObj_GetBounds(
            text_object,
            ctypes.byref(left),
            ctypes.byref(bottom),
            ctypes.byref(right),
            ctypes.byref(top),
        )
        if right.value - left.value >= ZERO_WIDTH:
            continue
        if pdfium.FPDFTextObj_GetTextRenderMode(text_object) == (
            pdfium.FPDF_TEXTRENDERMODE_INVISIBLE
        ) or not pdfium.FPDFFont_GetIsEmbedded(pdfium.FPDFTextObj_GetFont(text_object)):
            dropped += 1
    return dropped


def _text_objects(parent, form: bool = False) -> Iterator:
    """The text objects of a page (or a form XObject's), those of its forms included."""
    import pypdfium2.raw as pdfium

    count, get = (
        (pdfium.FPDFFormObj_CountObjects, pdfium.FPDFFormObj_GetObject)
        if form
        else (pdfium.FPDFPage_CountObjects, pdfium.FPDFPage_GetObject)
    )
    for index in range(count(parent)):
        page_object = get(parent, index)
        kind = pdfium.FPDFPageObj_GetType(page_object)
        if kind == pdfium.FPDF_PAGEOBJ_TEXT:
            yield page_object
        elif kind == pdfium.FPDF_PAGEOBJ_FORM:
            yield from _text_objects(page_object, form=True)


def _placed_glyphs(page, chars: list[PlacedChar]) -> list[_Glyph]:
    """The second extractor's characters as glyphs on the page as displayed, each drawn once (a
    line drawn twice, a little apart, to look bold is read once, as PDFium reads it)."""
    to_display = _display_transform(page)
    glyphs: list[_Glyph] = []
    drawn: dict[str, list[_Glyph]] = {}
    for placed in chars:
        char = " " if placed.char.isspace() else placed.char
        if char != " " and not all(_is_text(part) for part in char):
            continue
        x0, top, x1, bottom = to_display(placed.left, placed.top, placed.right, placed.bottom)
        glyph = _Glyph(char, x0, top, x1, bottom, font=placed.font)
        if char != " " and not (x1 > x0 and bottom > top):
            continue
        if char != " " and any(_overprints(glyph, other) for other in drawn.get(char, ())):
            continue
        drawn.setdefault(char, []).append(glyph)
        glyphs.append(glyph)
    return glyphs


def _overprints(glyph: _Glyph, other: _Glyph) -> bool:
    """Whether a glyph stands where the same one was drawn (the boxes overlap by most of both)."""
    return (
        _overlap(glyph.x0, glyph.x1, other.x0, other.x1) >= OVERPRINT
        and _overlap(glyph.top, glyph.bottom, other.top, other.bottom) >= OVERPRINT
    )


def _marks(glyphs: list[_Glyph]) -> int:
    return sum(1 for glyph in glyphs if not glyph.is_space)


def _page_chars(text_page) -> Iterator[tuple[int, str]]:
    """PDFium's characters of a page with their indices: a character beyond the BMP (which it
    gives as two halves) at its first half's index, a hyphen it marked at a line's end (U+0002)
    as a hyphen."""
    import pypdfium2.raw as pdfium

    high_surrogate = None
    for index in range(pdfium.FPDFText_CountChars(text_page)):
        code = pdfium.FPDFText_GetUnicode(text_page, index)
        if 0xD800 <= code < 0xDC00:
            high_surrogate = (index, code)
            continue
        if 0xDC00 <= code < 0xE000 and high_surrogate:
            index, high = high_surrogate
            code = 0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00)
        high_surrogate = None
        yield index, "-" if code == 0x2 else chr(code)


def _display_transform(page) -> Callable[[float, float, float, float], tuple]:
    """From PDF user space (y up; the page turned by its /Rotate) to the page as displayed."""
    left, bottom, right, top = page.get_bbox()
    rotation = page.get_rotation() % 360

    def transform(x0: float, y1: float, x1: float, y0: float) -> tuple:
        if rotation == 90:
            return y0 - bottom, x0 - left, y1 - bottom, x1 - left
        if rotation == 180:
            return right - x1, y0 - bottom, right - x0, y1 - bottom
        if rotation == 270:
            return top - y1, right - x1, top - y0, right - x0
        return x0 - left, top - y1, x1 - left, top - y0

    return transform


# --- 2. glyphs → lines ------------------------------------------------------------------------


class _Line:
    """Glyphs along one baseline, or down one column when `vertical` (None while a single
    glyph leaves the direction open). Its box runs from its first glyph to its last along the
    line and, across it, from the median glyph's edge to the other (a symbol font's tall box
    does not stretch a line over its neighbours)."""

    def __init__(self, glyphs: list[_Glyph], vertical: bool | None = None):
        self.glyphs = list(glyphs)
        self.vertical = vertical
        self.weight = _NORMAL_WEIGHT
        self._box: tuple[float, float, float, float] | None = None
        self._size: float | None = None
        self._marks: list[_Glyph] | None = None
        self._text: str | None = None

    def add(self, glyphs: list[_Glyph]) -> None:
        self.glyphs.extend(glyphs)
        self.changed()

    def changed(self) -> None:
        self._box = self._size = self._marks = self._text = None

    @property
    def box(self) -> tuple[float, float, float, float]:
        """(x0, top, x1, bottom)"""
        if self._box is None:
            marks = self.marks
            x0s, tops = [g.x0 for g in marks], [g.top for g in marks]
            x1s, bottoms = [g.x1 for g in marks], [g.bottom for g in marks]
            if self.vertical:
                self._box = (
                    statistics.median(x0s),
                    min(tops),
                    statistics.median(x1s),
                    max(bottoms),
                )
            elif self.vertical is False:
                self._box = (
                    min(x0s),
                    statistics.median(tops),
                    max(x1s),
                    statistics.median(bottoms),
                )
            else:
                self._box = (min(x0s), min(tops), max(x1s), max(bottoms))
        return self._box

    x0 = property(lambda self: self.box[0])
    top = property(lambda self: self.box[1])
    x1 = property(lambda self: self.box[2])
    bottom = property(lambda self: self.box[3])

    @property
    def marks(self) -> list[_Glyph]:
        if self._marks is None:
            self._marks = [glyph for glyph in self.glyphs if not glyph.is_space]
        return self._marks

    @property
    def size(self) -> float:
        """The median glyph size across the line (for a single glyph, its smaller side), of its
        Japanese glyphs if it has some: their em boxes are the font size, where a Latin font's
        box is taller by its ascent and descent."""
        if self._size is None:
            marks = [g for g in self.marks if _JAPANESE.match(g.char)] or self.marks
            if self.vertical is None:
                extents = [min(g.x1 - g.x0, g.bottom - g.top) for g in marks]
            elif self.vertical:
                extents = [g.x1 - g.x0 for g in marks]
            else:
                extents = [g.bottom - g.top for g in marks]
            self._size = max(statistics.median(extents), 0.1)
        return self._size

    @property
    def text(self) -> str:
        """The line's text: a space where glyphs stand apart, runs of spaces as one, none
        between Japanese characters, a row of leader dots as one ellipsis."""
        if self._text is None:
            self._text = self._joined_glyphs()
        return self._text

    def _joined_glyphs(self) -> str:
        chars: list[str] = []
        previous: _Glyph | None = None
        for glyph in self.glyphs:
            if not glyph.is_space and previous is not None and self._apart(previous, glyph):
                chars.append(" ")
            chars.append(glyph.char)
            previous = None if glyph.is_space else glyph
        text = re.sub(" +", " ", "".join(chars)).strip()
        return _LEADER_DOTS.sub(" … ", _SPACE_BETWEEN_JAPANESE.sub("", text))

    def _apart(self, a: _Glyph, b: _Glyph) -> bool:
        gap = (b.top - a.bottom) if self.vertical else (b.x0 - a.x1)
        return gap > WORD_GAP * self.size


@dataclass
class _Page:
    width: float
    height: float
    lines: list[_Line]
    vertical: bool  # most of its text is set in columns
    misread: list[_Line] = field(default_factory=list)  # left out (see _drop_misread)


def _read_page(page, index: int, reading: _Reading) -> _Page:
    """A page's lines, from PDFium's characters or, where PDFium leaves characters out that the
    second extractor reads, from the second extractor's; what neither can read is counted in
    `reading`."""
    text_page = page.get_textpage()
    try:
        glyphs, unmapped = _page_glyphs(page, text_page)
        font_name: Callable[[_Glyph], str] = functools.partial(_pdfium_font_name, text_page)
        dropped = _dropped_objects(page)
        second = reading.second_page(index) if dropped else None
        if second is not None:
            placed = _placed_glyphs(page, second.chars)
            if _marks(placed) > _marks(glyphs):
                glyphs, unmapped, font_name = placed, second.unmapped, _second_font_name
        elif dropped:  # and the second extractor cannot read the page: a character an object
            unmapped += dropped
        lines, vertical = _lines(glyphs, font_name)
    finally:
        text_page.close()
    lines, misread = _drop_misread(lines)
    reading.left_out(index + 1, unmapped + sum(len(line.marks) for line in misread))
    width, height = page.get_size()  # as displayed: turned by /Rotate
    return _Page(width, height, _drop_ruby(lines), vertical, misread)


def _lines(glyphs: list[_Glyph], font_name: Callable[[_Glyph], str]) -> tuple[list[_Line], bool]:
    """A page's glyphs as lines in reading order within each, each with its weight; and whether
    the page is written vertically."""
    vertical = _writes_vertically(glyphs)
    lines = _merge_fragments(_runs(glyphs, vertical), vertical)
    for line in lines:
        if line.vertical is None:
            line.vertical = vertical
            line.changed()
        _order_glyphs(line)
        line.weight = _line_weight(line, font_name)
    return lines, vertical


def _drop_misread(lines: list[_Line]) -> tuple[list[_Line], list[_Line]]:
    """The lines apart from those of a font whose codes were misread (a symbol font's digits
    read as ™—›œ), and those."""
    kept: list[_Line] = []
    misread: list[_Line] = []
    for line in lines:
        marks = line.text.replace(" ", "")
        misread_marks = len(_MISREAD.findall(marks))
        (misread if misread_marks >= MISREAD_SHARE * len(marks) else kept).append(line)
    return kept, misread


def _writes_vertically(glyphs: list[_Glyph]) -> bool:
    """Whether more glyphs stand right below the glyph drawn before them than right beside it."""
    below = beside = 0
    marks = [glyph for glyph in glyphs if not glyph.is_space]
    for last, glyph in itertools.pairwise(marks):
        if _follows(last, glyph, False, TIGHT_GLYPH_GAP):
            beside += 1
        elif _follows(last, glyph, True, TIGHT_GLYPH_GAP):
            below += 1
    return below > beside


def _runs(glyphs: list[_Glyph], vertical_page: bool) -> list[_Line]:
    """Glyphs in drawing order cut into runs that each follow one line; a space stays with the
    run it falls in, none at its ends."""
    runs: list[_Line] = []
    last: _Glyph | None = None  # the last run's last glyph that is not a space
    for glyph in glyphs:
        if glyph.is_space:
            if runs and not runs[-1].glyphs[-1].is_space:
                runs[-1].glyphs.append(glyph)
        elif last is not None and _continues(runs[-1], last, glyph, vertical_page):
            runs[-1].glyphs.append(glyph)
            last = glyph
        else:
            runs.append(_Line([glyph]))
            last = glyph
    for run in runs:
        while run.glyphs[-1].is_space:
            run.glyphs.pop()
        run.changed()
    return runs


def _continues(run: _Line, last: _Glyph, glyph: _Glyph, vertical_page: bool) -> bool:
    """Whether `glyph` follows the run's last glyph along the run's direction (or, while that
    is open, either direction), close enough; the run takes that direction."""
    for vertical in (vertical_page, not vertical_page):
        if run.vertical in (None, vertical) and _follows(
            last, glyph, vertical, _max_gap(vertical, vertical_page)
        ):
            run.vertical = vertical
            return True
    return False


def _max_gap(vertical: bool, vertical_page: bool) -> float:
    return MAX_GLYPH_GAP if vertical == vertical_page else TIGHT_GLYPH_GAP


def _follows(last: _Glyph, glyph: _Glyph, vertical: bool, max_gap: float) -> bool:
    """Whether `glyph` stands next along a line after `last`, at most `max_gap` ems on."""
    if vertical:
        size = min(last.x1 - last.x0, glyph.x1 - glyph.x0)
        gap = glyph.top - last.bottom
        return (
            -0.5 * size <= gap <= max_gap * size
            and glyph.bottom > last.bottom
            and _overlap(last.x0, last.x1, glyph.x0, glyph.x1) >= SAME_LINE_OVERLAP
        )
    size = min(last.bottom - last.top, glyph.bottom - glyph.top)
    gap = glyph.x0 - last.x1
    return (
        -0.5 * size <= gap <= max_gap * size
        and glyph.x1 > last.x1
        and _overlap(last.top, last.bottom, glyph.top, glyph.bottom) >= SAME_LINE_OVERLAP
    )


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    """How much two intervals overlap, as a share of the shorter one."""
    shorter = min(a1 - a0, b1 - b0)
    if shorter <= 0:
        return 1.0 if (b0 <= a0 <= b1 or a0 <= b0 <= a1) else 0.0
    return max(0.0, min(a1, b1) - max(a0, b0)) / shorter


def _merge_fragments(runs: list[_Line], vertical_page: bool) -> list[_Line]:
    """Runs on one baseline (or down one column) that touch are one line: a page may draw a
    line in pieces and out of order (a superscript, a swapped pair, a line drawn twice)."""
    lines: list[_Line] = []
    across = (lambda run: (-run.x1, run.top)) if vertical_page else (lambda run: (run.top, run.x0))
    for run in sorted(runs, key=across):  # a line's pieces come close together in this order
        for line in reversed(lines[-MERGE_WINDOW:]):
            if _touch(line, run, vertical_page):
                if line.vertical is None:
                    line.vertical = run.vertical if run.vertical is not None else vertical_page
                line.add(run.glyphs)
                break
        else:
            lines.append(run)
    return lines


def _touch(a: _Line, b: _Line, vertical_page: bool) -> bool:
    if a.vertical is not None and b.vertical is not None and a.vertical != b.vertical:
        return False
    vertical = next((line.vertical for line in (a, b) if line.vertical is not None), vertical_page)
    size = min(a.size, b.size)
    if vertical:
        across = _overlap(a.x0, a.x1, b.x0, b.x1)
        gap = max(b.top - a.bottom, a.top - b.bottom)
    else:
        across = _overlap(a.top, a.bottom, b.top, b.bottom)
        gap = max(b.x0 - a.x1, a.x0 - b.x1)
    # A lone glyph (a bracket, a letter of a spaced-out header) joins only a line it touches.
    lone = a.vertical is None or b.vertical is None
    max_gap = TIGHT_GLYPH_GAP if lone or vertical != vertical_page else MERGE_GAP
    return across >= SAME_LINE_OVERLAP and gap <= max_gap * size


def _order_glyphs(line: _Line) -> None:
    """Glyphs in reading order: left to right, or top to bottom (with glyphs set side by side
    in a vertical line, such as two digits, left to right). A space keeps its place after the
    glyph it followed."""
    units: list[list[_Glyph]] = []
    for glyph in line.glyphs:
        if glyph.is_space and units:
            units[-1].append(glyph)
        else:
            units.append([glyph])
    if line.vertical:
        units.sort(key=lambda unit: (unit[0].top + unit[0].bottom) / 2)
        for index in range(1, len(units)):
            a, b = units[index - 1][0], units[index][0]
            if _overlap(a.top, a.bottom, b.top, b.bottom) >= 0.7 and b.x1 <= a.x0 + 0.1:
                units[index - 1], units[index] = units[index], units[index - 1]
    else:
        units.sort(key=lambda unit: (unit[0].x0 + unit[0].x1) / 2)
    line.glyphs = [glyph for unit in units for glyph in unit]
    while line.glyphs and line.glyphs[0].is_space:
        line.glyphs.pop(0)
    line.changed()


def _drop_ruby(lines: list[_Line]) -> list[_Line]:
    """Lines of small kana set right beside a larger line, over the stretch of it they read,
    are ruby: the text is read without them (a caption over a figure, with a kanji, stays)."""
    largest = max((line.size for line in lines), default=0.0)
    reach = RUBY_DISTANCE * largest
    by_top = sorted((line.top, id(line), line) for line in lines if line.vertical is False)
    by_right = sorted((line.x1, id(line), line) for line in lines if line.vertical)
    ruby = set()
    for small in lines:
        if small.size > RUBY_SIZE_RATIO * largest:
            continue
        edge, near = (small.x0, by_right) if small.vertical else (small.bottom, by_top)
        start = bisect.bisect_left(near, (edge - reach,))
        stop = bisect.bisect_right(near, (edge + reach, float("inf")))
        if any(_reads(small, big) for _, _, big in near[start:stop]):
            ruby.add(id(small))
    return [line for line in lines if id(line) not in ruby]


def _reads(small: _Line, big: _Line) -> bool:
    """Whether `small` is ruby of `big`: kana, small, right beside it, within its stretch."""
    if (
        big is small
        or big.vertical != small.vertical
        or small.size > RUBY_SIZE_RATIO * big.size
        or len(small.marks) > len(big.marks)
        or not _KANA.fullmatch(small.text)
    ):
        return False
    reach = RUBY_DISTANCE * big.size
    if big.vertical:
        return (
            abs(small.x0 - big.x1) <= reach
            and _overlap(small.top, small.bottom, big.top, big.bottom) >= 0.9
        )
    return (
        abs(big.top - small.bottom) <= reach and _overlap(small.x0, small.x1, big.x0, big.x1) >= 0.9
    )


def _line_weight(line: _Line, font_name: Callable[[_Glyph], str]) -> int:
    """The weight of a line's font: the lightest of its first, middle and last glyphs' fonts
    (a bold word inside a line does not make the line bold)."""
    marks = line.marks
    return min(
        _font_weight(font_name(glyph)) for glyph in (marks[0], marks[len(marks) // 2], marks[-1])
    )


def _pdfium_font_name(text_page, glyph: _Glyph) -> str:
    import pypdfium2.raw as pdfium

    buffer = ctypes.create_string_buffer(256)
    flags = ctypes.c_int()
    length = pdfium.FPDFText_GetFontInfo(
        text_page, glyph.index, buffer, len(buffer), ctypes.byref(flags)
    )
    return buffer.raw[: max(length - 1, 0)].decode("utf-8", "replace")


def _second_font_name(glyph: _Glyph) -> str:
    return glyph.font


def _font_weight(name: str) -> int:
    """A font's weight from its name (HiraKakuProN-W6, Ryumin-Bold): 4 for regular or unsaid,
    up to 9."""
    number = _FONT_WEIGHT_NUMBER.search(name)
    if number:  # W3 is a Japanese font's regular weight, W5 its medium, W6 its bold
        return min(max(int(number.group(1)), _NORMAL_WEIGHT), 9)
    return 7 if _BOLD_FONT.search(name) else _NORMAL_WEIGHT


# --- 3. furniture -----------------------------------------------------------------------------


def _drop_furniture(pages: list[_Page]) -> None:
    """Drop running headers and footers, side tabs and page numbers: a line at a page's edge
    whose text (digits aside) stands at an edge of another page, as high up on it, and a lone
    page number at a page's edge."""
    edges = [_edge_lines(page) for page in pages]
    heights: dict[str, list[tuple[int, float]]] = {}
    for number, (page, page_edges) in enumerate(zip(pages, edges)):
        for line in page_edges:
            heights.setdefault(_furniture_key(line), []).append((number, line.top / page.height))

    def repeated(number: int, line: _Line, page: _Page) -> bool:
        height = line.top / page.height
        return any(
            other != number and abs(other_height - height) <= SAME_HEIGHT
            for other, other_height in heights[_furniture_key(line)]
        )

    for number, (page, page_edges) in enumerate(zip(pages, edges)):
        furniture = {
            id(line)
            for line in page_edges
            if _PAGE_NUMBER.match(line.text) or repeated(number, line, page)
        } | _head_rows(page)
        page.lines = [line for line in page.lines if id(line) not in furniture]


def _head_rows(page: _Page) -> set[int]:
    """The lines of a row at the page's top or bottom edge that held a line left out as misread
    (a date or a number in a symbol font) among two more pieces of text: a running head set in
    pieces across the page (平成20年4月25日 金曜日 官報 第4817号 4), which a document of one page
    shows on no other page to repeat it."""
    lines = page.lines + page.misread
    if not page.misread:
        return set()
    found: set[int] = set()
    for edge in (min(lines, key=lambda line: line.top), max(lines, key=lambda line: line.bottom)):
        if edge.bottom - edge.top > HEAD_ROW_HEIGHT * edge.size:
            continue  # a column of a vertical page, not a row
        reach = SAME_LINE_OVERLAP * edge.size
        row = [
            line
            for line in lines
            if line.top >= edge.top - reach and line.bottom <= edge.bottom + reach
        ]
        if len(row) >= 3 and any(line in page.misread for line in row):
            found |= {id(line) for line in row}
    return found


def _edge_lines(page: _Page) -> list[_Line]:
    """The lines nearest the top and the bottom of the page, and its leftmost and rightmost."""
    lines = page.lines
    if not lines:
        return []
    chosen = (
        sorted(lines, key=lambda line: line.top)[:EDGE_LINES]
        + sorted(lines, key=lambda line: -line.bottom)[:EDGE_LINES]
        + [min(lines, key=lambda line: line.x0), max(lines, key=lambda line: line.x1)]
    )
    return list({id(line): line for line in chosen}.values())


def _furniture_key(line: _Line) -> str:
    text = unicodedata.normalize("NFKC", _clean(line.text))
    return re.sub(r"\d+", "#", text.replace(" ", ""))


# --- 4. lines → regions in reading order ------------------------------------------------------


@dataclass
class _Box:
    """A line's box in a reading frame: x runs along lines and y across them, both in reading
    order. A horizontal line's frame is the page; a vertical line's runs x down the page and y
    from its right edge to the left. `ink0` and `ink1` are where its text begins and ends along
    x, less the blank half of an opening bracket at its start and of a closing one or a
    punctuation mark at its end (each set in half an em, in a box of a whole em)."""

    line: _Line
    x0: float
    x1: float
    y0: float
    y1: float
    size: float
    weight: int
    ink0: float
    ink1: float


def _framed(lines: list[_Line], vertical: bool, page_width: float) -> list[_Box]:
    if vertical:
        return [
            _Box(
                line,
                line.top,
                line.bottom,
                page_width - line.x1,
                page_width - line.x0,
                line.size,
                line.weight,
                *_inked(line, line.top, line.bottom, vertical),
            )
            for line in lines
        ]
    return [
        _Box(
            line,
            line.x0,
            line.x1,
            line.top,
            line.bottom,
            line.size,
            line.weight,
            *_inked(line, line.x0, line.x1, vertical),
        )
        for line in lines
    ]


def _inked(line: _Line, start: float, end: float, vertical: bool) -> tuple[float, float]:
    """A line's extent from `start` to `end` along a frame, less the blank halves of its end
    glyphs (where it runs along the frame)."""
    marks = line.marks
    if line.vertical != vertical or len(marks) < 2:
        return start, end
    first, last = marks[0], marks[-1]
    if _clean(first.char) in _OPENING:
        start += ((first.bottom - first.top) if vertical else (first.x1 - first.x0)) / 2
    if _clean(last.char) in _CLOSING:
        end -= ((last.bottom - last.top) if vertical else (last.x1 - last.x0)) / 2
    return start, end


def _regions(lines: list[_Line], vertical: bool, page_width: float) -> Iterator[list[_Box]]:
    """Regions in reading order, each a list of boxes in its reading frame: the lines cut at
    white space across them into bands, a band cut at white space along them into columns, each
    cut again until nothing cuts, each read in the direction most of its lines are written.
    Bands that share a gutter are one (two columns are read one after the other even where both
    have a blank at the same height)."""
    if not lines:
        return
    boxes = _framed(lines, vertical, page_width)
    size = statistics.median(box.size for box in boxes)
    bands = _join_bands_sharing_a_gutter(
        _split(boxes, lambda box: (box.y0, box.y1), ROW_CUT_GAP * size), size
    )
    parts = bands if len(bands) > 1 else _columns(boxes, size)
    if len(parts) == 1:
        yield boxes
        return
    for part in parts:
        part_lines = [box.line for box in part]
        yield from _regions(part_lines, _direction(part_lines, vertical), page_width)


def _direction(lines: list[_Line], default: bool) -> bool:
    """Whether most of the glyphs of these lines are written vertically (lines of one glyph,
    whose direction is a guess, aside)."""
    vertical = horizontal = 0
    for line in lines:
        count = len(line.marks)
        if count > 1:
            vertical, horizontal = (
                (vertical + count, horizontal) if line.vertical else (vertical, horizontal + count)
            )
    return default if vertical == horizontal else vertical > horizontal


def _split(boxes: list[_Box], extent: Callable[[_Box], tuple], min_gap: float) -> list[list[_Box]]:
    """The boxes in groups, in order, between gaps of at least `min_gap` along one axis."""
    ordered = sorted(boxes, key=lambda box: extent(box)[0])
    groups = [[ordered[0]]]
    reach = extent(ordered[0])[1]
    for box in ordered[1:]:
        start, end = extent(box)
        if start - reach >= min_gap:
            groups.append([box])
        else:
            groups[-1].append(box)
        reach = max(reach, end)
    return groups


def _columns(boxes: list[_Box], size: float) -> list[list[_Box]]:
    columns = _split(boxes, lambda box: (box.ink0, box.ink1), COLUMN_CUT_GAP * size)
    joined: list[list[_Box]] = []
    for column in columns:
        if joined and _labels(joined[-1], column, size):
            joined[-1] = joined[-1] + column
        else:
            joined.append(column)
    return joined


def _labels(column: list[_Box], following: list[_Box], size: float) -> bool:
    """Whether a column is a narrow one of labels each beside a line of the next, wider one."""

    def width(boxes: list[_Box]) -> float:
        return max(box.x1 for box in boxes) - min(box.x0 for box in boxes)

    return width(column) < LABEL_COLUMN_WIDTH * size <= width(following) and all(
        any(
            abs((box.y0 + box.y1) - (other.y0 + other.y1)) / 2 <= 0.25 * other.size
            for other in following
        )
        for box in column
    )


def _join_bands_sharing_a_gutter(bands: list[list[_Box]], size: float) -> list[list[_Box]]:
    joined = [bands[0]]
    gutters = _gutters(bands[0], size)
    for band in bands[1:]:
        band_gutters = _gutters(band, size)
        if any(min(a1, b1) > max(a0, b0) for a0, a1 in gutters for b0, b1 in band_gutters):
            joined[-1] = joined[-1] + band
            gutters = _gutters(joined[-1], size)
        else:
            joined.append(band)
            gutters = band_gutters
    return joined


def _gutters(boxes: list[_Box], size: float) -> list[tuple[float, float]]:
    columns = _columns(boxes, size)
    return [
        (max(box.x1 for box in left), min(box.x0 for box in right))
        for left, right in itertools.pairwise(columns)
    ]


# --- 5. regions → paragraphs ------------------------------------------------------------------


@dataclass
class _Paragraph:
    rows: list[_Box]
    runs_on: bool = False  # its last line reaches its column's end without ending a sentence
    starts_flush: bool = False  # its first line starts at its column's start, with no marker


@dataclass
class _BodyStyle:
    size: float
    weight: int


def _page_blocks(page: _Page, number: int, body: _BodyStyle) -> Iterator[tuple[Block, float]]:
    """The page's paragraphs as blocks, each with its size."""
    paragraphs: list[_Paragraph] = []
    for region in _regions(page.lines, page.vertical, page.width):
        for paragraph in _paragraphs(_rows(region), body.weight):
            if paragraphs and _runs_on_into(paragraphs[-1], paragraph):
                paragraphs[-1].rows += paragraph.rows
                paragraphs[-1].runs_on = paragraph.runs_on
            else:
                paragraphs.append(paragraph)
    line = 1
    for paragraph in paragraphs:
        text = _clean(_join_lines([row.line.text for row in paragraph.rows]))
        size = statistics.median(row.size for row in paragraph.rows)
        if text:
            yield Block(text, line, number, _is_heading(paragraph.rows, size, text, body)), size
        line += len(paragraph.rows)


def _runs_on_into(previous: _Paragraph, paragraph: _Paragraph) -> bool:
    """Whether a paragraph at the head of a column continues the one at the foot of the last."""
    last, first = previous.rows[-1], paragraph.rows[0]
    return (
        previous.runs_on
        and paragraph.starts_flush
        and len(paragraph.rows) > 1
        and max(last.size, first.size) <= SIZE_CHANGE * min(last.size, first.size)
    )


def _rows(region: list[_Box]) -> list[_Box]:
    """The region's lines as rows: lines side by side (cells of a table row, pieces of a line)
    joined in reading order."""
    groups: list[list[_Box]] = []
    for box in sorted(region, key=lambda box: box.y0):
        if (
            groups
            and _overlap(
                min(b.y0 for b in groups[-1]), max(b.y1 for b in groups[-1]), box.y0, box.y1
            )
            >= SAME_LINE_OVERLAP
        ):
            groups[-1].append(box)
        else:
            groups.append([box])
    return [_joined(sorted(group, key=lambda box: box.x0)) for group in groups]


def _joined(boxes: list[_Box]) -> _Box:
    if len(boxes) == 1:
        return boxes[0]
    glyphs: list[_Glyph] = []
    for box in boxes:
        glyphs += ([_Glyph(" ", 0, 0, 0, 0, -1)] if glyphs else []) + box.line.glyphs
    return _Box(
        _Line(glyphs, boxes[0].line.vertical),
        min(box.x0 for box in boxes),
        max(box.x1 for box in boxes),
        min(box.y0 for box in boxes),
        max(box.y1 for box in boxes),
        max(box.size for box in boxes),
        min(box.weight for box in boxes),
        min(box.ink0 for box in boxes),
        max(box.ink1 for box in boxes),
    )


def _paragraphs(rows: list[_Box], body_weight: int) -> list[_Paragraph]:
    """A column's lines cut into paragraphs."""
    if not rows:
        return []
    start, end = min(row.x0 for row in rows), _column_end(rows)
    size = statistics.median(row.size for row in rows)
    full = [end - row.x1 < SHORT_LINE * row.size for row in rows]
    prose = len(rows) > 1 and sum(full) >= PROSE_FULL_LINES * len(rows)
    gaps = [b.y0 - a.y1 for a, b in itertools.pairwise(rows)]
    usual_gap = statistics.median(gaps) if gaps else 0.0
    paragraphs = [_Paragraph([rows[0]])]
    for previous, row in itertools.pairwise(rows):
        if _starts_paragraph(previous, row, start, end, usual_gap, body_weight):
            paragraphs.append(_Paragraph([row]))
        else:
            paragraphs[-1].rows.append(row)
    for paragraph in paragraphs:
        first, last = paragraph.rows[0], paragraph.rows[-1]
        paragraph.starts_flush = first.x0 - start < INDENT * size and not _LIST_MARKER.match(
            first.line.text
        )
        paragraph.runs_on = (
            prose
            and end - last.x1 < SHORT_LINE * last.size
            and not _SENTENCE_END.search(last.line.text)
        )
    return paragraphs


def _column_end(rows: list[_Box]) -> float:
    """Where the column's lines end: the longest line's end, or in a longer column the end most
    lines reach (punctuation hanging past the end does not make every other line short)."""
    ends = sorted(row.x1 for row in rows)
    return ends[-1] if len(ends) < 5 else ends[int(0.8 * (len(ends) - 1))]


def _starts_paragraph(
    previous: _Box, row: _Box, start: float, end: float, usual_gap: float, body_weight: int
) -> bool:
    size = min(previous.size, row.size)
    if max(previous.size, row.size) > SIZE_CHANGE * size:
        return True
    if row.y0 - previous.y1 > usual_gap + 0.5 * size:
        return True
    if previous.weight != row.weight and max(previous.weight, row.weight) > body_weight:
        return True
    short = end - previous.x1 >= SHORT_LINE * size
    ends = bool(_PARAGRAPH_END.search(previous.line.text))
    indented = row.x0 - start >= INDENT * size
    outdented = previous.x0 - row.x0 >= INDENT * size
    if short and (ends or indented or outdented):
        return True
    if indented and _SENTENCE_END.search(previous.line.text):
        return True
    return row.line.text.startswith("\u3000") or bool(_LIST_MARKER.match(row.line.text))


def _is_heading(rows: list[_Box], size: float, text: str, body: _BodyStyle) -> bool:
    """Whether a paragraph is a heading: one or two short lines with no sentence end, larger or
    heavier than the body text, and made of words (not a page header's stray glyphs)."""
    words = sum(1 for char in text if char.isalnum() and (char.isascii() or _JAPANESE.match(char)))
    if (
        len(rows) > HEADING_MAX_LINES
        or len(text) > HEADING_MAX_CHARS
        or words < 2
        or words < 0.6 * len(text.replace(" ", ""))
        or _SENTENCE_END.search(text)
    ):
        return False
    heavier = min(row.weight for row in rows) > body.weight and size >= body.size
    return size >= HEADING_SIZE * body.size or heavier


def _body_style(pages: list[_Page]) -> _BodyStyle:
    """The size and weight most characters are set in: most Japanese characters, when there
    are some (the Latin of footnotes and URLs can outnumber the Japanese text)."""
    sizes: dict[float, float] = {}
    weights: dict[int, float] = {}
    for page in pages:
        for line in page.lines:
            count = len(_JAPANESE.findall(line.text)) or len(line.marks) / 1000
            sizes[round(line.size, 1)] = sizes.get(round(line.size, 1), 0) + count
            weights[line.weight] = weights.get(line.weight, 0) + count
    if not sizes:
        return _BodyStyle(1.0, _NORMAL_WEIGHT)
    return _BodyStyle(max(sizes, key=sizes.__getitem__), max(weights, key=weights.__getitem__))


# --- text -------------------------------------------------------------------------------------


def _join_lines(lines: list[str]) -> str:
    """A paragraph's text from its lines (see join_lines); a line ending in a hyphen joins the
    next without a space, and without the hyphen between lower-case letters (a word hyphenated
    at the line's end)."""
    joined: list[str] = []
    for line in lines:
        if joined and line and re.search(r"\w-$", joined[-1]):
            hyphenated = joined[-1][-2].islower() and line[0].islower()
            joined[-1] = (joined[-1][:-1] if hyphenated else joined[-1]) + line
        else:
            joined.append(line)
    return join_lines(joined)


# Radicals of the CJK Radicals Supplement that stand for a unified ideograph but have no
# compatibility decomposition, with that ideograph (Unicode's EquivalentUnifiedIdeograph.txt).
_CJK_RADICALS = (
    "⺀冫⺁厂⺂乛⺃乚⺄乙⺅亻⺆冂⺉刂⺊卜⺋㔾⺎兀⺏尣⺐尢⺒巳⺓幺⺔彑⺕彐⺖忄⺗㣺⺘扌⺙攵⺛旡⺝月⺞歺"
    "⺟母⺠民⺡氵⺢氺⺣灬⺥爫⺦丬⺨犭⺫罒⺬示⺭礻⺯糹⺰纟⺱罓⺳㓁⺴㓁⺹耂⺺肀⺼月⺽臼⺾艹⺿艹⻀艹⻁虎"
    "⻂衤⻃覀⻄西⻅见⻈讠⻉贝⻋车⻍辶⻏阝⻐钅⻑長⻒镸⻓长⻖阝⻘青⻙韦⻚页⻛风⻜飞⻝食⻟飠⻠饣"
    "⻢马⻣骨⻤鬼⻥鱼⻦鸟⻧卤⻨麦⻩黄⻪黾⻫斉⻬齐⻭歯⻮齿⻯竜⻰龙⻱龜⻲亀⻳龟"
)


def _vertical_form(char: str) -> str:
    """The horizontal character a vertical presentation form stands for, full-width as it is
    set (︑ → 、, ︵ → （, ︙ → …); the form itself when Unicode gives it none."""
    plain = unicodedata.normalize("NFKC", char)
    if plain in ("...", ".."):
        return {"...": "…", "..": "‥"}[plain]
    if len(plain) == 1 and "!" <= plain <= "~":
        return chr(ord(plain) + 0xFEE0)
    return plain if len(plain) == 1 else char


def _clean_table() -> dict[int, str]:
    table = {
        ord(radical): ideograph
        for radical, ideograph in zip(_CJK_RADICALS[::2], _CJK_RADICALS[1::2])
    }
    table.update({code: unicodedata.normalize("NFKC", chr(code)) for code in range(0x2F00, 0x2FE0)})
    for code in [*range(0xFE10, 0xFE1A), *range(0xFE30, 0xFE50)]:
        table[code] = _vertical_form(chr(code))
    return table


_CLEAN = _clean_table()


def _clean(text: str) -> str:
    """Radicals as the ideographs they stand for, vertical forms as ordinary punctuation."""
    return text.translate(_CLEAN)
