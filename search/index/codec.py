"""The file format: kensaku's own Whoosh codec, a compact terms dictionary and compact postings.

This module owns the format of the two inverted-index files of a segment and of its stored
fields, writing and reading side by side as Whoosh's `whoosh/codec/whoosh3.py` does; nothing
else knows their bytes. `CompactCodec` subclasses Whoosh's `W3Codec`; it replaces W3's `.trm` (a
hash table of pickled-free but ~80-byte term infos) and `.pst` (a pickle per block, positions as
a pickled list per posting) with `.ktm` and `.kps`, and W3's `_stored` column (each document's
dict pickled and compressed alone) with `StoredColumn` (documents deflated together in blocks).
The rest of W3's per-document side is kept unchanged (the `_<field>_len` length-byte columns
BM25F reads, other columns, deletions).

How kensaku uses it: engine.builder makes each segment with `CompactCodec()`, hands
`write_postings` every field's terms, sorted, with their postings as arrays, and writes the
stored fields with `STORED_COLUMN`'s writer; engine.postings, bm25 and matching read a term's
postings through `blocks` (a block's docnums, its weights, its positions decoded lazily);
Whoosh's own searcher, queries and writer go through the codec's terms reader and
`CompactMatcher`, and its `stored_fields` through the codec's per-document reader. The codec
is pickled into the TOC by its class path (`search.index.codec.CompactCodec`): moving it
means a new index.FORMAT_VERSION.
The W3 length columns the engine reads (`length_bytes`) are read here too.

Byte layout (all integers little-endian):

  Integer arrays ("packed arrays") are one tag byte, the array's typecode (`B H I Q` unsigned,
  `b h i q` signed, `f d` floats), then the items. Arrays of items wider than
  a byte are stored as byte planes (all low bytes, then all second bytes, ...), so that the zlib
  pass sees long runs of zero high bytes; decoding is `bytearray` slice assignment and
  `array.frombytes`, all C-level. The item count is never stored: the reader knows it.
  "Compressed" below means raw deflate (zlib without its 6 bytes of header and checksum).

  `.kps` (postings): b"KSp1", then per term (in the term dictionary's order) its posting list:
    * a list of more than BLOCK (128) postings starts with skip data: packed arrays of each
      block's last docnum, each block's byte size, each block's max weight, then one length
      byte per block (the minimum length byte of its documents, as W3's block info has it);
      * then the blocks: a flag byte (1: the tail is zlib-compressed, 2: all weights are 1, so
      no weight array, 4: the head is zlib-compressed and its compressed size, u16, follows),
      the head: docnum deltas (from the previous block's last docnum, 0 for the first block)
      and weights (frequencies); then the tail: for a positional field the position deltas
      of all the block's postings run together (each document's positions ascending; the
      first delta of a document is from the previous document's last position, so it may be
      negative; one `accumulate` decodes the block), for any other format the values' byte
      lengths and their bytes. Head and tail are compressed apart (each only where it pays),
      so reading docnums and weights never decompresses positions. A list of one posting
      stores neither docnum nor weight (the term info has both); a term found once at a
      position below 2**15 is a zero flag byte and its packed position.
  `.ktm` (terms): b"KSt1", then blocks of up to TERM_BLOCK (64) terms of one field, sorted by
    their UTF-8 bytes: a flag byte (1: zlib), a count byte, and the body: front coding (packed
    shared-prefix lengths, packed suffix lengths, the suffixes' bytes), then one packed array
    per term-info column: document frequency, total weight, max weight, min and max length
    byte, first docnum, last docnum - first docnum, posting list byte size. A term's postings
    start at its block's postings base (in the directory) plus the sizes of the terms before
    it in the block.
    Then the directory (zlib-compressed): per field, its name's byte length (u16) and name,
    its kind (u8: positions, frequency, existence, values), the number of blocks n (u32),
    packed arrays of the blocks' first terms' byte lengths (n), their bytes, the blocks'
    offsets in `.ktm` (n + 1: the last is the end of the field's last block) and their
    postings bases in `.kps` (n). The file ends with
    the directory's offset (u64), its size (u32) and b"KSt1". A lookup is a binary search of
    the first terms and the decoding of one block (cached).
  `_stored` column (the `._stored.col` file, or that part of the compound `.seg` file): b"KSs1",
    then blocks of consecutive documents (about STORED_BLOCK, 16 KB, of values each, before
    compression), each raw deflate of one pickle (protocol 4) of a tuple (names, kinds, rows):
    `names` the block's distinct tuples of stored field names (a dict's keys in order, at most
    256), `kinds` a bytes object with each document's index in `names`, `rows` each document's
    values, a tuple in the order of its names, or None for a document without stored fields.
    Equal strings of a block are pickled once (a paragraph's source, title and section repeat
    its neighbours'). Then the directory: packed arrays of the blocks' first docnums (n + 1:
    the last is the end of the last block; documents from it on have no stored fields) and
    their offsets from the column's start (n + 1: the last is the directory's offset); then the
    block count n (u32), the directory's size (u32) and b"KSs1". A document's dict is read by a
    binary search of the first docnums and the decoding of its block; the last STORED_CACHE (32)
    blocks decoded are kept per segment.

API:
  CompactCodec                     the codec; `ix.writer(codec=CompactCodec())` writes with it.
  STORED_COLUMN                    the `_stored` column (a StoredColumn): `.writer(dbfile)`
                                   `.add(docnum, dict)`, `.finish(doccount)`; `.reader(...)[docnum]`.
  write_postings(storage, segment, fields)   bulk writing of a segment's terms and postings.
  SortedTokens(names, terms, docs, positions)  a positional field's occurrences sorted by
                                   term (numpy arrays), which write_postings encodes at once.
  encode_postings(kind, docnums, weights, positions, values, lengthbytes) -> (bytes, stats)
  posting_list(reader, fieldname, info) -> PostingList  the block reader of kensaku's fast path.
  blocks(posted, field, term, values=False, among=None)  a term's blocks, for the engine's fast path.
  field_kind(fieldobj) -> int      POSITIONS, FREQUENCY, EXISTENCE or VALUES.
"""

from __future__ import annotations

import functools
import pickle
import struct
import sys
import weakref
import zlib
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate, chain, islice
from operator import gt, sub
from typing import NamedTuple

from whoosh import columns, formats
from whoosh.codec import base
from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    W3Codec,
    W3PerDocReader,
    W3PerDocWriter,
    W3Segment,
    _lenfield,
)
from whoosh.matching import LeafMatcher, ReadTooFar
from whoosh.reading import TermInfo, TermNotFound
from whoosh.system import pack_uint
from whoosh.util.numeric import byte_to_length, length_to_byte

BLOCK = 128  # postings per block
TERM_BLOCK = 64  # terms per block of the terms dictionary
TERMS_MAGIC = b"KSt1"
POSTINGS_MAGIC = b"KSp1"
_ZLIB_MIN = 32  # bodies shorter than this are never compressed
_ZLIB, _ONES, _HEAD_ZLIB = 1, 2, 4  # block flags
_TRAILER = struct.Struct("<QI4s")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_WRITE_CHUNK = 1 << 20
_BIG_ENDIAN = sys.byteorder == "big"
_BLOCK_CACHE = 128  # decoded term blocks kept per field of a segment (~8 KB each; a term once
# looked up is kept by engine.postings.TermIndex anyway)
STORED_MAGIC = b"KSs1"
STORED_BLOCK = 16 * 1024  # bytes of values (about) per block of stored fields
STORED_LEVEL = 6  # their deflate level
STORED_PICKLE = 4  # their pickle protocol
STORED_CACHE = 32  # decoded blocks of stored fields kept per segment
_STORED_TRAILER = struct.Struct("<II4s")

POSITIONS, FREQUENCY, EXISTENCE, VALUES = range(4)  # field kinds


class CompactFormatError(ValueError):
    """A file of this format is damaged (bad magic, truncated, undecodable)."""


# Packed arrays -------------------------------------------------------------------------------


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
    if signed:
        code = _signed_code(min(values), max(values))
    else:
        code = _unsigned_code(max(values))
    return _planes(array(code, values))


def pack_numbers(values: Sequence[float]) -> bytes:
    """Integers as `pack_ints`; values any of which is not integral as doubles."""
    try:
        ints = array("q", values)
    except TypeError:  # a float: integral ones are made ints by the writer
        return _planes(array("d", values))
    if len(ints) and min(ints) < 0:
        return pack_ints(ints, signed=True)
    return pack_ints(ints)


def unpack(data, at: int, count: int) -> tuple[array, int]:
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


def _integral(weights: Iterable[float]) -> list:
    """Weights as ints where they are integral (Whoosh's writer gives floats)."""
    return [int(w) if w == int(w) else w for w in weights]


# Posting lists: writing ----------------------------------------------------------------------


class TermStats(NamedTuple):
    """What the terms dictionary keeps of a term, besides its postings' size."""

    df: int
    weight: float
    max_weight: float
    min_length_byte: int
    max_length_byte: int
    min_id: int
    max_id: int


def field_kind(fieldobj) -> int:
    """How a field's postings are stored: its positions, its frequencies, nothing, or the
    format's value bytes (any format but plain Positions, Frequency, Existence)."""
    fmt = fieldobj.format
    if fmt is None or fmt.field_boost != 1.0:
        return VALUES
    kind = {
        formats.Positions: POSITIONS,
        formats.Frequency: FREQUENCY,
        formats.Existence: EXISTENCE,
    }.get(type(fmt), VALUES)
    return kind


def _compress(body: bytes, level: int) -> tuple[int, bytes]:
    if level and len(body) >= _ZLIB_MIN:
        deflate = zlib.compressobj(level, zlib.DEFLATED, -15)
        packed = deflate.compress(body) + deflate.flush()
        if len(packed) < len(body):
            return _ZLIB, packed
    return 0, body


def _block(
    kind: int, docs, base: int, weights, positions, values, level: int, single: bool
) -> bytes:
    """One block: flag byte and body (see the module's docstring)."""
    if single and kind == POSITIONS and len(positions) == 1 and positions[0] < _SMALL:
        return _single_position(positions[0])  # a term found once (most terms)
    head = []
    flags = 0
    if not single:
        head.append(pack_ints(list(map(sub, docs, chain((base,), docs)))))
        if weights is None or (min(weights) == 1 == max(weights)):
            flags |= _ONES
        else:
            head.append(pack_numbers(weights))
    if kind == POSITIONS:
        tail = pack_ints(list(map(sub, positions, chain((0,), positions))), signed=True)
    elif kind == VALUES:
        tail = pack_ints(list(map(len, values))) + b"".join(values)
    else:
        tail = b""
    return _assemble(flags, b"".join(head), tail, level)


def _assemble(flags: int, head: bytes, tail: bytes, level: int) -> bytes:
    """A block's flag byte, head and tail, each compressed where it pays."""
    packed, tail = _compress(tail, level)
    head_packed, head = _compress(head, level)
    if head_packed:
        return bytes((flags | packed | _HEAD_ZLIB,)) + _U16.pack(len(head)) + head + tail
    return bytes((flags | packed,)) + head + tail


_SMALL = 1 << 15


@functools.lru_cache(maxsize=_SMALL)
def _single_position(position: int) -> bytes:
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
    if weights is None:
        total, max_weight = count, 1
    else:
        total, max_weight = sum(weights), max(weights)
    if kind == POSITIONS and len(positions) != total:
        raise ValueError("positions do not add up to the frequencies")
    if lengthbytes:
        minlb, maxlb = min(lengthbytes), max(lengthbytes)
    else:
        minlb = maxlb = 0
    stats = TermStats(count, total, max_weight, minlb, maxlb, docnums[0], docnums[-1])
    if count <= BLOCK:
        return _block(kind, docnums, 0, weights, positions, values, level, count == 1), stats
    blocks, lasts, sizes, maxws, minlbs = [], [], [], [], []
    pos_at = base = 0
    for start in range(0, count, BLOCK):
        end = min(start + BLOCK, count)
        bdocs = docnums[start:end]
        bweights = None if weights is None else weights[start:end]
        bpositions = bvalues = None
        if kind == POSITIONS:
            n = (end - start) if bweights is None else sum(bweights)
            bpositions = positions[pos_at : pos_at + n]
            pos_at += n
        elif kind == VALUES:
            bvalues = values[start:end]
        blocks.append(_block(kind, bdocs, base, bweights, bpositions, bvalues, level, False))
        base = bdocs[-1]
        lasts.append(base)
        sizes.append(len(blocks[-1]))
        maxws.append(1 if bweights is None else max(bweights))
        minlbs.append(min(lengthbytes[start:end]) if lengthbytes else 0)
    blocks.insert(0, pack_ints(lasts) + pack_ints(sizes) + pack_numbers(maxws) + bytes(minlbs))
    return b"".join(blocks), stats


# Terms dictionary: writing --------------------------------------------------------------------


class _Out:
    """A buffered output file that knows its offset."""

    def __init__(self, dbfile, magic: bytes) -> None:
        self.file = dbfile
        self.parts = [magic]
        self.size = len(magic)
        self.offset = len(magic)

    def write(self, data: bytes) -> int:
        at = self.offset
        self.parts.append(data)
        self.offset += len(data)
        self.size += len(data)
        if self.size >= _WRITE_CHUNK:
            self.flush()
        return at

    def flush(self) -> None:
        self.file.write(b"".join(self.parts))
        self.parts = []
        self.size = 0

    def close(self) -> None:
        self.flush()
        self.file.close()


def _common_prefix(a: bytes, b: bytes) -> int:
    n = min(len(a), len(b), 255)
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class TermsWriter:
    """Writes a segment's `.ktm` and `.kps`: fields in order, each field's terms in order."""

    def __init__(self, tfile, pfile, level: int = 3) -> None:
        self.terms = _Out(tfile, TERMS_MAGIC)
        self.posts = _Out(pfile, POSTINGS_MAGIC)
        self.level = level
        self.directory: list[bytes] = []
        self.field: str | None = None
        self.pending: list[tuple[bytes, TermStats, int]] = []
        self.pending_base = 0
        self.last: bytes | None = None

    def start_field(self, name: str, kind: int) -> None:
        self.field = name
        self.kind = kind
        self.firsts: list[bytes] = []
        self.offsets: list[int] = []
        self.bases: list[int] = []
        self.last = None

    def add(self, term: bytes, postings: bytes, stats: TermStats) -> None:
        """Add the field's next term (greater than the last) with its encoded postings."""
        if self.last is not None and term <= self.last:
            raise ValueError(f"terms out of order: {self.last!r} then {term!r}")
        self.last = term
        at = self.posts.write(postings)
        if not self.pending:
            self.pending_base = at
        self.pending.append((term, stats, len(postings)))
        if len(self.pending) >= TERM_BLOCK:
            self._write_block()

    def _write_block(self) -> None:
        pending = self.pending
        terms = [t for t, _, _ in pending]
        prefixes = [0] + [_common_prefix(a, b) for a, b in zip(terms, terms[1:])]
        suffixes = [t[p:] for t, p in zip(terms, prefixes)]
        columns = list(zip(*(s for _, s, _ in pending)))
        body = [pack_ints(prefixes), pack_ints(list(map(len, suffixes))), b"".join(suffixes)]
        df, weight, maxw, minlb, maxlb, minid, maxid = columns
        body += [
            pack_ints(df),
            pack_numbers(weight),
            pack_numbers(maxw),
            bytes(minlb),
            bytes(maxlb),
            pack_ints(minid),
            pack_ints(list(map(sub, maxid, minid))),
            pack_ints([size for _, _, size in pending]),
        ]
        flags, data = _compress(b"".join(body), self.level)
        self.firsts.append(terms[0])
        self.offsets.append(self.terms.write(bytes((flags, len(pending))) + data))
        self.bases.append(self.pending_base)
        self.pending = []

    def finish_field(self) -> None:
        if self.pending:
            self._write_block()
        if self.offsets:
            name = self.field.encode("utf-8")
            self.directory.append(
                _U16.pack(len(name))
                + name
                + bytes((self.kind,))
                + _U32.pack(len(self.offsets))
                + pack_ints(list(map(len, self.firsts)))
                + b"".join(self.firsts)
                + pack_ints(self.offsets + [self.terms.offset])
                + pack_ints(self.bases)
            )
        self.field = None

    def close(self) -> None:
        if self.field is not None:
            self.finish_field()
        directory = zlib.compress(b"".join(self.directory), 6)
        at = self.terms.write(directory)
        self.terms.write(_TRAILER.pack(at, len(directory), TERMS_MAGIC))
        self.terms.close()
        self.posts.close()


def _once(docnum: int, lengths: bytes | None) -> TermStats:
    """The stats of a term found once, in document `docnum` (what encode_postings gives)."""
    length_byte = lengths[docnum] if lengths is not None else 0
    return TermStats(1, 1, 1, length_byte, length_byte, docnum, docnum)


PostingsItem = tuple  # (term str|bytes, docnums, weights|None, positions|None[, values])
FieldPostings = tuple  # (field name, kind, length bytes of every document|None, items)


def write_postings(storage, segment, fields: Iterable[FieldPostings], level: int = 3) -> None:
    """Write a segment's terms and postings in bulk (the builder's part of a segment that W3's
    `.trm` and `.pst` were). `fields`: (name, kind, lengths, items) in name order, `lengths`
    the field's length byte per docnum of the segment (None for an unscored field), `items`
    (term, docnums, weights, positions[, values]) in term order, arrays of ints (weights None:
    all 1; positions: see `encode_postings`), or for a positional field its SortedTokens."""
    writer = TermsWriter(
        segment.create_file(storage, CompactCodec.TERMS_EXT),
        segment.create_file(storage, CompactCodec.POSTS_EXT),
        level,
    )
    for name, kind, lengths, items in fields:
        writer.start_field(name, kind)
        if isinstance(items, SortedTokens):
            _write_sorted(writer, items, lengths, level)
            writer.finish_field()
            continue
        for item in items:
            term, docnums, weights, positions = item[:4]
            values = item[4] if len(item) > 4 else None
            if isinstance(term, str):
                term = term.encode("utf-8")
            if kind == POSITIONS and len(positions) == 1 and positions[0] < _SMALL:
                writer.add(term, _single_position(positions[0]), _once(docnums[0], lengths))
                continue
            lbs = bytes(map(lengths.__getitem__, docnums)) if lengths is not None else None
            data, stats = encode_postings(kind, docnums, weights, positions, values, lbs, level)
            writer.add(term, data, stats)
        writer.finish_field()
    writer.close()


class SortedTokens(NamedTuple):
    """A positional field's occurrences sorted by term, as numpy arrays of one length: each
    occurrence's term (an index into `names`, the terms in order), document and position, each
    term's occurrences by document, then position."""

    names: list[str]
    terms: numpy.ndarray
    docs: numpy.ndarray
    positions: numpy.ndarray


_TERMS_A_BATCH = 4096


def _write_sorted(
    writer: TermsWriter, tokens: SortedTokens, lengths: bytes | None, level: int
) -> None:
    """Encode and add a positional field's terms in bulk: what encode_postings gives, term by
    term, with the postings, the deltas, the stats and the packed arrays' types computed for all
    the terms at once by numpy; a term of more than one block goes through encode_postings."""
    if not len(tokens.terms):
        return
    table = _PostingsTable(tokens, lengths)
    names = tokens.names
    for first in range(0, len(names), _TERMS_A_BATCH):
        for name, data, stats in table.encoded(
            first, min(first + _TERMS_A_BATCH, len(names)), level
        ):
            writer.add(name.encode("utf-8"), data, stats)


class _PostingsTable:
    """A positional field's postings and their deltas as numpy arrays, with per-term columns."""

    def __init__(self, tokens: SortedTokens, lengths: bytes | None) -> None:
        import numpy

        self.names = tokens.names
        terms, docs, positions = tokens.terms, tokens.docs, tokens.positions
        count = len(terms)
        starts = numpy.ones(count, bool)  # where a posting (a term in a document) starts
        numpy.not_equal(terms[1:], terms[:-1], out=starts[1:])
        starts[1:] |= docs[1:] != docs[:-1]
        posting_at = numpy.flatnonzero(starts).astype(numpy.uint32)
        del starts
        self.weights = numpy.diff(posting_at, append=numpy.uint32(count))
        self.docs = docs[posting_at]
        first_postings = numpy.ones(len(posting_at), bool)
        numpy.not_equal(terms[posting_at[1:]], terms[posting_at[:-1]], out=first_postings[1:])
        self.term_at = numpy.append(numpy.flatnonzero(first_postings), len(posting_at))
        del first_postings
        term_starts = self.term_at[:-1]
        self.token_at = numpy.append(posting_at[term_starts], count)
        token_starts = self.token_at[:-1]
        self.positions = positions
        self.max_weight = numpy.maximum.reduceat(self.weights, term_starts)
        if lengths is not None:
            length_bytes = numpy.frombuffer(lengths, numpy.uint8)[self.docs]
            self.min_length = numpy.minimum.reduceat(length_bytes, term_starts)
            self.max_length = numpy.maximum.reduceat(length_bytes, term_starts)
        else:
            self.min_length = self.max_length = numpy.zeros(len(term_starts), numpy.uint8)
        self.lengths = lengths
        # One block's deltas: docnums from 0 (a term's first block), positions from 0 and then
        # each from the one before it, across documents.
        # (Docnums and positions are below 2**31, so their differences are int32s.)
        doc_deltas = numpy.diff(self.docs.view(numpy.int32), prepend=numpy.int32(0))
        doc_deltas[term_starts] = self.docs[term_starts]
        position_deltas = numpy.diff(positions.view(numpy.int32), prepend=numpy.int32(0))
        position_deltas[token_starts] = positions[token_starts]
        self.doc_code = _unsigned_codes(numpy.maximum.reduceat(doc_deltas, term_starts))
        self.weight_code = _unsigned_codes(self.max_weight)
        self.position_code = _signed_codes(
            numpy.minimum.reduceat(position_deltas, token_starts),
            numpy.maximum.reduceat(position_deltas, token_starts),
        )
        self.doc_bytes = _byte_columns(doc_deltas, "<u4")
        self.weight_bytes = _byte_columns(self.weights, "<u4")
        self.position_bytes = _byte_columns(position_deltas, "<i4")

    def encoded(self, first: int, last: int, level: int):
        """(term, postings bytes, TermStats) of the terms first..last-1."""
        term_at = self.term_at[first : last + 1].tolist()
        token_at = self.token_at[first : last + 1].tolist()
        first_docs = self.docs[term_at[:-1]].tolist()
        last_docs = self.docs[[at - 1 for at in term_at[1:]]].tolist()
        first_positions = self.positions[token_at[:-1]].tolist()
        columns = zip(
            self.names[first:last],
            self.max_weight[first:last].tolist(),
            self.min_length[first:last].tolist(),
            self.max_length[first:last].tolist(),
            self.doc_code[first:last],
            self.weight_code[first:last],
            self.position_code[first:last],
        )
        for i, (
            name,
            max_weight,
            min_length,
            max_length,
            doc_code,
            weight_code,
            position_code,
        ) in enumerate(columns):
            a, b = term_at[i], term_at[i + 1]
            ta, tb = token_at[i], token_at[i + 1]
            stats = TermStats(
                b - a, tb - ta, max_weight, min_length, max_length, first_docs[i], last_docs[i]
            )
            if b - a > BLOCK:
                data = self._in_blocks(a, b, ta, tb, max_weight, level)
            elif tb - ta == 1 and first_positions[i] < _SMALL:
                data = _single_position(first_positions[i])
            else:
                data = self._one_block(
                    a, b, ta, tb, max_weight, doc_code, weight_code, position_code, level
                )
            yield name, data, stats

    def _one_block(
        self, a, b, ta, tb, max_weight, doc_code, weight_code, position_code, level
    ) -> bytes:
        tail = _packed_columns(self.position_bytes, ta, tb, position_code)
        if b - a == 1:  # the term info holds the one posting's docnum and weight
            return _assemble(0, b"", tail, level)
        head = _packed_columns(self.doc_bytes, a, b, doc_code)
        if max_weight == 1:
            return _assemble(_ONES, head, tail, level)
        return _assemble(
            0, head + _packed_columns(self.weight_bytes, a, b, weight_code), tail, level
        )

    def _in_blocks(self, a, b, ta, tb, max_weight, level) -> bytes:
        docs = self.docs[a:b].tolist()
        weights = None if max_weight == 1 else self.weights[a:b].tolist()
        lengths = None if self.lengths is None else bytes(map(self.lengths.__getitem__, docs))
        return encode_postings(
            POSITIONS, docs, weights, self.positions[ta:tb].tolist(), None, lengths, level
        )[0]


def _unsigned_codes(highs) -> list[str]:
    """pack_ints' typecode of each array, given its largest item."""
    import numpy

    return numpy.select([highs < 0x100, highs < 0x10000], ["B", "H"], "I").tolist()


def _signed_codes(lows, highs) -> list[str]:
    """pack_ints' typecode of each signed array, given its smallest and largest items."""
    import numpy

    return numpy.select(
        [(lows >= -0x80) & (highs < 0x80), (lows >= -0x8000) & (highs < 0x8000)], ["b", "h"], "i"
    ).tolist()


def _byte_columns(values, dtype: str):
    """Each value's little-endian bytes as a row (four columns)."""
    return values.astype(dtype).view("u1").reshape(-1, 4)


_WIDTHS = {"B": 1, "H": 2, "I": 4, "b": 1, "h": 2, "i": 4}


def _packed_columns(rows, start: int, end: int, code: str) -> bytes:
    """What pack_ints gives for the values of rows start..end-1 packed as `code`: the tag, then
    their byte planes."""
    return code.encode("ascii") + rows[start:end, : _WIDTHS[code]].T.tobytes()


class CompactFieldWriter(base.FieldWriter):
    """Whoosh's field-writer interface (SegmentWriter's path): a term's postings are gathered
    one by one, then encoded as `write_postings` does."""

    def __init__(self, codec: CompactCodec, storage, segment) -> None:
        self._writer = TermsWriter(
            segment.create_file(storage, codec.TERMS_EXT),
            segment.create_file(storage, codec.POSTS_EXT),
            codec._compression,
        )
        self._level = codec._compression
        self.is_closed = False

    def start_field(self, fieldname, fieldobj) -> None:
        self._kind = field_kind(fieldobj)
        self._writer.start_field(fieldname, self._kind)
        self._format = fieldobj.format

    def start_term(self, text: bytes) -> None:
        self._term = text
        self._docs, self._weights, self._positions, self._values = [], [], [], []
        self._lengths = bytearray()

    def add(self, docnum, weight, vbytes, length) -> None:
        self._docs.append(docnum)
        self._weights.append(weight)
        self._lengths.append(length_to_byte(length) if length else 0)
        if self._kind == POSITIONS:
            self._positions += self._format.decode_positions(vbytes)
        elif self._kind == VALUES:
            self._values.append(vbytes)

    def finish_term(self) -> None:
        weights = _integral(array("f", self._weights))  # W3 keeps weights as float32
        if self._kind == POSITIONS and sum(weights) != len(self._positions):
            raise ValueError("a Positions posting whose weight is not its frequency")
        data, stats = encode_postings(
            self._kind,
            self._docs,
            weights,
            self._positions,
            self._values,
            bytes(self._lengths),
            self._level,
        )
        self._writer.add(self._term, data, stats)

    def finish_field(self) -> None:
        self._writer.finish_field()

    def close(self) -> None:
        self._writer.close()
        self.is_closed = True


# Posting lists: reading ----------------------------------------------------------------------


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


class BlockPositions(Sequence):
    """The positions of a block's postings: item i is the list of posting i's positions. The
    block's position deltas are unpacked on first use; the first posting asked for is summed
    up alone (a phrase looking up a few documents in a long block), asking again decodes the
    block's positions at once, and each posting's list is sliced out only when asked for (a
    phrase reading a block through keeps only its candidates)."""

    __slots__ = ("_at", "_body", "_deltas", "_every", "_starts", "_weights")

    def __init__(self, body: bytes, at: int, weights: Sequence[int]) -> None:
        self._body = body
        self._at = at
        self._weights = weights
        self._deltas = None
        self._every = None
        self._starts = None

    def _unpacked(self) -> array:
        if self._deltas is None:
            self._deltas, _ = unpack(self._body, self._at, sum(self._weights))
            self._body = None
        return self._deltas

    def _decoded(self) -> tuple[list[int], list[int]]:
        """Every position of the block, and where each posting's start in them."""
        if self._every is None:
            self._every = list(accumulate(self._unpacked()))
            self._starts = list(accumulate(self._weights, initial=0))
        return self._every, self._starts

    def lists(self) -> list[list[int]]:
        """Every posting's positions."""
        every, starts = self._decoded()
        return [every[a:b] for a, b in zip(starts, islice(starts, 1, None))]

    def __len__(self) -> int:
        return len(self._weights)

    def __getitem__(self, i):
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

    def __iter__(self):
        return iter(self.lists())


class Block(NamedTuple):
    """One block of postings: docnums ascending, weights (ints for frequencies), and the
    positions (a BlockPositions), the values (a list of bytes) or None."""

    docnums: list
    weights: Sequence
    values: Sequence | None


class PostingList:
    """A term's posting list in one segment, read with one file read; its blocks' last docnums
    (`lasts`), max weights and min length bytes are known before any block is decoded."""

    def __init__(self, data, info: CompactTermInfo, kind: int) -> None:
        self.data = data
        self.info = info
        self.kind = kind
        count = info.doc_frequency()
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

    def arrays(self):
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
            weights.append(
                numpy.ones(n)
                if flags & _ONES
                else numpy.frombuffer(block_weights, block_weights.typecode)
            )
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
        found = None
        if values and self.kind in (POSITIONS, VALUES):
            body = _decompress(data[tail:end]) if flags & _ZLIB else data[tail:end]
            if self.kind == POSITIONS:
                found = BlockPositions(body, 0, weights)
            else:
                lengths, at = unpack(body, 0, n)
                ends = list(accumulate(lengths, initial=at))
                found = [body[a:b] for a, b in zip(ends, islice(ends, 1, None))]
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


def _head(data, start: int, end: int, count: int) -> tuple[int, array, Sequence, int]:
    """The head of the block data[start:end] of `count` (2 or more) postings: its flag byte,
    docnum deltas and weights (all 1 with _ONES), and where in `data` its tail starts."""
    flags = data[start]
    if flags & _HEAD_ZLIB:
        (size,) = _U16.unpack_from(data, start + 1)
        tail = start + 3 + size
        head = _decompress(data[start + 3 : tail])
    else:
        head = data[start + 1 : end]
    deltas, at = unpack(head, 0, count)
    if flags & _ONES:
        weights = (1,) * count
    else:
        weights, at = unpack(head, at, count)
    if not flags & _HEAD_ZLIB:
        tail = start + 1 + at
    return flags, deltas, weights, tail


def _decompress(data: bytes) -> bytes:
    try:
        return zlib.decompress(data, -15)
    except zlib.error as error:
        raise CompactFormatError(f"a posting block does not decompress: {error}") from None


def posting_list(reader, fieldname: str, info: CompactTermInfo) -> PostingList:
    """The block reader of a term of an open segment (a Whoosh SegmentReader of a segment
    written with CompactCodec) given its info, as `reader._terms.term_info` returns it."""
    return reader._terms.posting_list(fieldname, info)


def blocks(
    posted, field: str, term: str, values: bool = False, among: Sequence[int] | None = None
) -> Iterator[Block]:
    """A term's postings in one segment a block at a time (see `PostingList.blocks`): `posted`
    is a `Posted` (the segment's reader, the term's info there)."""
    return posted.segment.reader._terms.posting_list(field, posted.info).blocks(
        among=among, values=values
    )


def posting_arrays(posted, field: str):
    """A term's docnums and weights in one segment as numpy arrays (`PostingList.arrays`)."""
    return posted.segment.reader._terms.posting_list(field, posted.info).arrays()


class CompactMatcher(LeafMatcher):
    """Whoosh's matcher interface on a PostingList: Term, Phrase, And, Or, Not queries and
    block-quality skipping of Whoosh's searcher work on it."""

    def __init__(self, postings: PostingList, format_, term=None, scorer=None) -> None:
        self._postings = postings
        self.format = format_
        self._term = term
        self.scorer = scorer
        self.reset()

    def reset(self) -> None:
        self._b = 0
        self._block = None
        self._i = 0

    def _load(self) -> Block:
        self._block = self._postings.block(self._b)
        return self._block

    def is_active(self) -> bool:
        return self._b < self._postings.nblocks

    def id(self) -> int:
        return (self._block or self._load()).docnums[self._i]

    def weight(self) -> float:
        return float((self._block or self._load()).weights[self._i])

    def value(self) -> bytes:
        block = self._block or self._load()
        kind = self._postings.kind
        if kind == POSITIONS:
            return self.format.encode(block.values[self._i])
        if kind == FREQUENCY:
            return pack_uint(int(block.weights[self._i]))
        if kind == EXISTENCE:
            return b""
        return block.values[self._i]

    def value_as(self, astype):
        if astype == "positions" and self._postings.kind == POSITIONS:
            return (self._block or self._load()).values[self._i]
        return LeafMatcher.value_as(self, astype)

    def spans(self):
        from whoosh.query.spans import Span

        if self._postings.kind == POSITIONS:
            return [Span(pos) for pos in self.value_as("positions")]
        return LeafMatcher.spans(self)

    def _next_block(self) -> None:
        self._b += 1
        self._block = None
        self._i = 0

    def next(self) -> bool:
        if not self.is_active():
            raise ReadTooFar
        self._i += 1
        if self._i >= self._postings.block_count(self._b):
            self._next_block()
            return True
        return False

    def skip_to(self, target: int) -> None:
        if not self.is_active():
            raise ReadTooFar
        if target <= self.id():
            return
        lasts = self._postings.lasts
        while self.is_active() and lasts[self._b] < target:
            self._next_block()
        if self.is_active():
            docnums = (self._block or self._load()).docnums
            self._i = bisect_left(docnums, target, self._i)

    def _skip_to_block(self, skipwhile) -> int:
        skipped = 0
        while self.is_active() and skipwhile():
            self._next_block()
            skipped += 1
        return skipped

    def skip_to_quality(self, minquality: float) -> int:
        if self.block_quality() > minquality:
            return 0
        return self._skip_to_block(lambda: self.block_quality() <= minquality)

    def all_ids(self) -> Iterator[int]:
        while self.is_active():
            block = self._block or self._load()
            yield from block.docnums[self._i :]
            self._next_block()

    def block_min_id(self) -> int:
        return (self._block or self._load()).docnums[0]

    def block_max_id(self) -> int:
        return self._postings.lasts[self._b]

    def block_min_length(self) -> int:
        return byte_to_length(self._postings.min_lengths[self._b])

    def block_max_length(self) -> int:
        # The term's (no per-block maximum is kept: BM25F's block quality does not read it).
        return self._postings.info.max_length()

    def block_max_weight(self) -> float:
        return float(self._postings.max_weights[self._b])


# Terms dictionary: reading ---------------------------------------------------------------------


class _Firsts(Sequence):
    """The first terms of a field's blocks, sliced out of one bytes object when asked for."""

    def __init__(self, blob: bytes, ends: list[int]) -> None:
        self.blob = blob
        self.ends = ends

    def __len__(self) -> int:
        return len(self.ends) - 1

    def __getitem__(self, i: int) -> bytes:
        return self.blob[self.ends[i] : self.ends[i + 1]]


class _TermBlock(NamedTuple):
    """A decoded block of the terms dictionary: its terms, and its term-info columns, of which a
    term's stats are made only when it is looked up."""

    terms: list[bytes]
    columns: tuple  # df, weight, max weight, min and max length bytes, first docnum, span
    offsets: list[int]  # postings offsets, one more than terms (the end)

    def stats(self, i: int) -> TermStats:
        df, weight, maxw, minlb, maxlb, minid, span = self.columns
        return TermStats(
            df[i], weight[i], maxw[i], minlb[i], maxlb[i], minid[i], minid[i] + span[i]
        )


_PREFIX_CAP = 255  # shared prefixes are stored up to this length (see _common_prefix)
_ITEM_SIZES = {code: array(code).itemsize for code in "BHIQbhiqfd"}


def _front_coded_index(
    body: bytes, at: int, prefixes: Sequence[int], suffix_lengths: Sequence[int], term: bytes
) -> int | None:
    """The index of `term` among a block's front-coded terms (their suffixes from `at` in
    `body`), or None. Only the length `same` of what the last term read shares with `term`
    is kept: a term sharing more with the one before it than `same` is still below `term`,
    one sharing less is above it, and only one sharing exactly `same` needs its suffix read."""
    same = 0
    for i, (shared, size) in enumerate(zip(prefixes, suffix_lengths)):
        if shared == same:
            suffix = body[at : at + size]
            rest = term[same:]
            if suffix == rest:
                return i
            if suffix > rest:
                return None
            limit = min(size, len(rest))
            k = 0
            while k < limit and suffix[k] == rest[k]:
                k += 1
            same += k
        elif shared < same:
            return None
        at += size
    return None


def _packed_item(data: bytes, at: int, count: int, i: int):
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
    item = array(code, planes)
    if _BIG_ENDIAN and width > 1:
        item.byteswap()
    return item[0], at + 1 + count * width


class _FieldTerms:
    """One field's part of the terms dictionary: its directory entry and decoded blocks."""

    def __init__(self, name: str, kind: int, firsts: _Firsts, offsets, bases, dbfile) -> None:
        self.name = name
        self.kind = kind
        self.firsts = firsts
        self.offsets = offsets
        self.bases = bases
        self.dbfile = dbfile
        self.cache: dict[int, _TermBlock] = {}

    def block(self, b: int) -> _TermBlock:
        found = self.cache.get(b)
        if found is None:
            if len(self.cache) >= _BLOCK_CACHE:
                self.cache.clear()
            found = self.cache[b] = self._decode(b)
        return found

    def _body(self, b: int) -> tuple[int, bytes]:
        """Block `b`'s term count and its body, decompressed."""
        start = self.offsets[b]
        data = self.dbfile.get(start, self.offsets[b + 1] - start)
        flags, n, body = data[0], data[1], data[2:]
        if flags & _ZLIB:
            try:
                body = zlib.decompress(body, -15)
            except zlib.error as error:
                raise CompactFormatError(f"a terms block does not decompress: {error}") from None
        return n, body

    def _decode(self, b: int) -> _TermBlock:
        n, body = self._body(b)
        prefixes, at = unpack(body, 0, n)
        suffix_lengths, at = unpack(body, at, n)
        terms = []
        last = b""
        for p, size in zip(prefixes, suffix_lengths):
            last = last[:p] + body[at : at + size]
            at += size
            terms.append(last)
        df, at = unpack(body, at, n)
        weight, at = unpack(body, at, n)
        maxw, at = unpack(body, at, n)
        minlb, maxlb = body[at : at + n], body[at + n : at + 2 * n]
        minid, at = unpack(body, at + 2 * n, n)
        span, at = unpack(body, at, n)
        sizes, at = unpack(body, at, n)
        return _TermBlock(
            terms,
            (df, weight, maxw, minlb, maxlb, minid, span),
            list(accumulate(sizes, initial=self.bases[b])),
        )

    def find(self, term: bytes) -> CompactTermInfo | None:
        b = bisect_right(self.firsts, term) - 1
        if b < 0:
            return None
        block = self.cache.get(b)
        return self._look_up(b, term) if block is None else self._in_block(block, term)

    def _in_block(self, block: _TermBlock, term: bytes) -> CompactTermInfo | None:
        i = bisect_left(block.terms, term)
        if i == len(block.terms) or block.terms[i] != term:
            return None
        return self._info(block, i)

    def _look_up(self, b: int, term: bytes) -> CompactTermInfo | None:
        """The term's info from block `b`, decoding only what it needs: the front-coded terms
        are compared with `term` without being rebuilt, and its stats picked out of the
        columns (a lookup in a block not decoded yet, most of them: one for each word of a
        query in each segment)."""
        n, body = self._body(b)
        prefixes, at = unpack(body, 0, n)
        suffix_lengths, at = unpack(body, at, n)
        if max(prefixes) >= _PREFIX_CAP:  # a shared prefix cut short: compare whole terms
            return self._in_block(self.block(b), term)
        i = _front_coded_index(body, at, prefixes, suffix_lengths, term)
        if i is None:
            return None
        at += sum(suffix_lengths)
        df, at = _packed_item(body, at, n, i)
        weight, at = _packed_item(body, at, n, i)
        maxw, at = _packed_item(body, at, n, i)
        minlb, maxlb = body[at + i], body[at + n + i]
        minid, at = _packed_item(body, at + 2 * n, n, i)
        span, at = _packed_item(body, at, n, i)
        sizes, _ = unpack(body, at, n)
        start = self.bases[b] + sum(sizes[:i])
        return CompactTermInfo(
            TermStats(df, weight, maxw, minlb, maxlb, minid, minid + span), start, sizes[i]
        )

    @staticmethod
    def _info(block: _TermBlock, i: int) -> CompactTermInfo:
        start = block.offsets[i]
        return CompactTermInfo(block.stats(i), start, block.offsets[i + 1] - start)

    def items_from(self, prefix: bytes) -> Iterator[tuple[bytes, CompactTermInfo]]:
        """(term, info) of the field's terms from `prefix` on, in order."""
        b = max(bisect_right(self.firsts, prefix) - 1, 0)
        for index in range(b, len(self.firsts)):
            block = self.block(index)
            start = bisect_left(block.terms, prefix) if index == b else 0
            for i in range(start, len(block.terms)):
                yield block.terms[i], self._info(block, i)


class CompactTermsReader(base.TermsReader):
    """Whoosh's terms-reader interface on `.ktm` and `.kps`."""

    def __init__(self, codec: CompactCodec, tfile, tlength: int, postfile) -> None:
        self._codec = codec
        self._tfile = tfile
        self._postfile = postfile
        self._fields = self._read_directory(tfile, tlength)

    @staticmethod
    def _read_directory(tfile, tlength: int) -> dict[str, _FieldTerms]:
        if tlength < len(TERMS_MAGIC) + _TRAILER.size or tfile.get(0, 4) != TERMS_MAGIC:
            raise CompactFormatError("the terms file has no KSt1 header")
        at, size, magic = _TRAILER.unpack(tfile.get(tlength - _TRAILER.size, _TRAILER.size))
        if magic != TERMS_MAGIC or at + size + _TRAILER.size != tlength:
            raise CompactFormatError("the terms file's trailer is damaged")
        try:
            data = zlib.decompress(tfile.get(at, size))
        except zlib.error as error:
            raise CompactFormatError(f"the terms directory does not decompress: {error}") from None
        fields = {}
        pos = 0
        while pos < len(data):
            (namelen,) = _U16.unpack_from(data, pos)
            name = data[pos + 2 : pos + 2 + namelen].decode("utf-8")
            kind = data[pos + 2 + namelen]
            pos += 3 + namelen
            (n,) = _U32.unpack_from(data, pos)
            lengths, pos = unpack(data, pos + 4, n)
            ends = list(accumulate(lengths, initial=0))
            blob = data[pos : pos + ends[-1]]
            offsets, pos = unpack(data, pos + ends[-1], n + 1)
            bases, pos = unpack(data, pos, n)
            fields[name] = _FieldTerms(name, kind, _Firsts(blob, ends), offsets, bases, tfile)
        return fields

    def __contains__(self, term) -> bool:
        field = self._fields.get(term[0])
        return field is not None and field.find(term[1]) is not None

    def indexed_field_names(self):
        return self._fields.keys()

    def cursor(self, fieldname, fieldobj):
        return CompactCursor(self._fields.get(fieldname), fieldobj)

    def term_info(self, fieldname, tbytes) -> CompactTermInfo:
        field = self._fields.get(fieldname)
        info = field.find(tbytes) if field is not None else None
        if info is None:
            raise TermNotFound(f"No term {fieldname}:{tbytes!r}")
        return info

    def frequency(self, fieldname, tbytes) -> float:
        info = self._find(fieldname, tbytes)
        return info.weight() if info is not None else 0

    def doc_frequency(self, fieldname, tbytes) -> int:
        info = self._find(fieldname, tbytes)
        return info.doc_frequency() if info is not None else 0

    def _find(self, fieldname, tbytes) -> CompactTermInfo | None:
        # Whoosh's SegmentReader asks for the frequencies of terms it may not hold (W3's term
        # index answers 0 for them, through a KeyError the reader catches).
        field = self._fields.get(fieldname)
        return field.find(tbytes) if field is not None else None

    def items_from(self, fieldname, prefix):
        names = sorted(self._fields)
        for name in names[bisect_left(names, fieldname) :]:
            start = prefix if name == fieldname else b""
            for term, info in self._fields[name].items_from(start):
                yield (name, term), info

    def items(self):
        for name in sorted(self._fields):
            for term, info in self._fields[name].items_from(b""):
                yield (name, term), info

    def terms(self):
        return (key for key, _ in self.items())

    def terms_from(self, fieldname, prefix):
        return (key for key, _ in self.items_from(fieldname, prefix))

    def posting_list(self, fieldname: str, info: CompactTermInfo) -> PostingList:
        """The block reader of a term of `fieldname` given its info (from `term_info`)."""
        offset, length = info.extent()
        return PostingList(self._postfile.get(offset, length), info, self._fields[fieldname].kind)

    def matcher(self, fieldname, tbytes, format_, scorer=None) -> CompactMatcher:
        info = self.term_info(fieldname, tbytes)
        return CompactMatcher(
            self.posting_list(fieldname, info), format_, term=(fieldname, tbytes), scorer=scorer
        )

    def close(self) -> None:
        self._tfile.close()
        self._postfile.close()


class CompactCursor(base.FieldCursor):
    """Whoosh's field cursor over one field's terms."""

    def __init__(self, field: _FieldTerms | None, fieldobj) -> None:
        self._field = field
        self._fieldobj = fieldobj
        self.first()

    def _start(self, prefix: bytes):
        self._items = iter(()) if self._field is None else self._field.items_from(prefix)
        return self.next()

    def first(self):
        return self._start(b"")

    def find(self, term):
        if not isinstance(term, bytes):
            term = self._fieldobj.to_bytes(term)
        return self._start(term)

    def next(self):
        found = next(self._items, None)
        if found is None:
            self._text = self._info = None
            return None
        self._text = self._fieldobj.from_bytes(found[0])
        self._info = found[1]
        return self._text

    def text(self):
        return self._text

    def term_info(self):
        return self._info

    def is_valid(self) -> bool:
        return self._text is not None


# Stored fields ---------------------------------------------------------------------------------


class StoredColumn(columns.Column):
    """The `_stored` column: every document's stored fields (a dict), documents pickled and
    deflated together in blocks of consecutive docnums (see the module's docstring). W3's
    column pickles and compresses each dict alone, repeating its keys and its document's
    source and title in every paragraph. Whoosh's per-document writer and reader of
    `CompactCodec` and kensaku's builder use `STORED_COLUMN`, an instance of it."""

    def __init__(self, block_size: int = STORED_BLOCK, level: int = STORED_LEVEL) -> None:
        self._block_size = block_size
        self._level = level

    def writer(self, dbfile) -> StoredColumn.Writer:
        return self.Writer(dbfile, self._block_size, self._level)

    def reader(self, dbfile, basepos, length, doccount) -> StoredColumn.Reader:
        return self.Reader(dbfile, basepos, length, doccount)

    def default_value(self, reverse=False):
        return None

    class Writer(columns.ColumnWriter):
        """Gathers documents' stored dicts and writes a block once it holds about `block_size`
        bytes of values (or 256 distinct tuples of field names)."""

        def __init__(self, dbfile, block_size: int, level: int) -> None:
            columns.ColumnWriter.__init__(self, dbfile)
            self._block_size = block_size
            self._level = level
            self._starts = [0]  # the first docnum of each block, then the end of the last
            self._offsets = [len(STORED_MAGIC)]  # each block's offset, then the end of the last
            self._rows: list = []  # the pending block's rows (None: no stored fields)
            self._shapes: dict[tuple, int] = {}  # the pending block's tuples of field names
            self._kinds = bytearray()  # the pending block's shape index per row
            self._raw = 0  # about how many bytes of values the pending block holds
            dbfile.write(STORED_MAGIC)

        def __repr__(self) -> str:
            return "<StoredColumn.Writer>"

        def add(self, docnum: int, value) -> None:
            """Add document `docnum`'s stored dict (docnums ascending; skipped ones have none).
            Its items are read at once: Whoosh's writer clears the dict after this."""
            if docnum < self._count:
                raise ValueError(f"stored fields of document {docnum} after {self._count - 1}")
            while self._count < docnum:  # documents without stored fields
                self._append(None, 0)
            if not value:
                self._append(None, 0)
                return
            names = tuple(value)
            shapes = self._shapes
            kind = shapes.get(names)
            if kind is None:
                if len(shapes) == 256:
                    self._write_block()
                    shapes = self._shapes
                kind = shapes[names] = len(shapes)
            values = tuple(value.values())
            self._append(values, kind)
            self._raw += sum(len(v.encode("utf-8")) if type(v) is str else 8 for v in values)
            if self._raw >= self._block_size:
                self._write_block()

        def _append(self, row, kind: int) -> None:
            self._rows.append(row)
            self._kinds.append(kind)
            self._count += 1

        def _write_block(self) -> None:
            if not self._rows:
                return
            # Equal strings made one object, so that pickle writes each once (a paragraph's
            # source, title and section are its neighbours'), whoever made the dicts.
            canon: dict = {}
            same = canon.setdefault
            shapes = tuple(
                tuple(same(n, n) if type(n) is str else n for n in names) for names in self._shapes
            )
            rows = [
                None if row is None else tuple(same(v, v) if type(v) is str else v for v in row)
                for row in self._rows
            ]
            raw = pickle.dumps((shapes, bytes(self._kinds), rows), STORED_PICKLE)
            deflate = zlib.compressobj(self._level, zlib.DEFLATED, -15)
            block = deflate.compress(raw) + deflate.flush()
            self._dbfile.write(block)
            self._starts.append(self._count)
            self._offsets.append(self._offsets[-1] + len(block))
            self._rows, self._shapes, self._kinds, self._raw = [], {}, bytearray(), 0

        def finish(self, doccount: int) -> None:
            self._write_block()  # documents past the last one added have no stored fields
            directory = pack_ints(self._starts) + pack_ints(self._offsets)
            self._dbfile.write(
                directory
                + _STORED_TRAILER.pack(len(self._starts) - 1, len(directory), STORED_MAGIC)
            )

    class Reader(columns.ColumnReader):
        """A document's stored dict (None: it has none), from its block, decoded once: the
        last STORED_CACHE blocks decoded are kept (hits and a document's paragraphs are read
        in runs)."""

        def __init__(self, dbfile, basepos: int, length: int, doccount: int) -> None:
            columns.ColumnReader.__init__(self, dbfile, basepos, length, doccount)
            self._cache: dict[int, tuple] = {}
            if length < len(STORED_MAGIC) + _STORED_TRAILER.size:
                raise CompactFormatError("the stored fields are truncated")
            trailer = dbfile.get(basepos + length - _STORED_TRAILER.size, _STORED_TRAILER.size)
            n, size, magic = _STORED_TRAILER.unpack(trailer)
            at = length - _STORED_TRAILER.size - size
            if (
                magic != STORED_MAGIC
                or at < len(STORED_MAGIC)
                or dbfile.get(basepos, len(STORED_MAGIC)) != STORED_MAGIC
            ):
                raise CompactFormatError("the stored fields have no KSs1 header or trailer")
            directory = dbfile.get(basepos + at, size)
            self._starts, end = unpack(directory, 0, n + 1)
            self._offsets, end = unpack(directory, end, n + 1)
            if (
                end != size
                or self._offsets[0] != len(STORED_MAGIC)
                or self._offsets[-1] != at
                or self._starts[0] != 0
                or any(map(gt, self._starts, self._starts[1:]))
                or any(map(gt, self._offsets, self._offsets[1:]))
            ):
                raise CompactFormatError("the stored fields' directory is damaged")

        def __repr__(self) -> str:
            return "<StoredColumn.Reader>"

        def __getitem__(self, docnum: int) -> dict | None:
            if not 0 <= docnum < self._doccount:
                raise IndexError(f"no document {docnum} of {self._doccount}")
            b = bisect_right(self._starts, docnum) - 1
            if b >= len(self._starts) - 1:
                return None  # past the last document with stored fields
            shapes, kinds, rows = self._cache.get(b) or self._decode(b)
            i = docnum - self._starts[b]
            row = rows[i]
            return None if row is None else dict(zip(shapes[kinds[i]], row))

        def _decode(self, b: int) -> tuple:
            start = self._offsets[b]
            data = self._dbfile.get(self._basepos + start, self._offsets[b + 1] - start)
            try:
                shapes, kinds, rows = pickle.loads(zlib.decompress(data, -15))
            except Exception as error:  # zlib.error, any unpickling error
                raise CompactFormatError(
                    f"a stored-fields block does not decode: {type(error).__name__}: {error}"
                ) from None
            count = self._starts[b + 1] - self._starts[b]
            if len(kinds) != count or len(rows) != count or (kinds and max(kinds) >= len(shapes)):
                raise CompactFormatError("a stored-fields block does not hold its documents")
            cache = self._cache
            if len(cache) >= STORED_CACHE:
                del cache[next(iter(cache))]
            found = cache[b] = (shapes, kinds, rows)
            return found

        def __iter__(self):
            for docnum in range(self._doccount):
                yield self[docnum]


STORED_COLUMN = StoredColumn()


class CompactPerDocWriter(W3PerDocWriter):
    """W3's per-document writer with `STORED_COLUMN` for the stored fields (W3's constructor
    creates the `_stored` column and its `finish_doc` adds each document's dict to it)."""

    def _create_column(self, fieldname, column) -> None:
        if fieldname == "_stored":
            column = STORED_COLUMN
        W3PerDocWriter._create_column(self, fieldname, column)


class CompactPerDocReader(W3PerDocReader):
    """W3's per-document reader with stored fields read through `STORED_COLUMN`."""

    def stored_fields(self, docnum) -> dict:
        reader = self._cached_reader("_stored", STORED_COLUMN)
        found = reader[docnum] if reader is not None else None
        return {} if found is None else found


# The codec -------------------------------------------------------------------------------------


class CompactCodec(W3Codec):
    """W3's per-document side (columns, length bytes, deletions) with this module's terms
    dictionary, postings and stored fields. Pickled into the TOC with each segment: it holds
    its settings only."""

    TERMS_EXT = ".ktm"
    POSTS_EXT = ".kps"

    def __init__(self, compression: int = 3) -> None:
        W3Codec.__init__(self, blocklimit=BLOCK, compression=compression, inlinelimit=1)

    def __getstate__(self) -> dict:
        return {
            "_blocklimit": self._blocklimit,
            "_compression": self._compression,
            "_inlinelimit": self._inlinelimit,
        }

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def field_writer(self, storage, segment) -> CompactFieldWriter:
        return CompactFieldWriter(self, storage, segment)

    def terms_reader(self, storage, segment) -> CompactTermsReader:
        tlength = storage.file_length(segment.make_filename(self.TERMS_EXT))
        tfile = segment.open_file(storage, self.TERMS_EXT)
        postfile = segment.open_file(storage, self.POSTS_EXT)
        return CompactTermsReader(self, tfile, tlength, postfile)

    def per_document_writer(self, storage, segment) -> CompactPerDocWriter:
        return CompactPerDocWriter(self, storage, segment)

    def per_document_reader(self, storage, segment) -> CompactPerDocReader:
        return CompactPerDocReader(storage, segment)

    def new_segment(self, storage, indexname) -> W3Segment:
        return W3Segment(self, indexname)


# Segments of an open index -------------------------------------------------------------------


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


_lengths: weakref.WeakKeyDictionary[object, dict[str, bytes]] = weakref.WeakKeyDictionary()


def length_bytes(reader, field: str) -> bytes:
    """The field's length byte of every document in one segment (0 where it has none), read
    whole from W3's lengths column once per open segment instead of a call per document."""
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
