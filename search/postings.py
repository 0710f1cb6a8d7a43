"""Postings: a term's posting lists read from Whoosh 2.7.4's W3 segments a block at a time.

Whoosh's matchers hand out one posting per Python call; scoring and phrase matching here read a
block (up to 128 postings) with one decode, skip blocks that cannot hold a wanted paragraph without
decompressing them, and keep each segment's field lengths as the bytes Whoosh stores. A term is
looked up once per segment (`TermIndex`): Whoosh looks it up again for its existence, its frequency
and its postings, a few dozen Python calls each time, in each of a large index's twenty segments.
Everything that knows Whoosh's private block layout lives in this module.
"""

from __future__ import annotations

import struct
import weakref
from bisect import bisect_left, bisect_right
from io import BytesIO
from itertools import accumulate
from pickle import load, loads
from typing import AbstractSet, Iterator, NamedTuple, Sequence
from zlib import decompress

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC as _W3_HEADER, _lenfield
from whoosh.reading import TermNotFound

_INT = struct.Struct("!i")  # a block's length, as Whoosh's StructFile writes ints
# (docnums, weights, values or None) of one block; docnums ascending, within one segment.
Block = tuple[Sequence[int], Sequence[float], Sequence[bytes] | None]


class Segment(NamedTuple):
    """One segment of an open index: its reader, its first document's index-wide docnum, and its
    deleted documents (their postings stay until the segment is rewritten)."""

    reader: object
    offset: int
    deleted: frozenset[int]


class Posted(NamedTuple):
    """A term in one segment: the segment, and the term's info there (frequency, postings)."""

    segment: Segment
    info: object


_POSTED_LIMIT = 20_000  # terms whose infos a TermIndex keeps (each a few hundred bytes a segment)


class TermIndex:
    """The terms of an open index, each looked up once per segment (and kept, up to
    _POSTED_LIMIT terms: the index a reader has open does not change)."""

    def __init__(self, reader) -> None:
        self.segments = [Segment(segment, offset, deleted(segment))
                         for segment, offset in reader.leaf_readers()]
        self._posted: dict[tuple[str, str], list[Posted]] = {}

    def posted(self, field: str, term: str) -> list[Posted]:
        """The segments holding `term` in `field`, with its info in each."""
        key = (field, term)
        found = self._posted.get(key)
        if found is None:
            if len(self._posted) >= _POSTED_LIMIT:
                self._posted.clear()
            tbytes = term.encode("utf-8")
            found = []
            for segment in self.segments:
                try:
                    found.append(Posted(segment, segment.reader._terms.term_info(field, tbytes)))
                except TermNotFound:
                    pass
            self._posted[key] = found
        return found

    def with_prefix(self, field: str, prefix: str) -> list[str]:
        """The terms of `field` that start with `prefix`, each segment's read in one pass (their
        infos kept for `posted`)."""
        pbytes = prefix.encode("utf-8")
        found: dict[str, list[Posted]] = {}
        for segment in self.segments:
            for (name, tbytes), info in segment.reader._terms.items_from(field, pbytes):
                if name != field or not tbytes.startswith(pbytes):
                    break
                found.setdefault(tbytes.decode("utf-8"), []).append(Posted(segment, info))
        if len(self._posted) + len(found) > _POSTED_LIMIT:
            self._posted.clear()
        for term, posted in found.items():
            self._posted[(field, term)] = posted
        return sorted(found)

    def __contains__(self, field_and_term: tuple[str, str]) -> bool:
        return bool(self.posted(*field_and_term))

    def doc_frequency(self, field: str, term: str) -> int:
        """How many documents hold the term, deleted ones included (as Whoosh counts)."""
        return sum(posted.info.doc_frequency() for posted in self.posted(field, term))


class Wanted:
    """Index-wide docnums a query is restricted to, and each segment's share of them as the
    segment's own docnums, ascending (worked out once per segment)."""

    def __init__(self, docnums: AbstractSet[int]) -> None:
        self.docnums = docnums
        self._ordered = sorted(docnums)
        self._in_segment: dict[int, list[int]] = {}

    def __contains__(self, docnum: int) -> bool:
        return docnum in self.docnums

    def in_segment(self, segment: Segment) -> list[int]:
        """The wanted documents of `segment`, as its own docnums, ascending."""
        found = self._in_segment.get(segment.offset)
        if found is None:
            offset = segment.offset
            start = bisect_left(self._ordered, offset)
            end = bisect_left(self._ordered, offset + segment.reader.doc_count_all())
            found = self._in_segment[offset] = [docnum - offset for docnum in self._ordered[start:end]]
        return found


def blocks(posted: Posted, field: str, term: str, values: bool = False,
           among: Sequence[int] | None = None) -> Iterator[Block]:
    """The term's postings in one segment, deleted documents included (see Segment), a block at
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


def live_docnums(terms: TermIndex, field: str, term: str) -> list[int]:
    """The index-wide docnums of the live documents holding `term`, ascending."""
    found: list[int] = []
    for posted in terms.posted(field, term):
        offset, gone = posted.segment.offset, posted.segment.deleted
        for docnums, _, _ in blocks(posted, field, term):
            found += [docnum + offset for docnum in docnums if docnum not in gone]
    return found


def deleted(reader) -> frozenset[int]:
    """The segment's deleted documents (their postings stay until the segment is rewritten)."""
    return frozenset(reader._perdoc.deleted_docs()) if reader.has_deletions() else frozenset()


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
