"""The packed arrays every file of the codec is made of: integers bit-packed at the width of the
largest, laid out so that stdlib calls at C level decode them (no deflate, no numpy).

A packed array of `count` items is a width byte w, then the items (the count is never stored:
the reader knows it):
  * w in 0..64: unsigned integers of w bits. With w = 8q + r: q byte planes (plane j holds byte j
    of every item, `count` bytes), then for each of 1, 2 and 4 that r holds (in that order) a
    bit plane of k-bit fields, ceil(count * k / 8) bytes: item i's field (its bits 8q + (r & (k -
    1)) up) at bit (i * k) % 8 of the plane's byte (i * k) // 8. So w = 0 is no bytes (all
    items 0), w = 8 is the items' bytes as they are;
  * w = 255 (DOUBLES): `count` little-endian doubles (weights that are not integers).
A byte plane is sliced into a `bytearray` at the stride of its byte, a bit plane spread into one
byte per item by `bytes.translate` (one table per field of a byte) and joined to its neighbours by
one integer `|`; `array.frombytes` makes the items. `packed_item` reads one item alone.
All integers are little-endian.

`codec.packing` writes many packed arrays at once with numpy, byte for byte as `pack`.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Callable, Iterable, Sequence
from itertools import repeat
from operator import add

DOUBLES = 255  # the width byte of an array of doubles
PARTS = (1, 2, 4)  # the bit planes of the widths' remainders, in the order they are stored
U16 = struct.Struct("<H")
U32 = struct.Struct("<I")
_BIG_ENDIAN = sys.byteorder == "big"
_CODES = {0: "B", 1: "B", 2: "H", 3: "I", 4: "I", 5: "Q", 6: "Q", 7: "Q", 8: "Q"}

# What `data` may be when read: the bytes of a file, or a slice of them.
Bytes = bytes | bytearray | memoryview


class CompactFormatError(ValueError):
    """A file of this format is damaged (bad magic, truncated, undecodable)."""


def packed_size(width: int, count: int) -> int:
    """The bytes of a packed array of `count` items of `width` bits, its width byte included."""
    if width == DOUBLES:
        return 1 + 8 * count
    q, r = divmod(width, 8)
    return 1 + q * count + sum((count * k + 7) // 8 for k in PARTS if r & k)


def pack(values: Sequence[int]) -> bytes:
    """A packed array of unsigned integers (below 2**64), at the width of the largest."""
    width = max(values, default=0).bit_length()
    if width > 64 or (values and min(values) < 0):
        raise ValueError("packed integers are unsigned, below 2**64")
    q, r = divmod(width, 8)
    parts = [bytes((width,))]
    if q:
        items = array(_CODES[q + (r > 0)], values)
        if _BIG_ENDIAN:
            items.byteswap()
        raw = items.tobytes()
        size = items.itemsize
        parts += [raw[j::size] for j in range(q)]
    for k in PARTS:
        if r & k:
            shift = 8 * q + (r & (k - 1))
            mask = (1 << k) - 1
            plane = bytearray((len(values) * k + 7) // 8)
            for i, value in enumerate(values):
                plane[i * k // 8] |= ((value >> shift) & mask) << (i * k % 8)
            parts.append(bytes(plane))
    return b"".join(parts)


def pack_numbers(values: Sequence[float]) -> bytes:
    """Integers as `pack`; values any of which is not an integer as doubles."""
    if all(type(value) is int or value == int(value) for value in values):
        return pack([int(value) for value in values])
    return pack_doubles(values)


def pack_doubles(values: Sequence[float]) -> bytes:
    """A packed array of doubles."""
    items = array("d", values)
    if _BIG_ENDIAN:
        items.byteswap()
    return bytes((DOUBLES,)) + items.tobytes()


def integral(weights: Iterable[float]) -> list[int | float]:
    """Weights as ints where they are integral (Whoosh's writer gives floats)."""
    return [int(w) if w == int(w) else w for w in weights]


def _expander(k: int, shift: int) -> Callable[[bytes], bytes | bytearray]:
    """What spreads a k-bit plane into one byte per field (the plane's length times 8 / k, its
    padding fields included), each field shifted left by `shift`: a translation per field of a
    byte, or for narrow fields a join of each byte's spread (quicker where a byte holds many)."""
    per = 8 // k
    mask = (1 << k) - 1
    if k == 4:
        low, high = (
            bytes(((b >> (slot * k)) & mask) << shift for b in range(256)) for slot in (0, 1)
        )

        def by_translation(plane: bytes) -> bytearray:
            spread = bytearray(len(plane) * 2)
            spread[0::2] = plane.translate(low)
            spread[1::2] = plane.translate(high)
            return spread

        return by_translation
    spreads = [
        bytes(((b >> (slot * k)) & mask) << shift for slot in range(per)) for b in range(256)
    ]
    spread_of = spreads.__getitem__

    def by_join(plane: bytes) -> bytes:
        return b"".join(map(spread_of, plane))

    return by_join


# Each remainder's bit planes: their field widths and expanders, in the order they are stored.
_TOPS = [[(k, _expander(k, r & (k - 1))) for k in PARTS if r & k] for r in range(8)]


def _top(data: Bytes, at: int, count: int, r: int) -> tuple[bytes | bytearray, int]:
    """The bits above the byte planes of each item (r of them), one byte an item, from the bit
    planes at `at`; and the offset after them."""
    parts = _TOPS[r]
    if len(parts) == 1:
        k, expand = parts[0]
        size = (count * k + 7) >> 3
        plane = bytes(data[at : at + size])
        if len(plane) != size:
            raise CompactFormatError("a packed array runs past the end of its block")
        spread = expand(plane)
        return (spread if len(spread) == count else spread[:count]), at + size
    top = 0
    for k, expand in parts:
        size = (count * k + 7) >> 3
        plane = bytes(data[at : at + size])
        if len(plane) != size:
            raise CompactFormatError("a packed array runs past the end of its block")
        top |= int.from_bytes(expand(plane), "little")  # padding fields are 0: it fits
        at += size
    try:
        return top.to_bytes(count, "little"), at
    except OverflowError:
        raise CompactFormatError("a packed array's padding is not zero") from None


def unpack(data: Bytes, at: int, count: int, plus_one: bool = False) -> tuple[array, int]:
    """The packed array of `count` items at `at` in `data` (an array of ints, or of floats for
    doubles), and the offset after it; with `plus_one`, its integers plus one (weights stored
    less one)."""
    try:
        width = data[at]
    except IndexError:
        raise CompactFormatError("a packed array runs past the end of its block") from None
    at += 1
    if width == DOUBLES:
        chunk = data[at : at + 8 * count]
        if len(chunk) != 8 * count:
            raise CompactFormatError("a packed array runs past the end of its block")
        doubles = array("d", chunk)
        if _BIG_ENDIAN:
            doubles.byteswap()
        return doubles, at + 8 * count
    if width > 64:
        raise CompactFormatError("a packed array has no valid width")
    q, r = divmod(width, 8)
    end = at + q * count
    if q == 0 or (q == 1 and not r):
        if q:
            items = array("B", data[at:end])
        else:
            top, end = _top(data, at, count, r) if r else (bytes(count), at)
            items = array("B", top.translate(_PLUS_ONE) if plus_one else top)
            plus_one = False
        if len(items) != count:
            raise CompactFormatError("a packed array runs past the end of its block")
        return (_plus_one(items) if plus_one else items), end
    items = array(_CODES[q + (r > 0)])
    size = items.itemsize
    raw = bytearray(count * size)
    for j in range(q):
        plane = data[at + j * count : at + (j + 1) * count]
        if len(plane) != count:
            raise CompactFormatError("a packed array runs past the end of its block")
        raw[j::size] = plane
    if r:
        raw[q::size], end = _top(data, end, count, r)
    items.frombytes(raw)
    if _BIG_ENDIAN:
        items.byteswap()
    return (_plus_one(items) if plus_one else items), end


_PLUS_ONE = bytes(range(1, 129)) + bytes(128)  # a byte below 128, plus one


def _plus_one(items: array) -> array:
    return array("Q", map(add, items, repeat(1, len(items))))


def packed_item(data: Bytes, at: int, count: int, i: int) -> tuple[int | float, int]:
    """Item `i` of the packed array of `count` items at `at` (see `unpack`), and the offset
    after the array."""
    try:
        width = data[at]
        if width == DOUBLES:
            (value,) = struct.unpack_from("<d", data, at + 1 + 8 * i)
            return value, at + 1 + 8 * count
        q, r = divmod(width, 8)
        start = at + 1
        value = 0
        for j in range(q):
            value |= data[start + j * count + i] << (8 * j)
        start += q * count
        for k in PARTS:
            if r & k:
                field = (data[start + i * k // 8] >> (i * k % 8)) & ((1 << k) - 1)
                value |= field << (8 * q + (r & (k - 1)))
                start += (count * k + 7) // 8
    except (IndexError, struct.error):
        raise CompactFormatError("a packed array runs past the end of its block") from None
    if width > 64:
        raise CompactFormatError("a packed array has no valid width")
    return value, at + packed_size(width, count)
