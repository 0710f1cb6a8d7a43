"""The path a search takes through the package: which files it passes through, and how often it
climbs back up: a call from one stage of the search into a stage before it.

A search flows down these stages: service (the Searcher), query (parsing and planning),
ranking, results (hits, highlights), engine (postings, scores, matching), index (schema and
codec), text (analysis). A call the other way (ranking calling the parser again, a callback the
searcher handed down) climbs back up. Files of the flat layout before 2026-12 are placed by
`_FLAT`, so that two checkouts compare.

Builds an index of the seeds (or opens ``--index``), runs one warm search through
``search.Searcher`` under ``sys.setprofile`` and prints the files in the order first entered,
the calls into each, and the climbs. Run it on two checkouts to compare layouts::

    python bench/search_path.py [--query ピラー2] [--mode auto]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STAGES = ("service", "query", "ranking", "results", "engine", "index", "ingest", "text")
_FLAT = {
    "searcher.py": "service",
    "live_index.py": "service",
    "parser.py": "query",
    "plan.py": "query",
    "query.py": "query",
    "synonyms.py": "query",
    "ranking.py": "ranking",
    "rerank.py": "ranking",
    "results.py": "results",
    "highlight.py": "results",
    "engine/format.py": "index",
    "engine/builder.py": "index",
    "index.py": "index",
    "schema.py": "index",
    "documents.py": "ingest",
    "analysis.py": "text",
    "sentences.py": "text",
    "common_words.py": "text",
    "synonym_groups.py": "text",
}


def stage_of(name: str) -> int:
    """The place of a file's stage in the flow (a file of no stage: last)."""
    stage = _FLAT.get(name, name.split("/")[0])
    return STAGES.index(stage) if stage in STAGES else len(STAGES)


def trace(query: str, mode: str, index_dir: Path) -> tuple[list[str], Counter, list[tuple]]:
    """(files in the order first entered, calls into each, the calls climbing back up)."""
    sys.path.insert(0, str(REPO))
    import search

    package = str(Path(search.__file__).parent) + "/"
    order: list[str] = []
    calls: Counter = Counter()
    returns: list[tuple] = []
    stack: list[str] = []

    def name_of(frame) -> str | None:
        path = frame.f_code.co_filename
        return path[len(package) :] if path.startswith(package) else None

    def profile(frame, event, _arg) -> None:
        if event not in ("call", "return"):
            return
        here = name_of(frame)
        if event == "return":
            if stack:
                stack.pop()
            return
        caller = stack[-1] if stack else None
        if here is not None and caller is not None and here != caller:
            calls[here] += 1
            if here not in order:
                order.append(here)
            if caller != "<caller>" and stage_of(here) < stage_of(caller):
                returns.append((caller, here, frame.f_code.co_name))
        stack.append(here if here is not None else (caller or ""))

    with search.Searcher(index_dir) as searcher:
        searcher.search(query, mode=mode)  # warm: what a long-lived searcher does
        stack.append("<caller>")
        sys.setprofile(profile)
        try:
            searcher.search(query, mode=mode)
        finally:
            sys.setprofile(None)
    return order, calls, returns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--query", default="ピラー2")
    parser.add_argument("--mode", default="auto")
    parser.add_argument("--index", type=Path, help="an index to open (default: the seeds, built)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        index_dir = args.index
        if index_dir is None:
            sys.path.insert(0, str(REPO))
            import search

            index_dir = Path(work) / "index"
            search.build_index(REPO / "seeds", index_dir)
        order, calls, returns = trace(args.query, args.mode, index_dir)
    print(
        f"{args.query!r} ({args.mode}): {len(order)} files, {len(returns)} calls climbing back up"
    )
    for name in order:
        print(f"  {calls[name]:6d}  {name}")
    for (caller, callee, function), times in Counter(returns).most_common():
        print(f"  {times:6d}  up: {caller} -> {callee}.{function}")


if __name__ == "__main__":
    main()
