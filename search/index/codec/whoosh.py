"""The Whoosh side of the codec: `CompactCodec`, the class Whoosh calls, and the readers,
writers, cursor and matcher through which Whoosh's own searcher, queries and writer work on
kensaku's files.

`CompactCodec` subclasses Whoosh's `W3Codec`: it replaces W3's `.trm` (a hash table of ~80-byte
term infos) and `.pst` (a pickle per block, positions as a pickled list per posting) with `.ktm`
(terms) and `.kps` (postings), and W3's `_stored` column (each document's dict pickled and
compressed alone) with stored.StoredColumn (documents deflated together in blocks). The rest of
W3's per-document side is kept unchanged (the `_<field>_len` length-byte columns BM25F reads,
other columns, deletions). The codec is pickled into each segment's TOC by its class path
(`search.index.codec.whoosh.CompactCodec`): moving it means a new index FORMAT_VERSION.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from whoosh.codec import base
from whoosh.codec.whoosh3 import W3Codec, W3PerDocReader, W3PerDocWriter, W3Segment
from whoosh.matching import LeafMatcher, ReadTooFar
from whoosh.reading import TermNotFound
from whoosh.system import pack_uint
from whoosh.util.numeric import byte_to_length, length_to_byte

from search.index.codec.packed import integral
from search.index.codec.postings import (
    BLOCK,
    EXISTENCE,
    FREQUENCY,
    POSITIONS,
    POSTS_EXT,
    VALUES,
    Block,
    BlockPositions,
    CompactTermInfo,
    PostingList,
    encode_postings,
    field_kind,
)
from search.index.codec.stored import STORED_COLUMN
from search.index.codec.terms import TERMS_EXT, FieldTerms, TermsWriter, read_directory

if TYPE_CHECKING:
    from whoosh.columns import Column
    from whoosh.fields import FieldType
    from whoosh.filedb.filestore import Storage
    from whoosh.filedb.structfile import StructFile
    from whoosh.query.spans import Span

TermKey = tuple[str, bytes]  # a field's name and a term of it


class CompactCodec(W3Codec):
    """W3's per-document side (columns, length bytes, deletions) with this package's terms
    dictionary, postings and stored fields. Pickled into the TOC with each segment: it holds
    its settings only."""

    TERMS_EXT = TERMS_EXT
    POSTS_EXT = POSTS_EXT

    def __init__(self, compression: int = 3) -> None:
        W3Codec.__init__(self, blocklimit=BLOCK, compression=compression, inlinelimit=1)

    def __getstate__(self) -> dict[str, int]:
        return {
            "_blocklimit": self._blocklimit,
            "_compression": self._compression,
            "_inlinelimit": self._inlinelimit,
        }

    def __setstate__(self, state: dict[str, int]) -> None:
        self.__dict__.update(state)

    def field_writer(self, storage: Storage, segment: W3Segment) -> CompactFieldWriter:
        return CompactFieldWriter(self, storage, segment)

    def terms_reader(self, storage: Storage, segment: W3Segment) -> CompactTermsReader:
        tlength = storage.file_length(segment.make_filename(self.TERMS_EXT))
        tfile = segment.open_file(storage, self.TERMS_EXT)
        postfile = segment.open_file(storage, self.POSTS_EXT)
        return CompactTermsReader(self, tfile, tlength, postfile)

    def per_document_writer(self, storage: Storage, segment: W3Segment) -> CompactPerDocWriter:
        return CompactPerDocWriter(self, storage, segment)

    def per_document_reader(self, storage: Storage, segment: W3Segment) -> CompactPerDocReader:
        return CompactPerDocReader(storage, segment)

    def new_segment(self, storage: Storage, indexname: str) -> W3Segment:
        return W3Segment(self, indexname)


# Writing ---------------------------------------------------------------------------------------


class CompactFieldWriter(base.FieldWriter):
    """Whoosh's field-writer interface (SegmentWriter's path): a term's postings are gathered
    one by one, then encoded as `write_postings` does."""

    def __init__(self, codec: CompactCodec, storage: Storage, segment: W3Segment) -> None:
        self._writer = TermsWriter(
            segment.create_file(storage, codec.TERMS_EXT),
            segment.create_file(storage, codec.POSTS_EXT),
        )
        self.is_closed = False

    def start_field(self, fieldname: str, fieldobj: FieldType) -> None:
        self._kind = field_kind(fieldobj)
        self._writer.start_field(fieldname, self._kind)
        self._format = fieldobj.format

    def start_term(self, text: bytes) -> None:
        self._term = text
        self._docs: list[int] = []
        self._weights: list[float] = []
        self._positions: list[int] = []
        self._values: list[bytes] = []
        self._lengths = bytearray()

    def add(self, docnum: int, weight: float, vbytes: bytes, length: int) -> None:
        self._docs.append(docnum)
        self._weights.append(weight)
        self._lengths.append(length_to_byte(length) if length else 0)
        if self._kind == POSITIONS:
            self._positions += self._format.decode_positions(vbytes)
        elif self._kind == VALUES:
            self._values.append(vbytes)

    def finish_term(self) -> None:
        weights = integral(array("f", self._weights))  # W3 keeps weights as float32
        if self._kind == POSITIONS and sum(weights) != len(self._positions):
            raise ValueError("a Positions posting whose weight is not its frequency")
        data, stats = encode_postings(
            self._kind,
            self._docs,
            weights,
            self._positions,
            self._values,
            bytes(self._lengths),
        )
        self._writer.add(self._term, data, stats)

    def finish_field(self) -> None:
        self._writer.finish_field()

    def close(self) -> None:
        self._writer.close()
        self.is_closed = True


class CompactPerDocWriter(W3PerDocWriter):
    """W3's per-document writer with `STORED_COLUMN` for the stored fields (W3's constructor
    creates the `_stored` column and its `finish_doc` adds each document's dict to it)."""

    def _create_column(self, fieldname: str, column: Column) -> None:
        if fieldname == "_stored":
            column = STORED_COLUMN
        W3PerDocWriter._create_column(self, fieldname, column)


class CompactPerDocReader(W3PerDocReader):
    """W3's per-document reader with stored fields read through `STORED_COLUMN`."""

    def stored_fields(self, docnum: int) -> dict[str, Any]:
        reader = self._cached_reader("_stored", STORED_COLUMN)
        found = reader[docnum] if reader is not None else None
        return {} if found is None else found


# Reading ---------------------------------------------------------------------------------------


class CompactTermsReader(base.TermsReader):
    """Whoosh's terms-reader interface on `.ktm` and `.kps`."""

    def __init__(
        self, codec: CompactCodec, tfile: StructFile, tlength: int, postfile: StructFile
    ) -> None:
        self._codec = codec
        self._tfile = tfile
        self._postfile = postfile
        self._fields = read_directory(tfile, tlength)

    def __contains__(self, term: TermKey) -> bool:
        field = self._fields.get(term[0])
        return field is not None and field.find(term[1]) is not None

    def indexed_field_names(self) -> Iterable[str]:
        return self._fields.keys()

    def cursor(self, fieldname: str, fieldobj: FieldType) -> CompactCursor:
        return CompactCursor(self._fields.get(fieldname), fieldobj)

    def term_info(self, fieldname: str, tbytes: bytes) -> CompactTermInfo:
        field = self._fields.get(fieldname)
        info = field.find(tbytes) if field is not None else None
        if info is None:
            raise TermNotFound(f"No term {fieldname}:{tbytes!r}")
        return info

    def frequency(self, fieldname: str, tbytes: bytes) -> float:
        info = self._find(fieldname, tbytes)
        return info.weight() if info is not None else 0

    def doc_frequency(self, fieldname: str, tbytes: bytes) -> int:
        info = self._find(fieldname, tbytes)
        return info.doc_frequency() if info is not None else 0

    def _find(self, fieldname: str, tbytes: bytes) -> CompactTermInfo | None:
        # Whoosh's SegmentReader asks for the frequencies of terms it may not hold (W3's term
        # index answers 0 for them, through a KeyError the reader catches).
        field = self._fields.get(fieldname)
        return field.find(tbytes) if field is not None else None

    def items_from(
        self, fieldname: str, prefix: bytes
    ) -> Iterator[tuple[TermKey, CompactTermInfo]]:
        names = sorted(self._fields)
        for name in names[bisect_left(names, fieldname) :]:
            start = prefix if name == fieldname else b""
            for term, info in self._fields[name].items_from(start):
                yield (name, term), info

    def items(self) -> Iterator[tuple[TermKey, CompactTermInfo]]:
        for name in sorted(self._fields):
            for term, info in self._fields[name].items_from(b""):
                yield (name, term), info

    def terms(self) -> Iterator[TermKey]:
        return self.terms_from("", b"")

    def field_terms(self, fieldname: str) -> Iterator[bytes]:
        """One field's terms, in order (none for a field the segment does not hold): a
        lexicon without a tuple and a test per term (the words of a segment, for its synonym
        groups)."""
        field = self._fields.get(fieldname)
        return iter(()) if field is None else field.terms_from(b"")

    def terms_from(self, fieldname: str, prefix: bytes) -> Iterator[TermKey]:
        names = sorted(self._fields)
        for name in names[bisect_left(names, fieldname) :]:
            start = prefix if name == fieldname else b""
            for term in self._fields[name].terms_from(start):
                yield name, term

    def posting_list(self, fieldname: str, info: CompactTermInfo) -> PostingList:
        """The block reader of a term of `fieldname` given its info (from `term_info`)."""
        offset, length = info.extent()
        return PostingList(self._postfile.get(offset, length), info, self._fields[fieldname].kind)

    def matcher(
        self, fieldname: str, tbytes: bytes, format_: Any, scorer: Any = None
    ) -> CompactMatcher:
        info = self.term_info(fieldname, tbytes)
        return CompactMatcher(
            self.posting_list(fieldname, info), format_, term=(fieldname, tbytes), scorer=scorer
        )

    def close(self) -> None:
        self._tfile.close()
        self._postfile.close()


class CompactCursor(base.FieldCursor):
    """Whoosh's field cursor over one field's terms."""

    def __init__(self, field: FieldTerms | None, fieldobj: FieldType) -> None:
        self._field = field
        self._fieldobj = fieldobj
        self.first()

    def _start(self, prefix: bytes) -> Any:
        self._items = iter(()) if self._field is None else self._field.items_from(prefix)
        return self.next()

    def first(self) -> Any:
        return self._start(b"")

    def find(self, term: Any) -> Any:
        if not isinstance(term, bytes):
            term = self._fieldobj.to_bytes(term)
        return self._start(term)

    def next(self) -> Any:
        """The next term (its text, as the field gives it), or None past the last."""
        found = next(self._items, None)
        if found is None:
            self._text = self._info = None
            return None
        self._text = self._fieldobj.from_bytes(found[0])
        self._info = found[1]
        return self._text

    def text(self) -> Any:
        return self._text

    def term_info(self) -> CompactTermInfo | None:
        return self._info

    def is_valid(self) -> bool:
        return self._text is not None


class CompactMatcher(LeafMatcher):
    """Whoosh's matcher interface on a PostingList: Term, Phrase, And, Or, Not queries and
    block-quality skipping of Whoosh's searcher work on it."""

    def __init__(
        self,
        postings: PostingList,
        format_: Any,
        term: tuple[str, bytes] | None = None,
        scorer: Any = None,
    ) -> None:
        self._postings = postings
        self.format = format_
        self._term = term
        self.scorer = scorer
        self.reset()

    def reset(self) -> None:
        self._b = 0
        self._block: Block | None = None
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
        if kind == FREQUENCY:
            return pack_uint(int(block.weights[self._i]))
        if kind == EXISTENCE:
            return b""
        values = block.values
        if isinstance(values, BlockPositions):
            encoded: bytes = self.format.encode(values[self._i])
            return encoded
        if values is None:
            raise ValueError("a block of values read without them")
        return values[self._i]

    def value_as(self, astype: str) -> Any:
        values = (self._block or self._load()).values
        if astype == "positions" and isinstance(values, BlockPositions):
            return values[self._i]
        return LeafMatcher.value_as(self, astype)

    def spans(self) -> list[Span]:
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

    def _skip_to_block(self, skipwhile: Callable[[], bool]) -> int:
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
