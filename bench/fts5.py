"""SQLite FTS5 ``trigram`` peer for the kensaku benchmarks.

The peer indexes exactly the paragraphs kensaku indexes (every non-blank line of every ``.txt``
file under the docs dir, with its 1-based line number; see ``common.iter_paragraphs``) into one
FTS5 table ``paragraphs(text, source UNINDEXED, line UNINDEXED)`` with ``tokenize='trigram'``,
and ranks with FTS5's built-in ``bm25()``.

Two query translations:

``keyword_plan`` (benchmark keyword queries, kensaku-style syntax)
    The query is split on whitespace. A piece ``OR`` (upper case) makes the query a disjunction
    of its other pieces; otherwise the pieces are AND-ed (a piece ``AND`` is ignored). Each
    piece of 3+ characters becomes a quoted FTS5 phrase (``"..."``, internal ``"`` doubled);
    the trigram index turns it into an exact substring match. Pieces shorter than 3 characters
    (e.g. 東京) cannot use the trigram index — FTS5 returns no rows for them — so they become
    ``instr(text, piece) > 0`` filters, evaluated on the rows FTS5 returns or, when there is no
    long piece (or in an OR with a short piece), by a full scan of the table. Scanned results
    have no bm25 score and are returned in document order (by rowid). ``instr`` is used rather
    than ``LIKE '%x%'`` because SQLite 3.40's trigram LIKE optimisation wrongly returns no rows
    for patterns shorter than three multibyte characters.

``question_plan`` (natural-language questions, evaluation)
    OR of the question's distinct 3-character windows, leaving out windows made only of
    hiragana (particles and endings such as 「のは何」「ですか」), ranked by bm25; if every window
    is hiragana, all are kept. This was the strongest formulation we measured for FTS5 on the
    2,000-question samples (seed 1), and also the fastest (common hiragana trigrams make OR
    queries slow):

    ===========  ===================================  ===============  ===============
    variant      windows                              JSQuAD R@10/MRR  JaQuAD R@10/MRR
    ===========  ===================================  ===============  ===============
    content      all windows minus all-hiragana ones  0.944 / 0.887    0.898 / 0.756
    raw          every window of the question         0.944 / 0.887    0.890 / 0.747
    segments     windows not crossing punctuation     0.940 / 0.885    0.878 / 0.731
    ===========  ===================================  ===============  ===============

    (Windows that cross punctuation help: 「」 quotes around names occur in the passages too.)
    Reproduce with ``evaluate.py --engines fts5 --fts5-variant raw``. AND of the windows would
    be far too strict for questions, whose wording differs from the passage.

Run as a script for a one-off build or search (used for the "cold search" timing)::

    python bench/fts5.py build --docs DIR --db FILE
    python bench/fts5.py search --db FILE [--question] QUERY
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from common import LIMIT, iter_paragraphs

SCHEMA = "CREATE VIRTUAL TABLE paragraphs USING fts5(text, source UNINDEXED, line UNINDEXED, tokenize='trigram')"
TRIGRAM = 3
BATCH = 5000


@dataclass
class QueryPlan:
    """A translated query: an FTS5 MATCH expression and/or substring filters."""

    match: str | None = None  # FTS5 expression, ranked by bm25 when present
    contains: list[str] = field(default_factory=list)  # substrings (< 3 chars) tested with instr()
    any_of: bool = False  # True: OR of everything; False: AND


@dataclass(frozen=True)
class BuildSummary:
    documents: int
    paragraphs: int
    seconds: float


# --------------------------------------------------------------------------- query translation


def quote(piece: str) -> str:
    """An FTS5 string literal: ``"..."`` with internal double quotes doubled."""
    return '"' + piece.replace('"', '""') + '"'


def keyword_plan(query: str) -> QueryPlan:
    """Translate a kensaku-style keyword query (``A B``, ``A OR B``) for the trigram index."""
    pieces = query.split()
    any_of = "OR" in pieces
    terms = [p for p in pieces if p not in ("OR", "AND")]
    long_terms = [quote(p) for p in terms if len(p) >= TRIGRAM]
    short_terms = [p for p in terms if len(p) < TRIGRAM]
    if any_of and short_terms:
        # An OR containing a short piece cannot be answered by the index: scan everything.
        return QueryPlan(None, terms, any_of=True)
    joiner = " OR " if any_of else " AND "
    return QueryPlan(joiner.join(long_terms) or None, short_terms, any_of=any_of)


_CUT = re.compile(r"[\s\W_]+")  # punctuation, symbols, whitespace (Unicode-aware)
_HIRAGANA = re.compile(r"^[\u3041-\u309f]+$")


def windows(text: str, size: int = TRIGRAM) -> list[str]:
    """Overlapping ``size``-character windows of ``text`` (none if it is shorter)."""
    return [text[i : i + size] for i in range(len(text) - size + 1)]


def _distinct(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _raw_windows(question: str) -> list[str]:
    return _distinct(w for w in windows(question.strip()) if not w.isspace())


def _segment_windows(question: str) -> list[str]:
    return _distinct(w for s in _CUT.split(question) for w in windows(s))


def _content_windows(question: str) -> list[str]:
    grams = _raw_windows(question)
    return [w for w in grams if not _HIRAGANA.match(w)] or grams


# Question formulations that were compared (see the module docstring); "content" scored best.
QUESTION_VARIANTS = {
    "content": _content_windows,
    "raw": _raw_windows,
    "segments": _segment_windows,
}
DEFAULT_VARIANT = "content"


def question_plan(question: str, variant: str = DEFAULT_VARIANT) -> QueryPlan:
    """OR of the question's distinct 3-character windows (per ``variant``), for bm25 ranking."""
    grams = QUESTION_VARIANTS[variant](question)
    return QueryPlan(" OR ".join(quote(g) for g in grams) or None, [], any_of=True)


# --------------------------------------------------------------------------- index


class FTS5Index:
    """An FTS5 trigram index of paragraphs in one SQLite database (a file or ``:memory:``)."""

    def __init__(self, db_path: Path | None = None) -> None:
        self.db_path = db_path
        self.conn = sqlite3.connect(str(db_path) if db_path else ":memory:")

    def close(self) -> None:
        self.conn.close()

    # -- build

    @classmethod
    def build(
        cls, docs_dir: Path, db_path: Path | None = None, files: Iterable[Path] | None = None
    ) -> tuple[FTS5Index, BuildSummary]:
        """Full build over ``docs_dir`` (or just ``files``); timing covers reading the files,
        inserting and the final ``optimize`` merge."""
        if db_path is not None and db_path.exists():
            db_path.unlink()
        index = cls(db_path)
        start = time.perf_counter()
        documents, paragraphs = index._load(docs_dir, files)
        seconds = time.perf_counter() - start
        return index, BuildSummary(documents, paragraphs, seconds)

    def _load(self, docs_dir: Path, files: Iterable[Path] | None) -> tuple[int, int]:
        conn = self.conn
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute(SCHEMA)
        sources: set[str] = set()
        count = 0
        batch: list[tuple[str, str, int]] = []
        insert = "INSERT INTO paragraphs(text, source, line) VALUES (?, ?, ?)"
        with conn:
            for para in iter_paragraphs(docs_dir, files):
                sources.add(para.source)
                batch.append((para.text, para.source, para.line))
                if len(batch) >= BATCH:
                    conn.executemany(insert, batch)
                    count += len(batch)
                    batch.clear()
            conn.executemany(insert, batch)
            count += len(batch)
            conn.execute("INSERT INTO paragraphs(paragraphs) VALUES ('optimize')")
        return len(sources), count

    # -- search

    def run(self, plan: QueryPlan, limit: int = LIMIT) -> list[tuple[str, int]]:
        """Execute a plan; top ``limit`` hits as (source, line), best first."""
        sql, params = self._sql(plan)
        return [(src, int(line)) for src, line in self.conn.execute(sql, (*params, limit))]

    @staticmethod
    def _sql(plan: QueryPlan) -> tuple[str, list[str]]:
        tests = ["instr(text, ?) > 0"] * len(plan.contains)
        if plan.match is None:
            if not plan.contains:
                return "SELECT source, line FROM paragraphs WHERE 0 LIMIT ?", []
            joiner = " OR " if plan.any_of else " AND "
            return (
                f"SELECT source, line FROM paragraphs WHERE {joiner.join(tests)} ORDER BY rowid LIMIT ?",
                list(plan.contains),
            )
        where = " AND ".join(["paragraphs MATCH ?", *tests])
        sql = f"SELECT source, line FROM paragraphs WHERE {where} ORDER BY bm25(paragraphs) LIMIT ?"
        return sql, [plan.match, *plan.contains]

    def search_keywords(self, query: str, limit: int = LIMIT) -> list[tuple[str, int]]:
        return self.run(keyword_plan(query), limit)

    def search_question(
        self, question: str, limit: int = LIMIT, variant: str = DEFAULT_VARIANT
    ) -> list[tuple[str, int]]:
        return self.run(question_plan(question, variant), limit)


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="SQLite FTS5 trigram peer: build an index or search it."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="full build of an FTS5 trigram index")
    build.add_argument("--docs", type=Path, required=True)
    build.add_argument("--db", type=Path, required=True)
    find = sub.add_parser("search", help="search an existing index, print the top hits")
    find.add_argument("--db", type=Path, required=True)
    find.add_argument(
        "--question", action="store_true", help="natural-language question formulation"
    )
    find.add_argument("--limit", type=int, default=LIMIT)
    find.add_argument("query")
    args = parser.parse_args(argv)

    if args.command == "build":
        index, summary = FTS5Index.build(args.docs, args.db)
        index.close()
        print(
            f"{summary.documents} documents, {summary.paragraphs} paragraphs, {summary.seconds:.2f} s"
        )
        return
    if not args.db.is_file():
        raise SystemExit(f"error: no index at {args.db}")
    index = FTS5Index(args.db)
    plan = question_plan(args.query) if args.question else keyword_plan(args.query)
    for rank, (source, line) in enumerate(index.run(plan, args.limit), start=1):
        print(f"{rank}\t{source}:{line}")
    index.close()


if __name__ == "__main__":
    main()
