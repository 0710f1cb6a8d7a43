"""The benchmark chart of the docs (docs/images/benchmarks.svg) is what bench/chart.py draws
from docs/data/benchmarks.toml, and draws what the figures say."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ElementTree

from .conftest import REPO

SCRIPT = REPO / "bench" / "chart.py"
FIGURES = REPO / "docs" / "data" / "benchmarks.toml"
CHART = REPO / "docs" / "images" / "benchmarks.svg"
SVG = "{http://www.w3.org/2000/svg}"


def run_chart(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60
    )


def test_the_committed_chart_is_what_the_figures_draw():
    checked = run_chart("--check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip() == f"{CHART}: current"


def test_a_changed_figure_is_drawn_and_the_check_fails_until_redrawn(tmp_path):
    figures = tmp_path / "figures.toml"
    figures.write_text(
        FIGURES.read_text(encoding="utf-8").replace("kensaku = 0.940", "kensaku = 0.951"),
        encoding="utf-8",
    )
    chart = tmp_path / "chart.svg"
    chart.write_bytes(CHART.read_bytes())
    stale = run_chart("--figures", str(figures), "--output", str(chart), "--check")
    assert stale.returncode == 1
    assert "out of date" in stale.stdout
    drawn = run_chart("--figures", str(figures), "--output", str(chart))
    assert drawn.returncode == 0 and drawn.stdout.strip() == f"wrote {chart}"
    texts = [t.text for t in ElementTree.parse(chart).iter(f"{SVG}text")]
    assert "0.951" in texts and "0.940" not in texts
    assert run_chart("--figures", str(figures), "--output", str(chart), "--check").returncode == 0


def test_the_chart_shows_every_figure_with_its_engine():
    root = ElementTree.parse(CHART).getroot()
    assert root.tag == f"{SVG}svg"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "relevance: MRR@10" in texts and "build, MB/s" in texts
    assert any(text and text.startswith("2026-11-24") for text in texts)  # the date of the run
    bars = [
        r.find(f"{SVG}title").text
        for r in root.iter(f"{SVG}rect")
        if r.find(f"{SVG}title") is not None
    ]
    # JSQuAD keyword MRR@10, then aozora's keyword p95, as the figures give them.
    assert "kensaku: 0.866" in bars and "SQLite FTS5, trigram: 0.728" in bars
    assert "kensaku: 47" in bars and "SQLite FTS5, trigram: 62" in bars
    assert len(bars) == 4 * 3 * 2 + 3 + 3 + 2 + 2 + 2


def test_figures_naming_an_unknown_engine_are_refused_in_one_line(tmp_path):
    figures = tmp_path / "figures.toml"
    figures.write_text(
        FIGURES.read_text(encoding="utf-8").replace("fts5 = 62", "sqlite = 62"), encoding="utf-8"
    )
    refused = run_chart("--figures", str(figures), "--output", str(tmp_path / "chart.svg"))
    assert refused.returncode == 2
    assert (
        refused.stderr.strip()
        == "bench/chart.py: panel 'keyword p95, ms': unknown engine ['sqlite']"
    )
    assert not (tmp_path / "chart.svg").exists()
