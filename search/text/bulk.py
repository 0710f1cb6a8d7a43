"""Analysis in bulk, for the index: many texts analyzed as `analysis.analyze` and `analysis.pairs`
would analyze each, their terms expanded for all of them at once.

The loop over Sudachi's morphemes maps each morpheme to the number of its dictionary entry (and
keeps where it ends, for the words of a text as written: `words_of`), a word by its word id alone (an `_EntryTable` of the process numbers
every entry and surface once, with what it contributes: its kind, its word's term, its parts' terms and readings, each term as a
number of the table's vocabulary). `BulkAnalysis.expand` then makes the words, subwords,
readings, word pairs and subword pairs of every text, with their positions, from those numbers
with numpy. Character offsets are not made: the index does not store them.

A text is analyzed once however often it is added (`BulkAnalysis.add` gives the same number
again): the title of a document is analyzed once for all its paragraphs.
"""

from __future__ import annotations

from array import array
from typing import TYPE_CHECKING, Any, NamedTuple

from search.text.analysis import GAP, NOTHING, WORD, chunks, dictionary_entry, pair, tokenize
from search.text.common_words import COMMON_WORDS

if TYPE_CHECKING:
    import numpy

_ENTRIES_LIMIT = 1_000_000  # entries a table numbers before a new analysis starts a new one


class _EntryTable:
    """The dictionary entries (and surfaces) of a process, numbered as first met, with what each
    contributes as arrays: its kind, its word's term, where its parts start in the part arrays
    and how many it has, each part's term and reading; the terms numbered in `vocabulary`."""

    def __init__(self) -> None:
        self.numbers: dict[tuple[int, str], int] = {}
        # A dictionary word's number by its word id alone: what a word contributes is its
        # entry's, whatever its surface (ﾃｽﾄ, テスト); not so punctuation's and whitespace's
        # (joiners and spaces contribute nothing, other marks a gap), nor an unknown word's.
        self.words_by_id: dict[int, int] = {}
        self.kinds = array("B")
        self.words = array("i")
        self.part_starts = array("I")
        self.part_counts = array("I")
        self.part_terms = array("i")
        self.part_readings = array("i")
        self.vocabulary: list[str] = []
        self.term_numbers: dict[str, int] = {}
        self.common = array("B")  # 1 for a term of COMMON_WORDS

    def __len__(self) -> int:
        return len(self.kinds)

    def term(self, text: str) -> int:
        number = self.term_numbers.get(text)
        if number is None:
            number = self.term_numbers[text] = len(self.vocabulary)
            self.vocabulary.append(text)
            self.common.append(text in COMMON_WORDS)
        return number

    def number(self, morpheme: Any, word_id: int) -> int:
        """The number of a morpheme's entry and surface (numbered when new)."""
        key = (word_id, morpheme.surface())
        number = self.numbers.get(key)
        if number is None:
            number = self._add(morpheme, key)
            if self.kinds[number] == WORD and word_id >> 28 != _UNKNOWN_WORDS:
                self.words_by_id[word_id] = number
        return number

    def _add(self, morpheme: Any, key: tuple[int, str]) -> int:
        """The number of a morpheme's entry, met for the first time."""
        kind, form, parts = dictionary_entry(morpheme, key)
        number = self.numbers[key] = len(self.kinds)
        self.kinds.append(kind)
        self.words.append(self.term(form) if kind == WORD else -1)
        self.part_starts.append(len(self.part_terms))
        self.part_counts.append(len(parts) if kind == WORD else 0)
        if kind == WORD:
            for part_form, reading, _, _ in parts:
                self.part_terms.append(self.term(part_form))
                self.part_readings.append(self.term(reading))
        return number


# The dictionary number, in a word id's top bits, of Sudachi's unknown words.
_UNKNOWN_WORDS = 0xF
_table = _EntryTable()


def _current_table() -> _EntryTable:
    global _table
    if len(_table) >= _ENTRIES_LIMIT:
        _table = _EntryTable()
    return _table


class Tokens(NamedTuple):
    """One kind of term of many texts: each occurrence's term (an index into `names`), text
    number and position, in order of text, then position."""

    names: list[str]
    terms: numpy.ndarray
    texts: numpy.ndarray
    positions: numpy.ndarray


class Expanded(NamedTuple):
    """The terms of many texts by kind (search.text.analysis: words, subwords, readings, and the
    pairs of words and of subwords)."""

    words: Tokens
    subwords: Tokens
    readings: Tokens
    word_pairs: Tokens
    subword_pairs: Tokens


class BulkAnalysis:
    """Texts analyzed for the index: each added once (`add`), the terms of all of them made at
    once (`expand`)."""

    def __init__(self) -> None:
        self.table = _current_table()
        self.numbers: dict[str, int] = {}
        self.entries = array("i")  # every morpheme's entry number, text after text
        self.ends = array("I")  # every morpheme's end offset in its text
        self.starts = array("I")  # where each text's morphemes start in `entries`
        self.counts = array("I")  # each text's number of morphemes

    def __len__(self) -> int:
        return len(self.counts)

    def add(self, text: str) -> int:
        """The number of `text` among the texts analyzed here (analyzed when new)."""
        number = self.numbers.get(text)
        if number is None:
            before = len(self.entries)
            self._map(text)
            number = self.numbers[text] = len(self.counts)
            self.starts.append(before)
            self.counts.append(len(self.entries) - before)
        return number

    def morphemes(self, number: int) -> int:
        """How many morphemes text `number` has."""
        return self.counts[number]

    def _map(self, text: str) -> None:
        """Append the entry number of each of the text's morphemes."""
        table = self.table
        get = table.words_by_id.get
        append = self.entries.append
        append_end = self.ends.append
        for offset, piece in chunks(text):
            for morpheme in tokenize(piece):
                word_id = morpheme.word_id()
                number = get(word_id)
                append(table.number(morpheme, word_id) if number is None else number)
                append_end(offset + morpheme.end())

    def words_of(self, number: int) -> list[tuple[int, int, int]]:
        """Text `number`'s words (the words analysis.analyze makes): each one's start and end
        in the text and its entry number. A morpheme starts where the one before it ends."""
        kinds = self.table.kinds
        entries, ends = self.entries, self.ends
        first = self.starts[number]
        start = 0
        words = []
        for at in range(first, first + self.counts[number]):
            end = ends[at]
            entry = entries[at]
            if kinds[entry] == WORD:
                words.append((start, end, entry))
            start = end
        return words

    def reading(self, entry: int) -> str:
        """The reading of a word's entry: its parts' readings run together."""
        table = self.table
        start = table.part_starts[entry]
        parts = table.part_readings[start : start + table.part_counts[entry]]
        return "".join(table.vocabulary[reading] for reading in parts)

    def expand(self) -> Expanded:
        """The terms of every text added, with their positions (analysis.analyze's)."""
        import numpy

        table = self.table
        entries = numpy.frombuffer(self.entries, numpy.int32)
        counts = numpy.frombuffer(self.counts, numpy.uint32).astype(numpy.int64)
        texts = numpy.repeat(numpy.arange(len(counts), dtype=numpy.int32), counts)
        kinds = numpy.frombuffer(table.kinds, numpy.uint8)[entries]
        part_counts = numpy.frombuffer(table.part_counts, numpy.uint32)[entries]
        # A word moves the word position on by one and the part position by its parts; a gap
        # (punctuation) moves both on by one; anything else (whitespace, joiners) neither.
        word_steps = (kinds != NOTHING).astype(numpy.int64)
        part_steps = numpy.where(kinds == GAP, 1, part_counts).astype(numpy.int64)
        word_at = _positions(word_steps, counts)
        part_at = _positions(part_steps, counts)
        is_word = kinds == WORD
        del kinds
        word_entries = entries[is_word]
        word_texts = texts[is_word]
        vocabulary = table.vocabulary
        common = numpy.frombuffer(table.common, numpy.uint8).astype(bool)
        words = Tokens(
            vocabulary,
            numpy.frombuffer(table.words, numpy.int32)[word_entries],
            word_texts,
            word_at[is_word].astype(numpy.uint32),
        )
        parts = part_counts[is_word].astype(numpy.int64)
        first_parts = numpy.frombuffer(table.part_starts, numpy.uint32)[word_entries]
        of_word = numpy.repeat(numpy.arange(len(parts)), parts)
        within = numpy.arange(len(of_word)) - numpy.repeat(numpy.cumsum(parts) - parts, parts)
        part_numbers = first_parts[of_word] + within
        part_texts = word_texts[of_word]
        part_positions = (part_at[is_word][of_word] + within).astype(numpy.uint32)
        subwords = Tokens(
            vocabulary,
            numpy.frombuffer(table.part_terms, numpy.int32)[part_numbers],
            part_texts,
            part_positions,
        )
        readings = Tokens(
            vocabulary,
            numpy.frombuffer(table.part_readings, numpy.int32)[part_numbers],
            part_texts,
            part_positions,
        )
        return Expanded(
            words,
            subwords,
            readings,
            _pairs(words, common),
            _pairs(subwords, common),
        )


def _positions(steps: numpy.ndarray, counts: numpy.ndarray) -> numpy.ndarray:
    """Each morpheme's position in its text: the steps of the morphemes before it there."""
    import numpy

    before = numpy.cumsum(steps) - steps
    starts = numpy.cumsum(counts) - counts
    text_base = numpy.concatenate(([0], numpy.cumsum(steps)))[starts]
    return before - numpy.repeat(text_base, counts)


def _pairs(tokens: Tokens, common: numpy.ndarray) -> Tokens:
    """analysis.pairs of every text: each common term joined to the next term of its text where
    that is common too and stands right after it."""
    import numpy

    terms, texts, positions = tokens.terms, tokens.texts, tokens.positions
    paired = (
        (texts[1:] == texts[:-1])
        & (positions[1:] == positions[:-1] + 1)
        & common[terms[:-1]]
        & common[terms[1:]]
    )
    first = numpy.flatnonzero(paired)
    codes = terms[first].astype(numpy.int64) << 32 | terms[first + 1].astype(numpy.int64)
    distinct, numbers = numpy.unique(codes, return_inverse=True)
    vocabulary = tokens.names
    names = [
        pair(vocabulary[code >> 32], vocabulary[code & 0xFFFFFFFF]) for code in distinct.tolist()
    ]
    return Tokens(names, numbers.astype(numpy.int32).reshape(-1), texts[first], positions[first])
