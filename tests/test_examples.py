"""The documentation's examples, run: every code block of README.md, README.ja.md and docs/**/*.md
(the generated docs/reference/ aside) is of a kind this module knows, and each kind is run or
checked as a reader would use it, on copies of the seeds (as ./seeds, ~/資料 and ~/shared/reports):

- Python: run; each `# →` comment must be what it prints, in order.
- `$ kensaku …` prompts: the command run, and the lines shown after it matched line by line,
  figures that vary from machine to machine (dates, sizes, seconds, the folder's path, Sudachi's
  versions) aside; ` ...` stands for lines left out.
- `$ curl …` prompts: run against a real `kensaku serve` of the seeds on a free port (the example's
  127.0.0.1:8080 rewritten to it), what is shown found in what curl prints, `…` standing for text
  left out.
- Shell blocks of `kensaku` commands: run in bash, each block in a folder of its own; every
  `kensaku serve` line started (on a free port) and asked for its status, then stopped; every
  `kensaku mcp` line started, over stdio with its input closed, or over HTTP until it listens;
  every block with `--cluster local` run in this process on one local Ray for all of them.
- `python bench/…` and `python scripts/…` commands: the script's `--help` must name every option
  the example gives (the benchmarks need ../shared and minutes to hours).
- JSON: `kensaku search --json`'s, compared with what it prints for the same query; an MCP
  client's configuration, its command run with its arguments (paths made the sandbox's).
- TOML: a kensaku.toml, loaded as kensaku loads one.

Left out, each for a reason: installing (`python3 -m venv`, `pip install`: the quick start's
commands are run by CI, .ci/run, exactly as the README gives them), the checks and the docs build
(`.venv/bin/ruff`, `mypy`, `lint-imports`, `mkdocs`: CI runs them), a cluster of machines (`ray
start`, `--cluster auto` on /nfs paths: it needs the machines), diagrams (```text blocks), and
`kensaku index --docs ~/資料`'s summary, which shows a folder bigger than the seeds (run; its
first word matched).

The pages themselves: each holds the kinds of example it should, README.md stays a front page
(at most 12 KB) linking README.ja.md and back, the READMEs' links reach files, and no line
breaks inside Japanese text."""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from search.cli.config import load_config
from search.cli.main import main

from .conftest import REPO, SEEDS
from .serving import Server

README = REPO / "README.md"
README_JA = REPO / "README.ja.md"
DOCS = REPO / "docs"
README_LIMIT = 12 * 1024  # bytes: a front page, not a manual
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
_INSTALLS = re.compile(r"^(python3 -m venv|(\.venv/bin/)?pip install)")
_CHECKS = re.compile(r"^\.venv/bin/(ruff|mypy|lint-imports|mkdocs|pytest)\b")
_BENCH = re.compile(r"^python (bench|scripts)/\w+\.py\b")
_SERVED = "127.0.0.1:8080"  # where the docs' curl examples find `kensaku serve`


def pages() -> list[Path]:
    """The pages whose examples are run: both READMEs and every page of docs/ but the
    references generated from the code."""
    found = sorted(p for p in DOCS.rglob("*.md") if "reference" not in p.relative_to(DOCS).parts)
    return [README, README_JA, *found]


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # where it starts in its page
    language: str
    text: str

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"

    @property
    def lines(self) -> list[str]:
        return [line for line in self.text.splitlines() if line.strip()]


def blocks_of(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    return [
        Block(page, text.count("\n", 0, found.start()) + 1, found.group(1), found.group(2))
        for found in _BLOCK.finditer(text)
    ]


def kind(block: Block) -> str:
    """What a block is, and so how it is run: see the module's docstring."""
    lines, language = block.lines, block.language
    if language == "python":
        return "python"
    if language == "json":
        data = json.loads(block.text)
        if "mcpServers" in data or "servers" in data:
            return "mcp-config"
        return "search-json" if "query" in data and "hits" in data else "unknown"
    if language == "toml":
        return "config"
    if language == "text":
        return "diagram"
    if lines and lines[0].startswith("$ kensaku "):
        return "prompt"
    if lines and lines[0].startswith("$ curl "):
        return "curl"
    if language not in ("sh", "bash"):
        return "unknown"
    if any(line.startswith("ray start") for line in lines):
        return "left-out"  # a cluster of machines
    if all(_INSTALLS.match(line) or _CHECKS.match(line) for line in lines):
        return "left-out"  # installing, and the checks CI runs
    if all(_BENCH.match(line) for line in lines):
        return "bench"
    if any("--cluster local" in line for line in lines):
        return "cluster"
    if any(line.startswith("kensaku serve") for line in lines):
        return "serve"
    if any(line.startswith("kensaku mcp") for line in lines):
        return "mcp"
    if any(line.startswith("kensaku ") for line in lines):
        return "shell"
    return "unknown"


BLOCKS = [block for page in pages() for block in blocks_of(page)]


def of_kind(name: str) -> list[Block]:
    return [block for block in BLOCKS if kind(block) == name]


def by_name(block: Block) -> str:
    return block.name


# ---------------------------------------------------------------- the pages


def test_every_block_is_an_example_of_a_known_kind():
    unknown = [block.name for block in BLOCKS if kind(block) == "unknown"]
    assert not unknown, f"blocks no test knows how to run: {unknown}"


# Each page's kinds of example, at least one of each (how-it-works shows diagrams only).
_EXPECTED = {
    "README.md": {"prompt", "python", "serve", "mcp-config", "cluster"},
    "README.ja.md": {"prompt", "python", "serve", "mcp-config", "cluster"},
    "docs/index.md": {"prompt"},
    "docs/getting-started.md": {"prompt", "shell", "serve"},
    "docs/searching.md": {"prompt", "search-json", "config"},
    "docs/documents.md": {"prompt", "shell"},
    "docs/serving.md": {"serve", "curl"},
    "docs/python.md": {"python"},
    "docs/mcp.md": {"mcp", "mcp-config"},
    "docs/cluster.md": {"cluster", "shell"},
    "docs/how-it-works.md": {"diagram"},
    "docs/benchmarks.md": {"bench"},
    "docs/development.md": {"left-out"},
    "docs/ja/index.md": {"left-out"},
    "docs/ja/getting-started.md": {"prompt", "shell", "serve"},
    "docs/ja/searching.md": {"prompt", "config", "shell"},
}


@pytest.mark.parametrize("page", sorted(_EXPECTED))
def test_each_page_has_its_examples(page):
    kinds = {kind(block) for block in BLOCKS if block.page == REPO / page}
    assert _EXPECTED[page] <= kinds, f"{page} lacks examples of {_EXPECTED[page] - kinds}"


def test_every_page_of_the_docs_is_known_to_this_test():
    shown = {str(page.relative_to(REPO)) for page in pages()}
    assert shown == set(_EXPECTED), "a page added or removed: say which examples it should hold"


def test_the_readme_is_a_front_page_and_links_to_its_japanese_twin():
    assert README.stat().st_size <= README_LIMIT, f"README.md is {README.stat().st_size} bytes"
    english = README.read_text(encoding="utf-8").splitlines()[0]
    japanese = README_JA.read_text(encoding="utf-8").splitlines()[0]
    assert "(README.ja.md)" in english and "(README.md)" in japanese


_LINK = re.compile(r"\]\(([^)\s]+)\)")
# The site's own files (generated references, screenshots, the chart), checked once the site is
# there: mkdocs build --strict checks every link of docs/ too, but not the READMEs'.
_SITE_FILES = ("docs/reference/", "docs/images/")


@pytest.mark.parametrize("page", [README, README_JA], ids=lambda page: page.name)
def test_a_readme_s_links_reach_files_of_the_repository(page):
    targets = [link.split("#")[0] for link in _LINK.findall(page.read_text(encoding="utf-8"))]
    local = [target for target in targets if target and "://" not in target]
    site = (REPO / "mkdocs.yml").exists()
    missing = [
        target
        for target in local
        if not (REPO / target).exists() and (site or not target.startswith(_SITE_FILES))
    ]
    assert local and not missing, f"links to nothing: {missing}"


_JAPANESE = re.compile(r"[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef]")


@pytest.mark.parametrize("page", pages(), ids=lambda page: str(page.relative_to(REPO)))
def test_no_line_breaks_inside_japanese_text(page):
    """A line break inside a paragraph renders as a space, which Japanese text does not have."""
    text = _BLOCK.sub("", page.read_text(encoding="utf-8"))
    lines = text.split("\n")
    broken = [
        f"{number}: …{line[-10:]}"
        for number, (line, after) in enumerate(itertools.pairwise(lines), start=1)
        if _JAPANESE.match(line.rstrip()[-1:]) and _JAPANESE.match(after.lstrip()[:1])
    ]
    assert not broken, f"lines to join in {page.name}: {broken}"


def test_the_quick_start_is_the_commands_ci_runs():
    [quick_start] = [b for b in blocks_of(README) if b.text.startswith("python3 -m venv .venv")]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    first, second = quick_start.lines
    assert first.replace("pip install .", "pip install -q .") in ci
    assert second.split(" && ")[0].replace("pip install", "pip install -q") in ci


# ---------------------------------------------------------------- where the examples run


def make_root(root: Path) -> Path:
    """A working folder holding ./seeds, and a home holding ~/資料 and ~/shared/reports (copies
    of the seeds)."""
    shutil.copytree(SEEDS, root / "work" / "seeds")
    for folder in ("資料", "shared/reports"):
        shutil.copytree(SEEDS, root / "home" / folder)
    return root


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Path:
    """A root as make_root's, with ./index built from ./seeds, as after the quick start."""
    root = make_root(tmp_path_factory.mktemp("examples"))
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


def words(line: str, root: Path) -> list[str]:
    """A command line's words as the shell gives them (`~` the sandbox's home), comments left
    out, `kensaku` itself too."""
    home = str(root / "home")
    split = shlex.split(line, comments=True)
    return [re.sub(r"^~(?=/|$)", home, word) for word in split][1:]


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


def assert_holds(shown: str, printed: str) -> None:
    """Each piece of `shown` between `…` (text left out) is in `printed`, in order."""
    at = 0
    for piece in shown.split("…"):
        assert piece in printed[at:], f"{piece!r} is not printed; printed:\n{printed}"
        at = printed.index(piece, at) + len(piece)


# ---------------------------------------------------------------- Python


@pytest.mark.parametrize("block", of_kind("python"), ids=by_name)
def test_a_python_example_runs_and_prints_what_its_comments_say(block, tmp_path):
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
    assert expected, "a Python example says what it prints"
    printed = result.stdout
    at = 0
    for shown in expected:
        shown = shown.removesuffix("…").rstrip(", ")
        assert shown in printed[at:], f"{shown!r} is not printed; printed:\n{printed}"
        at = printed.index(shown, at) + len(shown)


# ---------------------------------------------------------------- the command line


@pytest.mark.parametrize("block", of_kind("prompt"), ids=by_name)
def test_a_command_after_a_prompt_prints_what_the_page_shows(block, sandbox):
    command, *shown = block.text.rstrip("\n").split("\n")
    command = command.removeprefix("$ ")
    folder = "work"
    if command == "kensaku index":  # the update shown: a file added, one changed, one removed
        folder = _changed_copy(sandbox)
    elif command in _ILLUSTRATIVE:
        folder = "home"  # its own ./index, new: the quick start's stays the seeds
        shutil.rmtree(sandbox / "home" / "index", ignore_errors=True)
    result = run_shell(command, sandbox, folder)
    assert result.returncode == 0, result.stderr
    if command in _ILLUSTRATIVE:
        assert result.stdout.split()[0] == shown[0].split()[0]
        return
    assert_shows(masked("\n".join(shown)), masked(result.stdout))


def _changed_copy(sandbox: Path) -> str:
    """A copy of ./seeds, indexed, then changed as the pages' update says: new.txt added,
    004_… changed, 003_… removed."""
    work = sandbox / "update"
    shutil.rmtree(work, ignore_errors=True)  # anew for each page that shows it
    shutil.copytree(SEEDS, work / "seeds")
    assert run_shell("kensaku index >/dev/null", sandbox, "update").returncode == 0
    (work / "seeds" / "new.txt").write_text("新しい文書\n本文です。\n", encoding="utf-8")
    changed = work / "seeds" / "004_7af21bdf63ee1157.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + "\n追記です。\n", encoding="utf-8")
    (work / "seeds" / "003_b53a17d89b495407.txt").unlink()
    return "update"


@pytest.mark.parametrize("block", of_kind("shell"), ids=by_name)
def test_the_commands_of_a_shell_example_run(block, tmp_path):
    root = make_root(tmp_path)  # a folder of its own: blocks index ./index anew in their ways
    result = run_shell(block.text, root)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("block", of_kind("search-json"), ids=by_name)
def test_the_json_example_is_what_search_json_prints(block, sandbox):
    shown = json.loads(block.text)
    # In a folder of its own, as after the quick start: other examples index ./index anew.
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


@pytest.mark.parametrize("block", of_kind("config"), ids=by_name)
def test_a_settings_file_loads_as_kensaku_loads_it(block, tmp_path):
    path = tmp_path / "kensaku.toml"
    path.write_text(block.text, encoding="utf-8")
    config = load_config(path)
    assert config.limit == 20 and config.docs == tmp_path / "資料"


# ---------------------------------------------------------------- the server and curl


@pytest.mark.parametrize("block", of_kind("serve"), ids=by_name)
def test_a_serve_example_serves_the_documents(block, tmp_path):
    root = make_root(tmp_path)
    for line in block.lines:
        arguments = _without_port(words(line, root)[1:])
        server = Server(*arguments, cwd=root / "work")
        try:
            status = server.get("/api/status")
            assert status.status == 200 and status.json()["documents"] == 5, server.stderr
        finally:
            assert server.stop() == 0, server.stderr


def _without_port(arguments: list[str]) -> list[str]:
    """The arguments without `--port N` (the test gives the server a free port)."""
    if "--port" not in arguments:
        return arguments
    at = arguments.index("--port")
    return arguments[:at] + arguments[at + 2 :]


@pytest.fixture(scope="module")
def served(sandbox):
    """`kensaku serve` of the sandbox's seeds, as the curl examples find it."""
    server = Server(cwd=sandbox / "work")
    yield server
    server.stop()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize("block", of_kind("curl"), ids=by_name)
def test_a_curl_example_prints_what_the_page_shows(block, served, sandbox):
    for command, shown in _prompts(block.text):
        command = command.replace(_SERVED, f"{served.host}:{served.port}")
        result = run_shell(command, sandbox)
        assert result.returncode == 0, result.stderr
        for line in shown:
            assert_holds(line, result.stdout)


def _prompts(text: str) -> list[tuple[str, list[str]]]:
    """Each `$ command` of a block with the lines shown after it."""
    prompts: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("$ "):
            prompts.append((line.removeprefix("$ "), []))
        elif line.strip():
            prompts[-1][1].append(line)
    return prompts


# ---------------------------------------------------------------- MCP


@pytest.mark.parametrize("block", of_kind("mcp"), ids=by_name)
def test_an_mcp_example_serves_the_documents(block, tmp_path):
    pytest.importorskip("mcp", reason="the MCP SDK is not installed: pip install 'kensaku[mcp]'")
    root = make_root(tmp_path)
    for line in block.lines:
        arguments = words(line, root)[1:]
        if "--http" in arguments:
            server = Server(*_without_port(arguments), cwd=root / "work", command="mcp")
            try:
                assert server.url.endswith("/mcp")
            finally:
                server.stop()
        else:
            assert _stdio_server_starts(arguments, root / "work")


def _stdio_server_starts(arguments: list[str], cwd: Path) -> bool:
    """`kensaku mcp ARGUMENTS` over stdio, its input closed: it builds the index, serves, and
    ends when its client goes."""
    result = subprocess.run(
        [sys.executable, "-m", "search", "mcp", *arguments],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, result.stderr
    return True


@pytest.mark.parametrize("block", of_kind("mcp-config"), ids=by_name)
def test_an_mcp_client_configuration_starts_kensaku(block, tmp_path):
    pytest.importorskip("mcp", reason="the MCP SDK is not installed: pip install 'kensaku[mcp]'")
    data = json.loads(block.text)
    [server] = (data.get("mcpServers") or data["servers"]).values()
    if server.get("type") == "http":
        port = urlsplit(server["url"]).port
        assert port == _default_port("mcp")
        return
    assert Path(server["command"]).name == "kensaku"  # the console script pyproject names
    root = make_root(tmp_path)
    shutil.copytree(SEEDS, root / "workspace" / "docs")
    places = {"/home/me": str(root / "home"), "${workspaceFolder}": str(root / "workspace")}
    arguments = [_placed(argument, places) for argument in server["args"]]
    assert arguments[0] == "mcp"
    assert _stdio_server_starts(arguments[1:], root / "work")


def _placed(argument: str, places: dict[str, str]) -> str:
    for place, there in places.items():
        argument = argument.replace(place, there)
    return argument


def _default_port(command: str) -> int:
    """The port `kensaku COMMAND` listens on by default (`mcp` says it in its help: its default
    holds only with --http)."""
    [option] = [p for p in main.commands[command].params if p.name == "port"]
    if option.default is not None:
        return int(option.default)
    return int(re.search(r"\[default: (\d+)\]", option.help).group(1))


def test_the_vs_code_http_configuration_names_mcp_s_default_port():
    text = (DOCS / "mcp.md").read_text(encoding="utf-8")
    [url] = re.findall(r'"url":\s*"(http://[^"]+)"', text)
    assert urlsplit(url).port == _default_port("mcp") and url.endswith("/mcp")


# ---------------------------------------------------------------- the cluster


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray for every `--cluster local` example: joined here, so the commands, run in
    this process, use it rather than start one each."""
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'kensaku[cluster]'")
    ray.init(num_cpus=2, include_dashboard=False, namespace="kensaku", log_to_driver=False)
    yield
    ray.shutdown()


@pytest.mark.parametrize("block", of_kind("cluster"), ids=by_name)
def test_a_cluster_example_runs_on_ray(block, local_ray, tmp_path, monkeypatch):
    root = make_root(tmp_path)
    monkeypatch.chdir(root / "work")
    for line in block.lines:
        result = CliRunner().invoke(main, words(line, root), catch_exceptions=False)
        assert result.exit_code == 0, f"{line}: {result.output}"
        if " search " in f" {line} ":
            assert "paragraphs match" in result.stdout


# ---------------------------------------------------------------- the benchmarks


@pytest.mark.parametrize("block", of_kind("bench"), ids=by_name)
def test_a_benchmark_command_names_options_its_script_has(block):
    for line in block.lines:
        script, *arguments = shlex.split(line, comments=True)[1:]
        result = subprocess.run(
            [sys.executable, script, "--help"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        assert result.returncode == 0, result.stderr
        for option in (a.split("=")[0] for a in arguments if a.startswith("--")):
            assert option in result.stdout, f"{script} has no {option}"
