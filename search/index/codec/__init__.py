"""The codec: kensaku's own file format for a Whoosh segment, a module per thing it stores, each
writing and reading its bytes side by side as Whoosh's `whoosh/codec/whoosh3.py` does; nothing
else knows them.

- `packed`: the packed arrays every file is made of (bit-packed integers, no deflate);
- `packing`: many packed arrays written at once by numpy (the writer's path);
- `postings`: posting lists (`.kps`), their blocks and block readers, a term's statistics;
- `terms`: the terms dictionary (`.ktm`), front-coded blocks of terms and their infos;
- `bulk`: a segment's terms and postings written at once, as the index writer makes them;
- `stored`: the stored fields, the `_stored` column of documents deflated together in blocks;
- `whoosh`: `CompactCodec`, the codec Whoosh calls, and the readers, writers, cursor and matcher
  through which Whoosh's own searcher, queries and writer work on these files;
- `segments`: what the engine reads of an open segment (a term's blocks, length bytes).

How kensaku uses it: index.writer makes each segment with `CompactCodec()`, hands
`write_postings` every field's terms, sorted, with their postings as arrays, and writes the
stored fields with `STORED_COLUMN`'s writer; engine.postings, bm25 and matching read a term's
postings through `blocks` (a block's docnums, its weights, its positions decoded lazily);
Whoosh's own searcher, queries and writer go through the codec's terms reader and matcher, and
its `stored_fields` through the codec's per-document reader.
"""

from search.index.codec.bulk import SortedPostings, SortedTokens, write_postings
from search.index.codec.packed import CompactFormatError
from search.index.codec.postings import (
    BLOCK,
    EXISTENCE,
    FREQUENCY,
    POSITIONS,
    VALUES,
    Block,
    BlockPositions,
    PostingList,
    encode_postings,
    field_kind,
)
from search.index.codec.segments import (
    OpenSegment,
    Posted,
    blocks,
    length_bytes,
    posting_arrays,
    posting_list,
)
from search.index.codec.stored import STORED_COLUMN, StoredColumn
from search.index.codec.whoosh import CompactCodec

__all__ = [
    "BLOCK",
    "EXISTENCE",
    "FREQUENCY",
    "POSITIONS",
    "STORED_COLUMN",
    "VALUES",
    "Block",
    "BlockPositions",
    "CompactCodec",
    "CompactFormatError",
    "OpenSegment",
    "Posted",
    "PostingList",
    "SortedPostings",
    "SortedTokens",
    "StoredColumn",
    "blocks",
    "encode_postings",
    "field_kind",
    "length_bytes",
    "posting_arrays",
    "posting_list",
    "write_postings",
]
