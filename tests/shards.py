"""What the sharded tests share: a subset of ../shared's Wikinews, the queries of every form the
CLI takes, generated queries (hypothesis), and the comparison of a sharded search with one
index's: the same hits in the same order, scores equal to the bit, the same totals, paging,
also-places, snippets and highlights, and the same documents for -l and -c."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from hypothesis import strategies as st

from search.errors import QuerySyntaxError

from .conftest import REPO

WIKINEWS = REPO.parent / "shared" / "corpus" / "wikinews" / "docs"
WIKINEWS_DOCUMENTS = 180  # a small, real corpus: 3 shards build in a few seconds

# Every form of query the CLI takes, on the seeds.
SEED_QUERIES = [
    ("ピラー2", "auto"),  # keywords: a phrase of a word and a number
    ("統合作戦司令部", "auto"),
    ("日米 同盟 強化", "auto"),  # words apart: soft AND
    ('"日米 同盟"', "auto"),  # a quoted phrase
    ("ピラー1 OR ピラー2", "auto"),  # boolean
    ("(ピラー1 OR ピラー2) 韓国", "auto"),
    ("防衛 NOT 韓国", "auto"),
    ("-韓国", "auto"),  # only a NOT
    ("日米 -韓国", "auto"),
    ("source:001 日米", "auto"),  # a source filter
    ("source:00* 防衛", "auto"),
    ("日米2プラス2とは何か？", "auto"),  # questions
    ("在日米軍の運用権限はどう変わる？", "auto"),
    ("統合作戦司令部はいつ発足したか？", "question"),
    ("人", "auto"),  # one character
    ("の", "keyword"),
    ("ぴらー", "auto"),  # kana: read by readings
    ("にちべい", "auto"),
    ("汽車 停車場", "auto"),  # no hit
    ("ピラー2 汽車", "auto"),  # some of the parts only
    ("防衛装備移転 汽車", "auto"),  # relaxed into words
    ("AI", "auto"),  # Latin within word bounds
    ("PAC", "keyword"),
    ("日本 防衛 予算 宇宙", "keyword"),
]
PAGES = [(10, 0), (5, 3), (3, 11)]  # (limit, offset)


def wikinews_subset(destination: Path, count: int = WIKINEWS_DOCUMENTS) -> Path:
    """A folder of the first `count` Wikinews articles (copied); skips without ../shared."""
    if not WIKINEWS.is_dir():
        pytest.skip(f"{WIKINEWS} is absent: the sharded corpus tests need ../shared")
    destination.mkdir(parents=True)
    for path in sorted(WIKINEWS.glob("*.txt"))[:count]:
        shutil.copy(path, destination / path.name)
    return destination


def assert_same_results(one, sharded, query: str, mode: str, limit: int, offset: int) -> None:
    """The sharded searcher answers `query` exactly as the one index does."""
    try:
        expected = one.search(query, limit, mode, offset)
    except QuerySyntaxError as error:
        with pytest.raises(QuerySyntaxError, match=str(error)[:40]):
            sharded.search(query, limit, mode, offset)
        return
    found = sharded.search(query, limit, mode, offset)
    where = f"{query!r} ({mode}, limit {limit}, offset {offset})"
    assert found.hits == expected.hits, where  # citations, text, also-places, scores to the bit
    assert [hit.score for hit in found.hits] == [hit.score for hit in expected.hits], where
    assert found.to_dict() == expected.to_dict(), where  # snippets and highlights too
    assert (found.total, found.more, found.relaxed) == (
        expected.total,
        expected.more,
        expected.relaxed,
    ), where


def assert_same_sources(one, sharded, query: str, mode: str) -> None:
    """-l and -c: the same documents, counts and order."""
    try:
        expected = one.sources(query, mode)
    except QuerySyntaxError:
        return
    assert list(sharded.sources(query, mode).items()) == list(expected.items()), query


def corpus_pieces(docs: Path, count: int = 400, seed: int = 7) -> list[str]:
    """Pieces of the corpus's lines (2 to 6 characters, whitespace-free): words, parts of words,
    runs across word bounds; what generated queries are made of."""
    chooser = random.Random(seed)
    lines = [
        line.strip()
        for path in sorted(docs.glob("*.txt"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if len(line.strip()) >= 6
    ]
    pieces = set()
    while len(pieces) < count:
        line = chooser.choice(lines)
        size = chooser.randint(2, 6)
        start = chooser.randrange(0, len(line) - size + 1)
        piece = line[start : start + size]
        if not any(character.isspace() or character in '()"-:' for character in piece):
            pieces.add(piece)
    return sorted(pieces)


def queries(pieces: list[str]):
    """A strategy of (query, mode) of every form, made of corpus pieces."""
    piece = st.sampled_from(pieces)
    forms = st.one_of(
        piece,
        st.tuples(piece, piece).map(" ".join),
        st.tuples(piece, piece, piece).map(" ".join),
        st.tuples(piece, piece).map(" OR ".join),
        st.tuples(piece, piece).map(lambda pair: f"{pair[0]} -{pair[1]}"),
        st.tuples(piece, piece).map(lambda pair: f"{pair[0]} NOT {pair[1]}"),
        st.tuples(piece, piece).map(lambda pair: f'"{pair[0]} {pair[1]}"'),
        st.tuples(piece, piece, piece).map(lambda three: f"({three[0]} OR {three[1]}) {three[2]}"),
        piece.map(lambda one: f"-{one}"),
        st.tuples(st.sampled_from(["jawikinews-0000", "jawikinews-0001*"]), piece).map(
            lambda pair: f"source:{pair[0]} {pair[1]}"
        ),
        piece.map(lambda one: f"{one}とは何か？"),
        st.tuples(piece, piece).map(lambda pair: f"{pair[0]}の{pair[1]}はどこか。"),
        piece.map(lambda one: one[0]),  # one character
        piece.map(lambda one: f"{one}汽車停車場"),  # a phrase found nowhere: relaxed
    )
    return st.tuples(forms, st.sampled_from(["auto", "auto", "keyword", "question"]))
