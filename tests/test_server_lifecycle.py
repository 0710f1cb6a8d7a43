"""`kensaku serve` as a process: it follows the index across rebuilds and updates (another
`kensaku index`, or its own refresh when the documents change, which only records the new time
of a document touched with the same bytes), reports a damaged index as one line, stops cleanly
on Ctrl-C, and `kensaku search` does not load the web stack."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

import search
from search.index.manifest import Manifest

from .serving import Server, wait_until

REFRESH_SECONDS = "0.3"


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """A server of two small documents, refreshing every REFRESH_SECONDS."""
    root = tmp_path_factory.mktemp("library")
    docs = root / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("春の海\n春の海ひねもすのたりのたりかな\n", encoding="utf-8")
    (docs / "b.txt").write_text("古池\n古池や蛙飛びこむ水の音\n", encoding="utf-8")
    server = Server(
        "--docs", str(docs), "--index", str(root / "index"), "--refresh", REFRESH_SECONDS
    )
    server.docs, server.index = docs, root / "index"
    yield server
    server.stop()


def total(server, query: str) -> int:
    return server.search(q=query).json()["total"]


def test_it_prints_its_url_and_answers_there(library):
    assert library.url == f"http://127.0.0.1:{library.port}/"
    assert "no index in" in library.stderr and "indexed 2 documents" in library.stderr
    assert total(library, "蛙") == 1


def test_it_updates_the_index_itself_when_the_documents_change(library):
    (library.docs / "c.txt").write_text("閑さや\n閑さや岩にしみ入る蝉の声\n", encoding="utf-8")
    assert wait_until(lambda: total(library, "蝉") == 1)
    assert library.get("/api/status").json()["documents"] == 3
    assert wait_until(lambda: "updated the index" in library.stderr)
    (library.docs / "c.txt").unlink()
    assert wait_until(lambda: total(library, "蝉") == 0)


def test_it_records_the_new_time_of_a_touched_document_without_an_update(library):
    before = Manifest.load(library.index)
    updates = library.stderr.count("updating the index")
    touched = library.docs / "a.txt"
    os.utime(touched, ns=(time.time_ns(),) * 2)
    stamp = [touched.stat().st_size, touched.stat().st_mtime_ns]
    assert wait_until(lambda: Manifest.load(library.index).files["a.txt"] == stamp)
    assert Manifest.load(library.index).generation == before.generation
    assert library.stderr.count("updating the index") == updates
    assert total(library, "蛙") == 1


def test_it_follows_a_rebuild_by_another_process(library, tmp_path):
    index = tmp_path / "index"
    search.build_index(library.docs, index)
    server = Server("--index", str(index), "--refresh", "0")
    try:
        assert (total(server, "蛙"), total(server, "月は東に")) == (1, 0)
        other = tmp_path / "other"
        other.mkdir()
        (other / "d.txt").write_text("菜の花\n菜の花や月は東に日は西に\n", encoding="utf-8")
        search.build_index(other, index)
        assert (total(server, "蛙"), total(server, "月は東に")) == (0, 1)
        assert server.get("/api/status").json()["documents"] == 1
    finally:
        server.stop()


def test_a_damaged_index_is_a_one_line_503_until_it_is_rebuilt(library):
    manifest = library.index / "kensaku.json"
    saved = manifest.read_bytes()
    manifest.write_text("{not json", encoding="utf-8")
    try:
        reply = library.search(q="蛙")
        page = library.get("/", {"q": "蛙"})
    finally:
        manifest.write_bytes(saved)
    assert reply.status == 503
    assert reply.json() == {"error": "the index cannot be read; the server's log says why"}
    assert page.status == 503 and "Traceback" not in page.text and "kensaku.json" not in page.text
    assert "run `kensaku index --rebuild" in library.stderr
    assert total(library, "蛙") == 1


def test_a_busy_port_is_a_one_line_error(library):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "search",
            "serve",
            "--index",
            str(library.index),
            "--refresh",
            "0",
            "--port",
            str(library.port),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: cannot listen on 127.0.0.1:{library.port}: Address already in use"
    )


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_and_sigterm_stop_it_cleanly(library, sig):
    server = Server("--index", str(library.index), "--refresh", "0")
    assert total(server, "蛙") == 1
    assert server.stop(sig) == 0
    assert "Traceback" not in server.stderr and server.process.stdout.read() == ""
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=2)


def test_kensaku_search_does_not_import_the_web_stack():
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, search.cli; print(json.dumps(sorted(m for m in "
            "sys.modules if m.split('.')[0] in ('fastapi', 'starlette', 'uvicorn', 'jinja2', "
            "'pydantic'))))".replace("import sys", "import json, sys"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(loaded.stdout) == []
