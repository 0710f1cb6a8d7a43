"""Analysis in bulk, for the index: many texts analyzed as `analysis.analyze` and `analysis.pairs`
would analyze each, their terms expanded for all of them at once.

The loop over Sudachi's morphemes maps each morpheme to the number of its dictionary entry (and
keeps where it ends, for the words of the texts as written: `written_words`), a word by its word
id alone (an `_EntryTable` of the process numbers every entry and surface once, with what it
contributes: its kind, its word's term, its parts' terms and readings, each term as a number of
the table's vocabulary, and its surface). `BulkAnalysis.expand` then makes the words, subwords,
readings, word pairs and subword pairs of every text, with their positions, from those numbers
with numpy. Character offsets are not made: the index does not store them.

A text is analyzed once however often it is added (`BulkAnalysis.add` gives the same number
again): the title of a document is analyzed once for all its paragraphs.
"""

from __future__ import annotations

import threading
from array import array
from typing import TYPE_CHECKING, Any, NamedTuple

from search.text.analysis import (
    GAP,
    NOTHING,
    UNKNOWN_WORDS,
    WORD,
    dictionary_entry,
    entry_key,
    pair,
    tokenized,
)
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
        # The others of the dictionary (punctuation, whitespace) by word id, then surface.
        self.others_by_id: dict[int, dict[str, int]] = {}
        self.kinds = array("B")
        self.words = array("i")
        self.part_starts = array("I")
        self.part_counts = array("I")
        self.part_terms = array("i")
        self.part_readings = array("i")
        self.vocabulary: list[str] = []
        self.term_numbers: dict[str, int] = {}
        self.common = array("B")  # 1 for a term of COMMON_WORDS
        # Each entry's surface (the one it was numbered by), also as code points one after the
        # other: where each entry's begin, and how many.
        self.surfaces: list[str] = []
        self.surface_chars = array("I")
        self.surface_starts = array("I")
        self.surface_lengths = array("I")
        self.readings: dict[int, str] = {}  # a word's entry: its reading, once asked for
        self._in_order: numpy.ndarray | None = None  # the vocabulary's numbers in text order

    def __len__(self) -> int:
        return len(self.kinds)

    def term(self, text: str) -> int:
        number = self.term_numbers.get(text)
        if number is None:
            number = self.term_numbers[text] = len(self.vocabulary)
            self.vocabulary.append(text)
            self.common.append(text in COMMON_WORDS)
        return number

    def ranks(self) -> numpy.ndarray:
        """Each term of the vocabulary's rank in text order (uint32): the terms numbered since
        the last call sorted and merged into the order of those before them."""
        import numpy

        vocabulary = self.vocabulary
        before = [] if self._in_order is None else self._in_order.tolist()
        new = sorted(range(len(before), len(vocabulary)), key=vocabulary.__getitem__)
        # Two sorted runs: sorting them run together merges them.
        in_order = numpy.array(sorted(before + new, key=vocabulary.__getitem__), numpy.uint32)
        self._in_order = in_order
        ranks = numpy.empty(len(vocabulary), numpy.uint32)
        ranks[in_order] = numpy.arange(len(vocabulary), dtype=numpy.uint32)
        return ranks

    def number(self, morpheme: Any, word_id: int) -> int:
        """The number of a morpheme's entry and surface (numbered when new)."""
        key = entry_key(morpheme)
        number = self.numbers.get(key)
        if number is None:
            number = self._add(morpheme, key)
            if word_id >> 28 != UNKNOWN_WORDS:
                if self.kinds[number] == WORD:
                    self.words_by_id[word_id] = number
                else:
                    self.others_by_id.setdefault(word_id, {})[key[1]] = number
        return number

    def _add(self, morpheme: Any, key: tuple[int, str]) -> int:
        """The number of a morpheme's entry, met for the first time."""
        kind, form, parts = dictionary_entry(morpheme, key)
        number = self.numbers[key] = len(self.kinds)
        self.kinds.append(kind)
        self.words.append(self.term(form) if kind == WORD else -1)
        self.part_starts.append(len(self.part_terms))
        self.part_counts.append(len(parts) if kind == WORD else 0)
        surface = morpheme.surface()
        self.surfaces.append(surface)
        self.surface_starts.append(len(self.surface_chars))
        self.surface_lengths.append(len(surface))
        self.surface_chars.frombytes(surface.encode("utf-32-le", "surrogatepass"))
        if kind == WORD:
            for part_form, reading, _, _ in parts:
                self.part_terms.append(self.term(part_form))
                self.part_readings.append(self.term(reading))
        return number


class _Tables(threading.local):
    """A table of entries per thread, as a tokenizer (analysis._Sudachi): two builds in two
    threads would otherwise fill one table's arrays at once."""

    def __init__(self) -> None:
        self.table = _EntryTable()


_tables = _Tables()


def _current_table() -> _EntryTable:
    if len(_tables.table) >= _ENTRIES_LIMIT:
        _tables.table = _EntryTable()
    return _tables.table


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


class WrittenWords(NamedTuple):
    """The words of some texts as written (the words analysis.analyze makes, each as the text
    has it), in order of text number, then position: each occurrence's text number, where it
    starts and ends in `joined` (the texts, in order of their numbers, each followed by a
    newline), its entry number and its surface (an index into `surfaces`)."""

    surfaces: list[str]
    joined: str
    texts: numpy.ndarray
    starts: numpy.ndarray
    ends: numpy.ndarray
    entries: numpy.ndarray
    surface_numbers: numpy.ndarray


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

    def vocabulary_ranks(self) -> numpy.ndarray:
        """Each term of the vocabulary of the terms `expand` makes (of words, subwords and
        readings: one list) ranked in text order (uint32)."""
        return self.table.ranks()

    def morphemes(self, number: int) -> int:
        """How many morphemes text `number` has."""
        return self.counts[number]

    def _map(self, text: str) -> None:
        """Append the entry number of each of the text's morphemes."""
        table = self.table
        get = table.words_by_id.get
        get_other = table.others_by_id.get
        append = self.entries.append
        append_end = self.ends.append
        for offset, morphemes in tokenized(text):
            first = len(self.ends)
            # The smallest loop: most morphemes are words met before, numbered by word id, and
            # most others punctuation met before, by word id and surface.
            for morpheme in morphemes:
                number = get(morpheme.word_id())
                if number is None:
                    by_surface = get_other(morpheme.word_id())
                    if by_surface is not None:
                        number = by_surface.get(morpheme.surface())
                    if number is None:
                        number = table.number(morpheme, morpheme.word_id())
                append(number)
                append_end(morpheme.end())
            if offset:  # a piece of a long text: its ends from the text's start
                self.ends[first:] = array("I", [end + offset for end in self.ends[first:]])

    def written_words(self, numbers: numpy.ndarray) -> WrittenWords:
        """The words as written of the texts `numbers` (distinct, ascending). A word's surface
        is its entry's where the text has that there (nearly always: compared with numpy), else
        (another surface of the same dictionary word: ﾃｽﾄ for テスト) cut from the text."""
        import numpy

        table = self.table
        texts = list(self.numbers)  # in order of their numbers
        chosen = [texts[number] for number in numbers.tolist()]
        joined = "".join(text + "\n" for text in chosen)
        chars = numpy.frombuffer(joined.encode("utf-32-le", "surrogatepass"), numpy.uint32)
        widths = numpy.fromiter(map(len, chosen), numpy.int64, len(chosen)) + 1
        bases = numpy.zeros(len(self.counts), numpy.int64)
        bases[numbers] = numpy.cumsum(widths) - widths
        # Each morpheme starts where the one before it in its text ends.
        counts = numpy.frombuffer(self.counts, numpy.uint32).astype(numpy.int64)
        ends = numpy.frombuffer(self.ends, numpy.uint32).astype(numpy.int64)
        starts = numpy.zeros_like(ends)
        starts[1:] = ends[:-1]
        starts[(numpy.cumsum(counts) - counts)[counts > 0]] = 0
        of_text = numpy.repeat(numpy.arange(len(counts)), counts)
        selected = numpy.zeros(len(counts), bool)
        selected[numbers] = True
        entries = numpy.frombuffer(self.entries, numpy.int32)
        kept = (numpy.frombuffer(table.kinds, numpy.uint8)[entries] == WORD) & selected[of_text]
        kept &= ends > starts  # not the parts Sudachi adds to a character (⅝ is 5, ⁄ and 8)
        of_text, entries = of_text[kept], entries[kept].astype(numpy.int64)
        starts = starts[kept] + bases[of_text]
        ends = ends[kept] + bases[of_text]
        same = _as_entry_surface(table, chars, starts, ends, entries)
        known = numpy.flatnonzero(numpy.bincount(entries[same], minlength=len(table)))
        known_surfaces = list(map(table.surfaces.__getitem__, known.tolist()))
        # Each distinct surface numbered as first met (entries may share one).
        by_text = {surface: at for at, surface in enumerate(dict.fromkeys(known_surfaces))}
        entry_surface = numpy.zeros(len(table), numpy.int64)
        entry_surface[known] = list(map(by_text.__getitem__, known_surfaces))
        surface_numbers = entry_surface[entries]
        other = numpy.flatnonzero(~same)
        surface_numbers[other] = [
            by_text.setdefault(joined[start:end], len(by_text))
            for start, end in zip(starts[other].tolist(), ends[other].tolist())
        ]
        surfaces = list(by_text)
        return WrittenWords(surfaces, joined, of_text, starts, ends, entries, surface_numbers)

    def reading(self, entry: int) -> str:
        """The reading of a word's entry: its parts' readings run together."""
        table = self.table
        reading = table.readings.get(entry)
        if reading is None:
            start = table.part_starts[entry]
            parts = table.part_readings[start : start + table.part_counts[entry]]
            reading = table.readings[entry] = "".join(map(table.vocabulary.__getitem__, parts))
        return reading

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


def _as_entry_surface(
    table: _EntryTable,
    chars: numpy.ndarray,
    starts: numpy.ndarray,
    ends: numpy.ndarray,
    entries: numpy.ndarray,
) -> numpy.ndarray:
    """Whether each word (its `starts` and `ends` in `chars`, its entry) is written as the
    surface its entry was numbered by."""
    import numpy

    lengths = ends - starts
    same = lengths == numpy.frombuffer(table.surface_lengths, numpy.uint32)[entries]
    compared = numpy.flatnonzero(same)
    lengths = lengths[compared]
    total = int(lengths.sum())
    if total:
        # Each character of the words compared, in `chars` and in the entries' surfaces.
        before = numpy.cumsum(lengths) - lengths
        at = numpy.arange(total)
        surface_starts = numpy.frombuffer(table.surface_starts, numpy.uint32)[entries[compared]]
        written = chars[numpy.repeat(starts[compared] - before, lengths) + at]
        surface_chars = numpy.frombuffer(table.surface_chars, numpy.uint32)
        expected = surface_chars[numpy.repeat(surface_starts - before, lengths) + at]
        differing = numpy.flatnonzero(written != expected)
        same[compared[numpy.searchsorted(before, differing, "right") - 1]] = False
    return same


def stable_order(keys: numpy.ndarray, bound: int) -> numpy.ndarray:
    """The indices that sort `keys` (a numpy array of integers below `bound`) stably: below
    2**32, by their low and high 16 bits in turn, each a radix sort of numpy's."""
    import numpy

    if bound > 1 << 32:
        return numpy.argsort(keys, kind="stable")
    if bound <= 1 << 16:
        return numpy.argsort(keys.astype(numpy.uint16), kind="stable")
    order = numpy.argsort((keys & 0xFFFF).astype(numpy.uint16), kind="stable")
    high = (keys[order] >> 16).astype(numpy.uint16)
    return order[numpy.argsort(high, kind="stable")]


def _positions(steps: numpy.ndarray, counts: numpy.ndarray) -> numpy.ndarray:
    """Each morpheme's position in its text: the steps of the morphemes before it there."""
    import numpy

    before = numpy.cumsum(steps) - steps
    starts = numpy.cumsum(counts) - counts
    text_base = numpy.concatenate(([0], numpy.cumsum(steps)))[starts]
    return before - numpy.repeat(text_base, counts)


def _pairs(tokens: Tokens, common: numpy.ndarray) -> Tokens:
    """analysis.pairs of every text: each common term joined to the next term of its text where
    that is common too and stands right after it. A pair is numbered by its two terms' places
    among the common terms of the vocabulary (a few hundred at most), which needs no sort: the
    numbers of the pairs found, in that order, are the pair terms'."""
    import numpy

    terms, texts, positions = tokens.terms, tokens.texts, tokens.positions
    paired = (
        (texts[1:] == texts[:-1])
        & (positions[1:] == positions[:-1] + 1)
        & common[terms[:-1]]
        & common[terms[1:]]
    )
    first = numpy.flatnonzero(paired)
    common_terms = numpy.flatnonzero(common)
    span = max(len(common_terms), 1)
    place = numpy.zeros(len(common), numpy.int64)
    place[common_terms] = numpy.arange(len(common_terms))
    codes = place[terms[first]] * span + place[terms[first + 1]]
    found = numpy.flatnonzero(numpy.bincount(codes, minlength=span * span))
    number = numpy.zeros(span * span, numpy.int32)
    number[found] = numpy.arange(len(found), dtype=numpy.int32)
    vocabulary = tokens.names
    names = [
        pair(vocabulary[first_term], vocabulary[second_term])
        for first_term, second_term in zip(
            common_terms[found // span].tolist(), common_terms[found % span].tolist()
        )
    ]
    return Tokens(names, number[codes], texts[first], positions[first])
