"""Formats: HTML, Markdown, Word and EPUB files are read into cited paragraphs, on files the tests
write and on the real Japanese documents of ../shared/formats (skipped where that folder is absent)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import search
from search.cli.main import main
from search.ingest.discovery import DocumentFile
from search.ingest.paragraphs import read_document
from search.ingest.readers import read
from search.ingest.readers.base import UnreadableDocument

from .conftest import REPO

FORMATS = REPO.parent / "shared" / "formats"
needs_formats = pytest.mark.skipif(
    not FORMATS.is_dir(), reason=f"{FORMATS} (the real format samples) is absent"
)


def blocks_of(data: bytes, name: str) -> list[tuple[int, str]]:
    return [(block.line, block.text) for block in read(data, name).blocks]


# HTML

HTML = """<!DOCTYPE html>
<html><head><meta charset="Shift_JIS"><title>防衛白書の要約</title>
<style>p { color: red }</style><script>var 検索されない = 1;</script></head>
<body><nav><a href="/">ホームへ戻る</a></nav>
<h1>第一章　概要</h1>
<p>日米同盟は<ruby>抑止力<rt>よくしりょく</rt></ruby>の
要である。</p>
<div>統合作戦司令部を新設する。<br>二行目は別の段落。</div>
<ul><li>項目その一</li><li>項目その二</li></ul>
<table><tr><td>表の左</td><td>表の右</td></tr></table>
</body></html>
"""


def test_html_paragraphs_come_from_block_elements_with_their_lines():
    extracted = read(HTML.encode("cp932"), "page.html")
    assert extracted.title == "防衛白書の要約"
    assert [(block.line, block.text) for block in extracted.blocks] == [
        (5, "第一章　概要"),
        (6, "日米同盟は抑止力の要である。"),
        (8, "統合作戦司令部を新設する。"),
        (8, "二行目は別の段落。"),
        (9, "項目その一"),
        (9, "項目その二"),
        (10, "表の左"),
        (10, "表の右"),
    ]
    assert extracted.blocks[0].heading and not extracted.blocks[1].heading


def test_html_without_a_title_takes_its_first_heading():
    data = "<p>前書き</p><h2>本当の見出し</h2><p>本文。</p>".encode()
    assert read(data, "a.htm").title == "本当の見出し"


@needs_formats
def test_aozora_shift_jis_xhtml_reads_ruby_as_its_base_text():
    extracted = read((FORMATS / "aozora-chuki-kinyurei.sjis.html").read_bytes(), "a.html")
    assert extracted.title == "青空文庫 「注記一覧」記載例文"
    texts = {block.line: block.text for block in extracted.blocks}
    assert texts[34] == "…頗る理論の品価を増たるもの多し。明治八年三月二十五日、福沢諭吉記。"


@needs_formats
def test_undeclared_euc_jp_html_is_detected():
    extracted = read((FORMATS / "w3m-story.eucjp-undeclared.html").read_bytes(), "w.html")
    assert extracted.title == "w3mの開発について"
    assert (13, "はじめに") in [(block.line, block.text) for block in extracted.blocks]


@needs_formats
def test_utf8_bom_html_with_upper_case_tags():
    extracted = read((FORMATS / "sakura-help-macro-functions.utf8-bom.html").read_bytes(), "s.html")
    assert extracted.title == "マクロ専用関数"
    assert extracted.blocks[0].text == "マクロ専用関数/変数" and extracted.blocks[0].heading


# Markdown

MARKDOWN = """---
title: 議事録
---
# 第3回 定例会議

出席者は**五名**で、[資料](http://example.com/a.pdf)を
確認した。

- 予算案を承認
- 次回は `来月` 開催

| 項目 | 担当 |
|---|---|
| 調達 | 佐藤 |

<!-- 内部メモ：検索されない -->

```
print("コード")
```
"""


def test_markdown_blocks_are_separated_by_blank_lines_and_keep_no_markup():
    extracted = read(MARKDOWN.encode("utf-8"), "minutes.md")
    assert extracted.title == "議事録"
    assert [(block.line, block.text) for block in extracted.blocks] == [
        (4, "第3回 定例会議"),
        (6, "出席者は五名で、資料を確認した。"),
        (9, "予算案を承認"),
        (10, "次回は 来月 開催"),
        (12, "項目 担当"),
        (14, "調達 佐藤"),
        (19, 'print("コード")'),
    ]


@needs_formats
def test_real_markdown_takes_its_first_heading_as_title():
    extracted = read((FORMATS / "gif-461-moji-kankyo-guidebook.md").read_bytes(), "g.md")
    assert extracted.title == "文字環境導入実践ガイドブック"
    assert not any("<!--" in block.text or "**" in block.text for block in extracted.blocks)


# Word


def make_docx() -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.title = ""
    document.add_heading("調達計画", level=1)
    document.add_paragraph("本年度の調達は前年並みとする。")
    table = document.add_table(rows=2, cols=2)
    for row, cells in zip(table.rows, [("品目", "数量"), ("弾薬", "百箱")]):
        for cell, text in zip(row.cells, cells):
            cell.text = text
    document.add_paragraph("以上。")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_word_paragraphs_headings_and_table_rows_in_order():
    extracted = read(make_docx(), "plan.docx")
    assert extracted.title == "調達計画"
    assert [(block.line, block.text, block.heading) for block in extracted.blocks] == [
        (1, "調達計画", True),
        (2, "本年度の調達は前年並みとする。", False),
        (3, "品目 数量", False),
        (4, "弾薬 百箱", False),
        (5, "以上。", False),
    ]


@needs_formats
def test_real_word_tables_are_read_and_field_codes_are_not():
    extracted = read((FORMATS / "gif-461-moji-kankyo-guidebook.docx").read_bytes(), "g.docx")
    texts = [block.text for block in extracted.blocks]
    assert extracted.title == "文字環境導入実践ガイドブック"
    assert (
        "2023年1月12日 P7 漢字等１文字当たりのバイトを１～４の可変長に変更" in texts
    )  # a table row
    assert not any("PAGEREF" in text or "TOC \\" in text for text in texts)


# EPUB


def make_epub(chapters: dict[str, str], title: str = "試験の本") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as book:
        book.writestr("mimetype", "application/epub+zip")
        book.writestr(
            "META-INF/container.xml",
            """<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
<rootfiles><rootfile full-path="OEBPS/package.opf" media-type="application/oebps-package+xml"/>
</rootfiles></container>""",
        )
        items = "".join(
            f'<item id="c{n}" href="{name}" media-type="application/xhtml+xml"/>'
            for n, name in enumerate(chapters)
        )
        spine = "".join(f'<itemref idref="c{n}"/>' for n in reversed(range(len(chapters))))
        book.writestr(
            "OEBPS/package.opf",
            f"""<?xml version="1.0"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{title}</dc:title></metadata>
<manifest>{items}</manifest><spine>{spine}</spine></package>""",
        )
        for name, body in chapters.items():
            book.writestr(
                f"OEBPS/{name}",
                f"""<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>本</title></head>
<body>{body}</body></html>""",
            )
    return out.getvalue()


def test_epub_chapters_follow_the_spine_with_their_titles():
    data = make_epub(
        {
            "a.xhtml": "<h1>後の章</h1><p>二番目に読む。</p>",
            "b.xhtml": "<h1>前の章</h1><p><ruby>草枕<rt>くさまくら</rt></ruby>を読む。</p>",
        }
    )
    extracted = read(data, "book.epub")
    assert extracted.title == "試験の本"
    assert [(block.section, block.line, block.text) for block in extracted.blocks] == [
        ("前の章", 3, "前の章"),
        ("前の章", 3, "草枕を読む。"),
        ("後の章", 3, "後の章"),
        ("後の章", 3, "二番目に読む。"),
    ]


def test_a_broken_epub_is_unreadable_with_a_reason():
    with pytest.raises(UnreadableDocument, match="not an EPUB book"):
        read(b"PK\x03\x04 not really a zip", "broken.epub")


@needs_formats
def test_real_vertical_epub_reads_its_chapters_in_order():
    extracted = read((FORMATS / "kusamakura-vertical.epub").read_bytes(), "k.epub")
    assert extracted.title == "草枕"
    first = next(block for block in extracted.blocks if block.text.startswith("智に働けば"))
    assert first.section == "一"
    assert "とかくに人の世は住みにくい。" in first.text


# Through the index: citations and sections


def test_sections_and_titles_reach_the_hits(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "minutes.md").write_text(MARKDOWN, encoding="utf-8")
    (docs / "page.html").write_bytes(HTML.encode("cp932"))
    (docs / "plan.docx").write_bytes(make_docx())
    search.build_index(docs, tmp_path / "ix")
    hits = {
        hit.source: hit for hit in search.search("予算案 OR 抑止力 OR 弾薬", tmp_path / "ix").hits
    }
    assert {
        source: (hit.title, hit.section, hit.line, hit.page) for source, hit in hits.items()
    } == {
        "minutes.md": ("議事録", "第3回 定例会議", 9, None),
        "page.html": ("防衛白書の要約", "第一章　概要", 6, None),
        "plan.docx": ("調達計画", "調達計画", 4, None),
    }
    nothing = search.search("検索されない", tmp_path / "ix")
    assert nothing.total == 0  # script and HTML comments are not text


@pytest.fixture(scope="module")
def formats_index(tmp_path_factory) -> Path:
    if not FORMATS.is_dir():
        pytest.skip(f"{FORMATS} (the real format samples) is absent")
    index_dir = tmp_path_factory.mktemp("formats") / "ix"
    summary = search.build_index(FORMATS, index_dir)
    assert summary.skipped == {} and summary.documents == 24  # 22 documents and the two .md notes
    return index_dir


@pytest.mark.parametrize(
    "query, source, page",
    [
        ("頗る理論", "aozora-chuki-kinyurei.sjis.html", None),
        ("智に働けば角が立つ", "kusamakura-vertical.epub", None),
        ("文字環境導入実践ガイドブック", "gif-461-moji-kankyo-guidebook.docx", None),
        ("青色の灯火", "kanpo-2008-seirei149-vertical.pdf", 1),
        ("一つの箱", "meti-denki-kaishaku-kangxi.pdf", 1),
        ("わたくしといふ現象", "miyazawa-haru-to-shura-jo-vertical.pdf", 1),
        ("国家ＡＩ研究開発戦略", "mext-whitepaper-r6-ch3.pdf", 2),
    ],
)
def test_each_real_format_is_found_and_cited(formats_index, query, source, page):
    hits = [
        hit for hit in search.search(query, formats_index, limit=50).hits if hit.source == source
    ]
    assert hits, query
    assert hits[0].page == page
    assert hits[0].highlights and query in hits[0].text.replace("⼀", "一")


def test_a_pdf_hit_is_cited_by_page_in_the_terminal(formats_index):
    result = CliRunner().invoke(
        main, ["search", "--index", str(formats_index), "わたくしといふ現象"]
    )
    assert result.exit_code == 0
    pdf = (FORMATS / "miyazawa-haru-to-shura-jo-vertical.pdf").resolve()
    assert f" 1. {pdf} p.1  ¶2" in result.stdout  # the path as it opens from here


def test_a_pdf_without_a_text_layer_is_skipped_saying_so(tmp_path):
    from reportlab.pdfgen import canvas

    docs = tmp_path / "docs"
    docs.mkdir()
    out = io.BytesIO()
    scan = canvas.Canvas(out)
    scan.rect(100, 100, 200, 200, fill=1)  # a drawing, no text
    scan.showPage()
    scan.save()
    (docs / "scan.PDF").write_bytes(out.getvalue())
    (docs / "note.txt").write_text("メモ\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["index", "--docs", str(docs), "--index", str(tmp_path / "ix")]
    )
    assert result.stderr == "kensaku: skipped scan.PDF: it has no text layer (a scanned image?)\n"
    assert "indexed 1 document, 1 paragraph" in result.stdout
    assert result.stdout.rstrip().endswith("; 1 skipped (no text layer)")


# Titles of text files


@pytest.mark.parametrize(
    "first_line, title",
    [
        ("日米防衛協力の現状", "日米防衛協力の現状"),
        ("米国と日本の軍事協力が前例のないレベルに格上げされる見通しだ。", "report"),
        ("x" * 81, "report"),
    ],
)
def test_a_text_files_first_line_is_its_title_only_when_it_reads_as_one(
    tmp_path, first_line, title
):
    path = tmp_path / "report.txt"
    path.write_text(f"{first_line}\n本文。\n", encoding="utf-8")
    document = DocumentFile(path, "report.txt", path.stat().st_size, 0)
    assert {p.title for p in read_document(document).paragraphs} == {title}


def test_cr_only_line_endings_make_one_paragraph_a_line(tmp_path):
    data = "題名\r一段落目。\r二段落目。\r".encode("cp932")
    assert blocks_of(data, "old.TXT") == [(1, "題名"), (2, "一段落目。"), (3, "二段落目。")]


def make_path(tmp_path: Path, name: str, data: bytes) -> DocumentFile:
    path = tmp_path / name
    path.write_bytes(data)
    return DocumentFile(path, name, len(data), 0)


def test_kangxi_radicals_and_vertical_forms_match_as_the_words_a_reader_types(tmp_path):
    ix = tmp_path / "ix"
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(
        "検知機構を⼀つの箱内に収めた。\n酵素︵こうそ︶とは︑生体で起こる反応。\n", encoding="utf-8"
    )
    search.build_index(docs, ix)
    box = search.search("一つの箱", ix).hits[0]
    assert (box.line, box.score > 10_000) == (1, True)  # the whole-word tier, not a substring
    assert [box.text[s:e] for s, e in box.highlights] == ["⼀つの箱"]
    enzyme = search.search("酵素とは、生体", ix).hits[0]
    assert (enzyme.line, enzyme.score > 10_000) == (2, True)
    assert [enzyme.text[s:e] for s, e in enzyme.highlights] == ["酵素︵こうそ︶とは︑生体"]
