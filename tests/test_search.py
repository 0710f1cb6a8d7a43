"""Searching the real seed index: which paragraphs match, which must not, ranking and highlights."""

import re
import unicodedata

import pytest

import search
from search.errors import QuerySyntaxError

from .conftest import cited, index_of, seed_lines

PILLAR_TWO = {("000_9ac1f42681134e70.txt", 156)} | {
    ("001_2eb2e19b899ffa84.txt", line) for line in (6, 7, 8, 19, 20, 21)
}
# Pillar-II and Pillar2 are ピラー2 spelled in Latin letters: the same words, found too.
PILLAR_LATIN = {("000_9ac1f42681134e70.txt", line) for line in (12, 16, 18, 22, 24, 115)}


def nfkc(text):
    return unicodedata.normalize("NFKC", text)


def test_pillar_two_finds_exactly_the_paragraphs_that_say_it_in_either_script(searcher):
    results = searcher.search("ピラー2", limit=50)
    assert seed_lines(lambda line: "ピラー2" in nfkc(line)) == PILLAR_TWO
    assert seed_lines(lambda line: "Pillar-II" in line or "Pillar2" in line) == PILLAR_LATIN
    assert cited(results) == PILLAR_TWO | PILLAR_LATIN
    assert results.total == 13
    literal = [hit.rank for hit in results.hits if "ピラー2" in hit.text]
    assert literal == [1, 2, 3, 4]  # seven paragraphs, three of them repeated: four hits


def test_full_width_digits_match_and_pillar_with_a_two_elsewhere_does_not(tmp_path):
    ix = index_of(
        tmp_path, "a.txt", "題\n日本は「ピラー２」に参加する。\nピラーの数は2本。\nピラー、2\n"
    )
    results = search.search("ピラー2", ix)
    assert cited(results) == {("a.txt", 2)}
    assert results.hits[0].highlights == [(4, 8)]


def test_two_plus_two_keeps_both_twos(searcher):
    expected = seed_lines(lambda line: "日米2プラス2" in nfkc(line))
    assert len(expected) == 8
    assert cited(searcher.search("日米2プラス2", limit=50)) == expected


def test_citation_of_a_known_hit(searcher):
    hit = searcher.search("統合作戦司令部").hits[0]
    assert (hit.source, hit.line, hit.paragraph) == ("004_7af21bdf63ee1157.txt", 23, 12)
    assert hit.title == "GLOBAL&TREND"
    assert hit.text.startswith("在日アメリカ軍に新たに「統合軍司令部」")
    start, end = hit.highlights[0]
    assert hit.text[start:end] == "統合作戦司令部"


def test_highlight_offsets_of_pillar_two_in_its_paragraph(searcher):
    hit = next(
        h
        for h in searcher.search("ピラー2", limit=50).hits
        if (h.source, h.line) == ("001_2eb2e19b899ffa84.txt", 8)
    )
    expected = [(m.start(), m.end()) for m in re.finditer("ピラー2", hit.text)]
    assert len(expected) == 4
    assert hit.highlights == expected
    assert all(hit.text[s:e] == "ピラー2" for s, e in hit.highlights)
    assert "ピラー1" in hit.text  # present, and not highlighted


def test_a_sub_word_finds_the_whole_word(searcher):
    assert ("004_7af21bdf63ee1157.txt", 23) in cited(searcher.search("司令", limit=50))
    sonic = cited(searcher.search("音速", limit=50))
    assert seed_lines(lambda line: "極超音速" in line) <= sonic
    hit = next(h for h in searcher.search("音速", limit=50).hits if "極超音速" in h.text)
    start, end = hit.highlights[0]
    assert hit.text[start:end] == "音速"


def test_whole_word_matches_rank_above_sub_word_matches(searcher):
    results = searcher.search("司令部", limit=50)
    whole = [h.rank for h in results.hits if "司令部" in h.text]
    parts_only = [h.rank for h in results.hits if "司令部" not in h.text]
    assert whole and max(whole) < min(parts_only, default=999)


def test_spaces_mean_and(searcher):
    results = searcher.search("ピラー2 韓国", limit=50)
    expected = seed_lines(
        lambda line: ("ピラー2" in line or "Pillar-II" in line) and "韓国" in line
    )
    both = [hit for hit in results.hits if not hit.partial]
    assert (
        expected
        and {(h.source, h.line) for h in both}
        | {(place.source, place.line) for h in both for place in h.also}
        == expected
    )
    assert results.total == len(expected)
    # Fewer than the limit hold both: those holding either follow (soft AND), marked partial.
    either = seed_lines(
        lambda line: any(word in line for word in ("ピラー2", "Pillar-II", "Pillar2", "韓国"))
    )
    assert results.hits[: len(both)] == both and len(results.hits) > len(both)
    assert cited(results) <= either


def test_or_not_and_minus(searcher):
    pillar = PILLAR_TWO | PILLAR_LATIN
    either = cited(searcher.search("ピラー2 OR 統合作戦司令部", limit=50))
    assert either == pillar | cited(searcher.search("統合作戦司令部", limit=50))
    without = cited(searcher.search("ピラー2 -韓国", limit=50))
    assert without == pillar - seed_lines(lambda line: "韓国" in line)
    assert cited(searcher.search("ピラー2 NOT 韓国", limit=50)) == without


def test_quoted_phrase_and_parentheses(searcher):
    assert cited(searcher.search('"ピラー 2"', limit=50)) == PILLAR_TWO | PILLAR_LATIN
    grouped = cited(searcher.search("(ピラー1 OR ピラー2) 韓国", limit=50))
    assert grouped == seed_lines(
        lambda line: ("ピラー1" in line or "ピラー2" in line) and "韓国" in line
    )


def test_source_filter(searcher):
    results = searcher.search("ピラー2 source:000", limit=50)
    assert cited(results) == {("000_9ac1f42681134e70.txt", 156)} | PILLAR_LATIN
    assert cited(searcher.search("ピラー2 source:001*", limit=50)) == PILLAR_TWO - cited(results)


@pytest.fixture(scope="module")
def nested_index(tmp_path_factory):
    """Files in folders at several depths, some names with spaces, capitals and brackets."""
    root = tmp_path_factory.mktemp("nested")
    names = [
        "日本語 ファイル名.txt",
        "aozora/000067_files.txt",
        "aozora/old/000067_copy.txt",
        "報告/Report-2024.TXT",
        "議事録/[案] 会議.txt",
        "top000067.txt",
        unicodedata.normalize("NFD", "学校だより.txt"),  # as macOS writes names: だ as た and ゙
    ]
    for name in names:
        path = root / "docs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"表題\n{name}の本文です。\n", encoding="utf-8")
    search.build_index(root / "docs", root / "ix")
    return root / "ix"


@pytest.mark.parametrize(
    "pattern, sources",
    [
        # A quoted name with a space.
        ('"日本語 ファイル名.txt"', ["日本語 ファイル名.txt"]),
        ('"日本語 ファイル"', ["日本語 ファイル名.txt"]),
        # Without "/": a file or folder name at any depth starts with it (.gitignore's reading);
        # the path's prefix still works.
        ("000067", ["aozora/000067_files.txt", "aozora/old/000067_copy.txt"]),
        ("aozora", ["aozora/000067_files.txt", "aozora/old/000067_copy.txt"]),
        ("old", ["aozora/old/000067_copy.txt"]),
        ("top", ["top000067.txt"]),
        # With "/": the path from the documents folder; a leading "/" anchors a name there.
        ("aozora/000", ["aozora/000067_files.txt"]),
        ("aozora/old/", ["aozora/old/000067_copy.txt"]),
        ("/000067", []),
        ("/top", ["top000067.txt"]),
        # Wildcards match a name (or, with "/", the path) whole.
        ("*_copy.txt", ["aozora/old/000067_copy.txt"]),
        ("0000??_files.txt", ["aozora/000067_files.txt"]),
        ("aozora/*", ["aozora/000067_files.txt", "aozora/old/000067_copy.txt"]),
        # Case, width and brackets as typed.
        ("report", ["報告/Report-2024.TXT"]),
        ("*.txt", None),  # every document: .TXT too
        ("ＲＥＰＯＲＴ", ["報告/Report-2024.TXT"]),
        ('"[案] 会議"', ["議事録/[案] 会議.txt"]),
        ("報告/", ["報告/Report-2024.TXT"]),
        ("学校だより", [unicodedata.normalize("NFD", "学校だより.txt")]),
    ],
)
def test_a_source_pattern_names_files_as_gitignore_does(nested_index, pattern, sources):
    with search.Searcher(nested_index) as opened:
        found = opened.sources(f"本文 source:{pattern}")
        every = sorted(opened.sources("本文"))
    assert sorted(found) == (every if sources is None else sources)


def test_total_counts_all_matches_beyond_the_limit(searcher):
    results = searcher.search("ピラー2", limit=2)
    assert (len(results.hits), results.total) == (2, 13)
    assert [h.rank for h in results.hits] == [1, 2]
    assert results.hits[0].score >= results.hits[1].score


def test_normalized_forms_find_variants(tmp_path):
    index = index_of(
        tmp_path, "v.txt", "題\nＡＩの研究。\nコンピュータを使う。\n三つの柱。\n対策を講じた。\n"
    )
    assert cited(search.search("AI", index)) == {("v.txt", 2)}
    assert cited(search.search("コンピューター", index)) == {("v.txt", 3)}
    assert cited(search.search("3", index)) == {("v.txt", 4)}
    assert cited(search.search("講ずる", index)) == {("v.txt", 5)}


@pytest.mark.parametrize(
    ("query", "line", "lit"),
    [
        ("データ", 2, "ﾃﾞｰﾀ"),  # half-width kana with ﾞ, typed in full width
        ("ータベ", 2, "ｰﾀﾍﾞ"),
        ("ﾊﾟｿ", 3, "パソ"),  # and the other way
        ("牛丼", 4, "牛\u200b丼"),  # a zero-width space from a web page
        ("葛城市", 5, "葛\U000e0100城市"),  # an ideographic variation selector
        ("葛\U000e0100城", 5, "葛\U000e0100城"),
    ],
)
def test_a_substring_is_found_across_half_width_marks_and_invisible_characters(
    tmp_path, query, line, lit
):
    index = index_of(
        tmp_path,
        "w.txt",
        "題\nﾃﾞｰﾀﾍﾞｰｽの設計。\nパソコンの修理。\n牛\u200b丼の店。\n葛\U000e0100城市の役所。\n",
    )
    (hit,) = search.search(query, index).hits
    assert hit.line == line
    assert [hit.text[start:end] for start, end in hit.highlights] == [lit]


def test_snippet_shows_the_match_in_a_long_paragraph(searcher):
    hit = next(h for h in searcher.search("統合作戦司令部", limit=50).hits if len(h.text) > 200)
    assert len(hit.snippet) < len(hit.text)
    for start, end in hit.snippet_highlights:
        assert hit.snippet[start:end] == "統合作戦司令部"
    assert hit.snippet_highlights


def test_a_snippet_of_one_long_sentence_cuts_no_character_from_its_marks(tmp_path):
    """ガ written as カ and a combining voiced mark: a window cut between them would show an
    orphan mark at its start and カ for ガ at its end."""
    voiced = "カ\u3099"
    index = index_of(tmp_path, "k.txt", "題\n" + voiced * 120 + "牛丼" + voiced * 120 + "\n")
    (hit,) = search.search("牛丼", index).hits
    inner = hit.snippet.strip("…")
    assert inner.startswith(voiced) and inner.endswith(voiced) and len(inner) % 2 == 0
    assert [hit.snippet[start:end] for start, end in hit.snippet_highlights] == ["牛丼"]


def test_highlights_keep_to_the_latin_word_bounds_matching_keeps_to(searcher, tmp_path):
    """AI is highlighted where it stands as a word (AI分野, ＡＩ), never inside JAIC or AIPfD,
    which it does not match."""
    hit = next(h for h in searcher.search("AI", limit=50).hits if "JAIC" in h.text)
    assert hit.highlights and {hit.text[s:e] for s, e in hit.highlights} == {"AI"}
    jaic = hit.text.index("JAIC")
    assert not [(s, e) for s, e in hit.highlights if jaic <= s < jaic + 4]
    index = index_of(tmp_path, "ai.txt", "題\nＡＩとAIPfD、JAIC、Air、AIの話。\n")
    (only,) = search.search("AI", index).hits
    assert only.highlights == [(0, 2), (18, 20)]


def test_bad_query_through_the_library(seed_index):
    with pytest.raises(QuerySyntaxError):
        search.search('"unbalanced', seed_index)


def test_highlights_are_worked_out_only_when_read(searcher):
    hit = searcher.search("統合作戦司令部", limit=1).hits[0]
    assert "highlights" not in vars(hit) and "_snippet" not in vars(hit)
    assert {hit.text[s:e] for s, e in hit.highlights} == {"統合作戦司令部"}
    assert hit.to_dict()["highlights"] == [list(span) for span in hit.highlights]


def test_importing_skips_modules_whoosh_never_uses_yet_they_still_work():
    import subprocess
    import sys

    code = (
        "import sys, search; print([name in sys.modules for name in ('urllib.request', "
        "'whoosh.lang.morph_en', 'http.client', 'whoosh.lang.porter', "
        "'whoosh.lang.dmetaphone', 'whoosh.util.times', 'calendar')]); "
        "from whoosh.query.terms import variations; print('rendering' in variations('render')); "
        "from whoosh.analysis.morph import stem, double_metaphone; "
        "print(stem('rendering'), double_metaphone('Smith')); "
        "import datetime, whoosh.fields; "
        "print(whoosh.fields.long_to_datetime(whoosh.fields.datetime_to_long("
        "datetime.datetime(2026, 11, 24, 21, 30)))); "
        "import urllib.request, whoosh.lang.morph_en, whoosh.util.times; "
        "print(callable(urllib.request.urlopen), callable(whoosh.util.times.floor))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:5] == [
        "[False, False, False, False, False, False, False]",
        "True",
        "render ('SM0', 'XMT')",
        "2026-11-24 21:30:00",
        "True True",
    ]


def test_a_thread_importing_urllib_while_search_is_imported_gets_the_real_thing():
    import subprocess
    import sys

    code = """
import sys, threading, time
result = []
def other():
    while "whoosh" not in sys.modules:
        time.sleep(0.0005)
    from urllib.request import urlopen, Request
    result.append(callable(urlopen) and Request("http://example.com").full_url)
thread = threading.Thread(target=other)
thread.start()
import search
thread.join()
print(result)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['http://example.com']"


def test_threads_sharing_a_searcher_get_the_results_one_thread_gets(seed_index):
    import threading

    queries = [
        "日本",
        "統合作戦司令部",
        "ピラー2",
        "日本 -東京",
        "防衛 OR 協力",
        "米国",
        "日本で梅雨がないのは北海道とどこか。",
    ]
    with search.Searcher(seed_index) as shared:
        expected = {
            q: [(h.source, h.line, h.score) for h in shared.search(q).hits] for q in queries
        }
        wrong = []

        def run(start: int) -> None:
            for i in range(28):
                query = queries[(start + i) % len(queries)]
                if [(h.source, h.line, h.score) for h in shared.search(query).hits] != expected[
                    query
                ]:
                    wrong.append(query)

        threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert wrong == [] and all(expected.values())


def test_a_phrase_ranks_by_how_often_it_occurs_not_by_its_words_apart(tmp_path):
    ix = index_of(
        tmp_path,
        "a.txt",
        "題\nあの人が来た。\nあの人と人と人と人と人と人。\n"
        "あの人もあの人も来た。\nあの店の人。\nあの、人\n",
    )
    results = search.search("あの人", ix)
    assert [hit.line for hit in results.hits] == [4, 2, 3]


def test_a_run_whose_words_leave_out_a_letter_is_matched_as_typed(tmp_path):
    # Sudachi takes a lone ー for a symbol: the words of ー2 are just 2, found in far more places.
    ix = index_of(tmp_path, "a.txt", "題\nピラー2に参加する。\n2つの案がある。\n")
    results = search.search("ー2", ix)
    assert cited(results) == {("a.txt", 2)}
    assert results.hits[0].highlights == [(2, 4)]
