"""Query parsing: runs are phrases, spaces AND, operators, and one-line errors for bad queries."""

import pytest

from search.errors import QuerySyntaxError
from search.query.parser import parse
from search.query.tree import And, Not, Or, Phrase, SourceFilter, phrases


def test_a_run_without_spaces_is_one_phrase():
    assert parse("ピラー2").tree == Phrase("ピラー2", ("ピラー", "2"), ("ピラー", "2"))
    assert parse("日米2プラス2").tree.words == ("日米", "2", "プラス", "2")


def test_spaces_mean_and_and_or_not_and_minus_are_operators():
    tree = parse("ピラー2 OR 統合作戦司令部 -AI").tree
    assert isinstance(tree, Or)
    first, second = tree.children
    assert first.text == "ピラー2"
    assert isinstance(second, And) and isinstance(second.children[1], Not)
    assert second.children[1].child.words == ("エーアイ",)
    assert parse("a NOT b").tree == parse("a -b").tree
    assert parse("a AND b").tree == parse("a b").tree


def test_lower_case_operators_and_inner_hyphens_are_text():
    assert parse("Pillar-II").tree == Phrase("Pillar-II", ("ピラー", "2"), ("ピラー", "2"))
    assert parse("ピラー、2").tree.words == ("ピラー", "2") and parse("ピラー、2").tree.slop == 2
    assert isinstance(parse("cats or dogs").tree, And)


def test_quotes_parentheses_and_source_filter():
    tree = parse('("日米 同盟" OR 防衛) source:004*').tree
    assert isinstance(tree, And)
    group, source = tree.children
    assert [p.text for p in group.children] == ["日米 同盟", "防衛"]
    assert source == SourceFilter("004*")
    quoted = parse('source:"日本語 ファイル名.txt" 日米').tree
    assert quoted.children[0] == SourceFilter("日本語 ファイル名.txt")


def test_phrases_for_highlighting_leave_out_negated_ones():
    assert [p.text for p in phrases(parse("防衛 -日本 (技術 OR 協力)").tree)] == [
        "防衛",
        "技術",
        "協力",
    ]


def test_punctuation_inside_a_query_is_dropped_but_words_remain():
    assert parse("ピラー2 、").tree.text == "ピラー2"
    assert parse("ピラー2 -").tree.text == "ピラー2"


@pytest.mark.parametrize(
    "query, reason",
    [
        ("", "empty"),
        ("   　", "empty"),
        ("。、！", "nothing to search for"),
        ('"ピラー2', "unbalanced quote"),
        ("(ピラー2", "unbalanced parenthesis"),
        ("ピラー2)", "unbalanced parenthesis"),
        ("()", "empty parentheses"),
        ("ピラー2 OR", "OR needs a term"),
        ("- 。", "nothing to search for"),
        ("NOT", "NOT needs a term"),
        ("source:", "source: needs"),
        ('source:"" 日米', "source: needs"),
        ('source:"日本語 ファイル 日米', "unbalanced quote: a source: pattern"),
    ],
)
def test_bad_queries_raise_a_one_line_error(query, reason):
    with pytest.raises(QuerySyntaxError, match=reason) as caught:
        parse(query)
    assert "\n" not in str(caught.value)
