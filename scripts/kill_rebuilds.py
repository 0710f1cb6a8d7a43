#!/usr/bin/env python3
"""Kill `kensaku index --rebuild` with SIGKILL at random moments; the index must survive each kill.

    python scripts/kill_rebuilds.py [--kills 20] [--seed N] [--docs seeds] [--update]

With --update it kills incremental updates instead (`kensaku index`, one document of a private
copy of the documents given a line break more or less at its end before each, so that every
update has work to do: a file touched with the same bytes is not indexed again).

Builds an index of the documents in a temporary directory and records the results of a few
queries. Then, for each kill, it starts a rebuild in a subprocess (the real CLI), kills it after a
random delay within the time a whole rebuild takes, and searches again: the results must be the
same, with no error. Last, one rebuild runs to the end and must leave no left-overs of the killed
ones. Prints what it did; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import search
from search.index.directory import GENERATION_PREFIX, MANIFEST_NAME
from search.index.manifest import Manifest

REPO = Path(__file__).resolve().parents[1]
QUERIES = ("ピラー2", "日米", "統合作戦司令部", "防衛 OR 韓国", "source:00*")


def fingerprint(index_dir: Path) -> list:
    """What the queries find: total and cited hits of each, comparable across generations.

    After an update, re-indexed paragraphs stand in a new segment and the old ones are only
    marked deleted, which moves BM25's statistics a little: the order of hits with nearly equal
    scores may change, so an update is compared on what it finds, not on the order."""
    with search.Searcher(index_dir) as searcher:
        found = []
        for query in QUERIES:
            results = searcher.search(query, limit=500)
            cited = [(h.source, h.line) for h in results.hits]
            if UPDATE:  # which of a repeated paragraph's places leads may change too
                cited = sorted(cited + [(p.source, p.line) for h in results.hits for p in h.also])
            found.append([query, results.total, cited if UPDATE else cited[:20]])
        return found


UPDATE = False  # --update: kill incremental updates rather than rebuilds


def rebuild_command(docs_dir: Path, index_dir: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "search",
        "index",
        *([] if UPDATE else ["--rebuild"]),
        "--docs",
        str(docs_dir),
        "--index",
        str(index_dir),
    ]


def change_a_document(docs_dir: Path) -> None:
    """Give one document other bytes with the same paragraphs (a line break more or less at its
    end) and a new modification time, so that an update re-indexes it and finds the same."""
    document = random.choice(sorted(docs_dir.glob("*.txt")))
    data = document.read_bytes()
    document.write_bytes(data[:-1] if data.endswith(b"\n") else data + b"\n")
    stamp = time.time_ns()
    os.utime(document, ns=(stamp, stamp))


class RebuildFailed(Exception):
    """A rebuild that should have succeeded exited otherwise (its exit code and what it said)."""


def timed_rebuild(docs_dir: Path, index_dir: Path) -> float:
    """Run one whole rebuild (or update); its wall-clock seconds."""
    if UPDATE:
        change_a_document(docs_dir)
    started = time.perf_counter()
    done = subprocess.run(rebuild_command(docs_dir, index_dir), capture_output=True, text=True)
    if done.returncode != 0:
        said = " / ".join(done.stderr.strip().splitlines()[-3:])
        raise RebuildFailed(f"exit {done.returncode}: {said}")
    return time.perf_counter() - started


def kill_once(docs_dir: Path, index_dir: Path, delay: float | None) -> str:
    """Start a rebuild, SIGKILL it after `delay` seconds (None: the moment the manifest
    switches, to land between the switch and the clean-up); how it ended."""
    before = Manifest.load(index_dir).generation
    if UPDATE:
        change_a_document(docs_dir)
    process = subprocess.Popen(
        rebuild_command(docs_dir, index_dir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    if delay is None:
        while process.poll() is None and Manifest.load(index_dir).generation == before:
            time.sleep(0.001)
    else:
        time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    code = process.wait()
    swapped = Manifest.load(index_dir).generation != before
    ended = "finished before the kill" if code == 0 else "killed"
    return f"{ended}, manifest {'switched' if swapped else 'unchanged'}"


def leftovers(index_dir: Path) -> list[str]:
    """Names in the index directory that a clean index does not hold."""
    live = Manifest.load(index_dir).generation
    generations = sorted(
        p.name for p in index_dir.iterdir() if p.name.startswith(GENERATION_PREFIX)
    )
    extra = [n for n in generations if n != live][1:]  # the previous generation may stay
    temporary = [p.name for p in index_dir.iterdir() if p.name.startswith(f".{MANIFEST_NAME}")]
    return extra + temporary


def run(kills: int, seed: int, docs_dir: Path, work: Path, say=print) -> list[str]:
    """Do the kills in `work`; the failures, as messages (empty when all went well)."""
    index_dir = work / "index"
    if UPDATE:  # documents are only ever read: change a private copy
        docs_dir = Path(shutil.copytree(docs_dir, work / "docs"))
    search.build_index(docs_dir, index_dir)
    expected = fingerprint(index_dir)
    whole = max(timed_rebuild(docs_dir, index_dir) for _ in range(2))
    say(f"a whole rebuild takes {whole:.2f} s; killing {kills} rebuilds at random moments in it")
    failures = _kill_all(kills, random.Random(seed), whole, docs_dir, index_dir, expected, say)
    try:
        timed_rebuild(docs_dir, index_dir)
    except RebuildFailed as failed:
        say(f"the final rebuild failed: {failed}")
        return [*failures, f"final rebuild: {failed}"]
    left = leftovers(index_dir)
    problem = _check(index_dir, expected)
    say(f"a final rebuild: search {problem or 'same results'}; left-overs {left or 'none'}")
    failures += [f"final rebuild: {problem}"] if problem else []
    failures += [f"left-overs after the final rebuild: {left}"] if left else []
    return failures


def _kill_all(
    kills: int,
    rng: random.Random,
    whole: float,
    docs_dir: Path,
    index_dir: Path,
    expected: list,
    say,
) -> list[str]:
    failures, switched = [], 0
    for number in range(1, kills + 1):
        # Every fifth kill, and the last, waits for the manifest switch; the others come at
        # random moments (rebuilds vary in length, so the range covers their ends too).
        at_switch = number % 5 == 0 or number == kills
        delay = None if at_switch else rng.uniform(0.0, whole * 1.4)
        moment = "the switch" if at_switch else f"{delay:5.2f} s"
        outcome = kill_once(docs_dir, index_dir, delay)
        switched += "switched" in outcome
        problem = _check(index_dir, expected)
        say(f"kill {number:2d} at {moment}: {outcome}; search {problem or 'same results'}")
        if problem:
            failures.append(f"kill {number} at {moment}: {problem}")
    partial = [
        p.name
        for p in index_dir.iterdir()
        if p.name.startswith((GENERATION_PREFIX, f".{MANIFEST_NAME}"))
    ]
    say(
        f"{switched} of {kills} rebuilds had switched the manifest when they ended; the index "
        f"directory holds {len(partial)} generations and temporary files"
    )
    return failures


def _check(index_dir: Path, expected: list) -> str | None:
    """None when searching gives the expected results; else what went wrong."""
    try:
        found = fingerprint(index_dir)
    except Exception as error:  # any error at all is the failure being looked for
        return f"failed: {type(error).__name__}: {error}"
    return (
        None
        if found == expected
        else "gave different results: " + json.dumps(found, ensure_ascii=False)[:300]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--docs", type=Path, default=REPO / "seeds")
    parser.add_argument("--update", action="store_true", help="kill incremental updates")
    options = parser.parse_args()
    global UPDATE
    UPDATE = options.update
    print(f"seed {options.seed}")
    with tempfile.TemporaryDirectory(prefix="kensaku-kills-") as work:
        failures = run(options.kills, options.seed, options.docs.resolve(), Path(work))
    for failure in failures:
        print(f"FAILURE: {failure}")
    print(f"{options.kills} kills, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
