"""The byte helpers every file of the codec shares: packed integer arrays and raw deflate.

A packed array is one tag byte, the array's typecode (`B H I Q` unsigned, `b h i q` signed,
`f d` floats), then the items. Arrays of items wider than a byte are stored as byte planes (all
low bytes, then all second bytes, ...), so that the zlib pass sees long runs of zero high bytes;
decoding is `bytearray` slice assignment and `array.frombytes`, all C-level. The item count is
never stored: the reader knows it. "Compressed" means raw deflate (zlib without its 6 bytes of
header and checksum). All integers are little-endian.
"""

from __future__ import annotations

import struct
import sys
import zlib
from array import array
from collections.abc import Iterable, Sequence
from typing import cast

ZLIB = 1  # the flag of a compressed body, in every kind of block
_ZLIB_MIN = 32  # bodies shorter than this are never compressed
U16 = struct.Struct("<H")
U32 = struct.Struct("<I")
_BIG_ENDIAN = sys.byteorder == "big"
_ITEM_SIZES = {code: array(code).itemsize for code in "BHIQbhiqfd"}

# What `data` may be when read: the bytes of a file, or a slice of them.
Bytes = bytes | bytearray | memoryview


class CompactFormatError(ValueError):
    """A file of this format is damaged (bad magic, truncated, undecodable)."""


def _unsigned_code(high: int) -> str:
    if high < 0x100:
        return "B"
    if high < 0x10000:
        return "H"
    return "I" if high < 0x100000000 else "Q"


def _signed_code(low: int, high: int) -> str:
    if low >= -0x80 and high < 0x80:
        return "b"
    if low >= -0x8000 and high < 0x8000:
        return "h"
    return "i" if low >= -0x80000000 and high < 0x80000000 else "q"


def _planes(items: array) -> bytes:
    """The array's tag byte and its items as byte planes."""
    if _BIG_ENDIAN:
        items = array(items.typecode, items)
        items.byteswap()
    raw = items.tobytes()
    width = items.itemsize
    tag = items.typecode.encode("ascii")
    if width == 1:
        return tag + raw
    return tag + b"".join([raw[i::width] for i in range(width)])


def pack_ints(values: Sequence[int], signed: bool = False) -> bytes:
    """A packed array of integers, in the narrowest typecode that holds them."""
    if not len(values):
        return b"B"
    code = _signed_code(min(values), max(values)) if signed else _unsigned_code(max(values))
    return _planes(array(code, values))


def pack_numbers(values: Sequence[float]) -> bytes:
    """Integers as `pack_ints`; values any of which is not integral as doubles."""
    try:
        ints = array("q", cast(Sequence[int], values))  # a float raises TypeError
    except TypeError:  # a float: integral ones are made ints by the writer
        return _planes(array("d", values))
    if len(ints) and min(ints) < 0:
        return pack_ints(ints, signed=True)
    return pack_ints(ints)


def unpack(data: Bytes, at: int, count: int) -> tuple[array, int]:
    """The packed array of `count` items at `at` in `data`, and the offset after it."""
    try:
        items = array(chr(data[at]))
    except (ValueError, IndexError):
        raise CompactFormatError("a packed array has no valid type") from None
    width = items.itemsize
    at += 1
    end = at + count * width
    chunk = data[at:end]
    if len(chunk) != count * width:
        raise CompactFormatError("a packed array runs past the end of its block")
    if width > 1:
        planes = bytearray(count * width)
        for i in range(width):
            planes[i::width] = chunk[i * count : (i + 1) * count]
        chunk = planes
    items.frombytes(chunk)
    if _BIG_ENDIAN and width > 1:
        items.byteswap()
    return items, end


def packed_item(data: Bytes, at: int, count: int, i: int) -> tuple[int | float, int]:
    """Item `i` of the packed array of `count` items at `at` (see `unpack`), and the offset
    after the array."""
    try:
        code = chr(data[at])
        width = _ITEM_SIZES[code]
    except (KeyError, IndexError):
        raise CompactFormatError("a packed array has no valid type") from None
    start = at + 1 + i
    planes = data[start : start + (width - 1) * count + 1 : count]  # the item's byte in each plane
    if len(planes) != width:
        raise CompactFormatError("a packed array runs past the end of its block")
    item = array(code, bytes(planes))
    if _BIG_ENDIAN and width > 1:
        item.byteswap()
    return item[0], at + 1 + count * width


def integral(weights: Iterable[float]) -> list[int | float]:
    """Weights as ints where they are integral (Whoosh's writer gives floats)."""
    return [int(w) if w == int(w) else w for w in weights]


def compress(body: bytes, level: int) -> tuple[int, bytes]:
    """`body` deflated where that pays (with ZLIB, the flag saying so), else as it is (0)."""
    if level and len(body) >= _ZLIB_MIN:
        deflate = zlib.compressobj(level, zlib.DEFLATED, -15)
        packed = deflate.compress(body) + deflate.flush()
        if len(packed) < len(body):
            return ZLIB, packed
    return 0, body


def decompress(data: Bytes, what: str) -> bytes:
    """Raw deflate undone; CompactFormatError naming `what` when it does not decompress."""
    try:
        return zlib.decompress(data, -15)
    except zlib.error as error:
        raise CompactFormatError(f"{what} does not decompress: {error}") from None
