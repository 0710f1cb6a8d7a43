"""The vocabulary: the words and phrases of the documents as they are written, each with its
reading and how many paragraphs hold it, for completing what a user types (suggestions).

While a segment is built, `VocabularyCounter` takes each paragraph's words as written (Sudachi's
whole words: 統合, 作戦, ピラー) with their katakana readings (トウゴウ), and its phrases: runs of
two or more words written without kana or punctuation between them (統合作戦司令部, ピラー2,
日米同盟), each once a paragraph (`add_analyzed` takes them from the segment's bulk analysis, not
analyzing the text again, and `count` counts every paragraph of the segment at once, with numpy,
what `add` counts of each); the segment's counts go to a file of its own beside its other
files (`<segment>.vocab`, deflated: an update reads it, a search never; Whoosh removes it with the
segment). `VocabularyTotal` adds up a generation's live segments' counts, segment after segment
as a build writes them (`record_vocabulary`: all of them once the generation is written), into one
file, `vocabulary.tsv`, one line an entry (folded text, text, reading, paragraphs), sorted (a
paragraph deleted by an update still counts until its segment goes); phrases found in one
paragraph only are left out. `Vocabulary` reads that file and completes a prefix, matched
folded (ai finds AI) or, typed in kana, by reading (とうご finds 統合), the most frequent first.
"""

from __future__ import annotations

import functools
import heapq
import os
import re
import zlib
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Container, Iterable
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from search.text.analysis import (
    analyze_cached,
    fold,
    has_combining,
    to_katakana,
    written_words,
)

if TYPE_CHECKING:
    import numpy

    from search.text.bulk import BulkAnalysis, WrittenWords

VOCABULARY_FILE = "vocabulary.tsv"
SEGMENT_EXTENSION = ".vocab"
SEGMENT_LEVEL = 1  # the deflate level of a segment's counts: nearly the size of 6, a fifth the time
MAX_PHRASE_CHARS = 24
MIN_PHRASE_PARAGRAPHS = 2
# A run written without kana or punctuation: kanji, katakana, Latin letters, digits.
_PHRASE_CHARS = "々〆ヵヶ一-鿿㐀-䶿豈-﫿ァ-ヺーA-Za-z0-9Ａ-Ｚａ-ｚ０-９"
_PHRASE_RUN = re.compile(f"[{_PHRASE_CHARS}]{{2,}}")
_KANA = re.compile(r"[ぁ-ゖァ-ヺー]+")
_LAST = "\U0010ffff"


class Suggestion(NamedTuple):
    """A completion: the text as written, its reading (katakana; "" where not known), and how
    many paragraphs hold it."""

    text: str
    reading: str
    paragraphs: int


class VocabularyCounter:
    """Counts the words and phrases of the paragraphs of one segment (`words`, `phrases` and
    `readings` hold those added by `add_analyzed` once `count` or `lines` has run)."""

    def __init__(self) -> None:
        self.words: Counter[str] = Counter()
        self.phrases: Counter[str] = Counter()
        self.readings: dict[str, str] = {}
        # Paragraphs of a bulk analysis not counted yet: the analysis, each one's text number.
        self._analysis: BulkAnalysis | None = None
        self._texts = array("I")

    def add(self, text: str) -> None:
        """Count the words and phrases of one paragraph (analyzed already: the cache's)."""
        self.count()
        analysis = analyze_cached(text)
        # Not the words Sudachi adds to a character, empty in the text (⅝ is 5, ⁄ and 8).
        written = [word for word in analysis.words if word.end > word.start]
        words = {text[word.start : word.end]: word for word in written}
        for surface, word in words.items():
            if surface not in self.readings:
                self.readings[surface] = "".join(
                    reading.text
                    for reading in analysis.readings
                    if word.start <= reading.start < word.end
                )
        self.words.update(words.keys())
        starts = {word.start for word in written}
        ends = {word.end for word in written}
        self._add_phrases(text, words, starts, ends)

    def add_analyzed(self, analysis: BulkAnalysis, number: int) -> None:
        """Count the words and phrases of one paragraph, text `number` of the segment's bulk
        analysis: the counts `add` makes, without analyzing the text again, made for all the
        paragraphs at once (`count`)."""
        if analysis is not self._analysis:
            self.count()
            self._analysis = analysis
        self._texts.append(number)

    def count(self) -> None:
        """Count the paragraphs added by `add_analyzed` (before their analysis is let go)."""
        analysis, numbers = self._analysis, self._texts
        self._analysis, self._texts = None, array("I")
        if analysis is not None and numbers:
            _BulkCount(analysis, numbers).into(self)

    def _add_phrases(self, text: str, words: Container[str], starts: set, ends: set) -> None:
        """Count the paragraph's phrases: runs that begin where a word begins and end where one
        ends, and are no word themselves."""
        self.phrases.update(
            {
                run.group()
                for run in _PHRASE_RUN.finditer(text)
                if len(run.group()) <= MAX_PHRASE_CHARS
                and run.group() not in words
                and run.start() in starts
                and run.end() in ends
            }
        )

    def lines(self) -> Iterable[str]:
        self.count()
        for surface, count in self.words.items():
            yield f"w\t{surface}\t{self.readings.get(surface, '')}\t{count}\n"
        for surface, count in self.phrases.items():
            yield f"p\t{surface}\t\t{count}\n"

    def write(self, storage, segment_id: str) -> None:
        """Write the counts beside the segment's files (`<segment id>.vocab`)."""
        out = storage.create_file(segment_id + SEGMENT_EXTENSION)
        out.write(zlib.compress("".join(self.lines()).encode("utf-8"), SEGMENT_LEVEL))
        out.close()


class _BulkCount:
    """The words and phrases of paragraphs of one bulk analysis, each paragraph its text's
    number there (`paragraphs`, in order), counted at once with numpy: what
    VocabularyCounter.add counts, each word's reading the one add gives (of the first paragraph
    that holds it, its last occurrence there)."""

    def __init__(self, analysis: BulkAnalysis, paragraphs: array) -> None:
        import numpy

        self.analysis = analysis
        numbers = numpy.frombuffer(paragraphs, numpy.uint32).astype(numpy.int64)
        texts, self.first, self.times = numpy.unique(numbers, return_index=True, return_counts=True)
        self.words = analysis.written_words(texts)
        rows = numpy.zeros(len(analysis), numpy.int64)
        rows[texts] = numpy.arange(len(texts))
        self.rows = rows[self.words.texts]  # each word's text among `texts`

    def into(self, counter: VocabularyCounter) -> None:
        import numpy

        from search.text.bulk import stable_order

        words = self.words
        if not len(words.texts):  # paragraphs of marks alone: no word, so no phrase either
            return
        surfaces = len(words.surfaces)
        keys = self.rows * surfaces + words.surface_numbers
        order = stable_order(keys, (int(self.rows[-1]) + 1) * surfaces)
        keys = keys[order]
        first = numpy.ones(len(keys), bool)
        numpy.not_equal(keys[1:], keys[:-1], out=first[1:])
        firsts = numpy.flatnonzero(first)
        lasts = numpy.append(firsts[1:], len(keys)) - 1
        # Each paragraph's distinct words (a text's, as often as paragraphs have it).
        pair_rows, pair_surfaces = self.rows[order[firsts]], words.surface_numbers[order[firsts]]
        counts = numpy.bincount(pair_surfaces, self.times[pair_rows], surfaces)
        # A word's reading and its place in the counter: its first paragraph's (by when they
        # were added), its first occurrence there for the place, its last for the reading.
        pair_paragraphs = self.first[pair_rows]
        earliest = numpy.full(surfaces, numpy.iinfo(numpy.int64).max)
        numpy.minimum.at(earliest, pair_surfaces, pair_paragraphs)
        chosen = numpy.flatnonzero(pair_paragraphs == earliest[pair_surfaces])  # one a surface
        chosen = chosen[numpy.lexsort((order[firsts][chosen], pair_paragraphs[chosen]))]
        in_order = pair_surfaces[chosen]
        entries = words.entries[order[lasts][chosen]]
        names = words.surfaces
        readings, reading = counter.readings, self.analysis.reading
        found: dict[str, int] = {}
        for surface, count, entry in zip(
            in_order.tolist(), counts[in_order].astype(numpy.int64).tolist(), entries.tolist()
        ):
            name = names[surface]
            found[name] = count
            if name not in readings:
                readings[name] = reading(entry)
        counter.words.update(found)
        counter.phrases.update(self._phrases(keys[firsts]))

    def _phrases(self, pairs: numpy.ndarray) -> dict[str, int]:
        """Each phrase's paragraphs: runs that begin where a word begins and end where one
        ends, and are no word of their paragraph (`pairs`: text row times the surfaces plus
        surface, of each paragraph's words, ascending)."""
        import numpy

        words: WrittenWords = self.words
        joined = words.joined
        chars = numpy.frombuffer(joined.encode("utf-32-le", "surrogatepass"), numpy.uint32)
        edges = numpy.diff(numpy.concatenate(([0], _phrase_chars()[chars], [0])).astype(numpy.int8))
        starts, ends = numpy.flatnonzero(edges == 1), numpy.flatnonzero(edges == -1)
        lengths = ends - starts
        kept = (lengths >= 2) & (lengths <= MAX_PHRASE_CHARS)
        kept &= _among(words.starts, starts) & _among(words.ends, ends)
        # A run that is one word is that word.
        kept &= ~_among(words.starts << 32 | words.ends, starts << 32 | ends)
        starts, ends = starts[kept], ends[kept]
        rows = self.rows[numpy.searchsorted(words.starts, starts)]
        texts = [joined[start:end] for start, end in zip(starts.tolist(), ends.tolist())]
        surface_numbers = {surface: at for at, surface in enumerate(words.surfaces)}
        as_words = numpy.fromiter(
            (surface_numbers.get(text, -1) for text in texts), numpy.int64, len(texts)
        )
        known = as_words >= 0
        known[known] = _among(pairs, rows[known] * len(surface_numbers) + as_words[known])
        numbers: dict[str, int] = {}
        phrase = numpy.fromiter(
            (numbers.setdefault(text, len(numbers)) for text in texts), numpy.int64, len(texts)
        )
        width = max(len(numbers), 1)  # a key: its text's row times the phrases, plus its phrase
        keys = numpy.unique((rows * width + phrase)[~known])
        counts = numpy.bincount(keys % width, self.times[keys // width], len(numbers))
        return {
            text: count
            for text, count in zip(numbers, counts.astype(numpy.int64).tolist())
            if count
        }


def _among(ordered: numpy.ndarray, values: numpy.ndarray) -> numpy.ndarray:
    """Whether each of `values` is one of `ordered` (ascending)."""
    import numpy

    at = numpy.searchsorted(ordered, values)
    found = at < len(ordered)
    found[found] = ordered[at[found]] == values[found]
    return found


@functools.cache
def _phrase_chars() -> numpy.ndarray:
    """Whether each code point is one a phrase is written with (_PHRASE_CHARS)."""
    import numpy

    table = numpy.zeros(0x110000, bool)
    spec = _PHRASE_CHARS
    at = 0
    while at < len(spec):
        if at + 2 < len(spec) and spec[at + 1] == "-":
            table[ord(spec[at]) : ord(spec[at + 2]) + 1] = True
            at += 3
        else:
            table[ord(spec[at])] = True
            at += 1
    return table


def record_vocabulary(generation: Path) -> None:
    """Add up the vocabularies of the live segments of `generation` into its VOCABULARY_FILE."""
    from whoosh.index import open_dir

    with open_dir(str(generation)).reader() as reader:
        segments = [leaf.segment() for leaf, _ in reader.leaf_readers()]
    total = VocabularyTotal(generation)
    for segment in segments:
        if segment is not None:
            total.add(segment.segment_id())
            total.add_readings(segment.segment_id())
    total.write()


class VocabularyTotal:
    """The vocabularies of a generation's segments added up, each segment's counts as soon as it
    is written, in any order (`add`: a build adds them while other segments are still being
    built), its words' readings in the generation's order (`add_readings`: a word's reading is
    the first segment's that has one), and written as its VOCABULARY_FILE (`write`). What can be
    worked out before the last segment is in is worked out as each is added: each word's folded
    text, and a phrase's once it is found in two paragraphs or more: its folded text and its
    words (whose readings make its reading, once all are in)."""

    def __init__(self, generation: Path) -> None:
        self.generation = generation
        self.counted: set[str] = set()  # the segments whose counts are added
        self.segment_ids: list[str] = []  # those whose readings are added, in order
        self.words: dict[str, int] = {}
        self.phrases: dict[str, int] = {}
        self.readings: dict[str, str] = {}
        self._readings_of: dict[str, list[tuple[str, str]]] = {}  # a segment's, not added yet
        self._folded: dict[str, str] = {}  # of the words, and of the phrases worked out
        self._phrase_words: dict[str, list[str]] = {}  # of the phrases worked out

    def add(self, segment_id: str) -> None:
        """Add the counts of the segment `segment_id` (segments in any order); its readings wait
        for `add_readings`."""
        text = _read_counts(self.generation / (segment_id + SEGMENT_EXTENSION))
        found = _WORD_ROWS.findall(text)
        words, folded = self.words, self._folded
        known = len(words)
        _add_counts(words, found)
        self._readings_of[segment_id] = [
            (surface, reading) for surface, reading, _ in found if reading
        ]
        new = list(islice(reversed(words), len(words) - known))  # the words added last
        folded.update(zip(new, _folded(new)))
        rows = _PHRASE_ROWS.findall(text)
        phrases = self.phrases
        _add_counts(phrases, rows)
        found_twice = [
            surface
            for surface, _ in rows
            if phrases[surface] >= MIN_PHRASE_PARAGRAPHS
            and surface not in folded
            and surface not in words
        ]
        folded.update(zip(found_twice, _folded(found_twice)))
        self._phrase_words.update((phrase, written_words(phrase)) for phrase in found_twice)
        self.counted.add(segment_id)

    def add_readings(self, segment_id: str) -> None:
        """Add the readings of the segment `segment_id`, added already: the next in the
        generation's order."""
        readings = self.readings
        for surface, reading in self._readings_of.pop(segment_id):
            if surface not in readings:
                readings[surface] = reading
        self.segment_ids.append(segment_id)

    def write(self) -> None:
        """Write the VOCABULARY_FILE of what was added."""
        words, phrases, readings = self.words, self.phrases, self.readings
        kept = [
            surface
            for surface, count in phrases.items()
            if count >= MIN_PHRASE_PARAGRAPHS and surface not in words
        ]
        surfaces = [*words, *kept]
        counts = [*words.values(), *map(phrases.__getitem__, kept)]
        known = [readings.get(surface, "") for surface in words]
        phrase_readings = [self._reading_of(phrase) for phrase in kept]
        folded = self._folded
        # Sorted by the folded text, which leads each line: reading the file back needs neither.
        lines = sorted(
            map(
                "{}\t{}\t{}\t{}\n".format,
                [folded.get(surface) or fold(surface) for surface in surfaces],
                surfaces,
                [*known, *phrase_readings],
                counts,
            )
        )
        generation = self.generation
        temporary = generation / f".{VOCABULARY_FILE}.tmp"
        temporary.write_text("".join(lines), encoding="utf-8")
        # A new file: never the last generation's.
        os.replace(temporary, generation / VOCABULARY_FILE)

    def _reading_of(self, phrase: str) -> str:
        """A phrase's reading, from its words' readings where they are known (else none)."""
        words = self._phrase_words.get(phrase)
        return _phrase_reading(written_words(phrase) if words is None else words, self.readings)


# A segment's rows (VocabularyCounter.lines): a word's text, reading and paragraphs; a phrase's.
_WORD_ROWS = re.compile(r"^w\t([^\t\n]*)\t([^\t\n]*)\t([0-9]+)$", re.MULTILINE)
_PHRASE_ROWS = re.compile(r"^p\t([^\t\n]*)\t\t([0-9]+)$", re.MULTILINE)


def _read_counts(path: Path) -> str:
    """The rows of a segment's vocabulary file ("" where it cannot be read; a damaged row is
    left out)."""
    try:
        return zlib.decompress(path.read_bytes()).decode("utf-8")
    except (OSError, zlib.error, UnicodeDecodeError):
        return ""


def _add_counts(total: dict[str, int], rows: list[tuple[str, ...]]) -> None:
    """Add rows (text, ..., paragraphs as digits) to the paragraphs of each text."""
    surfaces, counts = map(itemgetter(0), rows), map(int, map(itemgetter(-1), rows))
    if not total:
        total.update(zip(surfaces, counts))
        return
    get = total.get
    for surface, count in zip(surfaces, counts):
        total[surface] = get(surface, 0) + count


def _folded(surfaces: list[str]) -> list[str]:
    """`fold` of each of `surfaces`: of those without a combining mark (which folding composes
    with what comes before it) all at once."""
    if not surfaces:
        return []
    combining = [at for at, surface in enumerate(surfaces) if has_combining(surface)]
    plain = surfaces.copy()
    for at in combining:
        plain[at] = ""
    folded = fold("\n".join(plain)).split("\n")
    for at in combining:
        folded[at] = fold(surfaces[at])
    return folded


def _phrase_reading(words: list[str], readings: dict[str, str]) -> str:
    """A phrase's reading, from the readings of its `words` where they are known (else none)."""
    parts = [readings.get(word) for word in words]
    return "".join(part for part in parts if part) if all(parts) else ""


def _read_rows_of(path: Path) -> Iterable[tuple[str, str, str, int]]:
    """The entries of a vocabulary file: folded text, text, reading, paragraphs."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return
    for line in text.splitlines():
        key, surface, reading, count = line.split("\t")
        yield key, surface, reading, int(count)


class Vocabulary:
    """A vocabulary, read once, completing prefixes: of its `rows` (folded text, text, reading,
    paragraphs), sorted as a vocabulary file holds them."""

    def __init__(self, rows: list[tuple[str, str, str, int]]) -> None:
        self._keys = [row[0] for row in rows]
        entries = [Suggestion(row[1], row[2], row[3]) for row in rows]
        self._entries = entries
        by_reading = sorted(
            (entry.reading, at) for at, entry in enumerate(entries) if entry.reading
        )
        self._readings = [reading for reading, _ in by_reading]
        self._by_reading = [at for _, at in by_reading]

    @classmethod
    def of_generations(cls, generations: list[Path]) -> Vocabulary:
        """The vocabulary of a generation, or of the shards of a collection (a generation
        each): an entry's paragraphs added up over the shards (a phrase held by one paragraph
        in each of two shards is in neither's file, so not in theirs either)."""
        if len(generations) == 1:
            return cls(list(_read_rows_of(Path(generations[0]) / VOCABULARY_FILE)))
        merged: dict[tuple[str, str], list] = {}
        for generation in generations:
            for key, surface, reading, count in _read_rows_of(Path(generation) / VOCABULARY_FILE):
                found = merged.get((key, surface))
                if found is None:
                    merged[(key, surface)] = [reading, count]
                else:
                    found[0] = found[0] or reading
                    found[1] += count
        return cls([(*key, reading, count) for key, (reading, count) in sorted(merged.items())])

    def __len__(self) -> int:
        return len(self._entries)

    def complete(self, prefix: str, limit: int = 10) -> list[Suggestion]:
        """The `limit` most frequent words and phrases that begin with `prefix` (folded), or,
        for a prefix in kana, whose reading does; one a folded text."""
        folded = fold(prefix.strip())
        if not folded:
            return []
        found = set(self._range(self._keys, folded))
        if _KANA.fullmatch(folded):
            kana = to_katakana(folded)
            found.update(self._by_reading[at] for at in self._range(self._readings, kana))
        best = heapq.nlargest(limit * 2, found, key=lambda at: (self._entries[at].paragraphs, -at))
        suggestions, seen = [], set()
        for at in best:
            key = self._keys[at]
            if key not in seen:
                seen.add(key)
                suggestions.append(self._entries[at])
        return suggestions[:limit]

    @staticmethod
    def _range(keys: list[str], prefix: str) -> range:
        return range(bisect_left(keys, prefix), bisect_left(keys, prefix + _LAST))
