"""Relevance on the seeds: substring recall, questions, readings, cross-script, synonyms,
duplicates and exact highlights."""

import random
import re
import unicodedata

import pytest
from click.testing import CliRunner

import search
from search.cli.main import main
from search.query.parser import looks_like_question

from .conftest import SEEDS, cited, index_of, seed_lines


def folded(text):
    return unicodedata.normalize("NFKC", text).casefold()


def seed_paragraphs():
    return [
        line
        for path in sorted(SEEDS.glob("*.txt"))
        for line in path.read_text(encoding="utf-8").split("\n")
        if line.strip()
    ]


def usable_as_query(text):
    """A substring the query syntax takes literally: no quotes, brackets, operators or -prefix."""
    words = text.split()
    return (
        any(ch.isalnum() for ch in text)
        and not any(ch in text for ch in '"()')
        and not any(w in ("AND", "OR", "NOT") or w.startswith(("-", "source:")) for w in words)
    )


def random_substrings(count, seed=20261120):
    chooser = random.Random(seed)
    paragraphs = seed_paragraphs()
    found = []
    while len(found) < count:
        text = chooser.choice(paragraphs)
        length = chooser.choice([1, 1, 2, 2, 2, 3, 4, 5, 7, 10])
        start = chooser.randrange(max(1, len(text) - length))
        piece = text[start : start + length]
        if usable_as_query(piece):
            found.append(piece)
    return found


LATIN = "a-z\u00e0-\u024f"  # Latin letters, case-folded


def as_found(needle):
    """A pattern finding `needle` as grep -F would, but where it begins or ends with Latin letters
    (digits) not where more letters (digits) run on: AI is not found in Air, nor 2 in 2024."""
    letters_or_digits = [
        f"[{LATIN}]" if re.match(f"[{LATIN}]", char) else "[0-9]" if char.isdigit() else None
        for char in (needle[0], needle[-1])
    ]
    before = f"(?<!{letters_or_digits[0]})" if letters_or_digits[0] else ""
    after = f"(?!{letters_or_digits[1]})" if letters_or_digits[1] else ""
    return re.compile(before + re.escape(needle) + after)


def scan(substring):
    """What grep -F finds after NFKC and case folding (Latin words found as words, `as_found`):
    (source, line) of each paragraph."""
    needles = [as_found(folded(part)) for part in substring.split()]
    return seed_lines(lambda line: all(needle.search(folded(line)) for needle in needles))


@pytest.mark.parametrize(
    "query", ["部", "2", "日米", "衛技術、サ", "ー2", "Aukus", "ＪＪＯＣ", "）を"]
)
def test_every_paragraph_holding_a_substring_is_found(searcher, query):
    expected = scan(query)
    assert expected, query
    assert expected <= cited(searcher.search(query, limit=500, mode="keyword"))


def test_match_count_covers_a_plain_scan_for_random_substrings(searcher):
    short_of_scan = []
    queries = random_substrings(300)
    for query in queries:
        if searcher.search(query, limit=1, mode="keyword").total < len(scan(query)):
            short_of_scan.append(query)
    assert short_of_scan == []
    assert len(set(queries)) > 150


def test_random_substrings_find_exactly_the_scanned_paragraphs_or_more(searcher):
    for query in random_substrings(40, seed=5):
        assert scan(query) <= cited(searcher.search(query, limit=500, mode="keyword")), query


def test_word_matches_rank_above_substring_matches(tmp_path):
    ix = index_of(tmp_path, "k.txt", "題\n東京都の人口。東京都の面積。\n京都の寺。\n")
    results = search.search("京都", ix)
    assert [(h.line, h.highlights) for h in results.hits] == [(3, [(0, 2)]), (2, [(1, 3), (8, 10)])]


def test_questions_are_recognised_and_searched_by_content_words(tmp_path):
    assert looks_like_question("日本で梅雨がないのは北海道とどこか。")
    assert looks_like_question("梅雨とは何季の一種か?")
    assert not looks_like_question("統合作戦司令部")
    assert not looks_like_question("ピラー2 OR 日米2プラス2")
    ix = index_of(
        tmp_path,
        "q.txt",
        "題\n梅雨は、北海道と小笠原諸島を除く日本で見られる。\n"
        "北海道の夏は涼しい。\nそれはどこかで見たのだが。\n",
    )
    results = search.search("日本で梅雨がないのは北海道とどこか。", ix)
    assert [h.line for h in results.hits] == [2, 3]  # particles and どこ count for nothing
    assert {results.hits[0].text[s:e] for s, e in results.hits[0].highlights} == {
        "梅雨",
        "北海道",
        "日本",
    }
    keyword = search.search("日本で梅雨がないのは北海道とどこか。", ix, mode="keyword")
    assert keyword.relaxed and all(hit.partial for hit in keyword.hits)  # as a phrase: nowhere
    assert looks_like_question("ラオスの国教は") and looks_like_question("日米2プラス2とは")
    # A lone quote in a sentence is a character, not an unclosed phrase; a pair is syntax.
    assert looks_like_question('”南谷津池"の西に位置している溜池の呼び名は何?')
    assert not looks_like_question('"南谷津池"の西に位置している溜池の呼び名は何?')


def test_keywords_that_find_nothing_together_fall_back_to_any_of_them(searcher):
    relaxed = searcher.search("ピラー2 梅雨前線", limit=50)
    assert relaxed.relaxed and relaxed.total > 0
    assert cited(relaxed) >= seed_lines(lambda line: "ピラー2" in line)
    assert all(hit.partial for hit in relaxed.hits)
    strict = searcher.search('ピラー2 "梅雨前線"', limit=50)
    assert (strict.total, strict.relaxed, strict.hits) == (0, False, [])


def test_kana_queries_find_words_by_reading_below_literal_matches(tmp_path):
    ix = index_of(
        tmp_path, "r.txt", "題\n統合作戦司令部を新設。\nとうごうという響き。\n防衛省の発表。\n"
    )
    results = search.search("とうごう", ix)
    assert [(h.line, h.highlights) for h in results.hits] == [(3, [(0, 4)]), (2, [(0, 2)])]
    defence = search.search("ぼうえい", ix).hits
    assert [(h.line, h.text[h.highlights[0][0] : h.highlights[0][1]]) for h in defence] == [
        (4, "防衛")
    ]


def test_seed_readings(searcher):
    assert ("004_7af21bdf63ee1157.txt", 23) in cited(searcher.search("とうごう", limit=50))
    assert seed_lines(lambda line: "防衛" in line) <= cited(searcher.search("ぼうえい", limit=200))


def test_latin_and_katakana_spellings_find_each_other(searcher):
    everywhere = seed_lines(
        lambda line: any(
            spelling in folded(line) for spelling in ("ピラー2", "pillar-ii", "pillar2")
        )
    )
    for spelling in ("Pillar-II", "Pillar2", "ピラー2", "pillar-ii"):
        assert cited(searcher.search(spelling, limit=50)) == everywhere, spelling
    pac3 = ("004_7af21bdf63ee1157.txt", 41)
    assert "PAC3" in dict(((h.source, h.line), h.text) for h in searcher.search("PAC-3").hits)[pac3]


def test_solr_synonyms_expand_and_rank_below_literal_matches(seed_index, tmp_path):
    rules = tmp_path / "synonyms.txt"
    rules.write_text("# Solr format\nオーカス, AUKUS\n統合作戦司令部 => JJOC\n", encoding="utf-8")
    with search.Searcher(seed_index, synonyms_file=rules) as searcher:
        results = searcher.search("オーカス", limit=100)
        literal = [h.rank for h in results.hits if "オーカス" in h.text]
        assert literal == [1]
        assert cited(results) >= seed_lines(lambda line: "AUKUS" in line)
        expanded = results.hits[1]
        assert {expanded.text[s:e].upper() for s, e in expanded.highlights} == {"AUKUS"}
        one_way = cited(searcher.search("統合作戦司令部", limit=100))
        assert one_way == seed_lines(lambda line: "統合作戦司令部" in line or "JJOC" in line)
        assert cited(searcher.search("JJOC", limit=100)) == seed_lines(lambda line: "JJOC" in line)


def test_sudachi_synonym_groups_are_opt_in(seed_index):
    america_only = seed_lines(lambda line: "アメリカ" in line and "米国" not in line)
    assert america_only
    plain = search.search("米国", seed_index, limit=300)
    assert not america_only & cited(plain)
    expanded = search.search("米国", seed_index, limit=300, sudachi_synonyms=True)
    assert america_only <= cited(expanded)
    first_expansion = min(h.rank for h in expanded.hits if "米国" not in h.text)
    assert all(h.rank < first_expansion for h in expanded.hits if "米国" in h.text)


def test_config_file_sets_synonyms_and_mode(tmp_path, monkeypatch, seed_index):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rules.txt").write_text("オーカス, AUKUS\n", encoding="utf-8")
    (tmp_path / "kensaku.toml").write_text('synonyms = "rules.txt"\n', encoding="utf-8")
    args = ["search", "--docs", str(SEEDS), "--index", str(seed_index), "--json", "オーカス"]
    with_config = CliRunner().invoke(main, args)
    assert with_config.exit_code == 0
    assert '"total": 22' in with_config.stdout
    (tmp_path / "kensaku.toml").write_text("synonyms = 3\n", encoding="utf-8")
    broken = CliRunner().invoke(main, args)
    assert broken.exit_code == 2 and "synonyms must be a str" in broken.stderr


def test_repeated_paragraphs_are_one_hit_citing_every_place(searcher):
    results = searcher.search("ピラー2", limit=50)
    repeated = {
        (h.source, h.line): [(p.source, p.line) for p in h.also] for h in results.hits if h.also
    }
    assert repeated == {
        ("001_2eb2e19b899ffa84.txt", 6): [("001_2eb2e19b899ffa84.txt", 19)],
        ("001_2eb2e19b899ffa84.txt", 7): [("001_2eb2e19b899ffa84.txt", 20)],
        ("001_2eb2e19b899ffa84.txt", 8): [("001_2eb2e19b899ffa84.txt", 21)],
    }
    assert len(results.hits) == 10 and results.total == 13


def test_a_phrase_is_highlighted_where_it_stands_whole_and_nowhere_else(searcher):
    hit = next(
        h
        for h in searcher.search("統合作戦司令部", limit=50).hits
        if (h.source, h.line) == ("004_7af21bdf63ee1157.txt", 23)
    )
    assert "統合軍司令部" in hit.text  # 統合 and 司令部 stand apart here: not highlighted
    assert [hit.text[s:e] for s, e in hit.highlights] == ["統合作戦司令部"]


def test_substring_matches_are_highlighted(searcher):
    hit = searcher.search("衛技術、サ", mode="keyword").hits[0]
    assert [hit.text[s:e] for s, e in hit.highlights] == ["衛技術、サ"]


def test_snippets_cut_at_sentence_ends_and_join_fragments_with_an_ellipsis(searcher):
    hit = next(
        h
        for h in searcher.search("ピラー2", limit=50).hits
        if (h.source, h.line) == ("001_2eb2e19b899ffa84.txt", 8)
    )
    assert hit.snippet.endswith("。…")
    assert [hit.snippet[s:e] for s, e in hit.snippet_highlights] == ["ピラー2"] * 3
    long_hit = searcher.search("統合作戦司令部").hits[0]
    fragments = [f for f in long_hit.snippet.split("…") if f]
    assert all(f in long_hit.text for f in fragments)
    assert all(f.endswith(("。", "！", "？")) or long_hit.text.endswith(f) for f in fragments)


def test_offsets_survive_full_width_emoji_combining_marks_and_long_paragraphs(tmp_path):
    long_paragraph = "長い文章です。" * 9000 + "最後にピラー２がある。"
    assert len(long_paragraph.encode("utf-8")) > 49_149
    ix = index_of(
        tmp_path,
        "o.txt",
        "題\n😀👨‍👩‍👧ピラー２😀\nか\u3099いこく\u3099のピラー2\n" + long_paragraph + "\n",
    )
    results = search.search("ピラー2", ix)
    spans = {h.line: [h.text[s:e] for s, e in h.highlights] for h in results.hits}
    assert spans == {2: ["ピラー２"], 3: ["ピラー2"], 4: ["ピラー２"]}
    # The long line is cut into paragraphs of at most MAX_PARAGRAPH_CHARS at sentence ends; the
    # hit is the last of them, cited by its line and the column where it starts.
    long_hit = next(h for h in results.hits if h.line == 4)
    assert long_paragraph[long_hit.column - 1 :] == long_hit.text and long_hit.column > 1
    assert long_hit.highlights == [(len(long_hit.text) - 8, len(long_hit.text) - 4)]
    start, end = long_hit.snippet_highlights[0]
    assert long_hit.snippet[start:end] == "ピラー２"
    gai = search.search("がい", ix).hits[0]
    assert [gai.text[s:e] for s, e in gai.highlights] == ["か\u3099い"]


def test_a_question_ranks_paragraphs_holding_more_of_its_words_first(tmp_path):
    ix = index_of(
        tmp_path,
        "m.txt",
        "グスタフ・マーラー\n作曲家の家族について。\n"
        "長女の名はマリア・アンナ。1907年に亡くなり、同じ年にマーラー自身も心臓病と"
        "診断され、ウィーンを離れてニューヨークへ渡った。\n",
    )
    # BM25 alone puts the one-line title (two rare words) first; line 3 holds three of four words,
    # and a heading, which cannot hold an answer, comes next, above line 2, which holds none.
    results = search.search("グスタフ・マーラーの長女の名は？", ix)
    assert [h.line for h in results.hits] == [3, 1, 2]
