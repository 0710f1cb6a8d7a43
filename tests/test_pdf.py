"""The PDF reader, on PDFs the tests draw with reportlab (its built-in Japanese CID font) and on
the real documents of ../shared/formats (skipped when that folder is absent)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from search.ingest.readers.base import Block, UnreadableDocument
from search.ingest.readers.pdf import read_pdf

FORMATS = Path(__file__).resolve().parents[2] / "shared" / "formats"
MINCHO = "HeiseiMin-W3"
SIZE = 10.5
PITCH = 17  # the distance from one baseline to the next
LEFT, TOP = 72, 760


def draw_pdf(
    pages: list[list[tuple]], title: str | None = None, encrypt: str | None = None
) -> bytes:
    """A PDF of A4 pages, each drawn as its list of (x, y, text[, size[, font]]) strings, in order."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont(MINCHO))
    out = io.BytesIO()
    pdf = canvas.Canvas(out, encrypt=encrypt)
    if title:
        pdf.setTitle(title)
    for strings in pages:
        for x, y, text, *style in strings:
            size, font = (style + [SIZE, MINCHO][len(style) :])[:2]
            pdf.setFont(font, size)
            pdf.drawString(x, y, text)
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def lines_of(text: str, per_line: int) -> list[str]:
    return [text[start : start + per_line] for start in range(0, len(text), per_line)]


def paragraph(lines: list[str], first_baseline: float, indent: float = 0.0, x: float = LEFT):
    """The strings of a paragraph set line under line, its first line indented by `indent`."""
    return [
        (x + (indent if number == 0 else 0), first_baseline - number * PITCH, line)
        for number, line in enumerate(lines)
    ]


# --- drawn PDFs -------------------------------------------------------------------------------

FIRST = (
    "全文検索エンジンは文書を段落ごとに分けて索引を作る。索引には段落の位置と題名が記録され、"
    "検索結果はその位置を引用して示される。"
)
SECOND = "二つ目の段落は字下げで始まる。行の途中で終わった前の行が段落の終わりを示す。"


def test_a_page_of_two_paragraphs_gives_two_blocks_with_their_lines():
    first_lines = lines_of(FIRST, 24)
    second_lines = [SECOND[:23]] + lines_of(SECOND[23:], 24)
    strings = paragraph(first_lines, TOP) + paragraph(
        second_lines, TOP - len(first_lines) * PITCH, indent=SIZE
    )
    assert first_lines[0].endswith("作") and first_lines[1].startswith("る。")  # a word broken

    extracted = read_pdf(draw_pdf([strings]))

    assert extracted.blocks == [
        Block(FIRST, line=1, page=1),
        Block(SECOND, line=len(first_lines) + 1, page=1),
    ]


def test_latin_lines_join_with_one_space_and_a_hyphenated_word_joins():
    strings = [
        (LEFT, TOP, "Kensaku reads the text layer of PDF files and hyph-", SIZE, "Helvetica"),
        (LEFT, TOP - PITCH, "enated words come out whole.", SIZE, "Helvetica"),
    ]

    extracted = read_pdf(draw_pdf([strings]))

    assert [block.text for block in extracted.blocks] == [
        "Kensaku reads the text layer of PDF files and hyphenated words come out whole."
    ]


def test_two_columns_drawn_row_by_row_are_read_one_column_after_the_other():
    left = "左の段は上から下まで読み終えてから右の段へ移る。段の途中で右へ飛ばない。"
    right = "右の段は左の段の後に読まれる。二つの段は一行ずつ交互に描かれている。"
    left_lines, right_lines = lines_of(left, 15), lines_of(right, 15)
    strings = []
    for number in range(max(len(left_lines), len(right_lines))):
        y = TOP - number * PITCH
        if number < len(left_lines):
            strings.append((LEFT, y, left_lines[number]))
        if number < len(right_lines):
            strings.append((LEFT + 16 * SIZE + 24, y, right_lines[number]))

    extracted = read_pdf(draw_pdf([strings]))

    assert [block.text for block in extracted.blocks] == [left, right]


def test_a_vertical_page_drawn_one_glyph_at_a_time_reads_its_columns_right_to_left():
    text = "第二条第一項の表の青色の灯火の項第三号中を改める。"
    columns = lines_of(text, 10)
    size, right_edge = 12, 500
    strings = []
    for column in reversed(range(len(columns))):  # drawn from the left: order comes from geometry
        x = right_edge - column * 1.5 * size
        for row, glyph in enumerate(columns[column]):
            strings.append((x, TOP - row * size, glyph, size))
    assert "青" in columns[0] and columns[1].startswith("色の灯火")

    extracted = read_pdf(draw_pdf([strings]))

    assert extracted.blocks == [Block(text, line=1, page=1)]


def test_headers_footers_and_page_numbers_repeated_on_every_page_are_not_blocks():
    bodies = ["索引は段落ごとに作られる。", "検索は索引を引く。", "結果は引用とともに示される。"]
    pages = [
        [
            (LEFT, 800, "全文検索エンジンの技術報告"),
            (LEFT, TOP, body),
            (LEFT, 60, f"技術報告 第{number}版"),
            (290, 40, str(number)),
        ]
        for number, body in enumerate(bodies, 1)
    ]

    extracted = read_pdf(draw_pdf(pages))

    assert [(block.text, block.page, block.line) for block in extracted.blocks] == [
        (body, number, 1) for number, body in enumerate(bodies, 1)
    ]


def test_ruby_over_a_word_is_dropped_and_the_word_reads_whole():
    strings = [
        (LEFT, TOP, "漢字の読みがなは本文に入らない。"),
        (LEFT + 1, TOP + SIZE + 0.5, "かん", SIZE / 2),
        (LEFT + SIZE + 1, TOP + SIZE + 0.5, "じ", SIZE / 2),
    ]

    extracted = read_pdf(draw_pdf([strings]))

    assert [block.text for block in extracted.blocks] == ["漢字の読みがなは本文に入らない。"]


def test_kangxi_radicals_and_vertical_punctuation_become_ordinary_characters():
    strings = [(LEFT, TOP, "⼀つの箱︑⼆つの箱︒")]

    extracted = read_pdf(draw_pdf([strings]))

    assert [block.text for block in extracted.blocks] == ["一つの箱、二つの箱。"]


def test_the_title_is_the_metadata_title_else_the_largest_heading_of_the_first_page():
    strings = [
        (LEFT, 800, "技術報告 2024", 9),
        (LEFT, TOP, "全文検索の手引き", 20),
        (LEFT, TOP - 40, "本文は見出しより小さい文字で組まれる。"),
    ]

    with_metadata = read_pdf(draw_pdf([strings], title="検索の手引き 第2版"))
    file_name_as_title = read_pdf(draw_pdf([strings], title="report-final.docx"))

    assert with_metadata.title == "検索の手引き 第2版"
    assert file_name_as_title.title == "全文検索の手引き"
    assert [block.heading for block in file_name_as_title.blocks] == [False, True, False]


def test_a_page_without_text_is_unreadable_for_want_of_a_text_layer():
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    drawing = canvas.Canvas(out)
    drawing.rect(72, 400, 300, 300, fill=1)
    drawing.showPage()
    drawing.save()

    with pytest.raises(UnreadableDocument, match="no text layer"):
        read_pdf(out.getvalue())


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "not a PDF"),
        (b"PK\x03\x04 a zip archive, not a PDF", "not a PDF"),
        ("全文検索".encode(), "not a PDF"),
        (b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n%%EOF", "broken"),
    ],
)
def test_bytes_that_are_no_readable_pdf_are_unreadable_with_the_reason(data, reason):
    with pytest.raises(UnreadableDocument, match=reason):
        read_pdf(data)


def test_a_truncated_pdf_is_unreadable():
    whole = draw_pdf([[(LEFT, TOP, "途中で切れたファイル")]])

    with pytest.raises(UnreadableDocument, match="broken|no text layer"):
        read_pdf(whole[: len(whole) // 3])


def test_a_password_protected_pdf_is_unreadable_as_encrypted():
    with pytest.raises(UnreadableDocument, match="encrypted"):
        read_pdf(draw_pdf([[(LEFT, TOP, "秘密の文書")]], encrypt="secret"))


# --- real documents ---------------------------------------------------------------------------


def real(name: str):
    path = FORMATS / name
    if not path.is_file():
        pytest.skip(f"{path} is absent: the real-document tests need ../shared/formats")
    return read_pdf(path.read_bytes())


def texts(extracted, page: int | None = None) -> list[str]:
    return [block.text for block in extracted.blocks if page is None or block.page == page]


def test_kanpo_vertical_cid_page_without_tounicode_reads_the_green_light_clause():
    kanpo = real("kanpo-2008-seirei149-vertical.pdf")

    clause = [block for block in kanpo.blocks if "青色の灯火" in block.text]

    assert clause and clause[0].page == 1
    assert clause[0].text.startswith("第二条第一項の表の青色の灯火の項第三号中")
    assert not any(re.search(f"[{JAPANESE}] [{JAPANESE}]", text) for text in texts(kanpo))


JAPANESE = "\u3040-\u30ff\u4e00-\u9fff"


def test_mext_two_column_page_keeps_a_sentence_whole_across_line_breaks():
    mext = real("mext-whitepaper-r6-ch3.pdf")
    sentence = (
        "米国政府は、ＡＩ分野の研究開発を戦略的に進めるため、2016年に「国家ＡＩ研究開発戦略"
        "（National AI R&D Strategic Plan）」を策定し、ＡＩ研究への長期的な投資、人間とＡＩの協調、"
        "倫理的・法的・社会的影響の理解等に重点的に取り組む方針を示しました。"
    )

    holding = [block for block in mext.blocks if sentence in block.text]

    assert [(block.page, block.line > 1) for block in holding] == [(2, True)]


def test_mext_running_heads_side_tabs_and_page_numbers_are_not_blocks():
    mext = real("mext-whitepaper-r6-ch3.pdf")

    heads = [
        block
        for block in mext.blocks
        if (
            "ＡＩがもたらす科学技術・イノベーションの変革" in block.text
            or block.text.startswith("第３章")
        )
        and (block.page, block.heading) != (1, True)
    ]
    # The white paper's chapter 3 is printed from page 24 on.
    page_numbers = [block for block in mext.blocks if block.text == str(23 + block.page)]

    assert heads == [] and page_numbers == []
    assert mext.title == "第3章\u3000ＡＩ関連研究開発の世界の動向"


def test_kangxi_radical_in_a_tounicode_map_reads_as_the_ideograph():
    kangxi = real("meti-denki-kaishaku-kangxi.pdf")

    assert any("検知機構を一つの箱内に収めたもの" in text for text in texts(kangxi))
    assert not re.search("[\u2e80-\u2fdf]", "".join(texts(kangxi)))


def test_vertical_punctuation_of_a_tate_article_reads_as_ordinary_punctuation():
    tate = real("luatexja-tate-article.pdf")

    assert any(
        text.startswith("酵素（こうそ）とは、生体で起こる化学反応に対して触媒として")
        for text in texts(tate, page=1)
    )
    assert not re.search("[\ufe10-\ufe19\ufe30-\ufe4f]", "".join(texts(tate)))


def test_miyazawa_vertical_poem_reads_its_columns_right_to_left():
    poem = "\n".join(texts(real("miyazawa-haru-to-shura-jo-vertical.pdf")))

    assert "わたくしといふ現象は假定された有機交流電燈のひとつの青い照明です" in poem
    assert poem.index("これらは二十二箇月の") < poem.index("けれどもこれら新世代沖積世の")
    assert poem.endswith("宮澤賢治")


@pytest.mark.parametrize("name", sorted(path.name for path in FORMATS.glob("*.pdf")) or ["(none)"])
def test_every_real_pdf_reads_into_cited_blocks_of_japanese_text(name):
    extracted = real(name)

    pages = {block.page for block in extracted.blocks}
    assert all(block.line >= 1 and block.text == block.text.strip() for block in extracted.blocks)
    assert min(pages) == 1 and len(re.findall(f"[{JAPANESE}]", "".join(texts(extracted)))) > 50
