"""Many packed arrays (codec.packed) written or read at once with numpy, byte for byte as
`packed.pack` writes each and `packed.unpack` reads it: the writer's path, which packs every
posting list and term block of a field in a few array operations instead of a Python call per
array, and the reader's for a long posting list read whole.

Arrays are given as their items run together (`values`, unsigned 64-bit), each array's `counts`;
`widths` gives each array's width, `packed_sizes` its bytes, `scatter` writes the arrays' bytes
into an output buffer at the offsets the caller laid them out at, and `gather` reads them back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from search.index.codec.packed import PARTS

if TYPE_CHECKING:
    import numpy


def widths(values: numpy.ndarray, counts: numpy.ndarray) -> numpy.ndarray:
    """Each array's width: the bit length of its largest item (every count above 0)."""
    import numpy

    starts = numpy.cumsum(counts) - counts
    return bit_lengths(numpy.maximum.reduceat(values, starts))


def bit_lengths(values: numpy.ndarray) -> numpy.ndarray:
    """The bit length of each unsigned integer."""
    import numpy

    powers = numpy.left_shift(numpy.uint64(1), numpy.arange(64, dtype=numpy.uint64))
    return numpy.searchsorted(powers, values.astype(numpy.uint64), side="right").astype(numpy.int64)


def packed_sizes(widths: numpy.ndarray, counts: numpy.ndarray) -> numpy.ndarray:
    """Each packed array's bytes, its width byte included (`packed.packed_size` of each)."""
    import numpy

    widths = widths.astype(numpy.int64)
    counts = counts.astype(numpy.int64)
    sizes = 1 + (widths >> 3) * counts
    for k in PARTS:
        sizes += numpy.where(widths & k, (counts * k + 7) // 8, 0)
    return sizes


def scatter(
    out: numpy.ndarray,
    values: numpy.ndarray,
    counts: numpy.ndarray,
    widths: numpy.ndarray,
    offsets: numpy.ndarray,
) -> None:
    """Write each array (its `counts[a]` items of `values`, at width `widths[a]`) packed into
    `out` (uint8) from `offsets[a]`: its width byte, its byte planes, its bit planes."""
    import numpy

    if not len(counts):
        return
    # Narrow types where they hold everything: half the memory to go through.
    at_type = numpy.int32 if len(out) < 1 << 31 else numpy.int64
    value_type = numpy.uint32 if widths.max() <= 32 else numpy.uint64
    counts = counts.astype(at_type)
    widths = widths.astype(at_type)
    offsets = offsets.astype(at_type)
    out[offsets] = widths
    values = values.astype(value_type, copy=False)
    full = widths >> 3
    rest = widths & 7
    # Each item's place in its array, and its array's count and first byte after the width.
    index = numpy.arange(len(values), dtype=at_type)
    index -= numpy.repeat(numpy.cumsum(counts, dtype=at_type) - counts, counts)
    count_of = numpy.repeat(counts, counts)
    base = numpy.repeat(offsets + 1, counts)
    full_of = numpy.repeat(full, counts)
    for j in range(int(full.max())):
        if j == 0 and full.min() > 0:
            out[base + index] = values.astype(numpy.uint8)  # the low bytes: no mask needed
            continue
        wide = full_of > j
        at = base[wide] + j * count_of[wide] + index[wide]
        out[at] = (values[wide] >> value_type(8 * j)).astype(numpy.uint8)
    if not rest.any():
        return
    rest_of = numpy.repeat(rest, counts)
    plane_at = base + full_of * count_of  # where each item's next bit plane starts
    for k in PARTS:
        holding = (rest_of & k) != 0
        if holding.any():
            chosen = numpy.flatnonzero(holding)
            shift = (8 * full_of[chosen] + (rest_of[chosen] & (k - 1))).astype(value_type)
            fields = ((values[chosen] >> shift) & value_type((1 << k) - 1)).astype(numpy.uint8)
            bit = index[chosen] * k
            at = plane_at[chosen] + (bit >> 3)
            fields <<= (bit & 7).astype(numpy.uint8)
            # The fields of one byte are neighbours: their sum is their union.
            first = numpy.ones(len(at), bool)
            numpy.not_equal(at[1:], at[:-1], out=first[1:])
            starts = numpy.flatnonzero(first)
            out[at[starts]] = numpy.add.reduceat(fields, starts)
            plane_at[chosen] += (count_of[chosen] * k + 7) >> 3


def gather(data: numpy.ndarray, offsets: numpy.ndarray, count: int) -> numpy.ndarray:
    """The items of the packed arrays of `count` items each at `offsets` in `data` (uint8), a
    row each (uint64): `scatter` undone, for every array at once. No array may hold doubles;
    CompactFormatError where one runs past the end of `data`."""
    import numpy

    from search.index.codec.packed import CompactFormatError

    offsets = offsets.astype(numpy.int64)
    rows = len(offsets)
    values = numpy.zeros((rows, count), numpy.uint64)
    if not rows:
        return values
    if offsets.min() < 0 or offsets.max() >= len(data):
        raise CompactFormatError("a packed array runs past the end of its block")
    widths = data[offsets].astype(numpy.int64)
    if widths.max() > 64 or (offsets + packed_sizes(widths, numpy.full(rows, count))).max() > len(
        data
    ):
        raise CompactFormatError("a packed array runs past the end of its block")
    full = widths >> 3
    rest = widths & 7
    items = numpy.arange(count)
    for j in range(int(full.max())):
        chosen = numpy.flatnonzero(full > j)
        planes = data[(offsets[chosen] + 1 + j * count)[:, None] + items]
        values[chosen] |= planes.astype(numpy.uint64) << numpy.uint64(8 * j)
    plane_at = offsets + 1 + full * count
    for k in PARTS:
        holding = (rest & k) != 0
        chosen = numpy.flatnonzero(holding)
        size = (count * k + 7) // 8
        if len(chosen):
            planes = data[plane_at[chosen][:, None] + numpy.arange(size)]
            fields = numpy.empty((len(chosen), size, 8 // k), numpy.uint8)
            for slot in range(8 // k):
                fields[:, :, slot] = (planes >> (slot * k)) & ((1 << k) - 1)
            shift = (8 * full[chosen] + (rest[chosen] & (k - 1))).astype(numpy.uint64)
            values[chosen] |= (
                fields.reshape(len(chosen), -1)[:, :count].astype(numpy.uint64) << shift[:, None]
            )
        plane_at += numpy.where(holding, size, 0)
    return values
