"""Documents to paragraphs: sources, titles, paragraph and line numbers, text unchanged."""

import pytest

from search.errors import DocumentsNotFound
from search.ingest.discovery import scan
from search.ingest.paragraphs import read_paragraphs

from .conftest import SEEDS


def test_every_file_in_a_format_kensaku_reads_is_a_document(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("b.txt", "sub/a.txt", "notes.md", "NESTED.TXT", "page.HTM", "book.epub"):
        (tmp_path / name).write_text("a\n", encoding="utf-8")
    (tmp_path / "sheet.xlsx").write_text("not a document\n", encoding="utf-8")
    assert [d.source for d in scan(tmp_path).documents] == [
        "NESTED.TXT",
        "b.txt",
        "book.epub",
        "notes.md",
        "page.HTM",
        "sub/a.txt",
    ]


def test_the_seeds_are_five_documents():
    assert [d.source for d in scan(SEEDS).documents] == sorted(p.name for p in SEEDS.glob("*.txt"))
    assert len(scan(SEEDS).documents) == 5


def test_each_non_blank_line_is_a_paragraph_with_title_number_and_line(tmp_path):
    (tmp_path / "doc.txt").write_text(
        "\n  題名  \n\n本文の一段落目。\r\n　\n二段落目\n", encoding="utf-8"
    )
    paragraphs = list(read_paragraphs(scan(tmp_path).documents[0]))
    assert [(p.paragraph, p.line, p.text) for p in paragraphs] == [
        (1, 2, "  題名  "),
        (2, 4, "本文の一段落目。"),
        (3, 6, "二段落目"),
    ]
    assert {p.title for p in paragraphs} == {"題名"}
    assert {p.source for p in paragraphs} == {"doc.txt"}


def test_seed_paragraph_keeps_its_original_text():
    document = next(d for d in scan(SEEDS).documents if d.source.startswith("001_"))
    paragraphs = list(read_paragraphs(document))
    lines = (SEEDS / document.source).read_text(encoding="utf-8").split("\n")
    sixth = paragraphs[5]
    assert (sixth.paragraph, sixth.line) == (6, 6)
    assert sixth.text == lines[5] == "◆日本、「ピラー2」参加の可能性"
    # Its first line is its lead paragraph, not a title: the file name stands in.
    assert sixth.title == "001_2eb2e19b899ffa84" != lines[0]


def test_a_missing_documents_directory_is_an_error(tmp_path):
    with pytest.raises(DocumentsNotFound, match="documents directory not found"):
        scan(tmp_path / "nowhere").documents


def test_a_utf8_bom_is_not_part_of_the_title(tmp_path):
    (tmp_path / "bom.txt").write_bytes("\ufeff見出し\n本文\n".encode("utf-8"))
    first = next(read_paragraphs(scan(tmp_path).documents[0]))
    assert first.text == "見出し" and first.title == "見出し"
