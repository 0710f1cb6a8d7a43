"""Plain text: each non-blank line is a paragraph, whatever the line ending (LF, CRLF or CR)."""

from __future__ import annotations

import re

from search.ingest.readers.base import Block, Extracted
from search.ingest.readers.decoding import decode

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def read_text(data: bytes) -> Extracted:
    """The non-blank lines of a text file as blocks; plain text declares no title."""
    decoded = decode(data)
    blocks = [
        Block(line, number)
        for number, line in enumerate(_LINE_BREAK.split(decoded.text), start=1)
        if line.strip()
    ]
    return Extracted(None, blocks, [warning for warning in [decoded.warning()] if warning])
