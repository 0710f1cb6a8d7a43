"""Index building speed: Whoosh's own writer against search.segment, on the first N MB of a corpus.

    python bench/segment_speed.py --mb 5 [--docs DIR] [--procs 2] [--only segment|stock]

Each build runs in a child process of its own; it prints MB/s (wall clock), the peak RSS of the
building process (VmHWM) and of its largest worker (RUSAGE_CHILDREN), and the index size as a
multiple of the text size.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DOCS = Path("/work/shared/corpus/aozora/docs")


def _whoosh_build(out: Path, documents):
    """Whoosh's own writer: one add_document per paragraph, one commit."""
    from whoosh.index import create_in

    from search.index.schema import paragraph_fields, schema
    from search.ingest.paragraphs import read_paragraphs
    from search.ingest.reporting import IndexSummary

    out.mkdir(parents=True, exist_ok=True)
    writer = create_in(str(out), schema()).writer(limitmb=256)
    summary = IndexSummary()
    for document in documents:
        for paragraph in read_paragraphs(document):
            writer.add_document(**paragraph_fields(paragraph))
            summary.paragraphs += 1
        summary.documents += 1
    writer.commit()
    return summary


def first_documents(docs_dir: Path, mb: float):
    from search.ingest.discovery import scan

    chosen, size = [], 0
    for document in scan(docs_dir).documents:
        if size >= mb * 1e6:
            break
        chosen.append(document)
        size += document.size
    return chosen, size


def vmhwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def build(kind: str, docs_dir: Path, mb: float, procs: int, out: Path, segment_mb: float) -> dict:
    from search.index import writer

    documents, size = first_documents(docs_dir, mb)
    started = time.perf_counter()
    if kind == "stock":
        summary = _whoosh_build(out, documents)
    else:
        from search.index.build import SEGMENTS_COMPOUND  # as search.index builds
        from search.ingest.paragraphs import read_document

        summary = writer.write_index(
            out,
            documents,
            read_document,
            procs=procs,
            segment_mb=segment_mb,
            compound=SEGMENTS_COMPOUND,
        )
    seconds = time.perf_counter() - started
    index_bytes = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    from whoosh.index import open_dir

    return {
        "kind": kind,
        "documents": summary.documents,
        "paragraphs": summary.paragraphs,
        "text_mb": size / 1e6,
        "seconds": seconds,
        "mb_per_s": size / 1e6 / seconds,
        "peak_rss_mb": vmhwm_mb(),
        "worker_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "index_mb": index_bytes / 1e6,
        "size_ratio": index_bytes / size,
        "segments": len(open_dir(str(out))._segments()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=5.0)
    parser.add_argument("--docs", type=Path, default=DEFAULT_DOCS)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--segment-mb", type=float, default=16.0)
    parser.add_argument("--only", choices=["segment", "stock"])
    parser.add_argument("--child", choices=["segment", "stock"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.child:
        print(
            json.dumps(build(args.child, args.docs, args.mb, args.procs, args.out, args.segment_mb))
        )
        return
    kinds = [args.only] if args.only else ["segment", "stock"]
    for kind in kinds:  # one build at a time: the machine is shared
        work = Path(tempfile.mkdtemp(prefix=f"segment-speed-{kind}-"))
        try:
            output = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    kind,
                    "--out",
                    str(work / "ix"),
                    "--mb",
                    str(args.mb),
                    "--docs",
                    str(args.docs),
                    "--procs",
                    str(args.procs),
                    "--segment-mb",
                    str(args.segment_mb),
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        finally:
            shutil.rmtree(work, ignore_errors=True)
        r = json.loads(output.splitlines()[-1])
        print(
            f"{r['kind']:8} {r['text_mb']:.1f} MB, {r['paragraphs']} paragraphs: "
            f"{r['seconds']:.1f} s = {r['mb_per_s']:.2f} MB/s; peak RSS {r['peak_rss_mb']:.0f} MB"
            f" (largest worker {r['worker_peak_rss_mb']:.0f} MB); index {r['index_mb']:.1f} MB"
            f" = {r['size_ratio']:.2f}x the text, {r['segments']} segments",
            flush=True,
        )


if __name__ == "__main__":
    main()
