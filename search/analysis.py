"""Analysis: turn Japanese text into search terms with SudachiPy, and plug that into Whoosh.

Sudachi reads the original text, so every term keeps character offsets into it (for highlighting).
A term is Sudachi's normalized form, NFKC-normalized and case-folded: ＡＩ, ai and AI meet, and so do
コンピュータ and コンピューター, 三 and 3, 講じた and 講ずる. Punctuation and whitespace make no terms.

Each text is analyzed at two granularities, kept in two index fields:
- `words`: Sudachi's split mode C, whole words (統合 / 作戦 / 司令部);
- `subwords`: the mode-A parts of each word (統合 / 作戦 / 司令 / 部), so that a part finds the whole.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from typing import Iterator, NamedTuple

from whoosh.analysis import Token, Tokenizer

# SudachiPy refuses inputs over 49,149 UTF-8 bytes; a character takes at most 4 bytes.
MAX_CHUNK_CHARS = 49_149 // 4
_SKIPPED_POS = frozenset({"補助記号", "空白"})
_CHUNK_BREAK = re.compile(r"[。！？!?\n]+")


class Term(NamedTuple):
    text: str
    start: int
    end: int
    position: int


class Analysis(NamedTuple):
    words: list[Term]
    subwords: list[Term]


class _Sudachi(threading.local):
    """One Sudachi tokenizer per thread (they are not thread-safe), created on first use."""

    def __init__(self) -> None:
        self.tokenizer = None
        self.skipped_pos_ids: dict[int, bool] = {}

    def tokenize(self, text: str):
        if self.tokenizer is None:
            from sudachipy import SplitMode

            self.tokenizer = _dictionary().tokenizer(mode=SplitMode.C)
        return self.tokenizer.tokenize(text)

    def is_skipped(self, pos_id: int) -> bool:
        skipped = self.skipped_pos_ids.get(pos_id)
        if skipped is None:
            skipped = _dictionary().pos_of(pos_id)[0] in _SKIPPED_POS
            self.skipped_pos_ids[pos_id] = skipped
        return skipped


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
        cut = max((m.end() for m in _CHUNK_BREAK.finditer(text, start, limit)), default=limit)
        yield start, text[start:cut]
        start = cut
    yield start, text[start:]


def analyze(text: str) -> Analysis:
    """Words (mode C) and subwords (mode A) of `text`, with offsets into `text`.

    Positions count terms, and punctuation leaves a gap of one, so that a phrase never matches
    across it (ピラー2 does not match ピラー、2); whitespace leaves none.
    """
    from sudachipy import SplitMode

    words: list[Term] = []
    subwords: list[Term] = []
    sudachi = _sudachi
    word_at = part_at = 0
    for offset, piece in chunks(text):
        for morpheme in sudachi.tokenize(piece):
            if sudachi.is_skipped(morpheme.part_of_speech_id()):
                if not morpheme.surface().isspace():
                    word_at += 1
                    part_at += 1
                continue
            form = term_form(morpheme.normalized_form())
            if not form.strip():
                continue
            words.append(Term(form, offset + morpheme.begin(), offset + morpheme.end(), word_at))
            word_at += 1
            parts = morpheme.split(SplitMode.A)
            if len(parts) <= 1:
                subwords.append(Term(form, words[-1].start, words[-1].end, part_at))
                part_at += 1
                continue
            for part in parts:
                subwords.append(Term(term_form(part.normalized_form()), offset + part.begin(),
                                     offset + part.end(), part_at))
                part_at += 1
    return Analysis(words, subwords)


def runs(terms: list[Term]) -> list[list[Term]]:
    """`terms` cut where punctuation left a gap in their positions."""
    groups: list[list[Term]] = []
    for term in terms:
        if groups and term.position == groups[-1][-1].position + 1:
            groups[-1].append(term)
        else:
            groups.append([term])
    return groups


class _LastAnalysis(threading.local):
    text: str | None = None
    analysis: Analysis | None = None


_last = _LastAnalysis()


def analyze_cached(text: str) -> Analysis:
    """`analyze`, remembering the last text so that the words and subwords fields share one pass."""
    if _last.text is not text and _last.text != text:
        _last.analysis = analyze(text)
        _last.text = text
    return _last.analysis


class SudachiTokenizer(Tokenizer):
    """A Whoosh tokenizer yielding one granularity (`words` or `subwords`) of the analysis.

    It holds nothing but the granularity's name, so it pickles into Whoosh's schema; the Sudachi
    tokenizer itself lives per thread in this module and is created on first use.
    """

    def __init__(self, granularity: str = "words") -> None:
        if granularity not in Analysis._fields:
            raise ValueError(f"unknown granularity: {granularity}")
        self.granularity = granularity

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        terms = getattr(analyze_cached(value), self.granularity)
        for term in terms:
            token.text = term.text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = value[term.start:term.end]
            if positions:
                token.pos = start_pos + term.position
            if chars:
                token.startchar = start_char + term.start
                token.endchar = start_char + term.end
            yield token
