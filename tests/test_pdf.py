"""The PDF reader, on PDFs the tests draw with reportlab (its built-in Japanese CID font, which
it does not embed) and on the real documents of ../shared/formats (skipped when that folder is
absent); and the same text with the machine's fonts hidden."""

from __future__ import annotations

import dataclasses
import inspect
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
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


VERTICAL_TEXT = "第二条第一項の表の青色の灯火の項第三号中を改める。"


def vertical_page() -> bytes:
    """A page whose columns are drawn a glyph at a time, from the left, in a Japanese font the
    PDF does not embed (PDFium, with no Japanese font, gives such glyphs no width)."""
    columns = lines_of(VERTICAL_TEXT, 10)
    size, right_edge = 12, 500
    strings = []
    for column in reversed(range(len(columns))):  # drawn from the left: order comes from geometry
        x = right_edge - column * 1.5 * size
        for row, glyph in enumerate(columns[column]):
            strings.append((x, TOP - row * size, glyph, size))
    assert "青" in columns[0] and columns[1].startswith("色の灯火")
    return draw_pdf([strings])


def test_a_vertical_page_drawn_one_glyph_at_a_time_reads_its_columns_right_to_left():
    extracted = read_pdf(vertical_page())

    assert extracted.blocks == [Block(VERTICAL_TEXT, line=1, page=1)]
    assert extracted.unread_pages == [] and extracted.warnings == []
    assert set(extracted.extractors) == {"pypdfium2", "pdfminer.six"}


OCR_WORDS = ["光学", "文字", "認識", "は", "、", "活字", "の", "文書", "を", "読む", "。"]


def ocr_layer_page() -> bytes:
    """A page with an OCR layer's invisible text (render mode 3) drawn a word at a time, a space
    between words: one-character words (は, の, を) are text objects of one glyph."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont(MINCHO))
    out = io.BytesIO()
    pdf = canvas.Canvas(out)
    x = LEFT
    for word in OCR_WORDS:
        text = pdf.beginText(x, TOP)
        text.setFont(MINCHO, SIZE)
        text.setTextRenderMode(3)
        text.textOut(word)
        pdf.drawText(text)
        x += (len(word) + 0.5) * SIZE
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def test_an_invisible_ocr_layer_keeps_its_words_of_one_character():
    extracted = read_pdf(ocr_layer_page())

    assert [block.text for block in extracted.blocks] == ["光学文字認識は、活字の文書を読む。"]


def test_a_running_head_with_a_misread_date_is_left_out_and_said_and_is_no_title():
    """官報's running head: the date's digits in a symbol font come out as ™—›œ; its other
    pieces (a weekday, the gazette's name) stand in the same row across the page."""
    strings = [
        (LEFT, 800, "平成"),
        (LEFT + 24, 800, "™—", SIZE, "Helvetica"),
        (LEFT + 40, 800, "年"),
        (LEFT + 54, 800, "›", SIZE, "Helvetica"),
        (LEFT + 62, 800, "月"),
        (LEFT + 140, 800, "金曜日", 14),
        (LEFT + 260, 800, "官報", 14),
        (LEFT, TOP, "政令第百四十九号", 14),
        (LEFT, TOP - 30, "道路交通法施行令の一部を次のように改正する。"),
    ]

    extracted = read_pdf(draw_pdf([strings]))

    assert [block.text for block in extracted.blocks] == [
        "政令第百四十九号",
        "道路交通法施行令の一部を次のように改正する。",
    ]
    assert extracted.title == "政令第百四十九号"
    assert extracted.unread_pages == [1]
    assert extracted.warnings == [
        "7 characters that could not be read (their fonts map them to no character, or to"
        " wrong ones) were left out, on page 1"
    ]


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
    # The first tier is read whole before the second: its preamble does not run into it.
    assert (
        "この政令を制定する。" in texts(kanpo)[2]
        and "並びに道路交通法（昭和三十五年" in texts(kanpo)[2]
    )


def test_kanpo_running_head_is_neither_title_nor_text_and_its_misread_date_is_said():
    kanpo = real("kanpo-2008-seirei149-vertical.pdf")

    assert kanpo.title is None  # no metadata title, no heading: the first paragraph titles it
    assert texts(kanpo)[:2] == ["政令第百四十九号", "道路交通法施行令の一部を改正する政令"]
    assert not re.search("[™›œŸ˜]|金曜日", "".join(texts(kanpo)))
    assert kanpo.unread_pages == [1] and len(kanpo.warnings) == 1
    assert kanpo.warnings[0].endswith("were left out, on page 1")


def test_ocr_layer_keeps_its_particles_and_word_ends():
    ocr = "\n".join(texts(real("ocr-scan-kogaku-moji-ninshiki.pdf")))

    assert (
        "(鏡やレンズといった光学技術を使った) 光学文字認識と ( スキャナーとアルゴリズムによる)"
        in ocr
    )
    assert "光学文字認識という言葉は現在ではデジタル文字認識を含むものとみなされている。" in ocr
    assert "一般に OCR と略記される。" in ocr


def test_symbol_glyphs_without_a_character_are_left_out_and_said():
    ptex = real("ptex-tategumi-paper-ascii.pdf")

    assert ptex.unread_pages == [9]
    assert ptex.warnings == [
        "6 characters that could not be read (their fonts map them to no character, or to"
        " wrong ones) were left out, on page 9"
    ]
    assert set(ptex.extractors) == {"pypdfium2"}  # every character had a width: no second reading


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
    extracted = real("miyazawa-haru-to-shura-jo-vertical.pdf")
    poem = "\n".join(texts(extracted))

    assert "わたくしといふ現象は假定された有機交流電燈のひとつの青い照明です" in poem
    assert poem.index("これらは二十二箇月の") < poem.index("けれどもこれら新世代沖積世の")
    assert poem.endswith("宮澤賢治")
    assert texts(extracted)[0] == "序"  # its title, as the first paragraph


@pytest.mark.parametrize("name", sorted(path.name for path in FORMATS.glob("*.pdf")) or ["(none)"])
def test_every_real_pdf_reads_into_cited_blocks_of_japanese_text(name):
    extracted = real(name)

    pages = {block.page for block in extracted.blocks}
    assert all(block.line >= 1 and block.text == block.text.strip() for block in extracted.blocks)
    assert min(pages) == 1 and len(re.findall(f"[{JAPANESE}]", "".join(texts(extracted)))) > 50


# --- the machine's fonts ----------------------------------------------------------------------

# Where fontconfig and PDFium look for the machine's fonts.
FONT_FOLDERS = [
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "/usr/share/X11/fonts",
    str(Path.home() / ".fonts"),
    str(Path.home() / ".local" / "share" / "fonts"),
]
EXTRACT = """
import json, os, sys
from search.ingest.readers.pdf import read_pdf
{extraction}
hidden = [folder for folder in sys.argv[1].split(":") if os.listdir(folder)]
assert not hidden, f"fonts still there: {{hidden}}"
print(json.dumps({{path: extraction(read_pdf(open(path, "rb").read())) for path in sys.argv[2:]}}))
"""


def extraction(extracted) -> list:
    """What a reading gives, as JSON gives it back."""
    blocks = [[block.text, block.page, block.line, block.heading] for block in extracted.blocks]
    return [extracted.title, blocks, extracted.unread_pages, extracted.warnings]


def reason_fonts_cannot_be_hidden() -> str | None:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "hiding the machine's fonts needs root (a mount namespace, tmpfs over the fonts)"
    if not shutil.which("unshare"):
        return "hiding the machine's fonts needs unshare (util-linux)"
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, text=True)
    if probe.returncode:
        return f"unshare -m is refused here: {probe.stderr.strip()}"
    return None


def read_with_fonts_hidden(paths: list[Path]) -> dict:
    """The readings of `paths` by a Python process that sees no font of the machine: an empty
    tmpfs is mounted over every font folder, in a mount namespace of its own."""
    folders = [folder for folder in FONT_FOLDERS if os.path.isdir(folder)]
    mounts = [f"mount -t tmpfs none {shlex.quote(folder)} && " for folder in folders]
    command = "".join(mounts) + shlex.join(
        [
            sys.executable,
            "-c",
            EXTRACT.format(extraction=inspect.getsource(extraction)),
            ":".join(folders),
            *map(str, paths),
        ]
    )
    run = subprocess.run(
        ["unshare", "-m", "sh", "-c", command], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_every_pdf_reads_the_same_with_the_machines_fonts_hidden(tmp_path):
    reason = reason_fonts_cannot_be_hidden()
    if reason:
        if os.environ.get("KENSAKU_TEST_FONTS_HIDDEN") == "required":
            pytest.fail(reason)
        pytest.skip(reason)
    drawn = {"vertical.pdf": vertical_page(), "ocr-layer.pdf": ocr_layer_page()}
    for name, data in drawn.items():
        (tmp_path / name).write_bytes(data)
    # The 115 pages of the LuaTeX-ja manual, whose fonts are all embedded, are left to the
    # measurements: they would double this test's time.
    real_pdfs = [
        path for path in sorted(FORMATS.glob("*.pdf")) if path.name != "luatexja-manual-ja.pdf"
    ]
    paths = [tmp_path / name for name in drawn] + real_pdfs

    hidden = read_with_fonts_hidden(paths)

    for path in paths:
        assert hidden[str(path)] == extraction(read_pdf(path.read_bytes())), path.name
    assert hidden[str(tmp_path / "vertical.pdf")][1] == [[VERTICAL_TEXT, 1, 1, False]]


# --- in the index -----------------------------------------------------------------------------


def kensaku(*args: str):
    from click.testing import CliRunner

    from search.cli.main import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def gazette_page() -> bytes:
    """A page whose running head holds a date in a symbol font, misread (see above)."""
    return draw_pdf(
        [
            [
                (LEFT, 800, "平成"),
                (LEFT + 24, 800, "™—", SIZE, "Helvetica"),
                (LEFT + 40, 800, "年"),
                (LEFT + 54, 800, "›", SIZE, "Helvetica"),
                (LEFT + 62, 800, "月"),
                (LEFT + 140, 800, "金曜日", 14),
                (LEFT + 260, 800, "官報", 14),
                (LEFT, TOP, "本文は読める。"),
            ]
        ]
    )


def test_text_left_unread_is_warned_once_and_counted_in_the_summary_and_the_status(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "gazette.pdf").write_bytes(gazette_page())
    (docs / "note.txt").write_text("読める文書。\n", encoding="utf-8")

    built = kensaku("index", "--docs", str(docs), "--index", str(tmp_path / "ix"))
    status = kensaku("status", "-v", "--index", str(tmp_path / "ix"))
    as_json = json.loads(kensaku("status", "--json", "--index", str(tmp_path / "ix")).stdout)

    assert built.exit_code == 0
    assert built.stderr.splitlines() == [
        "kensaku: gazette.pdf: 7 characters that could not be read (their fonts map them to no"
        " character, or to wrong ones) were left out, on page 1"
    ]
    assert built.stdout.rstrip().endswith("; 1 with text that could not be read")
    assert "2 documents, 2 paragraphs; 1 with text that could not be read" in status.stdout
    assert "unread gazette.pdf: text that could not be read was left out, on page 1" in (
        status.stdout.splitlines()
    )
    assert as_json["unread"] == {"gazette.pdf": [1]} and as_json["up_to_date"]


@pytest.mark.parametrize(
    "pdfminer_recorded",
    ["20231228", None],
    ids=["an older pdfminer.six", "a kensaku that recorded none"],
)
def test_a_pdf_read_with_another_version_of_a_reader_is_read_again_by_the_next_index(
    tmp_path, pdfminer_recorded
):
    from importlib.metadata import version

    from search.index.manifest import Manifest

    docs, index = tmp_path / "docs", tmp_path / "ix"
    docs.mkdir()
    (docs / "vertical.pdf").write_bytes(vertical_page())  # read by pdfminer.six
    (docs / "note.txt").write_text("読める文書。\n", encoding="utf-8")
    kensaku("index", "--docs", str(docs), "--index", str(index))
    manifest = Manifest.existing(index)
    installed = {"pypdfium2": version("pypdfium2"), "pdfminer.six": version("pdfminer.six")}
    assert manifest.extractors == {"vertical.pdf": installed}
    # The index as a kensaku with an older pdfminer.six, or one before the record, left it.
    older = {"vertical.pdf": {**installed, "pdfminer.six": pdfminer_recorded}}
    dataclasses.replace(manifest, extractors=older if pdfminer_recorded else {}).save(index)

    before = json.loads(kensaku("status", "--json", "--index", str(index)).stdout)
    updated = kensaku("index", "--index", str(index))
    after = json.loads(kensaku("status", "--json", "--index", str(index)).stdout)

    assert (before["up_to_date"], before["reread"], before["changed"]) == (
        False,
        ["vertical.pdf"],
        [],
    )
    assert "read again with a new reader version vertical.pdf (1 paragraph indexed)" in (
        updated.stdout
    )
    assert (after["up_to_date"], after["reread"]) == (True, [])
    assert Manifest.existing(index).extractors == {"vertical.pdf": installed}
