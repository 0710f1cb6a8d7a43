"""The CLI as hands used to grep, ripgrep and sqlite-utils expect it: query words that start with
"-", "--", a query on standard input, grep's exit codes, help that teaches, shell completion, and
no surprise for a new user in an empty folder. Through CliRunner, or the installed command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from search.cli.main import main

from .conftest import SEEDS

KENSAKU = Path(sys.executable).with_name("kensaku")  # the installed command


def hits(result) -> list[tuple[str, int]]:
    return [(hit["source"], hit["line"]) for hit in json.loads(result.stdout)["hits"]]


# Query words that start with "-"


def test_the_readmes_exclusion_example_works_as_written(kensaku):
    result = kensaku("search", "--json", "-n", "20", "ピラー2", "-韓国")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["query"], data["total"]) == ("ピラー2 -韓国", 11)
    assert all("韓国" not in hit["text"] for hit in data["hits"])
    assert ("001_2eb2e19b899ffa84.txt", 8) not in hits(result)  # ピラー2 and 韓国 both
    spelled_out = kensaku("search", "--json", "-n", "20", "ピラー2", "NOT", "韓国")
    assert hits(spelled_out) == hits(result)


def test_a_dash_word_may_come_first_or_between_options(kensaku):
    first = kensaku("search", "-韓国", "ピラー2", "--json")
    between = kensaku("search", "ピラー2", "-n", "3", "-韓国", "--json")
    assert json.loads(first.stdout)["query"] == "-韓国 ピラー2"
    assert json.loads(first.stdout)["total"] == 11
    assert json.loads(between.stdout)["query"] == "ピラー2 -韓国"
    assert len(hits(between)) == 3


def test_a_dash_digit_is_a_query_word(kensaku):
    result = kensaku("search", "--json", "ピラー", "-2")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["query"], data["total"]) == ("ピラー -2", 1)
    assert hits(result) == [("000_9ac1f42681134e70.txt", 155)]


def test_after_a_double_dash_even_an_option_is_a_query_word(kensaku):
    result = kensaku("search", "--json", "--", "ピラー2", "-n", "-c")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["query"] == "ピラー2 -n -c"


def test_short_options_cluster_and_take_attached_values(kensaku):
    assert kensaku("search", "-n3", "ピラー2").stdout.startswith(
        "13 paragraphs match ピラー2, showing the best 3\n"
    )
    result = kensaku("search", "-n", "2", "-c", "ピラー2")
    assert result.stdout == (
        f"{SEEDS}/001_2eb2e19b899ffa84.txt:6\n{SEEDS}/000_9ac1f42681134e70.txt:7\n"
    )


# The query on standard input


def test_a_query_of_dash_is_read_from_standard_input(kensaku):
    piped = kensaku("search", "--json", "-", input="ピラー2\n")
    assert piped.exit_code == 0, piped.output
    assert json.loads(piped.stdout)["query"] == "ピラー2"
    assert piped.stdout == kensaku("search", "--json", "ピラー2").stdout
    lines = kensaku("search", "--json", "-", "-韓国", input="ピラー2\n  \n")
    assert json.loads(lines.stdout)["query"] == "ピラー2 -韓国"


def test_an_empty_standard_input_is_an_empty_query(kensaku):
    result = kensaku("search", "-", input="")
    assert result.exit_code == 2
    assert result.stderr == "Error: the query is empty\n"


# Exit codes


def test_exit_codes_are_greps(kensaku):
    assert kensaku("search", "ピラー2").exit_code == 0
    assert kensaku("search", "存在しない語彙ですよ").exit_code == 1
    assert kensaku("search", "--json", "存在しない語彙ですよ").exit_code == 1
    assert kensaku("search", "-l", "存在しない語彙ですよ").exit_code == 1
    assert kensaku("search", "-c", "存在しない語彙ですよ").exit_code == 1
    assert kensaku("search", "--vimgrep", "存在しない語彙ですよ").exit_code == 1
    assert kensaku("search", '"ピラー2').exit_code == 2
    assert kensaku("search", "--limit", "x", "ピラー2").exit_code == 2


def test_bare_kensaku_prints_the_help_without_calling_it_an_error():
    result = CliRunner().invoke(main, [])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Usage: ")
    assert "Commands:" in result.stderr and "Error" not in result.stderr
    assert result.stderr.rstrip().endswith(
        "status     What the index holds, and whether it is up to date."
    )


# A new user, an empty folder


def test_a_new_user_in_an_empty_folder_is_told_how_to_name_the_documents(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("KENSAKU_INDEX", "KENSAKU_DOCS", "KENSAKU_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    for args in (["search", "ピラー2"], ["index"], ["search", "--docs", "", "ピラー2"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, result.output
        assert len(result.stderr.splitlines()) == 1
    assert (
        "name one with --docs DIR (or KENSAKU_DOCS, or docs in kensaku.toml)"
        in CliRunner().invoke(main, ["index"]).stderr
    )
    assert list(tmp_path.iterdir()) == []  # no index built from anywhere


# Help


@pytest.mark.parametrize("command", ["search", "index", "status", "documents"])
def test_every_commands_help_has_examples(command):
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    examples = result.stdout.split("Examples:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert len(examples) >= 3
    assert all(line.lstrip().startswith(("kensaku ", "KENSAKU_", "echo ")) for line in examples)


def test_search_help_summarises_the_query_syntax_and_the_exit_codes():
    help_text = CliRunner().invoke(main, ["search", "--help"]).stdout
    flowing = " ".join(help_text.split())
    for syntax in (
        "ピラー2 韓国",
        "ピラー1 OR ピラー2",
        "ピラー2 -韓国",
        '"日米 同盟"',
        "(ピラー1 OR ピラー2)",
        "source:001",
        "日本の首都はどこか。",
        'after "--", every',
        '"-" is read from standard',
    ):
        assert syntax in flowing
    assert (
        "Exit status: 0 hits found, 1 no hit, 2 bad usage or query,\n  130 interrupted" in help_text
    )


def test_the_main_help_names_the_commands_exit_codes_settings_and_completion():
    help_text = CliRunner().invoke(main, ["--help"]).stdout
    assert "Exit status: 0 found" in help_text
    assert "KENSAKU_INDEX" in help_text and "kensaku.toml" in help_text
    assert "_KENSAKU_COMPLETE=bash_source kensaku" in help_text


# Shell completion, as the README sets it up


def complete(env: dict) -> str:
    done = subprocess.run(
        [str(KENSAKU)], env={**os.environ, **env}, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(
    "shell, line",
    [
        ("bash", "complete -o nosort -F _kensaku_completion kensaku"),
        ("zsh", "#compdef kensaku"),
        ("fish", "complete --no-files --command kensaku"),
    ],
)
def test_completion_scripts_for_bash_zsh_and_fish(shell, line):
    assert line in complete({"_KENSAKU_COMPLETE": f"{shell}_source"})


def test_completion_completes_commands_and_options():
    assert (
        complete(
            {"_KENSAKU_COMPLETE": "bash_complete", "COMP_WORDS": "kensaku st", "COMP_CWORD": "1"}
        )
        == "plain,status\n"
    )
    assert (
        complete(
            {
                "_KENSAKU_COMPLETE": "bash_complete",
                "COMP_WORDS": "kensaku search --vim",
                "COMP_CWORD": "2",
            }
        )
        == "plain,--vimgrep\n"
    )
    assert complete(
        {
            "_KENSAKU_COMPLETE": "bash_complete",
            "COMP_WORDS": "kensaku search --color ",
            "COMP_CWORD": "3",
        }
    ).split() == ["plain,auto", "plain,always", "plain,never"]
