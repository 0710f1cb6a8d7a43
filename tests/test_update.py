"""Incremental update: only what changed is indexed again, and the summary says what changed.

A file with a new modification time but the same bytes is not indexed again (only its new time
recorded), and a segment whose every paragraph was replaced or removed leaves the index."""

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

from click.testing import CliRunner

import search
from search.cli.main import main
from search.index.manifest import FORMAT_VERSION, Manifest

from .conftest import SEEDS, cited


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_an_unchanged_collection_is_up_to_date(docs_copy, tmp_path):
    index = str(tmp_path / "ix")
    assert run("index", "--docs", str(docs_copy), "--index", index).stdout.startswith(
        "indexed 5 documents, 233 paragraphs in "
    )
    again = run("index", "--docs", str(docs_copy), "--index", index)
    assert again.stdout == "the index is up to date: 5 documents, 233 paragraphs in all\n"


def test_only_changed_files_are_indexed_and_the_summary_names_them(docs_copy, tmp_path):
    index = tmp_path / "ix"
    search.build_index(docs_copy, index)
    (docs_copy / "new.txt").write_text("新しい文書\nピラー3という構想。\n", encoding="utf-8")
    with open(docs_copy / "004_7af21bdf63ee1157.txt", "a", encoding="utf-8") as changed:
        changed.write("\n追記された段落。\n")
    (docs_copy / "003_b53a17d89b495407.txt").unlink()
    result = run("index", "--docs", str(docs_copy), "--index", str(index))
    assert result.exit_code == 0
    assert result.stdout.startswith("updated the index in ")
    assert (
        "added new.txt; changed 004_7af21bdf63ee1157.txt; removed 003_b53a17d89b495407.txt "
        "(48 paragraphs indexed); 5 documents, 214 paragraphs in all"
    ) in result.stdout
    assert cited(search.search("ピラー3", index)) == {("new.txt", 2)}
    assert cited(search.search("追記", index)) == {("004_7af21bdf63ee1157.txt", 90)}
    assert not any(
        h.source.startswith("003_") for h in search.search("日本", index, limit=300).hits
    )
    assert search.search("統合作戦司令部", index).total == 3  # 004 re-indexed, not doubled


def test_the_updated_index_equals_a_rebuilt_one(docs_copy, tmp_path):
    search.build_index(docs_copy, tmp_path / "updated")
    (docs_copy / "001_2eb2e19b899ffa84.txt").write_text(
        "差し替え\n日米の新しい協力。\n", encoding="utf-8"
    )
    search.update_index(docs_copy, tmp_path / "updated")
    search.build_index(docs_copy, tmp_path / "rebuilt")
    for query in ("日米", "ピラー2", "協力", "日本で梅雨がないのは北海道とどこか。"):
        updated = search.search(query, tmp_path / "updated", limit=500)
        rebuilt = search.search(query, tmp_path / "rebuilt", limit=500)
        assert updated.total == rebuilt.total, query
        assert cited(updated) == cited(rebuilt), query


def test_a_searcher_on_the_old_generation_keeps_its_results_during_an_update(docs_copy, tmp_path):
    index = tmp_path / "ix"
    search.build_index(docs_copy, index)
    with search.Searcher(index) as old:
        before = cited(old.search("ピラー2", limit=50))
        shutil.copy(SEEDS / "001_2eb2e19b899ffa84.txt", docs_copy / "copy.txt")
        search.update_index(docs_copy, index)
        assert cited(old.search("ピラー2", limit=50)) == before
    assert cited(search.search("ピラー2", index, limit=50)) > before


def test_rebuild_indexes_everything_again(docs_copy, tmp_path):
    index = str(tmp_path / "ix")
    run("index", "--docs", str(docs_copy), "--index", index)
    result = run("index", "--docs", str(docs_copy), "--index", index, "--rebuild")
    assert result.stdout.startswith("indexed 5 documents, 233 paragraphs in ")


def index_of_another_version(docs: Path, index: Path) -> Path:
    """An index of `docs` in `index` whose manifest says an earlier kensaku built it; returns
    the manifest's path."""
    search.build_index(docs, index)
    manifest_path = index / "kensaku.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["format"] = FORMAT_VERSION - 1
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    return manifest_path


def test_an_index_built_by_another_version_is_rebuilt_before_a_search(docs_copy, tmp_path):
    index = tmp_path / "ix"
    manifest_path = index_of_another_version(docs_copy, index)
    result = CliRunner().invoke(main, ["search", "統合作戦司令部", "--index", str(index)])
    assert result.exit_code == 0
    assert (
        f"the index in {index} was built by another version of kensaku: rebuilding it from "
        f"{docs_copy.resolve()}"
    ) in result.stderr
    assert "004_7af21bdf63ee1157.txt:23" in result.stdout
    assert json.loads(manifest_path.read_text(encoding="utf-8"))["format"] == FORMAT_VERSION


def test_kensaku_index_rebuilds_an_index_of_another_version_from_the_folder_it_was_built_from(
    docs_copy, tmp_path, monkeypatch
):
    """Without --docs, the folder the manifest names, not the default ./seeds."""
    index = tmp_path / "ix"
    manifest_path = index_of_another_version(docs_copy, index)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "seeds").mkdir(parents=True)
    (elsewhere / "seeds" / "other.txt").write_text("別の文書。\n", encoding="utf-8")
    monkeypatch.chdir(elsewhere)
    result = CliRunner().invoke(main, ["index", "--index", str(index)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("indexed 5 documents, 233 paragraphs in ")
    rebuilt = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert (rebuilt["format"], rebuilt["docs_dir"]) == (FORMAT_VERSION, str(docs_copy.resolve()))


# Segments and stamps ---------------------------------------------------------------------------


def segment_ids(index_dir) -> set[str]:
    """The segments the live generation's table of contents names."""
    from whoosh.index import TOC

    from search.index.opening import open_index

    ix = open_index(index_dir)
    return {segment.segment_id() for segment in TOC.read(ix.storage, ix.indexname).segments}


def segment_files(index_dir) -> set[str]:
    """The segments whose files lie in the live generation's directory (MAIN_<id>.<part>)."""
    generation = index_dir / Manifest.load(index_dir).generation
    return {
        path.name.split(".")[0]
        for path in generation.iterdir()
        if path.name.startswith("MAIN_") and "." in path.name
    }


def generation_of(index_dir) -> str:
    return Manifest.load(index_dir).generation


def test_an_update_that_replaces_every_document_keeps_only_the_new_segments(docs_copy, tmp_path):
    index = tmp_path / "ix"
    search.build_index(docs_copy, index)
    before = segment_ids(index)
    for path in docs_copy.glob("*.txt"):
        path.write_text(f"差し替えた文書\n{path.stem}の新しい本文。\n", encoding="utf-8")
    search.update_index(docs_copy, index)
    search.build_index(docs_copy, tmp_path / "rebuilt")
    after = segment_ids(index)
    assert not after & before
    assert len(after) == len(segment_ids(tmp_path / "rebuilt"))
    assert segment_files(index) == after  # the dropped segments' files are gone too
    assert search.search("差し替えた文書", index).total == 5
    assert search.search("ピラー2", index).total == 0


def test_an_update_drops_a_segment_once_its_every_document_is_replaced(docs_copy, tmp_path):
    index = tmp_path / "ix"
    search.build_index(docs_copy, index)
    built = segment_ids(index)
    changed = docs_copy / "004_7af21bdf63ee1157.txt"
    changed.write_text("一度目の差し替えは梅干しの話\n", encoding="utf-8")
    search.update_index(docs_copy, index)
    first = segment_ids(index)
    assert built < first and len(first) == len(built) + 1  # the others still hold live documents
    changed.write_text("二度目の差し替えは味噌汁の話\n", encoding="utf-8")
    search.update_index(docs_copy, index)
    second = segment_ids(index)
    assert built < second and len(second) == len(built) + 1
    assert not (first - built) & second  # the first update's segment held only 004's old text
    assert segment_files(index) == second
    assert (search.search("梅干し", index).total, search.search("味噌汁", index).total) == (0, 1)


def test_a_search_after_every_document_is_touched_indexes_nothing_and_says_nothing(
    docs_copy, tmp_path
):
    index = tmp_path / "ix"
    search.build_index(docs_copy, index)
    before = Manifest.load(index)
    for path in docs_copy.glob("*.txt"):
        os.utime(path, ns=(time.time_ns(),) * 2)
    result = CliRunner().invoke(
        main, ["search", "--docs", str(docs_copy), "--index", str(index), "統合作戦司令部"]
    )
    assert result.exit_code == 0
    assert result.stderr == ""
    assert "004_7af21bdf63ee1157.txt:23" in result.stdout
    after = Manifest.load(index)
    assert after.generation == before.generation
    assert after.updated == before.updated
    assert after.digests == before.digests
    assert after.files == {
        path.name: [path.stat().st_size, path.stat().st_mtime_ns]
        for path in docs_copy.glob("*.txt")
    }
    assert after.files != before.files


def test_a_folder_copied_anew_in_place_is_up_to_date(docs_copy, tmp_path):
    index = str(tmp_path / "ix")
    run("index", "--docs", str(docs_copy), "--index", index)
    generation = generation_of(tmp_path / "ix")
    shutil.rmtree(docs_copy)
    shutil.copytree(SEEDS, docs_copy, copy_function=shutil.copy)  # as `cp -r`: new times
    manifest = (tmp_path / "ix" / "kensaku.json").read_bytes()
    assert "state      up to date" in run("status", "--index", index).stdout
    assert (tmp_path / "ix" / "kensaku.json").read_bytes() == manifest  # status only reads
    result = run("index", "--docs", str(docs_copy), "--index", index)
    assert result.stdout == "the index is up to date: 5 documents, 233 paragraphs in all\n"
    assert generation_of(tmp_path / "ix") == generation
    assert (tmp_path / "ix" / "kensaku.json").read_bytes() != manifest  # the new times


def test_a_changed_byte_of_the_same_size_with_a_new_time_is_indexed_again(docs_copy, tmp_path):
    index = tmp_path / "ix"
    search.build_index(docs_copy, index)
    path = docs_copy / "004_7af21bdf63ee1157.txt"
    data = path.read_bytes()
    changed = data.replace("統合作戦司令部".encode(), "統合作戦指令部".encode(), 1)
    assert len(changed) == len(data) and changed != data
    path.write_bytes(changed)
    os.utime(path, ns=(time.time_ns() + 10**9,) * 2)
    result = run("index", "--docs", str(docs_copy), "--index", str(index))
    assert "changed 004_7af21bdf63ee1157.txt (" in result.stdout
    assert search.search("統合作戦指令部", index).total == 1
    assert search.search("統合作戦司令部", index).total == 2


def test_a_manifest_without_digests_counts_a_touched_file_as_changed_then_records_them(
    docs_copy, tmp_path
):
    index = tmp_path / "ix"
    search.build_index(docs_copy, index)
    manifest = json.loads((index / "kensaku.json").read_text(encoding="utf-8"))
    del manifest["digests"]  # as an earlier kensaku wrote it
    (index / "kensaku.json").write_text(json.dumps(manifest), encoding="utf-8")
    touched = docs_copy / "001_2eb2e19b899ffa84.txt"
    os.utime(touched, ns=(time.time_ns(),) * 2)
    result = run("index", "--docs", str(docs_copy), "--index", str(index))
    assert "changed 001_2eb2e19b899ffa84.txt (" in result.stdout
    assert set(Manifest.load(index).digests) == {"001_2eb2e19b899ffa84.txt"}
    assert search.search("統合作戦司令部", index).total == 3


def test_the_manifest_records_the_digest_of_every_document_read(docs_copy, tmp_path):
    index = tmp_path / "ix"
    (docs_copy / "broken.txt").write_bytes(b"\x00binary")
    search.build_index(docs_copy, index)
    digests = Manifest.load(index).digests
    assert digests == {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in docs_copy.glob("*.txt")
    }
    os.utime(docs_copy / "broken.txt", ns=(time.time_ns(),) * 2)
    again = run("index", "--docs", str(docs_copy), "--index", str(index))
    assert again.stdout == (
        "the index is up to date: 5 documents, 233 paragraphs in all; 1 skipped (binary file)\n"
    )


def test_a_document_of_marks_alone_is_added_by_an_update(docs_copy, tmp_path):
    """A file whose paragraphs hold no word (◆◆, ※, ――) is a segment with no vocabulary."""
    index = tmp_path / "ix"
    search.build_index(docs_copy, index)
    before = cited(search.search("ピラー2", index))
    (docs_copy / "marks.txt").write_text("◆◆\n\n※※※\n\n――――\n", encoding="utf-8")
    result = run("index", "--docs", str(docs_copy), "--index", str(index))
    assert result.exit_code == 0
    assert "added marks.txt (3 paragraphs indexed); 6 documents, 236 paragraphs in all" in (
        result.stdout
    )
    assert cited(search.search("ピラー2", index)) == before
