"""Analysis: normalized, case-folded terms with offsets into the original text, at two granularities."""

import pickle
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from search.index.schema import SudachiTokenizer, field_terms
from search.text.analysis import (
    _COMBINING,
    MAX_CHUNK_CHARS,
    analyze,
    chunks,
    fold,
    fold_with_offsets,
    pair,
    pairs,
)


def words(text):
    return [term.text for term in analyze(text).words]


def subwords(text):
    return [term.text for term in analyze(text).subwords]


def test_width_and_case_variants_meet():
    assert words("ＡＩ") == words("AI") == words("ai") == ["エーアイ"]
    assert words("ＪＪＯＣ") == words("jjoc") == ["jjoc"]


def test_spelling_variants_and_numerals_meet():
    assert words("コンピュータ") == words("コンピューター")
    assert words("三") == words("3") == ["3"]
    assert words("講じた")[0] == words("講ずる")[0] == words("講じる")[0] == "講じる"


def test_latin_words_meet_katakana_through_their_reading_and_roman_numerals_are_digits():
    assert words("Pillar-II") == words("Pillar2") == words("ピラー2") == ["ピラー", "2"]
    assert words("PAC-3") == words("PAC3")


def test_punctuation_and_whitespace_make_no_terms():
    assert words("「ピラー2」、 。！") == ["ピラー", "2"]
    assert words("　…・") == []


def test_punctuation_leaves_a_gap_in_positions_and_whitespace_does_not():
    assert [t.position for t in analyze("ピラー、2").words] == [0, 2]
    assert [t.position for t in analyze("ピラー 2").words] == [0, 1]
    assert [t.position for t in analyze("統合作戦司令部。部").subwords] == [0, 1, 2, 3, 5]


def test_offsets_point_into_the_original_text():
    text = "日本、「ピラー２」参加"
    terms = analyze(text).words
    assert [(t.text, text[t.start : t.end]) for t in terms] == [
        ("日本", "日本"),
        ("ピラー", "ピラー"),
        ("2", "２"),
        ("参加", "参加"),
    ]


def test_mode_a_parts_are_subwords_of_whole_words():
    assert words("統合作戦司令部") == ["統合", "作戦", "司令部"]
    assert subwords("統合作戦司令部") == ["統合", "作戦", "司令", "部"]
    assert "音速" in subwords("極超音速ミサイル")
    assert "音速" not in words("極超音速ミサイル")


def test_pairs_join_common_neighbours_but_not_across_punctuation():
    found = pairs(analyze("あの人、あの人は来た").words)
    assert [(t.text, t.start, t.end, t.position) for t in found] == [
        (pair("あの", "人"), 0, 3, 0),
        (pair("あの", "人"), 4, 7, 3),
        (pair("人", "は"), 6, 8, 4),
        (pair("は", "来る"), 7, 9, 5),
        (pair("来る", "た"), 8, 10, 6),
    ]
    # 防衛 is not a common word: its pairs are left out.
    assert [t.text for t in field_terms("word_pairs", "防衛の一つの問題")] == [
        pair("の", "1"),
        pair("1", "つ"),
        pair("つ", "の"),
    ]
    assert field_terms("subword_pairs", "統合作戦司令部") == []
    assert pair("ab", "c") != pair("a", "bc")


def test_long_text_is_cut_into_pieces_sudachi_accepts_and_offsets_carry_over():
    sentence = "日本の防衛技術は進んでいる。"
    text = sentence * 5000  # 70,000 characters, 210,000 bytes
    pieces = list(chunks(text))
    assert all(len(piece.encode("utf-8")) <= 49_149 for _, piece in pieces)
    assert "".join(piece for _, piece in pieces) == text
    assert all(text.startswith(piece, offset) for offset, piece in pieces)
    last = analyze(text).words[-1]
    assert (last.text, last.start, last.end) == ("居る", len(text) - 3, len(text) - 1)


def test_a_text_without_sentence_ends_is_cut_too():
    text = "あ" * (MAX_CHUNK_CHARS * 2 + 5)
    assert [offset for offset, _ in chunks(text)] == [0, MAX_CHUNK_CHARS, 2 * MAX_CHUNK_CHARS]


def test_tokenizer_survives_pickling_and_yields_positions_and_characters():
    tokenizer = pickle.loads(pickle.dumps(SudachiTokenizer("subwords")))
    tokens = [
        (t.text, t.pos, t.startchar, t.endchar)
        for t in tokenizer("統合作戦司令部", positions=True, chars=True)
    ]
    assert tokens == [("統合", 0, 0, 2), ("作戦", 1, 2, 4), ("司令", 2, 4, 6), ("部", 3, 6, 7)]


@pytest.mark.parametrize(
    "text",
    [
        "ＡＢＣ１２３（テスト）ｶﾀｶﾅ",
        "Straße ﬃ ㌔ Ⅻ",
        "か\u3099い é",
        "統合作戦司令部",
        "",
        "ﾃﾞｰﾀﾍﾞｰｽ",
        "牛\u200b丼\u00ad",
        "葛\U000e0100城市\ufe0f",
    ],
)
def test_folding_with_offsets_maps_each_folded_character_to_its_source(text):
    folded, starts, ends = fold_with_offsets(text)
    assert folded == fold(text) and len(starts) == len(ends) == len(folded)
    assert starts == sorted(starts) and all(0 <= s < e <= len(text) for s, e in zip(starts, ends))
    assert all(char in fold(text[s:e]) for char, s, e in zip(folded, starts, ends))
    assert folded == _without_ignored(unicodedata.normalize("NFKC", text).casefold())


def _without_ignored(text: str) -> str:
    """`text` without format characters (Cf) and variation selectors."""
    return "".join(
        char
        for char in text
        if unicodedata.category(char) != "Cf"
        and not ("\ufe00" <= char <= "\ufe0f" or "\U000e0100" <= char <= "\U000e01ef")
    )


# Characters folding treats apart: compatibility forms (full-width, half-width, ligatures, ㌔,
# circled digits), letters with case (ß, Σ, İ), composed and decomposable letters, marks that
# compose with the letter before them (U+0301, U+3099), Hangul jamo and syllables, CJK
# compatibility ideographs, kana and kanji.
_FOLDING_CHARACTERS = (
    "ＡＢｚ１２（）！？ｶﾀｶﾅﾞﾟ　ﬁﬃ㌔㍻①Ⅻ™ßΣσςİıǅé\u0301e\u0308\u3099\u309a゛゜"
    "가\u1100\u1161\u11a8豈﨑Å\u212bÅ。、「」…ー日本語のテストかがカガabcABC123 \t"
    "\u200b\u200d\u00ad\ufeff\u2060\ufe00\ufe0f\U000e0100葛"
)


@given(st.text(alphabet=_FOLDING_CHARACTERS, max_size=40))
def test_folding_is_nfkc_and_case_folding_of_each_character_or_of_the_text_with_marks(text):
    expected = (
        unicodedata.normalize("NFKC", text).casefold()
        if _COMBINING.search(text)
        else "".join(unicodedata.normalize("NFKC", char).casefold() for char in text)
    )
    assert fold(text) == _without_ignored(expected)
