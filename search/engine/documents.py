"""Documents: the documents of an open index, as arrays by paragraph, for narrowing a search to
some of them, sorting by their date and counting facets.

A paragraph's document is known from the `source` terms: a document's paragraphs are written
together, so each source's postings in a segment run from its first docnum to its last, which
the terms dictionary holds (nothing is decompressed). A document's date is read from the `date`
column at its first paragraph. All of it is read once per open index, the first time a search
narrows, sorts or counts (a few milliseconds for a few thousand documents).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING

from search.engine.postings import TermIndex, live_docnums
from search.index.schema import DATE, SOURCE

if TYPE_CHECKING:
    import numpy

Admits = Callable[[str, int], bool]  # (source, YYYYMMDD) -> whether a filter keeps the document
_CACHED_FILTERS = 64


class Documents:
    """Each live document's `source` and `day` (YYYYMMDD, 0 for none), and `of` each paragraph
    (numpy array by docnum: the document's number in `sources`, -1 for a deleted paragraph)."""

    def __init__(self, reader, terms: TermIndex) -> None:
        import numpy

        self.sources: list[str] = []
        self.of = numpy.full(reader.doc_count_all(), -1, dtype=numpy.int32)
        firsts: list[int] = []
        for segment in terms.segments:
            for source, first, last, count in _source_ranges(segment.reader):
                if first in segment.deleted:  # a document is deleted whole
                    continue
                number = len(self.sources)
                if last - first + 1 == count:
                    self.of[segment.offset + first : segment.offset + last + 1] = number
                else:  # not written together (Whoosh's own writer may interleave): read them
                    self.of[live_docnums(terms, SOURCE, source)] = number
                self.sources.append(source)
                firsts.append(segment.offset + first)
        dates = reader.column_reader(DATE) if reader.has_column(DATE) else None
        self.days = numpy.array(
            [dates[first] if dates is not None else 0 for first in firsts], dtype=numpy.int32
        )
        self._admitted: dict[Hashable, numpy.ndarray] = {}
        self._days_by_paragraph: numpy.ndarray | None = None

    def __len__(self) -> int:
        return len(self.sources)

    def admitted(self, admits: Admits, key: Hashable) -> numpy.ndarray:
        """By docnum, whether the paragraph's document is one `admits` keeps (a boolean array;
        kept by `key` for the next search with the same filters)."""
        import numpy

        found = self._admitted.get(key)
        if found is None:
            kept = numpy.array(
                [admits(source, int(day)) for source, day in zip(self.sources, self.days)]
                + [False],  # the document -1 (a deleted paragraph)
                dtype=bool,
            )
            if len(self._admitted) >= _CACHED_FILTERS:
                self._admitted.clear()
            found = self._admitted[key] = kept[self.of]
        return found

    @property
    def days_by_paragraph(self) -> numpy.ndarray:
        """By docnum, the day of the paragraph's document (0 for a deleted paragraph)."""
        import numpy

        if self._days_by_paragraph is None:
            self._days_by_paragraph = numpy.append(self.days, 0)[self.of]
        return self._days_by_paragraph

    def live(self) -> numpy.ndarray:
        """By docnum, whether the paragraph is live."""
        return self.of >= 0


def _source_ranges(reader):
    """(source, first docnum, last docnum, paragraphs) of each source term of one segment."""
    for (field, term), info in reader._terms.items_from(SOURCE, b""):
        if field != SOURCE:
            break
        yield term.decode("utf-8"), info.min_id(), info.max_id(), info.doc_frequency()
