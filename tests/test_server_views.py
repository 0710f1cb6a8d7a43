"""What the pages show, worked out by search.server.pages and rendered by the real templates:
a long document a part at a time with each page's number once, citations page before line, the
header's counts, and every error the query parser gives said in Japanese."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader, select_autoescape

from search.errors import QuerySyntaxError
from search.ingest.paragraphs import Paragraph
from search.query.parser import parse
from search.results.hits import Hit, Place, SearchResults
from search.server.pages import (
    MODE_LABELS,
    PART_SIZE,
    DocumentsView,
    DocumentView,
    Links,
    ResultsView,
    cite,
    in_japanese,
)

TEMPLATES = Path(__file__).resolve().parents[1] / "search" / "server" / "templates"
LINKS = Links("", "auto", "auto")


def paragraphs(count: int, per_page: int | None = None) -> list[Paragraph]:
    """`count` paragraphs of one document; with `per_page`, on pages of that many."""
    return [
        Paragraph(
            source="long.pdf" if per_page else "long.txt",
            title="長い文書",
            paragraph=number,
            line=(number - 1) % per_page + 1 if per_page else number,
            text=f"第{number}段落の本文。",
            page=(number - 1) // per_page + 1 if per_page else None,
        )
        for number in range(1, count + 1)
    ]


def render_document(view: DocumentView, chosen: int | None = None) -> str:
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape())
    return environment.get_template("document.html").render(
        query="",
        mode="auto",
        modes=MODE_LABELS,
        source="long.pdf",
        title="長い文書",
        view=view,
        chosen=chosen,
        chosen_text=[("本文", False)],
        back=None,
    )


def test_a_long_document_is_shown_a_part_at_a_time_the_chosen_paragraphs_part_first():
    document = paragraphs(450)
    view = DocumentView("long.txt", document, chosen=420, part=None, links=LINKS)
    assert view.parts == [(0, 200), (200, 400), (400, 450)] and PART_SIZE == 200
    assert view.number == 3 and view.next is None
    assert [len(group.paragraphs) for group in view.groups] == [50]
    assert [label for label, _ in view.links] == ["¶1–200", "¶201–400", "¶401–450"]
    assert view.previous == "/documents/long.txt?paragraph=420&part=2"
    second = DocumentView("long.txt", document, chosen=None, part=2, links=LINKS)
    assert second.number == 2 and second.next == "/documents/long.txt?part=3"
    html = render_document(view, chosen=420)
    assert html.count('<li id="p') == 50 and '<li id="p420" class="chosen">' in html
    assert "450段落（3部分に分けて表示）" in html and "page-head" not in html


def test_a_paged_document_is_cut_between_pages_and_each_page_number_is_shown_once():
    document = paragraphs(450, per_page=15)  # 30 pages
    view = DocumentView("long.pdf", document, chosen=None, part=None, links=LINKS)
    # 200 paragraphs end inside page 14: the part takes the whole page.
    assert view.parts == [(0, 210), (210, 420), (420, 450)]
    assert [label for label, _ in view.links] == ["1–14ページ", "15–28ページ", "29–30ページ"]
    html = render_document(view)
    assert html.count('class="page-head"') == 14
    assert '<h2 class="page-head" id="page3">3ページ</h2>' in html
    assert (
        html.count("ページ</h2>") == 14 and html.count("ページ") == 14 + 2 * 3
    )  # and the parts above and below
    assert '<span class="line">1行</span>' in html  # a paragraph shows its line on its page


def test_citations_put_the_page_before_the_line():
    assert cite(Place("b.pdf", 5, 40, 3)) == "b.pdf 3ページ 5行"
    assert cite(Place("a.txt", 12, 7)) == "a.txt:12"


def hit(rank: int, partial: bool) -> Hit:
    return Hit(rank, 1.0, "a.txt", "題", rank, rank, "本文", partial=partial)


@pytest.mark.parametrize(
    "partial_hits, offset, total, expected",
    [
        (0, 0, 13, "「日米 韓国」に一致する段落: 13件（1–10件目を表示）"),
        (
            9,
            0,
            1,
            "「日米 韓国」の語をすべて含む段落: 1件。続いて一部の語のみを含む段落9件（1–10件目を表示）",
        ),
        (
            10,
            10,
            1,
            "「日米 韓国」の語をすべて含む段落: 1件。ここからは一部の語のみを含む段落10件（11–20件目を表示）",
        ),
    ],
)
def test_the_header_counts_hits_with_all_the_words_apart_from_those_with_some(
    partial_hits, offset, total, expected
):
    hits = [hit(offset + n + 1, partial=n >= 10 - partial_hits) for n in range(10)]
    results = SearchResults("日米 韓国", total, hits, offset=offset)
    assert ResultsView(results, offset, LINKS).summary == expected


def test_the_documents_list_pages_by_fifty():
    view = DocumentsView(120, [], 50)
    assert (view.previous, view.next) == ("/documents", "/documents?offset=100")
    assert DocumentsView(120, [], 100).next is None


@pytest.mark.parametrize(
    "query, mode",
    [
        ("", "auto"),
        ("。、！", "auto"),
        ('"ピラー2', "auto"),
        ('source:"ピラー2', "auto"),
        ("source:", "auto"),
        ("(ピラー2", "auto"),
        ("ピラー2)", "auto"),
        ("()", "auto"),
        ("ピラー2 OR", "auto"),
        ("ピラー2 AND", "auto"),
        ("NOT", "auto"),
        ("ピラー2 -(", "auto"),
        ("あ" * 1001, "auto"),
        ("\ud800", "auto"),
        ("(" * 40 + "日本" + ")" * 40, "auto"),
        (" ".join(f"語{n}" for n in range(70)), "keyword"),
        ("日本", "fast"),
    ],
)
def test_every_error_of_the_query_parser_has_its_japanese(query, mode):
    with pytest.raises(QuerySyntaxError) as caught:
        parse(query, mode)
    japanese = in_japanese(str(caught.value))
    assert japanese and japanese.endswith("。"), str(caught.value)
