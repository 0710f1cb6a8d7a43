"""Hostile queries: whatever is typed, a search gives results or one QuerySyntaxError line (exit
code 2 from the CLI), never a traceback. Property-based over the library on the session index of
the seeds; the CLI for a few."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from search.cli.main import main
from search.errors import QuerySyntaxError

PROPERTY = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
WORDS = [
    "日米",
    "ピラー2",
    "司令部",
    "韓国",
    "AI",
    "防衛",
    "統合作戦司令部",
    "source:00",
    "source:*",
]
OPERATORS = ["AND", "OR", "NOT", "-", "(", ")", '"', "source:", "--", "-(", ")-", "OR("]
EMOJI = list("😀🇯🇵👍🏽🏳️‍🌈👨‍👩‍👧‍👦🗾🍣❤️\u200d\ufe0f")


def outcome(searcher, query: str) -> str:
    """'results' or 'error', after checking that either is well-formed."""
    try:
        results = searcher.search(query, limit=5)
    except QuerySyntaxError as error:
        assert str(error) and "\n" not in str(error)
        assert error.exit_code == 2
        return "error"
    # total counts the paragraphs holding all the query (or when none does, some of it); those
    # holding only some follow them, marked partial.
    assert results.total >= sum(not hit.partial for hit in results.hits)
    assert results.relaxed <= all(hit.partial for hit in results.hits)
    for hit in results.hits:
        assert all(0 <= start < end <= len(hit.text) for start, end in hit.highlights)
    return "results"


UNICODE = st.text(st.characters(exclude_categories=("Cs",)), max_size=80)


@PROPERTY
@given(query=UNICODE)
@example(query="")
@example(query="\u3000\u200b\ufeff")
@example(query="\u0301日米")
def test_arbitrary_unicode(searcher, query):
    assert outcome(searcher, query) in ("results", "error")


@PROPERTY
@given(
    query=st.lists(
        st.sampled_from([o for o in OPERATORS if o != '"']), min_size=1, max_size=12
    ).map(" ".join)
)
def test_operators_only_are_a_syntax_error(searcher, query):
    """(Quoted, an operator is a word: "AND" finds "and".)"""
    assert outcome(searcher, query) == "error"


@PROPERTY
@given(
    parts=st.lists(st.sampled_from(WORDS + OPERATORS), min_size=1, max_size=12),
    joiner=st.sampled_from([" ", "", "\u3000"]),
)
def test_words_mixed_with_operators_quotes_and_parentheses(searcher, parts, joiner):
    assert outcome(searcher, joiner.join(parts)) in ("results", "error")


@PROPERTY
@given(
    query=st.lists(
        st.sampled_from(WORDS).map(lambda w: w.split(":")[0]) | st.sampled_from(['"', "(", ")"]),
        min_size=2,
        max_size=8,
    )
    .map(" ".join)
    .filter(lambda q: q.count('"') % 2 or ('"' not in q and q.count("(") != q.count(")")))
)
def test_unbalanced_quotes_and_parentheses_are_a_syntax_error(searcher, query):
    assert outcome(searcher, query) == "error"


@PROPERTY
@given(
    query=st.text(
        st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Zs"]), min_size=1, max_size=30
    ),
    word=st.sampled_from(WORDS[:5]),
)
def test_control_and_format_characters(searcher, query, word):
    if outcome(searcher, query) == "results":
        assert searcher.search(query).total == 0  # nothing in the seeds is made of these
    assert outcome(searcher, query + word + query) in ("results", "error")


@PROPERTY
@given(
    run=st.text(st.sampled_from(EMOJI), min_size=1, max_size=300),
    word=st.sampled_from(["", "日米", " 日米", " OR 韓国"]),
)
def test_runs_of_emoji(searcher, run, word):
    assert outcome(searcher, run + word) in ("results", "error")
    assert outcome(searcher, f"{run} {word}") in ("results", "error")


def test_the_index_answers_ordinary_queries_after_the_hostile_ones(searcher):
    assert searcher.search("ピラー2").total > 0


# Once crashes: each is now a one-line error or results.


@pytest.mark.parametrize(
    "query",
    [
        "(" * 1000 + "日米" + ")" * 1000,
        "(" * 5000,
        "NOT " * 2000 + "日米",
        '(日米 OR (韓国 -(ピラー2 "司令部")))' * 100,
    ],
)
def test_deep_nesting_is_an_error_not_a_recursion_error(searcher, query):
    assert outcome(searcher, query) == "error"


def test_a_thousand_words_are_an_error_not_a_recursion_error(searcher):
    assert outcome(searcher, "日米 " * 1000) == "error"


@pytest.mark.parametrize("query", ["0⑴", "a🄐", "0 🄐", "1⒜"])
def test_enclosed_characters_after_a_word(searcher, query):
    assert outcome(searcher, query) in ("results", "error")


def test_a_lone_surrogate_is_an_error(searcher):
    assert outcome(searcher, "\udcff日米") == "error"


LONG_QUERIES = {
    "kana": "あ" * 100_000,
    "spaced words": "日米 " * 33_333,
    "one run": "ピラー2" * 25_000,
    "parentheses": "(" * 100_000,
    "emoji": "😀" * 100_000,
    "operators": "OR " * 33_333,
}
RUN_LONG_QUERIES = """
import json, sys, time
import search
from search.errors import KensakuError
with search.Searcher(sys.argv[1]) as searcher:
    for name, query in json.loads(sys.stdin.read()).items():
        started = time.perf_counter()
        try:
            found = f"{searcher.search(query).total} hits"
        except KensakuError as error:
            found = f"error {error.exit_code}: {error}"
        print(json.dumps([name, round(time.perf_counter() - started, 2), found]), flush=True)
"""


def test_hundred_thousand_character_queries_answer_within_seconds(seed_index):
    """In a subprocess with a time limit: today some of these take minutes."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", RUN_LONG_QUERIES, str(seed_index)],
            input=json.dumps(LONG_QUERIES),
            capture_output=True,
            text=True,
            timeout=15,
        )
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"still running after 15 s; answered so far: {expired.stdout}")
    assert "Traceback" not in done.stderr, done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert [name for name, _, _ in answers] == list(LONG_QUERIES)
    assert all(seconds < 5 for _, seconds, _ in answers), answers


# The CLI


def cli(*query: str):
    return CliRunner().invoke(main, ["search", *query])


@pytest.fixture
def cli_index(seed_index, monkeypatch):
    monkeypatch.setenv("KENSAKU_INDEX", str(seed_index))


@pytest.mark.parametrize(
    "query", ["AND OR NOT", '"日米', "(日米", "日米)", "-", "😀😀😀", "\x01\x02\x7f", "source:"]
)
def test_the_cli_gives_one_line_and_exit_code_2(cli_index, query):
    result = cli(query)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("Error: ") and len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


@pytest.mark.parametrize("query", ["日米\x00", "\u202e日米", "日米\t\r\n韓国", "ＯＲ 日米"])
def test_the_cli_searches_odd_but_searchable_queries(cli_index, query):
    result = cli(query, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["total"] > 0


def test_the_cli_with_bytes_that_are_not_utf8(seed_index):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "search",
            "search",
            "--index",
            str(seed_index),
            b"\xff\xfe\x93\xfa\x95\xc4",
        ],
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2 and b"Traceback" not in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_the_cli_with_a_hundred_thousand_parentheses(seed_index):
    done = subprocess.run(
        [sys.executable, "-m", "search", "search", "--index", str(seed_index), "(" * 100_000],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
