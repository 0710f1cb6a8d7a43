"""Retrieval quality of kensaku against an SQLite FTS5 trigram peer on JSQuAD and JaQuAD.

For each evaluation set (``../shared/eval/<set>``) the script builds both indexes over the set's
``docs/`` (kensaku into a temporary directory, FTS5 into a temporary SQLite file), runs a
reproducible sample of the set's questions (``--sample 2000 --seed 1``; ``--full`` for all of
them) through both engines, and reports recall@10 and MRR@10, plus query throughput and build
time. A hit is relevant when its file is a relevant passage's doc file and its line lies within
the passage's first and last line. Every query has one relevant passage in these sets, so
recall@10 is the share of questions whose passage appears in the top ten.

Usage::

    python bench/evaluate.py                       # 2,000 questions per set, seed 1
    python bench/evaluate.py --full --json-out bench/results/evaluate-full.json
    python bench/evaluate.py --engines fts5 --fts5-variant raw

Progress goes to stderr, the table to stdout, the figures to ``--json-out``
(default ``bench/results/evaluate.json``). Exits 0 with a "skipped" message when the data is
absent.
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence, TypeVar

from common import (
    DEFAULT_RESULTS,
    DEFAULT_SHARED,
    LIMIT,
    comma_list,
    environment,
    format_table,
    import_kensaku,
    kensaku_build,
    kensaku_search,
    load_queries,
    log,
    require_dirs,
    sample_ids,
    write_json,
)
from fts5 import DEFAULT_VARIANT, QUESTION_VARIANTS, FTS5Index

SETS = ("jsquad", "jaquad")
ENGINES = ("kensaku", "fts5")

T = TypeVar("T")
Span = tuple[str, int, int]  # doc file, first line, last line
Ranked = list[tuple[str, int]]  # (source, line), best first


# --------------------------------------------------------------------------- relevance data


def load_relevant(set_dir: Path) -> dict[str, list[Span]]:
    """qid -> relevant passages as (doc file, first line, last line), from qrels + passages."""
    passages: dict[str, Span] = {}
    with (set_dir / "passages.tsv").open(encoding="utf-8") as handle:
        next(handle)  # header
        for row in handle:
            pid, doc, first, last = row.split("\t", 4)[:4]
            passages[pid] = (doc, int(first), int(last))
    relevant: dict[str, list[Span]] = {}
    with (set_dir / "qrels.tsv").open(encoding="utf-8") as handle:
        for row in handle:
            qid, _doc, pid, grade = row.rstrip("\n").split("\t")
            if int(grade) > 0:
                relevant.setdefault(qid, []).append(passages[pid])
    return relevant


def matches(hit: tuple[str, int], span: Span) -> bool:
    source, line = hit
    doc, first, last = span
    return source == doc and first <= line <= last


def query_metrics(ranked: Ranked, spans: Sequence[Span], k: int = LIMIT) -> tuple[float, float]:
    """(recall@k, reciprocal rank@k) of one ranked list."""
    top = ranked[:k]
    found = sum(1 for span in spans if any(matches(hit, span) for hit in top))
    rr = next((1.0 / rank for rank, hit in enumerate(top, 1) if any(matches(hit, s) for s in spans)), 0.0)
    return found / len(spans), rr


def mean_metrics(runs: dict[str, Ranked], relevant: dict[str, list[Span]]) -> dict[str, float]:
    pairs = [query_metrics(runs[qid], relevant[qid]) for qid in runs]
    return {
        "recall@10": sum(r for r, _ in pairs) / len(pairs),
        "mrr@10": sum(m for _, m in pairs) / len(pairs),
        "no_hits": sum(1 for ranked in runs.values() if not ranked),
    }


# --------------------------------------------------------------------------- engines


def _kensaku_worker(job: tuple[str, str, str]) -> tuple[str, Ranked, Optional[str]]:
    """One kensaku query (runs in a pool worker, which opens the index itself)."""
    qid, question, index_dir = job
    try:
        return qid, kensaku_search(question, Path(index_dir)), None
    except Exception:  # noqa: BLE001 - recorded and reported, never hidden
        return qid, [], traceback.format_exc()


def run_kensaku(docs: Path, questions: dict[str, str], workdir: Path, workers: int) -> dict[str, Any]:
    """Build a kensaku index in ``workdir`` and run every question; ranked lists plus timings."""
    index_dir = workdir / "kensaku-index"
    log(f"  kensaku: building index over {docs}")
    build = kensaku_build(docs, index_dir)
    log(f"  kensaku: {build['paragraphs']} paragraphs in {build['seconds']:.1f} s; querying ({workers} worker(s))")
    jobs = [(qid, q, str(index_dir)) for qid, q in questions.items()]
    start = time.perf_counter()
    if workers > 1:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            answers = list(pool.imap_unordered(_kensaku_worker, jobs, chunksize=16))
    else:
        answers = [_kensaku_worker(job) for job in _progress(jobs)]
    seconds = time.perf_counter() - start
    errors = [(qid, err) for qid, _, err in answers if err]
    for qid, err in errors[:3]:
        log(f"  kensaku: query {qid} failed:\n{err}")
    return {
        "runs": {qid: ranked for qid, ranked, _ in answers},
        "build": build,
        "query_seconds": seconds,
        "workers": workers,
        "errors": len(errors),
        "first_errors": [{"qid": q, "question": questions[q], "traceback": e} for q, e in errors[:3]],
    }


def run_fts5(docs: Path, questions: dict[str, str], workdir: Path, variant: str) -> dict[str, Any]:
    """Build the FTS5 trigram peer in ``workdir`` and run every question."""
    log(f"  fts5: building trigram index over {docs}")
    index, summary = FTS5Index.build(docs, workdir / "fts5.sqlite")
    log(f"  fts5: {summary.paragraphs} paragraphs in {summary.seconds:.1f} s; querying ({variant})")
    start = time.perf_counter()
    runs = {qid: index.search_question(questions[qid], variant=variant) for qid in _progress(list(questions))}
    seconds = time.perf_counter() - start
    index.close()
    build = {"documents": summary.documents, "paragraphs": summary.paragraphs, "seconds": summary.seconds}
    return {"runs": runs, "build": build, "query_seconds": seconds, "workers": 1, "errors": 0, "variant": variant}


def _progress(items: list[T], every: int = 500) -> Iterator[T]:
    """Yield ``items``, logging a count to stderr every ``every`` items."""
    for number, item in enumerate(items, 1):
        yield item
        if number % every == 0:
            log(f"    {number}/{len(items)}")


# --------------------------------------------------------------------------- driver


def evaluate_set(
    set_dir: Path, engines: Sequence[str], sample: Optional[int], seed: int, workers: int, variant: str
) -> list[dict[str, Any]]:
    """Score every engine on one evaluation set; one result row per engine."""
    queries = load_queries(set_dir / "queries.tsv")
    relevant = load_relevant(set_dir)
    ids = sample_ids([q for q in queries if q in relevant], sample, seed)
    questions = {qid: queries[qid] for qid in ids}
    log(f"{set_dir.name}: {len(questions)} of {len(queries)} questions")
    runners: dict[str, Callable[[Path], dict[str, Any]]] = {
        "kensaku": lambda work: run_kensaku(set_dir / "docs", questions, work, workers),
        "fts5": lambda work: run_fts5(set_dir / "docs", questions, work, variant),
    }
    rows = []
    for engine in engines:
        with tempfile.TemporaryDirectory(prefix=f"kensaku-eval-{engine}-") as work:
            outcome = runners[engine](Path(work))
        metrics = mean_metrics(outcome.pop("runs"), relevant)
        log(f"  {engine}: recall@10 {metrics['recall@10']:.3f}  MRR@10 {metrics['mrr@10']:.3f}")
        rows.append(
            {
                "set": set_dir.name,
                "engine": engine,
                "queries": len(questions),
                **metrics,
                "queries_per_second": len(questions) / outcome["query_seconds"],
                **outcome,
            }
        )
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    headers = ["set", "engine", "queries", "recall@10", "MRR@10", "no hits", "queries/s", "workers", "build s",
               "paragraphs", "errors"]
    table = [
        [
            r["set"], r["engine"], r["queries"], r["recall@10"], r["mrr@10"], r["no_hits"], r["queries_per_second"],
            r["workers"], r["build"]["seconds"], r["build"]["paragraphs"], r["errors"],
        ]
        for r in rows
    ]
    print(format_table(headers, table))


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="shared data dir (default ../shared)")
    parser.add_argument("--sets", type=comma_list(SETS), default=",".join(SETS), help="comma-separated: jsquad,jaquad")
    parser.add_argument("--engines", type=comma_list(ENGINES), default=",".join(ENGINES),
                        help="comma-separated: kensaku,fts5")
    parser.add_argument("--sample", type=int, default=2000, help="questions sampled per set (default 2000)")
    parser.add_argument("--seed", type=int, default=1, help="sampling seed (default 1)")
    parser.add_argument("--full", action="store_true", help="use every question (overrides --sample)")
    parser.add_argument("--workers", type=int, default=1, help="processes for kensaku queries (default 1)")
    parser.add_argument("--fts5-variant", choices=sorted(QUESTION_VARIANTS), default=DEFAULT_VARIANT,
                        help=f"FTS5 question formulation (default {DEFAULT_VARIANT}; see fts5.py)")
    parser.add_argument("--json-out", type=Path, default=DEFAULT_RESULTS / "evaluate.json")
    return parser.parse_args(argv)


def main(argv: Optional[list[str]] = None) -> None:
    args = parse_args(argv)
    set_dirs = require_dirs(args.shared, [f"eval/{s}" for s in args.sets])
    if "kensaku" in args.engines:
        import_kensaku()  # fail early, before any index is built
    sample = None if args.full else args.sample
    rows = []
    for set_dir in set_dirs:
        rows.extend(evaluate_set(set_dir, args.engines, sample, args.seed, args.workers, args.fts5_variant))
    print_table(rows)
    write_json(
        args.json_out,
        {
            "environment": environment(),
            "options": {"sample": sample, "seed": args.seed, "workers": args.workers, "fts5_variant": args.fts5_variant},
            "results": rows,
        },
    )


if __name__ == "__main__":
    main()
