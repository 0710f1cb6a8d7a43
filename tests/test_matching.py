"""Keyword matching term at a time (matching.py): the same paragraphs and scores as Whoosh's own
matchers for the query to_whoosh builds, on the real seed index and small real indexes."""

from __future__ import annotations

import pytest
from whoosh import query as q
from whoosh.index import open_dir
from whoosh.scoring import BM25F

import search
from search.engine.matching import match
from search.index import writer
from search.index.opening import open_index
from search.index.codec import CompactCodec
from search.index.schema import CHARS, PARAGRAPH_TEXT
from search.ingest.discovery import scan
from search.ingest.paragraphs import read_document
from search.query.parser import parse
from search.query.plan import GRAM_BOOST, to_whoosh
from search.text.analysis import fold

from .conftest import SEEDS, cited, index_of, seed_lines, updated_index, whoosh_writer_index

# Words, sub-words, substrings, readings, synonyms' shapes: phrases of every tier, AND, OR, NOT,
# source filters, one character (its term in chars), punctuation inside a phrase.
QUERIES = [
    "ピラー2",
    "統合作戦司令部",
    "司令",
    "日本",
    "とうごう",
    "日米2プラス2",
    "Pillar-II",
    "AI",
    '"日米 同盟"',
    "(日本 OR 米国) 防衛",
    "日本 -東京",
    "NOT 日本",
    "source:0*",
    "日本 source:0*",
    "ー2",
    "米",
    "東京、大学",
    "防衛、協力",
    "日米同盟 OR 統合作戦司令部 OR ピラー2",
]


def both_scores(
    index_dir, text: str, opener=open_index
) -> tuple[dict[int, float], dict[int, float]]:
    """(Whoosh's scores, ours) for the keyword query `text` on the index `opener` opens."""
    with opener(index_dir).searcher(weighting=BM25F()) as searcher:
        reader = searcher.reader()
        query = to_whoosh(parse(text, "keyword").tree, lambda field, term: (field, term) in reader)
        expected = {docnum: score for score, docnum in searcher.search(query, limit=None).top_n}
        return expected, match(searcher, query)


@pytest.mark.parametrize("text", QUERIES)
def test_same_matches_and_scores_as_whoosh(seed_index, text):
    expected, got = both_scores(seed_index, text)
    assert got.keys() == expected.keys()
    assert max((abs(got[d] - expected[d]) for d in got), default=0.0) < 1e-9


@pytest.mark.parametrize("text", ["日本の", "することが", "発表した", "日本と", "ている"])
def test_a_run_of_common_words_found_through_its_pairs_is_where_they_stand_side_by_side(
    seed_index, text
):
    phrase = parse(text, "keyword").tree
    words_tier, subwords_tier = to_whoosh(phrase).subqueries[:2]
    with open_index(seed_index).searcher(weighting=BM25F()) as searcher:
        for field, terms, tier in (
            ("words", phrase.words, words_tier),
            ("subwords", phrase.subwords, subwords_tier),
        ):
            assert tier.child.fieldname == field.removesuffix("s") + "_pairs"
            side_by_side = searcher.search(q.Phrase(field, list(terms)), limit=None)
            assert match(searcher, tier).keys() == {docnum for _, docnum in side_by_side.top_n}
            assert len(side_by_side) >= 2


@pytest.fixture(scope="module", params=["whoosh writer", "compound"])
def other_layout(request, tmp_path_factory):
    """The seeds indexed by Whoosh's own writer with kensaku's codec, or by ours into one compound
    file per segment: a plain Whoosh directory either way."""
    path = tmp_path_factory.mktemp("other-layout") / "ix"
    if request.param == "compound":
        writer.write_index(path, scan(SEEDS).documents, read_document, procs=1, compound=True)
    else:
        whoosh_writer_index(path, scan(SEEDS).documents, codec=CompactCodec())
    return path


@pytest.mark.parametrize("text", QUERIES)
def test_indexes_of_other_layouts_are_read_alike(other_layout, text):
    expected, got = both_scores(other_layout, text, lambda path: open_dir(str(path)))
    assert got.keys() == expected.keys()
    assert max((abs(got[d] - expected[d]) for d in got), default=0.0) < 1e-9


@pytest.mark.parametrize("char", ["の", "米"])
def test_one_character_is_one_term_of_chars_scored_as_whoosh_does(seed_index, char):
    """A one-character query's substring tier is the character's term in the chars field:
    Whoosh's own scores, and every paragraph whose folded text holds the character."""
    expected, got = both_scores(seed_index, char)
    assert got.keys() == expected.keys() and len(got) > 50
    assert max(abs(got[d] - expected[d]) for d in got) < 1e-9
    with open_index(seed_index).searcher(weighting=BM25F()) as searcher:
        substring_tier = next(
            part
            for part in to_whoosh(parse(char, "keyword").tree).subqueries
            if part.child == q.Term(CHARS, char, boost=GRAM_BOOST)
        )
        holders = match(searcher, substring_tier).keys()
        texts = {
            docnum: fields[PARAGRAPH_TEXT]
            for docnum, fields in enumerate(searcher.reader().all_stored_fields())
        }
    assert holders == {docnum for docnum, text in texts.items() if char in fold(text)}


def test_queries_compared_are_not_empty(seed_index):
    sizes = {text: len(both_scores(seed_index, text)[1]) for text in QUERIES}
    assert sum(1 for size in sizes.values() if size) >= 15
    assert sizes["ピラー2"] == 13 and sizes["統合作戦司令部"] == 3


def test_a_phrase_needs_its_words_in_order_and_adjacent(tmp_path):
    index_dir = index_of(
        tmp_path, "a.txt", "ピラー2の協力。\n\nピラー、2の話。\n\n2とピラーの順。\n"
    )
    with search.Searcher(index_dir) as searcher:
        assert [h.line for h in searcher.search("ピラー2", mode="keyword").hits] == [1]
        # Punctuation in the query lets the words stand one gap apart, as in the text.
        assert sorted(h.line for h in searcher.search("ピラー、2", mode="keyword").hits) == [1, 3]


def test_not_excludes_every_paragraph_with_any_unwanted_word(searcher):
    # Whoosh's own AndNot let one paragraph mentioning 米軍 through (docnum 183 of the seeds).
    results = searcher.search("自衛隊 NOT (米軍 OR 米国)", limit=100, mode="keyword")
    assert cited(results) == seed_lines(
        lambda line: "自衛隊" in line and "米軍" not in line and "米国" not in line
    )
    assert results.total == len(results.hits) + sum(len(h.also) for h in results.hits)


def test_same_as_whoosh_after_an_update_with_deletions(docs_copy, tmp_path):
    index_dir = updated_index(docs_copy, tmp_path, "ピラー2の統合作戦司令部。")
    for text in ("ピラー2", "統合作戦司令部 OR 日本", "日本 -東京"):
        expected, got = both_scores(index_dir, text)
        assert got.keys() == expected.keys() and got
        assert max(abs(got[d] - expected[d]) for d in got) < 1e-9


def test_phrases_matched_in_all_the_index_are_kept_for_the_next_query(seed_index):
    """A search's queries share the phrases matched in all the index: the soft AND rereads
    them, and an AND reads them among its candidates, with the same scores."""
    with open_index(seed_index).searcher(weighting=BM25F()) as searcher:
        phrase = to_whoosh(parse("統合作戦司令部", "keyword").tree)
        kept: dict = {}
        alone = match(searcher, phrase, phrases=kept)
        assert ("grams", ("統合", "合作", "作戦", "戦司", "司令", "令部"), 1, GRAM_BOOST) in kept
        assert match(searcher, phrase, phrases=kept) == alone
        both = to_whoosh(parse("統合作戦司令部 日米", "keyword").tree)
        assert match(searcher, both, phrases=kept) == match(searcher, both)
        assert set(alone) == {126, 139, 199}
