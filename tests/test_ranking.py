"""Ranking (rerank.py, soft AND in results.py): content before headings and citations, paragraphs
holding all the words before those holding some, Latin words matched as words, definitions, and
questions never lifting a paragraph without their words: on the seeds and small real indexes."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner

import search
from search.cli.main import main
from search.query.plan import TIER_BONUS

from .conftest import SEEDS, cited, index_of, seed_lines

NAVIGATION = {
    ("000_9ac1f42681134e70.txt", 179),
    ("000_9ac1f42681134e70.txt", 182),
}  # "  3. 米国関連"


def places(results) -> list[tuple[str, int]]:
    return [(hit.source, hit.line) for hit in results.hits]


def test_navigation_lines_do_not_outrank_the_paragraphs_for_a_word_both_hold(searcher):
    results = searcher.search("米国", limit=35)
    ranked = places(results)
    assert set(ranked) >= NAVIGATION  # found, as they should be
    # Sentences holding the word 米国 (not 米国防省, a lower tier: a substring of another word).
    prose = [
        place
        for place, hit in zip(ranked, results.hits)
        if hit.score > TIER_BONUS["words"] and "。" in hit.text
    ]
    assert len(prose) > 20 and all(
        ranked.index(line) > ranked.index(place) for line in NAVIGATION for place in prose
    )


def test_a_heading_ranks_below_the_paragraphs_it_introduces(searcher):
    ranked = places(searcher.search("ピラー2", limit=13))
    heading, paragraphs = (
        ("001_2eb2e19b899ffa84.txt", 6),
        [("001_2eb2e19b899ffa84.txt", 7), ("001_2eb2e19b899ffa84.txt", 8)],
    )
    assert all(ranked.index(heading) > ranked.index(paragraph) for paragraph in paragraphs)


def test_citation_lines_rank_below_the_article_they_source(tmp_path):
    ix = index_of(
        tmp_path,
        "news.txt",
        "小惑星探査機はやぶさ、地球への帰還軌道へ\n"
        "小惑星探査機「はやぶさ」が3月27日、地球へ接近する軌道に入った。\n"
        "宇宙航空研究開発機構は同日、軌道変更に用いられていた「はやぶさ」のイオンエンジンを停止した。\n"
        "47 NEWS『小惑星探査機はやぶさ、地球へ軌道変更に成功』。\n"
        'ウィキニュース、2005年11月14日"探査機はやぶさ、小惑星「糸川」に着陸していた"。\n'
        "はやぶさ通信社、2010年3月27日。\n",
    )
    ranked = [hit.line for hit in search.search("はやぶさ", ix).hits]
    assert ranked[:2] == [2, 3] and sorted(ranked[2:]) == [1, 4, 5, 6]


def test_words_standing_together_rank_above_words_apart(tmp_path):
    ix = index_of(
        tmp_path,
        "near.txt",
        "題\n"
        "北海道の観光は冬に盛んで、雪祭りが知られる。一方で沖縄は夏の旅行先として人気がある。\n"
        "沖縄の観光は夏に盛んで、海が知られる。北海道は冬の旅行先として人気が高いと言われる。\n"
        "北海道観光の中心は札幌で、夏も冬も多くの人が訪れる。沖縄とはまた違う魅力がある。\n",
    )
    assert search.search("北海道 観光", ix).hits[0].line == 4


def test_soft_and_puts_all_the_words_first_then_the_rarer_word(tmp_path):
    ix = index_of(
        tmp_path,
        "soft.txt",
        "題\n"
        "東京の天気は晴れ。\n東京の電車は混む。\n東京の夏は暑い。\n東京の冬は乾く。\n"
        "大阪の天気は雨。\n"
        "東京と大阪を新幹線が結ぶ。\n",
    )
    results = search.search("東京 大阪", ix)
    assert [(hit.line, hit.partial) for hit in results.hits[:2]] == [(7, False), (6, True)]
    assert {hit.line for hit in results.hits[2:]} == {2, 3, 4, 5}
    assert all(hit.partial for hit in results.hits[1:]) and results.total == 1
    assert not results.relaxed


def test_soft_and_does_not_apply_to_a_query_with_syntax(tmp_path):
    ix = index_of(
        tmp_path,
        "strict.txt",
        "題\n東京の天気は晴れ。\n大阪の天気は雨。\n東京と大阪を新幹線が結ぶ。\n",
    )
    assert [hit.line for hit in search.search("東京 AND 大阪", ix).hits] == [4]
    assert [hit.line for hit in search.search('"東京" 大阪', ix).hits] == [4]


def test_partial_hits_are_marked_in_the_cli_and_in_json(seed_index):
    args = ["search", "--docs", str(SEEDS), "--index", str(seed_index), "-n", "3", "ピラー2 韓国"]
    text = CliRunner().invoke(main, args)
    assert text.exit_code == 0
    assert text.stdout.startswith(
        "2 paragraphs match ピラー2 韓国; then 2 hits with some of its words\n"
    )
    hit_lines = [line for line in text.stdout.splitlines() if re.match(r"\s?\d+\. ", line)]
    assert ["some of the words" in line for line in hit_lines] == [False, True, True]
    data = json.loads(CliRunner().invoke(main, args + ["--json"]).stdout)
    assert [hit["partial"] for hit in data["hits"]] == [False, True, True]


def test_a_phrase_found_nowhere_is_relaxed_into_whole_words_never_digits(tmp_path):
    ix = index_of(tmp_path, "parts.txt", "題\n第２章の話。\nピラーという柱。\n２つの案がある。\n")
    results = search.search("ピラー2", ix)
    assert results.relaxed and [(hit.line, hit.partial) for hit in results.hits] == [(3, True)]
    assert results.total == 1
    assert [hit.text[s:e] for hit in results.hits for s, e in hit.highlights] == ["ピラー"]
    (tmp_path / "other").mkdir()
    nothing = index_of(tmp_path / "other", "digits.txt", "題\n第２章の話。\n２つの案がある。\n")
    none = search.search("ピラー2", nothing)
    assert (none.total, none.hits, none.relaxed) == (0, [], False)


def test_a_compound_found_nowhere_is_relaxed_into_its_parts(tmp_path):
    """国際宇宙ステーション is one word to Sudachi: found nowhere, it is looked for by the parts
    split mode A cuts it into, as a phrase of several words is by its words."""
    ix = index_of(
        tmp_path,
        "space.txt",
        "題\n宇宙の話。\n駅のステーションビル。\n国際宇宙会議。\n料理の話。\n",
    )
    results = search.search("国際宇宙ステーション", ix)
    assert results.relaxed and all(hit.partial for hit in results.hits)
    assert [hit.line for hit in results.hits] == [4, 3, 2]  # 宇宙 in two: the rarer first
    first = results.hits[0]
    assert [first.text[s:e] for s, e in first.highlights] == ["国際", "宇宙"]


def test_latin_words_match_as_words(searcher):
    ai = searcher.search("AI", limit=50)
    assert not [
        hit.text for hit in ai.hits if not re.search(r"(?<![a-z])ai(?![a-z])", hit.text.lower())
    ]
    assert ("000_9ac1f42681134e70.txt", 70) not in cited(ai)  # Sea Air Space
    assert cited(ai) == seed_lines(lambda line: re.search(r"(?<![a-z])ai(?![a-z])", line.lower()))
    pac = cited(searcher.search("PAC", limit=50))
    assert pac == {
        ("002_5cfbee36016c52e4.txt", 25),
        ("002_5cfbee36016c52e4.txt", 27),
        ("004_7af21bdf63ee1157.txt", 41),
    }  # PAC-3 and PAC3
    assert seed_lines(lambda line: "201" in line)  # in 2013, 2018, 2019: never a number alone
    assert searcher.search("201").total == 0


def test_a_definition_question_ranks_the_defining_paragraph_first(searcher):
    hits = searcher.search("日米2プラス2とは何か？").hits
    assert (hits[0].source, hits[0].line) == ("004_7af21bdf63ee1157.txt", 11)
    assert hits[0].text.startswith("「日米2プラス2」とは、")


def test_a_question_never_lifts_a_paragraph_without_its_words_by_its_title(searcher, tmp_path):
    hits = searcher.search("在日米軍の運用権限はどう変わる？", limit=20).hits
    assert ("001_2eb2e19b899ffa84.txt", 1) in [(hit.source, hit.line) for hit in hits[:3]]
    holds = [bool(re.search("在日|米軍|運用|権限|変わ", hit.text)) for hit in hits]
    assert holds == sorted(holds, reverse=True)
    # A title holding every word of the question lifts none of its paragraphs without one of
    # them above one with a single, common word.
    ix = index_of(
        tmp_path,
        "title.txt",
        "在日米軍の運用権限\n"
        "司令部は横田にあり、今後の体制が議論されている。\n"
        "権限という言葉は多義的で、権限の範囲は場合によって変わる。\n",
    )
    assert [hit.line for hit in search.search("在日米軍の運用権限はどう変わる？", ix).hits] == [
        3,
        1,
        2,
    ]
