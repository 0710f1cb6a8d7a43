"""Shared helpers for the kensaku benchmark scripts (evaluate.py, benchmark.py).

Everything that both scripts need lives here, once:

* locating the shared data (``../shared`` next to the repository, ``--shared DIR`` to override)
  and skipping cleanly when it is absent;
* the paragraph model (every non-blank line of every ``.txt`` file is one paragraph, with its
  1-based line number) used by the FTS5 peer and by the tokenization benchmark;
* a thin adapter around the kensaku library (``import search``) so that both scripts call it
  the same way;
* timing, percentiles, table printing and JSON output.

The scripts are meant to be run as files (``python bench/evaluate.py``), which puts ``bench/``
on ``sys.path`` so that ``import common`` and ``import fts5`` work.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = Path(__file__).resolve().parents[2] / "shared"
DEFAULT_RESULTS = REPO_ROOT / "bench" / "results"

LIMIT = 10  # depth of the ranked lists everywhere (recall@10, MRR@10)


# --------------------------------------------------------------------------- options


def comma_list(allowed: Sequence[str]):
    """An argparse ``type``: "a,b" -> ["a", "b"], refusing names outside ``allowed``."""

    def parse(text: str) -> list[str]:
        names = [name for name in text.split(",") if name]
        unknown = sorted(set(names) - set(allowed))
        if unknown:
            raise argparse.ArgumentTypeError(
                f"unknown {', '.join(unknown)}; choose from {','.join(allowed)}"
            )
        return names

    return parse


# --------------------------------------------------------------------------- data location


def require_dirs(shared: Path, relative: Sequence[str]) -> list[Path]:
    """Return ``shared / r`` for each ``r``; exit 0 with a "skipped" message if one is missing.

    The message names the directory the way the project refers to it (``../shared/...``) when the
    default location is used, and the full path otherwise.
    """
    found = []
    for rel in relative:
        path = shared / rel
        if not path.is_dir():
            shown = f"../shared/{rel}" if shared.resolve() == DEFAULT_SHARED else str(path)
            print(f"skipped: {shown} not found")
            raise SystemExit(0)
        found.append(path)
    return found


def log(message: str) -> None:
    """Progress output goes to stderr so that stdout carries only the result table."""
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- paragraph model


@dataclass(frozen=True)
class Paragraph:
    source: str  # path relative to the docs dir, POSIX separators
    line: int  # 1-based line number in the file
    text: str


def doc_files(docs_dir: Path) -> list[Path]:
    """All ``.txt`` files under ``docs_dir``, in a stable (sorted) order."""
    return sorted(p for p in docs_dir.rglob("*.txt") if p.is_file())


def read_paragraphs(path: Path, source: str) -> Iterator[Paragraph]:
    """Every non-blank line of one file, stripped, with its 1-based line number."""
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            text = raw.strip()
            if text:
                yield Paragraph(source, number, text)


def iter_paragraphs(docs_dir: Path, files: Iterable[Path] | None = None) -> Iterator[Paragraph]:
    """Paragraphs of ``files`` (default: every ``.txt`` under ``docs_dir``)."""
    for path in doc_files(docs_dir) if files is None else files:
        yield from read_paragraphs(path, path.relative_to(docs_dir).as_posix())


def total_bytes(files: Iterable[Path]) -> int:
    return sum(p.stat().st_size for p in files)


def dir_size(path: Path) -> int:
    """Bytes used by the regular files under ``path`` (or by ``path`` itself if it is a file)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# --------------------------------------------------------------------------- evaluation queries


def load_queries(path: Path) -> dict[str, str]:
    """``queries.tsv`` (qid TAB question, no header) as an ordered mapping."""
    queries: dict[str, str] = {}
    with path.open(encoding="utf-8") as handle:
        for row in handle:
            qid, _, text = row.rstrip("\n").partition("\t")
            if qid:
                queries[qid] = text
    return queries


def sample_ids(ids: Sequence[str], size: int | None, seed: int) -> list[str]:
    """A reproducible sample of ``size`` ids (all of them, in file order, when ``size`` is None
    or not smaller than the population)."""
    if size is None or size >= len(ids):
        return list(ids)
    return random.Random(seed).sample(list(ids), size)


# --------------------------------------------------------------------------- kensaku adapter


def import_kensaku() -> Any:
    """Import the kensaku library (package ``search``), with a clear error when it is missing."""
    try:
        import search
    except ImportError as exc:
        raise SystemExit(
            f"error: cannot import the kensaku package 'search' ({exc}); "
            "run `pip install -e .` in the repository or pass --engines fts5"
        ) from exc
    return search


def kensaku_build(docs_dir: Path, index_dir: Path) -> dict[str, float]:
    """Full kensaku rebuild; returns documents, paragraphs and wall seconds (measured here)."""
    search = import_kensaku()
    start = time.perf_counter()
    summary = search.build_index(docs_dir, index_dir)
    seconds = time.perf_counter() - start
    return {
        "documents": summary.documents,
        "paragraphs": summary.paragraphs,
        "seconds": seconds,
        "reported_seconds": summary.seconds,
    }


_searchers: dict[str, object] = {}


def kensaku_search(query: str, index_dir: Path, limit: int = LIMIT) -> list[tuple[str, int]]:
    """Top ``limit`` hits of a kensaku search, as (source, line) pairs, through a Searcher kept
    open per index (warm, as a long-running program would use it; cold start is timed apart)."""
    searcher = _searchers.get(str(index_dir))
    if searcher is None:
        searcher = _searchers[str(index_dir)] = import_kensaku().Searcher(index_dir)
    results = searcher.search(query, limit=limit)
    return [(hit.source, hit.line) for hit in results.hits]


# --------------------------------------------------------------------------- timing and output


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank-interpolated percentile (``statistics.quantiles`` inclusive method)."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[int(pct) - 1]


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p95/mean in milliseconds plus the sample count."""
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "mean_ms": statistics.fmean(ms) if ms else float("nan"),
    }


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain, aligned text table (numbers right-aligned)."""

    def cell(value: Any) -> str:
        if isinstance(value, float):
            if value != value:  # NaN
                return "-"
            return f"{value:.3f}" if abs(value) < 100 else f"{value:,.1f}"
        if value is None:
            return "-"
        return str(value)

    cells = [[cell(v) for v in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]
    numeric = [
        all(isinstance(row[i], (int, float)) or row[i] is None for row in rows)
        for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric)
        ).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out.extend(line(r) for r in cells)
    return "\n".join(out)


def environment() -> dict[str, Any]:
    """Versions and machine facts recorded with every JSON result."""
    import os
    import sqlite3

    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    try:
        from importlib.metadata import version

        for dist in ("sudachipy", "sudachidict-core", "whoosh", "kensaku"):
            try:
                info[dist] = version(dist)
            except Exception:
                info[dist] = None
    except ImportError:  # pragma: no cover
        pass
    return info


def write_json(path: Path | None, payload: dict[str, Any]) -> None:
    """Write ``payload`` as pretty JSON to ``path`` (parents created); no-op when ``path`` is None."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    log(f"wrote {path}")
