"""Shared fixtures: the real seed documents, indexed once per test session with real Sudachi and Whoosh."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import search

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory) -> Path:
    index_dir = tmp_path_factory.mktemp("seed-index") / "index"
    search.build_index(SEEDS, index_dir)
    return index_dir


@pytest.fixture(scope="session")
def searcher(seed_index):
    with search.Searcher(seed_index) as opened:
        yield opened


@pytest.fixture
def docs_copy(tmp_path) -> Path:
    """A private copy of the seeds that a test may change."""
    docs = tmp_path / "docs"
    shutil.copytree(SEEDS, docs)
    return docs


def whoosh_writer_index(path: Path, documents, codec=None) -> None:
    """The index as Whoosh's own writer builds it in `path`, one add_document per paragraph: in
    Whoosh's W3 format, or with `codec` (kensaku's, search.index.codec.CompactCodec)."""
    from whoosh.index import create_in

    from search.index.schema import paragraph_fields, schema
    from search.ingest.paragraphs import read_paragraphs

    path.mkdir()
    ix = create_in(str(path), schema())
    writer = ix.writer(codec=codec) if codec else ix.writer()
    for document in documents:
        for paragraph in read_paragraphs(document):
            writer.add_document(**paragraph_fields(paragraph))
    writer.commit()


def index_of(tmp_path: Path, name: str, text: str) -> Path:
    """An index, in `tmp_path`, of one document `name` holding `text`."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / name).write_text(text, encoding="utf-8")
    search.build_index(docs, tmp_path / "ix")
    return tmp_path / "ix"


def seed_lines(predicate) -> set[tuple[str, int]]:
    """(source, line) of every non-blank seed line for which predicate(line) holds: a plain scan."""
    found = set()
    for path in sorted(SEEDS.glob("*.txt")):
        for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
            if line.strip() and predicate(line):
                found.add((path.name, number))
    return found


def cited(results) -> set[tuple[str, int]]:
    """Every (source, line) the results cite, the places of duplicates included."""
    return {(hit.source, hit.line) for hit in results.hits} | {
        (place.source, place.line) for hit in results.hits for place in hit.also
    }


def updated_index(docs: Path, tmp_path: Path, new_line: str) -> Path:
    """An index of `docs` built, then updated after one document was removed and `new_line`
    added to another: several segments, some with deleted paragraphs."""
    from search.index.opening import open_index

    index_dir = tmp_path / "ix"
    search.build_index(docs, index_dir)
    (docs / "004_7af21bdf63ee1157.txt").unlink()
    changed = docs / "000_9ac1f42681134e70.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + f"\n{new_line}\n", encoding="utf-8")
    search.update_index(docs, index_dir)
    with open_index(index_dir).reader() as reader:
        segments = list(reader.leaf_readers())
        assert len(segments) > 1 and sum(r.has_deletions() for r, _ in segments) >= 1
    return index_dir


# A document whose name, title and text are markup: the page must show them as text.
HOSTILE_NAME = '"><img src=x onerror=document.title=1>.txt'
HOSTILE_TEXT = (
    '<script>document.title="pwned"</script>危険な題名\n'
    '本文に "><img src=x onerror="document.title=\'pwned\'"> を含む危険試験の段落\n'
)
SECRET = "門外不出の秘密文書"


@pytest.fixture(scope="session")
def served(tmp_path_factory):
    """One `kensaku serve` of the seeds and a hostile document, for the API's and the page's tests.

    Beside the documents lies a secret file outside the folder, reachable through a symlinked
    directory inside it (which indexing does not follow): no URL may show it."""
    from .serving import Server

    root = tmp_path_factory.mktemp("served")
    docs = root / "docs"
    shutil.copytree(SEEDS, docs)
    (docs / HOSTILE_NAME).write_text(HOSTILE_TEXT, encoding="utf-8")
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(f"{SECRET}\n", encoding="utf-8")
    (docs / "outside-link").symlink_to(outside, target_is_directory=True)
    server = Server("--docs", str(docs), "--index", str(root / "index"), "--refresh", "0")
    server.docs, server.index, server.outside = docs, root / "index", outside
    yield server
    server.stop()


def run_in_terminal(
    args: list[str], env: dict, cwd: Path, columns: int = 80, timeout: float = 120
) -> tuple[int, str]:
    """Run `python -m search ARGS` with a pseudo-terminal as stdin, stdout and stderr (so that
    it shows what it shows a person), `columns` wide; its exit status and everything it wrote."""
    import os
    import pty
    import select
    import subprocess
    import sys
    import time

    leader, follower = pty.openpty()
    env = dict(env, COLUMNS=str(columns), LINES="24", TERM="xterm")
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "search", *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        cwd=cwd,
        close_fds=True,
    )
    os.close(follower)
    output, deadline = b"", time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # EIO: the process closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
            elif process.poll() is not None:
                break
        status = process.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        os.close(leader)
        if process.poll() is None:
            process.kill()
    return status, output.decode("utf-8", errors="replace")


@pytest.fixture
def kensaku(seed_index, tmp_path, monkeypatch):
    """Run `kensaku ARGS` (through Click's CliRunner) in a fresh working directory, on the
    session's index of the seeds, which it must not change."""
    from click.testing import CliRunner

    from search.cli.main import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KENSAKU_INDEX", str(seed_index))
    for name in ("KENSAKU_DOCS", "KENSAKU_CONFIG", "KENSAKU_SYNONYMS", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)

    def invoke(*args: str, input: str | None = None, env: dict | None = None):
        return CliRunner().invoke(main, list(args), input=input, env=env, catch_exceptions=False)

    return invoke
