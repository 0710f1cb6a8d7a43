"""What a generation records beside its segments: the synonym groups of its words
(text.synonym_groups) and its vocabulary (vocabulary), with its number of paragraphs.

Both are gathered segment by segment (`GenerationRecords.work`, one segment a call, as each is
written; the words' readings in the generation's order) while a build's worker processes are
still writing the others: the process that waits for them does it, instead of doing all of it
once the last segment is in. `write` adds what is left and writes both files; where the
generation's live segments are not those added (an update that dropped a segment whose every
paragraph went), it adds them all again.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

from search.index.schema import WORDS
from search.index.vocabulary import VocabularyTotal
from search.text.synonym_groups import SynonymGroups

_INDEX_NAME = "MAIN"  # Whoosh's name of an index in its directory, which kensaku keeps


class GenerationRecords:
    """The records of the generation in `path`, gathered as its segments come: `first`, the
    segments it starts from (an update's live ones), then those written in each chunk of
    documents (`segments_written`, which chunks may call in any order)."""

    def __init__(self, path: Path, first: list[Any] | None = None) -> None:
        self.path = path
        self._ready: deque[Any] = deque(first or ())  # written, not added
        # Each chunk's segments (`first` as chunk -1) till their readings are added, in order.
        self._chunks: dict[int, list[Any]] = {-1: list(first or ())}
        self._next_chunk = -1
        self._start()

    @classmethod
    def continuing(cls, path: Path) -> GenerationRecords:
        """The records of a generation that starts as another's segments (an update's), in
        `path` already: those segments first."""
        from whoosh.filedb.filestore import FileStorage
        from whoosh.index import TOC

        return cls(path, first=TOC.read(FileStorage(str(path)), _INDEX_NAME).segments)

    def _start(self) -> None:
        self._vocabulary = VocabularyTotal(self.path)
        self._synonyms = SynonymGroups()
        self._storage: Any = None

    def segments_written(self, chunk: int, segments: list[Any]) -> None:
        """The segments of chunk number `chunk` (of chunks numbered from 0) are written."""
        self._chunks[chunk] = segments
        self._ready.extend(segments)

    def work(self) -> bool:
        """Add the next segment written, if any: whether there was one. The readings of the
        segments added go in as soon as those before them are in."""
        if not self._ready:
            return False
        self._add(self._ready.popleft())
        self._add_readings_in_order()
        return True

    def _add_readings_in_order(self) -> None:
        """Add the readings of the chunks whose segments are all added, up to the first that
        is not."""
        counted = self._vocabulary.counted
        while self._next_chunk in self._chunks:
            segments = self._chunks[self._next_chunk]
            if not all(segment.segment_id() in counted for segment in segments):
                return
            for segment in self._chunks.pop(self._next_chunk):
                self._vocabulary.add_readings(segment.segment_id())
            self._next_chunk += 1

    def _add(self, segment: Any) -> None:
        if self._storage is None:
            from whoosh.filedb.filestore import FileStorage

            self._storage = FileStorage(str(self.path))
        self._synonyms.add(_words_of(self._storage, segment))
        self._vocabulary.add(segment.segment_id())

    def write(self) -> int:
        """Write the records of the generation's live segments; returns its paragraphs."""
        from whoosh.index import open_dir

        with open_dir(str(self.path)).reader() as reader:
            live = [leaf.segment() for leaf, _ in reader.leaf_readers()]
            paragraphs: int = reader.doc_count()
        live = [segment for segment in live if segment is not None]
        ids = [segment.segment_id() for segment in live]
        vocabulary = self._vocabulary
        read = vocabulary.segment_ids
        if not vocabulary.counted <= set(ids) or ids[: len(read)] != read:
            self._start()  # a segment added is no longer live: start again
            vocabulary, read = self._vocabulary, []
        for segment in live:
            if segment.segment_id() not in vocabulary.counted:
                self._add(segment)
        for segment_id in ids[len(read) :]:
            vocabulary.add_readings(segment_id)
        self._synonyms.write(self.path)
        vocabulary.write()
        return paragraphs


def _words_of(storage: Any, segment: Any) -> list[str]:
    """The terms of a segment's words field."""
    files = segment.open_compound_file(storage) if segment.is_compound() else storage
    terms = segment.codec().terms_reader(files, segment)
    try:
        return [term.decode("utf-8") for term in terms.field_terms(WORDS)]
    finally:
        terms.close()
        if files is not storage:
            files.close()
