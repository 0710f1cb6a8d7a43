"""search.text.bulk: texts analyzed in bulk give each text's words, subwords, readings and pairs
at the positions search.text.analysis gives them, one text at a time (real Sudachi)."""

from __future__ import annotations

import re
from pathlib import Path

from search.index.vocabulary import _PHRASE_CHARS, VocabularyCounter, _phrase_chars
from search.ingest.discovery import scan
from search.ingest.paragraphs import read_paragraphs
from search.text.analysis import MAX_CHUNK_CHARS, _entries, analyze, pairs, written_words
from search.text.bulk import BulkAnalysis

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

# Surfaces of one dictionary word (ﾃｽﾄ, テスト), joiners and spaces of one entry (･ ・, " " and
# "\u3000"), a full-width hyphen, ‼ (two morphemes, one of them empty), unknown words, a
# presentation form, Roman numerals and Latin words, fractions (⅝: 5, ⁄ and 8, the last two
# empty), a text longer than Sudachi takes at once.
TRICKY = [
    "",
    "　",
    "ﾃｽﾄとテスト、ＡＩとAI",
    "⅝インチのねじと⅜インチのねじ、長さは⅝",
    "ジョー･バイデンとジョー・バイデン",
    "Pillar-IIとPillar－II、ピラー2",
    "ああ‼　いい！",
    "ｘｙｚとqwzx、𠮷野家の𠮷",
    "⼀つの問題︑あの人",
    "統合作戦司令部の一つの問題",
    "一つの。一つの" * 3,
    "あの人の心" * (MAX_CHUNK_CHARS // 4),
]


def _one_at_a_time(text: str) -> dict[str, list[tuple[str, int]]]:
    analysis = analyze(text)
    found = {
        "words": analysis.words,
        "subwords": analysis.subwords,
        "readings": analysis.readings,
        "word_pairs": pairs(analysis.words),
        "subword_pairs": pairs(analysis.subwords),
    }
    return {kind: [(t.text, t.position) for t in terms] for kind, terms in found.items()}


def test_bulk_analysis_gives_each_texts_terms_and_positions():
    texts = TRICKY + [p.text for d in scan(SEEDS).documents for p in read_paragraphs(d)]
    bulk = BulkAnalysis()
    numbers = [bulk.add(text) for text in texts + texts[:5]]  # a text again: the same number
    assert numbers[len(texts) :] == numbers[:5]
    assert len(bulk) == len(set(texts))
    expanded = bulk.expand()
    got: dict[int, dict[str, list[tuple[str, int]]]] = {}
    for kind in expanded._fields:
        tokens = getattr(expanded, kind)
        for term, text, position in zip(
            tokens.terms.tolist(), tokens.texts.tolist(), tokens.positions.tolist()
        ):
            got.setdefault(text, {}).setdefault(kind, []).append((tokens.names[term], position))
    for text, number in zip(texts, numbers):
        expected = _one_at_a_time(text)
        mine = got.get(number, {})
        for kind, terms in expected.items():
            assert mine.get(kind, []) == terms, (kind, text[:20])
    assert got[numbers[2]]["words"][0] == ("テスト", 0)  # ﾃｽﾄ: its entry's form
    assert ("の\x1f一つ", 1) not in got[numbers[9]]["word_pairs"]  # not across 。


def test_the_vocabulary_of_a_bulk_analysis_is_the_one_of_each_text_analyzed_alone():
    """add_analyzed (the build's: words as written from the entries and where each morpheme
    ends) counts what add (analysis.analyze of each text) counts, readings included."""
    texts = TRICKY + [p.text for d in scan(SEEDS).documents for p in read_paragraphs(d)]
    texts += ["ﾃｽﾄのテスト、日本の日曜日に日が昇る", "統合作戦司令部と統合作戦司令部の統合"]
    texts += texts[2:9] + texts[-2:]  # paragraphs of the same text count once each
    bulk = BulkAnalysis()
    alone, analyzed = VocabularyCounter(), VocabularyCounter()
    for at, text in enumerate(texts):
        alone.add(text)
        if at % 7 == 3:  # a paragraph counted alone among those counted in bulk
            analyzed.add(text)
        else:
            analyzed.add_analyzed(bulk, bulk.add(text))
    analyzed.count()
    assert analyzed.words == alone.words and analyzed.phrases == alone.phrases
    assert analyzed.readings == alone.readings
    assert list(analyzed.words) == list(alone.words)  # in the order first met
    assert (analyzed.words["ﾃｽﾄ"], analyzed.readings["ﾃｽﾄ"]) == (4, "テスト")
    assert "" not in analyzed.words and "" not in analyzed.readings  # the empty parts of ⅝, ‼
    assert analyzed.words["⅝"] == 2
    assert analyzed.phrases["統合作戦司令部"] >= 2 and analyzed.readings["統合"] == "トウゴウ"


def test_paragraphs_of_marks_alone_count_no_word():
    """A segment whose paragraphs hold no word (※, ――, 。。。) counts nothing, and fails not."""
    bulk = BulkAnalysis()
    counter = VocabularyCounter()
    for text in ["※※※", "――――", "。。。", "\u3000"]:
        counter.add_analyzed(bulk, bulk.add(text))
    counter.count()
    assert (counter.words, counter.phrases, counter.readings) == ({}, {}, {})


def test_the_characters_of_a_phrase_are_the_ones_its_pattern_matches():
    table = _phrase_chars()
    pattern = re.compile(f"[{_PHRASE_CHARS}]")
    for code in range(0x30000):
        assert table[code] == bool(pattern.match(chr(code))), hex(code)
    assert not table[0x30000:].any()


def test_the_words_of_a_text_as_written_are_the_ones_analyze_makes():
    """analysis.written_words (a phrase's words, for its reading) cuts as analyze does, whether
    or not analyze met the entries before."""
    texts = TRICKY + [p.text for d in scan(SEEDS).documents for p in read_paragraphs(d)]
    _entries.clear()  # entries not met yet: told apart without working out what they contribute
    first = [written_words(text) for text in texts]
    expected = [
        [text[w.start : w.end] for w in analyze(text).words if w.end > w.start] for text in texts
    ]
    assert first == expected
    assert [written_words(text) for text in texts] == expected  # entries met
    assert written_words("ﾃｽﾄとテスト、ＡＩ") == ["ﾃｽﾄ", "と", "テスト", "ＡＩ"]


def test_a_joined_numeral_is_read_as_its_context_reads_it_whatever_came_before():
    # Sudachi gives every joined numeral one word id; 九 is read ココノ before つ, else キュウ.
    texts = ["九つの星", "九の星", "三四人", "九つの星"]
    assert [analyze(text).readings[0].text for text in texts] == [
        "ココノ",
        "キュウ",
        "サンヨン",
        "ココノ",
    ]
    bulk = BulkAnalysis()
    numbers = [bulk.add(text) for text in texts]
    readings = bulk.expand().readings
    first = {}
    for term, text in zip(readings.terms.tolist(), readings.texts.tolist()):
        first.setdefault(text, readings.names[term])
    assert [first[number] for number in numbers] == ["ココノ", "キュウ", "サンヨン", "ココノ"]


def test_vocabulary_ranks_put_every_term_in_text_order_as_more_terms_come():
    bulk = BulkAnalysis()
    bulk.add("統合作戦司令部の一つの問題")
    first = bulk.vocabulary_ranks()
    vocabulary = bulk.table.vocabulary
    assert len(first) == len(vocabulary)
    assert [vocabulary[n] for n in first.argsort()] == sorted(vocabulary)
    term = bulk.table.term_numbers
    assert first[term["1"]] < first[term["の"]] < first[term["ノ"]] < first[term["問題"]]
    # Terms numbered since are merged in: the ranks are those of sorting them all afresh.
    texts = [p.text for d in scan(SEEDS).documents for p in read_paragraphs(d)]
    for text in texts + [f"aaqz{c}とzzqz{c}の問題" for c in "bdfh"]:  # new terms (the table
        bulk.add(text)  # is the process's: others' tests may have numbered the seeds' terms)
    again = bulk.vocabulary_ranks()
    vocabulary = bulk.table.vocabulary
    assert len(again) == len(vocabulary) > len(first)
    assert [vocabulary[n] for n in again.argsort()] == sorted(vocabulary)


def _words_by_text(texts: list[str]) -> dict[str, list[tuple[str, int]]]:
    bulk = BulkAnalysis()
    numbers = {bulk.add(text): text for text in texts}
    words = bulk.expand().words
    found: dict[str, list[tuple[str, int]]] = {text: [] for text in texts}
    for term, number, position in zip(
        words.terms.tolist(), words.texts.tolist(), words.positions.tolist()
    ):
        found[numbers[number]].append((words.names[term], position))
    return found


def test_two_threads_analyzing_in_bulk_at_once_each_get_their_own_texts_terms():
    """Each thread has its own table of entries, as its own tokenizer: two builds in two
    threads of one process (the library's) numbered entries into one table before."""
    import sys
    import threading

    paragraphs = [p.text for d in scan(SEEDS).documents for p in read_paragraphs(d)]
    shares = [paragraphs[0::2], paragraphs[1::2][::-1]]
    expected = [{text: _one_at_a_time(text)["words"] for text in share} for share in shares]
    got: list[dict] = [{}, {}]

    def analyze_share(number: int) -> None:
        got[number] = _words_by_text(shares[number])

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # the threads take turns often
    try:
        threads = [threading.Thread(target=analyze_share, args=(n,)) for n in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert got == expected
