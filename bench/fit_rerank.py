"""Fit the question reranker's weights (search/rerank.py) on tuning questions of JSQuAD and JaQuAD.

The tuning questions are kept apart from what bench/evaluate.py reports: from each set, the
questions outside evaluate.py's sample (``--sample 2000 --seed 1``) are sampled again
(``--tune-seed 7``). For each, BM25F's best ``RERANK_DEPTH`` paragraphs and their answer signals are
computed once; coordinate ascent then moves one weight at a time (steps 0.5, then 0.25) while the
sum of recall@10 and MRR@10 over both sets improves. The script prints the weights it starts from,
the weights it ends with and the figures of both on the tuning questions and on evaluate.py's
sample (questions that read as keywords, a handful, are left out). It changes no file: copy the
weights into rerank.py by hand, then run evaluate.py.

Usage::

    python bench/fit_rerank.py [--tune 2000] [--sets jsquad,jaquad]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any, Optional

from common import (DEFAULT_SHARED, LIMIT, comma_list, import_kensaku, kensaku_build, load_queries, log, require_dirs,
                    sample_ids)
from evaluate import SETS, load_relevant, matches

Candidates = list[tuple[Any, bool]]  # (rerank.Signals, relevant?) in BM25F order


def question_candidates(searcher, question: str, spans) -> Optional[Candidates]:
    """The signals of BM25F's best paragraphs for one question, or None if it reads as keywords."""
    search = import_kensaku()
    from search.query import Question, parse
    from search.rerank import signals

    tree = parse(question, "auto")
    if not isinstance(tree, Question):
        return None
    statistics = searcher._statistics  # noqa: SLF001
    best, _total = searcher._question_candidates(tree, search.results.RERANK_DEPTH,  # noqa: SLF001
                                                 statistics)
    if not best:
        return []
    understood = searcher._asked(tree, question, statistics.terms)  # noqa: SLF001
    top = best[0][0] or 1.0
    rows = []
    for score, docnum in best:
        stored = searcher._searcher.stored_fields(docnum)  # noqa: SLF001
        relevant = any(matches((stored["source"], stored["line"]), span) for span in spans)
        rows.append((signals(score / top, stored["text"], stored["title"], understood), relevant))
    return rows


def collect(set_dir: Path, sample: int, seed: int, tune: int, tune_seed: int, work: Path) -> dict[str, list]:
    """Candidates of the tuning questions and of evaluate.py's sample, for one set."""
    search = import_kensaku()
    queries, relevant = load_queries(set_dir / "queries.tsv"), load_relevant(set_dir)
    ids = [q for q in queries if q in relevant]
    reported = sample_ids(ids, sample, seed)
    held_out = set(reported)
    rest = [q for q in ids if q not in held_out]
    groups = {"tune": sample_ids(rest, tune, tune_seed), "eval": reported}
    index_dir = work / set_dir.name
    kensaku_build(set_dir / "docs", index_dir)
    out: dict[str, list] = {}
    with search.Searcher(index_dir) as searcher:
        for group, qids in groups.items():
            log(f"{set_dir.name}: {len(qids)} {group} questions")
            rows = [question_candidates(searcher, queries[qid], relevant[qid]) for qid in qids]
            out[group] = [r for r in rows if r is not None]
    return out


def metrics(candidates: list[Candidates], log_weights: dict, linear_weights: dict) -> tuple[float, float]:
    """(recall@10, MRR@10) of the reranked candidates."""
    from search.rerank import combine

    if not candidates:
        return 0.0, 0.0
    recall = mrr = 0.0
    for rows in candidates:
        order = sorted(rows, key=lambda row: -combine(row[0], log_weights, linear_weights))
        rank = next((i for i, (_, relevant) in enumerate(order[:LIMIT], 1) if relevant), None)
        if rank:
            recall += 1
            mrr += 1 / rank
    return recall / len(candidates), mrr / len(candidates)


def fit(sets: dict[str, dict[str, list]], log_weights: dict, linear_weights: dict) -> tuple[dict, dict]:
    """Coordinate ascent on the tuning questions' recall@10 + MRR@10, summed over the sets."""
    def objective(logs: dict, linears: dict) -> float:
        return sum(sum(metrics(groups["tune"], logs, linears)) for groups in sets.values())

    best = objective(log_weights, linear_weights)
    for step in (0.5, 0.25):
        improved = True
        while improved:
            improved = False
            for table, name in [("log", n) for n in log_weights] + [("linear", n) for n in linear_weights]:
                for delta in (step, -step):
                    logs, linears = dict(log_weights), dict(linear_weights)
                    if table == "log":
                        weight, offset = logs[name]
                        logs[name] = (weight + delta, offset)
                    else:
                        linears[name] += delta
                    value = objective(logs, linears)
                    if value > best + 1e-4:
                        best, log_weights, linear_weights, improved = value, logs, linears, True
        log(f"step {step}: {best:.4f}")
    return log_weights, linear_weights


def report(label: str, sets: dict[str, dict[str, list]], log_weights: dict, linear_weights: dict) -> None:
    print(label)
    print("  LOG_WEIGHTS =", {k: (round(w, 2), o) for k, (w, o) in log_weights.items()})
    print("  LINEAR_WEIGHTS =", {k: round(w, 2) for k, w in linear_weights.items()})
    for name, groups in sets.items():
        for group in ("tune", "eval"):
            recall, mrr = metrics(groups[group], log_weights, linear_weights)
            print(f"  {name} {group}: recall@10 {recall:.3f}  MRR@10 {mrr:.3f}  ({len(groups[group])} questions)")


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="shared data dir (default ../shared)")
    parser.add_argument("--sets", type=comma_list(SETS), default=",".join(SETS), help="comma-separated: jsquad,jaquad")
    parser.add_argument("--sample", type=int, default=2000, help="evaluate.py's sample size (default 2000)")
    parser.add_argument("--seed", type=int, default=1, help="evaluate.py's sampling seed (default 1)")
    parser.add_argument("--tune", type=int, default=2000, help="tuning questions per set (default 2000)")
    parser.add_argument("--tune-seed", type=int, default=7, help="tuning sample seed (default 7)")
    args = parser.parse_args(argv)
    set_dirs = require_dirs(args.shared, [f"eval/{s}" for s in args.sets])
    from search.rerank import LINEAR_WEIGHTS, LOG_WEIGHTS

    with tempfile.TemporaryDirectory(prefix="kensaku-fit-") as work:
        sets = {d.name: collect(d, args.sample, args.seed, args.tune, args.tune_seed, Path(work)) for d in set_dirs}
    report("current weights", sets, LOG_WEIGHTS, LINEAR_WEIGHTS)
    report("fitted weights", sets, *fit(sets, dict(LOG_WEIGHTS), dict(LINEAR_WEIGHTS)))


if __name__ == "__main__":
    main()
