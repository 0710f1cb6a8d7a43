"""Fast index building: write standard Whoosh W3 segments in bulk, in worker processes.

Whoosh's own writer costs ~14 µs of CPU per token: every posting goes through the posting pool (and
its pickled runs), and at commit through one method call, one column read of the document's
length and one array append after another. This module builds a segment's inverted index in
memory with plain dicts and lists (per field: term -> flat list of docnum, frequency, encoded
value), knows each document's field lengths without reading them back, and writes the segment's
files in bulk. The files are those `SegmentWriter` writes — `.trm` (an `OrderedHashWriter` of
W3TermInfo bytes), `.pst` (W3 posting blocks: magic, block length, pickled block info, zlib of the
pickled (ids, weights, values) tuple), the `_stored` and sortable columns (written by Whoosh's own
column writers), the `_<field>_len` length columns — assembled into the compound `.seg` by
Whoosh's own code; the TOC is written by Whoosh's `TOC`. So Whoosh's readers, matchers, phrase
queries, BM25F scoring, column readers and stored fields work on the result unchanged.

With `exact=True` the segment files are byte for byte those of Whoosh's `SegmentWriter` (the test
checks this). The default, `exact=False`, differs only inside pickles, which any `pickle.loads`
reads back to the very same Python objects: the block data tuple is pickled with the highest
protocol instead of protocol 2 (protocol 2 writes every bytes value as a `_codecs.encode` call on
Python 3, which is slow and large), and a positions value is `pack_uint(freq)` followed by the
shortest pickle of the same list of deltas (no protocol header, no memo, no final STOP, which
Whoosh's `Positions.decode_positions` appends itself).

Parallelism: the documents are cut into chunks (about `segment_mb` of text, and at least one per
process); worker processes take chunks from a queue, analyze them with Sudachi and write each as
one or more segments; the parent only collects the Segment objects, orders them by chunk (so that
document numbers follow the order of the documents, as with a single writer) and writes the TOC.
An error in a worker, or a worker dying, stops the build with an exception in the parent: no
document is ever silently lost.

API:
  write_index(path, documents, procs=2, progress=None, warn=None) -> IndexSummary
      a new Whoosh index in `path` (created if needed) with search.index.schema().
  add_to_index(path, documents, procs=2, progress=None, warn=None, replace=True,
               delete_sources=()) -> IndexSummary
      appends new segments to an existing index; with `replace`, paragraphs of an indexed
      document with the same source are deleted first, as are those of `delete_sources` — in the
      same TOC generation, so a reader sees the old or the new index, whole.
"""

from __future__ import annotations

import gc
import math
import os
import pickle
import queue
import struct
import traceback
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from whoosh.system import pack_int, pack_long, pack_uint, pack_ushort

from .analysis import field_terms, fold, grams

BLOCK_LIMIT = 128  # postings per block (W3Codec's blocklimit)
COMPRESSION = 3  # zlib level of posting blocks (W3Codec's compression)
DEFAULT_SEGMENT_MB = 16.0  # text per chunk of documents (one segment unless it grows too big)
DEFAULT_MAX_POSTINGS = 5_000_000  # postings in memory before a segment is written: ~550 MB a worker
INLINE_LIMIT = 16  # posting lists this short are stored in the term index (Layout.inline)
_MAGIC = b"W3Bl"
_INFO_PROTOCOL = 2
_TERMINFO = struct.Struct("!BfIBBfII")
_SINGLE_CACHE = 8192  # positions whose one-position value is precomputed
_WRITE_CHUNK = 1 << 20

Progress = Callable[[int, int, object], None]
Warn = Callable[[str], None]


class IndexWorkerError(RuntimeError):
    """An indexing worker process failed; the message carries its traceback."""


# Posting values ------------------------------------------------------------------------------

def _exact_positions(positions) -> bytes:
    """Whoosh's `Positions.encode`."""
    deltas = []
    base = 0
    for pos in positions:
        deltas.append(pos - base)
        base = pos
    return pack_uint(len(deltas)) + pickle.dumps(deltas, 2)


def _pickle_int(n: int) -> bytes:
    if 0 <= n < 256:
        return b"K" + bytes((n,))
    if 0 <= n < 65536:
        return b"M" + struct.pack("<H", n)
    if -2**31 <= n < 2**31:
        return b"J" + struct.pack("<i", n)
    return pickle.dumps(n, 2)[2:-1]


def _compact_positions(positions) -> bytes:
    """`pack_uint(freq)` and the shortest pickle of the same list of deltas, without the final
    STOP, which `Positions.decode_positions` adds before unpickling."""
    base = 0
    if len(positions) == 1:
        return pack_uint(1) + b"]" + _pickle_int(positions[0]) + b"a"
    parts = [pack_uint(len(positions)), b"](", ]
    for pos in positions:
        parts.append(_pickle_int(pos - base))
        base = pos
    parts.append(b"e")
    return b"".join(parts)


@dataclass(frozen=True)
class Layout:
    """How segments are written: `exact` posting encodings (as Whoosh's own writer), and
    `compound`, the files of a segment packed into one `.seg` file as Whoosh does by default.
    Separate files open faster: Whoosh copies each part of a compound file into memory when it
    opens it, unlike a plain file."""

    exact: bool = False
    compound: bool = True
    inline: bool = False  # short posting lists in the term index (Whoosh serves them from memory)


class _Encoding:
    """How posting values and blocks are encoded: `exact` (as Whoosh) or compact."""

    def __init__(self, layout: "Layout") -> None:
        exact = layout.exact
        self.exact = exact
        self.compound = layout.compound
        self.inline = layout.inline and not exact
        self.positions = _exact_positions if exact else _compact_positions
        self.block_protocol = 2 if exact else pickle.HIGHEST_PROTOCOL
        if exact:
            # Whoosh's pickles memoize a value object met twice: exact mode never shares them.
            self.single = _Fresh(lambda p: _exact_positions((p,)))
            self.frequency = _Fresh(pack_uint)
        else:
            self.single = [self.positions((p,)) for p in range(_SINGLE_CACHE)]
            self.frequency = [pack_uint(f) for f in range(_SINGLE_CACHE)]


class _Fresh:
    """A sequence computing a new object for each item asked for."""

    def __init__(self, make) -> None:
        self.__getitem__ = make

    def __getitem__(self, item):
        return self.__dict__["__getitem__"](item)


# Field plans -------------------------------------------------------------------------------

_POSITIONS, _FREQUENCY, _EXISTENCE, _GENERIC = range(4)
_SUDACHI, _GRAMS, _ID, _OTHER = range(4)


class _FieldPlan:
    """What writing one schema field takes, and which fast path indexes it."""

    def __init__(self, name: str, fieldobj) -> None:
        from whoosh import analysis as whoosh_analysis
        from whoosh import formats

        from .analysis import FIELDS, SudachiTokenizer

        self.name = name
        self.field = fieldobj
        self.indexed = bool(fieldobj.indexed) and fieldobj.format is not None
        self.scorable = bool(fieldobj.scorable)
        self.stored = bool(fieldobj.stored)
        self.column = fieldobj.column_type
        fmt = fieldobj.format
        plain = fmt is not None and fmt.field_boost == 1.0
        if self.indexed and fieldobj.separate_spelling():
            raise ValueError(f"field {name!r}: separate spelling fields are not supported")
        if self.indexed and fieldobj.vector:
            raise ValueError(f"field {name!r}: term vectors are not supported")
        # Exact type checks: a subclass may encode differently.
        if plain and type(fmt) is formats.Positions:
            self.format = _POSITIONS
        elif plain and type(fmt) is formats.Frequency:
            self.format = _FREQUENCY
        elif plain and type(fmt) is formats.Existence:
            self.format = _EXISTENCE
        else:
            self.format = _GENERIC
        analyzer = getattr(fieldobj, "analyzer", None)
        self.granularity = None
        if type(analyzer) is SudachiTokenizer and analyzer.granularity == "grams":
            self.source = _GRAMS
        elif type(analyzer) is SudachiTokenizer and analyzer.granularity in FIELDS:
            self.source = _SUDACHI
            self.granularity = analyzer.granularity
        elif type(analyzer) is whoosh_analysis.IDTokenizer:
            self.source = _ID
        else:
            self.source = _OTHER
        if self.format == _GENERIC or self.source == _OTHER:
            self.format = _GENERIC
        self.values = self.format in (_POSITIONS, _FREQUENCY, _GENERIC) and (
            fmt is None or fmt.fixed_value_size() != 0)


def _plans(schema) -> dict[str, _FieldPlan]:
    return {name: _FieldPlan(name, schema[name]) for name in schema.names()}


# One segment in memory -----------------------------------------------------------------------

def _segment_id() -> str:
    # Whoosh's random_name uses the `random` module, whose state forked workers share.
    from whoosh.util import IDCHARS

    raw = os.urandom(16)
    return "".join(IDCHARS[b % len(IDCHARS)] for b in raw)


class SegmentBuilder:
    """Collects documents in memory and writes them as one W3 segment (`finish`)."""

    def __init__(self, storage, schema, plans=None, indexname: str = "MAIN",
                 layout: Layout | None = None) -> None:
        from whoosh.codec.whoosh3 import STORED_COLUMN, W3Codec, W3Segment

        self.storage = storage
        self.schema = schema
        self.plans = plans if plans is not None else _plans(schema)
        self.encoding = _Encoding(layout or Layout())
        self.segment = W3Segment(W3Codec(), indexname, segid=_segment_id())
        self.doccount = 0
        self.postings_count = 0
        self.postings = {name: {} for name, plan in self.plans.items() if plan.indexed}
        self.lengths = {name: bytearray() for name, plan in self.plans.items()
                        if plan.indexed and plan.scorable}
        self.totals: dict[str, int] = {}
        self._files = []
        self._columns = {}
        self._stored = self._column_writer("_stored", STORED_COLUMN)
        self._order_cache = {}

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
            try:
                f.close()
            except Exception:
                pass
        prefix = self.segment.segment_id() + "."
        for name in self.storage.list():
            if name.startswith(prefix):
                try:
                    self.storage.delete_file(name)
                except OSError:
                    pass

    # Documents

    def add_document(self, fields: dict) -> None:
        """Add one document, given as the keyword arguments of Whoosh's `add_document`."""
        key = tuple(fields)
        names = self._order_cache.get(key)
        if names is None:
            names = [n for n in sorted(fields) if not n.startswith("_")]
            for n in names:
                if n not in self.plans:
                    raise ValueError(f"no field named {n!r} in the schema")
            names = self._order_cache[key] = tuple(names)
        doc = self.doccount
        plans = self.plans
        lengths = self.lengths
        for array in lengths.values():
            array.append(0)
        stored = {}
        for name in names:
            value = fields[name]
            if value is None:
                continue
            plan = plans[name]
            if plan.indexed:
                length = self._index(plan, value, doc)
                if length and plan.scorable:
                    lengths[name][doc] = _length_byte(length)
                    self.totals[name] = self.totals.get(name, 0) + length
            if plan.stored:
                stored[name] = value
            if plan.column is not None:
                writer = self._columns.get(name)
                writer = writer[0] if writer else self._column_writer(name, plan.column)
                writer.add(doc, plan.field.to_column_value(value))
        if stored:
            self._stored.add(doc, stored)
        self.doccount = doc + 1

    def _index(self, plan: _FieldPlan, value, doc: int) -> int:
        """Add the postings of one field value; returns the field length (number of tokens)."""
        post = self.postings[plan.name]
        fmt = plan.format
        if fmt == _GENERIC:
            return self._index_generic(plan, value, doc, post)
        if plan.source == _SUDACHI:
            if not isinstance(value, str):
                return self._index_generic(plan, value, doc, post)
            terms = field_terms(plan.granularity, value)
            texts = [t[0] for t in terms]
            positions = [t[3] for t in terms]
        elif plan.source == _GRAMS:
            if not isinstance(value, str):
                return self._index_generic(plan, value, doc, post)
            texts = grams(fold(value))
            positions = range(len(texts))
        else:  # _ID: the whole value is the one token
            if not isinstance(value, str):
                return self._index_generic(plan, value, doc, post)
            texts = [value]
            positions = (0,)
        n = len(texts)
        if not n:
            return 0
        if fmt == _POSITIONS:
            self.postings_count += _add_positions(post, texts, positions, doc, self.encoding)
        elif fmt == _FREQUENCY:
            self.postings_count += _add_frequencies(post, texts, doc, self.encoding)
        else:  # _EXISTENCE
            added = 0
            for text in dict.fromkeys(texts):
                entry = post.get(text)
                if entry is None:
                    post[text] = [doc, 1, b""]
                else:
                    entry += (doc, 1, b"")
                added += 1
            self.postings_count += added
            n = added
        return n

    def _index_generic(self, plan, value, doc, post) -> int:
        """Any other field: Whoosh's own `field.index`, as `SegmentWriter.add_document` does."""
        length = 0
        for tbytes, freq, weight, vbytes in plan.field.index(value):
            if weight != freq:
                raise ValueError(f"field {plan.name!r}: weights other than the frequency "
                                 "are not supported")
            text = tbytes.decode("utf-8")
            entry = post.get(text)
            if entry is None:
                post[text] = [doc, freq, vbytes]
            else:
                entry += (doc, freq, vbytes)
            length += freq
            self.postings_count += 1
        return length

    # Writing

    def finish(self):
        """Write the segment's files, assemble them into the compound file; returns the Segment."""
        from collections import defaultdict

        from whoosh.filedb.filetables import OrderedHashWriter

        segment = self.segment
        doccount = self.doccount
        segment.set_doc_count(doccount)
        segment._fieldlengths = defaultdict(int, self.totals)

        # Per-document files: stored fields and columns, then field lengths (one byte per
        # document, written up to the last non-zero byte, as Whoosh's NumericColumn writer does).
        for writer, f in self._columns.values():
            writer.finish(doccount)
            f.close()
        lengthbytes = {}
        for name, array in self.lengths.items():
            lengthbytes[name] = array
            data = bytes(array).rstrip(b"\0")
            if data:
                f = self._create("._%s_len.col" % name)
                f.write(data)
                f.close()
        self.lengths = {}

        # Terms and postings.
        tfile = self._create(".trm")
        tindex = OrderedHashWriter(tfile)
        fieldmap = tindex.extras["fieldmap"] = {}
        pfile = self._create(".pst")
        writer = _PostingsWriter(pfile, self.encoding.block_protocol,
                                 INLINE_LIMIT if self.encoding.inline else 0)
        add_term = tindex.add
        for name in sorted(self.postings):
            post = self.postings[name]
            if not post:
                continue
            plan = self.plans[name]
            fieldmap[name] = fieldid = len(fieldmap)
            prefix = pack_ushort(fieldid)
            field_lengths = lengthbytes.get(name)
            write = writer.write_term
            values = plan.values
            for text in sorted(post):
                add_term(prefix + text.encode("utf-8"),
                         write(post[text], field_lengths, values))
            post.clear()
        writer.close()
        tindex.close()
        self.postings = {}
        if self.encoding.compound:
            segment.create_compound_file(self.storage)
        self._files = []
        return segment


_length_cache: dict[int, int] = {}


def _length_byte(length: int) -> int:
    lb = _length_cache.get(length)
    if lb is None:
        from whoosh.util.numeric import length_to_byte

        lb = _length_cache[length] = length_to_byte(length)
    return lb


def _add_positions(post: dict, texts, positions, doc: int, encoding: _Encoding) -> int:
    """Add one document's postings of a positional field: term -> [doc, freq, value, ...]."""
    single = encoding.single
    first = dict(zip(texts, positions))
    if len(first) == len(texts):
        for text, pos in first.items():
            value = single[pos] if pos < _SINGLE_CACHE else encoding.positions((pos,))
            entry = post.get(text)
            if entry is None:
                post[text] = [doc, 1, value]
            else:
                entry += (doc, 1, value)
        return len(first)
    groups = {}
    for text, pos in zip(texts, positions):
        group = groups.get(text)
        if group is None:
            groups[text] = [pos]
        else:
            group.append(pos)
    encode = encoding.positions
    for text, group in groups.items():
        freq = len(group)
        if freq == 1:
            pos = group[0]
            value = single[pos] if pos < _SINGLE_CACHE else encode(group)
        else:
            value = encode(group)
        entry = post.get(text)
        if entry is None:
            post[text] = [doc, freq, value]
        else:
            entry += (doc, freq, value)
    return len(groups)


def _add_frequencies(post: dict, texts, doc: int, encoding: _Encoding) -> int:
    counts = {}
    for text in texts:
        counts[text] = counts.get(text, 0) + 1
    values = encoding.frequency
    for text, freq in counts.items():
        value = values[freq] if freq < _SINGLE_CACHE else pack_uint(freq)
        entry = post.get(text)
        if entry is None:
            post[text] = [doc, freq, value]
        else:
            entry += (doc, freq, value)
    return len(counts)


class _PostingsWriter:
    """Writes W3 posting lists, as W3PostingsWriter does, a term's list at a time."""

    def __init__(self, pfile, protocol: int, inline: int = 0) -> None:
        self.file = pfile
        self.protocol = protocol
        self.inline = inline
        self.offset = 0
        self.out = []
        self.outsize = 0

    def write_term(self, flat: list, lengths, values: bool) -> bytes:
        """Write one term's postings (flat docnum, freq, value triples); returns its TermInfo."""
        docs = flat[0::3]
        freqs = flat[1::3]
        vals = flat[2::3] if values else None
        count = len(docs)
        dumps = pickle.dumps
        if count <= self.inline:
            # A short list goes into the TermInfo itself, as W3TermInfo.set_inlined has it;
            # Whoosh's reader serves it with a ListMatcher.
            if lengths is not None:
                blens = bytes(map(lengths.__getitem__, docs))
                minlb, maxlb = min(blens), max(blens)
            else:
                minlb = maxlb = 0
            weights = None if max(freqs) == 1 else tuple(map(float, freqs))  # None: all 1.0
            inlined = (tuple(docs), weights, tuple(vals) if values else ())
            return (_TERMINFO.pack(1, float(sum(freqs)), count, minlb, maxlb,
                                   float(max(freqs)), docs[0], docs[-1])
                    + dumps(inlined, self.protocol))
        compress = zlib.compress
        protocol = self.protocol
        parts = [_MAGIC]
        minlb = 255
        maxlb = 0
        for start in range(0, count, BLOCK_LIMIT):
            end = start + BLOCK_LIMIT
            bdocs = docs[start:end]
            bfreqs = freqs[start:end]
            deltas = [bdocs[0]]
            deltas += map(int.__sub__, bdocs[1:], bdocs)
            maxf = max(bfreqs)
            if maxf == 1:
                weights = None
            elif min(bfreqs) == maxf:
                weights = float(maxf)
            else:
                weights = tuple(map(float, bfreqs))
            bvals = tuple(vals[start:end]) if values else None
            data = compress(dumps((tuple(deltas), weights, bvals), protocol), COMPRESSION)
            if lengths is not None:
                blens = bytes(map(lengths.__getitem__, bdocs))
                bmin = min(blens)
                bmax = max(blens)
                if bmin < minlb:
                    minlb = bmin
                if bmax > maxlb:
                    maxlb = bmax
            else:
                bmin = bmax = 0
            info = dumps((len(bdocs), bdocs[-1], float(maxf), COMPRESSION, bmin, bmax),
                         _INFO_PROTOCOL)
            size = len(info) + len(data)
            parts.append(pack_int(-size if end >= count else size))
            parts.append(info)
            parts.append(data)
        if lengths is None:
            minlb = 0
        block = b"".join(parts)
        start_offset = self.offset
        self.offset += len(block)
        self.out.append(block)
        self.outsize += len(block)
        if self.outsize >= _WRITE_CHUNK:
            self._flush()
        return (_TERMINFO.pack(0, float(sum(freqs)), count, minlb, maxlb, float(max(freqs)),
                               docs[0], docs[-1])
                + pack_long(start_offset) + pack_int(len(block)))

    def _flush(self) -> None:
        if self.out:
            self.file.write(b"".join(self.out))
            self.out = []
            self.outsize = 0

    def close(self) -> None:
        self._flush()
        self.file.close()


# Chunks of documents -> segments -------------------------------------------------------------

class _ChunkIndexer:
    """Indexes documents into segments of at most `max_postings` postings."""

    def __init__(self, storage, schema, layout: Layout, max_postings: int) -> None:
        self.storage = storage
        self.schema = schema
        self.plans = _plans(schema)
        self.layout = layout
        self.max_postings = max_postings
        self.builder = None
        self.segments = []

    def add_paragraphs(self, paragraphs) -> None:
        from .index import paragraph_fields

        for paragraph in paragraphs:
            if self.builder is None:
                self.builder = SegmentBuilder(self.storage, self.schema, self.plans,
                                              layout=self.layout)
            self.builder.add_document(paragraph_fields(paragraph))
            if self.builder.postings_count >= self.max_postings:
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
                try:
                    storage.delete_file(name)
                except OSError:
                    pass


def _index_chunk(storage, schema, documents, layout, max_postings, report):
    """Index one chunk of documents; `report(kind, payload)` hears of each document.
    Returns (segments, documents indexed, paragraphs)."""
    from .documents import UnreadableDocument, read_document

    indexer = _ChunkIndexer(storage, schema, layout, max_postings)
    done = paragraphs = 0
    try:
        for number, document in documents:
            try:
                found = read_document(document)
            except UnreadableDocument as problem:
                report("skipped", (number, document.source, str(problem)))
                continue
            for warning in found.warnings:
                report("warning", f"{document.source}: {warning}")
            indexer.add_paragraphs(found.paragraphs)
            done += 1
            paragraphs += len(found.paragraphs)
            report("document", number)
        indexer.flush()
    except BaseException:
        indexer.discard()
        raise
    return indexer.segments, done, paragraphs


def _chunks(documents: list, procs: int, segment_mb: float) -> list[list[tuple[int, object]]]:
    """Consecutive runs of (number, document) of about `segment_mb` (at least one per process)."""
    total = sum(max(getattr(d, "size", 0), 1) for d in documents)
    limit = max(1, min(int(segment_mb * 1e6), math.ceil(total / max(procs, 1))))
    chunks, current, size = [], [], 0
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

def _worker(worker: int, path: str, indexname: str, layout: Layout, max_postings: int,
            tasks, results) -> None:
    """Take chunks from `tasks` until None; put reports, segments or the error on `results`."""
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        from whoosh.filedb.filestore import FileStorage
        from whoosh.index import TOC

        storage = FileStorage(path)
        schema = TOC.read(storage, indexname).schema

        def report(kind, payload):
            results.put((kind, worker, payload))

        while True:
            task = tasks.get()
            if task is None:
                break
            number, documents = task
            segments, done, paragraphs = _index_chunk(storage, schema, documents, layout,
                                                      max_postings, report)
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
    finally:
        if gc_was_enabled:
            gc.enable()


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


def _build_segments(path: Path, indexname: str, documents: list, procs: int,
                    progress: Progress | None, warn: Warn | None, summary, layout: Layout,
                    segment_mb: float, max_postings: int, start_method: str | None):
    """Index `documents` into new segments in `path`; returns them in document order."""
    chunks = _chunks(documents, procs, segment_mb)
    total = len(documents)
    done_count = 0
    by_chunk = {}

    def on_report(kind, payload):
        nonlocal done_count
        if kind == "warning":
            if warn:
                warn(payload)
            return
        if kind == "skipped":
            number, source, why = payload
            summary.skipped[source] = why
            if warn:
                warn(f"skipped {source}: {why}")
        done_count += 1
        if progress:
            number = payload[0] if kind == "skipped" else payload
            progress(done_count, total, documents[number])

    def on_chunk(number, segments, done, paragraphs):
        by_chunk[number] = segments
        summary.documents += done
        summary.paragraphs += paragraphs

    if procs <= 1:
        _build_in_process(path, indexname, chunks, layout, max_postings, on_report, on_chunk)
    else:
        _build_in_workers(path, indexname, chunks, procs, layout, max_postings, on_report,
                          on_chunk, start_method, by_chunk)
    return [segment for number in sorted(by_chunk) for segment in by_chunk[number]]


def _build_in_process(path, indexname, chunks, layout, max_postings, on_report, on_chunk):
    from whoosh.filedb.filestore import FileStorage
    from whoosh.index import TOC

    storage = FileStorage(str(path))
    schema = TOC.read(storage, indexname).schema
    written = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for number, documents in enumerate(chunks):
            segments, done, paragraphs = _index_chunk(storage, schema, documents, layout,
                                                      max_postings, on_report)
            written += segments
            on_chunk(number, segments, done, paragraphs)
    except BaseException:
        _remove_segments(storage, written)
        raise
    finally:
        if gc_was_enabled:
            gc.enable()


def _build_in_workers(path, indexname, chunks, procs, layout, max_postings, on_report, on_chunk,
                      start_method, by_chunk):
    import multiprocessing

    from whoosh.filedb.filestore import FileStorage

    if start_method is None:
        methods = multiprocessing.get_all_start_methods()
        start_method = "fork" if "fork" in methods else "spawn"
    context = multiprocessing.get_context(start_method)
    tasks = context.Queue()
    results = context.Queue()
    for number, documents in enumerate(chunks):
        tasks.put((number, documents))
    count = min(procs, len(chunks))
    for _ in range(count):
        tasks.put(None)
    workers = [context.Process(target=_worker, daemon=True,
                               args=(n, str(path), indexname, layout, max_postings, tasks,
                                     results))
               for n in range(count)]
    running = set(range(count))
    try:
        for process in workers:
            process.start()
        while running:
            try:
                message = results.get(timeout=0.5)
            except queue.Empty:
                dead = [n for n in running if workers[n].exitcode is not None]
                if not dead:
                    continue
                try:  # what a worker put just before it exited may still be in the pipe
                    message = results.get(timeout=2.0)
                except queue.Empty:
                    n = dead[0]
                    raise IndexWorkerError(f"indexing worker {n} died (exit code "
                                           f"{workers[n].exitcode}) before it finished") from None
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
        _remove_segments(FileStorage(str(path)),
                         [s for segments in by_chunk.values() for s in segments])
        raise
    finally:
        tasks.close()
        results.close()
        tasks.cancel_join_thread()
        results.cancel_join_thread()


# Public API ----------------------------------------------------------------------------------

def write_index(path: Path, documents: Iterable, procs: int = 2,
                progress: Progress | None = None, warn: Warn | None = None, *,
                segment_mb: float = DEFAULT_SEGMENT_MB,
                max_postings: int = DEFAULT_MAX_POSTINGS, exact: bool = False,
                compound: bool = True, inline: bool = False, start_method: str | None = None):
    """Create a new Whoosh index in `path` (made if missing) with `search.index.schema()` holding
    the paragraphs of `documents`, as `search.index._write_generation` does with Whoosh's writer.

    `procs` worker processes analyze and write segments (1: all in this process). `progress(done,
    total, document)` and `warn(message)` are called in this process. Unreadable documents are
    skipped with a warning and listed in the summary. An error in a worker is raised here.
    """
    from whoosh.index import create_in

    from .index import IndexSummary, schema

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    ix = create_in(str(path), schema())
    summary = IndexSummary()
    _append(ix, list(documents), procs, progress, warn, summary, (), Layout(exact, compound, inline),
            segment_mb, max_postings, start_method)
    return summary


def add_to_index(path: Path, documents: Iterable, procs: int = 2,
                 progress: Progress | None = None, warn: Warn | None = None, *,
                 replace: bool = True, delete_sources: Iterable[str] = (),
                 segment_mb: float = DEFAULT_SEGMENT_MB,
                 max_postings: int = DEFAULT_MAX_POSTINGS, exact: bool = False,
                 compound: bool = True, inline: bool = False, start_method: str | None = None):
    """Append the paragraphs of `documents` to the existing Whoosh index in `path` as new
    segments. With `replace`, paragraphs already indexed from a document of the same source are
    deleted; so are those of every source in `delete_sources` (documents that went away). The
    additions and deletions become visible together, in one new TOC generation."""
    from whoosh.index import open_dir

    from .index import IndexSummary

    documents = list(documents)
    ix = open_dir(str(path))
    delete = set(delete_sources)
    if replace:
        delete.update(d.source for d in documents)
    summary = IndexSummary()
    _append(ix, documents, procs, progress, warn, summary, delete, Layout(exact, compound, inline),
            segment_mb, max_postings, start_method)
    return summary


def _append(ix, documents, procs, progress, warn, summary, delete, layout, segment_mb,
            max_postings, start_method) -> None:
    from whoosh.index import TOC, LockError, clean_files

    lock = ix.lock("WRITELOCK")
    if not lock.acquire():
        raise LockError("the Whoosh index is locked by another writer")
    try:
        storage = ix.storage
        try:
            segments = _build_segments(Path(storage.folder), ix.indexname, documents, procs,
                                       progress, warn, summary, layout, segment_mb,
                                       max_postings, start_method)
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
            everything = old + segments
            TOC(toc.schema, everything, generation).write(storage, ix.indexname)
        except BaseException:
            _remove_segments(storage, segments)
            raise
        clean_files(storage, ix.indexname, generation, everything)
    finally:
        lock.release()


def _delete_sources(storage, schema, segments, sources) -> None:
    """Mark deleted, in `segments`, every document whose `source` is one of `sources`."""
    from whoosh.reading import SegmentReader

    for segment in segments:
        reader = SegmentReader(storage, schema, segment)
        try:
            for source in sources:
                term = source.encode("utf-8")
                if ("source", term) in reader:
                    for docnum in reader.postings("source", term).all_ids():
                        segment.delete_document(docnum)
        finally:
            reader.close()
