"""kensaku.toml: every search and index option, paths relative to the file, and the precedence
option > environment > config file > default. Through the real CLI."""

from __future__ import annotations

import json
import os
import shutil

import pytest


from .conftest import SEEDS


@pytest.fixture
def project(kensaku, tmp_path, monkeypatch):
    """A folder holding a copy of the seeds, with no index and no KENSAKU_INDEX."""
    monkeypatch.delenv("KENSAKU_INDEX")
    shutil.copytree(SEEDS, tmp_path / "papers")
    return tmp_path


def write_config(path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_every_search_and_index_option_can_come_from_the_file(kensaku, project):
    (project / "rules.txt").write_text("オーカス, AUKUS\n", encoding="utf-8")
    (project / "papers" / "draft.txt").write_text("下書き\nオーカスの下書き。\n", encoding="utf-8")
    write_config(
        project / "kensaku.toml",
        """
docs = "papers"
index = "cache/ix"
limit = 3
mode = "keyword"
color = "always"
synonyms = "rules.txt"
sudachi_synonyms = true
include = ["*.txt"]
exclude = ["draft.txt"]
""",
    )
    result = kensaku("search", "オーカス")
    assert result.exit_code == 0, result.output
    assert "no index in cache/ix yet: building it from papers" in result.stderr
    assert "indexed 5 documents" in result.stderr  # draft.txt excluded
    assert result.stdout.startswith("22 paragraphs match オーカス, showing the best 3\n")
    assert "\x1b[" in result.stdout
    assert (project / "cache" / "ix" / "kensaku.json").exists()
    status = json.loads(kensaku("status", "--json").stdout)  # the index from the file too
    assert status["rules"] == {"include": ["*.txt"], "exclude": ["draft.txt"]}


def test_an_option_wins_over_the_environment_which_wins_over_the_file(kensaku, project):
    write_config(
        project / "kensaku.toml",
        'docs = "papers"\nindex = "from-file"\nlimit = 3\nmode = "question"\ncolor = "always"\n',
    )
    kensaku("search", "日米")
    assert (project / "from-file" / "kensaku.json").exists()
    kensaku("search", "日米", env={"KENSAKU_INDEX": "from-env"})
    assert (project / "from-env" / "kensaku.json").exists()
    kensaku("search", "--index", "from-option", "日米", env={"KENSAKU_INDEX": "from-env"})
    assert (project / "from-option" / "kensaku.json").exists()
    plain = kensaku("search", "-n", "2", "--color=never", "--mode", "keyword", "--json", "ピラー2")
    data = json.loads(plain.stdout)
    assert (len(data["hits"]), data["total"]) == (2, 13)
    assert "\x1b[" in kensaku("search", "ピラー2").stdout  # the file's colour...
    assert "\x1b[" in kensaku("search", "ピラー2", env={"NO_COLOR": "1"}).stdout
    # ...and its question mode: any of the words, so more than the phrase's 13.
    assert json.loads(kensaku("search", "--json", "ピラー2").stdout)["total"] > 13


def test_paths_in_the_file_are_relative_to_it_and_may_start_with_home(
    kensaku, project, monkeypatch
):
    monkeypatch.setenv("HOME", str(project / "home"))
    settings = write_config(
        project / "conf" / "kensaku.toml", 'docs = "../papers"\nindex = "~/indexes/papers"\n'
    )
    result = kensaku("index", "--config", str(settings))
    assert result.exit_code == 0, result.output
    assert (project / "home" / "indexes" / "papers" / "kensaku.json").exists()
    assert json.loads(kensaku("status", "--json", env={"KENSAKU_CONFIG": str(settings)}).stdout)[
        "docs"
    ] == str(project / "papers")


def test_a_global_index_serves_every_folder(kensaku, project, tmp_path):
    kensaku("index", "--docs", "papers", "--index", "global")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.chdir(elsewhere)  # the fixture restores the working directory
    result = kensaku("search", "-l", "ピラー2", env={"KENSAKU_INDEX": str(tmp_path / "global")})
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.splitlines()[0] == str(project / "papers" / "001_2eb2e19b899ffa84.txt")
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize(
    "text, message",
    [
        ("limit = 0\n", "limit must be 1 or more, not 0"),
        ('limit = "3"\n', "limit must be a int"),
        ("limit = true\n", "limit must be a int"),
        ('mode = "fuzzy"\n', "mode must be one of auto, keyword, question, not 'fuzzy'"),
        ('color = "sometimes"\n', "color must be one of auto, always, never, not 'sometimes'"),
        ('docs = ""\n', "docs must name a path, not an empty string"),
        ("index = 3\n", "index must be a str"),
        ('include = "*.md"\n', "include must be a list of strings"),
        ("offset = 3\n", "unknown setting 'offset'; known: docs, index, limit, mode, color,"),
        ("limit = \n", "is not valid TOML"),
    ],
)
def test_a_bad_setting_is_one_line_and_exit_code_2(kensaku, project, text, message):
    write_config(project / "kensaku.toml", text)
    result = kensaku("search", "ピラー2")
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("Error: kensaku.toml")
