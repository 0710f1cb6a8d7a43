"""A one-character query: every bigram it starts read in bulk (format.term_run, run_postings),
scored by bm25.score_prefix exactly as its terms one by one, the candidates' tiers found by
postings.prefix_holders, and the hits of a small real index (real Sudachi, real indexes)."""

from __future__ import annotations

import pytest
from whoosh.scoring import BM25F

import search
from search.engine.bm25 import Statistics, score_any, score_prefix
from search.engine.matching import match, tiers
from search.engine.postings import Wanted, prefix_holders
from search.index import open_index
from search.parser import parse
from search.plan import GRAM_BOOST, TIER_BONUS, to_whoosh

from .conftest import index_of, updated_index

CHARACTERS = ["の", "米", "日", "2", "a", "ー", "蜃"]


def _one_by_one(searcher, statistics, char: str, among=None, into=None, bonus=0.0):
    """score_any of the bigrams starting with `char`, each looked up alone (the plan before)."""
    terms = statistics.terms.with_prefix("grams", char)
    return score_any(searcher, [("grams", term, GRAM_BOOST) for term in terms], among,
                     into=into, bonus=bonus, statistics=statistics)


@pytest.mark.parametrize("char", CHARACTERS)
def test_a_prefix_read_in_bulk_scores_exactly_as_its_terms_one_by_one(seed_index, char):
    with open_index(seed_index).searcher(weighting=BM25F()) as searcher:
        statistics = Statistics(searcher)
        expected = _one_by_one(searcher, statistics, char)
        assert score_prefix(statistics, "grams", char, GRAM_BOOST) == expected
        some = Wanted(set(list(expected)[::3]) | {0, 1, 2})
        assert score_prefix(statistics, "grams", char, GRAM_BOOST, some) == \
            _one_by_one(searcher, statistics, char, some)
        start = {docnum: 1.5 for docnum in list(expected)[::2] + [3]}
        into = dict(start)
        score_prefix(statistics, "grams", char, GRAM_BOOST, into=into, bonus=100.0)
        assert into == {**start, **{docnum: start.get(docnum, 0.0) + score + 100.0
                                    for docnum, score in expected.items()}}
    assert char == "蜃" or len(expected) > 3


def test_common_characters_hold_many_bigrams_in_the_seeds(seed_index):
    with open_index(seed_index).searcher(weighting=BM25F()) as searcher:
        statistics = Statistics(searcher)
        assert len(statistics.terms.with_prefix("grams", "の")) > 100
        assert len(score_prefix(statistics, "grams", "の", GRAM_BOOST)) > 100


def test_a_prefix_after_an_update_with_deletions(docs_copy, tmp_path):
    index_dir = updated_index(docs_copy, tmp_path, "ピラー2の統合作戦司令部。")
    with open_index(index_dir).searcher(weighting=BM25F()) as searcher:
        statistics = Statistics(searcher)
        assert any(segment.deleted for segment in statistics.terms.segments)
        for char in ("の", "ピ"):
            expected = _one_by_one(searcher, statistics, char)
            assert expected and score_prefix(statistics, "grams", char, GRAM_BOOST) == expected


@pytest.mark.parametrize("char", ["の", "米", "a"])
def test_the_holders_of_a_prefix_are_the_wanted_paragraphs_it_matches(seed_index, char):
    with open_index(seed_index).searcher(weighting=BM25F()) as searcher:
        statistics = Statistics(searcher)
        matched = set(_one_by_one(searcher, statistics, char))
        wanted = Wanted(set(list(matched)[:40]) | set(range(0, statistics.doc_count, 7)))
        assert prefix_holders(statistics.terms, "grams", char, wanted) == matched & wanted.docnums
        assert prefix_holders(statistics.terms, "grams", char, Wanted(set())) == set()


def test_tiers_of_a_one_character_query_count_its_substring_tier(seed_index):
    with open_index(seed_index).searcher(weighting=BM25F()) as searcher:
        query = to_whoosh(parse("の", "keyword"))
        scores = match(searcher, query)
        best = sorted(scores, key=scores.get, reverse=True)[:20]
        found = tiers(searcher, query, best)
    assert all(found[docnum] == sum(TIER_BONUS.values()) for docnum in best[:10])


def test_a_one_character_query_finds_every_paragraph_holding_it(tmp_path):
    index_dir = index_of(tmp_path, "a.txt",
                         "人が来た。\n\n人間の話。\n\n犬と猫。\n\n名人\n\n三人の人が人を見た。\n")
    with search.Searcher(index_dir) as searcher:
        results = searcher.search("人", mode="keyword")
        assert results.total == 4
        assert sorted(hit.line for hit in results.hits) == [1, 3, 7, 9]
        # As a word first (人 alone, three times the best), then inside words (人間, 名人).
        assert [hit.line for hit in results.hits][:2] == [9, 1]
        assert {hit.line for hit in results.hits[2:]} == {3, 7}
        assert searcher.search("猫", mode="keyword").total == 1
