"""Posting lists, `.kps`: each term's postings, in blocks, written and read side by side.

Layout: b"KSp2", then per term (in the term dictionary's order) its posting list, made of packed
arrays (codec.packed: bit-packed, no deflate):
  * a list of more than BLOCK (128) postings starts with skip data: each block's last docnum,
    each block's byte size, each block's max weight, and each block's minimum length byte (as
    W3's block info has it), four packed arrays;
  * then the blocks, each: the docnum deltas (from the previous block's last docnum; for the
    first block from the term's first docnum, which the term info holds); for a kind with weights (positions, frequencies, values) the weights less one
    (weights that are not all integers: the weights, as doubles); then for a positional field
    the position deltas of all the block's postings run together, each document's first
    position from 0 and the others from the position before; for a field of values their byte
    lengths, then their bytes. A list of one posting stores neither docnum nor weight (the term
    info has both): only its positions, or values.

`encode_postings` writes one term's list (and index.codec.bulk all of a field's at once, the same
bytes); `PostingList` reads one (its blocks, or all its docnums and weights at once as numpy
arrays). A term's statistics (`TermStats`) and where its list is (`CompactTermInfo`) are what the
terms dictionary keeps of it.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from itertools import accumulate, chain, islice
from operator import sub
from typing import TYPE_CHECKING, Any, NamedTuple, cast, overload

from whoosh import formats
from whoosh.reading import TermInfo
from whoosh.util.numeric import byte_to_length, length_to_byte

from search.index.codec.packed import (
    DOUBLES,
    Bytes,
    CompactFormatError,
    pack,
    pack_numbers,
    unpack,
)

if TYPE_CHECKING:
    import numpy

POSTS_EXT = ".kps"
POSTINGS_MAGIC = b"KSp2"
BLOCK = 128  # postings per block
_GATHERED = 4  # blocks from which a list read whole is decoded by numpy at once

POSITIONS, FREQUENCY, EXISTENCE, VALUES = range(4)  # field kinds

LengthBytes = bytes | bytearray  # a field's length byte of each document of a segment


def field_kind(fieldobj: Any) -> int:
    """How a field's postings are stored: its positions, its frequencies, nothing, or the
    format's value bytes (any format but plain Positions, Frequency, Existence)."""
    fmt = fieldobj.format
    if fmt is None or fmt.field_boost != 1.0:
        return VALUES
    kind: int = {
        formats.Positions: POSITIONS,
        formats.Frequency: FREQUENCY,
        formats.Existence: EXISTENCE,
    }.get(type(fmt), VALUES)
    return kind


class TermStats(NamedTuple):
    """What the terms dictionary keeps of a term, besides its postings' size."""

    df: int
    weight: float
    max_weight: float
    min_length_byte: int
    max_length_byte: int
    min_id: int
    max_id: int


class CompactTermInfo(TermInfo):
    """A term's info: Whoosh's statistics, and where its postings are."""

    def __init__(self, stats: TermStats, offset: int, length: int) -> None:
        df, weight, maxw, minlb, maxlb, minid, maxid = stats
        TermInfo.__init__(
            self,
            float(weight),
            df,
            byte_to_length(minlb),
            byte_to_length(maxlb),
            float(maxw),
            minid,
            maxid,
        )
        self._offset = offset
        self._length = length

    def extent(self) -> tuple[int, int]:
        return self._offset, self._length

    def is_inlined(self) -> bool:
        return False

    def stats(self) -> TermStats:
        return TermStats(
            self._df,
            self._weight,
            self._maxweight,
            length_to_byte(self._minlength),
            length_to_byte(self._maxlength),
            self._minid,
            self._maxid,
        )


# Writing ---------------------------------------------------------------------------------------


def once(docnum: int, lengths: LengthBytes | None) -> TermStats:
    """The stats of a term found once, in document `docnum` (what encode_postings gives)."""
    length_byte = lengths[docnum] if lengths is not None else 0
    return TermStats(1, 1, 1, length_byte, length_byte, docnum, docnum)


def has_weights(kind: int) -> bool:
    """Whether a kind of field stores each posting's weight."""
    return kind != EXISTENCE


def _weights(weights: Sequence[float]) -> bytes:
    """A block's weights: less one, packed, or as doubles when they are not all integers."""
    if all(type(w) is int or w == int(w) for w in weights):
        return pack([int(w) - 1 for w in weights])
    return pack_numbers(weights)


def _block(
    kind: int,
    docs: Sequence[int],
    base: int,
    weights: Sequence[float],
    positions: Sequence[int] | None,
    values: Sequence[bytes] | None,
    single: bool,
) -> bytes:
    """One block (see the module's docstring)."""
    parts = []
    if not single:
        parts.append(pack(list(map(sub, docs, chain((base,), docs)))))
        if has_weights(kind):
            parts.append(_weights(weights))
    if kind == POSITIONS and positions is not None:
        parts.append(pack(_position_deltas(positions, weights)))
    elif kind == VALUES and values is not None:
        parts.append(pack(list(map(len, values))) + b"".join(values))
    return b"".join(parts)


def _position_deltas(positions: Sequence[int], weights: Sequence[float]) -> list[int]:
    """Each document's positions (`weights` of them each), as deltas: the first from 0."""
    deltas = list(map(sub, positions, chain((0,), positions)))
    at = 0
    for weight in weights:
        deltas[at] = positions[at]
        at += int(weight)
    if min(deltas, default=0) < 0:
        raise ValueError("a document's positions are not ascending")
    return deltas


def encode_postings(
    kind: int,
    docnums: Sequence[int],
    weights: Sequence[float] | None,
    positions: Sequence[int] | None,
    values: Sequence[bytes] | None,
    lengthbytes: bytes | None,
) -> tuple[bytes, TermStats]:
    """One term's posting list and its stats. `docnums` ascending; `weights` (None: all 1;
    integral ones as ints) one per posting; `positions` (a positional kind) each document's
    positions ascending, run together; `values` (VALUES kind) one bytes per posting;
    `lengthbytes` the field's length byte of each posting's document (None: not scorable)."""
    count = len(docnums)
    if count == 0:
        raise ValueError("a term without postings")
    if kind == EXISTENCE or weights is None:
        weights = [1] * count
    total: float = sum(weights)
    max_weight: float = max(weights)
    if kind == POSITIONS and (positions is None or len(positions) != total):
        raise ValueError("positions do not add up to the frequencies")
    if kind == VALUES and values is None:
        raise ValueError("a term of a field of values without its values")
    if lengthbytes:
        minlb, maxlb = min(lengthbytes), max(lengthbytes)
    else:
        minlb = maxlb = 0
    stats = TermStats(count, total, max_weight, minlb, maxlb, docnums[0], docnums[-1])
    if count <= BLOCK:
        return _block(kind, docnums, docnums[0], weights, positions, values, count == 1), stats
    return _in_blocks(kind, docnums, weights, positions, values, lengthbytes), stats


def _in_blocks(
    kind: int,
    docnums: Sequence[int],
    weights: Sequence[float],
    positions: Sequence[int] | None,
    values: Sequence[bytes] | None,
    lengthbytes: bytes | None,
) -> bytes:
    """A posting list of more than one block: its skip data, then its blocks."""
    count = len(docnums)
    blocks: list[bytes] = []
    lasts: list[int] = []
    maxws: list[float] = []
    minlbs: list[int] = []
    pos_at = 0
    base = docnums[0]
    for start in range(0, count, BLOCK):
        end = min(start + BLOCK, count)
        bdocs = docnums[start:end]
        bweights = weights[start:end]
        bpositions = bvalues = None
        if kind == POSITIONS and positions is not None:
            n = int(sum(bweights))
            bpositions = positions[pos_at : pos_at + n]
            pos_at += n
        elif kind == VALUES and values is not None:
            bvalues = values[start:end]
        blocks.append(_block(kind, bdocs, base, bweights, bpositions, bvalues, False))
        base = bdocs[-1]
        lasts.append(base)
        maxws.append(max(bweights))
        minlbs.append(min(lengthbytes[start:end]) if lengthbytes else 0)
    skips = pack(lasts) + pack(list(map(len, blocks))) + pack_numbers(maxws) + pack(minlbs)
    return skips + b"".join(blocks)


# Reading ---------------------------------------------------------------------------------------


class BlockPositions(Sequence[list[int]]):
    """The positions of a block's postings: item i is the list of posting i's positions. The
    block's position deltas are unpacked on first use (checked to end where the block ends),
    and each posting's list summed up only when asked for (a phrase reading a block through
    keeps only its candidates)."""

    __slots__ = ("_at", "_data", "_deltas", "_end", "_starts", "_weights")

    def __init__(self, data: Bytes, at: int, end: int, weights: Sequence[int]) -> None:
        self._data: Bytes = data
        self._at = at
        self._end = end
        self._weights = weights
        self._deltas: array | None = None
        self._starts: list[int] | None = None

    def _unpacked(self) -> tuple[array, list[int]]:
        if self._deltas is None or self._starts is None:
            self._starts = list(accumulate(self._weights, initial=0))
            self._deltas, end = unpack(self._data, self._at, self._starts[-1])
            if end != self._end:
                raise CompactFormatError("a posting block's positions do not fill it")
            self._data = b""
        return self._deltas, self._starts

    def lists(self) -> list[list[int]]:
        """Every posting's positions."""
        deltas, starts = self._unpacked()
        return [list(accumulate(deltas[a:b])) for a, b in zip(starts, islice(starts, 1, None))]

    def __len__(self) -> int:
        return len(self._weights)

    @overload
    def __getitem__(self, i: int) -> list[int]: ...

    @overload
    def __getitem__(self, i: slice) -> list[list[int]]: ...

    def __getitem__(self, i: int | slice) -> list[int] | list[list[int]]:
        if isinstance(i, slice):
            return self.lists()[i]
        if i < 0:
            i += len(self._weights)
        deltas, starts = self._unpacked()
        return list(accumulate(deltas[starts[i] : starts[i + 1]]))

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self.lists())


class Block(NamedTuple):
    """One block of postings: docnums ascending, weights (ints for frequencies), and the
    positions (a BlockPositions), the values (a list of bytes) or None."""

    docnums: list[int]
    weights: Sequence[float]
    values: BlockPositions | list[bytes] | None


class PostingList:
    """A term's posting list in one segment, read with one file read; its blocks' last docnums
    (`lasts`), max weights and min length bytes are known before any block is decoded."""

    lasts: Sequence[int]
    starts: Sequence[int]
    max_weights: Sequence[float]
    min_lengths: Sequence[int]

    def __init__(self, data: Bytes, info: CompactTermInfo, kind: int) -> None:
        self.data = data
        self.info = info
        self.kind = kind
        count: int = info.doc_frequency()
        self.count = count
        nblocks = -(-count // BLOCK)
        self.nblocks = nblocks
        if nblocks == 1:
            self.lasts = (info.max_id(),)
            self.starts = (0, len(data))
            self.max_weights = (info.max_weight(),)
            self.min_lengths = (length_to_byte(info.min_length()),)
        else:
            self.lasts, at = unpack(data, 0, nblocks)
            sizes, at = unpack(data, at, nblocks)
            self.max_weights, at = unpack(data, at, nblocks)
            self.min_lengths, at = unpack(data, at, nblocks)
            self.starts = list(accumulate(sizes, initial=at))
            if self.starts[-1] != len(data):
                raise CompactFormatError("a posting list's blocks do not fill it")

    def block_count(self, i: int) -> int:
        return BLOCK if i < self.nblocks - 1 else self.count - BLOCK * i

    def arrays(self) -> tuple[numpy.ndarray, numpy.ndarray]:
        """Every posting's docnum and weight, as two numpy arrays (int64, float64): the heads of
        the blocks decoded and run together, for scoring a long list in bulk."""
        import numpy

        if self.count == 1:
            info = self.info
            return (
                numpy.array([info.min_id()], numpy.int64),
                numpy.array([info.weight()], numpy.float64),
            )
        if self.nblocks >= _GATHERED and self.kind != VALUES:
            return self._gathered()
        deltas, weights = [], []
        for i in range(self.nblocks):
            block_deltas, packed, less_one, _ = self._packed_head(i)
            deltas.append(numpy.frombuffer(block_deltas, block_deltas.typecode))
            if packed is None:
                weights.append(numpy.ones(len(block_deltas)))
            else:
                found = numpy.frombuffer(packed, packed.typecode).astype(numpy.float64)
                weights.append(found + 1 if less_one else found)
        # A block's first delta is from the block before's last docnum: one running sum.
        return (
            self._docnums(numpy.concatenate(deltas)),
            numpy.concatenate(weights),
        )

    def _gathered(self) -> tuple[numpy.ndarray, numpy.ndarray]:
        """`arrays` of a long list: the heads of its full blocks read at once by numpy, its last
        block's as `arrays` reads any."""
        import numpy

        from search.index.codec.packing import gather, packed_sizes

        data = numpy.frombuffer(self.data, numpy.uint8)
        full = self.nblocks - 1
        starts = numpy.array(self.starts[:full], numpy.int64)
        last_deltas, last_weights, less_one, _ = self._packed_head(full)
        last_count = len(last_deltas)
        deltas = numpy.empty(self.count, numpy.uint64)
        weights = numpy.ones(self.count)
        deltas[full * BLOCK :] = last_deltas
        if not has_weights(self.kind):
            deltas[: full * BLOCK] = gather(data, starts, BLOCK).reshape(-1)
            return self._docnums(deltas), weights
        weights_at = starts + packed_sizes(data[starts], numpy.full(full, BLOCK))
        if weights_at.max() >= len(data) or (data[weights_at] == DOUBLES).any():
            raise CompactFormatError("a posting block's weights are damaged")
        both = gather(data, numpy.concatenate((starts, weights_at)), BLOCK)
        deltas[: full * BLOCK] = both[:full].reshape(-1)
        weights[: full * BLOCK] = both[full:].reshape(-1) + 1
        if last_weights is not None:
            weights[full * BLOCK :] = numpy.frombuffer(last_weights, last_weights.typecode)
            weights[full * BLOCK :] += 1 if less_one else 0
        assert last_count == self.count - full * BLOCK
        return self._docnums(deltas), weights

    def _docnums(self, deltas: numpy.ndarray) -> numpy.ndarray:
        """Every docnum, from every block's deltas run together."""
        import numpy

        found = numpy.cumsum(deltas, dtype=numpy.int64)
        found += self.info.min_id()
        return found

    def _packed_head(self, i: int) -> tuple[array, array | None, bool, int]:
        """Block `i`'s docnum deltas and weights as packed (of a list of two postings or
        more): None for all 1, and whether they are stored less one; and where its tail
        starts."""
        n = self.block_count(i)
        data = self.data
        deltas, at = unpack(data, self.starts[i], n)
        if not has_weights(self.kind):
            return deltas, None, False, at
        try:
            width = data[at]
        except IndexError:
            raise CompactFormatError("a posting block is cut short") from None
        if width == 0:  # all 1
            return deltas, None, False, at + 1
        weights, at = unpack(data, at, n)
        return deltas, weights, width != DOUBLES, at

    def _head(self, i: int) -> tuple[array, Sequence[float], int]:
        """Block `i`'s docnum deltas and weights (of a list of two postings or more), and where
        its tail starts."""
        n = self.block_count(i)
        data = self.data
        deltas, at = unpack(data, self.starts[i], n)
        if not has_weights(self.kind):
            return deltas, (1,) * n, at
        if at < len(data) and data[at] == 0:  # all 1
            return deltas, (1,) * n, at + 1
        weights, at = unpack(data, at, n, plus_one=True)
        return deltas, weights, at

    def block(self, i: int, values: bool = True) -> Block:
        """Decode block `i` (its positions or values only with `values`; positions lazily)."""
        data = self.data
        start, end = self.starts[i], self.starts[i + 1]
        weights: Sequence[float]
        if self.count == 1:  # the block holds no head: the term info has the posting
            tail = start
            info = self.info
            docnums = [info.min_id()]
            weight = info.weight()
            weights = (int(weight) if weight == int(weight) else weight,)
        else:
            deltas, weights, tail = self._head(i)
            base = self.lasts[i - 1] if i else self.info.min_id()
            docnums = list(accumulate(deltas, initial=base))
            del docnums[0]
            if docnums[-1] != self.lasts[i]:
                raise CompactFormatError("a posting block's docnums do not end at its last")
        found: BlockPositions | list[bytes] | None = None
        if values and self.kind == POSITIONS:
            # A positional field's weights are its frequencies, ints.
            found = BlockPositions(data, tail, end, cast(Sequence[int], weights))
        elif values and self.kind == VALUES:
            lengths, at = unpack(data, tail, len(weights))
            ends = list(accumulate(lengths, initial=at))
            if ends[-1] != end:
                raise CompactFormatError("a posting block's values do not fill it")
            found = [bytes(data[a:b]) for a, b in zip(ends, islice(ends, 1, None))]
        return Block(docnums, weights, found)

    def blocks(self, among: Sequence[int] | None = None, values: bool = False) -> Iterator[Block]:
        """The blocks in order. With `among` (ascending docnums), blocks holding none of them
        are skipped undecoded (the blocks given may hold others too); the positions or values
        are given with `values`, else None."""
        lasts = self.lasts
        wanted_from = 0
        for i in range(self.nblocks):
            if among is not None:
                wanted_to = bisect_right(among, lasts[i], wanted_from)
                if wanted_to == wanted_from:
                    if wanted_from == len(among):
                        return
                    continue
                wanted_from = wanted_to
            yield self.block(i, values)
