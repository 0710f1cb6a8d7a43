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


def widths(values: numpy.ndarray, counts: numpy.ndarray, quick: bool = False) -> numpy.ndarray:
    """Each array's width: the bit length of its largest item (every count above 0); with
    `quick`, its `packed.quick_width`."""
    import numpy

    starts = numpy.cumsum(counts) - counts
    found = bit_lengths(numpy.maximum.reduceat(values, starts))
    if quick:
        rest = found & 7
        found = numpy.minimum(
            numpy.where(rest == 3, found + 1, numpy.where(rest > 4, found + 8 - rest, found)), 64
        )
    return found


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
    `out` (uint8) from `offsets[a]`: its width byte, its byte planes, its bit planes. A plane
    is written for the arrays that have it: their items picked out, each array's plane laid
    after its planes before."""
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
    items = _Items(counts, at_type)
    plane_at = offsets + 1  # where each array's next plane starts
    for j in range(int(full.max())):
        chosen = numpy.flatnonzero(full > j)
        picked, within = items.of(chosen)
        plane = values if picked is None else values[picked]
        if j:
            plane = plane >> value_type(8 * j)
        out[numpy.repeat(plane_at[chosen], counts[chosen]) + within] = plane.astype(numpy.uint8)
        plane_at[chosen] += counts[chosen]
    for k in PARTS:
        chosen = numpy.flatnonzero(rest & k)
        if not len(chosen):
            continue
        chosen_counts = counts[chosen]
        picked, within = items.of(chosen)
        shifts = (8 * full[chosen] + (rest[chosen] & (k - 1))).astype(value_type)
        fields = values if picked is None else values[picked]
        fields = (fields >> numpy.repeat(shifts, chosen_counts)) & value_type((1 << k) - 1)
        fields = fields.astype(numpy.uint8)
        bit = within * k
        at = numpy.repeat(plane_at[chosen], chosen_counts) + (bit >> 3)
        fields <<= (bit & 7).astype(numpy.uint8)
        # The fields of one byte are neighbours: their sum is their union.
        first = numpy.ones(len(at), bool)
        numpy.not_equal(at[1:], at[:-1], out=first[1:])
        starts = numpy.flatnonzero(first)
        out[at[starts]] = numpy.add.reduceat(fields, starts)
        plane_at[chosen] += (chosen_counts * k + 7) >> 3


class _Items:
    """The items of arrays of `counts` items each, run together: those of some of them."""

    def __init__(self, counts: numpy.ndarray, at_type: type) -> None:
        import numpy

        self.counts = counts
        self.at_type = at_type
        self.firsts = numpy.cumsum(counts, dtype=at_type) - counts
        self._within: numpy.ndarray | None = None

    def of(self, chosen: numpy.ndarray) -> tuple[numpy.ndarray | None, numpy.ndarray]:
        """The items of the arrays `chosen` (ascending), and each one's place in its array;
        None for the items when every array is chosen (they are all of them, in order)."""
        if len(chosen) == len(self.counts):
            if self._within is None:
                self._within = self._places(self.counts)
            return None, self._within
        import numpy

        counts = self.counts[chosen]
        within = self._places(counts)
        return numpy.repeat(self.firsts[chosen], counts) + within, within

    def _places(self, counts: numpy.ndarray) -> numpy.ndarray:
        import numpy

        starts = numpy.cumsum(counts, dtype=self.at_type) - counts
        places: numpy.ndarray = numpy.arange(int(counts.sum()), dtype=self.at_type)
        places -= numpy.repeat(starts, counts)
        return places


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
