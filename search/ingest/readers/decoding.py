"""Decoding: the text of a document's bytes, in whichever encoding Japan has used for it.

In order: a byte-order mark (UTF-8, UTF-16, UTF-32); a charset the document declares (an HTML
`<meta>` or XML declaration, passed in by its reader) when it fits the bytes; ISO-2022-JP, known by
its escape sequences; UTF-8; else Shift_JIS (CP932) or EUC-JP, whichever reads as more plausible
Japanese. EUC-JP includes the vendor characters of eucJP-ms and CP51932 (①, ㈱, 髙, 﨑), which
Python's `euc_jp` codec lacks. A few bytes that fit no encoding cost only themselves: they become
U+FFFD and the result says how many there were and on which line the first stood.
"""

from __future__ import annotations

import codecs
import re
import threading
from dataclasses import dataclass

from search.ingest.readers.base import UnreadableDocument

BINARY_SNIFF_BYTES = 8192
# Of the non-ASCII characters of a legacy-encoded file, at least this share must be Japanese.
MIN_JAPANESE_SHARE = 0.5
# A file with more bad bytes than this share of its non-ASCII bytes is in no encoding we know.
MAX_BAD_SHARE = 0.05
# Characters of Japanese text: kana, kanji, punctuation, full-width forms, and the symbols of
# JIS X 0208 (§ × ÷, Greek, Cyrillic, ※, arrows, ①, box drawing, ■, ★).
_JAPANESE = (
    "[\u00a7\u00a8\u00b0\u00b1\u00b4\u00b6\u00d7\u00f7\u0391-\u03c9"
    "\u0401-\u0451\u2010-\u203b\u2100-\u22ff\u2460-\u24ff\u2500-\u27bf"
    "\u3000-\u30ff\u3200-\u33ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff5e"
    "\uffe0-\uffe5]"
)
# Half-width katakana are rare in real text but typical of mis-decoding: they count half.
_HALF_WIDTH_KANA = re.compile("[\uff61-\uff9f]")
_ISO_2022_JP_ESCAPE = re.compile(rb"\x1b(\$[@B]|\$\(D|\([BJI])")
# eucJP-ms puts the IBM extensions that JIS X 0212 lacks at 0x8F 0xF3 0xF3 .. 0x8F 0xF4 0xFE.
_EUCJP_MS_IBM_FIRST = (0xF3 - 0xA1) * 94 + (0xF3 - 0xA1)
_EUCJP_MS_IBM = (
    "ⅰⅱⅲⅳⅴⅵⅶⅷⅸⅹⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ＇＂㈱№℡炻仼僴凬匇匤﨎咊坙﨏塚增寬峵嵓﨑德悅愠敎昻晥晴朗栁﨓﨔"
    "橫櫢淸淲瀨凞猪甁皂皞益礰礼神祥福竧靖精綠緖羽荢﨟薰蘒﨡蠇諸譿賴赶﨣﨤逸郞都鄕﨧﨨閒隆﨩霻靍靑飯飼館"
    "馞髙魲鶴黑"
)
# What documents call their encodings, as Python's codecs.
_CHARSET_NAMES = {
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "ms_kanji": "cp932",
    "cp932": "cp932",
    "csshiftjis": "cp932",
    "euc-jp": "euc_jp",
    "eucjp": "euc_jp",
    "x-euc-jp": "euc_jp",
    "cseucpkdfmtjapanese": "euc_jp",
    "euc-jp-ms": "euc_jp",
    "eucjp-ms": "euc_jp",
    "cp51932": "euc_jp",
    "iso-2022-jp": "iso2022_jp_ext",
    "csiso2022jp": "iso2022_jp_ext",
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-16": "utf-16",
    "utf-16le": "utf-16-le",
    "utf-16be": "utf-16-be",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    # Browsers read Latin-1 labels as windows-1252; a Japanese page so labelled is usually wrong.
    "iso-8859-1": "cp1252",
    "windows-1252": "cp1252",
}
_LEGACY_ENCODINGS = ("cp932", "euc_jp")
_ERRORS = "kensaku-count"
_bad_bytes = threading.local()


@dataclass(frozen=True)
class Decoded:
    """A document's text, the encoding it was read in, and how many bytes fit no character."""

    text: str
    encoding: str
    bad_bytes: int = 0
    first_bad_line: int = 0

    def warning(self) -> str | None:
        """One line on the bytes replaced, or None when there were none."""
        if not self.bad_bytes:
            return None
        count = "1 byte" if self.bad_bytes == 1 else f"{self.bad_bytes} bytes"
        return (
            f"{count} not valid in {self.encoding} replaced with U+FFFD "
            f"(the first on line {self.first_bad_line})"
        )


def decode(data: bytes, declared: str | None = None) -> Decoded:
    """The text of `data`; `declared` is the charset the document names for itself, if any.
    Raises UnreadableDocument for binary data and for bytes in no encoding we know."""
    bom = _by_bom(data)
    if bom is not None:
        return bom
    nul = data.find(b"\0", 0, BINARY_SNIFF_BYTES)
    if nul >= 0:
        raise UnreadableDocument(f"it is a binary file (a NUL byte at offset {nul})")
    encoding = _CHARSET_NAMES.get((declared or "").strip().lower())
    if encoding:
        fits = _decode_counting(data, encoding)
        if fits.bad_bytes <= _bad_limit(data):
            return fits
    if _ISO_2022_JP_ESCAPE.search(data) and data.isascii():
        return _decode_counting(data, "iso2022_jp_ext")
    try:
        return Decoded(data.decode("utf-8"), "UTF-8")
    except UnicodeDecodeError:
        pass
    best = _most_plausible(data)
    if best is None:
        raise UnreadableDocument("it is not text in UTF-8, Shift_JIS, EUC-JP or ISO-2022-JP")
    return best


def _by_bom(data: bytes) -> Decoded | None:
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return _decode_counting(data[len(bom) :], encoding)
    return None


def _most_plausible(data: bytes) -> Decoded | None:
    """UTF-8 with a few bad bytes, CP932 or EUC-JP: the reading with the fewest bad bytes among
    those that read as Japanese, preferring UTF-8, then CP932, when they tie."""
    utf8 = _decode_counting(data, "utf-8")
    if _mostly_utf8(utf8):
        return utf8
    limit = _bad_limit(data)
    readings = [utf8] + [_decode_counting(data, encoding) for encoding in _LEGACY_ENCODINGS]
    plausible = [
        reading
        for reading in readings
        if reading.bad_bytes <= limit
        and (reading.encoding == "UTF-8" or japanese_share(reading.text) >= MIN_JAPANESE_SHARE)
    ]
    if not plausible:
        return None
    fewest = min(reading.bad_bytes for reading in plausible)
    tied = [reading for reading in plausible if reading.bad_bytes == fewest]
    return max(tied, key=lambda reading: japanese_share(reading.text))


def _mostly_utf8(reading: Decoded) -> bool:
    """Whether UTF-8 with a few bad bytes is the right reading: legacy encodings form valid UTF-8
    sequences only by chance, so many valid ones mean a damaged UTF-8 file, not mojibake."""
    valid = (
        len(reading.text)
        - len(reading.text.encode("ascii", "ignore"))
        - reading.text.count("\ufffd")
    )
    return valid > 10 * reading.bad_bytes


def _bad_limit(data: bytes) -> int:
    non_ascii = len(data) - len(data.translate(None, bytes(range(0x80, 0x100))))
    return max(3, int(non_ascii * MAX_BAD_SHARE))


def _decode_counting(data: bytes, encoding: str) -> Decoded:
    """`data` in `encoding`, every byte that fits no character replaced and counted."""
    _bad_bytes.count, _bad_bytes.first = 0, -1
    text = codecs.decode(data, encoding, _ERRORS)
    first = _bad_bytes.first
    line = codecs.decode(data[:first], encoding, "replace").count("\n") + 1 if first >= 0 else 0
    return Decoded(text, _display_name(encoding), _bad_bytes.count, line)


def _display_name(encoding: str) -> str:
    return {
        "utf-8": "UTF-8",
        "cp932": "Shift_JIS (CP932)",
        "euc_jp": "EUC-JP",
        "iso2022_jp_ext": "ISO-2022-JP",
        "utf-16": "UTF-16",
        "utf-16-le": "UTF-16",
        "utf-16-be": "UTF-16",
        "utf-32-le": "UTF-32",
        "utf-32-be": "UTF-32",
        "cp1252": "Windows-1252",
    }.get(encoding, encoding)


def _count_and_replace(error: UnicodeError) -> tuple[str, int]:
    """The error handler: EUC-JP's vendor characters read as such; any other bad byte becomes
    U+FFFD and is counted."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    if error.encoding.replace("-", "_") in ("euc_jp", "eucjp"):
        vendor = _eucjp_vendor_character(error.object, error.start)
        if vendor is not None:
            return vendor
    if _bad_bytes.first < 0:
        _bad_bytes.first = error.start
    _bad_bytes.count += error.end - error.start
    return "\ufffd", error.end


def _eucjp_vendor_character(data: bytes, at: int) -> tuple[str, int] | None:
    """(the character, where the next one starts) for an eucJP-ms or CP51932 vendor character
    at `at`: NEC's row 13 (①, ㈱) and NEC-selected IBM extensions (rows 89-92), which CP932 has
    at the same JIS row and cell, and eucJP-ms's IBM extensions after 0x8F."""
    first = data[at]
    if first == 0x8F and at + 2 < len(data):
        index = (data[at + 1] - 0xA1) * 94 + (data[at + 2] - 0xA1) - _EUCJP_MS_IBM_FIRST
        if (
            data[at + 1] in (0xF3, 0xF4)
            and 0 <= index < len(_EUCJP_MS_IBM)
            and data[at + 2] >= 0xA1
        ):
            return _EUCJP_MS_IBM[index], at + 3
        return None
    if 0xA1 <= first <= 0xFE and at + 1 < len(data) and 0xA1 <= data[at + 1] <= 0xFE:
        try:
            return _jis_to_sjis(first - 0x80, data[at + 1] - 0x80).decode("cp932"), at + 2
        except UnicodeDecodeError:
            return None
    return None


def _jis_to_sjis(row: int, cell: int) -> bytes:
    """The Shift_JIS bytes of JIS X 0208 code point (row, cell), each 0x21..0x7E."""
    lead = (row + 1) // 2 + (0x70 if row <= 0x5E else 0xB0)
    trail = cell + (31 if cell <= 95 else 32) if row % 2 else cell + 126
    return bytes([lead, trail])


codecs.register_error(_ERRORS, _count_and_replace)


def japanese_share(text: str) -> float:
    """The share of the non-ASCII characters of `text` that are plausible in Japanese text."""
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    if not non_ascii:
        return 1.0
    # re caches the compiled pattern; compiling it at import would cost every search 3 ms.
    plausible = len(re.findall(_JAPANESE, text)) + len(_HALF_WIDTH_KANA.findall(text)) / 2
    return plausible / non_ascii
