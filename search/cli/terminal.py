"""Terminal text: how wide text shows (a kanji takes two cells), cutting it to a width, and
making control characters visible, so that a query or a document cannot ring the bell, move the
cursor or recolour the terminal of whoever prints it."""

from __future__ import annotations

import shutil
import unicodedata

ELLIPSIS = "…"
# C0 controls show as their Control Pictures (␇ for BEL), DEL as ␡, C1 controls as U+FFFD; a tab
# or line break inside one line of output as a space.
_VISIBLE = {code: chr(0x2400 + code) for code in range(0x20)}
_VISIBLE.update({0x7F: "\u2421", **{code: "\ufffd" for code in range(0x80, 0xA0)}})
_VISIBLE.update({ord("\t"): " ", ord("\n"): " ", ord("\r"): " "})


def printable(text: str) -> str:
    """`text` on one line, with every control character replaced by a visible one."""
    return text.translate(_VISIBLE)


def cells(text: str) -> int:
    """How many terminal cells `text` takes: two for a wide character, none for a combining one."""
    if text.isascii():
        return len(text)
    return sum(_cells(char) for char in text)


def _cells(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in "WF" else 1


def fit(text: str, width: int) -> str:
    """`text` cut to at most `width` cells, ending in … when cut."""
    if cells(text) <= width:
        return text
    kept, used = [], cells(ELLIPSIS)
    for char in text:
        used += _cells(char)
        if used > width:
            break
        kept.append(char)
    return "".join(kept) + ELLIPSIS if width >= cells(ELLIPSIS) else ""


def width() -> int:
    """The width of the terminal, in cells (80 when it cannot be told)."""
    return shutil.get_terminal_size((80, 24)).columns
