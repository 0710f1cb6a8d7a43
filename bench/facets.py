"""What narrowing costs on ../shared/corpus/aozora: facets, filters, sorting by date, suggestions.

The index of the corpus (or of its first ``--limit-mb`` MB of files, in file-name order) is built
once into ``--index`` (kept for the next run); then, warm, through one Searcher:

* a query of about ``--matches`` matching paragraphs (100,000 on the whole corpus; scaled down
  with ``--limit-mb``), chosen among common words as the one nearest to it: its time without
  facets and with them (the facets count all its matches), medians of ``--repeat`` runs taken
  in turn, their ratio (the target: 1.2 at most), and the time of counting the facets alone
  (on a busy machine the two medians drift more than the counting costs);
* the same query narrowed by a path glob, by a date, sorted by date;
* suggestions for prefixes in kanji, katakana and kana (by reading): median and worst.

Usage::

    python bench/facets.py                     # the whole corpus (a long build the first time)
    python bench/facets.py --limit-mb 25       # a quarter of it, 25,000 matches

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import DEFAULT_SHARED, log, require_dirs

CANDIDATES = ("人", "事", "時", "日", "見る", "言う", "私", "彼", "彼女", "自分", "今", "顔")
PREFIXES = ("東", "とう", "とうご", "ピラ", "にほ", "日本", "カ", "さく", "文学", "せんそ")
MB = 1_000_000


def staged_docs(docs: Path, limit_mb: float | None, work: Path) -> Path:
    """`docs`, or a folder of links to its first `limit_mb` MB of files."""
    if limit_mb is None:
        return docs
    staged = work / f"aozora-{limit_mb:g}mb"
    if staged.exists():
        return staged
    staged.mkdir(parents=True)
    total = 0
    for path in sorted(docs.rglob("*.txt")):
        if total >= limit_mb * MB:
            break
        (staged / path.name).symlink_to(path)
        total += path.stat().st_size
    return staged


def interleaved(calls, repeat: int) -> list[float]:
    """The median seconds of each of `calls`, run in turn `repeat` times (after one untimed
    round), so that a busy machine's drift weighs on each alike."""
    for call in calls:
        call()
    times: list[list[float]] = [[] for _ in calls]
    for _ in range(repeat):
        for call, spent in zip(calls, times):
            started = time.perf_counter()
            call()
            spent.append(time.perf_counter() - started)
    return [statistics.median(spent) for spent in times]


def timed(call, repeat: int) -> float:
    """The median seconds of `repeat` calls (after one untimed)."""
    call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--limit-mb", type=float, default=None)
    parser.add_argument("--index", type=Path, default=None, help="kept between runs")
    parser.add_argument("--matches", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)
    (aozora,) = require_dirs(args.shared, ["corpus/aozora"])
    import search
    from search.query.parser import parse
    from search.ranking.shard import QueryContext
    from search.results.facets import count_facets

    work = Path(tempfile.gettempdir()) / "kensaku-bench-facets"
    docs = staged_docs(aozora / "docs", args.limit_mb, work)
    index = args.index or work / f"index-{args.limit_mb or 'all'}"
    log(f"index {index} of {docs}")
    started = time.perf_counter()
    summary = search.ensure_index(docs, index)
    if summary is not None:
        log(f"built in {time.perf_counter() - started:.0f} s")
    wanted = args.matches or int(100_000 * (args.limit_mb or 100) / 100)
    with search.Searcher(index) as searcher:
        totals = {word: searcher.search(word, limit=10).total for word in CANDIDATES}
        word = min(totals, key=lambda candidate: abs(totals[candidate] - wanted))
        searcher.documents()  # read once per open index, as a server does
        rows = [("documents", len(searcher.documents()), ""), ("query", word, totals[word])]
        plain, faceted = interleaved(
            [
                lambda: searcher.search(word, limit=10),
                lambda: searcher.search(word, limit=10, facets=True),
            ],
            args.repeat,
        )
        (shard,) = searcher.ranking.shards.shards  # one index: one shard
        matched = shard.matches(QueryContext("facets", parse(word)))
        counting = timed(lambda: count_facets(searcher.documents(), matched), args.repeat)
        first = next(iter(searcher.documents().sources))[:3]
        cases = {
            "without facets": plain,
            "with facets": faceted,
            "counting the facets alone": counting,
            f"path:{first}* with facets": timed(
                lambda: searcher.search(f"{word} path:{first}*", facets=True), args.repeat
            ),
            "after:2000 with facets": timed(
                lambda: searcher.search(f"{word} after:2000", facets=True), args.repeat
            ),
            "sorted by date, with facets": timed(
                lambda: searcher.search(word, sort="date", facets=True), args.repeat
            ),
        }
        for name, seconds in cases.items():
            rows.append((name, f"{seconds * 1000:.1f} ms", ""))
        rows.append(("facets / without", f"{faceted / plain:.2f}", "target ≤ 1.20"))
        rows.append(("(plain + counting) / plain", f"{(plain + counting) / plain:.3f}", ""))
        searcher.suggest("あ")  # the vocabulary, read once per open index
        suggest_times = [timed(lambda p=p: searcher.suggest(p), args.repeat) for p in PREFIXES]
        rows.append(
            (
                "suggest (median, worst)",
                f"{statistics.median(suggest_times) * 1000:.2f} ms",
                f"{max(suggest_times) * 1000:.2f} ms",
            )
        )
        for prefix in ("とうご", "ピラ", "文学"):
            rows.append(
                (f"suggest {prefix}", " ".join(s.text for s in searcher.suggest(prefix, 5)), "")
            )
    for name, value, note in rows:
        print(f"{name:<32} {value!s:<24} {note}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
