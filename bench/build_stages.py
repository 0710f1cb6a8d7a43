"""The build's stages, timed in one process on the first N MB of a corpus (CPU seconds).

    python bench/build_stages.py --mb 4 [--docs DIR] [--runs 3]

Builds an index with one worker (index.writer.write_index, procs=1) while probes count the CPU
time spent inside the functions each stage runs, and prints each stage's own time (a stage's
probes minus the probes nested in them), the median of `--runs` builds. The probes name
functions by their module and qualified name; a probe whose function this version of kensaku
lacks is left out, so that the same script times the code before and after a change of shape
(run it from each checkout in turn, alternating, on a shared machine).
"""

from __future__ import annotations

import argparse
import functools
import importlib
import inspect
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DOCS = Path("/work/shared/corpus/aozora/docs")

# (stage, "module:qualified.name" of each function whose time is the stage's), nested stages
# after the stages they run inside (their time is taken out of the outer stage's).
PROBES: list[tuple[str, list[str]]] = [
    (
        "gathering terms and positions per field",
        [
            "search.index.writer:SegmentBuilder.add_document",
            "search.index.writer:SegmentBuilder.add_paragraphs",
        ],
    ),
    (
        "the rest of analysis: Python per morpheme",
        ["search.text.analysis:analyze", "search.text.bulk:BulkAnalysis.add"],
    ),
    (
        "analysis expanded in bulk (numpy)",
        ["search.text.bulk:BulkAnalysis.expand"],
    ),
    ("Sudachi's tokenize alone", ["search.text.analysis:_Sudachi.tokenize"]),
    (
        "sorting",
        [
            "search.index.writer:_Tokens.sorted",
            "search.index.writer:_Grams.sorted",
            "search.index.writer:_Chars.sorted",
            "search.index.writer:_Analyzed.sorted",
        ],
    ),
    ("encoding and writing postings", ["search.index.codec.bulk:write_postings"]),
    ("reading documents", ["search.ingest.paragraphs:read_document"]),
]


class Probe:
    """CPU time spent inside some functions (not counting re-entry), and inside nested probes."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.seconds = 0.0
        self.depth = 0

    def enter(self) -> float:
        self.depth += 1
        return time.process_time() if self.depth == 1 else 0.0

    def leave(self, started: float) -> None:
        self.depth -= 1
        if self.depth == 0:
            self.seconds += time.process_time() - started


def _wrap(probe: Probe, function):
    if inspect.isgeneratorfunction(function):

        @functools.wraps(function)
        def generator(*args, **kwargs):
            iterator = function(*args, **kwargs)
            while True:
                started = probe.enter()
                try:
                    item = next(iterator)
                except StopIteration:
                    return
                finally:
                    probe.leave(started)
                yield item

        return generator

    @functools.wraps(function)
    def wrapped(*args, **kwargs):
        started = probe.enter()
        try:
            return function(*args, **kwargs)
        finally:
            probe.leave(started)

    return wrapped


def install(probes: list[tuple[str, list[str]]]) -> list[tuple[Probe, list[str]]]:
    """Wrap every function the probes name that exists; returns (probe, the names found)."""
    installed = []
    for stage, names in probes:
        probe = Probe(stage)
        found = []
        for name in names:
            module_name, qualname = name.split(":")
            try:
                owner = importlib.import_module(module_name)
            except ImportError:
                continue
            *path, attribute = qualname.split(".")
            for part in path:
                owner = getattr(owner, part, None)
            function = getattr(owner, attribute, None) if owner is not None else None
            if function is None:
                continue
            setattr(owner, attribute, _wrap(probe, function))
            if not path:  # a module-level function: also where it was imported by name
                for module in list(sys.modules.values()):
                    if module is not None and getattr(module, attribute, None) is function:
                        setattr(module, attribute, getattr(owner, attribute))
            found.append(name)
        installed.append((probe, found))
    return installed


def build_once(docs_dir: Path, mb: float) -> tuple[float, dict[str, float], int, int]:
    """One build: (whole CPU seconds, each probe's inclusive seconds, documents, paragraphs)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from segment_speed import first_documents

    from search.index import writer
    from search.ingest import paragraphs

    documents, _ = first_documents(docs_dir, mb)
    work = Path(tempfile.mkdtemp(prefix="build-stages-"))
    try:
        started = time.process_time()
        summary = writer.write_index(
            work / "ix",
            documents,
            lambda document: paragraphs.read_document(document),
            procs=1,
        )
        whole = time.process_time() - started
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return whole, {}, summary.documents, summary.paragraphs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=4.0)
    parser.add_argument("--docs", type=Path, default=DEFAULT_DOCS)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    installed = install(PROBES)
    import search

    print(f"kensaku from {Path(search.__file__).parent}", file=sys.stderr)
    runs: list[dict[str, float]] = []
    for run in range(args.runs):
        for probe, _ in installed:
            probe.seconds = 0.0
        whole, _, documents, paragraphs = build_once(args.docs, args.mb)
        inclusive = {probe.name: probe.seconds for probe, found in installed if found}
        runs.append({"whole": whole, **inclusive})
        print(f"run {run + 1}: {whole:.2f} s CPU", file=sys.stderr)
    median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    whole = median.pop("whole")
    own = _exclusive(median, [probe.name for probe, found in installed if found])
    print(
        f"{args.mb:g} MB, {documents} documents, {paragraphs} paragraphs, one process, "
        f"median of {args.runs} runs (CPU seconds)"
    )
    print("| stage | s | share |\n|---|---|---|")
    for name, seconds in own.items():
        print(f"| {name} | {seconds:.2f} | {seconds / whole:.0%} |")
    rest = whole - sum(own.values())
    print(f"| the rest (paragraph fields, stored fields, columns) | {rest:.2f} | {rest / whole:.0%} |")
    print(f"| **whole build, one worker** | **{whole:.2f}** ({args.mb / whole:.2f} MB/s) | |")


def _exclusive(inclusive: dict[str, float], order: list[str]) -> dict[str, float]:
    """Each stage's own time: nested stages (later in PROBES, inside an earlier one) taken out
    of the stage they run in. Gathering holds analysis, which holds tokenize; the rest stand
    alone."""
    own = dict(inclusive)
    nesting = {
        "the rest of analysis: Python per morpheme": "gathering terms and positions per field",
        "Sudachi's tokenize alone": "the rest of analysis: Python per morpheme",
        "sorting": "encoding and writing postings",
    }
    for inner, outer in nesting.items():
        if inner in own and outer in own:
            own[outer] -= inclusive[inner]
    return {name: own[name] for name in order if name in own}


if __name__ == "__main__":
    main()
