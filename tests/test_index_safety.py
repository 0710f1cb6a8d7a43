"""Index safety: atomic rebuilds under SIGKILL, readers during rebuilds, one writer at a time,
damage reported as one line naming the remedy, and an index readable by its owner only."""

from __future__ import annotations

import importlib.util
import os
import random
import select
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import search
from search.cli.main import main
from search.errors import IndexBusy, IndexDamaged
from search.index import generations as generations_module
from search.index.directory import GENERATION_PREFIX, LOCK_NAME, MANIFEST_NAME
from search.index.manifest import Manifest
from search.index.opening import translate_damage

from .conftest import REPO, SEEDS, run_in_terminal

QUERIES = ("ピラー2", "日米", "司令部 OR 韓国")


def load_kill_script():
    spec = importlib.util.spec_from_file_location(
        "kill_rebuilds", REPO / "scripts" / "kill_rebuilds.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def found(index_dir: Path) -> list:
    """Totals and citations of a few queries, read as the CLI reads them (damage translated)."""
    with translate_damage(index_dir), search.Searcher(index_dir) as searcher:
        return [
            (r.total, [(h.source, h.line) for h in r.hits])
            for r in (searcher.search(q, limit=20) for q in QUERIES)
        ]


def live_generation(index_dir: Path) -> Path:
    return index_dir / Manifest.load(index_dir).generation


def generations(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir() if p.name.startswith(GENERATION_PREFIX))


@pytest.fixture
def small_docs(tmp_path) -> Path:
    """Two of the seeds: enough to search, quick to index."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for path in sorted(SEEDS.glob("*.txt"))[:2]:
        shutil.copy(path, docs / path.name)
    return docs


@pytest.fixture
def built(small_docs, tmp_path) -> Path:
    index_dir = tmp_path / "index"
    search.build_index(small_docs, index_dir)
    return index_dir


def rebuild_process(docs: Path, index_dir: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "search",
            "index",
            "--rebuild",
            "--docs",
            str(docs),
            "--index",
            str(index_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


# Atomic rebuilds


def test_three_rebuilds_killed_at_random_moments_leave_the_same_results(small_docs, tmp_path):
    script = load_kill_script()
    messages = []
    failures = script.run(
        kills=3,
        seed=random.randrange(10**6),
        docs_dir=small_docs,
        work=tmp_path,
        say=messages.append,
    )
    assert failures == [], "\n".join(messages)
    kills = [m for m in messages if m.startswith("kill ")]
    assert len(kills) == 3
    assert kills[-1].startswith("kill  3 at the switch: ") and "manifest switched" in kills[-1]


SLOW_TO_HAND_OUT = """
import sys, time
from pathlib import Path
from search.index.generations import writer_lock
from search.index.writer import write_index
from search.ingest.discovery import scan
from search.ingest.paragraphs import read_document

def slow_work(document):
    print("handing out", flush=True)
    time.sleep(0.05)
    return 1

docs, index_dir = Path(sys.argv[1]), Path(sys.argv[2])
index_dir.mkdir()
with writer_lock(index_dir):
    write_index(index_dir / "gen", scan(docs).documents, read_document, procs=2,
                segment_mb=0.0001, work=slow_work)
"""


def alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie, killed but not yet reaped, does not)."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return status.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(
    not Path("/proc/self/task").is_dir(), reason="reads a process's children in /proc (Linux)"
)
def test_a_killed_builds_workers_end_with_it_and_leave_the_writer_lock_free(tmp_path):
    """A build killed while it hands out chunks: its workers, which hold the writer lock's
    descriptor, would wait for chunks for ever (the next build: 'another kensaku process')."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for number in range(60):
        (docs / f"{number:03d}.txt").write_text(f"第{number}号の文書。\n", encoding="utf-8")
    index_dir = tmp_path / "index"
    build = subprocess.Popen(
        [sys.executable, "-c", SLOW_TO_HAND_OUT, str(docs), str(index_dir)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert build.stdout.readline() == "handing out\n"  # the workers have started
    children = Path(f"/proc/{build.pid}/task/{build.pid}/children").read_text().split()
    build.kill()
    build.wait()
    assert len(children) == 2
    deadline = time.monotonic() + 10
    while any(alive(int(pid)) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in children if alive(int(pid))] == []
    with generations_module.writer_lock(index_dir, wait=0):
        pass


def test_a_killed_builds_left_overs_never_confuse_a_reader_and_the_next_build_removes_them(
    built, small_docs
):
    expected = found(built)
    partial = built / f"{GENERATION_PREFIX}ffffffffffffffff-1"
    partial.mkdir()
    (partial / "_MAIN_1.toc").write_bytes(b"half a table of contents")
    temporary = built / f".{MANIFEST_NAME}.1-abc.tmp"
    temporary.write_text('{"generation": "gen-ffffffffffffffff-1"', encoding="utf-8")
    assert found(built) == expected
    search.build_index(small_docs, built)
    assert not partial.exists() and not temporary.exists()
    assert len(generations(built)) == 2  # the live one and the previous one
    assert found(built) == expected


def test_a_killed_first_build_does_not_make_the_directory_look_foreign(small_docs, tmp_path):
    index_dir = tmp_path / "index"
    (index_dir / f"{GENERATION_PREFIX}1-1").mkdir(parents=True)
    (index_dir / LOCK_NAME).touch()
    (index_dir / f".{MANIFEST_NAME}.1-2.tmp").write_text("{", encoding="utf-8")
    assert Manifest.load(index_dir) is None
    summary = search.build_index(small_docs, index_dir)
    assert summary.documents == 2
    assert generations(index_dir) == [live_generation(index_dir).name]
    assert [p.name for p in index_dir.iterdir() if p.name.endswith(".tmp")] == []


def test_a_manifest_naming_a_path_outside_the_index_is_damage(built):
    manifest = (built / MANIFEST_NAME).read_text(encoding="utf-8")
    live = Manifest.load(built).generation
    (built / MANIFEST_NAME).write_text(
        manifest.replace(live, "gen-x/../../elsewhere"), encoding="utf-8"
    )
    with pytest.raises(IndexDamaged, match="manifest is unreadable"):
        search.Searcher(built)


# Readers and writers at the same time


def test_a_searcher_opened_on_a_generation_keeps_working_while_two_more_are_built(
    built, small_docs
):
    expected = found(built)
    first = live_generation(built).name
    with search.Searcher(built) as searcher:
        before = searcher.search("日米").total
        search.build_index(small_docs, built)
        search.build_index(small_docs, built)
        assert first not in generations(built)  # it was removed while open
        assert searcher.search("日米").total == before
        assert [h.line for h in searcher.search("ピラー2").hits]
    assert found(built) == expected


def test_searches_during_rebuilds_always_succeed_with_the_same_results(built, small_docs):
    expected, expected_generation = found(built), live_generation(built).name
    searches = 0
    rebuild = rebuild_process(small_docs, built)
    while rebuild.poll() is None:
        assert found(built) == expected
        searches += 1
    assert rebuild.returncode == 0, rebuild.stderr.read().decode()
    assert Manifest.load(built).generation != expected_generation
    assert found(built) == expected
    assert searches >= 2


LOCK_HOLDER = """
import sys, time
from pathlib import Path
from search.index.generations import writer_lock
with writer_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold_writer_lock(index_dir: Path, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(index_dir), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline() == "locked\n"
    return holder


def test_a_second_writer_gives_up_after_the_wait_with_a_clear_message(
    built, small_docs, monkeypatch
):
    monkeypatch.setattr(generations_module, "LOCK_WAIT_SECONDS", 0.3)
    expected, live = found(built), live_generation(built).name
    holder = hold_writer_lock(built, 30)
    try:
        started = time.monotonic()
        with pytest.raises(IndexBusy, match="another kensaku process is writing the index"):
            search.build_index(small_docs, built)
        assert time.monotonic() - started < 5
        result = CliRunner().invoke(
            main, ["index", "--docs", str(small_docs), "--index", str(built)]
        )
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"kensaku: another kensaku process is writing the index in {built}: waiting for it to "
        "finish (up to 0.3 s)",
        f"Error: another kensaku process is writing the index in {built}; try again when it is "
        "done",
    ]
    assert live_generation(built).name == live and found(built) == expected


def test_a_second_writer_says_at_once_that_it_waits_then_proceeds(built, small_docs):
    holder = hold_writer_lock(built, 30)
    writer = subprocess.Popen(
        [sys.executable, "-m", "search", "index", "--docs", str(small_docs), "--index", str(built)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready, _, _ = select.select([writer.stderr], [], [], 20)
        assert ready, "nothing said while waiting"
        assert writer.stderr.readline() == (
            f"kensaku: another kensaku process is writing the "
            f"index in {built}: waiting for it to finish (up to "
            "30 s)\n"
        )
        assert writer.poll() is None  # still waiting
    finally:
        holder.kill()
        holder.wait()
    stdout, stderr = writer.communicate(timeout=60)
    assert writer.returncode == 0, stderr
    assert stdout.startswith("the index is up to date: 2 documents")


def test_a_second_writer_waits_for_the_first_to_finish(built, small_docs):
    holder = hold_writer_lock(built, 1.0)
    started = time.monotonic()
    summary = search.build_index(small_docs, built)
    waited = time.monotonic() - started
    holder.wait()
    assert summary.documents == 2
    assert waited >= 0.5


def test_two_rebuilds_at_once_both_succeed_in_turn(built, small_docs):
    expected = found(built)
    rebuilds = [rebuild_process(small_docs, built) for _ in range(2)]
    assert [r.wait() for r in rebuilds] == [0, 0]
    assert len(generations(built)) == 2
    assert found(built) == expected


# Damage


def segment_file(index_dir: Path) -> Path:
    """The biggest file of a segment: its postings (or the whole compound segment)."""
    files = [*live_generation(index_dir).glob("*.seg"), *live_generation(index_dir).glob("*.kps")]
    return max(files, key=lambda f: f.stat().st_size)


def toc_file(index_dir: Path) -> Path:
    return next(live_generation(index_dir).glob("_MAIN_*.toc"))


def truncate_segment(index_dir: Path) -> None:
    segment = segment_file(index_dir)
    os.truncate(segment, segment.stat().st_size // 2)


def delete_segment(index_dir: Path) -> None:
    segment_file(index_dir).unlink()


def garbage_toc(index_dir: Path) -> None:
    toc_file(index_dir).write_bytes(bytes(random.Random(5).randrange(256) for _ in range(1500)))


def truncate_toc(index_dir: Path) -> None:
    os.truncate(toc_file(index_dir), 100)


def garbage_manifest(index_dir: Path) -> None:
    (index_dir / MANIFEST_NAME).write_bytes(b"\x00{not json")


def delete_live_generation(index_dir: Path) -> None:
    shutil.rmtree(live_generation(index_dir))


DAMAGE = [
    truncate_segment,
    delete_segment,
    garbage_toc,
    truncate_toc,
    garbage_manifest,
    delete_live_generation,
]


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda f: f.__name__)
def test_damage_is_one_line_naming_the_rebuild_and_the_rebuild_repairs_it(
    built, small_docs, damage
):
    expected = found(built)
    damage(built)
    with pytest.raises(IndexDamaged) as raised:
        found(built)
    message = str(raised.value)
    assert "kensaku index --rebuild" in message and "\n" not in message
    result = CliRunner().invoke(
        main, ["index", "--rebuild", "--docs", str(small_docs), "--index", str(built)]
    )
    assert result.exit_code == 0, result.output
    assert found(built) == expected


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda f: f.__name__)
def test_the_cli_reports_damage_in_one_line_with_exit_code_1(built, small_docs, damage):
    damage(built)
    result = CliRunner().invoke(
        main, ["search", "日米", "--docs", str(small_docs), "--index", str(built)]
    )
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: ") and "kensaku index --rebuild" in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda f: f.__name__)
def test_an_update_of_a_damaged_index_builds_it_anew_and_never_calls_it_up_to_date(
    built, small_docs, damage
):
    expected = found(built)
    damage(built)
    result = CliRunner().invoke(main, ["index", "--docs", str(small_docs), "--index", str(built)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("indexed 2 documents, ")
    if damage is not garbage_manifest:  # a manifest it cannot read says nothing to go by
        assert result.stderr.startswith(f"kensaku: the index in {built} is damaged (")
        assert result.stderr.endswith("): building it anew\n")
    assert found(built) == expected
    assert generations(built) == [live_generation(built).name]


def _ctrl_c_as_on_a_terminal() -> None:
    """SIGINT as a terminal leaves it, in the rebuild: a shell ignores it in what it runs in the
    background (a CI job started with &), and a child would inherit that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _distinct_copies(docs: Path, copies: int) -> None:
    """`copies` copies of the seeds in `docs`, each line of each copy its own (a text the build
    met before is not analyzed again, so copies alike would take no time)."""
    for copy in range(copies):
        for path in SEEDS.glob("*.txt"):
            lines = path.read_text(encoding="utf-8").splitlines()
            text = "".join(f"{line}{copy}\n" if line.strip() else "\n" for line in lines)
            (docs / f"{copy}-{path.name}").write_text(text, encoding="utf-8")


def test_ctrl_c_during_a_rebuild_exits_130_says_so_and_leaves_the_index_as_it_was(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    _distinct_copies(docs, 10)  # enough that a rebuild takes a moment
    index_dir = tmp_path / "index"
    search.build_index(docs, index_dir)
    expected, live = found(index_dir), generations(index_dir)
    rebuild = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "search",
            "index",
            "--rebuild",
            "--docs",
            str(docs),
            "--index",
            str(index_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_ctrl_c_as_on_a_terminal,
    )
    deadline = time.monotonic() + 60
    while generations(index_dir) == live and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(generations(index_dir)) == 2, "the rebuild never started"
    time.sleep(0.2)
    os.killpg(rebuild.pid, signal.SIGINT)  # as a terminal's Ctrl-C: every process of the group
    stdout, stderr = rebuild.communicate(timeout=60)
    assert rebuild.returncode == 130, stderr
    assert (stdout, stderr) == (
        "",
        f"kensaku: interrupted: the index in {index_dir} is left as it was\n",
    )
    assert generations(index_dir) == live  # the unfinished generation is gone
    assert found(index_dir) == expected


def test_ctrl_c_on_a_terminal_replaces_the_progress_line_with_what_became_of_the_index(tmp_path):
    import pty
    import select

    docs = tmp_path / "docs"
    docs.mkdir()
    _distinct_copies(docs, 10)
    index_dir = tmp_path / "index"
    search.build_index(docs, index_dir)
    expected, live = found(index_dir), generations(index_dir)
    leader, follower = pty.openpty()
    rebuild = subprocess.Popen(
        [sys.executable, "-m", "search", "index", "--rebuild", "--docs", str(docs)],
        cwd=tmp_path,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**os.environ, "COLUMNS": "100", "TERM": "xterm"},
        start_new_session=True,
        preexec_fn=_ctrl_c_as_on_a_terminal,
    )
    os.close(follower)
    output = b""
    deadline = time.monotonic() + 60
    while b"indexing " not in output and time.monotonic() < deadline:
        if select.select([leader], [], [], 0.1)[0]:
            output += os.read(leader, 65536)
    assert b"indexing " in output, output  # the progress line is up
    os.killpg(rebuild.pid, signal.SIGINT)
    while True:
        try:
            chunk = os.read(leader, 65536) if select.select([leader], [], [], 30)[0] else b""
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    assert rebuild.wait(60) == 130
    tail = output.decode("utf-8").rpartition("\r\x1b[K")[2]
    assert tail == "kensaku: interrupted: the index in index is left as it was\r\n"
    assert generations(index_dir) == live and found(index_dir) == expected


def test_rebuild_without_docs_repairs_a_garbage_manifest(built, monkeypatch, tmp_path):
    garbage_manifest(built)
    monkeypatch.chdir(REPO)  # without --docs and without a manifest, the documents are ./seeds
    result = CliRunner().invoke(main, ["index", "--rebuild", "--index", str(built)])
    assert result.exit_code == 0, result.output
    assert Manifest.load(built).documents == 5


def test_damage_at_any_point_of_the_files_is_index_damaged_or_a_result(built):
    """Cut the segment and the table of contents at many points: never anything but IndexDamaged."""
    pristine = built.parent / "pristine"
    shutil.copytree(built, pristine)
    outcomes = set()
    for victim in (segment_file, toc_file):
        for fraction in (0.0, 0.05, 0.3, 0.6, 0.9, 0.999):
            shutil.rmtree(built)
            shutil.copytree(pristine, built)
            path = victim(built)
            os.truncate(path, int(path.stat().st_size * fraction))
            try:
                found(built)
                outcomes.add("results")
            except IndexDamaged:
                outcomes.add("damaged")
    assert "damaged" in outcomes


# Trust


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_index_is_readable_by_its_owner_only(built, small_docs):
    search.build_index(small_docs, built)  # two generations
    assert mode(built) == 0o700
    inside = [
        Path(folder, name)
        for generation in generations(built)
        for folder, folders, files in os.walk(built / generation)
        for name in [".", *folders, *files]
    ]
    assert len(inside) > 6
    assert {str(p): mode(p) for p in inside} == {
        str(p): 0o700 if p.is_dir() else 0o600 for p in inside
    }
    assert mode(built / MANIFEST_NAME) == 0o600
    assert mode(built / LOCK_NAME) == 0o600


def test_an_existing_open_index_directory_is_closed_to_others(small_docs, tmp_path):
    index_dir = tmp_path / "index"
    index_dir.mkdir(mode=0o755)
    index_dir.chmod(0o755)
    (index_dir / ".gitignore").write_text("*\n", encoding="utf-8")
    search.build_index(small_docs, index_dir)
    assert mode(index_dir) == 0o700


def test_a_search_that_finds_the_documents_changed_during_a_rebuild_does_not_wait(
    built, small_docs, monkeypatch
):
    monkeypatch.setattr(generations_module, "LOCK_WAIT_SECONDS", 2.0)
    (small_docs / "new.txt").write_text("新しい文書\n日米の協議\n", encoding="utf-8")
    holder = hold_writer_lock(built, 30)
    try:
        started = time.monotonic()
        result = CliRunner().invoke(
            main, ["search", "日米", "--docs", str(small_docs), "--index", str(built)]
        )
        waited = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 0, result.output
    assert "searching it as it is" in result.stderr and waited < 1.5


# Progress on a terminal


def test_the_progress_line_says_finishing_after_the_last_document_and_is_erased(
    small_docs, tmp_path
):
    status, output = run_in_terminal(
        ["index", "--docs", str(small_docs), "--index", str(tmp_path / "ix")],
        dict(os.environ),
        cwd=tmp_path,
    )
    assert status == 0, output
    drawn = [piece for piece in output.split("\r") if piece.startswith("indexing ")]
    assert drawn[-1] == "indexing 2/2 documents 100%  finishing: writing the index…\x1b[K"
    assert all(piece.startswith("indexing 1/2 documents  50%  ") for piece in drawn[:-1])
    assert output.endswith(
        f"\r\x1b[Kindexed 2 documents, 143 paragraphs in {output.rsplit(' in ', 1)[1]}"
    )


def test_the_time_left_comes_from_the_pace_since_the_start():
    from search.cli.progress import ProgressLine

    assert ProgressLine.describe(95, 100, "a.txt", 190.0) == (
        "indexing 95/100 documents  95%  3:10 elapsed, about 0:10 left  a.txt"
    )
    assert ProgressLine.describe(1, 4000, "b.txt", 3.6) == (
        "indexing 1/4,000 documents   0%  0:04 elapsed, about 3:59:56 left  b.txt"
    )
    assert ProgressLine.describe(3, 100, "c.txt", 0.5) == "indexing 3/100 documents   3%  c.txt"
