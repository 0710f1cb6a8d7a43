"""Fit the reranker's weights (search/rerank.py) on tuning questions of JSQuAD and JaQuAD, and on the
keyword queries derived from them.

The tuning questions are kept apart from what bench/evaluate.py reports: from each set, the
questions outside evaluate.py's sample (``--sample 2000 --seed 1``) are sampled again
(``--tune-seed 7``), and their keyword queries derived (bench/keywords.py) with that seed. For
each query, the paragraphs kensaku reorders and their answer signals are computed once: a
question's BM25F best ``RERANK_DEPTH``, a keyword query's best matches (all words, then some).
Coordinate ascent then moves one weight at a time (steps 0.5, then 0.25) while the sum of
recall@10 and MRR@10 over both sets improves. The script prints the weights it starts from, the
weights it ends with and the figures of both on the tuning queries and on evaluate.py's sample
(questions that read as keywords, a handful, are left out of the questions). It changes no file:
copy the weights into rerank.py by hand, then run evaluate.py.

Usage::

    python bench/fit_rerank.py [--tune 2000] [--sets jsquad,jaquad] [--kinds question,keyword]
    python bench/fit_rerank.py --cache /tmp/candidates.pickle   # collect once, fit again quickly

``--cache FILE`` keeps the collected candidates (a pickle, reused when the file exists): they
depend on kensaku's code and index, not on the weights.
"""

from __future__ import annotations

import argparse
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import (
    DEFAULT_SHARED,
    LIMIT,
    comma_list,
    import_kensaku,
    kensaku_build,
    load_queries,
    log,
    require_dirs,
    sample_ids,
)
from evaluate import KINDS, SETS, load_relevant, matches
from keywords import keyword_queries

# (rerank.Signals, what the order needs besides, relevant?): for a question (score, docnum, whether
# its text holds a word), for keywords the rerank.Candidate.
Rows = list[tuple[Any, Any, bool]]


def question_candidates(searcher, question: str, spans) -> Rows | None:
    """The signals of BM25F's best paragraphs for one question, or None if it reads as keywords."""
    search = import_kensaku()
    from search.query.parser import parse
    from search.ranking.rerank import signals

    parsed = parse(question, "auto")
    if not parsed.is_question:
        return None
    ranking = searcher.ranking
    best, _total, by_title = ranking.question_candidates(
        parsed, search.ranking.ranking.RERANK_DEPTH
    )
    if not best:
        return []
    understood = ranking.asked(parsed)
    top = best[0][0] or 1.0
    rows = []
    for score, docnum in best:
        stored = ranking.stored_fields(docnum)
        relevant = any(matches((stored["source"], stored["line"]), span) for span in spans)
        rows.append(
            (
                signals(score / top, stored["text"], stored["title"], understood),
                (score, docnum, docnum not in by_title),
                relevant,
            )
        )
    return rows


def keyword_candidates(searcher, query: str, spans) -> Rows | None:
    """The signals of the paragraphs a keyword query's ranking reorders, or None if it reads as a
    question."""
    import_kensaku()
    from search.query.parser import parse
    from search.ranking.rerank import keyword_signals

    parsed = parse(query, "auto")
    if parsed.is_question:
        return None
    found = searcher.ranking.keyword_candidates(parsed, LIMIT)
    stored = [searcher.ranking.stored_fields(c.docnum) for c in found.candidates]
    texts = {
        c.docnum: (fields["text"], fields["title"]) for c, fields in zip(found.candidates, stored)
    }
    found_signals = keyword_signals(found.candidates, texts.__getitem__, found.question)
    return [
        (one, candidate, any(matches((fields["source"], fields["line"]), span) for span in spans))
        for one, candidate, fields in zip(found_signals, found.candidates, stored)
    ]


def collect(
    set_dir: Path, kinds: list[str], sample: int, seed: int, tune: int, tune_seed: int, work: Path
) -> dict[str, dict[str, list]]:
    """kind -> group (tune, eval) -> rows of each query, for one set."""
    search = import_kensaku()
    queries, relevant = load_queries(set_dir / "queries.tsv"), load_relevant(set_dir)
    ids = [q for q in queries if q in relevant]
    reported = sample_ids(ids, sample, seed)
    held_out = set(reported)
    rest = [q for q in ids if q not in held_out]
    groups = {"tune": (sample_ids(rest, tune, tune_seed), tune_seed), "eval": (reported, seed)}
    index_dir = work / set_dir.name
    kensaku_build(set_dir / "docs", index_dir)
    gather: dict[str, Callable] = {"question": question_candidates, "keyword": keyword_candidates}
    out: dict[str, dict[str, list]] = {kind: {} for kind in kinds}
    with search.Searcher(index_dir) as searcher:
        for group, (qids, group_seed) in groups.items():
            texts = {"question": {qid: queries[qid] for qid in qids}}
            texts["keyword"] = keyword_queries(texts["question"], group_seed)
            for kind in kinds:
                log(f"{set_dir.name}: {len(texts[kind])} {group} {kind} queries")
                rows = [
                    gather[kind](searcher, text, relevant[qid]) for qid, text in texts[kind].items()
                ]
                out[kind][group] = [r for r in rows if r is not None]
    return out


def ordered(kind: str, rows: Rows, weights) -> list[bool]:
    """Whether each reranked row is relevant, best first, as kensaku orders them."""
    from search.ranking.rerank import combine, keyword_order, question_order

    values = [combine(one, weights) for one, _, _ in rows]
    relevant = {id(extra): hit for _, extra, hit in rows}
    if kind == "question":
        order = question_order(
            [extra for _, extra, _ in rows], values, [extra[2] for _, extra, _ in rows]
        )
        return [relevant[id(extra)] for extra, _ in order]
    return [
        relevant[id(candidate)]
        for _, candidate in keyword_order([extra for _, extra, _ in rows], values)
    ]


def metrics(kind: str, queries: list[Rows], weights) -> tuple[float, float]:
    """(recall@10, MRR@10) of the reranked candidates."""
    if not queries:
        return 0.0, 0.0
    recall = mrr = 0.0
    for rows in queries:
        flags = ordered(kind, rows, weights)[:LIMIT]
        rank = next((i for i, relevant in enumerate(flags, 1) if relevant), None)
        if rank:
            recall += 1
            mrr += 1 / rank
    return recall / len(queries), mrr / len(queries)


def fit(kind: str, sets: dict[str, dict[str, dict[str, list]]], weights):
    """Coordinate ascent on the tuning queries' recall@10 + MRR@10, summed over the sets."""
    from search.ranking.rerank import Weights

    def objective(candidate) -> float:
        return sum(sum(metrics(kind, groups[kind]["tune"], candidate)) for groups in sets.values())

    best = objective(weights)
    for step in (0.5, 0.25):
        improved = True
        while improved:
            improved = False
            for table, name in [("log", n) for n in weights.log] + [
                ("linear", n) for n in weights.linear
            ]:
                for delta in (step, -step):
                    logs, linears = dict(weights.log), dict(weights.linear)
                    if table == "log":
                        weight, offset = logs[name]
                        logs[name] = (weight + delta, offset)
                    else:
                        linears[name] += delta
                    value = objective(Weights(logs, linears))
                    if value > best + 1e-4:
                        best, weights, improved = value, Weights(logs, linears), True
        log(f"{kind} step {step}: {best:.4f}")
    return weights


def report(kind: str, label: str, sets: dict[str, dict[str, dict[str, list]]], weights) -> None:
    print(f"{kind}: {label}")
    print("  log =", {k: (round(w, 2), o) for k, (w, o) in weights.log.items()})
    print("  linear =", {k: round(w, 2) for k, w in weights.linear.items()})
    for name, groups in sets.items():
        for group in ("tune", "eval"):
            recall, mrr = metrics(kind, groups[kind][group], weights)
            print(
                f"  {name} {group}: recall@10 {recall:.3f}  MRR@10 {mrr:.3f}  ({len(groups[kind][group])} queries)"
            )


def main(argv: list[str] | None = None) -> None:
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
        "--kinds",
        type=comma_list(KINDS),
        default=",".join(KINDS),
        help="comma-separated: question,keyword",
    )
    parser.add_argument(
        "--sample", type=int, default=2000, help="evaluate.py's sample size (default 2000)"
    )
    parser.add_argument(
        "--seed", type=int, default=1, help="evaluate.py's sampling seed (default 1)"
    )
    parser.add_argument(
        "--tune", type=int, default=2000, help="tuning questions per set (default 2000)"
    )
    parser.add_argument("--tune-seed", type=int, default=7, help="tuning sample seed (default 7)")
    parser.add_argument(
        "--cache", type=Path, help="keep the collected candidates in this file, and reuse them"
    )
    args = parser.parse_args(argv)
    set_dirs = require_dirs(args.shared, [f"eval/{s}" for s in args.sets])
    import_kensaku()
    from search.ranking.rerank import KEYWORDS, QUESTION

    if args.cache and args.cache.exists():
        with args.cache.open("rb") as cached:
            sets = pickle.load(cached)
    else:
        with tempfile.TemporaryDirectory(prefix="kensaku-fit-") as work:
            sets = {
                d.name: collect(
                    d, args.kinds, args.sample, args.seed, args.tune, args.tune_seed, Path(work)
                )
                for d in set_dirs
            }
        if args.cache:
            with args.cache.open("wb") as cache:
                pickle.dump(sets, cache)
    current = {"question": QUESTION, "keyword": KEYWORDS}
    for kind in args.kinds:
        report(kind, "current weights", sets, current[kind])
        report(kind, "fitted weights", sets, fit(kind, sets, current[kind]))


if __name__ == "__main__":
    main()
