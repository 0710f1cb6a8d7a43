"""Draws the benchmark chart of the documentation from its figures.

docs/data/benchmarks.toml holds the figures (the relevance and speed runs the benchmarks
report); this script writes docs/images/benchmarks.svg from them: a plain SVG of bar charts, one
panel a figure, drawn here without a plotting library so that the docs need none. Run it after
changing the figures:

    python bench/chart.py            # rewrites docs/images/benchmarks.svg
    python bench/chart.py --check    # exit 1 if the committed chart is not what the figures give
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO_ROOT = Path(__file__).resolve().parents[1]
FIGURES = REPO_ROOT / "docs" / "data" / "benchmarks.toml"
CHART = REPO_ROOT / "docs" / "images" / "benchmarks.svg"

WIDTH = 960
MARGIN = 24
PANEL_GAP = 28
PLOT_HEIGHT = 150
BAR_WIDTH = 32
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', 'Noto Sans CJK JP', sans-serif"
INK = "#212121"
MUTED = "#616161"
RULE = "#bdbdbd"


@dataclass(frozen=True)
class Engine:
    key: str
    label: str
    colour: str


@dataclass(frozen=True)
class Group:
    label: str
    values: dict[str, float]


@dataclass(frozen=True)
class Panel:
    row: int
    title: str
    better: str
    format: str
    groups: list[Group]


@dataclass(frozen=True)
class Figures:
    title: str
    date: str
    machine: str
    source: str
    engines: list[Engine]
    panels: list[Panel]


def read_figures(path: Path = FIGURES) -> Figures:
    """The figures of `path`, checked: every value names a known engine, `better` is known."""
    with path.open("rb") as file:
        data = tomllib.load(file)
    engines = [Engine(key, e["label"], e["colour"]) for key, e in data["engines"].items()]
    panels = [_panel(p, {e.key for e in engines}) for p in data["panel"]]
    return Figures(data["title"], data["date"], data["machine"], data["source"], engines, panels)


def _panel(data: dict[str, Any], engines: set[str]) -> Panel:
    if data["better"] not in ("higher", "lower"):
        raise ValueError(f"panel {data['title']!r}: better must be higher or lower")
    groups = [
        Group(g["label"], {k: float(v) for k, v in g["values"].items()}) for g in data["groups"]
    ]
    for group in groups:
        unknown = set(group.values) - engines
        if unknown:
            raise ValueError(f"panel {data['title']!r}: unknown engine {sorted(unknown)}")
    return Panel(int(data["row"]), data["title"], data["better"], data["format"], groups)


def chart(figures: Figures) -> str:
    """The SVG document drawing `figures`."""
    parts: list[str] = []
    y = _header(figures, parts)
    rows = sorted({p.row for p in figures.panels})
    for row in rows:
        panels = [p for p in figures.panels if p.row == row]
        y = _row(panels, figures.engines, y, parts)
    height = y + MARGIN
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" font-family="{escape(FONT)}" role="img">',
            f"<title>{escape(figures.title)} ({escape(figures.date)})</title>",
            f'<rect width="{WIDTH}" height="{height}" rx="8" fill="#ffffff"/>',
            *parts,
            "</svg>",
            "",
        ]
    )


def _header(figures: Figures, parts: list[str]) -> int:
    """The title, the date and machine, and the legend; returns where the panels start."""
    parts.append(_text(MARGIN, 34, figures.title, size=17, weight="bold"))
    parts.append(
        _text(
            MARGIN, 56, f"{figures.date}, {figures.machine}. {figures.source}", size=12, fill=MUTED
        )
    )
    x = MARGIN
    for engine in figures.engines:
        parts.append(f'<rect x="{x}" y="70" width="12" height="12" rx="2" fill="{engine.colour}"/>')
        parts.append(_text(x + 18, 81, engine.label, size=13))
        x += 18 + _text_width(engine.label, 13) + 24
    return 100


def _row(panels: list[Panel], engines: list[Engine], top: int, parts: list[str]) -> int:
    """Panels side by side from `top`; returns the bottom of the row."""
    width = (WIDTH - 2 * MARGIN - PANEL_GAP * (len(panels) - 1)) / len(panels)
    for index, panel in enumerate(panels):
        _draw_panel(panel, engines, MARGIN + index * (width + PANEL_GAP), top, width, parts)
    return top + 36 + PLOT_HEIGHT + 40


def _draw_panel(
    panel: Panel, engines: list[Engine], left: float, top: int, width: float, parts: list[str]
) -> None:
    parts.append(_text(left, top + 14, panel.title, size=14, weight="bold"))
    parts.append(_text(left, top + 30, f"{panel.better} is better", size=11, fill=MUTED))
    base = top + 36 + PLOT_HEIGHT
    parts.append(
        f'<line x1="{left:.1f}" y1="{base}" x2="{left + width:.1f}" y2="{base}" stroke="{RULE}"/>'
    )
    most = max(v for g in panel.groups for v in g.values.values())
    group_width = width / len(panel.groups)
    for index, group in enumerate(panel.groups):
        shown = [e for e in engines if e.key in group.values]
        centre = left + (index + 0.5) * group_width
        bar = min(BAR_WIDTH, group_width * 0.8 / len(shown))
        first = centre - bar * len(shown) / 2
        for slot, engine in enumerate(shown):
            value = group.values[engine.key]
            x = first + slot * bar
            height = PLOT_HEIGHT * 0.86 * value / most
            parts.append(
                f'<rect x="{x + 1:.1f}" y="{base - height:.1f}" width="{bar - 2:.1f}" '
                f'height="{height:.1f}" fill="{engine.colour}"><title>{escape(engine.label)}: '
                f"{escape(panel.format.format(value))}</title></rect>"
            )
            parts.append(
                _text(
                    x + bar / 2,
                    base - height - 4,
                    panel.format.format(value),
                    size=10,
                    anchor="middle",
                    fill=INK,
                )
            )
        for line, label in enumerate(group.label.split("\n")):
            parts.append(
                _text(centre, base + 15 + 13 * line, label, size=11, anchor="middle", fill=MUTED)
            )


def _text(
    x: float,
    y: float,
    text: str,
    size: int,
    weight: str = "normal",
    anchor: str = "start",
    fill: str = INK,
) -> str:
    bold = ' font-weight="bold"' if weight == "bold" else ""
    middle = f' text-anchor="{anchor}"' if anchor != "start" else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}"{bold}{middle} fill="{fill}">'
        f"{escape(text)}</text>"
    )


def _text_width(text: str, size: int) -> int:
    """About how wide `text` is drawn (a sans-serif's average Latin letter), to lay the legend."""
    return round(len(text) * size * 0.56)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figures", type=Path, default=FIGURES)
    parser.add_argument("--output", type=Path, default=CHART)
    parser.add_argument("--check", action="store_true", help="only say whether it is current")
    args = parser.parse_args(argv)
    try:
        drawn = chart(read_figures(args.figures))
    except (OSError, ValueError, KeyError, tomllib.TOMLDecodeError) as error:
        problem = f"missing {error}" if isinstance(error, KeyError) else str(error)
        print(f"bench/chart.py: {problem}", file=sys.stderr)
        return 2
    if args.check:
        current = args.output.exists() and args.output.read_text(encoding="utf-8") == drawn
        print(
            f"{args.output}: {'current' if current else 'out of date: run python bench/chart.py'}"
        )
        return 0 if current else 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(drawn, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
