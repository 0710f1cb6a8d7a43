"""The bulk writer: documents' paragraphs analyzed in worker processes and written as segments.

Whoosh's own writer costs ~14 µs of CPU per token: every posting goes through the posting pool (and
its pickled runs), and at commit through one method call, one column read of the document's
length and one array append after another. `SegmentBuilder` gathers a segment in memory as arrays
of C integers instead: per field Sudachi analyzes, each document's text as a number among the
segment's texts, each distinct text analyzed once (search.text.bulk: its morphemes mapped to
entry numbers), the terms and positions of all of them made at once by numpy when the segment is
written; the grams and chars fields' terms made from the folded texts of all the documents at
once, as numbers; per ID field: term -> docnums. It sorts each field's occurrences by term once
with numpy (a stable sort, so each term's occurrences stay in document and position order),
counts each document's field lengths without reading them back, and writes the segment's files
in bulk: its terms, postings and stored fields through index.codec (kensaku's codec, which owns
their bytes); its other columns and length columns through Whoosh's own column writers; its
compound file and the TOC through Whoosh's own code. So Whoosh's readers, matchers, phrase
queries, BM25F scoring, column readers and stored fields work on the result unchanged.

The writer reads no file itself: it is handed the function that reads a document (the build
hands ingest.paragraphs.read_document) and knows only the paragraphs it returns.

Parallelism: the documents are cut into chunks (about `segment_mb` of text, and at least one per
process); worker processes take chunks from a queue, analyze them with Sudachi and write each as
one or more segments; the parent collects the Segment objects, orders them by chunk (so that
document numbers follow the order of the documents, as with a single writer) and writes the TOC;
while it waits, it hands each chunk's segments to a `Sideline` (the generation's records, read
from the segments as they come).
An error in a worker, or a worker dying, stops the build with an exception in the parent: no
document is ever silently lost.

API:
  write_index(path, documents, read, procs=2, progress=None, warn=None) -> IndexSummary
      a new Whoosh index in `path` (created if needed) with index.schema.schema().
  add_to_index(path, documents, read, procs=2, progress=None, warn=None, replace=True,
               delete_sources=()) -> IndexSummary
      appends new segments to an existing index; with `replace`, paragraphs of an indexed
      document with the same source are deleted first, as are those of `delete_sources` — in the
      same TOC generation, so a reader sees the old or the new index, whole. A segment left with
      no live document is dropped from that TOC, and its files removed.
"""

from __future__ import annotations

import contextlib
import gc
import math
import os
import pickle
import queue
import signal
import traceback
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from whoosh import formats
from whoosh.analysis import IDTokenizer

from search.errors import IndexWorkerDied
from search.index.codec import (
    EXISTENCE,
    FREQUENCY,
    POSITIONS,
    STORED_COLUMN,
    CompactCodec,
    SortedPostings,
    SortedTokens,
    write_postings,
)
from search.index.codec.bulk import FieldPostings
from search.index.codec.postings import LengthBytes
from search.index.schema import (
    CHARS,
    GRAMS,
    PARAGRAPH_TEXT,
    SOURCE,
    IndexDocument,
    SudachiTokenizer,
    paragraph_fields,
    schema,
)
from search.index.vocabulary import VocabularyCounter
from search.ingest.readers.base import UnreadableDocument
from search.ingest.reporting import IndexSummary, Progress, Warn
from search.text.analysis import fold
from search.text.bulk import BulkAnalysis, Expanded, Tokens, stable_order

if TYPE_CHECKING:
    from search.ingest.discovery import DocumentFile
    from search.ingest.paragraphs import Paragraph, ReadDocument

# What reads a document: its paragraphs, warnings and digest; raises UnreadableDocument (the
# build hands ingest.paragraphs.read_document; it runs in the worker processes).
ReadDocumentFn = Callable[["DocumentFile"], "ReadDocument"]
# About how much work indexing a document is (the build hands ingest.paragraphs.indexing_work).
WorkFn = Callable[["DocumentFile"], int]

DEFAULT_SEGMENT_MB = 12.0  # text per chunk of documents (one segment unless it grows too big)
DEFAULT_MAX_TOKENS = 28_000_000  # terms in memory before a segment is written (~800 MB a worker;
# a field Sudachi analyzes counts its text's morphemes)


@dataclass(frozen=True)
class Layout:
    """How segments are written: `compound`, the files of a segment packed into one `.seg` file
    as Whoosh does by default. Separate files open faster: Whoosh copies each part of a compound
    file into memory when it opens it, unlike a plain file."""

    compound: bool = True


_TEXT, _POSITION = itemgetter(0), itemgetter(3)  # of a search.analysis.Term


class Sideline(Protocol):
    """Work this process does with the segments as the workers write them, a piece at a time
    while it waits for them (index.records.GenerationRecords)."""

    def segments_written(self, chunk: int, segments: list[Any]) -> None:
        """Chunk number `chunk`'s segments are written (chunks come in any order)."""

    def work(self) -> bool:
        """Do a piece of the work; whether there was one to do."""


class IndexWorkerError(RuntimeError):
    """An indexing worker process failed; the message carries its traceback."""


# Field plans -------------------------------------------------------------------------------


class _FieldPlan:
    """What writing one schema field takes: its postings (the positions of one of the schema's
    term fields, or an ID's whole value as its one term), its length, its stored value and its
    column. A field of another kind is refused: the schema has none."""

    def __init__(self, name: str, fieldobj) -> None:
        self.name = name
        self.field = fieldobj
        self.indexed = bool(fieldobj.indexed) and fieldobj.format is not None
        self.scorable = bool(fieldobj.scorable)
        self.stored = bool(fieldobj.stored)
        self.column = fieldobj.column_type
        self.granularity = _granularity(name, fieldobj) if self.indexed else None
        self.values = self.granularity is not None


def _granularity(name: str, fieldobj) -> str | None:
    """The term field (schema.FIELDS) a positional field indexes, or None for an ID."""
    fmt, analyzer = fieldobj.format, getattr(fieldobj, "analyzer", None)
    plain = fmt.field_boost == 1.0 and not fieldobj.vector and not fieldobj.separate_spelling()
    # Exact type checks: a subclass may encode differently.
    if (
        plain
        and type(analyzer) is SudachiTokenizer
        and type(fmt) is (formats.Frequency if analyzer.granularity == CHARS else formats.Positions)
    ):
        return analyzer.granularity
    if plain and type(fmt) is formats.Existence and type(analyzer) is IDTokenizer:
        return None
    raise ValueError(f"field {name!r}: not a kind of field the index builder writes")


def _plans(schema) -> dict[str, _FieldPlan]:
    return {name: _FieldPlan(name, schema[name]) for name in schema.names()}


# One segment in memory -----------------------------------------------------------------------

# What adding a document does for one of its fields: its name, the gatherer of its postings (None:
# not indexed), whether its length is scored, whether it is stored, its column (None: none).
_Step = tuple[str, "FieldGatherer | None", bool, bool, Any]


def _segment_id() -> str:
    # Whoosh's random_name uses the `random` module, whose state forked workers share.
    from whoosh.util import IDCHARS

    raw = os.urandom(16)
    return "".join(IDCHARS[b % len(IDCHARS)] for b in raw)


# No text analyzed yet: `is` no field value (an empty text too is one object in Python).
_NOTHING_ANALYZED = (object(), 0, 0)


class SegmentBuilder:
    """Collects documents in memory and writes them as one segment (`finish`)."""

    def __init__(
        self, storage, schema, plans=None, indexname: str = "MAIN", layout: Layout | None = None
    ) -> None:
        from whoosh.codec.whoosh3 import W3Segment

        self.storage = storage
        self.schema = schema
        self.plans = plans if plans is not None else _plans(schema)
        self.layout = layout or Layout()
        self.segment = W3Segment(CompactCodec(), indexname, segid=_segment_id())
        self.doccount = 0
        self.token_count = 0
        self._folded = ("", "")  # the last text folded, and its folding (grams and chars share it)
        self.analysis = BulkAnalysis()  # the texts of the fields Sudachi analyzes
        # The last text analyzed: the text, its number and morphemes (the fields share it).
        self._analyzed_text: tuple[object, int, int] = _NOTHING_ANALYZED
        self.postings = {
            name: _postings_of(plan) for name, plan in self.plans.items() if plan.indexed
        }
        self.lengths = {
            name: bytearray() for name, plan in self.plans.items() if plan.indexed and plan.scorable
        }
        self.totals: dict[str, int] = {}
        self._files: list[Any] = []  # Whoosh's files, open for writing
        self._columns: dict[str, tuple[Any, Any]] = {}  # name: (column writer, its file)
        self._stored = self._column_writer("_stored", STORED_COLUMN)
        self.vocabulary = VocabularyCounter()
        self._steps: dict[tuple[str, ...], list[_Step]] = {}

    # Files

    def _create(self, ext: str):
        f = self.segment.create_file(self.storage, ext)
        self._files.append(f)
        return f

    def _column_writer(self, name: str, column):
        from whoosh.codec.whoosh3 import W3Codec

        f = self._create("." + name + W3Codec.COLUMN_EXT)
        writer = column.writer(f)
        self._columns[name] = (writer, f)
        return writer

    def discard(self) -> None:
        """Remove whatever this builder wrote (after an error)."""
        for f in self._files:
            with contextlib.suppress(Exception):
                f.close()
        prefix = self.segment.segment_id() + "."
        for name in self.storage.list():
            if name.startswith(prefix):
                with contextlib.suppress(OSError):
                    self.storage.delete_file(name)

    # Documents

    def _field_order(self, fields: IndexDocument) -> tuple[str, ...]:
        """The schema fields of a document given as `fields`, in the order they are written."""
        names = tuple(n for n in sorted(fields) if not n.startswith("_"))
        for n in names:
            if n not in self.plans:
                raise ValueError(f"no field named {n!r} in the schema")
        return names

    def _steps_of(self, fields: IndexDocument) -> list[_Step]:
        """What adding a document given as `fields` does, field by field in the order they are
        written: (name, the gatherer of its postings or None, whether its length is scored,
        whether it is stored, its column or None)."""
        steps = []
        for name in self._field_order(fields):
            plan = self.plans[name]
            post = self.postings.get(name) if plan.indexed else None
            steps.append((name, post, plan.indexed and plan.scorable, plan.stored, plan.column))
        return steps

    def add_document(self, fields: IndexDocument) -> None:
        """Add one document, given as the keyword arguments of Whoosh's `add_document`."""
        key = tuple(fields)
        steps = self._steps.get(key)
        if steps is None:
            steps = self._steps[key] = self._steps_of(fields)
        doc = self.doccount
        lengths = self.lengths
        for per_document in lengths.values():
            per_document.append(0)
        stored = {}
        for name, post, scored, is_stored, column in steps:
            value = fields[name]
            if value is None:
                continue
            if post is not None:
                analyzed = self._analyzed_text
                if type(post) is _Analyzed and analyzed[0] is value:
                    # Another field of the text analyzed last (a paragraph's five share it).
                    post.docs.append(doc)
                    post.texts.append(analyzed[1])
                    self.token_count += analyzed[2]
                else:
                    if not isinstance(value, str):
                        raise ValueError(f"field {name!r}: an indexed field's value is text")
                    length = self._index(post, value, doc)
                    if length and scored:
                        lengths[name][doc] = _length_byte(length)
                        self.totals[name] = self.totals.get(name, 0) + length
            if is_stored:
                stored[name] = value
            if column is not None:
                writer = self._columns.get(name)
                writer = writer[0] if writer else self._column_writer(name, column)
                writer.add(doc, self.plans[name].field.to_column_value(value))
        if stored:
            self._stored.add(doc, stored)
        text = fields.get(PARAGRAPH_TEXT)
        if isinstance(text, str) and text:
            analyzed = self._analyzed_text
            if analyzed[0] is text:  # the words field's text: analyzed once for both
                self.vocabulary.add_analyzed(self.analysis, analyzed[1])
            else:
                self.vocabulary.add(text)
        self.doccount = doc + 1

    def add_paragraph(self, paragraph: Paragraph) -> None:
        """Add the index document of one paragraph (schema.paragraph_fields), its text folded
        once for every field that needs it folded."""
        folded = fold(paragraph.text)
        self._folded = (paragraph.text, folded)
        self.add_document(paragraph_fields(paragraph, folded))

    def _index(self, post: FieldGatherer, value: str, doc: int) -> int:
        """Add the postings of one field value; returns the field length (number of terms), or
        0 for a field analyzed by Sudachi, whose lengths are counted when the segment is
        written."""
        if type(post) is _Analyzed:
            analyzed = self._analyzed_text
            if analyzed[0] is value:
                number, morphemes = analyzed[1], analyzed[2]
            else:
                number = self.analysis.add(value)
                morphemes = self.analysis.morphemes(number)
                self._analyzed_text = (value, number, morphemes)
            post.add(doc, number)
            self.token_count += morphemes
            return 0
        if isinstance(post, dict):  # an ID: the whole value is the one term
            entry = post.get(value)
            if entry is None:
                post[value] = [doc]
            else:
                entry.append(doc)
            self.token_count += 1
            return 1
        if isinstance(post, _FoldedTexts):  # grams or chars
            if self._folded[0] is not value:
                self._folded = (value, fold(value))
            length = post.add(doc, self._folded[1])
            self.token_count += length
            return length
        raise AssertionError(f"no gatherer of postings {post!r}")  # _postings_of makes them

    # Writing

    def _analyzed(self) -> Expanded | None:
        """The terms of the texts of the fields Sudachi analyzes, made at once; each such
        field's length in each document counted into the length bytes and totals."""
        fields = {
            name: post
            for name, post in self.postings.items()
            if isinstance(post, _Analyzed) and len(post)
        }
        if not fields:
            return None
        import numpy

        texts = len(self.analysis)
        expanded = self.analysis.expand()
        self.analysis = BulkAnalysis()
        self._analyzed_text = _NOTHING_ANALYZED
        for name, post in fields.items():
            tokens = getattr(expanded, post.granularity)
            per_text = numpy.bincount(tokens.texts, minlength=texts)
            lengths = per_text[numpy.frombuffer(post.texts, numpy.uint32)]
            post.lengths = lengths
            if name in self.lengths:
                column = numpy.frombuffer(self.lengths[name], numpy.uint8).copy()
                column[numpy.frombuffer(post.docs, numpy.uint32)] = _length_bytes_of(lengths)
                self.lengths[name] = bytearray(column.tobytes())
                self.totals[name] = self.totals.get(name, 0) + int(lengths.sum())
        return expanded

    def finish(self):
        """Write the segment's files, assemble them into the compound file; returns the segment
        (a W3Segment with kensaku's codec)."""

        segment = self.segment
        doccount = self.doccount
        segment.set_doc_count(doccount)
        self.vocabulary.count()  # from the analysis, which _analyzed lets go
        ranks = self.analysis.vocabulary_ranks() if len(self.analysis) else None
        analyzed = self._analyzed()
        segment._fieldlengths = defaultdict(int, self.totals)

        # Per-document files: stored fields and columns, then field lengths (one byte per
        # document, written up to the last non-zero byte, as Whoosh's NumericColumn writer does).
        for writer, f in self._columns.values():
            writer.finish(doccount)
            f.close()
        lengthbytes = {}
        for name, per_document in self.lengths.items():
            lengthbytes[name] = per_document
            data = bytes(per_document).rstrip(b"\0")
            if data:
                f = self._create(f"._{name}_len.col")
                f.write(data)
                f.close()
        self.lengths = {}

        # Terms and postings.
        # A generator: one field's tokens are sorted at a time.
        fields = (
            _field_postings(name, post, lengthbytes.get(name), analyzed, ranks)
            for name, post in sorted(self.postings.items())
            if post
        )
        write_postings(self.storage, segment, fields)
        self.postings = {}
        if self.layout.compound:
            segment.create_compound_file(self.storage)
        # After the compound file: the vocabulary is read apart, once the generation is written.
        self.vocabulary.write(self.storage, segment.segment_id())
        self.vocabulary = VocabularyCounter()
        self._files = []
        return segment


def _postings_of(plan: _FieldPlan) -> FieldGatherer:
    """Where a segment gathers the postings of one field."""
    if plan.granularity is None:
        return {}  # an ID: value -> docnums
    if plan.granularity == GRAMS:
        return _Grams()
    if plan.granularity == CHARS:
        return _Chars()
    return _Analyzed(plan.granularity)


def _field_postings(
    name: str,
    post: FieldGatherer,
    lengths: LengthBytes | None,
    analyzed: Expanded | None,
    ranks: Any = None,
) -> FieldPostings:
    """What write_postings takes of one field (codec.bulk.FieldPostings), from what gathered
    it (`analyzed`: the terms of the segment's texts analyzed by Sudachi; `ranks`: their
    vocabulary's, BulkAnalysis.vocabulary_ranks)."""
    if isinstance(post, _Analyzed):
        assert analyzed is not None  # made by SegmentBuilder._analyzed for such a field
        return name, POSITIONS, lengths, post.sorted(analyzed, ranks)
    if isinstance(post, _Grams):
        return name, POSITIONS, lengths, post.sorted()
    if isinstance(post, _Chars):
        return name, FREQUENCY, lengths, post.sorted()
    return name, EXISTENCE, lengths, _id_postings(post)


class _Analyzed:
    """A field Sudachi analyzes (schema.GRANULARITIES, or a pair field: `granularity`), in a
    segment: each document's text as its number among the texts the segment analyzes in bulk
    (search.text.bulk), and, once they are expanded, each document's number of terms."""

    def __init__(self, granularity: str) -> None:
        self.granularity = granularity
        self.docs = array("I")
        self.texts = array("I")
        self.lengths: Any = None  # each document's number of terms (a numpy array), when known

    def __len__(self) -> int:
        return len(self.docs)

    def add(self, doc: int, text: int) -> None:
        self.docs.append(doc)
        self.texts.append(text)

    def sorted(self, expanded: Expanded, ranks: Any = None) -> SortedTokens:
        """The field's tokens sorted by term (each term's by document, then position): each
        document's text's terms, from the segment's analysis (`ranks`: each term of the
        analysis's vocabulary ranked in text order, BulkAnalysis.vocabulary_ranks, or None)."""
        import numpy

        tokens: Tokens = getattr(expanded, self.granularity)
        counts = self.lengths
        texts = numpy.frombuffer(self.texts, numpy.uint32)
        text_starts = numpy.searchsorted(tokens.texts, numpy.arange(texts.max() + 1))
        ends = numpy.cumsum(counts)
        at = numpy.repeat(text_starts[texts] - (ends - counts), counts) + numpy.arange(ends[-1])
        docs = numpy.repeat(numpy.frombuffer(self.docs, numpy.uint32), counts)
        self.docs, self.texts, self.lengths = array("I"), array("I"), None
        terms = tokens.terms[at]
        used = numpy.flatnonzero(numpy.bincount(terms, minlength=len(tokens.names)))
        if ranks is not None and tokens.names is expanded.words.names:  # the vocabulary
            in_order = used[numpy.argsort(ranks[used], kind="stable")]
        else:  # a pair field's: its own names
            names = [tokens.names[number] for number in used.tolist()]
            in_order = used[sorted(range(len(names)), key=names.__getitem__)]
        rank = numpy.zeros(len(tokens.names), numpy.uint32)
        rank[in_order] = numpy.arange(len(in_order), dtype=numpy.uint32)
        keys = rank[terms]
        # Stable: each term's tokens keep their order, by document, then position.
        by_term = stable_order(keys, len(in_order))
        return SortedTokens(
            list(map(tokens.names.__getitem__, in_order.tolist())),
            keys[by_term],
            docs[by_term],
            tokens.positions[at][by_term],
        )


class _FoldedTexts:
    """A character field's documents in a segment: each one's folded text, kept whole, its terms
    made for all the documents at once, as numbers, when they are sorted."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.docs = array("I")
        self.length = 0

    def __len__(self) -> int:
        return self.length

    def add(self, doc: int, folded: str) -> int:
        """Add a document's folded text; returns its number of characters (the field length)."""
        if folded:
            self.texts.append(folded)
            self.docs.append(doc)
            self.length += len(folded)
        return len(folded)

    def _characters(self):
        """(every character's code point, each document's number of characters) as numpy
        arrays, emptying the texts."""
        import numpy

        chars = numpy.frombuffer("".join(self.texts).encode("utf-32-le"), numpy.uint32)
        counts = numpy.fromiter(map(len, self.texts), numpy.uint32, len(self.texts))
        self.texts = []  # emptied: their memory freed
        return chars, counts


class _Chars(_FoldedTexts):
    """The chars field's postings in a segment: how often each character occurs in each
    document, counted for all the documents at once."""

    def sorted(self) -> SortedPostings:
        """Each character's postings (docnums, frequencies), in order (emptying this)."""
        import numpy

        chars, counts = self._characters()
        docs = numpy.repeat(numpy.frombuffer(self.docs, numpy.uint32), counts)
        self.docs = array("I")  # emptied: its memory freed
        seen, ranks = _ranked(chars)
        del chars
        # Stable: each character's occurrences stay in document order.
        order = stable_order(ranks, len(seen))
        ranks, docs = ranks[order], docs[order]
        del order
        posting = numpy.ones(len(ranks), bool)  # where a (character, document) starts
        numpy.not_equal(ranks[1:], ranks[:-1], out=posting[1:])
        posting[1:] |= docs[1:] != docs[:-1]
        at = numpy.flatnonzero(posting)
        frequencies = numpy.diff(numpy.append(at, len(ranks)))
        ranks, docs = ranks[at], docs[at]
        first = numpy.ones(len(ranks), bool)
        numpy.not_equal(ranks[1:], ranks[:-1], out=first[1:])
        starts = numpy.flatnonzero(first)
        return SortedPostings(
            list(map(chr, seen[ranks[starts]].tolist())),
            numpy.append(starts, len(ranks)),
            docs,
            frequencies,
        )


def _ranked(chars: Any) -> tuple[Any, Any]:
    """The code points `chars` holds (ascending, a numpy array), and each of `chars` as its
    rank among them (uint32)."""
    import numpy

    seen = numpy.flatnonzero(numpy.bincount(chars, minlength=_CODE_POINTS))
    rank = numpy.zeros(_CODE_POINTS, numpy.uint32)
    rank[seen] = numpy.arange(len(seen), dtype=numpy.uint32)
    return seen, rank[chars]


class _Grams(_FoldedTexts):
    """The grams field's tokens in a segment: its terms (search.analysis.grams: the bigram at
    each position, the last character alone), made as numbers."""

    def sorted(self) -> SortedTokens:
        """The grams sorted by term (emptying this)."""
        import numpy

        chars, counts = self._characters()
        # A gram as a number ordered as its text: its first character's rank among the
        # segment's characters, times one more than their count, plus the second's rank plus
        # one (0 for a character alone, which sorts before its bigrams).
        seen, ranks = _ranked(chars)
        del chars
        span = len(seen) + 1
        wide = numpy.uint32 if span < 1 << 16 else numpy.uint64
        ranks = ranks.astype(wide)
        keys = ranks * wide(span)
        keys[:-1] += ranks[1:] + wide(1)
        del ranks
        ends = numpy.cumsum(counts, dtype=numpy.int64)
        keys[ends - 1] -= keys[ends - 1] % wide(span)  # a document's last character alone
        positions = numpy.arange(len(keys), dtype=numpy.uint32)
        positions -= numpy.repeat((ends - counts).astype(numpy.uint32), counts)
        docs = numpy.repeat(numpy.frombuffer(self.docs, numpy.uint32), counts)
        self.docs = array("I")  # emptied: its memory freed
        order = stable_order(keys, span * span)
        keys = keys[order]
        docs, positions = docs[order], positions[order]
        del order
        first = numpy.ones(len(keys), bool)
        numpy.not_equal(keys[1:], keys[:-1], out=first[1:])
        numbers = (numpy.cumsum(first) - 1).astype(numpy.uint32)
        distinct = keys[first].astype(numpy.int64)
        return SortedTokens(_gram_texts(seen, distinct, span), numbers, docs, positions)


def _gram_texts(seen: Any, grams: Any, span: int) -> list[str]:
    """The text of each gram numbered as `_Grams.sorted` numbers them (`seen`: the code points
    ranked): made by numpy as strings of two characters, a character alone padded with NUL,
    which numpy leaves off; one by one where a text holds NUL itself."""
    import numpy

    firsts, seconds = grams // span, grams % span
    if len(seen) and seen[0] == 0:
        code_points = seen.tolist()
        return [
            chr(code_points[first]) + (chr(code_points[second - 1]) if second else "")
            for first, second in zip(firsts.tolist(), seconds.tolist())
        ]
    pairs = numpy.zeros((len(grams), 2), numpy.uint32)
    pairs[:, 0] = seen[firsts]
    paired = seconds > 0
    pairs[paired, 1] = seen[seconds[paired] - 1]
    texts: list[str] = pairs.view("U2").reshape(-1).tolist()
    return texts


_CODE_POINTS = 0x110000


def _id_postings(post: dict[str, list[int]]) -> SortedPostings:
    """An ID field's values in order, each's docnums (emptying `post`)."""
    import numpy

    names = sorted(post)
    counts = numpy.fromiter(map(len, map(post.__getitem__, names)), numpy.int64, len(names))
    docs = numpy.fromiter(
        chain.from_iterable(map(post.__getitem__, names)), numpy.int64, int(counts.sum())
    )
    post.clear()
    return SortedPostings(names, numpy.append(0, numpy.cumsum(counts)), docs, None)


# Where a segment gathers one field's postings: an ID's value -> docnums, or a term field's.
FieldGatherer = dict[str, list[int]] | _Analyzed | _Chars | _Grams

_length_bytes: dict[int, int] = {}


def _length_byte(length: int) -> int:
    """Whoosh's length byte of a field length (its length columns hold one per document)."""
    found = _length_bytes.get(length)
    if found is None:
        from whoosh.util.numeric import length_to_byte

        found = _length_bytes[length] = length_to_byte(length)
    return found


def _length_bytes_of(lengths: Any) -> Any:
    """Whoosh's length bytes of field lengths (a numpy array), as `_length_byte` of each."""
    import numpy
    from whoosh.util.numeric import _length_byte_cache

    return numpy.minimum(numpy.searchsorted(_length_byte_cache, lengths), 255).astype(numpy.uint8)


# Chunks of documents -> segments -------------------------------------------------------------


class _ChunkIndexer:
    """Indexes documents into segments of at most `max_tokens` terms (a term each time it
    occurs)."""

    def __init__(self, storage, schema, layout: Layout, max_tokens: int) -> None:
        self.storage = storage
        self.schema = schema
        self.plans = _plans(schema)
        self.layout = layout
        self.max_tokens = max_tokens
        self.builder: SegmentBuilder | None = None
        self.segments: list[Any] = []

    def add_paragraphs(self, paragraphs: Iterable[Paragraph]) -> None:
        for paragraph in paragraphs:
            if self.builder is None:
                self.builder = SegmentBuilder(
                    self.storage, self.schema, self.plans, layout=self.layout
                )
            builder = self.builder
            builder.add_paragraph(paragraph)
            if builder.token_count >= self.max_tokens:
                self.flush()

    def flush(self) -> None:
        if self.builder is not None and self.builder.doccount:
            self.segments.append(self.builder.finish())
        self.builder = None

    def discard(self) -> None:
        if self.builder is not None:
            self.builder.discard()
            self.builder = None
        _remove_segments(self.storage, self.segments)
        self.segments = []


def _remove_segments(storage, segments) -> None:
    for segment in segments:
        prefix = segment.segment_id() + "."
        for name in storage.list():
            if name.startswith(prefix):
                with contextlib.suppress(OSError):
                    storage.delete_file(name)


@dataclass(frozen=True)
class _Job:
    """What each worker does with a chunk: `read` its documents, and write their paragraphs as
    segments laid out as `layout`, of at most `max_tokens` terms each."""

    read: ReadDocumentFn
    layout: Layout
    max_tokens: int


Report = Callable[[str, Any], None]  # report(kind, payload) of a document or a chunk


def _index_chunk(
    storage: Any, schema: Any, documents: list[tuple[int, DocumentFile]], job: _Job, report: Report
) -> tuple[list[Any], int, int]:
    """Index one chunk of documents; `report(kind, payload)` hears of each document.
    Returns (segments, documents indexed, paragraphs)."""
    indexer = _ChunkIndexer(storage, schema, job.layout, job.max_tokens)
    done = paragraphs = 0
    try:
        for number, document in documents:
            try:
                found = job.read(document)
            except UnreadableDocument as problem:
                report("skipped", (number, document.source, str(problem), problem.digest))
                continue
            for warning in found.warnings:
                report("warning", f"{document.source}: {warning}")
            indexer.add_paragraphs(found.paragraphs)
            done += 1
            paragraphs += len(found.paragraphs)
            report("document", (number, found.digest, found.unread_pages, found.extractors))
        indexer.flush()
    except BaseException:
        indexer.discard()
        raise
    return indexer.segments, done, paragraphs


def _chunks(documents: list[DocumentFile], procs: int, segment_mb: float) -> list[Chunk]:
    """Consecutive runs of (number, document) of at most about `segment_mb`, as many as a
    multiple of the processes and of about equal size, so that no worker is left alone with the
    last chunk while the others are done."""
    total = sum(max(getattr(d, "size", 0), 1) for d in documents)
    procs = max(procs, 1)
    rounds = max(1, math.ceil(total / (procs * segment_mb * 1e6)))
    limit = max(1, math.ceil(total / (rounds * procs)))
    chunks: list[Chunk] = []
    current: Chunk = []
    size = 0
    for number, document in enumerate(documents):
        current.append((number, document))
        size += max(getattr(document, "size", 0), 1)
        if size >= limit:
            chunks.append(current)
            current, size = [], 0
    if current:
        chunks.append(current)
    return chunks


# Worker processes ----------------------------------------------------------------------------


def _c_library_function(name: str) -> Any:
    """Function `name` of the process's C library, or None where there is none (mallopt: not
    glibc; prctl: not Linux; Windows loads no library by no name)."""
    import ctypes

    try:
        return getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError, TypeError):
        return None


def _keep_freed_memory() -> None:
    """Have glibc's malloc keep the memory a worker frees for the next chunk's arrays rather than
    map and unmap each large one afresh (a page fault per page each time). A no-op elsewhere."""
    mallopt = _c_library_function("mallopt")
    if mallopt is not None:
        mallopt(_M_MMAP_THRESHOLD, 32 << 20)  # glibc's largest
        mallopt(_M_TRIM_THRESHOLD, 512 << 20)


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h


def _end_with_parent(parent: int | None) -> None:
    """Have the kernel kill this worker if its parent, `parent`, dies (Linux): a worker outliving
    a killed build would go on holding the index's writer lock (an inherited descriptor), and,
    waiting for chunks that never come, hold it for ever. Elsewhere `_next_task` sees to it.
    None: the parent is not the build's process (a fork server's worker), nothing to watch."""
    prctl = None if parent is None else _c_library_function("prctl")
    if prctl is None:
        return
    prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the request
        os._exit(1)


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _next_task(tasks: Any, parent: int | None) -> Any:
    """The next chunk from `tasks`, or None at the end or when the parent has died."""
    while True:
        try:
            return tasks.get(timeout=1.0)
        except queue.Empty:
            if parent is not None and os.getppid() != parent:
                return None


def _worker(
    worker: int, parent: int | None, path: str, indexname: str, job: _Job, tasks: Any, results: Any
) -> None:
    """Take chunks from `tasks` until None; put reports, segments or the error on `results`.
    The garbage collector stays off till the process ends: turned on again, it would first go
    through every object the build made (~0.2 s on all of aozora), holding up the last messages."""
    _end_with_parent(parent)
    gc.disable()
    _keep_freed_memory()
    try:
        from whoosh.filedb.filestore import FileStorage
        from whoosh.index import TOC

        storage = FileStorage(path)
        schema = TOC.read(storage, indexname).schema

        def report(kind: str, payload: Any) -> None:
            results.put((kind, worker, payload))

        while True:
            task = _next_task(tasks, parent)
            if task is None:
                break
            number, documents = task
            segments, done, paragraphs = _index_chunk(storage, schema, documents, job, report)
            results.put(("chunk", worker, (number, segments, done, paragraphs)))
        results.put(("exit", worker, None))
    except BaseException as error:
        text = traceback.format_exc()
        try:
            pickled = pickle.dumps(error)
            pickle.loads(pickled)
        except Exception:
            pickled = None
        results.put(("error", worker, (pickled, text)))


def _worker_died(worker: int, exit_code: int) -> IndexWorkerDied:
    """The error of worker number `worker` ended with `exit_code` (-N: by signal N)."""
    if exit_code >= 0:
        how = f"exited with code {exit_code}"
    else:
        try:
            how = f"was killed by {signal.Signals(-exit_code).name}"
        except ValueError:
            how = f"was killed by signal {-exit_code}"
        if -exit_code == signal.SIGKILL:
            how += " (out of memory?)"
    return IndexWorkerDied(
        f"indexing worker {worker} {how} before it finished; the index was left as it was"
    )


def _raise_worker_error(pickled, text: str):
    cause = IndexWorkerError(f"an indexing worker failed:\n{text}")
    error = None
    if pickled is not None:
        try:
            error = pickle.loads(pickled)
        except Exception:
            error = None
    if isinstance(error, BaseException):
        raise error from cause
    raise cause


@dataclass(frozen=True)
class _Pool:
    """How the documents are shared out: `procs` worker processes (1: all in this process)
    started by `start_method` (None: fork where there is one), chunks of about `segment_mb`,
    handed out the most `work` first (after the first one a worker; None: in order)."""

    procs: int
    segment_mb: float
    start_method: str | None
    work: WorkFn | None = None


@dataclass
class _Listeners:
    """Who hears of each document indexed or skipped, and what the summary gathers of it."""

    documents: list[DocumentFile]
    summary: IndexSummary
    progress: Progress | None
    warn: Warn | None
    sideline: Sideline | None = None
    done: int = 0

    def on_report(self, kind: str, payload: Any) -> None:
        if kind == "warning":
            if self.warn:
                self.warn(payload)
            return
        if kind == "skipped":
            number, source, why, digest = payload
            self.summary.skipped[source] = why
            if self.warn:
                self.warn(f"skipped {source}: {why}")
        else:
            number, digest, unread_pages, extractors = payload
            self._note_reading(self.documents[number].source, unread_pages, extractors)
        if digest is not None:
            self.summary.digests[self.documents[number].source] = digest
        self.done += 1
        if self.progress:
            self.progress(self.done, len(self.documents), self.documents[number])

    def _note_reading(
        self, source: str, unread_pages: list[int], extractors: dict[str, str]
    ) -> None:
        """What a document's reading left unread, and the libraries it was read with."""
        if unread_pages:
            self.summary.unread[source] = unread_pages
        if extractors:
            self.summary.extractors[source] = extractors


def _build_segments(
    path: Path, indexname: str, job: _Job, pool: _Pool, listeners: _Listeners
) -> list[Any]:
    """Index the listeners' documents into new segments in `path`; returns them in document
    order."""
    chunks = _chunks(listeners.documents, pool.procs, pool.segment_mb)
    by_chunk: dict[int, list[Any]] = {}
    summary = listeners.summary

    sideline = listeners.sideline

    def on_chunk(number: int, segments: list[Any], done: int, paragraphs: int) -> None:
        by_chunk[number] = segments
        summary.documents += done
        summary.paragraphs += paragraphs
        if sideline is not None:
            sideline.segments_written(number, segments)

    if pool.procs <= 1:
        _build_in_process(path, indexname, chunks, job, listeners.on_report, on_chunk)
    else:
        idle = sideline.work if sideline is not None else _nothing_to_do
        _build_in_workers(
            path, indexname, chunks, job, pool, listeners.on_report, on_chunk, by_chunk, idle
        )
    return [segment for number in sorted(by_chunk) for segment in by_chunk[number]]


def _nothing_to_do() -> bool:
    return False


def _most_work_first(chunks: list[Chunk], numbers: Iterable[int], work: WorkFn | None) -> list[int]:
    """The chunks `numbers`, the most work first (each document's `work`; None: in order)."""
    if work is None:
        return list(numbers)
    total = {
        number: sum(map(work, (document for _, document in chunks[number]))) for number in numbers
    }
    return sorted(total, key=lambda number: -total[number])


Chunk = list[tuple[int, "DocumentFile"]]  # consecutive (number, document)
OnChunk = Callable[[int, list[Any], int, int], None]  # (number, segments, documents, paragraphs)


def _build_in_process(
    path: Path, indexname: str, chunks: list[Chunk], job: _Job, on_report: Report, on_chunk: OnChunk
) -> None:
    from whoosh.filedb.filestore import FileStorage
    from whoosh.index import TOC

    storage = FileStorage(str(path))
    schema = TOC.read(storage, indexname).schema
    written: list[Any] = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for number, documents in enumerate(chunks):
            segments, done, paragraphs = _index_chunk(storage, schema, documents, job, on_report)
            written += segments
            on_chunk(number, segments, done, paragraphs)
    except BaseException:
        _remove_segments(storage, written)
        raise
    finally:
        if gc_was_enabled:
            gc.enable()


def _build_in_workers(
    path: Path,
    indexname: str,
    chunks: list[Chunk],
    job: _Job,
    pool: _Pool,
    on_report: Report,
    on_chunk: OnChunk,
    by_chunk: dict[int, list[Any]],
    idle: Callable[[], bool],
) -> None:
    """Index the chunks in worker processes; this process collects what they report and, when
    nothing is waiting, does a piece of `idle` work at a time (until it says there is none)."""
    import multiprocessing

    from whoosh.filedb.filestore import FileStorage

    start_method = pool.start_method
    if start_method is None:
        methods = multiprocessing.get_all_start_methods()
        start_method = "fork" if "fork" in methods else "spawn"
    context = multiprocessing.get_context(start_method)
    parent = None if start_method == "forkserver" else os.getpid()
    tasks = context.Queue()
    results = context.Queue()
    count = min(pool.procs, len(chunks))
    workers = [
        context.Process(  # type: ignore[attr-defined]  # every start method's context has it
            target=_worker,
            daemon=True,
            args=(n, parent, str(path), indexname, job, tasks, results),
        )
        for n in range(count)
    ]
    running = set(range(count))
    try:
        # Started before the first put starts the queue's feeder thread: a process forked while
        # it has threads may deadlock.
        for process in workers:
            process.start()
        for number in range(count):
            tasks.put((number, chunks[number]))
        # The other chunks, worked out while the first are indexed: the last handed out are the
        # least work, so that the workers finish about together.
        for number in _most_work_first(chunks, range(count, len(chunks)), pool.work):
            tasks.put((number, chunks[number]))
        for _ in range(count):
            tasks.put(None)
        while running:
            if results.empty() and idle():
                continue
            try:
                message = results.get(timeout=0.5)
            except queue.Empty:
                dead = [n for n in running if workers[n].exitcode is not None]
                if not dead:
                    continue
                try:  # what a worker put just before it exited may still be in the pipe
                    message = results.get(timeout=2.0)
                except queue.Empty:
                    raise _worker_died(dead[0], workers[dead[0]].exitcode) from None
            kind, worker, payload = message
            if kind == "exit":
                running.discard(worker)
            elif kind == "chunk":
                on_chunk(*payload)
            elif kind == "error":
                _raise_worker_error(*payload)
            else:
                on_report(kind, payload)
        for process in workers:
            process.join()
    except BaseException:
        for process in workers:
            if process.is_alive():
                process.terminate()
        for process in workers:
            if process.pid is not None:
                process.join(5)
        _remove_segments(
            FileStorage(str(path)), [s for segments in by_chunk.values() for s in segments]
        )
        raise
    finally:
        tasks.close()
        results.close()
        tasks.cancel_join_thread()
        results.cancel_join_thread()


# Public API ----------------------------------------------------------------------------------


def write_index(
    path: Path,
    documents: Iterable[DocumentFile],
    read: ReadDocumentFn,
    procs: int = 2,
    progress: Progress | None = None,
    warn: Warn | None = None,
    *,
    segment_mb: float = DEFAULT_SEGMENT_MB,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    compound: bool = True,
    start_method: str | None = None,
    sideline: Sideline | None = None,
    work: WorkFn | None = None,
) -> IndexSummary:
    """Create a new Whoosh index in `path` (made if missing) with `search.index.schema()` holding
    the paragraphs of `documents`, each read by `read` (ingest.paragraphs.read_document), as
    index.build does for a new generation.

    `procs` worker processes analyze and write segments (1: all in this process). `progress(done,
    total, document)` and `warn(message)` are called in this process. Unreadable documents are
    skipped with a warning and listed in the summary. An error in a worker is raised here.
    `sideline` hears of each chunk's segments, and works while this process waits. `work`
    tells about how much work each document is, for the order the chunks are handed out in.
    """
    from whoosh.index import create_in

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    ix = create_in(str(path), schema())
    listeners = _Listeners(list(documents), IndexSummary(), progress, warn, sideline)
    job = _Job(read, Layout(compound), max_tokens)
    _append(ix, job, _Pool(procs, segment_mb, start_method, work), listeners, set())
    return listeners.summary


def add_to_index(
    path: Path,
    documents: Iterable[DocumentFile],
    read: ReadDocumentFn,
    procs: int = 2,
    progress: Progress | None = None,
    warn: Warn | None = None,
    *,
    replace: bool = True,
    delete_sources: Iterable[str] = (),
    segment_mb: float = DEFAULT_SEGMENT_MB,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    compound: bool = True,
    start_method: str | None = None,
    sideline: Sideline | None = None,
    work: WorkFn | None = None,
) -> IndexSummary:
    """Append the paragraphs of `documents` (each read by `read`) to the existing Whoosh index in
    `path` as new segments. With `replace`, paragraphs already indexed from a document of the
    same source are deleted; so are those of every source in `delete_sources` (documents that
    went away). The additions and deletions become visible together, in one new TOC generation,
    which leaves out the segments whose every document is deleted. `sideline` and `work` as
    for write_index."""
    from whoosh.index import open_dir

    listeners = _Listeners(list(documents), IndexSummary(), progress, warn, sideline)
    ix = open_dir(str(path))
    delete = set(delete_sources)
    if replace:
        delete.update(d.source for d in listeners.documents)
    job = _Job(read, Layout(compound), max_tokens)
    _append(ix, job, _Pool(procs, segment_mb, start_method, work), listeners, delete)
    return listeners.summary


def _append(ix: Any, job: _Job, pool: _Pool, listeners: _Listeners, delete: set[str]) -> None:
    from whoosh.index import TOC, LockError, clean_files

    lock = ix.lock("WRITELOCK")
    if not lock.acquire():
        raise LockError("the Whoosh index is locked by another writer")
    try:
        storage = ix.storage
        try:
            segments = _build_segments(Path(storage.folder), ix.indexname, job, pool, listeners)
        except BaseException:
            # Remove what killed workers left half-written (we hold the lock: no other writer).
            toc = TOC.read(storage, ix.indexname)
            clean_files(storage, ix.indexname, toc.generation, toc.segments)
            raise
        try:
            toc = TOC.read(storage, ix.indexname)
            old = toc.segments
            if delete:
                _delete_sources(storage, toc.schema, old, delete)
            generation = toc.generation + 1
            everything = _with_live_documents(old) + segments
            TOC(toc.schema, everything, generation).write(storage, ix.indexname)
        except BaseException:
            _remove_segments(storage, segments)
            raise
        # Removes the files of the segments the new TOC no longer names, dropped ones included.
        clean_files(storage, ix.indexname, generation, everything)
    finally:
        lock.release()


def _with_live_documents(segments: list) -> list:
    """The segments that still hold a document not deleted: one whose documents were all
    replaced or removed would only cost disk space and a reader's time to open."""
    return [segment for segment in segments if segment.doc_count() > 0]


def _delete_sources(storage, schema, segments, sources) -> None:
    """Mark deleted, in `segments`, every document whose `source` is one of `sources`."""
    from whoosh.reading import SegmentReader

    for segment in segments:
        reader = SegmentReader(storage, schema, segment)
        try:
            for source in sources:
                term = source.encode("utf-8")
                if (SOURCE, term) in reader:
                    for docnum in reader.postings(SOURCE, term).all_ids():
                        segment.delete_document(docnum)
        finally:
            reader.close()
