"""Indexing throughput per document format: what reading PDF, HTML, Word, Markdown and EPUB costs
beside plain text.

    python bench/formats.py [--shared DIR] [--aozora-mb 10] [--json FILE]

For each format it times two things on the files of ../shared/formats (and plain text on the
first N MB of ../shared/corpus/aozora): extraction alone (the format's reader, one process), and
a whole `kensaku index` of a folder holding just those files (two worker processes, as a user
builds). Throughput is in MB of extracted text (UTF-8) per second, so that formats compare on
what they yield rather than on their file sizes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from common import (
    DEFAULT_SHARED,
    REPO_ROOT,
    environment,
    format_table,
    log,
    require_dirs,
    write_json,
)

sys.path.insert(0, str(REPO_ROOT))

GROUPS = {
    "pdf": (".pdf",),
    "html": (".html", ".htm", ".xhtml"),
    "docx": (".docx",),
    "markdown": (".md",),
    "epub": (".epub",),
}


def files_of(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    return sorted(
        path
        for path in folder.iterdir()
        if path.suffix.lower() in suffixes and path.name not in ("NOTICE.md", "EXTRACTION.md")
    )


def first_megabytes(folder: Path, megabytes: float) -> list[Path]:
    chosen, size = [], 0
    for path in sorted(folder.rglob("*.txt")):
        if size >= megabytes * 1e6:
            break
        chosen.append(path)
        size += path.stat().st_size
    return chosen


def extraction(files: list[Path]) -> tuple[float, int, int]:
    """(seconds, UTF-8 bytes of text, paragraphs) of reading `files` with their readers."""
    from search.ingest.discovery import DocumentFile
    from search.ingest.paragraphs import read_document

    started = time.perf_counter()
    text_bytes = paragraphs = 0
    for path in files:
        document = DocumentFile(path, path.name, path.stat().st_size, 0)
        for paragraph in read_document(document).paragraphs:
            text_bytes += len(paragraph.text.encode("utf-8"))
            paragraphs += 1
    return time.perf_counter() - started, text_bytes, paragraphs


def whole_build(files: list[Path]) -> float:
    """Seconds of `search.build_index` over a folder holding (links to) `files`."""
    import search

    with tempfile.TemporaryDirectory() as scratch:
        docs = Path(scratch, "docs")
        docs.mkdir()
        for path in files:
            (docs / path.name).symlink_to(path.resolve())
        started = time.perf_counter()
        search.build_index(docs, Path(scratch, "index"))
        return time.perf_counter() - started


def measure(name: str, files: list[Path]) -> dict:
    log(f"{name}: {len(files)} files")
    seconds, text_bytes, paragraphs = extraction(files)
    build = whole_build(files)
    megabytes = text_bytes / 1e6
    return {
        "format": name,
        "files": len(files),
        "file_mb": round(sum(path.stat().st_size for path in files) / 1e6, 2),
        "text_mb": round(megabytes, 2),
        "paragraphs": paragraphs,
        "extract_s": round(seconds, 2),
        "extract_mb_s": round(megabytes / seconds, 2),
        "build_s": round(build, 2),
        "build_mb_s": round(megabytes / build, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--aozora-mb", type=float, default=10.0)
    parser.add_argument("--json", type=Path, default=None)
    options = parser.parse_args()
    formats, aozora = require_dirs(options.shared, ["formats", "corpus/aozora/docs"])
    rows = [measure(name, files_of(formats, suffixes)) for name, suffixes in GROUPS.items()]
    rows.append(
        measure(
            f"text (aozora {options.aozora_mb:g} MB)", first_megabytes(aozora, options.aozora_mb)
        )
    )
    headers = list(rows[0])
    print(format_table(headers, [[row[key] for key in headers] for row in rows]))
    write_json(options.json, {"environment": environment(), "formats": rows})


if __name__ == "__main__":
    main()
