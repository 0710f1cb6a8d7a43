"""Postings: the terms of an open index looked up once per segment, and read for a set of
wanted documents.

Whoosh looks a term up again for its existence, its frequency and its postings, a few dozen
Python calls each time, in each of a large index's twenty segments; `TermIndex` looks it up once
per segment and keeps what it found. `Wanted` is the set of paragraphs a query is restricted to,
as each segment's own docnums. The posting lists themselves are read by search.index.codec.
"""

from __future__ import annotations

import contextlib
from bisect import bisect_left
from collections.abc import Set

from whoosh.reading import TermNotFound

from search.index.codec import OpenSegment, Posted, blocks

_POSTED_LIMIT = 20_000  # terms whose infos a TermIndex keeps (each a few hundred bytes a segment)


class TermIndex:
    """The terms of an open index, each looked up once per segment (and kept, up to
    _POSTED_LIMIT terms: the index a reader has open does not change)."""

    def __init__(self, reader) -> None:
        self.segments = [
            OpenSegment(segment, offset, deleted(segment))
            for segment, offset in reader.leaf_readers()
        ]
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
                with contextlib.suppress(TermNotFound):
                    found.append(Posted(segment, segment.reader._terms.term_info(field, tbytes)))
            self._posted[key] = found
        return found

    def __contains__(self, field_and_term: tuple[str, str]) -> bool:
        return bool(self.posted(*field_and_term))

    def doc_frequency(self, field: str, term: str) -> int:
        """How many documents hold the term, deleted ones included (as Whoosh counts)."""
        return sum(posted.info.doc_frequency() for posted in self.posted(field, term))


class Wanted:
    """Index-wide docnums a query is restricted to, and each segment's share of them as the
    segment's own docnums, ascending (worked out once per segment)."""

    def __init__(self, docnums: Set[int]) -> None:
        self.docnums = docnums
        self._ordered = sorted(docnums)
        self._in_segment: dict[int, list[int]] = {}

    def __contains__(self, docnum: int) -> bool:
        return docnum in self.docnums

    def in_segment(self, segment: OpenSegment) -> list[int]:
        """The wanted documents of `segment`, as its own docnums, ascending."""
        found = self._in_segment.get(segment.offset)
        if found is None:
            offset = segment.offset
            start = bisect_left(self._ordered, offset)
            end = bisect_left(self._ordered, offset + segment.reader.doc_count_all())
            found = self._in_segment[offset] = [
                docnum - offset for docnum in self._ordered[start:end]
            ]
        return found


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
