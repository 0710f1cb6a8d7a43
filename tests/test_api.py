"""The Python API: paging, counts by document, and the right error class, with a one-line
message, for each misuse (a limit that is not a positive whole number, a closed Searcher, a
missing index), never IndexDamaged for what is not damage."""

from __future__ import annotations

import pytest

import search
from search.errors import IndexDamaged, KensakuError


@pytest.mark.parametrize(
    "limit, error, message",
    [
        (None, TypeError, "limit must be a whole number, not NoneType"),
        ("10", TypeError, "limit must be a whole number, not str"),
        (2.5, TypeError, "limit must be a whole number, not float"),
        (True, TypeError, "limit must be a whole number, not bool"),
        (0, ValueError, "limit must be 1 or more, not 0"),
        (-1, ValueError, "limit must be 1 or more, not -1"),
    ],
)
def test_a_limit_that_is_not_a_positive_whole_number(searcher, seed_index, limit, error, message):
    with pytest.raises(error) as raised:
        searcher.search("ピラー2", limit=limit)
    assert str(raised.value) == message
    with pytest.raises(error):
        search.search("ピラー2", seed_index, limit=limit)


def test_a_negative_offset(searcher):
    with pytest.raises(ValueError, match="^offset must be 0 or more, not -3$"):
        searcher.search("ピラー2", offset=-3)


def test_a_closed_searcher(seed_index):
    opened = search.Searcher(seed_index)
    opened.close()
    for use in (lambda: opened.search("ピラー2"), lambda: opened.sources("ピラー2")):
        with pytest.raises(ValueError, match="^this Searcher is closed; open a new one to search$"):
            use()
    with search.Searcher(seed_index) as searcher:
        pass
    with pytest.raises(ValueError):
        searcher.search("ピラー2")


def test_a_missing_index_is_not_called_damaged(tmp_path):
    (tmp_path / "empty").mkdir()
    for index_dir in (tmp_path / "nowhere", tmp_path / "empty"):
        for use in (
            lambda: search.search("ピラー2", index_dir),
            lambda: search.Searcher(index_dir),
        ):
            with pytest.raises(search.IndexNotFound) as raised:
                use()
            assert not isinstance(raised.value, IndexDamaged)
            assert isinstance(raised.value, KensakuError) and raised.value.exit_code == 1
            assert str(raised.value) == (
                f"no index in {index_dir} yet; build one with "
                f"`kensaku index --docs DIR --index {index_dir}`"
            )


def test_pages_continue_the_ranking(searcher):
    whole = searcher.search("日米", limit=9)
    pages = [searcher.search("日米", limit=3, offset=offset) for offset in (0, 3, 6)]
    assert [(h.rank, h.source, h.line) for page in pages for h in page.hits] == [
        (h.rank, h.source, h.line) for h in whole.hits
    ]
    assert [page.offset for page in pages] == [0, 3, 6]
    assert all(page.more for page in pages) and all(page.total == 52 for page in pages)
    assert searcher.search("ピラー2", limit=10).more is False  # 10 hits: 13 paragraphs, 3 repeats


@pytest.mark.parametrize("sort", ["relevance", "date"])
@pytest.mark.parametrize(
    "query", ["日米同盟強化", "防衛 NOT 韓国", "日本の防衛はどう変わるのですか？", "の"]
)
def test_the_first_hits_are_the_same_whatever_the_limit_and_offset(searcher, query, sort):
    """Keywords (soft AND too) and a question with more matches than a reranked head: every
    limit's hits begin the longest list, and pages of 10 join into it."""

    def cited(limit: int, offset: int = 0) -> list[tuple[str, int]]:
        found = searcher.search(query, limit=limit, offset=offset, sort=sort)
        return [(hit.source, hit.paragraph) for hit in found.hits]

    whole = cited(300)
    assert len(whole) > (120 if query.endswith("？") else 30)  # past the reranked head
    for limit in (1, 4, 10, 21, 45, 101, 150):
        assert cited(limit) == whole[:limit]
    assert [hit for offset in range(0, len(whole), 10) for hit in cited(10, offset)] == whole


def test_sources_counts_matching_paragraphs_by_document_best_first(searcher):
    assert searcher.sources("ピラー2") == {
        "001_2eb2e19b899ffa84.txt": 6,
        "000_9ac1f42681134e70.txt": 7,
    }
    assert sum(searcher.sources("日米").values()) == searcher.search("日米").total
    assert searcher.sources("存在しない語彙ですよ") == {}


def test_results_know_the_documents_folder(searcher, seed_index):
    from .conftest import SEEDS

    assert searcher.docs_dir == SEEDS
    assert search.search("ピラー2", seed_index).docs_dir == SEEDS
