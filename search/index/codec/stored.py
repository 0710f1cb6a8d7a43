"""The stored fields: the `_stored` column, every document's stored dict, written and read.

Layout (the `._stored.col` file, or that part of the compound `.seg` file): b"KSs3", then blocks
of consecutive documents (about STORED_BLOCK, 16 KB, of values each, before compression), each raw
deflate of one pickle (protocol 4) of a tuple (names, kinds, rows): `names` the block's distinct
tuples of stored field names (a dict's keys in order, at most 256), `kinds` a bytes object with
each document's index in `names`, `rows` each document's values, a tuple in the order of its
names, or None for a document without stored fields. A row's strings are stored as their UTF-16
bytes (Japanese text deflates smaller so: two bytes a character rather than three), the row's
first item a bit mask of which of its values were strings. Equal strings of a block are pickled
once (a paragraph's source, title and section repeat its neighbours'). Then the directory: packed
arrays of the blocks' first docnums (n + 1: the last is the end of the last block; documents from
it on have no stored fields) and their offsets from the column's start (n + 1: the last is the
directory's offset); then the block count n (u32), the directory's size (u32) and b"KSs3". A
document's dict is read by a binary search of the first docnums and the decoding of its block;
the last STORED_CACHE (32) blocks decoded are kept per segment.

W3's column pickles and compresses each dict alone, repeating its keys and its document's source
and title in every paragraph.
"""

from __future__ import annotations

import pickle
import struct
import zlib
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from operator import gt
from typing import TYPE_CHECKING, Any

from whoosh import columns

from search.index.codec.packed import CompactFormatError, pack, unpack

if TYPE_CHECKING:
    from whoosh.filedb.structfile import StructFile

STORED_MAGIC = b"KSs3"
STORED_BLOCK = 16 * 1024  # bytes of values (about) per block of stored fields
STORED_LEVEL = 6  # their deflate level
STORED_PICKLE = 4  # their pickle protocol
STORED_CACHE = 32  # decoded blocks of stored fields kept per segment
_STORED_TRAILER = struct.Struct("<II4s")

# A decoded block: its tuples of field names, each document's index in them, its values.
_Decoded = tuple[tuple[tuple[str, ...], ...], bytes, list[tuple[Any, ...] | None]]


class StoredColumn(columns.Column):
    """The `_stored` column: every document's stored fields (a dict), documents pickled and
    deflated together in blocks of consecutive docnums (see the module's docstring). W3's
    column pickles and compresses each dict alone, repeating its keys and its document's
    source and title in every paragraph. Whoosh's per-document writer and reader of
    `CompactCodec` and kensaku's builder use `STORED_COLUMN`, an instance of it."""

    def __init__(self, block_size: int = STORED_BLOCK, level: int = STORED_LEVEL) -> None:
        self._block_size = block_size
        self._level = level

    def writer(self, dbfile: StructFile) -> StoredColumn.Writer:
        return self.Writer(dbfile, self._block_size, self._level)

    def reader(
        self, dbfile: StructFile, basepos: int, length: int, doccount: int
    ) -> StoredColumn.Reader:
        return self.Reader(dbfile, basepos, length, doccount)

    def default_value(self, reverse: bool = False) -> None:
        return None

    class Writer(columns.ColumnWriter):
        """Gathers documents' stored dicts and writes a block once it holds about `block_size`
        bytes of values (or 256 distinct tuples of field names)."""

        def __init__(self, dbfile: StructFile, block_size: int, level: int) -> None:
            columns.ColumnWriter.__init__(self, dbfile)
            self._block_size = block_size
            self._level = level
            self._starts = [0]  # the first docnum of each block, then the end of the last
            self._offsets = [len(STORED_MAGIC)]  # each block's offset, then the end of the last
            self._rows: list[
                tuple[Any, ...] | None
            ] = []  # the pending block's rows (None: no stored fields)
            self._shapes: dict[
                tuple[str, ...], int
            ] = {}  # the pending block's tuples of field names
            self._kinds = bytearray()  # the pending block's shape index per row
            self._raw = 0  # about how many bytes of values the pending block holds
            dbfile.write(STORED_MAGIC)

        def __repr__(self) -> str:
            return "<StoredColumn.Writer>"

        def add(self, docnum: int, value: dict[str, Any] | None) -> None:
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
            # About their UTF-8 bytes: three a character, as Japanese text takes.
            self._raw += sum(3 * len(v) if type(v) is str else 8 for v in values)
            if self._raw >= self._block_size:
                self._write_block()

        def _append(self, row: tuple[Any, ...] | None, kind: int) -> None:
            self._rows.append(row)
            self._kinds.append(kind)
            self._count += 1

        def _write_block(self) -> None:
            if not self._rows:
                return
            # Equal strings made one object, so that pickle writes each once (a paragraph's
            # source, title and section are its neighbours'), whoever made the dicts.
            canon: dict[str, str] = {}
            same = canon.setdefault
            shapes = tuple(
                tuple(same(n, n) if type(n) is str else n for n in names) for names in self._shapes
            )
            encoded: dict[str, bytes] = {}
            rows = [None if row is None else _encoded(row, encoded) for row in self._rows]
            raw = pickle.dumps((shapes, bytes(self._kinds), rows), STORED_PICKLE)
            deflate = zlib.compressobj(self._level, zlib.DEFLATED, -15)
            block = deflate.compress(raw) + deflate.flush()
            self._dbfile.write(block)
            self._starts.append(self._count)
            self._offsets.append(self._offsets[-1] + len(block))
            self._rows, self._shapes, self._kinds, self._raw = [], {}, bytearray(), 0

        def finish(self, doccount: int) -> None:
            self._write_block()  # documents past the last one added have no stored fields
            directory = pack(self._starts) + pack(self._offsets)
            self._dbfile.write(
                directory
                + _STORED_TRAILER.pack(len(self._starts) - 1, len(directory), STORED_MAGIC)
            )

    class Reader(columns.ColumnReader):
        """A document's stored dict (None: it has none), from its block, decoded once: the
        last STORED_CACHE blocks decoded are kept (hits and a document's paragraphs are read
        in runs)."""

        def __init__(self, dbfile: StructFile, basepos: int, length: int, doccount: int) -> None:
            columns.ColumnReader.__init__(self, dbfile, basepos, length, doccount)
            self._cache: dict[int, _Decoded] = {}
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
                raise CompactFormatError("the stored fields have no KSs3 header or trailer")
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

        def __getitem__(self, docnum: int) -> dict[str, Any] | None:
            if not 0 <= docnum < self._doccount:
                raise IndexError(f"no document {docnum} of {self._doccount}")
            b = bisect_right(self._starts, docnum) - 1
            if b >= len(self._starts) - 1:
                return None  # past the last document with stored fields
            shapes, kinds, rows = self._cache.get(b) or self._decode(b)
            i = docnum - self._starts[b]
            row = rows[i]
            return None if row is None else dict(zip(shapes[kinds[i]], _decoded(row)))

        def _decode(self, b: int) -> _Decoded:
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

        def __iter__(self) -> Iterator[dict[str, Any] | None]:
            for docnum in range(self._doccount):
                yield self[docnum]


def _encoded(row: tuple[Any, ...], encoded: dict[str, bytes]) -> tuple[Any, ...]:
    """A row as stored: a bit mask of its strings, then its values, strings as UTF-16 bytes
    (each distinct string's made once: pickle writes an object met again as a reference)."""
    mask = 0
    values: list[Any] = [0]
    for i, value in enumerate(row):
        if type(value) is str:
            mask |= 1 << i
            found = encoded.get(value)
            if found is None:
                found = encoded[value] = value.encode("utf-16-le", "surrogatepass")
            value = found
        values.append(value)
    values[0] = mask
    return tuple(values)


def _decoded(row: tuple[Any, ...]) -> Sequence[Any]:
    """A stored row's values, strings decoded."""
    try:
        mask = row[0]
        if not mask:
            return row[1:]
        return [
            value.decode("utf-16-le", "surrogatepass") if mask >> i & 1 else value
            for i, value in enumerate(row[1:])
        ]
    except (TypeError, IndexError, AttributeError, UnicodeDecodeError):
        raise CompactFormatError("a stored row is damaged") from None


STORED_COLUMN = StoredColumn()
