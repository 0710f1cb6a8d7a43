"""The segments of an open index as the engine reads them: a term's posting list in one segment,
a block at a time or whole as arrays, and each document's length byte of a field.

The engine's fast path reads through these, not through Whoosh's matchers: `OpenSegment` and
`Posted` are what engine.postings hands the scorers.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, NamedTuple

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

from search.index.codec.postings import Block, CompactTermInfo, PostingList

if TYPE_CHECKING:
    import numpy
    from whoosh.reading import SegmentReader


class OpenSegment(NamedTuple):
    """One segment of an open index: its reader, its first document's index-wide docnum, and its
    deleted documents (their postings stay until the segment is rewritten)."""

    reader: SegmentReader
    offset: int
    deleted: frozenset[int]


class Posted(NamedTuple):
    """A term in one segment: the segment, and the term's info there (frequency, postings)."""

    segment: OpenSegment
    info: CompactTermInfo


def posting_list(reader: SegmentReader, fieldname: str, info: CompactTermInfo) -> PostingList:
    """The block reader of a term of an open segment (a Whoosh SegmentReader of a segment
    written with CompactCodec) given its info, as `reader._terms.term_info` returns it."""
    found: PostingList = reader._terms.posting_list(fieldname, info)
    return found


def blocks(
    posted: Posted,
    field: str,
    term: str,
    values: bool = False,
    among: Sequence[int] | None = None,
) -> Iterator[Block]:
    """A term's postings in one segment a block at a time (see `PostingList.blocks`): `posted`
    is a `Posted` (the segment's reader, the term's info there)."""
    return posting_list(posted.segment.reader, field, posted.info).blocks(
        among=among, values=values
    )


def posting_arrays(posted: Posted, field: str) -> tuple[numpy.ndarray, numpy.ndarray]:
    """A term's docnums and weights in one segment as numpy arrays (`PostingList.arrays`)."""
    return posting_list(posted.segment.reader, field, posted.info).arrays()


_lengths: weakref.WeakKeyDictionary[SegmentReader, dict[str, bytes]] = weakref.WeakKeyDictionary()


def length_bytes(reader: SegmentReader, field: str) -> bytes:
    """The field's length byte of every document in one segment (0 where it has none), read
    whole from W3's lengths column once per open segment instead of a call per document."""
    cached = _lengths.setdefault(reader, {})
    if field not in cached:
        cached[field] = _read_length_bytes(reader, field)
    return cached[field]


def _read_length_bytes(reader: SegmentReader, field: str) -> bytes:
    doc_count = reader.doc_count_all()
    column = reader._perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
    if column is None:
        return bytes(doc_count)
    stored = min(column._count, doc_count)  # documents past it have the default, 0
    found: bytes = column._dbfile.get(column._basepos, stored) + bytes(doc_count - stored)
    return found
