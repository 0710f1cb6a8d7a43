"""Analysis: Japanese text turned into search terms by SudachiPy; the text folded for substrings.

Sudachi reads the original text, so every term keeps character offsets into it (for highlighting).
A term is Sudachi's normalized form, NFKC-normalized and case-folded: ＡＩ, ai and AI meet, and so do
コンピュータ and コンピューター, 三 and 3, 講じた and 講ずる. A Latin word Sudachi knows is indexed by its
katakana reading and a Roman numeral as digits, so Pillar-II, Pillar2 and ピラー2 meet. Punctuation and
whitespace make no terms.

A text is analyzed into three lists of terms (`analyze`):
- words: Sudachi's split mode C, whole words (統合 / 作戦 / 司令部);
- subwords: the mode-A parts of each word (統合 / 作戦 / 司令 / 部), so that a part finds the whole;
- readings: the katakana readings of the parts (トウゴウ / サクセン / シレイ / ブ), for kana queries.
Besides: the text folded (`fold`) and cut into character bigrams (`bigrams`, `grams`), so that any
substring finds its paragraphs; and `pairs`, each common word joined to the next one where that
is common too, so that a phrase of frequent words (一つの, あの人) is looked up as one or two short
lists of pairs, not the long lists of の and 人. Which index field holds which: search.index.schema.
"""

from __future__ import annotations

import functools
import itertools
import re
import threading
import unicodedata
from collections.abc import Iterator
from typing import Any, NamedTuple

from search.text.common_words import COMMON_WORDS
from search.text.sentences import SENTENCE_OR_LINE_END

# SudachiPy refuses inputs over 49,149 UTF-8 bytes; a character takes at most 4 bytes.
MAX_CHUNK_CHARS = 49_149 // 4
_SKIPPED_POS = frozenset({"補助記号", "空白"})
# Words that carry no topic of their own; a question is searched by the others.
_FUNCTION_POS = frozenset({"助詞", "助動詞", "代名詞", "連体詞", "接続詞", "感動詞"})
# Words a question is made of rather than about, and Sudachi's readings of compound particles
# (において → おく, による → よる); normalized forms.
_QUESTION_NOISE = frozenset(
    {
        "おく",
        "よる",
        "こと",
        "物",
        "よう",
        "為",
        "時",
        "所",
        "言う",
        "何",
        "何月",
        "何日",
        "何年",
        "つ",
        "方",
        "如何",
        "何故",
    }
)


_PAIR_JOINER = "\x1f"  # never part of a term: Sudachi makes no term of a control character
# Marks that join the words around them (Pillar-II, PAC-3, ジョー・バイデン) rather than cut a phrase.
_JOINERS = frozenset("-‐‑・･_'’")
_ROMAN_NUMERALS = {
    "ii": "2",
    "iii": "3",
    "iv": "4",
    "vi": "6",
    "vii": "7",
    "viii": "8",
    "ix": "9",
    "xi": "11",
    "xii": "12",
}
_KATAKANA = re.compile(r"[ァ-ヺー]+")
# Characters that combine with the one before them, so that NFKC must see both together: combining
# marks, Hangul jamo, the half-width voiced marks (ﾃﾞ is デ) and variation selectors (葛󠄀).
_COMBINING_BMP = (
    "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\u3099\u309a\u1100-\u11ff"
    "\uff9e\uff9f\ufe00-\ufe0f"
)
_COMBINING = re.compile(f"[{_COMBINING_BMP}\U000e0100-\U000e01ef]")
# What search leaves out of a text and a query: Unicode's format characters (its category Cf, as of
# Unicode 15: zero-width space and joiners, soft hyphen, direction marks, BOM), which text from a
# web page or a PDF brings along (牛\u200b丼 is 牛丼), and the variation selectors (葛󠄀城市 is
# 葛城市). See `without_ignored`.
_IGNORED_BMP = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\ufe00-\ufe0f"
)
_IGNORED_ASTRAL = (
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f\U000e0100-\U000e01ef"
)
_LEFT_OUT = re.compile(f"[{_IGNORED_BMP}{_IGNORED_ASTRAL}]")
# A text `fold` cannot take a character at a time, or one beyond the BMP (rare): one class of
# few ranges above U+FFFF, searched several times faster than the two sets' every range.
_NOT_ONE_BY_ONE = re.compile(f"[{_COMBINING_BMP}{_IGNORED_BMP}\U00010000-\U0010ffff]")


class Term(NamedTuple):
    text: str
    start: int
    end: int
    position: int


class Analysis(NamedTuple):
    words: list[Term]
    subwords: list[Term]
    readings: list[Term]


# Kangxi and CJK radicals (⼀ for 一, from PDF fonts) and vertical presentation forms (︑︒︵),
# which Sudachi reads as symbols: each is one ordinary character under NFKC, so that replacing it
# before Sudachi keeps every offset into the original text.
_PRESENTATION_FORM = re.compile("[\u2e80-\u2fdf\ufe10-\ufe19\ufe30-\ufe4f]")
_ORDINARY_FORMS = {
    code: folded
    for code in [*range(0x2E80, 0x2FE0), *range(0xFE10, 0xFE1A), *range(0xFE30, 0xFE50)]
    if len(folded := unicodedata.normalize("NFKC", chr(code))) == 1 and folded != chr(code)
}


class _Sudachi(threading.local):
    """One Sudachi tokenizer per thread (they are not thread-safe), created on first use."""

    def __init__(self) -> None:
        self.tokenizer: Any = None  # a sudachipy.Tokenizer, made on first use
        self.skipped_pos_ids: dict[int, bool] = {}
        self.roles: dict[int, str] = {}

    def tokenize(self, text: str):
        if self.tokenizer is None:
            from sudachipy import SplitMode

            self.tokenizer = _dictionary().tokenizer(mode=SplitMode.C)
        if _PRESENTATION_FORM.search(text):
            text = text.translate(_ORDINARY_FORMS)
        return self.tokenizer.tokenize(text)

    def is_skipped(self, pos_id: int) -> bool:
        skipped = self.skipped_pos_ids.get(pos_id)
        if skipped is None:
            skipped = _dictionary().pos_of(pos_id)[0] in _SKIPPED_POS
            self.skipped_pos_ids[pos_id] = skipped
        return skipped

    def role(self, pos_id: int) -> str:
        """ "function" (particles, auxiliaries…), "number", "counter" or "content"."""
        role = self.roles.get(pos_id)
        if role is None:
            role = self.roles[pos_id] = self._role(pos_id)
        return role

    def _role(self, pos_id: int) -> str:
        pos = _dictionary().pos_of(pos_id)
        if pos[0] in _FUNCTION_POS or pos[1] == "非自立可能":
            return "function"
        if pos[1] == "数詞":
            return "number"
        if "助数詞" in pos[2]:  # 助数詞可能 (年, 月, 回), or a suffix 助数詞 (日 in 14日)
            return "counter"
        return "content"


@functools.cache
def analyzer_versions() -> dict[str, str]:
    """The versions of what cuts text into words, SudachiPy and its dictionary package: an index
    matches queries only as cut by the versions that cut its text (a newer dictionary may cut
    a word apart, or read it otherwise)."""
    import sudachipy

    return {
        "sudachipy": getattr(sudachipy, "__version__", None) or _package_version("sudachipy"),
        "sudachidict-core": _package_version("sudachidict_core"),
    }


def _package_version(module_name: str) -> str:
    """The installed version of the package of `module_name`: from the name of its
    `.dist-info` folder beside it (a stat or two), else from its metadata (~40 ms: importlib.metadata
    reads every installed package's)."""
    import glob
    import importlib
    import os

    folder = os.path.dirname(os.path.dirname(importlib.import_module(module_name).__file__ or ""))
    found = glob.glob(os.path.join(glob.escape(folder), f"{module_name}-*.dist-info"))
    if len(found) == 1:
        return os.path.basename(found[0])[len(module_name) + 1 : -len(".dist-info")]
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module_name)
    except PackageNotFoundError:
        return "unknown"


_dictionary_instance = None
_dictionary_lock = threading.Lock()


def _dictionary():
    global _dictionary_instance
    with _dictionary_lock:
        if _dictionary_instance is None:
            from sudachipy import Dictionary

            _dictionary_instance = Dictionary(dict="core")
    return _dictionary_instance


_sudachi = _Sudachi()
_term_forms: dict[str, str] = {}


def term_form(normalized: str) -> str:
    """The indexed form of a Sudachi normalized form: NFKC, then case folding."""
    form = _term_forms.get(normalized)
    if form is None:
        form = unicodedata.normalize("NFKC", normalized).casefold()
        if len(_term_forms) < 200_000:
            _term_forms[normalized] = form
    return form


def chunks(text: str) -> Iterator[tuple[int, str]]:
    """Split `text` into pieces Sudachi accepts, preferably at sentence ends; yields (offset, piece)."""
    if len(text) <= MAX_CHUNK_CHARS:
        yield 0, text
        return
    start = 0
    while len(text) - start > MAX_CHUNK_CHARS:
        limit = start + MAX_CHUNK_CHARS
        cut = max(
            (m.end() for m in SENTENCE_OR_LINE_END.finditer(text, start, limit)), default=limit
        )
        yield start, text[start:cut]
        start = cut
    yield start, text[start:]


def analyze(text: str, content_only: bool = False) -> Analysis:
    """Words (mode C), subwords (mode A) and their readings, with offsets into `text`.

    Positions count terms, and punctuation leaves a gap of one, so that a phrase never matches
    across it (ピラー2 does not match ピラー、2); whitespace and joiners (-・) leave none.
    `content_only` leaves out function words (particles, auxiliaries, pronouns…), for questions.
    """
    analysis = Analysis([], [], [])
    words, subwords, readings = analysis
    word_at = part_at = 0
    entries = _entries
    new = tuple.__new__  # Term(...) without NamedTuple's slower Python-level __new__
    for offset, morphemes in tokenized(text):
        for morpheme in morphemes:
            key = entry_key(morpheme)
            entry = entries.get(key)
            if entry is None:
                entry = _entry(morpheme, key)
            kind, form, parts = entry
            if kind != WORD:
                if kind == GAP:
                    word_at += 1
                    part_at += 1
                continue
            if content_only and type(parts) is _FunctionParts:
                continue
            start = offset + morpheme.begin()
            words.append(new(Term, (form, start, offset + morpheme.end(), word_at)))
            word_at += 1
            for part_form, reading, begin, end in parts:
                subwords.append(new(Term, (part_form, start + begin, start + end, part_at)))
                readings.append(new(Term, (reading, start + begin, start + end, part_at)))
                part_at += 1
    return analysis


# What a dictionary entry (and surface) contributes, computed once: Sudachi calls cost more than
# a dict lookup, and the words of a text repeat. Its kind: a word, a gap (punctuation), nothing.
WORD, GAP, NOTHING = 0, 1, 2
_entries: dict[tuple[int, str], tuple] = {}
_ENTRIES_LIMIT = 500_000
# The dictionary number, in a word id's top bits, of Sudachi's unknown words. They share ids:
# every joined numeral has the same one, and its reading depends on what follows it (九 キュウ,
# but ココノ in 九つ), so their entries are told apart by their readings too.
UNKNOWN_WORDS = 0xF


def entry_key(morpheme) -> tuple[int, str]:
    """What tells a morpheme's entry apart: its word id and surface (an unknown word's surface
    followed by NUL and its reading)."""
    word_id = morpheme.word_id()
    if word_id >> 28 == UNKNOWN_WORDS:
        return (word_id, f"{morpheme.surface()}\0{morpheme.reading_form()}")
    return (word_id, morpheme.surface())


def counters_after_numbers(text: str) -> frozenset[int]:
    """Where in `text` a counter (年, 月, 日, 回, 個…) follows a number, as in 1945年8月14日: the
    start offsets of those counters."""
    starts, after_number = set(), False
    for offset, morphemes in tokenized(text):
        for morpheme in morphemes:
            key = entry_key(morpheme)
            kind, _, parts = _entries.get(key) or _entry(morpheme, key)
            if kind != WORD:
                after_number = False
                continue
            if type(parts) is _CounterParts and after_number:
                starts.add(offset + morpheme.begin())
            after_number = type(parts) is _NumberParts
    return frozenset(starts)


def written_words(text: str) -> list[str]:
    """The words `analyze` makes of `text`, each as the text has it (without working out what
    a word contributes where it is not known yet), but those it makes empty, where Sudachi
    reads a character as more than one word (⅝ is 5, ⁄ and 8)."""
    words = []
    for offset, morphemes in tokenized(text):
        for morpheme in morphemes:
            key = entry_key(morpheme)
            entry = _entries.get(key)
            if entry[0] == WORD if entry is not None else _is_word(morpheme, key):
                word = text[offset + morpheme.begin() : offset + morpheme.end()]
                if word:
                    words.append(word)
    return words


# Whether the entry of a (word id, surface) not in _entries is a word's, once worked out.
_word_entries: dict[tuple[int, str], bool] = {}


def _is_word(morpheme, key: tuple[int, str]) -> bool:
    """Whether the morpheme's entry is a word's (`_entry` of it would say WORD)."""
    found = _word_entries.get(key)
    if found is None:
        if len(_word_entries) >= _ENTRIES_LIMIT:
            _word_entries.clear()
        found = _word_entries[key] = not _sudachi.is_skipped(morpheme.part_of_speech_id()) and bool(
            _term_text(morpheme)
        )
    return found


def tokenized(text: str) -> list[tuple[int, Any]]:
    """Sudachi's morphemes of `text` in split mode C, a piece at a time: (the piece's offset in
    `text`, its morphemes). A text longer than Sudachi takes is cut at sentence ends (`chunks`),
    and a piece again where Sudachi's own normalization makes it too long (ﷺ is 18 characters
    to it, ㍿ four)."""
    if len(text) <= MAX_CHUNK_CHARS:
        try:
            return [(0, _sudachi.tokenize(text))]
        except Exception as error:
            if not _too_long(error):
                raise
    return [found for offset, piece in chunks(text) for found in _tokenized_piece(offset, piece)]


def _tokenized_piece(offset: int, piece: str) -> list[tuple[int, Any]]:
    try:
        return [(offset, _sudachi.tokenize(piece))]
    except Exception as error:
        if not _too_long(error) or len(piece) < 2:
            raise
    middle = len(piece) // 2
    cut = max((m.end() for m in SENTENCE_OR_LINE_END.finditer(piece, 0, middle)), default=middle)
    return _tokenized_piece(offset, piece[:cut]) + _tokenized_piece(offset + cut, piece[cut:])


def _too_long(error: Exception) -> bool:
    """Whether `error` is Sudachi refusing an input as too long (sudachipy.errors.SudachiError,
    not imported: a search that never meets it should not pay for the import)."""
    return "too long" in str(error)


def dictionary_entry(morpheme, key: tuple[int, str]) -> tuple:
    """What the morpheme's dictionary entry contributes, `key` its (word id, surface): (kind,
    indexed form, parts as (form, reading, begin, end) relative to the morpheme)."""
    return _entries.get(key) or _entry(morpheme, key)


@functools.cache
def _split_mode_a() -> Any:
    """Sudachi's split mode A (imported once, not at each new entry)."""
    from sudachipy import SplitMode

    return SplitMode.A


def _entry(morpheme, key) -> tuple:
    """(kind, indexed form, parts as (form, reading, begin, end) relative to the morpheme)."""
    if _sudachi.is_skipped(morpheme.part_of_speech_id()):
        surface = morpheme.surface()
        entry: tuple[int, str, tuple] = (
            NOTHING if surface.isspace() or surface in _JOINERS else GAP,
            "",
            (),
        )
    else:
        form = _term_text(morpheme)
        pieces = morpheme.split(_split_mode_a())
        if len(pieces) <= 1:
            pieces = [morpheme]
        base = morpheme.begin()
        parts = tuple(
            (
                form if piece is morpheme else _term_text(piece),
                piece.reading_form(),
                piece.begin() - base,
                piece.end() - base,
            )
            for piece in pieces
        )
        role = _sudachi.role(morpheme.part_of_speech_id())
        if role == "function" or morpheme.normalized_form() in _QUESTION_NOISE:
            parts = _FunctionParts(parts)
        elif role == "number":
            parts = _NumberParts(parts)
        elif role == "counter":
            parts = _CounterParts(parts)
        entry = (WORD, form, parts) if form else (NOTHING, "", ())
    if len(_entries) >= _ENTRIES_LIMIT:
        _entries.clear()
    _entries[key] = entry
    return entry


class _FunctionParts(tuple):
    """The parts of a function word (particle, auxiliary…), which questions leave out."""


class _NumberParts(tuple):
    """The parts of a number (1945, 三)."""


class _CounterParts(tuple):
    """The parts of a counter (年, 月, 日, 回, 個: Sudachi's 助数詞)."""


def _term_text(morpheme) -> str:
    """The indexed form of a morpheme: folded normalized form, Latin words by their reading."""
    form = term_form(morpheme.normalized_form())
    if form.isascii() and form.isalpha():
        if form in _ROMAN_NUMERALS:
            return _ROMAN_NUMERALS[form]
        reading = morpheme.reading_form()
        if _KATAKANA.fullmatch(reading) and not morpheme.is_oov():
            return reading
    return form if not form.isspace() else ""


class _Folding(dict):
    """NFKC + case folding of single characters, for str.translate; filled as characters come."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        folded = "" if _LEFT_OUT.match(char) else unicodedata.normalize("NFKC", char).casefold()
        self[code] = folded
        return folded


_folding = _Folding()


def has_combining(text: str) -> bool:
    """Whether `text` has a character that `fold` must normalize with the one before it."""
    return _COMBINING.search(text) is not None


def without_ignored(text: str) -> str:
    """`text` without the invisible characters search ignores (format characters, variation
    selectors), which would split a phrase (ピラー\u200b2)."""
    return text if text.isascii() else _LEFT_OUT.sub("", text)


def fold(text: str) -> str:
    """NFKC-normalized, case-folded `text` without the characters search ignores (format
    characters, variation selectors): what substring search compares."""
    if _NOT_ONE_BY_ONE.search(text):
        return _LEFT_OUT.sub("", unicodedata.normalize("NFKC", text).casefold())
    if unicodedata.is_normalized("NFKC", text):
        # Then every character is its own NFKC form (a compatibility character, or one whose
        # decomposition composes back otherwise, is not), and case folding goes a character
        # at a time: what the translation gives, several times faster (most paragraphs).
        return text.casefold()
    return text.translate(_folding)


def fold_with_offsets(text: str) -> tuple[str, list[int], list[int]]:
    """`fold(text)`, and for each of its characters the start and end offset in `text`."""
    if not _NOT_ONE_BY_ONE.search(text):
        pieces = list(map(_folding.__getitem__, map(ord, text)))
        if all(len(piece) == 1 for piece in pieces):  # nearly always: one character for one
            return "".join(pieces), list(range(len(text))), list(range(1, len(text) + 1))
    folded, starts, ends = [], [], []
    start = 0
    while start < len(text):
        end = start + 1
        while end < len(text) and _COMBINING.match(text, end):
            end += 1
        piece = _LEFT_OUT.sub("", unicodedata.normalize("NFKC", text[start:end]).casefold())
        folded.append(piece)
        starts += [start] * len(piece)
        ends += [end] * len(piece)
        start = end
    return "".join(folded), starts, ends


def bigrams(folded: str) -> list[str]:
    """The character bigrams of folded text, in order."""
    return [folded[i : i + 2] for i in range(len(folded) - 1)]


def grams(folded: str) -> list[str]:
    """Character bigrams of folded text, one per position: the bigrams, and the last character
    standing alone (so that a one-character query finds it at the end of a text too)."""
    return bigrams(folded) + [folded[-1]] if folded else []


def pair(first: str, second: str) -> str:
    """The term of a pair field for `first` followed by `second`."""
    return first + _PAIR_JOINER + second


def pairs(terms: list[Term]) -> list[Term]:
    """Each common term joined to the next one where that is common too and they stand side by
    side (no punctuation between), at the first one's position, spanning both."""
    new = tuple.__new__
    joiner = _PAIR_JOINER
    common = COMMON_WORDS
    return [
        new(Term, (first[0] + joiner + second[0], first[1], second[2], first[3]))
        for first, second in itertools.pairwise(terms)
        if second[3] == first[3] + 1 and first[0] in common and second[0] in common
    ]


def paired(terms: tuple[str, ...]) -> bool:
    """Whether a pair field holds every pair of neighbours of the run `terms`."""
    return len(terms) > 1 and all(term in COMMON_WORDS for term in terms)


def synonym_group_ids(word: str) -> list[int]:
    """Sudachi's synonym groups of the dictionary entries written `word`."""
    groups: list[int] = []
    for entry in _dictionary().lookup(word):
        groups += [g for g in entry.synonym_group_ids() if g not in groups]
    return groups


def to_katakana(text: str) -> str:
    """Hiragana turned into katakana; everything else unchanged."""
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in text)


DUPLICATE_KEY_CHARS = 16  # characters of a duplicate key: 96 bits in base64


def duplicate_key(text: str, folded: str | None = None) -> str:
    """A key shared by paragraphs whose folded text, whitespace aside, is the same (`folded`:
    `fold(text)`, when known)."""
    import base64
    import hashlib

    same = "".join((fold(text) if folded is None else folded).split())
    digest = hashlib.blake2b(same.encode("utf-8"), digest_size=DUPLICATE_KEY_CHARS * 3 // 4)
    return base64.urlsafe_b64encode(digest.digest()).decode("ascii")


def runs(terms: list[Term]) -> list[list[Term]]:
    """`terms` cut where punctuation left a gap in their positions."""
    groups: list[list[Term]] = []
    for term in terms:
        if groups and term.position == groups[-1][-1].position + 1:
            groups[-1].append(term)
        else:
            groups.append([term])
    return groups


class _RecentAnalyses(threading.local):
    def __init__(self) -> None:
        self.by_text: dict[str, Analysis] = {}


_recent = _RecentAnalyses()
_RECENT_LIMIT = 4


def analyze_cached(text: str) -> Analysis:
    """`analyze`, remembering the last few texts: the fields of a paragraph share one pass, and
    the paragraphs of a document share the analysis of its title."""
    recent = _recent.by_text
    analysis = recent.get(text)
    if analysis is None:
        if len(recent) >= _RECENT_LIMIT:
            recent.pop(next(iter(recent)))
        analysis = recent[text] = analyze(text)
    return analysis
