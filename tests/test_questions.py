"""Questions: the term-at-a-time BM25F first stage (bm25.py) and the answer reranker (rerank.py),
on the real seed index and small real indexes."""

from __future__ import annotations

import pytest
from whoosh.scoring import BM25F

import search
from search.engine import bm25
from search.engine.bm25 import score_any
from search.index.opening import open_index
from search.query.parser import parse
from search.query.plan import question_terms, to_whoosh
from search.query.tree import Question
from search.ranking.rerank import QUESTION, Asked, QuestionWord, asked, combine, signals

from .conftest import index_of, updated_index

QUESTIONS = [
    "統合作戦司令部はいつ発足したか？",
    "ピラー2とは何か？",
    "日米2プラス2はどこで開かれたか？",
    "オーストラリアに原子力潜水艦を提供するのは誰か？",
]


def answer_score(share: float, text: str, title: str, question: Asked, weights=QUESTION) -> float:
    """BM25F's `share` of the best score, times how well the paragraph covers the question."""
    return combine(signals(share, text, title, question), weights)


def whoosh_scores(index_dir, question: str) -> dict[int, float]:
    """Whoosh's own scores for the question's OR of terms: the reference."""
    tree = parse(question, "question").tree
    assert isinstance(tree, Question)
    index = open_index(index_dir)
    with index.searcher(weighting=BM25F()) as searcher:
        found = searcher.search(to_whoosh(tree), limit=None)
        return {docnum: score for score, docnum in found.top_n}


def our_scores(index_dir, question: str) -> dict[int, float]:
    index = open_index(index_dir)
    with index.searcher(weighting=BM25F()) as searcher:
        return score_any(searcher, question_terms(parse(question, "question").tree))


@pytest.mark.parametrize("question", QUESTIONS)
def test_term_at_a_time_scores_equal_whooshs(seed_index, question):
    expected, got = whoosh_scores(seed_index, question), our_scores(seed_index, question)
    assert got.keys() == expected.keys() and len(got) > 10
    assert max(abs(got[d] - expected[d]) for d in got) < 1e-9


def test_deleted_paragraphs_are_not_scored_after_an_update(docs_copy, tmp_path):
    index_dir = updated_index(docs_copy, tmp_path, "統合作戦司令部の発足は来年。")
    question = QUESTIONS[0]
    expected, got = whoosh_scores(index_dir, question), our_scores(index_dir, question)
    assert got.keys() == expected.keys()
    assert max(abs(got[d] - expected[d]) for d in got) < 1e-9
    with search.Searcher(index_dir) as searcher:
        assert all(h.source != "004_7af21bdf63ee1157.txt" for h in searcher.search(question).hits)


def test_a_question_counts_every_paragraph_holding_any_of_its_words(searcher, seed_index):
    question = QUESTIONS[1]
    assert searcher.search(question).total == len(whoosh_scores(seed_index, question))


def two_words(weight_a: float = 1.0, weight_b: float = 1.0, bigrams=frozenset({"長女"})) -> Asked:
    return Asked(
        (QuestionWord(frozenset({"長女"}), weight_a), QuestionWord(frozenset({"名"}), weight_b)),
        frozenset(bigrams),
    )


def test_a_word_in_the_title_counts_as_covered():
    question = two_words(bigrams=())
    with_title = answer_score(1.0, "その名はマリア。", "長女", question)
    without = answer_score(1.0, "その名はマリア。", "作曲家", question)
    assert with_title > 2 * without


def test_rare_words_weigh_more_than_common_ones():
    equal, skewed = two_words(bigrams=()), two_words(weight_a=5.0, weight_b=0.5, bigrams=())
    assert answer_score(1.0, "長女がいた。", "", equal) == answer_score(
        1.0, "名がある。", "", equal
    )
    assert answer_score(1.0, "長女がいた。", "", skewed) > answer_score(
        1.0, "名がある。", "", skewed
    )


def test_words_together_in_one_sentence_beat_words_apart():
    question = two_words()
    together = answer_score(1.0, "長女の名はマリア。夫は作曲家。", "", question)
    apart = answer_score(1.0, "長女がいた。夫は作曲家で、ずっと後に名を上げた。", "", question)
    assert together > apart


def test_a_heading_ranks_below_a_sentence_with_the_same_words():
    question = two_words()
    assert answer_score(1.0, "長女の名", "", question) < answer_score(
        0.8, "長女の名はマリア。", "", question
    )


def test_question_words_are_weighted_by_rarity_in_the_index():
    question = asked(
        "長女の名は？",
        [("長女", "長女"), ("名", "名")],
        {"長女": 1, "名": 90}.__getitem__,
        doc_count=100,
    )
    rare, common = question.words
    assert rare.weight > 3 * common.weight
    assert question.bigrams == frozenset({"長女"})  # bigrams with kana or punctuation say little


def test_the_answer_paragraph_outranks_the_articles_heading(tmp_path):
    ix = index_of(
        tmp_path,
        "laos.txt",
        "ラオス\n"
        "ラオスは東南アジアの国である。\n"
        "国家主席にはチュンマリー・サイニャソーンが選出され、首相にはブアソーンが選ばれた。\n",
    )
    hits = search.search("ラオスの国家主席は誰か？", ix).hits
    assert [h.line for h in hits][0] == 3
    assert hits[-1].line == 1


def test_a_question_shows_a_repeated_paragraph_once_citing_every_place(searcher):
    # Seed 001 carries its article twice: lines 8 and 21 hold the same paragraph.
    hits = searcher.search("ピラー2に参加する可能性はあるのか？").hits
    places = [(h.source, h.line) for h in hits]
    assert len(places) == len(set(places))
    repeated = [h for h in hits if h.source == "001_2eb2e19b899ffa84.txt" and h.line in (8, 21)]
    assert len(repeated) == 1
    other = 21 if repeated[0].line == 8 else 8
    assert [(p.source, p.line) for p in repeated[0].also] == [("001_2eb2e19b899ffa84.txt", other)]


def test_nearness_counts_words_within_twelve_characters_even_in_huge_paragraphs():
    question = two_words(bigrams=())
    assert signals(1.0, "長女の名はマリア。", "", question).near == 1.0
    assert signals(1.0, "長女がいた。" + "ー" * 20 + "名", "", question).near == 0.0
    # 20,000 places of each word, none close: a comparison of every pair would take minutes.
    apart = ("長女" + "ー" * 30) * 20_000 + ("名" + "ー" * 30) * 20_000
    assert signals(1.0, apart, "", question).near == 0.0


def test_counters_after_numbers_are_looked_up_as_words_only():
    question = parse("1945年8月14日、どの国がポツダム宣言を受諾したか?", "question").tree
    assert question.counters == {"年", "月", "日"}
    terms = question_terms(question)
    assert [t for t in terms if t[1] == "年"] == [("words", "年", 2.0)]
    assert {t[0] for t in terms if t[1] == "ポツダム"} == {"words", "context", "subwords"}
    assert (
        parse("あの年に何が起きたか?", "question").tree.counters == frozenset()
    )  # no number before it


def test_a_word_is_a_counter_only_where_every_occurrence_follows_a_number():
    assert parse("四月一日は何の日?", "question").tree.counters == {"月"}  # 日 stands alone too
    assert parse("8月1日は何の記念日?", "question").tree.counters == {"月", "日"}


def test_a_lead_paragraph_is_no_title_that_lifts_its_whole_article(searcher):
    """Seed 001 opens with its lead paragraph, not a title: it once became the title, and the
    title's words lifted every paragraph of 001, question words or not, above the answer."""
    hits = searcher.search("在日米軍の運用権限はどう変わる？", limit=10).hits
    defining = next(
        hit for hit in hits if (hit.source, hit.line) == ("001_2eb2e19b899ffa84.txt", 1)
    )
    assert defining.rank <= 3
    holds_a_word = [any(word in hit.text for word in ("在日米軍", "運用", "権限")) for hit in hits]
    assert holds_a_word[:4] == [True] * 4


@pytest.mark.parametrize("updated", [False, True])
def test_bulk_scores_equal_block_at_a_time_ones_to_the_bit(
    seed_index, docs_copy, tmp_path, updated
):
    """A question's terms are scored in bulk (numpy, an array by docnum); adding
    into a dict a block at a time (the path with `into`) gives the very same floats, for terms
    of one posting, of one block and of several (の: over 128 paragraphs), deletions included."""
    index_dir = (
        updated_index(docs_copy, tmp_path, "統合作戦司令部の発足は来年。")
        if updated
        else seed_index
    )
    terms = [
        ("words", "の", 1.0),
        ("grams", "日米", 1.5),
        ("words", "日本", 2.0),
        ("words", "統合作戦司令部", 1.0),
        ("readings", "トウゴウ", 0.5),
    ]
    with open_index(index_dir).searcher(weighting=BM25F()) as searcher:
        bulk = bm25._as_dict(bm25.score_dense(bm25.Statistics(searcher), terms))
        by_blocks = score_any(searcher, terms, into={})
        assert searcher.reader().doc_frequency("words", "の") > 128
    assert bulk == by_blocks and len(bulk) > 100


@pytest.mark.parametrize("depth", [1, 5, 100])
@pytest.mark.parametrize("question", QUESTIONS)
def test_question_candidates_from_arrays_are_those_from_dicts(searcher, question, depth):
    """The best distinct paragraphs, the count and the paragraphs matched by title alone are the
    same whether a question is scored into arrays (numpy) or into dicts."""
    terms = question_terms(parse(question, "question").tree)
    shard = _shard(searcher)
    in_arrays = shard._question_candidates_in_bulk(shard.statistics, terms, depth)
    by_dicts = shard._question_candidates_by_dict(shard.statistics, terms, depth)
    assert in_arrays[:3] == by_dicts[:3]
    assert sorted(in_arrays[3].tolist()) == sorted(by_dicts[3])  # all that match
    best, total, _, _ = in_arrays
    texts = {searcher.ranking.stored_fields(docnum)["text"] for _, docnum in best}
    assert len(texts) == len(best)  # one paragraph per text
    assert len(best) == depth if depth < 20 else len(best) < total  # repeats gave way
    assert best == sorted(best, key=lambda pair: (-pair[0], pair[1]))


def test_a_question_matched_by_title_alone_is_told_apart_in_arrays(searcher):
    """ピラー2とは何か？: paragraphs of a document titled with ピラー2 that hold none of its
    words are found by their title, in arrays as in dicts."""
    terms = question_terms(parse("ピラー2とは何か？", "question").tree)
    shard = _shard(searcher)
    _, total, by_title, _ = shard._question_candidates_in_bulk(shard.statistics, terms, 100)
    assert by_title == shard._question_candidates_by_dict(shard.statistics, terms, 100)[2]
    assert 0 < len(by_title) < total


def _shard(searcher):
    """The one shard of an index that is not sharded."""
    (shard,) = searcher.ranking.shards.shards
    return shard


@pytest.mark.parametrize(
    "question",
    [
        "日米2プラス2とは何か？",  # asks what a term is: the paragraphs defining it first
        "日本の防衛はどう変わるのですか？",  # past the reranked head; some match by title alone
        "在日米軍の運用権限はどう変わる？",
    ],
)
def test_a_questions_scores_fall_with_rank(searcher, question):
    """The score a hit reports agrees with its order, as keyword tiers do: rank 1 once had
    0.1485 and ranks 2 and 3 6.8445 (the paragraphs defining the term, or holding some of the
    words, go first whatever their answer score)."""
    hits = searcher.search(question, limit=300, mode="question").hits
    scores = [hit.score for hit in hits]
    assert len(hits) > 10 and scores == sorted(scores, reverse=True), question
    assert scores[0] > scores[-1]
