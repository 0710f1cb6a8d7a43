"""The README's code examples, run: its Python, whose `# →` comments must be what it prints, and
its `kensaku …` commands, on copies of the seeds (as ./seeds, ~/資料 and ~/shared/reports), the
output shown after a `$ kensaku …` prompt matched line by line, figures that vary from machine to
machine (dates, sizes, seconds, the folder's path, Sudachi's versions) aside.

Left out, each for a reason: installing (the quick start's `pip install`, which CI runs), `kensaku
serve`, `kensaku mcp` and `curl` (a server runs until stopped: their own tests serve it), the config
file (tests/test_config.py) and the MCP clients' JSON (tests/test_mcp.py)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import REPO, SEEDS

README = REPO / "README.md"
_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
# What differs from machine to machine and from run to run, masked in both outputs.
_VARYING = [
    (re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)?"), "DATE"),
    (re.compile(r"\((\d+ (day|hour|minute)s? ago|just now)\)"), "(AGO)"),
    (re.compile(r"[\d.,]+ (kB|MB|GB|bytes)"), "SIZE"),
    (re.compile(r"in [\d.]+ s\b"), "in N s"),
    (re.compile(r"format \d+"), "format N"),
    (re.compile(r"SudachiPy \S+ with sudachidict-core \S+"), "SudachiPy V with sudachidict-core V"),
    (re.compile(r"/\S*/seeds\b"), "/…/seeds"),
]
# An example of a folder bigger than the seeds: run, and its output's first words matched.
_ILLUSTRATIVE = {"kensaku index --docs ~/資料"}
_LEFT_OUT = re.compile(r"pip install|kensaku (serve|mcp)|^\s*curl |python3 -m venv")


@dataclass(frozen=True)
class Block:
    line: int  # where it starts in the README
    language: str
    text: str


def readme_blocks() -> list[Block]:
    text = README.read_text(encoding="utf-8")
    return [
        Block(text.count("\n", 0, found.start()) + 1, found.group(1), found.group(2))
        for found in _BLOCK.finditer(text)
    ]


def _prompted(block: Block) -> bool:
    return block.language == "" and block.text.startswith("$ kensaku ")


def _commands(block: Block) -> bool:
    lines = [line for line in block.text.splitlines() if line.strip()]
    return (
        block.language == "sh"
        and any(line.startswith("kensaku ") for line in lines)
        and not any(_LEFT_OUT.search(line) for line in lines)
    )


PYTHON = [block for block in readme_blocks() if block.language == "python"]
PROMPTED = [block for block in readme_blocks() if _prompted(block)]
COMMANDS = [block for block in readme_blocks() if _commands(block)]


def test_the_readme_has_examples_of_each_kind():
    assert len(PYTHON) == 1 and len(PROMPTED) >= 5 and len(COMMANDS) >= 1


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Path:
    """A working folder holding ./seeds, a home holding ~/資料 and ~/shared/reports (copies of
    the seeds), and ./index built from ./seeds, as after the quick start."""
    root = tmp_path_factory.mktemp("readme")
    shutil.copytree(SEEDS, root / "work" / "seeds")
    for folder in ("資料", "shared/reports"):
        shutil.copytree(SEEDS, root / "home" / folder)
    assert run_shell("kensaku index >/dev/null", root).returncode == 0
    return root


def run_shell(script: str, root: Path, folder: str = "work") -> subprocess.CompletedProcess:
    """`script` in bash, in `root/folder`, HOME `root/home`, `kensaku` this checkout's."""
    environment = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(root / "home"),
        "PYTHONPATH": str(REPO),
        "LANG": "C.UTF-8",
    }
    prelude = f'set -euo pipefail\nkensaku() {{ "{sys.executable}" -m search "$@"; }}\n'
    return subprocess.run(
        ["bash", "-c", prelude + script],
        cwd=root / folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def masked(text: str) -> list[str]:
    lines = []
    for line in text.splitlines():
        for pattern, mask in _VARYING:
            line = pattern.sub(mask, line)
        lines.append(line.rstrip())
    return lines


def assert_shows(shown: list[str], printed: list[str]) -> None:
    """Every line `shown` (but ` ...`, which stands for more) is a line `printed`, in order."""
    at = 0
    for line in shown:
        if line.strip() in ("...", ""):
            continue
        assert line in printed[at:], f"{line!r} is not printed; printed:\n" + "\n".join(printed)
        at = printed.index(line, at) + 1


@pytest.mark.parametrize("block", PYTHON, ids=lambda block: f"line {block.line}")
def test_the_python_example_runs_and_prints_what_its_comments_say(block, tmp_path):
    shutil.copytree(SEEDS, tmp_path / "seeds")
    (tmp_path / "example.py").write_text(block.text, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "example.py"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    expected = [line.split("# → ", 1)[1] for line in block.text.splitlines() if "# → " in line]
    assert len(expected) >= 8
    printed = result.stdout
    at = 0
    for shown in expected:
        shown = shown.removesuffix("…").rstrip(", ")
        assert shown in printed[at:], f"{shown!r} is not printed; printed:\n{printed}"
        at = printed.index(shown, at) + len(shown)


@pytest.mark.parametrize("block", PROMPTED, ids=lambda block: f"line {block.line}")
def test_a_command_after_a_prompt_prints_what_the_readme_shows(block, sandbox, tmp_path):
    command, *shown = block.text.rstrip("\n").split("\n")
    command = command.removeprefix("$ ")
    folder = "work"
    if command == "kensaku index":  # the update shown: a file added, one changed, one removed
        folder = _changed_copy(sandbox)
    elif command in _ILLUSTRATIVE:
        folder = "home"  # its own ./index: the quick start's stays the seeds
    result = run_shell(command, sandbox, folder)
    assert result.returncode == 0, result.stderr
    if command in _ILLUSTRATIVE:
        assert result.stdout.split()[0] == shown[0].split()[0]
        return
    assert_shows(masked("\n".join(shown)), masked(result.stdout))


def _changed_copy(sandbox: Path) -> str:
    """A copy of ./seeds, indexed, then changed as the README's update says: new.txt added,
    004_… changed, 003_… removed."""
    work = sandbox / "update"
    if not work.exists():
        shutil.copytree(SEEDS, work / "seeds")
        assert run_shell("kensaku index >/dev/null", sandbox, "update").returncode == 0
        (work / "seeds" / "new.txt").write_text("新しい文書\n本文です。\n", encoding="utf-8")
        changed = work / "seeds" / "004_7af21bdf63ee1157.txt"
        changed.write_text(changed.read_text(encoding="utf-8") + "\n追記です。\n", encoding="utf-8")
        (work / "seeds" / "003_b53a17d89b495407.txt").unlink()
    return "update"


@pytest.mark.parametrize("block", COMMANDS, ids=lambda block: f"line {block.line}")
def test_the_commands_of_a_shell_example_run(block, sandbox):
    result = run_shell(block.text, sandbox, "home")  # its own ./index: the quick start's stays
    assert result.returncode == 0, result.stderr


def test_the_json_example_is_what_search_json_prints(sandbox):
    text = README.read_text(encoding="utf-8")
    assert "`kensaku search --json QUERY` prints:" in text
    [block] = [b for b in readme_blocks() if b.language == "json" and '"query"' in b.text]
    shown = json.loads(block.text)
    # In a folder of its own, as after the quick start: other examples index ./index anew from
    # other folders (~/資料, shards).
    if not (sandbox / "json").exists():
        shutil.copytree(SEEDS, sandbox / "json" / "seeds")
    result = run_shell(f"kensaku search --json {shown['query']}", sandbox, "json")
    printed = json.loads(result.stdout)
    for data in (shown, printed):  # a document's date is its file's here: when it was copied
        data["facets"].pop("year")
        for hit in data["hits"]:
            hit.pop("date")
    assert {key: printed[key] for key in shown if key != "hits"} == {
        key: value for key, value in shown.items() if key != "hits"
    }
    by_rank = {hit["rank"]: hit for hit in printed["hits"]}
    for hit in shown["hits"]:
        assert by_rank[hit["rank"]] == hit
