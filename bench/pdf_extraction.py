"""PDF text extraction on the real PDFs of ../shared/formats: kensaku's reader, and with
--compare the extractors it was chosen against.

    python bench/pdf_extraction.py [--shared DIR] [--repeat 3] [--compare] [--show NAME[:PAGE] ...]

For each PDF it prints pages, seconds (best of --repeat), blocks, characters, Japanese characters
(kana and ideographs), characters that betray a broken mapping (Kangxi and CJK radicals, vertical
presentation forms, `(cid:N)` placeholders, Latin-extended and Greek letters where Japanese was
meant) and how many of a few known phrases of the document come out whole, in reading order
(whitespace ignored). --compare does the same for the raw page text of pypdfium2, pypdf and
pdfminer.six, each when installed (pypdfium2 and pdfminer.six are dependencies of kensaku: the
reader reads with PDFium, and with pdfminer.six the pages whose characters PDFium leaves out). --show prints
the first 300 characters of the reader's text, of one page when NAME:PAGE is given.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

from common import DEFAULT_SHARED, format_table, require_dirs

# Phrases each document holds, as a reader reads them: whole only when characters are mapped
# right and lines, columns and pages come in reading order.
PROBES = {
    "jlreq-ruby-rules-ja.pdf": [
        "ルビの組版処理は，次のような事項を考慮して，その配置位置を決める必要がある．"
    ],
    "kanpo-2008-seirei149-vertical.pdf": [
        "第二条第一項の表の青色の灯火の項第三号中",
        "道路交通法施行令の一部を改正する政令",
    ],
    "luatexja-manual-ja.pdf": ["LuaTEX-jaパッケージは，次世代標準TEXであるLuaTEXの上で，"],
    "luatexja-tate-article.pdf": ["酵素（こうそ）とは、生体で起こる化学反応に対して触媒として"],
    "meti-denki-kaishaku-excerpt.pdf": ["ねじ止め端子であること。"],
    "meti-denki-kaishaku-kangxi.pdf": ["検知機構を一つの箱内に収めたもの"],
    "mext-whitepaper-r6-ch3.pdf": [
        "米国政府は、ＡＩ分野の研究開発を戦略的に進めるため、2016年に",
        "戦略的な国際連携に関する取組も新たに追加しています",
    ],
    "mext-whitepaper-r6-ch4.pdf": ["ＡＩの多様な研究分野での活用が切り拓く新たな科学"],
    "miyazawa-haru-to-shura-jo-vertical.pdf": [
        "わたくしといふ現象は假定された有機交流電燈のひとつの青い照明です",
        "これらは二十二箇月の過去とかんずる方角から",
    ],
    "ocr-scan-kogaku-moji-ninshiki.pdf": ["光学文字認識", "活字の文書の画堡", "光学技術を使った"],
    "ptex-tategumi-paper-ascii.pdf": [
        "日本語TEXを出版分野で本格的に応用するため,縦組み機能を追加した."
    ],
}
JAPANESE = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")
BROKEN = re.compile(r"[\u2e80-\u2fdf\ufe10-\ufe1f\ufe30-\ufe4f\u0250-\u03ff]|\(cid:\d+\)")


def kensaku_pages(path: Path) -> list[str]:
    from search.ingest.readers.pdf import read_pdf

    extracted = read_pdf(path.read_bytes())
    pages: dict[int, list[str]] = {}
    for block in extracted.blocks:
        pages.setdefault(block.page, []).append(block.text)
    return ["\n".join(pages.get(number, [])) for number in range(1, max(pages, default=0) + 1)]


def pdfium_pages(path: Path) -> list[str]:
    import pypdfium2

    document = pypdfium2.PdfDocument(str(path))
    try:
        return [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()


def pypdf_pages(path: Path) -> list[str]:
    import pypdf

    return [page.extract_text() for page in pypdf.PdfReader(str(path)).pages]


def pdfminer_pages(path: Path) -> list[str]:
    from pdfminer.high_level import extract_pages

    return [
        "".join(getattr(element, "get_text", lambda: "")() for element in page)
        for page in extract_pages(str(path))
    ]


EXTRACTORS: dict[str, Callable[[Path], list[str]]] = {
    "kensaku": kensaku_pages,
    "pypdfium2": pdfium_pages,
    "pypdf": pypdf_pages,
    "pdfminer": pdfminer_pages,
}
MODULES = {"kensaku": "search", "pypdfium2": "pypdfium2", "pypdf": "pypdf", "pdfminer": "pdfminer"}


def best_of(
    repeat: int, extract: Callable[[Path], list[str]], path: Path
) -> tuple[float, list[str]]:
    best, pages = float("inf"), []
    for _ in range(repeat):
        start = time.perf_counter()
        pages = extract(path)
        best = min(best, time.perf_counter() - start)
    return best, pages


def row(name: str, extractor: str, seconds: float, pages: list[str]) -> list:
    text = "\n".join(pages)
    flat = re.sub(r"\s+", "", text)
    probes = PROBES.get(name, [])
    whole = sum(1 for probe in probes if re.sub(r"\s+", "", probe) in flat)
    blocks = text.count("\n") + 1 if extractor == "kensaku" else None
    return [
        name,
        extractor,
        len(pages),
        round(seconds, 3),
        blocks,
        len(text),
        len(JAPANESE.findall(text)),
        len(BROKEN.findall(text)),
        f"{whole}/{len(probes)}",
    ]


def installed(extractor: str) -> bool:
    try:
        __import__(MODULES[extractor])
    except ImportError:
        print(f"({extractor} is not installed: left out)", file=sys.stderr)
        return False
    return True


def show(formats: Path, spec: str) -> None:
    name, _, page = spec.partition(":")
    pages = kensaku_pages(formats / name)
    text = pages[int(page) - 1] if page else "\n".join(pages)
    print(f"--- {spec}: first 300 characters of kensaku's text")
    print(text[:300])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shared", type=Path, default=DEFAULT_SHARED, help="shared data dir (default ../shared)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per file; the best time counts")
    parser.add_argument(
        "--compare", action="store_true", help="also run pypdfium2, pypdf and pdfminer.six"
    )
    parser.add_argument(
        "--show",
        action="append",
        default=[],
        metavar="NAME[:PAGE]",
        help="print the first 300 characters of kensaku's text of a file (or page)",
    )
    args = parser.parse_args()
    (formats,) = require_dirs(args.shared, ["formats"])
    extractors = [
        name for name in EXTRACTORS if name == "kensaku" or (args.compare and installed(name))
    ]
    rows = []
    for path in sorted(formats.glob("*.pdf")):
        for extractor in extractors:
            seconds, pages = best_of(args.repeat, EXTRACTORS[extractor], path)
            rows.append(row(path.name, extractor, seconds, pages))
    print(
        format_table(
            [
                "file",
                "extractor",
                "pages",
                "seconds",
                "blocks",
                "chars",
                "japanese",
                "broken",
                "phrases",
            ],
            rows,
        )
    )
    for spec in args.show:
        show(formats, spec)


if __name__ == "__main__":
    main()
