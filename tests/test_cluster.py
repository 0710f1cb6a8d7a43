"""Shards on a real local Ray cluster (2 CPUs, no dashboard): built by Ray tasks, searched through
one actor a shard, ranked exactly as one index; a shard's server killed during a stream of
searches is restarted and the stream goes on with the same answers; a worker lost during a
build fails it with one line while the previous index keeps serving; a node that cannot see the
index says so. Skipped, saying why, where Ray is not installed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

import search
from search.cli.main import main
from search.index.shards import ShardedManifest

from .conftest import SEEDS
from .shards import (
    SEED_QUERIES,
    assert_same_results,
    assert_same_sources,
    corpus_pieces,
    queries,
    wikinews_subset,
)
from .test_cli import checkout_environment

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'kensaku[cluster]'")


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def local_cluster():
    """A local Ray cluster for this module: what `--cluster local` starts, smaller."""
    ray.init(num_cpus=2, include_dashboard=False, namespace="kensaku", log_to_driver=False)
    yield "local"  # joined already: `--cluster local` uses it
    ray.shutdown()


@pytest.fixture(scope="module")
def ray_shards(local_cluster, tmp_path_factory):
    """The seeds in 3 shards, built by `kensaku index --shards 3 --cluster local`."""
    root = tmp_path_factory.mktemp("ray-shards")
    result = run(
        "index",
        "--docs",
        str(SEEDS),
        "--index",
        str(root / "index"),
        "--shards",
        "3",
        "--cluster",
        local_cluster,
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("indexed 5 documents, 233 paragraphs in ")
    return root / "index"


@pytest.fixture(scope="module")
def ray_pair(seed_index, ray_shards, local_cluster):
    with (
        search.Searcher(seed_index) as one,
        search.Searcher(ray_shards, cluster=local_cluster) as sharded,
    ):
        yield one, sharded


def test_shards_built_by_ray_tasks_are_the_shards_built_here(ray_shards, tmp_path):
    search.build_index(SEEDS, tmp_path / "here", shards=3)
    on_ray = ShardedManifest.load(ray_shards).shards
    here = ShardedManifest.load(tmp_path / "here").shards
    assert [(e.first, e.documents, e.paragraphs, e.field_lengths) for e in on_ray] == [
        (e.first, e.documents, e.paragraphs, e.field_lengths) for e in here
    ]


def test_every_query_form_ranks_through_ray_as_on_one_index(ray_pair):
    one, sharded = ray_pair
    for query, mode in SEED_QUERIES:
        assert_same_results(one, sharded, query, mode, 10, 0)
        assert_same_results(one, sharded, query, mode, 3, 11)
        assert_same_sources(one, sharded, query, mode)
    assert sharded.document("001_2eb2e19b899ffa84.txt") == one.document("001_2eb2e19b899ffa84.txt")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=queries(corpus_pieces(SEEDS, 120, seed=11)))
def test_generated_queries_rank_through_ray_as_on_one_index(ray_pair, data):
    query, mode = data
    one, sharded = ray_pair
    assert_same_results(one, sharded, query, mode, 10, 0)


def test_a_wikinews_corpus_in_3_shards_ranks_through_ray_as_one_index(local_cluster, tmp_path):
    docs = wikinews_subset(tmp_path / "docs", 90)
    search.build_index(docs, tmp_path / "one")
    search.build_index(docs, tmp_path / "three", shards=3, cluster=local_cluster)
    with (
        search.Searcher(tmp_path / "one") as one,
        search.Searcher(tmp_path / "three", cluster=local_cluster) as sharded,
    ):
        for piece in corpus_pieces(docs, 25, seed=5):
            assert_same_results(one, sharded, piece, "auto", 10, 0)
            assert_same_results(one, sharded, f"{piece}とは何か？", "auto", 10, 0)


def test_the_cli_searches_through_the_cluster(ray_shards, seed_index, local_cluster):
    on_ray = run("search", "--json", "--index", str(ray_shards), "--cluster", "local", "ピラー2")
    here = run("search", "--json", "--index", str(seed_index), "ピラー2")
    assert on_ray.exit_code == 0, on_ray.output
    assert on_ray.stdout == here.stdout


def test_searches_at_once_through_the_cluster_answer_as_one_index(ray_pair):
    """Threads share one Searcher whose shards a cluster serves: their queries run at once."""
    one, sharded = ray_pair
    stream = [query for query, _ in SEED_QUERIES]
    expected = {query: one.search(query).to_dict() for query in stream}
    answers: dict[int, list] = {}

    def search_all(number: int) -> None:
        answers[number] = [sharded.search(query).to_dict() for query in stream[number::4]]

    threads = [threading.Thread(target=search_all, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for number in range(4):
        assert answers[number] == [expected[query] for query in stream[number::4]]


def test_a_shard_server_killed_during_a_stream_of_searches_is_restarted(ray_pair, ray_shards):
    one, sharded = ray_pair
    stream = [query for query, _ in SEED_QUERIES[:8]]
    expected = [one.search(query).to_dict() for query in stream]
    answers: list = []
    errors: list = []

    def search_on() -> None:
        try:
            for _ in range(6):
                answers.extend(sharded.search(query).to_dict() for query in stream)
        except Exception as error:  # the test fails below, naming it
            errors.append(error)

    searching = threading.Thread(target=search_on)
    searching.start()
    while len(answers) < len(stream):
        time.sleep(0.05)
    _, pid = sharded.ranking.shards.where()[1]
    os.kill(pid, signal.SIGKILL)  # shard-01's server, mid-stream
    searching.join(timeout=120)
    assert errors == []
    assert answers == expected * 6  # the stream went on, with the same answers
    assert sharded.ranking.shards.where()[1][1] != pid  # a new process serves shard-01


def test_a_worker_lost_during_a_build_fails_it_and_the_index_keeps_serving(local_cluster, tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(SEEDS, docs)
    index_dir = tmp_path / "index"
    search.build_index(docs, index_dir, shards=2, cluster=local_cluster)
    before = ShardedManifest.load(index_dir)
    answer = search.search("ピラー2", index_dir).to_dict()
    # A large new document: its shard's task runs long enough to be killed (its paragraphs
    # repeat, which a build analyzes once: 40 copies were indexed in under the killer's 0.5 s).
    text = "\n".join(path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt")))
    (docs / "005_large.txt").write_text(text * 200, encoding="utf-8")
    killer = threading.Thread(target=_kill_a_build_task, args=(60,))
    killer.start()
    result = run("index", "--docs", str(docs), "--index", str(index_dir), "--cluster", "local")
    killer.join()
    assert result.exit_code == 1
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1
    assert message.startswith("Error: a worker was lost while building shard-01 (")
    assert message.endswith(
        "the build failed, and the index is as it was; run `kensaku index` again"
    )
    assert ShardedManifest.load(index_dir) == before
    with search.Searcher(index_dir, cluster=local_cluster) as searcher:
        assert searcher.search("ピラー2").to_dict() == answer


def _kill_a_build_task(seconds: float) -> None:
    """SIGKILL the first Ray worker seen running a shard's build (its process title names the
    task), within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                title = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if title.startswith(b"ray::build_shard"):
                time.sleep(0.5)  # well into indexing
                os.kill(int(entry.name), signal.SIGKILL)
                return
        time.sleep(0.05)


def test_a_node_that_cannot_see_the_index_says_so(local_cluster, ray_shards, tmp_path):
    from search.cluster.connection import ClusterError
    from search.cluster.searching import serve_shards

    manifest = ShardedManifest.load(ray_shards)
    elsewhere = tmp_path / "not-on-this-node" / "index"
    with pytest.raises(ClusterError) as raised:
        serve_shards(elsewhere, manifest, local_cluster)
    assert str(raised.value).startswith("node ")
    assert f"cannot see the index {elsewhere}: documents and index must be on a filesystem" in str(
        raised.value
    )


def test_a_search_without_cluster_never_imports_ray(ray_shards, tmp_path):
    code = (
        "import sys; from search.cli.main import main\n"
        "try:\n"
        f"    main(['search', '--index', {str(ray_shards)!r}, 'ピラー2'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('ray' in sys.modules)"
    )
    found = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=checkout_environment(),
        timeout=120,
    )
    assert found.stdout.splitlines()[-1] == "False"
    assert "ピラー2" in found.stdout


def test_relative_folders_are_those_of_the_command_not_of_ray_s_workers(
    local_cluster, tmp_path, monkeypatch
):
    """Ray's workers run in a folder of their own (here, where Ray was started): `--index shards`
    given in another folder builds the shards there, and the next search finds them."""
    shutil.copytree(SEEDS, tmp_path / "docs")
    monkeypatch.chdir(tmp_path)
    built = run(
        "index", "--docs", "docs", "--index", "shards", "--shards", "2", "--cluster", "local"
    )
    assert built.exit_code == 0, built.output
    assert sorted(path.name for path in (tmp_path / "shards").glob("shard-*")) == [
        "shard-00",
        "shard-01",
    ]
    found = run("search", "--index", "shards", "--cluster", "local", "-l", "ピラー2")
    assert found.exit_code == 0, found.output
    # (Ray's own warnings may come through the same stdout.)
    assert [line for line in found.stdout.splitlines() if line.startswith("docs/")] == [
        "docs/001_2eb2e19b899ffa84.txt",
        "docs/000_9ac1f42681134e70.txt",
    ]


def test_cluster_without_ray_names_the_extra_to_install(ray_shards, tmp_path):
    code = (
        "import sys; sys.modules['ray'] = None\n"  # as if Ray were not installed
        "from search.cli.main import main\n"
        f"main(['search', '--index', {str(ray_shards)!r}, '--cluster', 'auto', 'ピラー2'])\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=checkout_environment(),
        timeout=120,
    )
    assert found.returncode == 1
    assert found.stderr.strip() == (
        "Error: --cluster needs Ray, which is not installed: pip install 'kensaku[cluster]'"
    )


def test_serve_answers_from_the_cluster_and_follows_a_rebuild(ray_shards, seed_index, tmp_path):
    """`kensaku serve --cluster local`: its answers are one index's, and after a rebuild of the
    shards it answers from their new generations without a restart."""
    from .serving import Server

    with search.Searcher(seed_index) as one:
        expected = one.search("ピラー2", limit=5, facets=True).to_dict()
    index_dir = tmp_path / "index"
    shutil.copytree(ray_shards, index_dir)
    server = Server("--index", str(index_dir), "--refresh", "0", "--cluster", "local")
    try:
        before = server.get("/api/status").json()
        assert (before["documents"], before["shards"]) == (5, 3)
        answer = server.search(q="ピラー2", limit=5).json()
        assert {key: answer[key] for key in expected} == expected
        rebuilt = run("index", "--rebuild", "--index", str(index_dir), "--docs", str(SEEDS))
        assert rebuilt.exit_code == 0, rebuilt.output
        again = server.search(q="ピラー2", limit=5).json()
        assert {key: again[key] for key in expected} == expected
        assert server.get("/api/status").json()["built"] != before["built"]
    finally:
        assert server.stop() == 0, server.stderr


def test_mcp_answers_from_the_cluster_as_from_one_index(ray_shards, seed_index):
    """`kensaku mcp --http --cluster local`, driven by the MCP SDK's client: its search tool
    gives one index's hits."""
    pytest.importorskip("mcp.server.mcpserver", reason="the MCP SDK: pip install 'kensaku[mcp]'")
    from anyio.from_thread import start_blocking_portal
    from mcp import Client

    from .serving import Server

    with search.Searcher(seed_index) as one:
        expected = [(hit.source, hit.line) for hit in one.search("ピラー2", limit=5).hits]
    server = Server(
        "--index", str(ray_shards), "--refresh", "0", "--cluster", "local", command="mcp --http"
    )
    try:
        with start_blocking_portal() as portal:
            client = Client(server.url)
            with portal.wrap_async_context_manager(client):
                found = portal.call(client.call_tool, "search", {"query": "ピラー2", "limit": 5})
        hits = found.structured_content["hits"]
        assert [(hit["citation"]["source"], hit["citation"]["line"]) for hit in hits] == expected
        assert found.structured_content["total"] == 13
    finally:
        assert server.stop() == 0, server.stderr


def test_narrowed_searches_with_facets_through_ray_are_one_index_s(local_cluster, tmp_path):
    """Filters, sorting by date, facets, a listing and a definition question, through Ray."""
    from .test_narrowing import write_documents
    from .test_sharded import NARROWED

    write_documents(tmp_path / "docs")
    search.build_index(tmp_path / "docs", tmp_path / "one")
    search.build_index(tmp_path / "docs", tmp_path / "three", shards=3, cluster=local_cluster)
    with (
        search.Searcher(tmp_path / "one") as one,
        search.Searcher(tmp_path / "three", cluster=local_cluster) as sharded,
    ):
        for query, options in NARROWED:
            expected = one.search(query, facets=True, **options).to_dict()
            assert sharded.search(query, facets=True, **options).to_dict() == expected, query
        assert sharded.suggest("梅雨") == one.suggest("梅雨")
