"""A sharded index searched in one process ranks exactly as one index of the same documents: on
the seeds, on a 3-shard build of Wikinews from ../shared, and for generated queries; its shards
are contiguous runs of documents balanced by bytes, an update rebuilds only the shards whose
documents changed, and a damaged shard is a one-line error naming it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

import search
from search.cli.main import main
from search.index.manifest import Manifest
from search.index.shards import ShardedManifest
from search.query.filters import Filters

from .conftest import SEEDS
from .shards import (
    PAGES,
    SEED_QUERIES,
    assert_same_results,
    assert_same_sources,
    corpus_pieces,
    queries,
    wikinews_subset,
)


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def seed_shards(tmp_path_factory):
    """The seeds in 3 shards, as `kensaku index --shards 3` builds them."""
    index_dir = tmp_path_factory.mktemp("seed-shards") / "index"
    result = run("index", "--docs", str(SEEDS), "--index", str(index_dir), "--shards", "3")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("indexed 5 documents, 233 paragraphs in ")
    return index_dir


@pytest.fixture(scope="module")
def seed_pair(seed_index, seed_shards):
    with search.Searcher(seed_index) as one, search.Searcher(seed_shards) as sharded:
        yield one, sharded


@pytest.fixture(scope="module")
def wikinews_pair(tmp_path_factory):
    """One index and 3 shards of the same Wikinews articles, open."""
    root = tmp_path_factory.mktemp("wikinews")
    docs = wikinews_subset(root / "docs")
    search.build_index(docs, root / "one")
    search.build_index(docs, root / "three", shards=3)
    with search.Searcher(root / "one") as one, search.Searcher(root / "three") as sharded:
        one.docs, one.root = docs, root
        yield one, sharded


@pytest.mark.parametrize(("query", "mode"), SEED_QUERIES)
def test_every_query_form_ranks_on_shards_as_on_one_index(seed_pair, query, mode):
    one, sharded = seed_pair
    for limit, offset in PAGES:
        assert_same_results(one, sharded, query, mode, limit, offset)
    assert_same_sources(one, sharded, query, mode)


def test_the_seed_queries_are_not_vacuous(seed_pair):
    """The equalities above compare hits: some queries find many, some only part of the query,
    some after relaxation, some none."""
    _, sharded = seed_pair
    assert sharded.search("ピラー2").total == 13
    assert sharded.search("防衛装備移転 汽車").relaxed
    assert sharded.search("汽車 停車場").hits == []
    assert sharded.search("在日米軍の運用権限はどう変わる？").total == 20


def test_a_text_repeated_across_shards_is_one_hit_with_all_its_places(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    repeated = "同じ段落が三つの文書に載っている。"
    for name in ("a.txt", "b.txt", "c.txt"):
        (docs / name).write_text(f"{name}の見出し\n{repeated}\n", encoding="utf-8")
    search.build_index(docs, tmp_path / "one")
    search.build_index(docs, tmp_path / "three", shards=3)
    assert len(ShardedManifest.load(tmp_path / "three").shards) == 3
    for index in ("one", "three"):
        (hit,) = search.search("三つの文書", tmp_path / index).hits
        assert (hit.source, hit.line) == ("a.txt", 2)
        assert [(place.source, place.line) for place in hit.also] == [("b.txt", 2), ("c.txt", 2)]


def test_a_wikinews_corpus_in_3_shards_ranks_as_one_index(wikinews_pair):
    one, sharded = wikinews_pair
    pieces = corpus_pieces(one.docs, 60, seed=3)
    for piece in pieces:
        for query in (piece, f"{piece}とは何か？", f"{piece} {pieces[0]}"):
            assert_same_results(one, sharded, query, "auto", 10, 0)
        assert_same_sources(one, sharded, piece, "auto")
    assert sum(bool(one.search(piece).hits) for piece in pieces) > 40


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=queries(corpus_pieces(SEEDS, 200) if SEEDS.is_dir() else ["日米"]))
def test_generated_queries_rank_on_seed_shards_as_on_one_index(seed_pair, data):
    query, mode = data
    one, sharded = seed_pair
    assert_same_results(one, sharded, query, mode, 10, 0)
    assert_same_results(one, sharded, query, mode, 4, 7)


def test_shards_hold_contiguous_runs_of_documents_balanced_by_bytes(seed_shards):
    manifest = ShardedManifest.load(seed_shards)
    assert [entry.name for entry in manifest.shards] == ["shard-00", "shard-01", "shard-02"]
    held = []
    for entry in manifest.shards:
        shard = Manifest.load(seed_shards / entry.name)
        assert shard.generation == entry.generation
        held.append(sorted(shard.files))
    assert held == [
        ["000_9ac1f42681134e70.txt"],  # the largest seed: a run of its own
        ["001_2eb2e19b899ffa84.txt", "002_5cfbee36016c52e4.txt"],
        ["003_b53a17d89b495407.txt", "004_7af21bdf63ee1157.txt"],
    ]
    assert [entry.first for entry in manifest.shards] == [
        "",
        "001_2eb2e19b899ffa84.txt",
        "003_b53a17d89b495407.txt",
    ]
    data = json.loads((seed_shards / "kensaku.json").read_text(encoding="utf-8"))
    assert data["statistics"]["doc_count"] == 233 == data["paragraphs"]
    assert data["statistics"]["field_lengths"]["words"] == sum(
        entry["field_lengths"]["words"] for entry in data["shards"]
    )


def test_an_update_rebuilds_only_the_shards_whose_documents_changed(docs_copy, tmp_path):
    index_dir = tmp_path / "index"
    search.build_index(docs_copy, index_dir, shards=3)
    before = ShardedManifest.load(index_dir)
    with open(docs_copy / "002_5cfbee36016c52e4.txt", "a", encoding="utf-8") as changed:
        changed.write("\n分割索引の更新を試す段落。\n")
    (docs_copy / "001a_new.txt").write_text("新たな文書の段落。\n", encoding="utf-8")
    result = run("index", "--docs", str(docs_copy), "--index", str(index_dir))
    assert result.exit_code == 0, result.output
    assert "added 001a_new.txt; changed 002_5cfbee36016c52e4.txt" in result.stdout
    after = ShardedManifest.load(index_dir)
    assert len(after.shards) == 3  # without --shards, as many as before
    generations = [(a.generation == b.generation) for a, b in zip(before.shards, after.shards)]
    assert generations == [True, False, True]  # 001a and 002 fall in the second run
    assert [hit.source for hit in search.search("分割索引", index_dir).hits] == [
        "002_5cfbee36016c52e4.txt"
    ]
    again = run("index", "--docs", str(docs_copy), "--index", str(index_dir))
    assert again.stdout.startswith("the index is up to date: 6 documents")
    assert ShardedManifest.load(index_dir).shards == after.shards


def test_a_search_updates_a_sharded_index_whose_documents_changed(docs_copy, tmp_path):
    index_dir = tmp_path / "index"
    search.build_index(docs_copy, index_dir, shards=2)
    (docs_copy / "004_7af21bdf63ee1157.txt").unlink()
    result = run("search", "--docs", str(docs_copy), "--index", str(index_dir), "統合作戦司令部")
    assert result.exit_code == 0
    assert "updating it" in result.stderr
    assert ShardedManifest.load(index_dir).documents == 4


def test_status_and_documents_report_the_whole_and_each_shard(seed_shards):
    status = run("status", "--index", str(seed_shards))
    assert status.exit_code == 0, status.output
    assert "5 documents, 233 paragraphs" in status.stdout
    assert "shards     3" in status.stdout
    assert "shard-01   2 documents, " in status.stdout
    as_json = json.loads(run("status", "--json", "--index", str(seed_shards)).stdout)
    assert [shard["documents"] for shard in as_json["shards"]] == [1, 2, 2]
    assert as_json["up_to_date"] is True
    documents = run("documents", "--json", "--index", str(seed_shards))
    listed = json.loads(documents.stdout)
    assert [document["source"] for document in listed] == sorted(
        path.name for path in SEEDS.glob("*.txt")
    )
    assert [document["shard"] for document in listed] == [
        "shard-00",
        "shard-01",
        "shard-01",
        "shard-02",
        "shard-02",
    ]


def test_a_damaged_shard_is_one_line_naming_it_and_the_rebuild(docs_copy, tmp_path, seed_index):
    index_dir = tmp_path / "index"
    search.build_index(docs_copy, index_dir, shards=3)
    entry = ShardedManifest.load(index_dir).shards[1]
    generation = index_dir / entry.name / entry.generation
    for path in generation.glob("*.toc"):
        path.write_bytes(b"\0" * 64)
    result = run("search", "--index", str(index_dir), "--docs", str(docs_copy), "日米")
    assert result.exit_code == 1
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1
    assert "shard-01" in message and f"kensaku index --rebuild --index {index_dir}" in message
    status = run("status", "--index", str(index_dir))
    assert status.exit_code == 1
    assert "shard-01   2 documents, 51 paragraphs" in status.stdout
    assert "state      damaged (its shard-01 is damaged: " in status.stdout
    repaired = run("index", "--docs", str(docs_copy), "--index", str(index_dir))
    assert repaired.exit_code == 0, repaired.output
    after = ShardedManifest.load(index_dir).shards
    assert after[1].generation != entry.generation  # the damaged shard alone is built anew
    assert search.search("日米", index_dir).total == search.search("日米", seed_index).total


def test_without_shards_nothing_changes(docs_copy, tmp_path):
    search.build_index(docs_copy, tmp_path / "index")
    assert ShardedManifest.load(tmp_path / "index") is None
    assert Manifest.load(tmp_path / "index").generation.startswith("gen-")
    assert not any(path.name.startswith("shard-") for path in (tmp_path / "index").iterdir())


def test_more_shards_than_documents_make_one_shard_a_document(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("a.txt", "b.txt"):
        (docs / name).write_text(f"{name} の段落。\n", encoding="utf-8")
    search.build_index(docs, tmp_path / "index", shards=8)
    assert len(ShardedManifest.load(tmp_path / "index").shards) == 2
    assert [hit.source for hit in search.search("b.txt", tmp_path / "index").hits] == ["b.txt"]


def test_shards_are_never_written_into_a_folder_that_holds_something_else(docs_copy, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("大事なメモ\n", encoding="utf-8")
    result = run("index", "--docs", str(docs_copy), "--index", str(folder), "--shards", "2")
    assert result.exit_code == 2
    assert "is not a kensaku index (it holds 'notes.txt'" in result.stderr
    assert sorted(path.name for path in folder.iterdir()) == ["notes.txt"]


# Narrowed searches on documents of five formats, each with a date (tests/test_narrowing.py's).
NARROWED = [
    ("梅雨", {}),
    ("梅雨", {"sort": "date"}),
    ("梅雨 format:html", {}),
    ("梅雨 path:報告書", {"sort": "date"}),
    ("梅雨 after:2022", {}),
    ("梅雨 -format:text", {"sort": "date"}),
    ("統合作戦司令部", {"filters": Filters.of(formats=["docx", "txt"])}),
    ("梅雨 台風", {}),  # soft AND
    ("梅雨 火星", {"sort": "date"}),  # soft AND, by date
    ("format:text", {}),  # a query of filters alone: a listing
    ("path:報告書", {"sort": "date"}),
    ("梅雨とは何か？", {}),  # a question asking what a term is
    ("梅雨とは何か？", {"sort": "date", "filters": Filters.of(after="2021")}),
    ("梅雨明けの見通しについて", {}),  # a sentence found as typed
    ("予算はいくらか？", {"sort": "date"}),
]


@pytest.fixture(scope="module")
def narrowed_pair(tmp_path_factory):
    """One index and 3 shards of documents in five formats and folders, each with a date."""
    from .test_narrowing import write_documents

    root = tmp_path_factory.mktemp("narrowed")
    write_documents(root / "docs")
    (root / "docs" / "定義.txt").write_text(
        "梅雨とは、初夏に雨が多く降る季節のことである。\n梅雨の語源には諸説ある。\n",
        encoding="utf-8",
    )
    search.build_index(root / "docs", root / "one")
    search.build_index(root / "docs", root / "three", shards=3)
    assert len(ShardedManifest.load(root / "three").shards) == 3
    with search.Searcher(root / "one") as one, search.Searcher(root / "three") as sharded:
        yield one, sharded


@pytest.mark.parametrize(("query", "options"), NARROWED)
def test_narrowed_searches_and_their_facets_on_shards_are_one_index_s(
    narrowed_pair, query, options
):
    one, sharded = narrowed_pair
    for limit, offset in ((10, 0), (2, 1)):
        expected = one.search(query, limit, offset=offset, facets=True, **options)
        found = sharded.search(query, limit, offset=offset, facets=True, **options)
        assert found.hits == expected.hits, query
        assert found.to_dict() == expected.to_dict(), query  # the facets, filters and order too
    sort = options.get("sort", "relevance")
    filters = options.get("filters")
    assert list(sharded.sources(query, filters=filters, sort=sort).items()) == list(
        one.sources(query, filters=filters, sort=sort).items()
    )


def test_the_narrowed_searches_are_not_vacuous(narrowed_pair):
    _, sharded = narrowed_pair
    assert sharded.search("梅雨とは何か？").hits[0].source == "定義.txt"
    dated = [hit.date for hit in sharded.search("梅雨", sort="date").hits]
    assert dated == sorted(dated, reverse=True) and len(set(dated)) > 2
    facets = sharded.search("梅雨", facets=True).facets
    assert {value.value for value in facets.format} == {"text", "markdown", "html", "docx"}


def test_suggestions_of_shards_are_one_index_s(narrowed_pair):
    one, sharded = narrowed_pair
    for prefix in ("梅", "梅雨", "とうご", "統合"):
        assert sharded.suggest(prefix) == one.suggest(prefix), prefix


def test_the_document_list_of_shards_pages_through_them_as_one_index_s(seed_pair):
    one, sharded = seed_pair
    for offset, limit in ((0, None), (1, 3), (3, 10)):
        total, expected = one.document_list(offset, limit)
        found_total, found = sharded.document_list(offset, limit)
        assert found_total == total == 5
        assert [d.to_dict() | {"shard": None} for d in found] == [
            d.to_dict() | {"shard": None} for d in expected
        ]
    assert [d.shard for d in sharded.document_list(1, 3)[1]] == ["shard-01", "shard-01", "shard-02"]
    assert len(sharded.sample_texts(12)) == 12


@pytest.mark.parametrize("args", [["search", "ピラー2"], ["index"], ["serve"], ["mcp"]])
def test_a_cluster_address_of_no_known_form_is_bad_usage_before_anything_runs(args, tmp_path):
    """local, auto, ray://HOST[:PORT] or HOST:PORT; a typo is said, not taken for one index."""
    result = run(*args, "--index", str(tmp_path / "index"), "--cluster", "bogus")
    assert result.exit_code == 2
    assert "Invalid value for '--cluster': 'bogus' is no cluster address: local, auto, " in (
        result.stderr
    )
    assert not (tmp_path / "index").exists()  # nothing built


def test_a_cluster_address_from_a_setting_is_checked_by_the_library_too(tmp_path):
    with pytest.raises(search.KensakuError, match="'head' is no cluster address"):
        search.build_index(SEEDS, tmp_path / "index", cluster="head")
    with pytest.raises(search.KensakuError, match="'ray:/head' is no cluster address"):
        search.Searcher(tmp_path / "index", cluster="ray:/head")


def test_a_question_past_its_reranked_head_ranks_on_shards_as_on_one_index(seed_pair):
    """Scores that fall with rank and the paragraphs after the reranked head (in BM25F's order)
    come out of shards as out of one index, page by page."""
    one, sharded = seed_pair
    question = "日本の防衛はどう変わるのですか？"
    assert len(one.search(question, limit=300).hits) > 120
    for limit, offset in ((10, 0), (50, 90), (300, 0), (20, 130)):
        assert_same_results(one, sharded, question, "question", limit, offset)
