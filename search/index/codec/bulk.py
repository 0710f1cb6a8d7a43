"""A segment's terms and postings written in bulk: the builder's path (the part of a segment
that W3's `.trm` and `.pst` were), field by field, a positional field's occurrences encoded
for all its terms at once by numpy.

What it writes is what the term-by-term path writes (terms.TermsWriter fed encode_postings):
the same bytes, made faster.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from search.index.codec.postings import (
    BLOCK,
    ONES,
    POSITIONS,
    POSTS_EXT,
    SMALL,
    LengthBytes,
    TermStats,
    assemble,
    encode_postings,
    lone_position,
    once,
    single_position,
)
from search.index.codec.terms import TERMS_EXT, TermsWriter

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


# (field name, kind, length bytes of every document (None: not scored), its terms' postings)
FieldPostings = tuple[str, int, LengthBytes | None, Iterable[PostingsItem] | SortedTokens]


def write_postings(
    storage: Any, segment: Any, fields: Iterable[FieldPostings], level: int = 3
) -> None:
    """Write a segment's terms and postings (`storage` a Whoosh storage, `segment` its W3Segment)
    in bulk. `fields`: (name, kind, lengths, items) in name order, `lengths` the field's length
    byte per docnum of the segment (None for an unscored field), `items` (term, docnums, weights,
    positions[, values]) in term order, arrays of ints (weights None: all 1; positions: see
    `encode_postings`), or for a positional field its SortedTokens."""
    writer = TermsWriter(
        segment.create_file(storage, TERMS_EXT), segment.create_file(storage, POSTS_EXT), level
    )
    for name, kind, lengths, items in fields:
        writer.start_field(name, kind)
        if isinstance(items, SortedTokens):
            _write_sorted(writer, items, lengths, level)
        else:
            _write_items(writer, kind, items, lengths, level)
        writer.finish_field()
    writer.close()


def _write_items(
    writer: TermsWriter,
    kind: int,
    items: Iterable[PostingsItem],
    lengths: LengthBytes | None,
    level: int,
) -> None:
    """Encode and add a field's terms one by one."""
    for item in items:
        term, docnums, weights, positions = item[:4]
        values = item[4] if len(item) > 4 else None
        if isinstance(term, str):
            term = term.encode("utf-8")
        position = lone_position(kind, positions)
        if position is not None:
            writer.add(term, single_position(position), once(docnums[0], lengths))
            continue
        lbs = bytes(map(lengths.__getitem__, docnums)) if lengths is not None else None
        data, stats = encode_postings(kind, docnums, weights, positions, values, lbs, level)
        writer.add(term, data, stats)


_TERMS_A_BATCH = 4096


def _write_sorted(
    writer: TermsWriter, tokens: SortedTokens, lengths: LengthBytes | None, level: int
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

    def __init__(self, tokens: SortedTokens, lengths: LengthBytes | None) -> None:
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

    def encoded(self, first: int, last: int, level: int) -> Iterator[tuple[str, bytes, TermStats]]:
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
            elif tb - ta == 1 and first_positions[i] < SMALL:
                data = single_position(first_positions[i])
            else:
                data = self._one_block(
                    a, b, ta, tb, max_weight, doc_code, weight_code, position_code, level
                )
            yield name, data, stats

    def _one_block(
        self,
        a: int,
        b: int,
        ta: int,
        tb: int,
        max_weight: int,
        doc_code: str,
        weight_code: str,
        position_code: str,
        level: int,
    ) -> bytes:
        tail = _packed_columns(self.position_bytes, ta, tb, position_code)
        if b - a == 1:  # the term info holds the one posting's docnum and weight
            return assemble(0, b"", tail, level)
        head = _packed_columns(self.doc_bytes, a, b, doc_code)
        if max_weight == 1:
            return assemble(ONES, head, tail, level)
        return assemble(
            0, head + _packed_columns(self.weight_bytes, a, b, weight_code), tail, level
        )

    def _in_blocks(self, a: int, b: int, ta: int, tb: int, max_weight: int, level: int) -> bytes:
        docs = self.docs[a:b].tolist()
        weights = None if max_weight == 1 else self.weights[a:b].tolist()
        lengths = None if self.lengths is None else bytes(map(self.lengths.__getitem__, docs))
        return encode_postings(
            POSITIONS, docs, weights, self.positions[ta:tb].tolist(), None, lengths, level
        )[0]


def _unsigned_codes(highs: numpy.ndarray) -> list[str]:
    """pack_ints' typecode of each array, given its largest item."""
    import numpy

    return numpy.select([highs < 0x100, highs < 0x10000], ["B", "H"], "I").tolist()


def _signed_codes(lows: numpy.ndarray, highs: numpy.ndarray) -> list[str]:
    """pack_ints' typecode of each signed array, given its smallest and largest items."""
    import numpy

    return numpy.select(
        [(lows >= -0x80) & (highs < 0x80), (lows >= -0x8000) & (highs < 0x8000)], ["b", "h"], "i"
    ).tolist()


def _byte_columns(values: numpy.ndarray, dtype: str) -> numpy.ndarray:
    """Each value's little-endian bytes as a row (four columns)."""
    return values.astype(dtype).view("u1").reshape(-1, 4)


_WIDTHS = {"B": 1, "H": 2, "I": 4, "b": 1, "h": 2, "i": 4}


def _packed_columns(rows: numpy.ndarray, start: int, end: int, code: str) -> bytes:
    """What pack_ints gives for the values of rows start..end-1 packed as `code`: the tag, then
    their byte planes."""
    return code.encode("ascii") + rows[start:end, : _WIDTHS[code]].T.tobytes()
