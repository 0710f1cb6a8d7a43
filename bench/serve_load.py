"""Load test of `kensaku serve`: concurrent clients on 127.0.0.1 while the index is rebuilt.

Builds the wikinews index afresh, starts `kensaku serve` on it (127.0.0.1, a free port, no refresh
of its own) and records each query's answer once. Then `--clients` threads send a mix of the
benchmark's keyword queries and JaQuAD questions (seed 1) through /api/search, with keep-alive
connections, for `--quiet` seconds; then a full `kensaku index --rebuild` of the same documents
runs while they go on, and they go on `--after` seconds past its switch to the new generation
(and never longer than `--max-seconds` in all). Every response must be whole and the same as the
recorded one: the old index and the new hold the same documents, so a difference means a
half-written index, a mixed answer or a failed request, and counts as an error.

Prints requests/s, p50/p95 latency and errors for each phase (quiet, rebuilding, after) and
writes them to `--json-out` (default bench/results/serve_load.json). Only loopback traffic.

`--shards N` builds the index in N shards; `--cluster ADDRESS` serves them (and rebuilds them)
on that Ray cluster: `auto` for one started with `ray start --head`, `local` for one the server
starts for itself.

    python bench/serve_load.py [--clients 8] [--quiet 10] [--after 5]
    python bench/serve_load.py --shards 3 --cluster auto
"""

from __future__ import annotations

import argparse
import http.client
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from benchmark import KEYWORDS
from common import (
    DEFAULT_RESULTS,
    DEFAULT_SHARED,
    environment,
    latency_summary,
    load_queries,
    log,
    require_dirs,
    sample_ids,
    write_json,
)

SEARCH_KEYS = ["query", "total", "relaxed", "more", "hits", "offset", "limit"]  # the --json contract
HIT_KEYS = {
    "rank",
    "score",
    "source",
    "title",
    "paragraph",
    "line",
    "text",
    "snippet",
    "highlights",
    "also",
}
PHASES = ("quiet", "rebuilding", "after")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--questions", type=int, default=100, help="JaQuAD questions in the mix")
    parser.add_argument(
        "--quiet", type=float, default=10.0, help="seconds of load before the rebuild"
    )
    parser.add_argument("--after", type=float, default=5.0, help="seconds of load after its switch")
    parser.add_argument("--max-seconds", type=float, default=240.0, help="the load's bound")
    parser.add_argument(
        "--work",
        type=Path,
        help="where the index is built (default: a temp "
        "dir); an index there from an earlier run is reused",
    )
    parser.add_argument("--shards", type=int, default=None, help="build the index in N shards")
    parser.add_argument("--cluster", default=None, help="serve the shards on this Ray cluster")
    parser.add_argument("--json-out", type=Path, default=DEFAULT_RESULTS / "serve_load.json")
    return parser.parse_args(argv)


def kensaku(*args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "search", *args], **popen)


def on_cluster(args: argparse.Namespace) -> list[str]:
    """The options that put an index and its searches on the cluster asked for (none: here)."""
    return ["--cluster", args.cluster] if args.cluster else []


def start_server(docs: Path, index: Path, cluster: list[str]) -> tuple[subprocess.Popen, str, int]:
    server = kensaku(
        "serve",
        "--docs",
        str(docs),
        "--index",
        str(index),
        "--port",
        "0",
        "--refresh",
        "0",
        *cluster,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = server.stdout.readline()
    if not line.startswith("serving http://127.0.0.1:"):
        server.kill()
        raise SystemExit(f"kensaku serve did not start: {line!r}")
    parts = urlsplit(line.split()[1])
    return server, parts.hostname, parts.port


class Client:
    """One keep-alive connection to the server."""

    def __init__(self, host: str, port: int) -> None:
        self.connection = http.client.HTTPConnection(host, port, timeout=60)

    def search(self, query: str) -> tuple[int, bytes]:
        self.connection.request("GET", "/api/search?" + urlencode({"q": query, "limit": 10}))
        response = self.connection.getresponse()
        return response.status, response.read()


def index_built(host: str, port: int) -> str:
    """When the index the server answers from was built."""
    connection = http.client.HTTPConnection(host, port, timeout=60)
    try:
        connection.request("GET", "/api/status")
        return json.loads(connection.getresponse().read())["built"]
    finally:
        connection.close()


def answer(status: int, body: bytes) -> tuple:
    """What must not change between the old index and the new: the total and the citations;
    raises ValueError for a response that is not a whole, well-formed result."""
    if status != 200:
        raise ValueError(f"HTTP {status}: {body[:200]!r}")
    result = json.loads(body)
    if list(result) != SEARCH_KEYS:
        raise ValueError(f"keys {list(result)}")
    hits = result["hits"]
    if [hit["rank"] for hit in hits] != list(range(1, len(hits) + 1)):
        raise ValueError("ranks are not 1..n")
    if any(not set(hit) >= HIT_KEYS for hit in hits) or result["total"] < len(hits):
        raise ValueError("a hit is incomplete, or more hits than the total")
    return result["total"], [(h["source"], h["line"], h["paragraph"]) for h in hits]


class Load:
    """The clients, the phase they are in, and what they measured."""

    def __init__(self, host: str, port: int, queries: list[str], expected: dict) -> None:
        self.host, self.port = host, port
        self.queries, self.expected = queries, expected
        self.phase = PHASES[0]
        self.stopping = threading.Event()
        self.seconds: dict[str, list[float]] = {phase: [] for phase in PHASES}
        self.errors: dict[str, list[str]] = {phase: [] for phase in PHASES}
        self.started: dict[str, float] = {}
        self.lock = threading.Lock()

    def enter(self, phase: str) -> None:
        self.phase = phase
        self.started[phase] = time.perf_counter()

    def run_client(self, number: int) -> None:
        client = Client(self.host, self.port)
        at = number * 7
        while not self.stopping.is_set():
            query = self.queries[at % len(self.queries)]
            at += 1
            phase, started = self.phase, time.perf_counter()
            try:
                got = answer(*client.search(query))
                error = None if got == self.expected[query] else f"{query}: another answer"
            except (OSError, ValueError, http.client.HTTPException) as failure:
                error = f"{query}: {failure}"
                client = Client(self.host, self.port)
            with self.lock:
                self.seconds[phase].append(time.perf_counter() - started)
                if error:
                    self.errors[phase].append(error)

    def summary(self, ended: dict[str, float]) -> dict[str, Any]:
        phases = {}
        for phase in PHASES:
            if phase not in self.started:
                continue
            wall = ended[phase] - self.started[phase]
            count = len(self.seconds[phase])
            phases[phase] = {
                "seconds": round(wall, 1),
                "requests": count,
                "requests_per_s": round(count / wall, 1) if wall else 0.0,
                **latency_summary(self.seconds[phase]),
                "errors": len(self.errors[phase]),
                "error_samples": self.errors[phase][:5],
            }
        return phases


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    (corpus,) = require_dirs(args.shared, ["corpus/wikinews"])
    docs = corpus / "docs"
    questions = []
    if (args.shared / "eval/jaquad/queries.tsv").is_file():
        queries = load_queries(args.shared / "eval/jaquad/queries.tsv")
        questions = [queries[q] for q in sample_ids(list(queries), args.questions, 1)]
    mix = [query for _, query in KEYWORDS] + questions
    work = args.work or Path(tempfile.mkdtemp(prefix="kensaku-serve-load-"))
    index = work / "index"

    build_seconds = None
    if not (index / "kensaku.json").exists():  # a --work of an earlier run holds a full build
        log(f"building the wikinews index in {index}")
        started = time.perf_counter()
        if kensaku(
            "index",
            "--rebuild",
            "--docs",
            str(docs),
            "--index",
            str(index),
            *(["--shards", str(args.shards)] if args.shards else []),
            *on_cluster(args),
            stdout=subprocess.DEVNULL,
        ).wait():
            raise SystemExit("the first build failed")
        build_seconds = round(time.perf_counter() - started, 1)

    server, host, port = start_server(docs, index, on_cluster(args))
    try:
        client = Client(host, port)
        expected = {query: answer(*client.search(query)) for query in mix}
        built_before = index_built(host, port)
        log(
            f"recorded {len(mix)} answers; {args.clients} clients for {args.quiet:.0f} s, "
            "then during a rebuild"
        )
        result = run_load(args, Load(host, port, mix, expected), docs, index, built_before)
    finally:
        server.terminate()
        server.wait(30)
    result.update(
        environment=environment(),
        clients=args.clients,
        queries=len(mix),
        keyword_queries=len(KEYWORDS),
        questions=len(questions),
        first_build_seconds=build_seconds,
        shards=args.shards,
        cluster=args.cluster,
        date=time.strftime("%Y-%m-%d"),
    )
    print_result(result)
    write_json(args.json_out, result)


def run_load(
    args: argparse.Namespace, load: Load, docs: Path, index: Path, built_before: str
) -> dict[str, Any]:
    load.enter("quiet")
    deadline = time.perf_counter() + args.max_seconds
    threads = [threading.Thread(target=load.run_client, args=(n,)) for n in range(args.clients)]
    for thread in threads:
        thread.start()
    ended: dict[str, float] = {}
    time.sleep(args.quiet)
    ended["quiet"] = time.perf_counter()
    load.enter("rebuilding")
    rebuild = kensaku(
        "index",
        "--rebuild",
        "--docs",
        str(docs),
        "--index",
        str(index),
        *on_cluster(args),
        stdout=subprocess.DEVNULL,
    )
    while rebuild.poll() is None and time.perf_counter() < deadline:
        time.sleep(0.1)
    ended["rebuilding"] = time.perf_counter()
    rebuild_seconds = ended["rebuilding"] - load.started["rebuilding"]
    load.enter("after")
    time.sleep(max(0.0, min(args.after, deadline - time.perf_counter())))
    ended["after"] = time.perf_counter()
    load.stopping.set()
    for thread in threads:
        thread.join()
    if rebuild.poll() is None:
        rebuild.kill()
    built_after = index_built(load.host, load.port)
    return {
        "phases": load.summary(ended),
        "rebuild_seconds": round(rebuild_seconds, 1),
        "rebuild_exit": rebuild.returncode,
        "switched_to_the_new_index": built_after != built_before,
    }


def print_result(result: dict[str, Any]) -> None:
    print(
        f"{result['clients']} clients, {result['queries']} queries "
        f"({result['keyword_queries']} keyword, {result['questions']} questions); "
        f"rebuild {result['rebuild_seconds']} s (exit {result['rebuild_exit']}), "
        f"served the new index afterwards: {result['switched_to_the_new_index']}"
    )
    print(
        f"{'phase':<11} {'seconds':>7} {'requests':>8} {'req/s':>6} {'p50 ms':>7} "
        f"{'p95 ms':>7} {'errors':>6}"
    )
    for phase, figures in result["phases"].items():
        print(
            f"{phase:<11} {figures['seconds']:>7} {figures['requests']:>8} "
            f"{figures['requests_per_s']:>6} {figures['p50_ms']:>7.1f} {figures['p95_ms']:>7.1f} "
            f"{figures['errors']:>6}"
        )
        for sample in figures["error_samples"]:
            print(f"    {sample}")


if __name__ == "__main__":
    main()
