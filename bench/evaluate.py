"""Retrieval quality of kensaku against SQLite FTS5 (trigram) and Lucene (Kuromoji, BM25) on JSQuAD
and JaQuAD, for questions and for keyword queries.

For each evaluation set (``../shared/eval/<set>``) the script builds each engine's index over the
set's ``docs/`` (in a temporary directory), runs a reproducible sample of the set's questions
(``--sample 2000 --seed 1``; ``--full`` for all of them) through each, and reports recall@10 and
MRR@10, plus query throughput and build time. Two kinds of query are run (``--kinds``):

- ``question``: the question as asked (日本で梅雨がないのは北海道とどこか。);
- ``keyword``: two or three of its words as a user would type them into a search box
  (梅雨 北海道), derived by ``keywords.py`` with the same seed; questions with fewer than two
  such words are left out of this kind (the table says how many remain).

kensaku reads both as a user's search would (``mode="auto"``). FTS5 gets a question as the OR of
its trigrams and keywords as an AND of substrings (see ``fts5.py``); Lucene gets either as the
OR of its Kuromoji terms, ranked by BM25 with Anserini's parameters (k1 0.9, b 0.4) and with
Lucene's and Elasticsearch's (k1 1.2, b 0.75), one row each (see ``lucene.py``; skipped, with the
reason, when it is not set up).

A hit is relevant when its file is a relevant passage's doc file and its line lies within the
passage's first and last line. Every query has one relevant passage in these sets, so recall@10
is the share of queries whose passage appears in the top ten.

Usage::

    python bench/evaluate.py                       # 2,000 questions per set, seed 1
    python bench/evaluate.py --kinds keyword --sample 300 --engines kensaku,lucene
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
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import lucene
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
from keywords import keyword_queries

SETS = ("jsquad", "jaquad")
ENGINES = ("kensaku", "fts5", "lucene")
KINDS = ("question", "keyword")

T = TypeVar("T")
Span = tuple[str, int, int]  # doc file, first line, last line
Ranked = list[tuple[str, int]]  # (source, line), best first
Queries = dict[str, dict[str, str]]  # kind -> qid -> query text


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
    rr = next(
        (1.0 / rank for rank, hit in enumerate(top, 1) if any(matches(hit, s) for s in spans)), 0.0
    )
    return found / len(spans), rr


def mean_metrics(runs: dict[str, Ranked], relevant: dict[str, list[Span]]) -> dict[str, float]:
    pairs = [query_metrics(runs[qid], relevant[qid]) for qid in runs]
    return {
        "recall@10": sum(r for r, _ in pairs) / len(pairs),
        "mrr@10": sum(m for _, m in pairs) / len(pairs),
        "no_hits": sum(1 for ranked in runs.values() if not ranked),
    }


# --------------------------------------------------------------------------- engines


def _kensaku_worker(job: tuple[str, str, str]) -> tuple[str, Ranked, str | None]:
    """One kensaku query (runs in a pool worker, which opens the index itself)."""
    qid, question, index_dir = job
    try:
        return qid, kensaku_search(question, Path(index_dir)), None
    except Exception:
        return qid, [], traceback.format_exc()


def run_kensaku(docs: Path, queries: Queries, workdir: Path, workers: int) -> dict[str, Any]:
    """Build a kensaku index in ``workdir`` and run every query of every kind."""
    index_dir = workdir / "kensaku-index"
    log(f"  kensaku: building index over {docs}")
    build = kensaku_build(docs, index_dir)
    log(
        f"  kensaku: {build['paragraphs']} paragraphs in {build['seconds']:.1f} s; querying ({workers} worker(s))"
    )
    kinds = {kind: _run_kensaku_kind(texts, index_dir, workers) for kind, texts in queries.items()}
    return {"build": build, "workers": workers, "kinds": kinds}


def _run_kensaku_kind(texts: dict[str, str], index_dir: Path, workers: int) -> dict[str, Any]:
    jobs = [(qid, text, str(index_dir)) for qid, text in texts.items()]
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
        "queries_per_second": len(jobs) / seconds if seconds else float("nan"),
        "errors": len(errors),
        "first_errors": [{"qid": q, "query": texts[q], "traceback": e} for q, e in errors[:3]],
    }


def run_fts5(docs: Path, queries: Queries, workdir: Path, variant: str) -> dict[str, Any]:
    """Build the FTS5 trigram peer in ``workdir`` and run every query of every kind."""
    log(f"  fts5: building trigram index over {docs}")
    index, summary = FTS5Index.build(docs, workdir / "fts5.sqlite")
    log(
        f"  fts5: {summary.paragraphs} paragraphs in {summary.seconds:.1f} s; querying (questions: {variant})"
    )
    search = {
        "question": lambda text: index.search_question(text, variant=variant),
        "keyword": index.search_keywords,
    }
    kinds = {}
    for kind, texts in queries.items():
        start = time.perf_counter()
        runs = {qid: search[kind](texts[qid]) for qid in _progress(list(texts))}
        seconds = time.perf_counter() - start
        kinds[kind] = {
            "runs": runs,
            "queries_per_second": len(texts) / seconds if seconds else float("nan"),
            "errors": 0,
        }
    index.close()
    build = {
        "documents": summary.documents,
        "paragraphs": summary.paragraphs,
        "seconds": summary.seconds,
    }
    return {"build": build, "workers": 1, "variant": variant, "kinds": kinds}


def run_lucene(
    docs: Path, queries: Queries, workdir: Path, settings: Sequence[tuple[float, float]]
) -> dict[str, dict[str, Any]]:
    """Build the Lucene peer in ``workdir`` and run every query of every kind with each BM25
    setting (k1, b), which Lucene applies at search time; one outcome per setting."""
    log(f"  lucene: building Kuromoji index over {docs}")
    index, summary = lucene.LuceneIndex.build(docs, workdir / "lucene")
    log(f"  lucene: {summary.paragraphs} paragraphs in {summary.seconds:.1f} s")
    build = {"paragraphs": summary.paragraphs, "seconds": summary.seconds}
    outcomes = {}
    for k1, b in settings:
        kinds = {}
        for kind, texts in queries.items():
            runs, per_second = index.search_many(texts, bm25=(k1, b))
            kinds[kind] = {"runs": runs, "queries_per_second": per_second, "errors": 0}
        outcomes[f"lucene k1={k1:g} b={b:g}"] = {"build": build, "workers": 1, "kinds": kinds}
    return outcomes


def _progress(items: list[T], every: int = 500) -> Iterator[T]:
    """Yield ``items``, logging a count to stderr every ``every`` items."""
    for number, item in enumerate(items, 1):
        yield item
        if number % every == 0:
            log(f"    {number}/{len(items)}")


# --------------------------------------------------------------------------- driver


def evaluation_queries(
    set_dir: Path, kinds: Sequence[str], sample: int | None, seed: int
) -> Queries:
    """kind -> qid -> query text: the sampled questions, and the keyword queries derived from them."""
    queries = load_queries(set_dir / "queries.tsv")
    relevant = load_relevant(set_dir)
    ids = sample_ids([q for q in queries if q in relevant], sample, seed)
    questions = {qid: queries[qid] for qid in ids}
    chosen = {"question": questions}
    if "keyword" in kinds:
        chosen["keyword"] = keyword_queries(questions, seed)
    log(
        f"{set_dir.name}: {len(questions)} of {len(queries)} questions"
        + (f", {len(chosen['keyword'])} with keyword queries" if "keyword" in kinds else "")
    )
    return {kind: chosen[kind] for kind in kinds}


def evaluate_set(
    set_dir: Path,
    engines: Sequence[str],
    kinds: Sequence[str],
    sample: int | None,
    seed: int,
    workers: int,
    variant: str,
    bm25: Sequence[tuple[float, float]],
) -> list[dict[str, Any]]:
    """Score every engine on one evaluation set; one result row per kind of query and engine."""
    queries = evaluation_queries(set_dir, kinds, sample, seed)
    relevant = load_relevant(set_dir)
    runners: dict[str, Callable[[Path], dict[str, dict[str, Any]]]] = {
        "kensaku": lambda work: {"kensaku": run_kensaku(set_dir / "docs", queries, work, workers)},
        "fts5": lambda work: {"fts5 trigram": run_fts5(set_dir / "docs", queries, work, variant)},
        "lucene": lambda work: run_lucene(set_dir / "docs", queries, work, bm25),
    }
    rows = []
    for engine in engines:
        with tempfile.TemporaryDirectory(prefix=f"kensaku-eval-{engine}-") as work:
            outcomes = runners[engine](Path(work))
        for name, outcome in outcomes.items():
            for kind, result in outcome.pop("kinds").items():
                metrics = mean_metrics(result.pop("runs"), relevant)
                log(
                    f"  {name} {kind}: recall@10 {metrics['recall@10']:.3f}  MRR@10 {metrics['mrr@10']:.3f}"
                )
                rows.append(
                    {
                        "set": set_dir.name,
                        "kind": kind,
                        "engine": name,
                        "queries": len(queries[kind]),
                        **metrics,
                        **result,
                        **outcome,
                    }
                )
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    headers = [
        "set",
        "kind",
        "engine",
        "queries",
        "recall@10",
        "MRR@10",
        "no hits",
        "queries/s",
        "workers",
        "build s",
        "paragraphs",
        "errors",
    ]
    table = [
        [
            r["set"],
            r["kind"],
            r["engine"],
            r["queries"],
            r["recall@10"],
            r["mrr@10"],
            r["no_hits"],
            r["queries_per_second"],
            r["workers"],
            r["build"]["seconds"],
            r["build"]["paragraphs"],
            r["errors"],
        ]
        for r in sorted(rows, key=lambda r: (r["set"], KINDS.index(r["kind"])))
    ]
    print(format_table(headers, table))


def bm25_pair(text: str) -> tuple[float, float]:
    k1, _, b = text.partition(",")
    return float(k1), float(b)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--shared", type=Path, default=DEFAULT_SHARED, help="shared data dir (default ../shared)"
    )
    parser.add_argument(
        "--sets",
        type=comma_list(SETS),
        default=",".join(SETS),
        help="comma-separated: jsquad,jaquad",
    )
    parser.add_argument(
        "--engines",
        type=comma_list(ENGINES),
        default=",".join(ENGINES),
        help="comma-separated: kensaku,fts5,lucene",
    )
    parser.add_argument(
        "--kinds",
        type=comma_list(KINDS),
        default=",".join(KINDS),
        help="comma-separated: question,keyword",
    )
    parser.add_argument(
        "--sample", type=int, default=2000, help="questions sampled per set (default 2000)"
    )
    parser.add_argument("--seed", type=int, default=1, help="sampling and keyword seed (default 1)")
    parser.add_argument(
        "--full", action="store_true", help="use every question (overrides --sample)"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="processes for kensaku queries (default 1)"
    )
    parser.add_argument(
        "--fts5-variant",
        choices=sorted(QUESTION_VARIANTS),
        default=DEFAULT_VARIANT,
        help=f"FTS5 question formulation (default {DEFAULT_VARIANT}; see fts5.py)",
    )
    parser.add_argument(
        "--lucene-bm25",
        type=bm25_pair,
        action="append",
        metavar="K1,B",
        help="Lucene's BM25 parameters, one row each; repeat for more (default: "
        "0.9,0.4, Anserini's, and 1.2,0.75, Lucene's and Elasticsearch's)",
    )
    parser.add_argument("--json-out", type=Path, default=DEFAULT_RESULTS / "evaluate.json")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    set_dirs = require_dirs(args.shared, [f"eval/{s}" for s in args.sets])
    if "kensaku" in args.engines:
        import_kensaku()  # fail early, before any index is built
    engines = list(args.engines)
    skipped = {}
    if "lucene" in engines and lucene.missing():
        skipped["lucene"] = lucene.missing()
        engines.remove("lucene")
        log(f"lucene: skipped: {skipped['lucene']}")
    sample = None if args.full else args.sample
    args.lucene_bm25 = args.lucene_bm25 or list(lucene.BM25_SETTINGS)
    rows = []
    for set_dir in set_dirs:
        rows.extend(
            evaluate_set(
                set_dir,
                engines,
                args.kinds,
                sample,
                args.seed,
                args.workers,
                args.fts5_variant,
                args.lucene_bm25,
            )
        )
    print_table(rows)
    for engine, reason in skipped.items():
        print(f"{engine} skipped: {reason}")
    write_json(
        args.json_out,
        {
            "environment": environment(),
            "options": {
                "sample": sample,
                "seed": args.seed,
                "kinds": args.kinds,
                "workers": args.workers,
                "fts5_variant": args.fts5_variant,
                "lucene_bm25": [list(pair) for pair in args.lucene_bm25],
            },
            "skipped": skipped,
            "results": rows,
        },
    )


if __name__ == "__main__":
    main()
