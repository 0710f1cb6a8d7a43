"""The real CLI through Click's CliRunner (and once through `python -m search`)."""

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from search.cli.main import main

from .conftest import REPO, SEEDS

JSON_HIT_KEYS = [
    "rank",
    "score",
    "source",
    "title",
    "paragraph",
    "line",
    "page",
    "column",
    "section",
    "format",
    "date",
    "partial",
    "text",
    "snippet",
    "highlights",
    "snippet_highlights",
    "also",
    "path",
]


@pytest.fixture
def run(tmp_path, monkeypatch):
    """Run `kensaku ARGS` in a fresh working directory, seeds as the documents."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KENSAKU_DOCS", str(SEEDS))
    monkeypatch.delenv("KENSAKU_INDEX", raising=False)

    def invoke(*args, env=None):
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    return invoke


def test_search_builds_the_index_on_first_use_and_prints_cited_hits(run, tmp_path):
    result = run("search", "ピラー2")
    assert result.exit_code == 0
    assert "no index in index yet" in result.stderr
    assert "indexed 5 documents, 233 paragraphs" in result.stderr
    # 13 paragraphs, of which 3 repeat others: 10 hits, all shown under the limit of 10.
    assert result.stdout.startswith(
        "13 paragraphs match ピラー2: 10 hits, repeats cited together\n"
    )
    # Documents outside the working directory are cited by their absolute path.
    assert f"\n 1. {SEEDS}/001_2eb2e19b899ffa84.txt:8  ¶8\n" in result.stdout  # no score
    assert f"    also at {SEEDS}/001_2eb2e19b899ffa84.txt:21\n" in result.stdout
    assert f"{SEEDS}/000_9ac1f42681134e70.txt:156  ¶96  日本関連" in result.stdout
    assert (tmp_path / "index" / "kensaku.json").exists()
    assert "\x1b[" not in result.stdout  # plain when not a terminal
    again = run("search", "ピラー2")
    assert again.stderr == "" and again.stdout == result.stdout


def test_limit_and_no_match(run):
    result = run("search", "-n", "2", "ピラー2")
    assert result.stdout.startswith("13 paragraphs match ピラー2, showing the best 2\n")
    assert result.stdout.count("\n 1. ") == 1 and "\n 3. " not in result.stdout
    nothing = run("search", "存在しない語彙ですよ")
    assert (nothing.exit_code, nothing.stdout) == (1, "no paragraph matches 存在しない語彙ですよ\n")


def test_json_contract(run):
    result = run("search", "--json", "--limit", "4", "ピラー2")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert list(data) == ["query", "total", "relaxed", "more", "filters", "sort", "hits", "facets"]
    assert (data["query"], data["total"], len(data["hits"])) == ("ピラー2", 13, 4)
    assert (data["relaxed"], data["more"]) == (False, True)
    for rank, hit in enumerate(data["hits"], start=1):
        assert list(hit) == JSON_HIT_KEYS
        assert hit["rank"] == rank and isinstance(hit["score"], float) and hit["partial"] is False
        assert hit["highlights"] and all(
            hit["text"][s:e] == "ピラー2" for s, e in hit["highlights"]
        )
    # The heading ◆日本、「ピラー2」参加の可能性 ranks below the paragraphs it introduces.
    heading = next(hit for hit in data["hits"] if hit["line"] == 6)
    assert (heading["source"], heading["paragraph"]) == ("001_2eb2e19b899ffa84.txt", 6)
    assert heading["text"] == heading["snippet"] == "◆日本、「ピラー2」参加の可能性"
    # Its first line is a sentence, not a title: the title is the file's name, in every hit.
    assert heading["title"] == "001_2eb2e19b899ffa84"
    assert heading["highlights"] == heading["snippet_highlights"] == [[5, 9]]
    assert heading["path"] == f"{SEEDS}/001_2eb2e19b899ffa84.txt"
    assert heading["also"] == [
        {
            "source": "001_2eb2e19b899ffa84.txt",
            "line": 19,
            "paragraph": 19,
            "page": None,
            "path": f"{SEEDS}/001_2eb2e19b899ffa84.txt",
        }
    ]


def test_index_command_rebuilds_and_summarises(run, tmp_path):
    result = run("index", "--index", "ix")
    assert result.exit_code == 0
    assert result.stdout.startswith("indexed 5 documents, 233 paragraphs in ")
    assert result.stdout.rstrip().endswith(" s")
    assert (tmp_path / "ix" / "kensaku.json").exists()
    assert run("index", "--index", "ix", "--rebuild").exit_code == 0


def test_search_rebuilds_when_documents_change(run, docs_copy):
    run("index", "--docs", str(docs_copy))
    assert "ピラー3" not in run("search", "ピラー3").stdout.split("\n", 1)[1]
    with open(docs_copy / "new.txt", "w", encoding="utf-8") as new:
        new.write("新しい文書\nピラー3という構想がある。\n")
    result = run("search", "--docs", str(docs_copy), "ピラー3")
    assert "changed since the index was built" in result.stderr
    assert "new.txt:2" in result.stdout


def test_search_uses_the_documents_the_index_was_built_from(run, docs_copy, monkeypatch):
    (docs_copy / "extra.txt").write_text("追加\n量子暗号の研究。\n", encoding="utf-8")
    run("index", "--docs", str(docs_copy))
    monkeypatch.delenv("KENSAKU_DOCS")
    result = run("search", "量子暗号")
    assert result.stderr == ""
    assert "extra.txt:2" in result.stdout


def test_options_come_from_environment_variables(run, tmp_path):
    result = run("search", "統合作戦司令部", env={"KENSAKU_INDEX": str(tmp_path / "envix")})
    assert result.exit_code == 0
    assert (tmp_path / "envix" / "kensaku.json").exists()
    assert "004_7af21bdf63ee1157.txt:23" in result.stdout


def test_color_always_never_and_no_color(run):
    marked = "「\x1b[31m\x1b[1mピラー2\x1b[0m」"
    assert marked in run("search", "--color=always", "ピラー2").stdout
    assert marked in run("search", "--color", "always", "ピラー2", env={"NO_COLOR": "1"}).stdout
    assert "\x1b[" not in run("search", "--color=never", "ピラー2").stdout
    assert "\x1b[" not in run("search", "ピラー2", env={"NO_COLOR": "1"}).stdout
    assert "\x1b[" not in run("search", "ピラー2").stdout  # auto: not a terminal


@pytest.mark.parametrize(
    "args, message",
    [
        (["search", ""], "the query is empty"),
        (["search", "   "], "the query is empty"),
        (["search", "。、"], "nothing to search for"),
        (["search", '"ピラー2'], "unbalanced quote"),
        (["search", "(ピラー2"], "unbalanced parenthesis"),
        (["search", "ピラー2)"], "unbalanced parenthesis"),
        (["search", "--docs", "no-such-dir", "ピラー2"], "documents directory not found"),
        (["index", "--docs", "no-such-dir"], "documents directory not found"),
        (["search"], "Missing argument"),
        (["search", "-n", "0", "ピラー2"], "Invalid value"),
        (["search", "--offset", "-1", "ピラー2"], "Invalid value"),
        (["search", "--color=sometimes", "ピラー2"], "Invalid value for '--color'"),
        (["search", "--json", "-l", "ピラー2"], "--json and -l cannot go together"),
        (["search", "--docs", "", "ピラー2"], "must name a path, not an empty string"),
        (["search", "--index", "", "ピラー2"], "must name a path, not an empty string"),
        (["index", "--docs", ""], "must name a path, not an empty string"),
        (["search", "--bogus", "ピラー2"], "No such option '--bogus'"),
        (["search", "ピラー2", "--docs"], "Option '--docs' requires an argument."),
        (["search", "ピラー2", "-n"], "Option '-n' requires an argument."),
        (["search", "--mode", "fuzzy", "ピラー2"], "Invalid value for '--mode'"),
        (["--bogus"], "No such option"),
        (["serch", "ピラー2"], "No such command"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(run, args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    # One line of error (a first search may say before it that it built the index).
    error_lines = [line for line in result.stderr.splitlines() if not line.startswith("kensaku: ")]
    assert error_lines == [line for line in error_lines if line.startswith("Error: ")] != []
    assert len(error_lines) == 1, result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_an_index_directory_that_is_not_an_index_is_refused_and_left_alone(run, tmp_path):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.txt").write_text("大事な文書", encoding="utf-8")
    for args in (["index", "--index", str(precious)], ["search", "--index", str(precious), "AI"]):
        result = run(*args)
        assert result.exit_code == 2
        assert "is not a kensaku index" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert [p.name for p in precious.iterdir()] == ["thesis.txt"]


def test_a_damaged_manifest_names_the_rebuild_remedy_and_rebuild_repairs(run, tmp_path):
    run("index")
    (tmp_path / "index" / "kensaku.json").write_text("{not json", encoding="utf-8")
    result = run("search", "ピラー2")
    assert result.exit_code == 1
    assert "kensaku index --rebuild" in result.stderr
    assert run("index", "--rebuild").exit_code == 0
    assert run("search", "ピラー2").stdout.startswith("13 paragraphs match")


def test_python_dash_m_search_runs_the_cli(tmp_path):
    env = dict(os.environ, KENSAKU_DOCS=str(SEEDS), KENSAKU_INDEX=str(tmp_path / "ix"))
    completed = subprocess.run(
        [sys.executable, "-m", "search", "search", "--json", "日米2プラス2"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["total"] == 8


def checkout_environment() -> dict[str, str]:
    """The environment for a Python process run outside the checkout that imports the
    checkout's `search`, whichever one the environment has installed."""
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return dict(os.environ, PYTHONPATH=path)


def test_a_search_in_its_own_process_prints_what_the_cli_prints_and_exits_with_its_status(
    run, tmp_path
):
    """`python -m search search` ends the process at once after a search (see cli.run): the
    output must still be whole and the exit status the search's."""
    env = dict(checkout_environment(), KENSAKU_DOCS=str(SEEDS), KENSAKU_INDEX=str(tmp_path / "ix"))
    in_process = run("search", "-n", "200", "--index", str(tmp_path / "ix"), "日本")
    for args, status, stdout in (
        (["-n", "200", "日本"], 0, in_process.stdout),
        (["存在しない語彙ですよ"], 1, "no paragraph matches 存在しない語彙ですよ\n"),
    ):
        completed = subprocess.run(
            [sys.executable, "-m", "search", "search", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
        assert (completed.returncode, completed.stdout, completed.stderr) == (status, stdout, "")
    assert in_process.stdout.count("\n") > 200  # long enough to need flushing


def test_a_search_started_with_its_output_closed_ends_quietly(seed_index, tmp_path):
    """`kensaku search ... >&-`: nothing to print to, no traceback, the search's exit status."""
    completed = subprocess.run(
        [sys.executable, "-m", "search", "search", "--index", str(seed_index), "米国"],
        stderr=subprocess.PIPE,
        text=True,
        env=checkout_environment(),
        cwd=tmp_path,
        timeout=120,
        preexec_fn=lambda: os.close(1),
    )
    assert (completed.returncode, completed.stderr) == (0, "")


def test_a_search_imports_neither_the_readers_nor_the_builder_nor_pathspec(tmp_path):
    code = (
        "import sys; from search.cli.main import main\n"
        "try:\n"
        f"    main(['search', '--docs', {str(SEEDS)!r}, '--index', {str(tmp_path / 'ix')!r},"
        " 'ピラー2'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(name for name in sys.modules if name.startswith(('pathspec', "
        "'search.ingest.readers.', 'search.ingest.paragraphs', 'search.index.writer'))))"
    )
    command = [sys.executable, "-c", code]
    env = checkout_environment()
    subprocess.run(
        command, capture_output=True, check=True, cwd=tmp_path, env=env, timeout=120
    )  # builds the index
    searched = subprocess.run(
        command, capture_output=True, text=True, check=True, cwd=tmp_path, env=env, timeout=120
    )
    assert searched.stdout.splitlines()[-1] == "[]"
