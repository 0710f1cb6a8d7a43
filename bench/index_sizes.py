"""What an index's bytes hold: each field's postings and terms, stored fields, columns, the rest.

    python bench/index_sizes.py INDEX_DIR [--text-bytes N]

Opens the live generation of a kensaku index and sums, over its segments, each indexed field's
posting lists (`.kps`, by the extents its terms point at) and its part of the terms dictionary
(`.ktm`), with its term count, postings (paragraph, term pairs) and positions (the weights'
total), and bits per posting and per position; then the files on disk by kind (stored fields,
length columns, other columns, vocabularies, the rest). With --text-bytes (default: the size of
the documents folder the manifest names), each line's share of the text as a ratio.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

from common import dir_size, format_table

from search.index.opening import open_live_index


def field_sizes(index_dir: Path) -> dict[str, Counter]:
    """Per field: postings bytes, terms bytes, terms, postings, positions (all segments)."""
    _, index = open_live_index(index_dir)
    sizes: dict[str, Counter] = {}
    with index.reader() as reader:
        for segment_reader, _ in reader.leaf_readers():
            terms = segment_reader._terms  # the codec's CompactTermsReader
            for name, field in terms._fields.items():
                found = sizes.setdefault(name, Counter())
                found["terms_bytes"] += field.offsets[-1] - field.offsets[0]
                for _, info in field.items_from(b""):
                    found["postings_bytes"] += info.extent()[1]
                    found["terms"] += 1
                    found["postings"] += info.doc_frequency()
                    found["positions"] += int(info.weight())
    return sizes


_KINDS = (
    ("stored fields (_stored.col)", re.compile(r"_stored\.col$")),
    ("length bytes (_<field>_len.col)", re.compile(r"_len\.col$")),
    ("other columns (.col)", re.compile(r"\.col$")),
    ("postings (.kps)", re.compile(r"\.kps$")),
    ("terms (.ktm)", re.compile(r"\.ktm$")),
    ("vocabulary (.vocab, vocabulary.tsv)", re.compile(r"(\.vocab|vocabulary\.tsv)$")),
)


def file_kinds(index_dir: Path) -> Counter:
    """Bytes on disk by kind of file (the whole index folder)."""
    kinds: Counter = Counter()
    for path in index_dir.rglob("*"):
        if path.is_file():
            kind = next((k for k, pattern in _KINDS if pattern.search(path.name)), "the rest")
            kinds[kind] += path.stat().st_size
    return kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index", type=Path)
    parser.add_argument("--text-bytes", type=int, default=None)
    args = parser.parse_args()
    manifest, _ = open_live_index(args.index)
    text = args.text_bytes or dir_size(Path(manifest.docs_dir))
    total = dir_size(args.index)
    print(f"index {total / 1e6:.1f} MB, text {text / 1e6:.1f} MB: {total / text:.2f}x\n")
    rows = []
    sizes = field_sizes(args.index)
    for name, found in sorted(sizes.items(), key=lambda kv: -kv[1]["postings_bytes"]):
        rows.append(
            [
                name,
                f"{found['postings_bytes'] / 1e6:.2f}",
                f"{found['terms_bytes'] / 1e6:.2f}",
                f"{(found['postings_bytes'] + found['terms_bytes']) / text:.3f}",
                f"{found['terms']:,}",
                f"{found['postings']:,}",
                f"{found['positions']:,}",
                f"{8 * found['postings_bytes'] / max(found['postings'], 1):.1f}",
                f"{8 * found['postings_bytes'] / max(found['positions'], 1):.1f}",
            ]
        )
    header = ["field", "postings MB", "terms MB", "x text", "terms", "postings", "positions"]
    print(format_table(header + ["bits/posting", "bits/position"], rows))
    print()
    kinds = file_kinds(args.index)
    print(
        format_table(
            ["files", "MB", "x text"],
            [[k, f"{v / 1e6:.2f}", f"{v / text:.3f}"] for k, v in kinds.most_common()],
        )
    )


if __name__ == "__main__":
    main()
