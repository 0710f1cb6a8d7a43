"""The file format: Whoosh 2.7.4's W3 term index and posting lists, written and read here.

Everything in kensaku that knows a byte of a segment's postings is in this module; Whoosh's own
code writes and reads the rest of a segment (the stored fields and other columns, the length
columns' layout, the term index's hash table, the compound file, the TOC).

A segment's postings are Whoosh's: `.trm` (an `OrderedHashWriter` of W3TermInfo bytes: weight,
doc frequency, min/max length byte, max weight, first/last docnum, then the posting list's
offset and length, or the postings themselves for a short list, `Layout.inline`) and `.pst` (a
posting list: the magic `W3Bl`, then blocks of up to BLOCK_LIMIT postings, each its length as
an int, negative for the last, a pickled info tuple (count, last docnum, max weight,
compression, min and max length byte) and the zlib of the pickled (delta-coded docnums,
weights, values) tuple). A positional field's value is `pack_uint(freq)` followed by a pickled
list of position deltas.

Writing (`PostingsWriter`, `Layout`, `Encoding`): with `Layout.exact` the bytes are those of
Whoosh's own `SegmentWriter` (the test checks this). The default differs only inside pickles,
which any `pickle.loads` reads back to the very same Python objects: the block data tuple is
pickled with the highest protocol instead of protocol 2 (protocol 2 writes every bytes value as
a `_codecs.encode` call on Python 3, which is slow and large), and a positions value is
`pack_uint(freq)` followed by the shortest pickle of the same list of deltas (no protocol header,
no memo, no final STOP, which Whoosh's `Positions.decode_positions` appends itself).

Reading (`blocks`, `decode_positions`, `length_bytes`): a term's posting list is read with one
file read and parsed a block at a time, blocks that cannot hold a wanted document skipped
before they are decompressed; a segment's field lengths as the bytes Whoosh stores.
"""

from __future__ import annotations

import pickle
import struct
import weakref
import zlib
from bisect import bisect_right
from dataclasses import dataclass
from io import BytesIO
from itertools import accumulate
from pickle import load, loads
from typing import Iterator, NamedTuple, Sequence
from zlib import decompress

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC as _W3_HEADER, _lenfield
from whoosh.system import pack_int, pack_long, pack_uint

BLOCK_LIMIT = 128  # postings per block (W3Codec's blocklimit)
COMPRESSION = 3  # zlib level of posting blocks (W3Codec's compression)
INLINE_LIMIT = 16  # posting lists this short are stored in the term index (Layout.inline)
_INFO_PROTOCOL = 2
_TERMINFO = struct.Struct("!BfIBBfII")
SINGLE_CACHE = 8192  # positions whose one-position value is precomputed
_WRITE_CHUNK = 1 << 20
_INT = struct.Struct("!i")  # a block's length, as Whoosh's StructFile writes ints
# (docnums, weights, values or None) of one block; docnums ascending, within one segment.
Block = tuple[Sequence[int], Sequence[float], Sequence[bytes] | None]


class OpenSegment(NamedTuple):
    """One segment of an open index: its reader, its first document's index-wide docnum, and its
    deleted documents (their postings stay until the segment is rewritten)."""

    reader: object
    offset: int
    deleted: frozenset[int]


class Posted(NamedTuple):
    """A term in one segment: the segment, and the term's info there (frequency, postings)."""

    segment: OpenSegment
    info: object


# Writing -------------------------------------------------------------------------------------

def _exact_positions(positions) -> bytes:
    """Whoosh's `Positions.encode`."""
    deltas = []
    base = 0
    for pos in positions:
        deltas.append(pos - base)
        base = pos
    return pack_uint(len(deltas)) + pickle.dumps(deltas, 2)


def _pickle_int(n: int) -> bytes:
    if 0 <= n < 256:
        return b"K" + bytes((n,))
    if 0 <= n < 65536:
        return b"M" + struct.pack("<H", n)
    if -2**31 <= n < 2**31:
        return b"J" + struct.pack("<i", n)
    return pickle.dumps(n, 2)[2:-1]


def _compact_positions(positions) -> bytes:
    """`pack_uint(freq)` and the shortest pickle of the same list of deltas, without the final
    STOP, which `Positions.decode_positions` adds before unpickling."""
    base = 0
    if len(positions) == 1:
        return pack_uint(1) + b"]" + _pickle_int(positions[0]) + b"a"
    parts = [pack_uint(len(positions)), b"](", ]
    for pos in positions:
        parts.append(_pickle_int(pos - base))
        base = pos
    parts.append(b"e")
    return b"".join(parts)


@dataclass(frozen=True)
class Layout:
    """How segments are written: `exact` posting encodings (as Whoosh's own writer), and
    `compound`, the files of a segment packed into one `.seg` file as Whoosh does by default.
    Separate files open faster: Whoosh copies each part of a compound file into memory when it
    opens it, unlike a plain file."""

    exact: bool = False
    compound: bool = True
    inline: bool = False  # short posting lists in the term index (Whoosh serves them from memory)


class Encoding:
    """How posting values and blocks are encoded: `exact` (as Whoosh) or compact."""

    def __init__(self, layout: "Layout") -> None:
        exact = layout.exact
        self.exact = exact
        self.compound = layout.compound
        self.inline = layout.inline and not exact
        self.positions = _exact_positions if exact else _compact_positions
        self.block_protocol = 2 if exact else pickle.HIGHEST_PROTOCOL
        if exact:
            # Whoosh's pickles memoize a value object met twice: exact mode never shares them.
            self.single = _Fresh(lambda p: _exact_positions((p,)))
            self.frequency = _Fresh(pack_uint)
        else:
            self.single = [self.positions((p,)) for p in range(SINGLE_CACHE)]
            self.frequency = [pack_uint(f) for f in range(SINGLE_CACHE)]


class _Fresh:
    """A sequence computing a new object for each item asked for."""

    def __init__(self, make) -> None:
        self.__getitem__ = make

    def __getitem__(self, item):
        return self.__dict__["__getitem__"](item)


_length_bytes_of: dict[int, int] = {}


def length_byte(length: int) -> int:
    lb = _length_bytes_of.get(length)
    if lb is None:
        from whoosh.util.numeric import length_to_byte

        lb = _length_bytes_of[length] = length_to_byte(length)
    return lb


class PostingsWriter:
    """Writes W3 posting lists, as W3PostingsWriter does, a term's list at a time."""

    def __init__(self, pfile, protocol: int, inline: int = 0) -> None:
        self.file = pfile
        self.protocol = protocol
        self.inline = inline
        self.offset = 0
        self.out = []
        self.outsize = 0

    def write_term(self, flat: list, lengths, values: bool) -> bytes:
        """Write one term's postings (flat docnum, freq, value triples); returns its TermInfo."""
        docs = flat[0::3]
        freqs = flat[1::3]
        vals = flat[2::3] if values else None
        count = len(docs)
        dumps = pickle.dumps
        if count <= self.inline:
            # A short list goes into the TermInfo itself, as W3TermInfo.set_inlined has it;
            # Whoosh's reader serves it with a ListMatcher.
            if lengths is not None:
                blens = bytes(map(lengths.__getitem__, docs))
                minlb, maxlb = min(blens), max(blens)
            else:
                minlb = maxlb = 0
            weights = None if max(freqs) == 1 else tuple(map(float, freqs))  # None: all 1.0
            inlined = (tuple(docs), weights, tuple(vals) if values else ())
            return (_TERMINFO.pack(1, float(sum(freqs)), count, minlb, maxlb,
                                   float(max(freqs)), docs[0], docs[-1])
                    + dumps(inlined, self.protocol))
        compress = zlib.compress
        protocol = self.protocol
        parts = [_W3_HEADER]
        minlb = 255
        maxlb = 0
        for start in range(0, count, BLOCK_LIMIT):
            end = start + BLOCK_LIMIT
            bdocs = docs[start:end]
            bfreqs = freqs[start:end]
            deltas = [bdocs[0]]
            deltas += map(int.__sub__, bdocs[1:], bdocs)
            maxf = max(bfreqs)
            if maxf == 1:
                weights = None
            elif min(bfreqs) == maxf:
                weights = float(maxf)
            else:
                weights = tuple(map(float, bfreqs))
            bvals = tuple(vals[start:end]) if values else None
            data = compress(dumps((tuple(deltas), weights, bvals), protocol), COMPRESSION)
            if lengths is not None:
                blens = bytes(map(lengths.__getitem__, bdocs))
                bmin = min(blens)
                bmax = max(blens)
                if bmin < minlb:
                    minlb = bmin
                if bmax > maxlb:
                    maxlb = bmax
            else:
                bmin = bmax = 0
            info = dumps((len(bdocs), bdocs[-1], float(maxf), COMPRESSION, bmin, bmax),
                         _INFO_PROTOCOL)
            size = len(info) + len(data)
            parts.append(pack_int(-size if end >= count else size))
            parts.append(info)
            parts.append(data)
        if lengths is None:
            minlb = 0
        block = b"".join(parts)
        start_offset = self.offset
        self.offset += len(block)
        self.out.append(block)
        self.outsize += len(block)
        if self.outsize >= _WRITE_CHUNK:
            self._flush()
        return (_TERMINFO.pack(0, float(sum(freqs)), count, minlb, maxlb, float(max(freqs)),
                               docs[0], docs[-1])
                + pack_long(start_offset) + pack_int(len(block)))

    def _flush(self) -> None:
        if self.out:
            self.file.write(b"".join(self.out))
            self.out = []
            self.outsize = 0

    def close(self) -> None:
        self._flush()
        self.file.close()


# Reading -------------------------------------------------------------------------------------

def blocks(posted: Posted, field: str, term: str, values: bool = False,
           among: Sequence[int] | None = None) -> Iterator[Block]:
    """The term's postings in one segment, deleted documents included (see OpenSegment), a block at
    a time. With `among` (ascending docnums), blocks holding none of them are skipped without
    being decompressed; the blocks given may still hold other documents.

    The posting list is read with one file read and parsed here, as Whoosh's W3LeafMatcher
    would: the header, then per block its length (negative for the last), its pickled info
    (count, last docnum, max weight, compression, min and max length) and its data, the
    (possibly zlib-compressed) pickle of (delta-coded docnums, weights, values). Whoosh's own
    matcher costs ~15 µs of Python calls per term and segment before the first block, which a
    one-character query (thousands of bigrams) pays tens of thousands of times."""
    info = posted.info
    if info.is_inlined():  # a short list held in the term's info (segment.Layout.inline)
        docnums, weights, found = info.inlined_postings()
        yield list(docnums), _all_weights(weights, len(docnums)), list(found) if values else None
        return
    start, length = info.extent()
    if isinstance(length, tuple):  # W3TermInfo.from_bytes leaves it a 1-tuple (unpack_int)
        (length,) = length
    data = posted.segment.reader._terms._postfile.get(start, length)  # noqa: SLF001
    if data[:4] != _W3_HEADER:
        raise ValueError(f"posting list of {term!r} in {field!r}: no W3 header")
    stream = BytesIO(data)
    at, wanted_from = 4, 0
    last = False
    while not last:
        (size,) = _INT.unpack_from(data, at)
        last = size < 0
        stream.seek(at + 4)
        count, last_docnum, _, compressed, _, _ = load(stream)
        at, data_at = at + 4 + abs(size), stream.tell()
        if among is not None:
            # Wanted documents up to this block's last one; none means the block is not needed.
            wanted_to = bisect_right(among, last_docnum, wanted_from)
            if wanted_to == wanted_from:
                if wanted_from == len(among):
                    return
                continue
            wanted_from = wanted_to
        raw = data[data_at:at]
        docnums, weights, block_values = loads(decompress(raw) if compressed else raw)
        yield list(accumulate(docnums)), _all_weights(weights, count), \
            block_values if values else None


def _all_weights(weights, count: int) -> Sequence[float]:
    """A block's weights, which W3 stores as None when all are 1.0 and as one float when all
    are the same."""
    if weights is None or isinstance(weights, float):
        return (1.0 if weights is None else weights,) * count
    return weights


def decode_positions(value: bytes) -> list[int]:
    """Whoosh's Positions.decode_positions, without its Python loop: the frequency (4 bytes),
    then a pickled list of position deltas, whose final STOP may be left out."""
    pickled = value[4:] if value[-1:] == b"." else value[4:] + b"."
    return list(accumulate(loads(pickled)))


_lengths: "weakref.WeakKeyDictionary[object, dict[str, bytes]]" = weakref.WeakKeyDictionary()


def length_bytes(reader, field: str) -> bytes:
    """The field's length byte of every document in one segment (0 where it has none), read
    whole from the lengths column once per open segment instead of a call per document."""
    cached = _lengths.setdefault(reader, {})
    if field not in cached:
        cached[field] = _read_length_bytes(reader, field)
    return cached[field]


def _read_length_bytes(reader, field: str) -> bytes:
    doc_count = reader.doc_count_all()
    column = reader._perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
    if column is None:
        return bytes(doc_count)
    stored = min(column._count, doc_count)  # documents past it have the default, 0
    return column._dbfile.get(column._basepos, stored) + bytes(doc_count - stored)
