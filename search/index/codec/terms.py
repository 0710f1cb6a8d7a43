"""The terms dictionary, `.ktm`: each field's terms in order, front-coded in blocks, with the
statistics of each term (its term info) and where its posting list starts in `.kps`.

Layout: b"KSt1", then blocks of up to TERM_BLOCK (64) terms of one field, sorted by their UTF-8
bytes: a flag byte (1: zlib), a count byte, and the body: front coding (packed shared-prefix
lengths, packed suffix lengths, the suffixes' bytes), then one packed array per term-info column:
document frequency, total weight, max weight, min and max length byte, first docnum, last docnum -
first docnum, posting list byte size. A term's postings start at its block's postings base (in the
directory) plus the sizes of the terms before it in the block.
Then the directory (zlib-compressed): per field, its name's byte length (u16) and name, its kind
(u8: positions, frequency, existence, values), the number of blocks n (u32), packed arrays of the
blocks' first terms' byte lengths (n), their bytes, the blocks' offsets in `.ktm` (n + 1: the last
is the end of the field's last block) and their postings bases in `.kps` (n). The file ends with
the directory's offset (u64), its size (u32) and b"KSt1". A lookup is a binary search of the
first terms and the decoding of one block (cached).

`TermsWriter` writes a segment's `.ktm` and, as it goes, appends each term's encoded posting list
to `.kps` (see postings); `read_directory` opens `.ktm` as a `FieldTerms` per field.
"""

from __future__ import annotations

import struct
import zlib
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from itertools import accumulate, pairwise
from operator import sub
from typing import TYPE_CHECKING, NamedTuple, overload

from search.index.codec.packed import (
    U16,
    U32,
    ZLIB,
    Bytes,
    CompactFormatError,
    compress,
    pack_ints,
    pack_numbers,
    packed_item,
    unpack,
)
from search.index.codec.postings import POSTINGS_MAGIC, CompactTermInfo, TermStats

if TYPE_CHECKING:
    from whoosh.filedb.structfile import StructFile

TERMS_EXT = ".ktm"
TERMS_MAGIC = b"KSt1"
TERM_BLOCK = 64  # terms per block of the terms dictionary
_TRAILER = struct.Struct("<QI4s")
_WRITE_CHUNK = 1 << 20
_BLOCK_CACHE = 128  # decoded term blocks kept per field of a segment (~8 KB each; a term once
# looked up is kept by engine.postings.TermIndex anyway)
_PREFIX_CAP = 255  # shared prefixes are stored up to this length (see _common_prefix)


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
    n = min(len(a), len(b), 255)
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class TermsWriter:
    """Writes a segment's `.ktm` and `.kps`: fields in order, each field's terms in order."""

    def __init__(self, tfile: StructFile, pfile: StructFile, level: int = 3) -> None:
        self.terms = BufferedFile(tfile, TERMS_MAGIC)
        self.posts = BufferedFile(pfile, POSTINGS_MAGIC)
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
        prefixes = [0] + [_common_prefix(a, b) for a, b in pairwise(terms)]
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
        flags, data = compress(b"".join(body), self.level)
        self.firsts.append(terms[0])
        self.offsets.append(self.terms.write(bytes((flags, len(pending))) + data))
        self.bases.append(self.pending_base)
        self.pending = []

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
    # df, weight, max weight, min and max length bytes, first docnum, last docnum - first
    columns: tuple[
        Sequence[int], Sequence[float], Sequence[float], Bytes, Bytes, Sequence[int], Sequence[int]
    ]
    offsets: list[int]  # postings offsets, one more than terms (the end)

    def stats(self, i: int) -> TermStats:
        df, weight, maxw, minlb, maxlb, minid, span = self.columns
        return TermStats(
            df[i], weight[i], maxw[i], minlb[i], maxlb[i], minid[i], minid[i] + span[i]
        )


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

    def _body(self, b: int) -> tuple[int, bytes]:
        """Block `b`'s term count and its body, decompressed."""
        start = self.offsets[b]
        data = self.dbfile.get(start, self.offsets[b + 1] - start)
        flags, n, body = data[0], data[1], data[2:]
        if flags & ZLIB:
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
        df, at = packed_item(body, at, n, i)
        weight, at = packed_item(body, at, n, i)
        maxw, at = packed_item(body, at, n, i)
        minlb, maxlb = body[at + i], body[at + n + i]
        minid, at = packed_item(body, at + 2 * n, n, i)
        span, at = packed_item(body, at, n, i)
        sizes, _ = unpack(body, at, n)
        start = self.bases[b] + sum(sizes[:i])
        return CompactTermInfo(
            TermStats(int(df), weight, maxw, minlb, maxlb, int(minid), int(minid + span)),
            start,
            sizes[i],
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


def read_directory(tfile: StructFile, tlength: int) -> dict[str, FieldTerms]:
    """Each field's part of the terms dictionary `tfile` (of `tlength` bytes), by name."""
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
