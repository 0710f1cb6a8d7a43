"""The versions of SudachiPy and its dictionary that cut an index's text into words: recorded in
its manifest, shown by `kensaku status`, and an index cut by others (or by a kensaku that recorded
none) built anew by the next search or `kensaku index`, saying why: queries are cut by the
versions installed, and a word a newer dictionary cuts otherwise would not be found."""

from __future__ import annotations

import json
import re
import shutil
from importlib.metadata import version

import pytest
from click.testing import CliRunner

from search.cli.main import main
from search.index.directory import MANIFEST_NAME
from search.text.analysis import analyzer_versions

from .conftest import SEEDS

OLD = {"sudachipy": "0.6.8", "sudachidict-core": "20230927"}


@pytest.fixture
def built(tmp_path, monkeypatch):
    """./ix built from a copy of the seeds in ./docs, the working directory `tmp_path`."""
    shutil.copytree(SEEDS, tmp_path / "docs")
    monkeypatch.chdir(tmp_path)
    for name in ("KENSAKU_DOCS", "KENSAKU_INDEX", "KENSAKU_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    assert kensaku("index", "--docs", "docs", "--index", "ix").exit_code == 0
    return tmp_path / "ix"


def kensaku(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def recorded(index_dir) -> dict:
    return json.loads((index_dir / MANIFEST_NAME).read_text(encoding="utf-8")).get("analyzer")


def cut_by(index_dir, analyzer: dict | None) -> None:
    """The manifest as a kensaku with other versions (or, None, one that recorded none) wrote it."""
    path = index_dir / MANIFEST_NAME
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if analyzer is None:
        del manifest["analyzer"]
    else:
        manifest["analyzer"] = analyzer
    path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


def test_the_installed_versions_are_recorded_and_shown(built):
    installed = {
        "sudachipy": version("sudachipy"),
        "sudachidict-core": version("sudachidict-core"),
    }
    assert analyzer_versions() == installed and recorded(built) == installed
    status = kensaku("status", "--index", "ix")
    words = (
        f"SudachiPy {installed['sudachipy']} with sudachidict-core {installed['sudachidict-core']}"
    )
    assert f"\nwords      cut by {words}\n" in status.stdout
    assert status.stdout.endswith("state      up to date\n")
    data = json.loads(kensaku("status", "--index", "ix", "--json").stdout)
    assert (data["analyzer"], data["analyzer_change"], data["up_to_date"]) == (
        installed,
        None,
        True,
    )


def test_an_index_cut_by_other_versions_is_built_anew_by_the_next_search_saying_why(built):
    cut_by(built, OLD)
    status = kensaku("status", "--index", "ix")
    assert "\nwords      cut by SudachiPy 0.6.8 with sudachidict-core 20230927\n" in status.stdout
    why = (
        "its text was cut into words by SudachiPy 0.6.8 with sudachidict-core 20230927, and "
        f"SudachiPy {version('sudachipy')} with sudachidict-core {version('sudachidict-core')} "
        "is installed now"
    )
    assert status.stdout.endswith(
        f"state      to be built anew: {why}; `kensaku index` (or the next search) does it\n"
    )
    assert json.loads(kensaku("status", "--index", "ix", "--json").stdout)["up_to_date"] is False
    searched = kensaku("search", "--index", "ix", "ピラー2")
    assert searched.exit_code == 0
    assert searched.stderr.startswith(f"kensaku: the index in ix is built anew: {why}\n")
    assert re.search(
        r"kensaku: indexed 5 documents, 233 paragraphs in [0-9.]+ s\n", searched.stderr
    )
    assert searched.stdout.startswith("13 paragraphs match ピラー2")
    assert recorded(built) == analyzer_versions()
    again = kensaku("search", "--index", "ix", "ピラー2")
    assert again.stderr == "" and kensaku("status", "--index", "ix").stdout.endswith("up to date\n")


@pytest.mark.parametrize("analyzer", [OLD, None], ids=["other versions", "none recorded"])
def test_kensaku_index_builds_it_whole_rather_than_update_it(built, analyzer):
    cut_by(built, analyzer)
    (built.parent / "docs" / "new.txt").write_text("新しい文書\n本文です。\n", encoding="utf-8")
    result = kensaku("index", "--index", "ix")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("kensaku: the index in ix is built anew: ")
    if analyzer is None:
        assert "it records no versions of SudachiPy and its dictionary" in result.stderr
    # Every document indexed again, not only the one added.
    assert re.fullmatch(r"indexed 6 documents, 235 paragraphs in [0-9.]+ s\n", result.stdout)
    assert recorded(built) == analyzer_versions()
