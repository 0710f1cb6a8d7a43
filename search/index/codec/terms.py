"""The terms dictionary, `.ktm`: each field's terms in order, front-coded in blocks, with the
statistics of each term (its term info) and where its posting list starts in `.kps`.

Layout: b"KSt2", then blocks of up to TERM_BLOCK (64) terms of one field, sorted by their UTF-8
bytes: a count byte, then packed arrays (codec.packed; those a lookup reads whole at their quick
widths) and bytes: front coding (shared-prefix
lengths, suffix lengths, the suffixes' bytes as they are), then one array per term-info column:
document frequency - 1, total weight - document frequency, max weight - 1 (weights that are not
all integers: the weights, as doubles), min length byte, max - min length byte, first docnum,
last - first docnum, posting list byte size. A term's postings start at its block's postings base
(in the directory) plus the sizes of the terms before it in the block.
Then the directory (zlib-compressed): per field, its name's byte length (u16) and name, its kind
(u8: positions, frequency, existence, values), the number of blocks n (u32), packed arrays of the
blocks' first terms' byte lengths (n), their bytes, the blocks' offsets in `.ktm` (n + 1: the last
is the end of the field's last block) and their postings bases in `.kps` (n). The file ends with
the directory's offset (u64), its size (u32) and b"KSt2". A lookup is a binary search of the
first terms and the decoding of what it needs of one block.

`TermsWriter` writes a segment's `.ktm` and, as it goes, appends each term's encoded posting list
to `.kps` (see postings), a term at a time (`add`) or many at once (`add_block`, index.codec.bulk's
path: the same bytes); `read_directory` opens `.ktm` as a `FieldTerms` per field.
"""

from __future__ import annotations

import struct
import zlib
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from itertools import accumulate, pairwise, repeat
from operator import add, sub
from typing import TYPE_CHECKING, NamedTuple, overload

from search.index.codec.packed import (
    DOUBLES,
    U16,
    U32,
    Bytes,
    CompactFormatError,
    pack,
    pack_doubles,
    packed_item,
    unpack,
)
from search.index.codec.postings import POSTINGS_MAGIC, CompactTermInfo, TermStats

if TYPE_CHECKING:
    import numpy
    from whoosh.filedb.structfile import StructFile

TERMS_EXT = ".ktm"
TERMS_MAGIC = b"KSt2"
TERM_BLOCK = 64  # terms per block of the terms dictionary
_TRAILER = struct.Struct("<QI4s")
_WRITE_CHUNK = 1 << 20
_BLOCK_CACHE = 128  # decoded term blocks kept per field of a segment (~8 KB each; a term once
# looked up is kept by engine.postings.TermIndex anyway)
_PREFIX_CAP = 255  # shared prefixes are stored up to this length (see _common_prefix)
_COMPARED = 32  # the bytes of neighbouring terms compared at once by numpy (add_many)


# Writing ---------------------------------------------------------------------------------------


class BufferedFile:
    """A buffered output file that knows its offset."""

    def __init__(self, dbfile: StructFile, magic: bytes) -> None:
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
    n = min(len(a), len(b), _PREFIX_CAP)
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def _above(values: Sequence[float], bases: Sequence[int]) -> bytes:
    """A term-info column stored above a base (weights above document frequencies...): the
    differences packed, or the values as doubles when they are not integers at or above it."""
    if all(type(v) is int or v == int(v) for v in values):
        differences = [int(v) - b for v, b in zip(values, bases)]
        if min(differences) >= 0:
            return pack(differences)
    return pack_doubles(values)


def _item_above(data: Bytes, at: int, count: int, i: int, base: int) -> tuple[float, int]:
    """Item `i` of a column `_above` wrote, and the offset after the column."""
    width = data[at] if at < len(data) else 0
    found, at = packed_item(data, at, count, i)
    return (found if width == DOUBLES else found + base), at


def _below(data: Bytes, at: int, count: int, bases: Sequence[int]) -> tuple[Sequence[float], int]:
    """A column `_above` wrote, read back: its values, and the offset after it."""
    width = data[at] if at < len(data) else 0
    found, at = unpack(data, at, count)
    if width == DOUBLES:
        return found, at
    return list(map(add, found, bases)), at


def _info_columns(stats: Sequence[TermStats]) -> bytes:
    """A block's term-info columns (see the module's docstring)."""
    df, weight, maxw, minlb, maxlb, minid, maxid = zip(*stats)
    return b"".join(
        [
            pack([d - 1 for d in df]),
            _above(weight, df),
            _above(maxw, [1] * len(maxw)),
            pack(minlb),
            pack(list(map(sub, maxlb, minlb))),
            pack(minid),
            pack(list(map(sub, maxid, minid))),
        ]
    )


class TermsWriter:
    """Writes a segment's `.ktm` and `.kps`: fields in order, each field's terms in order."""

    def __init__(self, tfile: StructFile, pfile: StructFile) -> None:
        self.terms = BufferedFile(tfile, TERMS_MAGIC)
        self.posts = BufferedFile(pfile, POSTINGS_MAGIC)
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
        prefixes = [0] + [_common_prefix(a, b) for a, b in pairwise(terms)]
        suffixes = [t[p:] for t, p in zip(terms, prefixes)]
        block = b"".join(
            [
                bytes((len(pending),)),
                pack(prefixes, quick=True),
                pack(list(map(len, suffixes)), quick=True),
                b"".join(suffixes),
                _info_columns([s for _, s, _ in pending]),
                pack([size for _, _, size in pending], quick=True),
            ]
        )
        self.firsts.append(terms[0])
        self.offsets.append(self.terms.write(block))
        self.bases.append(self.pending_base)
        self.pending = []

    def add_many(self, terms: list[bytes], postings: bytes, columns: TermColumns) -> None:
        """Add many terms of the field at once (in order, after the last), their posting lists
        `postings` run together: the bytes `add` would write for them one by one, when the
        terms added so far fill whole blocks. Their stats are `columns`, integers."""
        if not terms:
            return
        if self.pending:
            self._write_block()
        if self.last is not None and terms[0] <= self.last:
            raise ValueError(f"terms out of order: {self.last!r} then {terms[0]!r}")
        self.last = terms[-1]
        base = self.posts.write(postings)
        blocks, starts = _term_blocks(terms, columns)
        offset = self.terms.write(blocks)
        import numpy

        firsts = numpy.arange(0, len(terms), TERM_BLOCK)
        posting_starts = base + numpy.cumsum(columns.sizes) - columns.sizes
        self.firsts += [terms[i] for i in firsts.tolist()]
        self.offsets += (offset + starts).tolist()
        self.bases += posting_starts[firsts].tolist()

    def finish_field(self) -> None:
        if self.pending:
            self._write_block()
        if self.offsets and self.field is not None:
            name = self.field.encode("utf-8")
            self.directory.append(
                U16.pack(len(name))
                + name
                + bytes((self.kind,))
                + U32.pack(len(self.offsets))
                + pack(list(map(len, self.firsts)))
                + b"".join(self.firsts)
                + pack(self.offsets + [self.terms.offset])
                + pack(self.bases)
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


class TermColumns(NamedTuple):
    """Many terms' stats (TermStats, integers) and posting list sizes, as numpy arrays."""

    df: numpy.ndarray
    weight: numpy.ndarray
    max_weight: numpy.ndarray
    min_length_byte: numpy.ndarray
    max_length_byte: numpy.ndarray
    min_id: numpy.ndarray
    max_id: numpy.ndarray
    sizes: numpy.ndarray


def _term_blocks(terms: list[bytes], columns: TermColumns) -> tuple[bytes, numpy.ndarray]:
    """The blocks of the terms dictionary holding `terms` (TERM_BLOCK a block), as `_write_block`
    writes each, made at once; and where each block starts in them."""
    import numpy

    from search.index.codec.packing import packed_sizes, scatter, widths

    count = len(terms)
    blob = numpy.frombuffer(b"".join(terms), numpy.uint8)
    lengths = numpy.fromiter(map(len, terms), numpy.int64, count)
    term_at = numpy.cumsum(lengths) - lengths
    prefixes = _prefixes(terms, blob, lengths, term_at)
    suffix_lengths = lengths - prefixes
    block_counts = numpy.diff(numpy.append(numpy.arange(0, count, TERM_BLOCK), count))
    nblocks = len(block_counts)
    one = numpy.int64(1)
    packed_columns = [
        prefixes,
        suffix_lengths,
        columns.df - one,
        columns.weight - columns.df,
        columns.max_weight - one,
        columns.min_length_byte,
        columns.max_length_byte - columns.min_length_byte,
        columns.min_id,
        columns.max_id - columns.min_id,
        columns.sizes,
    ]
    packed_columns = [column.astype(numpy.uint64) for column in packed_columns]
    # The columns a lookup unpacks whole (front coding, sizes) at their quick widths.
    column_widths = [
        widths(column, block_counts, quick=c in (0, 1, 9))
        for c, column in enumerate(packed_columns)
    ]
    # Each block's sections: its count byte, the columns, the suffixes' bytes after the second.
    sections = numpy.empty((nblocks, 12), numpy.int64)
    sections[:, 0] = 1
    for c, width in enumerate(column_widths):
        sections[:, c + 1 if c < 2 else c + 2] = packed_sizes(width, block_counts)
    first = numpy.arange(0, count, TERM_BLOCK)
    suffix_at = numpy.cumsum(suffix_lengths) - suffix_lengths
    sections[:, 3] = numpy.add.reduceat(suffix_lengths, first)
    ends = numpy.cumsum(sections.reshape(-1)).reshape(nblocks, 12)
    starts = ends - sections
    out = numpy.zeros(int(ends[-1, -1]), numpy.uint8)
    out[starts[:, 0]] = block_counts
    for c, (column, width) in enumerate(zip(packed_columns, column_widths)):
        scatter(out, column, block_counts, width, starts[:, c + 1 if c < 2 else c + 2])
    # The suffixes: each term's bytes after its shared prefix, a block's run together.
    of_term = numpy.repeat(numpy.arange(count), suffix_lengths)
    within = numpy.arange(len(of_term)) - suffix_at[of_term]
    block_of = of_term // TERM_BLOCK
    target = starts[block_of, 3] + suffix_at[of_term] - suffix_at[first][block_of] + within
    out[target] = blob[term_at[of_term] + prefixes[of_term] + within]
    return out.tobytes(), starts[:, 0]


def _prefixes(
    terms: list[bytes], blob: numpy.ndarray, lengths: numpy.ndarray, term_at: numpy.ndarray
) -> numpy.ndarray:
    """Each term's shared prefix with the term before it in its block (0 for a block's first),
    as `_common_prefix` gives it."""
    import numpy

    count = len(terms)
    heads = numpy.zeros((count, _COMPARED), numpy.int16)  # -1 past a term's end
    heads[:] = -1
    for c in range(_COMPARED):
        holding = numpy.flatnonzero(lengths > c)
        heads[holding, c] = blob[term_at[holding] + c]
    same = heads[1:] == heads[:-1]
    same &= heads[1:] >= 0
    prefixes = numpy.zeros(count, numpy.int64)
    prefixes[1:] = numpy.where(same.all(axis=1), _COMPARED, numpy.argmin(same, axis=1))
    for i in numpy.flatnonzero(prefixes == _COMPARED).tolist():  # long shared prefixes
        prefixes[i] = _common_prefix(terms[i - 1], terms[i])
    prefixes[::TERM_BLOCK] = 0
    return prefixes


# Reading ---------------------------------------------------------------------------------------


class _Firsts(Sequence[bytes]):
    """The first terms of a field's blocks, sliced out of one bytes object when asked for."""

    def __init__(self, blob: bytes, ends: list[int]) -> None:
        self.blob = blob
        self.ends = ends

    def __len__(self) -> int:
        return len(self.ends) - 1

    @overload
    def __getitem__(self, i: int) -> bytes: ...

    @overload
    def __getitem__(self, i: slice) -> list[bytes]: ...

    def __getitem__(self, i: int | slice) -> bytes | list[bytes]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        return self.blob[self.ends[i] : self.ends[i + 1]]


class _TermBlock(NamedTuple):
    """A decoded block of the terms dictionary: its terms, and its term-info columns, of which a
    term's stats are made only when it is looked up."""

    terms: list[bytes]
    # df, weight, max weight, min and max length bytes, first docnum, last docnum
    columns: tuple[
        Sequence[int],
        Sequence[float],
        Sequence[float],
        Sequence[int],
        Sequence[int],
        Sequence[int],
        Sequence[int],
    ]
    offsets: list[int]  # postings offsets, one more than terms (the end)

    def stats(self, i: int) -> TermStats:
        df, weight, maxw, minlb, maxlb, minid, maxid = self.columns
        return TermStats(df[i], weight[i], maxw[i], minlb[i], maxlb[i], minid[i], maxid[i])


def _front_coded_index(
    body: Bytes, at: int, prefixes: Sequence[int], suffix_lengths: Sequence[int], term: bytes
) -> int | None:
    """The index of `term` among a block's front-coded terms (their suffixes from `at` in
    `body`), or None. Only the length `same` of what the last term read shares with `term`
    is kept: a term sharing more with the one before it than `same` is still below `term`,
    one sharing less is above it, and only one sharing exactly `same` needs its suffix read."""
    same = 0
    for i, (shared, size) in enumerate(zip(prefixes, suffix_lengths)):
        if shared == same:
            suffix = bytes(body[at : at + size])
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


class FieldTerms:
    """One field's part of the terms dictionary: its directory entry and decoded blocks."""

    def __init__(
        self,
        name: str,
        kind: int,
        firsts: _Firsts,
        offsets: Sequence[int],
        bases: Sequence[int],
        dbfile: StructFile,
    ) -> None:
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

    def _body(self, b: int) -> tuple[int, Bytes]:
        """Block `b`'s term count and its body."""
        start = self.offsets[b]
        data = self.dbfile.get(start, self.offsets[b + 1] - start)
        if not len(data):
            raise CompactFormatError("a terms block is empty")
        return data[0], data[1:]

    def _decode(self, b: int) -> _TermBlock:
        n, body = self._body(b)
        terms, at = _front_decoded(body, n)
        less_one, at = unpack(body, at, n)
        df = list(map(add, less_one, repeat(1, n)))
        weight, at = _below(body, at, n, df)
        maxw, at = _below(body, at, n, [1] * n)
        minlb, at = unpack(body, at, n)
        lbspan, at = unpack(body, at, n)
        minid, at = unpack(body, at, n)
        span, at = unpack(body, at, n)
        sizes, at = unpack(body, at, n)
        if at != len(body):
            raise CompactFormatError("a terms block does not fill its bytes")
        return _TermBlock(
            terms,
            (
                df,
                weight,
                maxw,
                minlb,
                list(map(add, minlb, lbspan)),
                minid,
                list(map(add, minid, span)),
            ),
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
        less_one, at = packed_item(body, at, n, i)
        df = int(less_one) + 1
        weight, at = _item_above(body, at, n, i, df)
        maxw, at = _item_above(body, at, n, i, 1)
        minlb, at = packed_item(body, at, n, i)
        lbspan, at = packed_item(body, at, n, i)
        minid, at = packed_item(body, at, n, i)
        span, at = packed_item(body, at, n, i)
        sizes, _ = unpack(body, at, n)
        start = self.bases[b] + sum(sizes[:i])
        return CompactTermInfo(
            TermStats(
                int(df),
                weight,
                maxw,
                int(minlb),
                int(minlb + lbspan),
                int(minid),
                int(minid + span),
            ),
            start,
            sizes[i],
        )

    @staticmethod
    def _info(block: _TermBlock, i: int) -> CompactTermInfo:
        start = block.offsets[i]
        return CompactTermInfo(block.stats(i), start, block.offsets[i + 1] - start)

    def terms_from(self, prefix: bytes) -> Iterator[bytes]:
        """The field's terms from `prefix` on, in order: only the front coding of blocks not
        decoded yet is read (a lexicon, the words of an index for its synonym groups)."""
        b = max(bisect_right(self.firsts, prefix) - 1, 0)
        for index in range(b, len(self.firsts)):
            block = self.cache.get(index)
            terms = block.terms if block is not None else self._terms(index)
            yield from terms[bisect_left(terms, prefix) if index == b else 0 :]

    def _terms(self, b: int) -> list[bytes]:
        """Block `b`'s terms, rebuilt from their front coding."""
        n, body = self._body(b)
        return _front_decoded(body, n)[0]

    def items_from(self, prefix: bytes) -> Iterator[tuple[bytes, CompactTermInfo]]:
        """(term, info) of the field's terms from `prefix` on, in order."""
        b = max(bisect_right(self.firsts, prefix) - 1, 0)
        for index in range(b, len(self.firsts)):
            block = self.block(index)
            start = bisect_left(block.terms, prefix) if index == b else 0
            for i in range(start, len(block.terms)):
                yield block.terms[i], self._info(block, i)


def read_directory(tfile: StructFile, tlength: int) -> dict[str, FieldTerms]:
    """Each field's part of the terms dictionary `tfile` (of `tlength` bytes), by name."""
    if tlength < len(TERMS_MAGIC) + _TRAILER.size or tfile.get(0, 4) != TERMS_MAGIC:
        raise CompactFormatError("the terms file has no KSt2 header")
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
        (namelen,) = U16.unpack_from(data, pos)
        name = data[pos + 2 : pos + 2 + namelen].decode("utf-8")
        kind = data[pos + 2 + namelen]
        pos += 3 + namelen
        (n,) = U32.unpack_from(data, pos)
        lengths, pos = unpack(data, pos + 4, n)
        ends = list(accumulate(lengths, initial=0))
        blob = data[pos : pos + ends[-1]]
        offsets, pos = unpack(data, pos + ends[-1], n + 1)
        bases, pos = unpack(data, pos, n)
        fields[name] = FieldTerms(name, kind, _Firsts(blob, ends), offsets, bases, tfile)
    return fields


def _front_decoded(body: Bytes, n: int) -> tuple[list[bytes], int]:
    """The `n` front-coded terms at the start of a terms block's body (each a prefix length of
    the term before and its own suffix), and where what follows them starts."""
    prefixes, at = unpack(body, 0, n)
    suffix_lengths, at = unpack(body, at, n)
    terms = []
    last = b""
    for p, size in zip(prefixes, suffix_lengths):
        last = last[:p] + body[at : at + size]  # bytes: b"" + a memoryview is bytes
        at += size
        terms.append(last)
    return terms, at
