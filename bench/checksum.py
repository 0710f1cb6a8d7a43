"""A checksum of kensaku's results, to show that a change of shape changes no result.

Builds an index of the seeds and of the first ~10 MB of aozora (``--mb``), runs the speed
benchmark's keyword set, the seeds' own queries, a one-character query and 200 JaQuAD questions
(seed 1) on each, and prints one SHA-256 per corpus over every hit's source, paragraph, score (to
six significant digits), partial mark, snippet and highlight offsets, and the totals. Run it
before and after a change: equal digests mean equal results.

Usage::

    python bench/checksum.py [--shared ../shared] [--mb 10] [--keep /tmp/checksum-work]
                             [--per-query results.jsonl]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
from pathlib import Path

from benchmark import KEYWORDS, select_files, stage_docs
from common import DEFAULT_SHARED, REPO_ROOT, import_kensaku, load_queries, log, sample_ids

SEED_QUERIES = [
    "ピラー2",
    "統合作戦司令部",
    "米国",
    "AI",
    "PAC",
    "日米2プラス2とは何か？",
    "在日米軍の運用権限はどう変わる？",
    "汽車 停車場",
    "-韓国",
    "防衛 NOT 韓国",
    '"日米同盟"',
    "source:001 日米",
    "の",
    "人",
]
QUESTIONS = 200


def results_digest(index_dir: Path, queries: list[str], lines=None) -> tuple[str, int]:
    """The digest of every query's results in `index_dir`, and the number of hits digested;
    each query's results are also written to `lines` (a text file), one JSON line each."""
    search = import_kensaku()
    digest, hits = hashlib.sha256(), 0
    with search.Searcher(index_dir) as searcher:
        for query in queries:
            results = searcher.search(query, limit=10)
            line = json.dumps([query, results.total, _hits(results)], ensure_ascii=False)
            digest.update(line.encode())
            if lines is not None:
                lines.write(line + "\n")
            hits += len(results.hits)
    return digest.hexdigest(), hits


def _hits(results) -> list:
    return [
        [
            hit.source,
            hit.paragraph,
            f"{hit.score:.6g}",
            getattr(hit, "partial", False),
            hit.snippet,
            [list(span) for span in hit.snippet_highlights],
        ]
        for hit in results.hits
    ]


def _questions(shared: Path) -> list[str]:
    questions = load_queries(shared / "eval" / "jaquad" / "queries.tsv")
    return [questions[qid] for qid in sample_ids(sorted(questions), QUESTIONS, 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--mb", type=float, default=10.0)
    parser.add_argument(
        "--keep", type=Path, help="work directory to keep (default: a temporary one)"
    )
    parser.add_argument(
        "--per-query",
        type=Path,
        help="also write each query's results here, a JSON line each, to diff",
    )
    args = parser.parse_args()
    search = import_kensaku()
    keywords = [query for _kind, query in KEYWORDS]
    lines = args.per_query.open("w", encoding="utf-8") if args.per_query else None
    with tempfile.TemporaryDirectory() as temporary:
        work = args.keep or Path(temporary)
        aozora = args.shared / "corpus" / "aozora" / "docs"
        corpora = {
            "seeds": (REPO_ROOT / "seeds", SEED_QUERIES + keywords),
            f"aozora {args.mb:g} MB": (
                stage_docs(aozora, select_files(aozora, args.mb), work / "aozora"),
                keywords + SEED_QUERIES + _questions(args.shared),
            ),
        }
        for name, (docs, queries) in corpora.items():
            index_dir = work / f"index-{name.split()[0]}"
            log(f"building {name}")
            search.build_index(docs, index_dir)
            digest, hits = results_digest(index_dir, queries, lines)
            print(f"{name}: {len(queries)} queries, {hits} hits, sha256 {digest}")
    if lines is not None:
        lines.close()


if __name__ == "__main__":
    main()
