"""`kensaku status` and `kensaku documents`: what an index holds, read from its manifest and its
files without changing them. Through the real CLI on real indexes."""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime

import pytest

from search.index.manifest import FORMAT_VERSION, Manifest
from search.text.analysis import analyzer_versions

from .conftest import SEEDS

SEED_NAMES = [
    "000_9ac1f42681134e70",
    "001_2eb2e19b899ffa84",
    "002_5cfbee36016c52e4",
    "003_b53a17d89b495407",
    "004_7af21bdf63ee1157",
]


@pytest.fixture
def folder(tmp_path):
    """A copy of the seeds with a binary file, an image and an ignored folder, indexed in ./ix."""
    docs = tmp_path / "docs"
    shutil.copytree(SEEDS, docs)
    (docs / "broken.txt").write_bytes(b"\x00binary")
    (docs / "picture.png").write_bytes(b"png")
    (docs / "node_modules").mkdir()
    (docs / "node_modules" / "a.txt").write_text("依存\n", encoding="utf-8")
    return docs


def test_status_tells_what_the_index_holds(kensaku, folder, tmp_path):
    built = kensaku("index", "--docs", "docs", "--index", "ix", "--exclude", "*.tmp")
    assert built.exit_code == 0, built.output
    result = kensaku("status", "--index", "ix")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("index      ix (")
    assert re.search(rf"\([\d.]+ [kM]B on disk, format {FORMAT_VERSION}\)$", lines[0])
    assert lines[1:5] == [
        f"documents  {folder}",
        "           5 documents, 233 paragraphs; 1 skipped (binary file), 1 ignored by the "
        "rules, 1 file in other formats (.png)",
        "words      cut by SudachiPy {sudachipy} with sudachidict-core {sudachidict-core}".format(
            **analyzer_versions()
        ),
        "rules      exclude *.tmp",
    ]
    today = datetime.now().strftime("%Y-%m-%d")
    assert lines[5].startswith(f"built      {today} ") and lines[5].endswith(" (just now)")
    assert lines[6].startswith(f"updated    {today} ")
    assert lines[7:] == ["state      up to date"]
    verbose = kensaku("status", "--index", "ix", "-v").stdout.splitlines()
    assert verbose[8:] == [
        "skipped broken.txt: it is a binary file (a NUL byte at offset 0)",
        "ignored node_modules/ (dependencies)",
        "not read picture.png (not a format kensaku reads)",
    ]


def test_status_says_what_changed_since_and_the_update_keeps_the_build_time(kensaku, folder):
    kensaku("index", "--docs", "docs", "--index", "ix")
    built = Manifest.load(folder.parent / "ix").built
    (folder / "new.txt").write_text("新しい\n文書です。\n", encoding="utf-8")
    (folder / "000_9ac1f42681134e70.txt").unlink()
    result = kensaku("status", "--index", "ix", "-v")
    assert (
        "state      1 added, 1 removed since: `kensaku index` (or the next search) updates it"
        in result.stdout
    )
    assert result.stdout.endswith("added new.txt\nremoved 000_9ac1f42681134e70.txt\n")
    kensaku("index", "--index", "ix")
    data = json.loads(kensaku("status", "--index", "ix", "--json").stdout)
    assert (data["documents"], data["up_to_date"], data["added"]) == (5, True, [])
    assert data["built"].startswith(built[:10]) and data["updated"] >= data["built"]
    assert Manifest.load(folder.parent / "ix").built == built  # an update is not a build


def test_status_as_json(kensaku, folder):
    kensaku("index", "--docs", "docs", "--index", "ix")
    data = json.loads(kensaku("status", "--json", "--index", "ix").stdout)
    assert list(data) == [
        "index",
        "docs",
        "format",
        "documents",
        "paragraphs",
        "skipped",
        "unread",
        "rules",
        "size",
        "built",
        "updated",
        "problem",
        "docs_found",
        "up_to_date",
        "added",
        "changed",
        "removed",
        "reread",
        "ignored",
        "other_formats",
        "unreadable_folders",
        "analyzer",
        "analyzer_change",
    ]
    assert (data["index"], data["docs"], data["format"]) == ("ix", str(folder), FORMAT_VERSION)
    assert (data["documents"], data["paragraphs"], data["problem"]) == (5, 233, None)
    assert data["skipped"] == {"broken.txt": "it is a binary file (a NUL byte at offset 0)"}
    assert (data["unread"], data["reread"]) == ({}, [])
    assert data["ignored"] == [["node_modules/", "dependencies"]]
    assert data["other_formats"] == ["picture.png"] and data["unreadable_folders"] == []
    assert data["size"] > 100_000


def test_status_of_a_damaged_index_says_how_to_repair_it_and_exits_1(kensaku, folder):
    kensaku("index", "--docs", "docs", "--index", "ix")
    live = folder.parent / "ix" / Manifest.load(folder.parent / "ix").generation
    biggest = max(live.iterdir(), key=lambda path: path.stat().st_size)
    biggest.write_bytes(biggest.read_bytes()[:100])
    result = kensaku("status", "--index", "ix")
    assert result.exit_code == 1
    assert (
        f"state      damaged ({live.name}/{biggest.name} holds 100 bytes of the " in result.stdout
    )
    assert result.stdout.rstrip().endswith("`kensaku index --rebuild --index ix` repairs it")


def test_status_and_documents_without_an_index(kensaku):
    for command in ("status", "documents"):
        result = kensaku(command, "--index", "nowhere")
        assert result.exit_code == 1
        assert result.stderr == (
            "Error: no index in nowhere yet; build one with "
            "`kensaku index --docs DIR --index nowhere`\n"
        )


def test_status_when_the_documents_folder_has_gone(kensaku, folder):
    kensaku("index", "--docs", "docs", "--index", "ix")
    shutil.rmtree(folder)
    result = kensaku("status", "--index", "ix")
    assert result.exit_code == 0
    assert result.stdout.endswith(
        "state      the documents folder is gone: searches use the index as it is\n"
    )


def test_documents_lists_what_the_index_holds(kensaku):
    listed = kensaku("documents")
    assert listed.exit_code == 0
    assert listed.stdout.splitlines() == [f"{SEEDS}/{name}.txt" for name in SEED_NAMES]
    long = kensaku("documents", "-l").stdout.splitlines()
    assert [line.split(" ¶")[0].strip() for line in long] == ["115", "28", "23", "22", "45"]
    assert long[0].endswith(f"  {SEEDS}/000_9ac1f42681134e70.txt  日本関連")
    assert long[1].endswith(f"  {SEEDS}/001_2eb2e19b899ffa84.txt")  # titled by its name only
    data = json.loads(kensaku("documents", "--json").stdout)
    assert [(d["source"], d["paragraphs"]) for d in data][:2] == [
        ("000_9ac1f42681134e70.txt", 115),
        ("001_2eb2e19b899ffa84.txt", 28),
    ]
    assert sum(d["paragraphs"] for d in data) == 233
    assert data[0]["path"] == f"{SEEDS}/000_9ac1f42681134e70.txt"
    assert data[0]["size"] == (SEEDS / "000_9ac1f42681134e70.txt").stat().st_size


def test_documents_leaves_out_the_skipped_and_counts_only_live_paragraphs(kensaku, folder):
    kensaku("index", "--docs", "docs", "--index", "ix")
    (folder / "000_9ac1f42681134e70.txt").write_text("題\n一行だけ。\n", encoding="utf-8")
    kensaku("index", "--index", "ix")  # an update: the old paragraphs are deleted, not gone
    data = json.loads(kensaku("documents", "--index", "ix", "--json").stdout)
    assert [(d["source"], d["paragraphs"]) for d in data] == [
        ("000_9ac1f42681134e70.txt", 2),
        ("001_2eb2e19b899ffa84.txt", 28),
        ("002_5cfbee36016c52e4.txt", 23),
        ("003_b53a17d89b495407.txt", 22),
        ("004_7af21bdf63ee1157.txt", 45),
    ]
