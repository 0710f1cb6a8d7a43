"""Shards, in one process and on Ray: build speed, query latency by phase, and how the cost of a
query grows with the number of shards, against one index of the same documents.

On a subset of ``../shared/corpus/wikinews`` (``--limit-mb``), the script

* builds one index, then the same documents in N shards for each N of ``--shards``: in this
  process (the shards one after another), and on a local Ray cluster of W workers (CPUs) for
  each W of ``--workers`` (one Ray task a shard): wall seconds and MB/s;
* searches each: the benchmark's keyword set and JaQuAD questions (seed 1) on one index, on N
  shards in this process and on N shards through Ray (one actor a shard), each query once
  untimed, then query by query on every configuration in turn (so that what else the machine
  does weighs on all alike), timed with the gathered document frequencies forgotten (a query
  never seen: the statistics phase is not skipped) and again with them known, p50/p95 of the
  first split into the phases a sharded query runs:
  statistics (document frequencies gathered over the shards), matching (each shard's best
  paragraphs, soft AND), fetching (stored fields of the final candidates, places of repeated
  texts), and the rest (parse, plan, merge, rerank and hits: coordinating, in this process);
* checks on the way that every sharded answer equals one index's.

Figures go to stdout as tables and to ``--json-out`` (default bench/results/cluster.json).
The Ray cluster is started here (``ray.init(num_cpus=W)``, no dashboard); ``--address auto``
uses a running one instead (``ray start --head`` first), as on a real cluster of several
machines, where the documents and the index must be on a filesystem every node sees.

    python bench/cluster.py [--limit-mb 4] [--shards 1,2,4,8] [--workers 1,2] [--questions 100]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmark import KEYWORDS, MB, select_files, stage_docs
from common import (
    DEFAULT_RESULTS,
    DEFAULT_SHARED,
    environment,
    format_table,
    import_kensaku,
    latency_summary,
    load_queries,
    log,
    require_dirs,
    sample_ids,
    total_bytes,
    write_json,
)

PHASES = ("statistics", "matching", "fetching", "coordinating")
STAGE_PHASES = {
    "doc_frequencies": "statistics",
    "keyword_best": "matching",
    "part_counts": "matching",
    "partial_best": "matching",
    "question_best": "matching",
    "source_counts": "matching",
    "fetch": "fetching",
    "places": "fetching",
    "document": "fetching",
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--limit-mb", type=float, default=4.0, help="wikinews MB to index")
    parser.add_argument("--shards", default="1,2,4,8", help="numbers of shards, comma-separated")
    parser.add_argument("--workers", default="1,2", help="Ray cluster sizes (CPUs) to build on")
    parser.add_argument("--questions", type=int, default=100, help="JaQuAD questions (seed 1)")
    parser.add_argument("--address", default=None, help="a running Ray cluster (auto, ray://…)")
    parser.add_argument("--work", type=Path, default=None, help="folder for the indexes")
    parser.add_argument("--json-out", type=Path, default=DEFAULT_RESULTS / "cluster.json")
    return parser.parse_args(argv)


class TimedShards:
    """A collection's shards, the time of each stage called on them added to its phase."""

    def __init__(self, shards, spent: dict[str, float]) -> None:
        self._shards = shards
        self._spent = spent
        self.offsets = shards.offsets

    def each(self, name: str, *args):
        started = time.perf_counter()
        try:
            return self._shards.each(name, *args)
        finally:
            self._spent[STAGE_PHASES.get(name, "coordinating")] += time.perf_counter() - started

    def some(self, name: str, arguments):
        started = time.perf_counter()
        try:
            return self._shards.some(name, arguments)
        finally:
            self._spent[STAGE_PHASES.get(name, "coordinating")] += time.perf_counter() - started

    def forget(self, query_id: str) -> None:
        self._shards.forget(query_id)


def timed(searcher) -> dict[str, float]:
    """Time the stages the searcher's ranking calls on its shards; returns the running totals."""
    spent: dict[str, float] = defaultdict(float)
    ranking = searcher.ranking
    ranking.shards = TimedShards(ranking.shards, spent)
    if ranking.figures.gathers:
        ranking.figures.shards = ranking.shards
    return spent


def forget_frequencies(searcher) -> None:
    """Forget the document frequencies gathered so far (each query's statistics phase runs)."""
    figures = searcher.ranking.figures
    if figures.gathers:
        figures._frequencies.clear()


class Timing:
    """What one searcher's queries took: in all with their terms' document frequencies
    forgotten, by phase, again with them known (as a query of words seen before is answered),
    and how many answers differed from one index's."""

    def __init__(self, searcher) -> None:
        self.searcher = searcher
        self.spent = timed(searcher)
        self.totals: list[float] = []
        self.known: list[float] = []
        self.by_phase: dict[str, list[float]] = {phase: [] for phase in PHASES}
        self.differing = 0

    def query(self, query: str, expected: dict | None) -> dict:
        searcher = self.searcher
        forget_frequencies(searcher)
        self.spent.clear()
        started = time.perf_counter()
        results = searcher.search(query)
        total = time.perf_counter() - started
        self.totals.append(total)
        for phase in PHASES[:-1]:
            self.by_phase[phase].append(self.spent.get(phase, 0.0))
        self.by_phase["coordinating"].append(total - sum(self.spent.values()))
        again = time.perf_counter()
        searcher.search(query)
        self.known.append(time.perf_counter() - again)
        answer = results.to_dict()
        if expected is not None and answer != expected:
            self.differing += 1
        return answer

    def summary(self) -> dict[str, Any]:
        return {
            "total": latency_summary(self.totals),
            "known_terms": latency_summary(self.known),
            "phases": {phase: latency_summary(values) for phase, values in self.by_phase.items()},
            "differing": self.differing,
        }


def measure(searchers: dict[tuple[str, int], Any], kinds: dict[str, list[str]]) -> list[dict]:
    """Each query of each kind on every searcher in turn (one index's first: the answer the
    others must give), after one untimed run of all: the searchers share the machine's moments
    alike. One row a searcher and kind."""
    rows = []
    for kind, queries in kinds.items():
        if not queries:
            continue
        for searcher in searchers.values():
            for query in queries:
                searcher.search(query)
        timings = {label: Timing(searcher) for label, searcher in searchers.items()}
        for query in queries:
            expected = None
            for timing in timings.values():
                answer = timing.query(query, expected)
                expected = answer if expected is None else expected
        for (where, shards), timing in timings.items():
            rows.append({"where": where, "shards": shards, "kind": kind, **timing.summary()})
    return rows


def build_timed(search, docs: Path, index: Path, **options) -> float:
    started = time.perf_counter()
    search.build_index(docs, index, **options)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    search = import_kensaku()
    import ray

    (corpus,) = require_dirs(args.shared, ["corpus/wikinews"])
    shard_counts = [int(n) for n in args.shards.split(",") if n]
    worker_counts = sorted(int(n) for n in args.workers.split(",") if n)
    work = args.work or Path(tempfile.mkdtemp(prefix="kensaku-cluster-"))
    files = select_files(corpus / "docs", args.limit_mb)
    docs = stage_docs(corpus / "docs", files, work)
    megabytes = total_bytes(files) / MB
    questions = []
    if (args.shared / "eval/jaquad/queries.tsv").is_file():
        jaquad = load_queries(args.shared / "eval/jaquad/queries.tsv")
        questions = [jaquad[q] for q in sample_ids(list(jaquad), args.questions, 1)]
    keywords = [query for _, query in KEYWORDS]
    log(
        f"{len(files)} documents, {megabytes:.1f} MB; {len(keywords)} keywords, "
        f"{len(questions)} questions; work in {work}"
    )

    result: dict[str, Any] = {"documents": len(files), "megabytes": round(megabytes, 2)}
    builds = []
    log("building one index")
    seconds = build_timed(search, docs, work / "one")
    builds.append(_build_row("one index", 1, "this process", seconds, megabytes))
    for count in shard_counts:
        log(f"building {count} shards in this process")
        seconds = build_timed(search, docs, work / f"local-{count}", shards=count)
        builds.append(_build_row("shards", count, "this process", seconds, megabytes))
    # Ray: each cluster size in turn, the last (the largest, or --address) kept for searching.
    sizes = worker_counts if args.address is None else [None]
    for workers in sizes:
        if args.address is None:
            ray.init(
                num_cpus=workers, include_dashboard=False, namespace="kensaku", log_to_driver=False
            )
        else:
            ray.init(address=args.address, namespace="kensaku", log_to_driver=False)
        label = f"Ray, {workers} CPU" if workers else f"Ray at {args.address}"
        for count in shard_counts:
            log(f"building {count} shards on {label}")
            index = work / f"ray-{count}"
            shutil.rmtree(index, ignore_errors=True)
            seconds = build_timed(
                search, docs, index, shards=count, cluster=args.address or "local"
            )
            builds.append(_build_row("shards", count, label, seconds, megabytes))
        if workers != sizes[-1]:
            ray.shutdown()

    log("searching: every configuration query by query")
    with contextlib.ExitStack() as stack:
        searchers = {("one index", 1): stack.enter_context(search.Searcher(work / "one"))}
        for count in shard_counts:
            searchers["in process", count] = stack.enter_context(
                search.Searcher(work / f"local-{count}")
            )
        for count in shard_counts:
            searchers[label, count] = stack.enter_context(
                search.Searcher(work / f"ray-{count}", cluster=args.address or "local")
            )
        searches = measure(searchers, {"keyword": keywords, "question": questions})
    ray.shutdown()

    result.update(builds=builds, searches=searches, environment=environment())
    print_result(result)
    write_json(args.json_out, result)
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


def _build_row(kind: str, shards: int, where: str, seconds: float, megabytes: float) -> dict:
    return {
        "kind": kind,
        "shards": shards,
        "where": where,
        "seconds": round(seconds, 2),
        "mb_per_s": round(megabytes / seconds, 3),
    }


def print_result(result: dict[str, Any]) -> None:
    print(f"{result['documents']} documents, {result['megabytes']} MB of wikinews")
    print()
    print(
        format_table(
            ["build", "shards", "where", "seconds", "MB/s"],
            [
                [row["kind"], row["shards"], row["where"], row["seconds"], row["mb_per_s"]]
                for row in result["builds"]
            ],
        )
    )
    print()
    headers = ["where", "shards", "queries", "p50 ms", "p95 ms", "known p50/p95"]
    headers += [f"{phase} p50/p95" for phase in PHASES] + ["differing"]
    rows = []
    for row in result["searches"]:
        phases = [
            f"{row['phases'][phase]['p50_ms']:.1f}/{row['phases'][phase]['p95_ms']:.1f}"
            for phase in PHASES
        ]
        rows.append(
            [
                row["where"],
                row["shards"],
                row["kind"],
                row["total"]["p50_ms"],
                row["total"]["p95_ms"],
                f"{row['known_terms']['p50_ms']:.1f}/{row['known_terms']['p95_ms']:.1f}",
                *phases,
                row["differing"],
            ]
        )
    print(format_table(headers, rows))
    print()
    for line in ratios(result["searches"]):
        print(line)


def ratios(searches: list[dict]) -> list[str]:
    """Each sharded p95 over one index's, by kind of query: new terms, and known terms."""
    one = {row["kind"]: row for row in searches if row["where"] == "one index"}
    lines = []
    for row in searches:
        base = one.get(row["kind"])
        if row["where"] == "one index" or base is None:
            continue
        new = row["total"]["p95_ms"] / base["total"]["p95_ms"]
        known = row["known_terms"]["p95_ms"] / base["known_terms"]["p95_ms"]
        lines.append(
            f"{row['kind']:<8} p95 {row['where']}, {row['shards']} shards: "
            f"{new:.2f}x one index's (terms new), {known:.2f}x (terms known)"
        )
    return lines


if __name__ == "__main__":
    main()
