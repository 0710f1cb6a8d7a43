"""A segment's terms and postings written in bulk: the builder's path (the part of a segment
that W3's `.trm` and `.pst` were), field by field, every term of a field encoded at once by numpy:
its postings, their blocks, the packed arrays of the blocks and skip data (codec.packing), the
term-info columns and the blocks of the terms dictionary (terms.TermsWriter.add_many).

What it writes is what the term-by-term path writes (terms.TermsWriter fed encode_postings):
the same bytes, made without a Python step per term or per block.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from search.index.codec.postings import (
    BLOCK,
    EXISTENCE,
    POSITIONS,
    POSTS_EXT,
    LengthBytes,
    encode_postings,
)
from search.index.codec.terms import TERM_BLOCK, TERMS_EXT, TermColumns, TermsWriter

if TYPE_CHECKING:
    import numpy

# (term, docnums, weights (None: all 1), positions (None: not positional)[, values])
PostingsItem = (
    tuple[str | bytes, Sequence[int], Sequence[float] | None, Sequence[int] | None]
    | tuple[
        str | bytes,
        Sequence[int],
        Sequence[float] | None,
        Sequence[int] | None,
        Sequence[bytes] | None,
    ]
)


class SortedTokens(NamedTuple):
    """A positional field's occurrences sorted by term, as numpy arrays of one length: each
    occurrence's term (an index into `names`, the terms in order), document and position, each
    term's occurrences by document, then position."""

    names: list[str]
    terms: numpy.ndarray
    docs: numpy.ndarray
    positions: numpy.ndarray


class SortedPostings(NamedTuple):
    """A field's postings without positions, sorted by term, as numpy arrays: `names` the terms
    in order, `starts` where each term's postings start (and, last, where they end), each
    posting's document and weight (None: all 1)."""

    names: list[str]
    starts: numpy.ndarray
    docs: numpy.ndarray
    weights: numpy.ndarray | None


# (field name, kind, length bytes of every document (None: not scored), its terms' postings)
FieldPostings = tuple[
    str, int, LengthBytes | None, Iterable[PostingsItem] | SortedTokens | SortedPostings
]

_TOKENS_A_BATCH = 1 << 20  # occurrences (or postings) encoded at once, about


def write_postings(storage: Any, segment: Any, fields: Iterable[FieldPostings]) -> None:
    """Write a segment's terms and postings (`storage` a Whoosh storage, `segment` its W3Segment)
    in bulk. `fields`: (name, kind, lengths, items) in name order, `lengths` the field's length
    byte per docnum of the segment (None for an unscored field), `items` a positional field's
    SortedTokens, another's SortedPostings, or (term, docnums, weights, positions[, values]) in
    term order, arrays of ints (weights None: all 1; positions: see `encode_postings`)."""
    writer = TermsWriter(
        segment.create_file(storage, TERMS_EXT), segment.create_file(storage, POSTS_EXT)
    )
    for name, kind, lengths, items in fields:
        writer.start_field(name, kind)
        if isinstance(items, SortedTokens):
            if len(items.terms):
                _write_table(writer, _Table.of_tokens(items, kind), lengths)
        elif isinstance(items, SortedPostings):
            if len(items.docs):
                _write_table(writer, _Table.of_postings(items, kind), lengths)
        else:
            _write_items(writer, kind, items, lengths)
        writer.finish_field()
    writer.close()


def _write_items(
    writer: TermsWriter, kind: int, items: Iterable[PostingsItem], lengths: LengthBytes | None
) -> None:
    """Encode and add a field's terms one by one."""
    for item in items:
        term, docnums, weights, positions = item[:4]
        values = item[4] if len(item) > 4 else None
        if isinstance(term, str):
            term = term.encode("utf-8")
        lbs = bytes(map(lengths.__getitem__, docnums)) if lengths is not None else None
        data, stats = encode_postings(kind, docnums, weights, positions, values, lbs)
        writer.add(term, data, stats)


class _Table:
    """A field's postings as numpy arrays: each posting's document and weight, where each term's
    postings start (`term_at`, one more: the end), and for a positional field where each
    posting's positions start (`token_at`, one more) and every position."""

    def __init__(
        self,
        kind: int,
        names: list[str],
        term_at: numpy.ndarray,
        docs: numpy.ndarray,
        weights: numpy.ndarray,
        token_at: numpy.ndarray | None = None,
        positions: numpy.ndarray | None = None,
    ) -> None:
        self.kind = kind
        self.names = names
        self.term_at = term_at
        self.docs = docs
        self.weights = weights
        self.token_at = token_at
        self.positions = positions

    @classmethod
    def of_tokens(cls, tokens: SortedTokens, kind: int) -> _Table:
        import numpy

        terms, docs = tokens.terms, tokens.docs
        count = len(terms)
        starts = numpy.ones(count, bool)  # where a posting (a term in a document) starts
        numpy.not_equal(terms[1:], terms[:-1], out=starts[1:])
        starts[1:] |= docs[1:] != docs[:-1]
        token_at = numpy.append(numpy.flatnonzero(starts), count)
        del starts
        posting_terms = terms[token_at[:-1]]
        first = numpy.ones(len(posting_terms), bool)
        numpy.not_equal(posting_terms[1:], posting_terms[:-1], out=first[1:])
        term_at = numpy.append(numpy.flatnonzero(first), len(posting_terms))
        return cls(
            kind,
            tokens.names,
            term_at,
            docs[token_at[:-1]].astype(numpy.int64),
            numpy.diff(token_at),
            token_at,
            tokens.positions,
        )

    @classmethod
    def of_postings(cls, postings: SortedPostings, kind: int) -> _Table:
        import numpy

        weights = postings.weights
        if weights is None or kind == EXISTENCE:
            weights = numpy.ones(len(postings.docs), numpy.int64)
        return cls(
            kind,
            postings.names,
            postings.starts.astype(numpy.int64),
            postings.docs.astype(numpy.int64),
            weights.astype(numpy.int64),
        )


def _write_table(writer: TermsWriter, table: _Table, lengths: LengthBytes | None) -> None:
    """Encode and add a field's terms in batches of whole blocks of the terms dictionary."""
    import numpy

    term_at = table.term_at
    # A term's occurrences: its positions, or its postings.
    size_at = term_at if table.token_at is None else table.token_at[term_at]
    count = len(term_at) - 1
    first = 0
    while first < count:
        reach = numpy.searchsorted(size_at, size_at[first] + _TOKENS_A_BATCH, side="right") - 1
        last = min(count, first + max(TERM_BLOCK, (reach - first) // TERM_BLOCK * TERM_BLOCK))
        data, columns = _encode(table, first, last, lengths)
        terms = list(map(str.encode, table.names[first:last]))  # UTF-8
        writer.add_many(terms, data, columns)
        first = last


def _encode(
    table: _Table, first: int, last: int, lengths: LengthBytes | None
) -> tuple[bytes, TermColumns]:
    """The posting lists of terms first..last-1 run together, and their stats (what
    encode_postings gives for each)."""
    import numpy

    from search.index.codec.packing import packed_sizes, scatter, widths

    kind = table.kind
    positional = kind == POSITIONS
    weighted = kind != EXISTENCE
    p0, p1 = int(table.term_at[first]), int(table.term_at[last])
    term_at = table.term_at[first : last + 1] - p0
    terms = last - first
    docs = table.docs[p0:p1]
    weights = table.weights[p0:p1]
    df = numpy.diff(term_at)
    # Blocks: BLOCK postings of a term each (its last fewer).
    term_blocks = (df + BLOCK - 1) // BLOCK
    block_term = numpy.repeat(numpy.arange(terms), term_blocks)
    within_term = numpy.arange(len(block_term)) - numpy.repeat(
        numpy.cumsum(term_blocks) - term_blocks, term_blocks
    )
    block_at = term_at[block_term] + within_term * BLOCK
    block_count = numpy.minimum(BLOCK, term_at[block_term + 1] - block_at)
    block_end = block_at + block_count
    headed = df[block_term] > 1  # blocks of lists of more than one posting: docnums, weights
    # Each block's arrays, in the order they are written: docnum deltas, weights less one,
    # position deltas.
    slots = 1 + int(weighted) + int(positional)
    sources = []  # (values, counts, slot in the block, chosen blocks)
    if headed.any():
        posting_headed = numpy.repeat(headed, block_count)
        deltas = numpy.diff(docs, prepend=0)
        deltas[term_at[:-1]] = 0  # from the term's first docnum
        chosen = numpy.flatnonzero(headed)
        sources.append((deltas[posting_headed], block_count[chosen], 0, chosen))
        if weighted:
            sources.append((weights[posting_headed] - 1, block_count[chosen], 1, chosen))
    if positional:
        assert table.token_at is not None and table.positions is not None
        token_at = table.token_at[p0 : p1 + 1]
        k0 = int(token_at[0])
        positions = table.positions[k0 : int(token_at[-1])].astype(numpy.int64)
        position_deltas = numpy.diff(positions, prepend=0)
        starts = token_at[:-1] - k0
        position_deltas[starts] = positions[starts]
        block_tokens = token_at[block_end] - token_at[block_at]
        sources.append((position_deltas, block_tokens, slots - 1, numpy.arange(len(block_term))))
    nblocks = len(block_term)
    array_sizes = numpy.zeros((nblocks, slots), numpy.int64)
    packed = []
    for values, counts, slot, chosen in sources:
        width = widths(values, counts, quick=slot < slots - 1 or not positional)
        array_sizes[chosen, slot] = packed_sizes(width, counts)
        packed.append((values, counts, width, chosen, slot))
    block_sizes = array_sizes.sum(axis=1)
    # Skip data of lists of more than one block: each block's last docnum, size, max weight,
    # min length byte.
    skipped = numpy.flatnonzero(term_blocks > 1)
    skipped_blocks = numpy.flatnonzero(term_blocks[block_term] > 1)
    skips_counts = term_blocks[skipped]
    skip_sources = []
    skip_sizes = numpy.zeros((len(skipped), 4), numpy.int64)
    if len(skipped):
        lasts = docs[block_end[skipped_blocks] - 1]
        max_weights = numpy.maximum.reduceat(weights, block_at)[skipped_blocks]
        if lengths is not None:
            length_bytes = numpy.frombuffer(lengths, numpy.uint8)[docs]
            min_lengths = numpy.minimum.reduceat(length_bytes, block_at)[skipped_blocks]
        else:
            min_lengths = numpy.zeros(len(skipped_blocks), numpy.int64)
        for c, values in enumerate((lasts, block_sizes[skipped_blocks], max_weights, min_lengths)):
            width = widths(values.astype(numpy.uint64), skips_counts, quick=True)
            skip_sizes[:, c] = packed_sizes(width, skips_counts)
            skip_sources.append((values, width, c))
    # Where each array goes: a term's skip data, then its blocks, each its arrays in order.
    term_sizes = numpy.bincount(block_term, weights=block_sizes, minlength=terms).astype(
        numpy.int64
    )
    term_sizes[skipped] += skip_sizes.sum(axis=1)
    term_starts = numpy.cumsum(term_sizes) - term_sizes
    block_starts = numpy.cumsum(block_sizes) - block_sizes
    # A block's start: its term's start, past the term's skip data and the term's earlier
    # blocks.
    first_block = numpy.cumsum(term_blocks) - term_blocks
    skip_total = numpy.zeros(terms, numpy.int64)
    skip_total[skipped] = skip_sizes.sum(axis=1)
    block_offsets = (
        term_starts[block_term]
        + skip_total[block_term]
        + block_starts
        - block_starts[first_block[block_term]]
    )
    out = numpy.zeros(int(term_sizes.sum()), numpy.uint8)
    array_starts = numpy.cumsum(array_sizes, axis=1) - array_sizes
    for values, counts, width, chosen, slot in packed:
        offsets = block_offsets[chosen] + array_starts[chosen, slot]
        scatter(out, values, counts, width, offsets)
    skip_starts = numpy.cumsum(skip_sizes, axis=1) - skip_sizes
    for values, width, c in skip_sources:
        scatter(
            out,
            values.astype(numpy.uint64),
            skips_counts,
            width,
            term_starts[skipped] + skip_starts[:, c],
        )
    # The terms' stats.
    starts = term_at[:-1]
    ends = term_at[1:] - 1
    if lengths is not None:
        length_bytes = numpy.frombuffer(lengths, numpy.uint8)[docs]
        min_length = numpy.minimum.reduceat(length_bytes, starts)
        max_length = numpy.maximum.reduceat(length_bytes, starts)
    else:
        min_length = max_length = numpy.zeros(terms, numpy.int64)
    columns = TermColumns(
        df.astype(numpy.int64),
        numpy.add.reduceat(weights, starts).astype(numpy.int64),
        numpy.maximum.reduceat(weights, starts).astype(numpy.int64),
        min_length.astype(numpy.int64),
        max_length.astype(numpy.int64),
        docs[starts],
        docs[ends],
        term_sizes,
    )
    return out.tobytes(), columns
