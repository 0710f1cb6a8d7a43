"""Which files are documents: formats by suffix, folders that hold tools, ignore files, --include and
--exclude; the index summary says what was left out and why, and an empty folder is an empty index."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import search
from search.cli.main import main
from search.ingest.discovery import Rules, scan


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def folder(tmp_path) -> Path:
    docs = tmp_path / "docs"
    write(
        docs,
        {
            "report.txt": "報告\n本文。\n",
            "notes.md": "# メモ\n",
            "drafts/old.txt": "下書き\n",
            "build/out.html": "<p>生成物</p>",
            "keep/kept.txt": "残す\n",
            "keep/secret.txt": "秘密\n",
            ".hidden.txt": "隠し\n",
            ".git/HEAD.txt": "git\n",
            "node_modules/pkg/README.md": "依存\n",
            ".venv/lib/site.txt": "venv\n",
            "env/pyvenv.cfg": "home = /usr\n",
            "env/lib/x.txt": "venv\n",
            "image.png": "not text",
            "sheet.xlsx": "not text",
            ".gitignore": "build/\n*.log\n",
            "keep/.kensakuignore": "secret.txt\n",
        },
    )
    return docs


def test_tool_folders_hidden_files_and_ignore_files_leave_files_out(folder):
    found = scan(folder)
    assert [d.source for d in found.documents] == [
        "drafts/old.txt",
        "keep/kept.txt",
        "notes.md",
        "report.txt",
    ]
    assert found.ignored == [
        (".git/", "hidden"),
        (".hidden.txt", "hidden"),
        (".venv/", "hidden"),
        ("build/", ".gitignore"),
        ("env/", "virtual environment"),
        ("keep/secret.txt", "keep/.kensakuignore"),
        ("node_modules/", "dependencies"),
    ]
    assert found.other_formats == ["image.png", "sheet.xlsx"]


def test_include_and_exclude_patterns_use_gitignore_syntax(folder):
    assert [d.source for d in scan(folder, Rules(exclude=("drafts/",))).documents] == [
        "keep/kept.txt",
        "notes.md",
        "report.txt",
    ]
    assert [d.source for d in scan(folder, Rules(include=("*.md",))).documents] == ["notes.md"]
    only_keep = scan(folder, Rules(include=("keep/**",)))
    assert [d.source for d in only_keep.documents] == ["keep/kept.txt"]
    assert ("report.txt", "not matched by --include") in only_keep.ignored


def test_a_negated_pattern_in_a_deeper_ignore_file_takes_a_file_back(tmp_path):
    write(
        tmp_path,
        {
            ".gitignore": "*.md\n",
            "sub/.gitignore": "!wanted.md\n",
            "sub/wanted.md": "# 要る\n",
            "sub/other.md": "# 要らない\n",
        },
    )
    assert [d.source for d in scan(tmp_path).documents] == ["sub/wanted.md"]


def test_the_summary_counts_what_was_left_out_and_verbose_lists_it(folder, tmp_path):
    (folder / "broken.txt").write_bytes(b"\x00binary")
    result = CliRunner().invoke(
        main, ["index", "--docs", str(folder), "--index", str(tmp_path / "ix"), "-v"]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("indexed 4 documents, 5 paragraphs in ")
    assert lines[0].endswith(
        "; 1 skipped (binary file), 7 ignored by the rules, 2 files in other formats (.png, .xlsx)"
    )
    assert lines[1:] == [
        "skipped broken.txt: it is a binary file (a NUL byte at offset 0)",
        "ignored .git/ (hidden)",
        "ignored .hidden.txt (hidden)",
        "ignored .venv/ (hidden)",
        "ignored build/ (.gitignore)",
        "ignored env/ (virtual environment)",
        "ignored keep/secret.txt (keep/.kensakuignore)",
        "ignored node_modules/ (dependencies)",
        "not read image.png (not a format kensaku reads)",
        "not read sheet.xlsx (not a format kensaku reads)",
    ]


def test_rules_given_once_are_kept_by_later_searches(folder, tmp_path):
    index_dir = tmp_path / "ix"
    runner = CliRunner()
    result = runner.invoke(
        main, ["index", "--docs", str(folder), "--index", str(index_dir), "--exclude", "drafts/"]
    )
    assert result.exit_code == 0 and "indexed 3 documents" in result.stdout
    # A search without the option neither re-indexes drafts/ nor finds it (exit status 1).
    result = runner.invoke(main, ["search", "--index", str(index_dir), "下書き"])
    assert (result.exit_code, result.stderr) == (1, "")
    assert result.stdout.startswith("no paragraph matches 下書き")
    # Other rules make another index: built anew.
    result = runner.invoke(main, ["index", "--index", str(index_dir), "--include", "*.md"])
    assert result.stdout.startswith("indexed 1 document, 1 paragraph in ")


def test_rules_can_come_from_the_config_file(folder, tmp_path):
    config = tmp_path / "kensaku.toml"
    config.write_text('exclude = ["drafts/", "notes.md"]\n', encoding="utf-8")
    result = CliRunner().invoke(
        main,
        ["index", "--docs", str(folder), "--index", str(tmp_path / "ix"), "--config", str(config)],
    )
    assert "indexed 2 documents" in result.stdout


def test_a_folder_with_nothing_to_index_is_an_empty_index_that_finds_nothing(tmp_path):
    docs = tmp_path / "docs"
    write(docs, {"picture.png": "x", "node_modules/a.txt": "依存\n"})
    (docs / "broken.txt").write_bytes(b"\x00\x01")
    runner = CliRunner()
    result = runner.invoke(main, ["index", "--docs", str(docs), "--index", str(tmp_path / "ix")])
    assert result.exit_code == 0
    assert result.stdout == (
        "no document to index; 1 skipped (binary file), 1 ignored by the "
        "rules, 1 file in other formats (.png): the index is empty\n"
    )
    result = runner.invoke(main, ["search", "--index", str(tmp_path / "ix"), "日本"])
    assert (result.exit_code, result.stdout) == (1, "no paragraph matches 日本\n")
    assert search.search("日本", tmp_path / "ix").total == 0
    with pytest.raises(search.QuerySyntaxError):
        search.search('"日本', tmp_path / "ix")


def test_an_empty_folder_searched_first_builds_an_empty_index(tmp_path):
    (tmp_path / "docs").mkdir()
    result = CliRunner().invoke(
        main, ["search", "--docs", str(tmp_path / "docs"), "--index", str(tmp_path / "ix"), "日本"]
    )
    assert result.exit_code == 1, result.output  # no hit
    assert result.stdout == "no paragraph matches 日本\n"
    assert "no document to index: the index is empty" in result.stderr


def test_an_index_inside_the_documents_folder_is_never_counted_wherever_it_lies(
    tmp_path, monkeypatch
):
    """`cd docs && kensaku index --docs .` puts the index in docs/index: kensaku's own files are
    neither documents nor files in other formats, on the update as on the build, nor in status -v;
    another index deeper down (another collection's) is left out too."""
    from search.index.directory import LOCK_NAME, MANIFEST_NAME
    from search.ingest.discovery import INDEX_MARKERS

    assert set(INDEX_MARKERS) == {MANIFEST_NAME, LOCK_NAME}
    docs = tmp_path / "docs"
    write(docs, {"report.txt": "報告\n本文。\n", "deep/notes.md": "# メモ\n"})
    search.build_index(docs / "deep", docs / "deep" / "archive" / "older-index")
    monkeypatch.chdir(docs)
    runner = CliRunner()
    built = runner.invoke(main, ["index", "--docs", "."])
    assert built.exit_code == 0, built.output
    assert re.fullmatch(r"indexed 2 documents, 3 paragraphs in [0-9.]+ s\n", built.stdout)
    updated = runner.invoke(main, ["index", "--docs", ".", "-v"])
    assert updated.stdout == "the index is up to date: 2 documents, 3 paragraphs in all\n"
    assert [d.source for d in scan(docs).documents] == ["deep/notes.md", "report.txt"]
    assert scan(docs).other_formats == [] and scan(docs).ignored == []
    status = runner.invoke(main, ["status", "-v"])
    assert status.exit_code == 0 and "index/" not in status.stdout
    assert "not read" not in status.stdout and "state      up to date" in status.stdout


def _without_file_permission_override() -> list[str]:
    """A command prefix under which permissions apply: root reads a chmod 000 folder anyway,
    unless it runs without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (setpriv drops them)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv (util-linux): cannot make a folder unreadable")
    drop = "-dac_override,-dac_read_search"
    return [setpriv, f"--inh-caps={drop}", f"--bounding-set={drop}"]


def test_an_unreadable_folder_is_warned_of_once_an_update_and_counted_as_a_folder(tmp_path):
    docs = tmp_path / "docs"
    write(
        docs, {"report.txt": "報告\n本文。\n", "locked/a.txt": "秘密\n", "locked/b.txt": "秘密\n"}
    )
    (docs / "locked").chmod(0)
    prefix = _without_file_permission_override()

    def kensaku(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*prefix, sys.executable, "-m", "search", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )

    try:
        built = kensaku("index", "--docs", "docs", "-v")
        searched = kensaku("search", "報告")
        updated = kensaku("index")
        status = kensaku("status", "-v")
        as_json = kensaku("status", "--json")
    finally:
        (docs / "locked").chmod(0o755)
    warning = "kensaku: skipped folder locked/: Permission denied\n"
    assert built.returncode == 0 and built.stderr == warning
    assert re.fullmatch(
        r"indexed 1 document, 2 paragraphs in [0-9.]+ s; 1 folder unreadable \(permission "
        r"denied\)\nskipped folder locked/: Permission denied\n",
        built.stdout,
    )
    # A search that finds the index current says nothing of it; the next update does, once.
    assert (searched.returncode, searched.stderr) == (0, "")
    assert updated.stderr == warning
    assert updated.stdout == (
        "the index is up to date: 1 document, 2 paragraphs in all; "
        "1 folder unreadable (permission denied)\n"
    )
    assert "           1 document, 2 paragraphs; 1 folder unreadable (permission denied)\n" in (
        status.stdout
    )
    assert status.stdout.endswith(
        "state      up to date\nskipped folder locked/: Permission denied\n"
    )
    assert json.loads(as_json.stdout)["unreadable_folders"] == [["locked/", "Permission denied"]]
