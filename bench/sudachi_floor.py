"""The floor of a build in Python: Sudachi's tokenizer and the smallest loop over its morphemes,
on the first N MB of a corpus, in one process and in P at once.

    python bench/sudachi_floor.py [--mb 4] [--docs DIR] [--procs 1,2] [--runs 3]

Each paragraph (every non-blank line of every file, in the pieces the build cuts it into) is
tokenized as the build tokenizes it (search.text.analysis.tokenized: split mode C), and the loop
takes each morpheme's word id into an array, the least the build's own loop does
(search.text.bulk). With P processes the files are dealt out among them (each builds its own
tokenizer before the clock starts). MB/s is the text's bytes over wall seconds, the median of
`--runs`.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time
from array import array
from pathlib import Path

DEFAULT_DOCS = Path("/work/shared/corpus/aozora/docs")


def first_files(docs: Path, mb: float) -> tuple[list[Path], int]:
    """The first files (by name) that add up to `mb` MB, and their bytes."""
    chosen, size = [], 0
    for path in sorted(docs.rglob("*.txt")):
        if size >= mb * 1e6:
            break
        chosen.append(path)
        size += path.stat().st_size
    return chosen, size


def word_ids(paths: list[Path]) -> int:
    """Tokenize every paragraph of `paths` and take each morpheme's word id: the morphemes."""
    from search.text.analysis import tokenized

    ids = array("Q")
    append = ids.append
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                for _, morphemes in tokenized(line):
                    for morpheme in morphemes:
                        append(morpheme.word_id())
    return len(ids)


def _ready(_: int) -> None:
    """A worker's warm-up: its tokenizer made before the clock starts."""
    from search.text.analysis import tokenized

    tokenized("準備")


def timed(paths: list[Path], procs: int) -> float:
    """Wall seconds to take the word ids of `paths` in `procs` processes."""
    if procs == 1:
        _ready(0)
        started = time.perf_counter()
        word_ids(paths)
        return time.perf_counter() - started
    shares = [paths[i::procs] for i in range(procs)]
    with multiprocessing.get_context("fork").Pool(procs) as pool:
        pool.map(_ready, range(procs), chunksize=1)
        started = time.perf_counter()
        pool.map(word_ids, shares, chunksize=1)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=4)
    parser.add_argument("--docs", type=Path, default=DEFAULT_DOCS)
    parser.add_argument("--procs", default="1,2")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    paths, size = first_files(args.docs, args.mb)
    print(f"{len(paths)} files, {size / 1e6:.1f} MB")
    for procs in (int(p) for p in args.procs.split(",")):
        seconds = statistics.median(timed(paths, procs) for _ in range(args.runs))
        print(f"{procs} process(es): {seconds:.2f} s, {size / 1e6 / seconds:.2f} MB/s")


if __name__ == "__main__":
    main()
