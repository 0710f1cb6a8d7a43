"""Speed and scale of kensaku against an SQLite FTS5 trigram peer, on ../shared/corpus.

For each corpus (``aozora``: 100 MB of literature; ``wikinews``: 8 MB of news) the script measures

* raw SudachiPy tokenization throughput (SplitMode.C, sudachidict core,
  ``Dictionary().tokenizer()``), paragraph by paragraph — SudachiPy rejects inputs over 49,149
  UTF-8 bytes, so longer paragraphs are cut into chunks below that;
* index build wall time, MB/s (input file bytes / wall seconds) and peak RSS — each build runs
  in a fresh child process whose own ``ru_maxrss`` is reported;
* index size on disk;
* warm query latency p50/p95: a fixed keyword set (single words, two-character words, phrases of
  frequent words, rare words, ``A B``, ``A OR B``; every query once untimed, then ``--repeat``
  timed runs), one character of the commonest (人 and の, timed alike) and 500 questions sampled from eval/jaquad/queries.tsv (seed 1; one timed run
  each after a short warm-up), through the library API in this process;
* cold command-line search wall time: ``python -m search search --index DIR --docs DIR QUERY``
  for kensaku and ``python bench/fts5.py search --db FILE QUERY`` for FTS5, median of
  ``--cold-runs`` subprocess runs;
* kensaku's update of one changed file (``--update-runs``, 0 to skip): a line added to the file
  of median size, then ``search.update_index`` in this process, wall time, the median (the
  documents are then read from a copy in the temporary directory, never changed in place);

and the ratios kensaku/FTS5. FTS5 answers keywords and questions with the translations in
``fts5.py``. ``--limit-mb N`` uses only the first N MB of files (in sorted file-name order,
copied to a temporary docs dir) to run quickly and to show memory at 10, 50 and 100 MB.

Usage::

    python bench/benchmark.py                                    # both corpora, everything
    python bench/benchmark.py --corpus wikinews --limit-mb 8
    python bench/benchmark.py --corpus aozora --limit-mb 10 --json-out bench/results/aozora-10.json

Progress goes to stderr, the table to stdout, all figures (per query too) to ``--json-out``
(default ``bench/results/benchmark.json``). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from common import (
    DEFAULT_RESULTS,
    DEFAULT_SHARED,
    comma_list,
    dir_size,
    doc_files,
    environment,
    format_table,
    import_kensaku,
    iter_paragraphs,
    kensaku_build,
    kensaku_search,
    latency_summary,
    load_queries,
    log,
    require_dirs,
    sample_ids,
    total_bytes,
    write_json,
)
from fts5 import FTS5Index

CORPORA = ("aozora", "wikinews")
ENGINES = ("kensaku", "fts5")
MB = 1_000_000
CHUNK_BYTES = 48_000  # SudachiPy rejects inputs over 49,149 UTF-8 bytes

# (category, query): the fixed keyword set, shared by both engines and both corpora.
KEYWORDS: list[tuple[str, str]] = [
    ("word", "政府"),
    ("word", "警察官"),
    ("word", "インターネット"),
    ("two-char", "東京"),
    ("two-char", "日本"),
    ("two-char", "先生"),
    ("phrase", "一つの"),
    ("phrase", "あの人"),
    ("phrase", "自分の心"),
    ("rare", "蜃気楼"),
    ("rare", "顕微鏡"),
    ("rare", "量子力学"),
    ("and", "東京 大学"),
    ("and", "政府 発表"),
    ("and", "自分の心 あの人"),
    ("or", "東京 OR 大阪"),
    ("or", "猫 OR 犬"),
    ("or", "警察官 OR 消防士"),
]
COLD_QUERY = "自分の心"
# One character of the commonest: every bigram it starts (の is in 63% of aozora's paragraphs).
ONE_CHARACTER = ["人", "の"]


# --------------------------------------------------------------------------- corpus selection


def select_files(docs: Path, limit_mb: float | None) -> list[Path]:
    """The corpus files, or the first ones (sorted by name) that add up to ``limit_mb`` MB."""
    files = doc_files(docs)
    if limit_mb is None:
        return files
    chosen, size = [], 0
    for path in files:
        if size >= limit_mb * MB:
            break
        chosen.append(path)
        size += path.stat().st_size
    return chosen


def stage_docs(docs: Path, files: list[Path], workdir: Path, copy: bool = False) -> Path:
    """A docs dir holding exactly ``files``: ``docs`` itself when it is the whole corpus (unless
    ``copy``), otherwise a copy (outside the repository) of the selected files."""
    if len(files) == len(doc_files(docs)) and not copy:
        return docs
    staged = workdir / "docs"
    for path in files:
        target = staged / path.relative_to(docs)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return staged


# --------------------------------------------------------------------------- tokenization


def utf8_chunks(text: str, limit: int = CHUNK_BYTES) -> list[str]:
    """``text`` cut at character boundaries into pieces of at most ``limit`` UTF-8 bytes."""
    if len(text) * 4 <= limit or len(text.encode("utf-8")) <= limit:
        return [text]
    chunks, start, size = [], 0, 0
    for i, char in enumerate(text):
        width = len(char.encode("utf-8"))
        if size + width > limit:
            chunks.append(text[start:i])
            start, size = i, 0
        size += width
    chunks.append(text[start:])
    return chunks


def tokenize_throughput(docs: Path) -> dict[str, Any]:
    """Raw SudachiPy SplitMode.C over every paragraph; MB/s of paragraph UTF-8 bytes."""
    from sudachipy import Dictionary, SplitMode

    tokenizer = Dictionary(dict="core").tokenizer()
    texts = [p.text for p in iter_paragraphs(docs)]
    size = sum(len(t.encode("utf-8")) for t in texts)
    morphemes = 0
    start = time.perf_counter()
    for text in texts:
        for chunk in utf8_chunks(text):
            morphemes += len(tokenizer.tokenize(chunk, SplitMode.C))
    seconds = time.perf_counter() - start
    return {
        "paragraphs": len(texts),
        "bytes": size,
        "morphemes": morphemes,
        "seconds": seconds,
        "mb_per_second": size / MB / seconds,
    }


# --------------------------------------------------------------------------- builds


def peak_rss_bytes() -> int:
    """This process's peak resident set size.

    ``VmHWM`` from /proc is preferred: Linux carries ``ru_maxrss`` across ``exec``, so in a
    freshly spawned child it would still include the forked copy of this (large) parent.
    """
    try:
        for row in Path("/proc/self/status").read_text().splitlines():
            if row.startswith("VmHWM:"):
                return int(row.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def _build_in_child(engine: str, docs: str, target: str) -> dict[str, Any]:
    """Runs in a fresh process: one full build, its wall time and this process's peak RSS."""
    if engine == "kensaku":
        build = kensaku_build(Path(docs), Path(target))
    else:
        index, summary = FTS5Index.build(Path(docs), Path(target))
        index.close()
        build = {
            "documents": summary.documents,
            "paragraphs": summary.paragraphs,
            "seconds": summary.seconds,
        }
    build["peak_rss_bytes"] = peak_rss_bytes()
    # kensaku indexes in worker processes of its own: the largest of them, which the total adds.
    build["worker_peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return build


def _build_and_send(connection, engine: str, docs: str, target: str) -> None:
    """A child process's body: the build's figures, or the error, sent back to the parent."""
    try:
        connection.send(("ok", _build_in_child(engine, docs, target)))
    except BaseException as error:  # reported in the parent, with its type
        connection.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        connection.close()


def build_index(engine: str, docs: Path, target: Path, input_bytes: int) -> dict[str, Any]:
    """Build ``engine``'s index in a child process; add MB/s and size on disk."""
    log(f"  {engine}: building")
    # A plain (non-daemonic) child, so that kensaku may start its own indexing workers.
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_build_and_send, args=(sender, engine, str(docs), str(target)))
    child.start()
    sender.close()
    status, build = receiver.recv()
    child.join()
    if status != "ok":
        raise RuntimeError(f"{engine} build failed: {build}")
    build["mb_per_second"] = input_bytes / MB / build["seconds"]
    build["index_bytes"] = dir_size(target)
    log(
        f"  {engine}: {build['seconds']:.1f} s, peak RSS {build['peak_rss_bytes'] / 2**20:.0f} MiB, "
        f"index {build['index_bytes'] / 2**20:.1f} MiB"
    )
    return build


# --------------------------------------------------------------------------- queries


def time_queries(
    run: Callable[[str], list], queries: Sequence[str], repeat: int
) -> tuple[list[float], list[int]]:
    """Latency of each query (``repeat`` timed runs after one untimed run) and its hit count."""
    seconds, counts = [], []
    for query in queries:
        counts.append(len(run(query)))
        for _ in range(repeat):
            start = time.perf_counter()
            run(query)
            seconds.append(time.perf_counter() - start)
    return seconds, counts


def warm_latency(
    run_keyword: Callable[[str], list],
    run_question: Callable[[str], list],
    questions: Sequence[str],
    repeat: int,
) -> dict[str, Any]:
    """Keyword and question latency through an engine's in-process API."""
    keywords = [q for _, q in KEYWORDS]
    kw_seconds, kw_counts = time_queries(run_keyword, keywords, repeat)
    one_seconds, one_counts = time_queries(run_keyword, ONE_CHARACTER, repeat)
    for question in questions[:20]:  # warm-up, untimed
        run_question(question)
    q_seconds = []
    for question in questions:
        start = time.perf_counter()
        run_question(question)
        q_seconds.append(time.perf_counter() - start)
    per_query = [
        {
            "category": cat,
            "query": q,
            "hits": kw_counts[i],
            **latency_summary(kw_seconds[i * repeat : (i + 1) * repeat]),
        }
        for i, (cat, q) in enumerate(KEYWORDS)
    ]
    one_character = [
        {
            "query": q,
            "hits": one_counts[i],
            **latency_summary(one_seconds[i * repeat : (i + 1) * repeat]),
        }
        for i, q in enumerate(ONE_CHARACTER)
    ]
    return {
        "keywords": latency_summary(kw_seconds),
        "keyword_queries": per_query,
        "one_character": latency_summary(one_seconds),
        "one_character_queries": one_character,
        "questions": latency_summary(q_seconds),
    }


def cold_search(command: list[str], runs: int, cwd: Path) -> dict[str, Any]:
    """Median wall time of a search command run as a fresh process ``runs`` times in ``cwd`` (not
    the checkout, whose ``search`` directory ``python -m search`` would run instead of the
    installed package)."""
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
        seconds.append(time.perf_counter() - start)
        if done.returncode not in (0, 1):  # 1: no hit, as grep says it
            return {
                "error": f"exit {done.returncode}: {done.stderr.strip()[-2000:]}",
                "command": command,
            }
    return {"median_ms": statistics.median(seconds) * 1000, "runs": runs, "command": command}


def measure_kensaku(
    docs: Path, work: Path, input_bytes: int, questions: Sequence[str], args: argparse.Namespace
) -> dict[str, Any]:
    index_dir = work / "kensaku-index"
    result: dict[str, Any] = {"build": build_index("kensaku", docs, index_dir, input_bytes)}
    log("  kensaku: warm queries")
    run = lambda q: kensaku_search(q, index_dir)  # noqa: E731
    result["warm"] = warm_latency(run, run, questions, args.repeat)
    log("  kensaku: cold searches")
    command = [
        sys.executable,
        "-m",
        "search",
        "search",
        "--index",
        str(index_dir),
        "--docs",
        str(docs),
        COLD_QUERY,
    ]
    result["cold"] = cold_search(command, args.cold_runs, work)
    if args.update_runs:
        log("  kensaku: updates of one changed file")
        result["update"] = update_one_file(docs, index_dir, args.update_runs)
    return result


def update_one_file(docs: Path, index_dir: Path, runs: int) -> dict[str, Any]:
    """Median wall time of ``runs`` updates, each after a line was added to the same file (the
    one of median size)."""
    search = import_kensaku()
    files = sorted(doc_files(docs), key=lambda path: (path.stat().st_size, path.name))
    changed = files[len(files) // 2]
    seconds = []
    for run in range(runs):
        with changed.open("a", encoding="utf-8") as out:
            out.write(f"\n更新の試しの段落、その{run + 1}。\n")
        start = time.perf_counter()
        search.update_index(docs, index_dir)
        seconds.append(time.perf_counter() - start)
    return {
        "median_ms": statistics.median(seconds) * 1000,
        "runs": runs,
        "file": changed.name,
        "file_bytes": changed.stat().st_size,
    }


def measure_fts5(
    docs: Path, work: Path, input_bytes: int, questions: Sequence[str], args: argparse.Namespace
) -> dict[str, Any]:
    db = work / "fts5.sqlite"
    result: dict[str, Any] = {"build": build_index("fts5", docs, db, input_bytes)}
    log("  fts5: warm queries")
    index = FTS5Index(db)
    result["warm"] = warm_latency(
        index.search_keywords, index.search_question, questions, args.repeat
    )
    index.close()
    log("  fts5: cold searches")
    command = [
        sys.executable,
        str(Path(__file__).with_name("fts5.py")),
        "search",
        "--db",
        str(db),
        COLD_QUERY,
    ]
    result["cold"] = cold_search(command, args.cold_runs, work)
    return result


# --------------------------------------------------------------------------- driver


def measure_corpus(
    name: str, docs: Path, questions: Sequence[str], args: argparse.Namespace
) -> dict[str, Any]:
    """Every figure for one corpus."""
    files = select_files(docs, args.limit_mb)
    input_bytes = total_bytes(files)
    log(f"{name}: {len(files)} files, {input_bytes / MB:.1f} MB")
    measurers = {"kensaku": measure_kensaku, "fts5": measure_fts5}
    with tempfile.TemporaryDirectory(prefix=f"kensaku-bench-{name}-") as tmp:
        work = Path(tmp)
        staged = stage_docs(
            docs, files, work, copy="kensaku" in args.engines and args.update_runs > 0
        )
        result: dict[str, Any] = {"corpus": name, "files": len(files), "input_bytes": input_bytes}
        if not args.skip_tokenize:
            log("  sudachi: tokenizing")
            result["tokenize"] = tokenize_throughput(staged)
            log(f"  sudachi: {result['tokenize']['mb_per_second']:.2f} MB/s")
        for engine in args.engines:
            result[engine] = measurers[engine](staged, work, input_bytes, questions, args)
    return result


def _get(result: dict[str, Any], *keys: str) -> float | None:
    for key in keys:
        if not isinstance(result, dict) or key not in result:
            return None
        result = result[key]
    return result


ROWS: list[tuple[str, tuple[str, ...], float]] = [
    # (label, path into an engine's result, scale)
    ("build s", ("build", "seconds"), 1),
    ("build MB/s", ("build", "mb_per_second"), 1),
    ("peak RSS MiB", ("build", "peak_rss_bytes"), 1 / 2**20),
    ("worker peak RSS MiB", ("build", "worker_peak_rss_bytes"), 1 / 2**20),
    ("index MiB", ("build", "index_bytes"), 1 / 2**20),
    ("keyword p50 ms", ("warm", "keywords", "p50_ms"), 1),
    ("keyword p95 ms", ("warm", "keywords", "p95_ms"), 1),
    ("one character p50 ms", ("warm", "one_character", "p50_ms"), 1),
    ("one character p95 ms", ("warm", "one_character", "p95_ms"), 1),
    ("question p50 ms", ("warm", "questions", "p50_ms"), 1),
    ("question p95 ms", ("warm", "questions", "p95_ms"), 1),
    ("cold search ms", ("cold", "median_ms"), 1),
    ("update of one file ms", ("update", "median_ms"), 1),
]


def add_ratios(result: dict[str, Any]) -> None:
    """kensaku/FTS5 for every figure in the table, when both engines ran."""
    if "kensaku" in result and "fts5" in result:
        result["ratios_kensaku_over_fts5"] = {
            label: (k * s) / (f * s) if k is not None and f else None
            for label, path, s in ROWS
            for k, f in [(_get(result["kensaku"], *path), _get(result["fts5"], *path))]
        }


def print_table(results: list[dict[str, Any]], engines: Sequence[str]) -> None:
    both = all(e in engines for e in ENGINES)
    headers = ["corpus", "figure", *engines, *(["kensaku/fts5"] if both else [])]
    rows: list[list[Any]] = []
    for r in results:
        label = f"{r['corpus']} ({r['input_bytes'] / MB:.1f} MB)"
        if "tokenize" in r:
            rows.append(
                [
                    label,
                    "sudachi C MB/s",
                    r["tokenize"]["mb_per_second"],
                    *([None] * (len(headers) - 3)),
                ]
            )
        for name, path, scale in ROWS:
            values = [_get(r.get(e, {}), *path) for e in engines]
            row = [label, name, *(v * scale if v is not None else None for v in values)]
            if both:
                row.append(r.get("ratios_kensaku_over_fts5", {}).get(name))
            rows.append(row)
        for e in engines:
            if "error" in r.get(e, {}).get("cold", {}):
                log(f"{r['corpus']} {e} cold search failed: {r[e]['cold']['error']}")
    print(format_table(headers, rows))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--shared", type=Path, default=DEFAULT_SHARED, help="shared data dir (default ../shared)"
    )
    parser.add_argument(
        "--corpus",
        type=comma_list(CORPORA),
        default=",".join(CORPORA),
        help="comma-separated: aozora,wikinews",
    )
    parser.add_argument(
        "--engines",
        type=comma_list(ENGINES),
        default=",".join(ENGINES),
        help="comma-separated: kensaku,fts5",
    )
    parser.add_argument(
        "--limit-mb", type=float, default=None, help="use only the first N MB of files"
    )
    parser.add_argument(
        "--questions", type=int, default=500, help="jaquad questions for latency (default 500)"
    )
    parser.add_argument("--seed", type=int, default=1, help="question sampling seed (default 1)")
    parser.add_argument(
        "--repeat", type=int, default=5, help="timed runs per keyword query (default 5)"
    )
    parser.add_argument(
        "--cold-runs", type=int, default=5, help="runs of the cold CLI search (default 5)"
    )
    parser.add_argument(
        "--update-runs",
        type=int,
        default=3,
        help="kensaku updates of one changed file (default 3; 0: none)",
    )
    parser.add_argument(
        "--skip-tokenize", action="store_true", help="skip the raw SudachiPy throughput"
    )
    parser.add_argument("--json-out", type=Path, default=DEFAULT_RESULTS / "benchmark.json")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    corpus_dirs = require_dirs(args.shared, [f"corpus/{c}" for c in args.corpus])
    (jaquad,) = require_dirs(args.shared, ["eval/jaquad"])
    if "kensaku" in args.engines:
        import_kensaku()
    queries = load_queries(jaquad / "queries.tsv")
    questions = [queries[q] for q in sample_ids(list(queries), args.questions, args.seed)]
    results = []
    for name, corpus in zip(args.corpus, corpus_dirs):
        result = measure_corpus(name, corpus / "docs", questions, args)
        add_ratios(result)
        results.append(result)
    print_table(results, args.engines)
    write_json(
        args.json_out,
        {
            "environment": environment(),
            "options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "keywords": KEYWORDS,
            "results": results,
        },
    )


if __name__ == "__main__":
    main()
