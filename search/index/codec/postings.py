"""Posting lists, `.kps`: each term's postings, in blocks, written and read side by side.

Layout: b"KSp1", then per term (in the term dictionary's order) its posting list:
  * a list of more than BLOCK (128) postings starts with skip data: packed arrays of each block's
    last docnum, each block's byte size, each block's max weight, then one length byte per block
    (the minimum length byte of its documents, as W3's block info has it);
  * then the blocks: a flag byte (1: the tail is zlib-compressed, 2: all weights are 1, so no
    weight array, 4: the head is zlib-compressed and its compressed size, u16, follows), the head:
    docnum deltas (from the previous block's last docnum, 0 for the first block) and weights
    (frequencies); then the tail: for a positional field the position deltas of all the block's
    postings run together (each document's positions ascending; the first delta of a document is
    from the previous document's last position, so it may be negative; one `accumulate` decodes
    the block), for any other format the values' byte lengths and their bytes. Head and tail are
    compressed apart (each only where it pays), so reading docnums and weights never
    decompresses positions. A list of one posting stores neither docnum nor weight (the term info
    has both); a term found once at a position below 2**15 is a zero flag byte and its packed
    position.

`encode_postings` writes one term's list; `PostingList` reads one (its blocks, or all its docnums
and weights at once as numpy arrays). A term's statistics (`TermStats`) and where its list is
(`CompactTermInfo`) are what the terms dictionary keeps of it.
"""

from __future__ import annotations

import functools
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
    U16,
    ZLIB,
    Bytes,
    CompactFormatError,
    compress,
    decompress,
    pack_ints,
    pack_numbers,
    unpack,
)

if TYPE_CHECKING:
    import numpy

POSTS_EXT = ".kps"
POSTINGS_MAGIC = b"KSp1"
BLOCK = 128  # postings per block
ONES, _HEAD_ZLIB = 2, 4  # block flags (and ZLIB): all weights 1, the head compressed
SMALL = 1 << 15  # positions below this of a term found once are made once (single_position)

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


def _block(
    kind: int,
    docs: Sequence[int],
    base: int,
    weights: Sequence[float] | None,
    positions: Sequence[int] | None,
    values: Sequence[bytes] | None,
    level: int,
    single: bool,
) -> bytes:
    """One block: flag byte and body (see the module's docstring)."""
    position = lone_position(kind, positions) if single else None
    if position is not None:
        return single_position(position)  # a term found once (most terms)
    head = []
    flags = 0
    if not single:
        head.append(pack_ints(list(map(sub, docs, chain((base,), docs)))))
        if weights is None or (min(weights) == 1 == max(weights)):
            flags |= ONES
        else:
            head.append(pack_numbers(weights))
    if kind == POSITIONS and positions is not None:
        tail = pack_ints(list(map(sub, positions, chain((0,), positions))), signed=True)
    elif kind == VALUES and values is not None:
        tail = pack_ints(list(map(len, values))) + b"".join(values)
    else:
        tail = b""
    return assemble(flags, b"".join(head), tail, level)


def assemble(flags: int, head: bytes, tail: bytes, level: int) -> bytes:
    """A block's flag byte, head and tail, each compressed where it pays."""
    packed, tail = compress(tail, level)
    head_packed, head = compress(head, level)
    if head_packed:
        return bytes((flags | packed | _HEAD_ZLIB,)) + U16.pack(len(head)) + head + tail
    return bytes((flags | packed,)) + head + tail


def lone_position(kind: int, positions: Sequence[int] | None) -> int | None:
    """The position of a positional term found once, when `single_position` makes its block."""
    if kind == POSITIONS and positions is not None and len(positions) == 1:
        return positions[0] if positions[0] < SMALL else None
    return None


@functools.lru_cache(maxsize=SMALL)
def single_position(position: int) -> bytes:
    """The block of a term found once, at `position`: made once per position (a build writes
    it for most terms; made when first needed, since a search never writes)."""
    return b"\0" + pack_ints([position], signed=True)


def encode_postings(
    kind: int,
    docnums: Sequence[int],
    weights: Sequence[float] | None,
    positions: Sequence[int] | None,
    values: Sequence[bytes] | None,
    lengthbytes: bytes | None,
    level: int = 3,
) -> tuple[bytes, TermStats]:
    """One term's posting list and its stats. `docnums` ascending; `weights` (None: all 1;
    integral ones as ints) one per posting; `positions` (a positional kind) each document's
    positions ascending, run together; `values` (VALUES kind) one bytes per posting;
    `lengthbytes` the field's length byte of each posting's document (None: not scorable)."""
    count = len(docnums)
    if count == 0:
        raise ValueError("a term without postings")
    if kind == EXISTENCE or (kind != VALUES and weights is None):
        weights = None
    total: float
    max_weight: float
    if weights is None:
        total, max_weight = count, 1
    else:
        total, max_weight = sum(weights), max(weights)
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
        return _block(kind, docnums, 0, weights, positions, values, level, count == 1), stats
    return _in_blocks(kind, docnums, weights, positions, values, lengthbytes, level), stats


def _in_blocks(
    kind: int,
    docnums: Sequence[int],
    weights: Sequence[float] | None,
    positions: Sequence[int] | None,
    values: Sequence[bytes] | None,
    lengthbytes: bytes | None,
    level: int,
) -> bytes:
    """A posting list of more than one block: its skip data, then its blocks."""
    count = len(docnums)
    blocks: list[bytes] = []
    lasts: list[int] = []
    sizes: list[int] = []
    maxws: list[float] = []
    minlbs: list[int] = []
    pos_at = base = 0
    for start in range(0, count, BLOCK):
        end = min(start + BLOCK, count)
        bdocs = docnums[start:end]
        bweights = None if weights is None else weights[start:end]
        bpositions = bvalues = None
        if kind == POSITIONS and positions is not None:
            n = (end - start) if bweights is None else int(sum(bweights))
            bpositions = positions[pos_at : pos_at + n]
            pos_at += n
        elif kind == VALUES and values is not None:
            bvalues = values[start:end]
        blocks.append(_block(kind, bdocs, base, bweights, bpositions, bvalues, level, False))
        base = bdocs[-1]
        lasts.append(base)
        sizes.append(len(blocks[-1]))
        maxws.append(1 if bweights is None else max(bweights))
        minlbs.append(min(lengthbytes[start:end]) if lengthbytes else 0)
    blocks.insert(0, pack_ints(lasts) + pack_ints(sizes) + pack_numbers(maxws) + bytes(minlbs))
    return b"".join(blocks)


# Reading ---------------------------------------------------------------------------------------


class BlockPositions(Sequence[list[int]]):
    """The positions of a block's postings: item i is the list of posting i's positions. The
    block's position deltas are unpacked on first use; the first posting asked for is summed
    up alone (a phrase looking up a few documents in a long block), asking again decodes the
    block's positions at once, and each posting's list is sliced out only when asked for (a
    phrase reading a block through keeps only its candidates)."""

    __slots__ = ("_at", "_body", "_deltas", "_every", "_starts", "_weights")

    def __init__(self, body: Bytes, at: int, weights: Sequence[int]) -> None:
        self._body: Bytes = body
        self._at = at
        self._weights = weights
        self._deltas: array | None = None
        self._every: list[int] | None = None
        self._starts: list[int] | None = None

    def _unpacked(self) -> array:
        if self._deltas is None:
            self._deltas, _ = unpack(self._body, self._at, sum(self._weights))
            self._body = b""
        return self._deltas

    def _decoded(self) -> tuple[list[int], list[int]]:
        """Every position of the block, and where each posting's start in them."""
        if self._every is None or self._starts is None:
            self._every = list(accumulate(self._unpacked()))
            self._starts = list(accumulate(self._weights, initial=0))
        return self._every, self._starts

    def lists(self) -> list[list[int]]:
        """Every posting's positions."""
        every, starts = self._decoded()
        return [every[a:b] for a, b in zip(starts, islice(starts, 1, None))]

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
        if self._every is not None or self._deltas is not None:  # asked again: decode them all
            every, starts = self._decoded()
            return every[starts[i] : starts[i + 1]]
        deltas = self._unpacked()
        start = sum(self._weights[:i])
        found = list(
            accumulate(deltas[start : start + self._weights[i]], initial=sum(deltas[:start]))
        )
        del found[0]
        return found

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
    min_lengths: Bytes

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
            self.min_lengths = bytes((length_to_byte(info.min_length()),))
        else:
            self.lasts, at = unpack(data, 0, nblocks)
            sizes, at = unpack(data, at, nblocks)
            self.max_weights, at = unpack(data, at, nblocks)
            self.min_lengths = data[at : at + nblocks]
            self.starts = list(accumulate(sizes, initial=at + nblocks))
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
        data = self.data
        deltas, weights = [], []
        for i in range(self.nblocks):
            n = self.block_count(i)
            flags, block_deltas, block_weights, _ = _head(
                data, self.starts[i], self.starts[i + 1], n
            )
            deltas.append(numpy.frombuffer(block_deltas, block_deltas.typecode))
            if flags & ONES:
                weights.append(numpy.ones(n))
            else:
                packed = cast(array, block_weights)  # unpacked: an array, not ones
                weights.append(numpy.frombuffer(packed, packed.typecode))
        # A block's first delta is from the block before's last docnum: one running sum.
        return (
            numpy.cumsum(numpy.concatenate(deltas), dtype=numpy.int64),
            numpy.concatenate(weights).astype(numpy.float64),
        )

    def block(self, i: int, values: bool = True) -> Block:
        """Decode block `i` (its positions or values only with `values`; positions lazily)."""
        data = self.data
        start, end = self.starts[i], self.starts[i + 1]
        n = self.block_count(i)
        weights: Sequence[float]
        if self.count == 1:  # the block holds no head: the term info has the posting
            flags, tail = data[start], start + 1
            info = self.info
            docnums = [info.min_id()]
            weight = info.weight()
            weights = (int(weight) if weight == int(weight) else weight,)
        else:
            flags, deltas, weights, tail = _head(data, start, end, n)
            base = self.lasts[i - 1] if i else 0
            docnums = list(accumulate(deltas, initial=base))
            del docnums[0]
        found: BlockPositions | list[bytes] | None = None
        if values and self.kind in (POSITIONS, VALUES):
            body = _decompress(data[tail:end]) if flags & ZLIB else data[tail:end]
            if self.kind == POSITIONS:
                # A positional field's weights are its frequencies, ints.
                found = BlockPositions(body, 0, cast(Sequence[int], weights))
            else:
                lengths, at = unpack(body, 0, n)
                ends = list(accumulate(lengths, initial=at))
                found = [bytes(body[a:b]) for a, b in zip(ends, islice(ends, 1, None))]
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


def _head(data: Bytes, start: int, end: int, count: int) -> tuple[int, array, Sequence[float], int]:
    """The head of the block data[start:end] of `count` (2 or more) postings: its flag byte,
    docnum deltas and weights (all 1 with ONES), and where in `data` its tail starts."""
    flags = data[start]
    head: Bytes
    if flags & _HEAD_ZLIB:
        (size,) = U16.unpack_from(data, start + 1)
        tail = start + 3 + size
        head = _decompress(data[start + 3 : tail])
    else:
        head = data[start + 1 : end]
    deltas, at = unpack(head, 0, count)
    weights: Sequence[float]
    if flags & ONES:
        weights = (1,) * count
    else:
        weights, at = unpack(head, at, count)
    if not flags & _HEAD_ZLIB:
        tail = start + 1 + at
    return flags, deltas, weights, tail


def _decompress(data: Bytes) -> bytes:
    return decompress(data, "a posting block")
