"""Narrowing a search: filters in the query syntax and as options (format, path, dates), facet
counts over all the matches checked against a count made directly from the documents, sorting
by date, suggestions, the documents' own dates, and the same through the CLI and the API.

The documents are made here, in folders, in five formats, each with a known date (its own, or
its file's modification time set before indexing)."""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import search
from search.errors import QuerySyntaxError
from search.ingest.readers.dates import iso_day, pdf_day
from search.query.filters import Filters
from search.query.parser import parse

from .conftest import REPO

SHARED = Path(os.environ.get("KENSAKU_SHARED", REPO.parent / "shared"))


def noon(year: int, month: int, day: int) -> float:
    return time.mktime((year, month, day, 12, 0, 0, 0, 0, -1))


# (path, format, day, paragraphs): what each document holds, as a reader of it sees it.
TEXT_DOCUMENTS = {
    "報告書/2024/a.txt": (
        "text",
        "2024-03-01",
        ["梅雨前線の報告", "統合作戦司令部の設置", "関係のない行", "梅雨明けの見通し"],
    ),
    "報告書/2023/b.txt": ("text", "2023-06-15", ["梅雨の記録", "統合作戦司令部の予算", "統合の話"]),
}
DOCUMENTS = {
    **TEXT_DOCUMENTS,
    "メモ/c.md": ("markdown", "2022-01-10", ["梅雨のメモ", "梅雨と台風。", "晴れの日。"]),
    "d.html": ("html", "2021-09-30", ["梅雨の季節", "秋の空"]),
    "報告書/e.docx": ("docx", "2020-04-01", ["梅雨対策の方針", "予算の概要"]),
}


def write_documents(docs: Path) -> None:
    """The DOCUMENTS, each dated as it says: text and Markdown by their modification time,
    HTML by its <meta name="date">, Word by its core properties."""
    import docx

    for path, (kind, day, paragraphs) in DOCUMENTS.items():
        target = docs / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if kind == "text":
            target.write_text("\n".join(paragraphs) + "\n", encoding="utf-8")
        elif kind == "markdown":
            target.write_text(
                f"# {paragraphs[0]}\n\n" + "\n\n".join(paragraphs[1:]) + "\n", encoding="utf-8"
            )
        elif kind == "html":
            body = "".join(f"<p>{text}</p>" for text in paragraphs)
            target.write_text(
                f'<html><head><meta name="date" content="{day}"><title>季節</title></head>'
                f"<body>{body}</body></html>",
                encoding="utf-8",
            )
        else:
            document = docx.Document()
            for text in paragraphs:
                document.add_paragraph(text)
            document.core_properties.created = datetime(*map(int, day.split("-")), 3, 0)
            document.save(target)
        year, month, date = map(int, day.split("-"))
        stamp = noon(year, month, date) if kind in ("text", "markdown") else noon(2025, 5, 5)
        os.utime(target, (stamp, stamp))


@pytest.fixture(scope="module")
def narrow_index(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("narrow")
    write_documents(root / "docs")
    search.build_index(root / "docs", root / "index")
    return root / "index"


@pytest.fixture(scope="module")
def narrow_searcher(narrow_index):
    with search.Searcher(narrow_index) as opened:
        yield opened


def direct_count(word: str, keep=lambda path, kind, day: True) -> dict[str, dict[str, int]]:
    """Facet counts of the paragraphs holding `word`, made from DOCUMENTS directly: by format, by
    top folder, by year."""
    counts: dict[str, dict[str, int]] = {"format": {}, "folder": {}, "year": {}}
    for path, (kind, day, paragraphs) in DOCUMENTS.items():
        held = sum(word in text for text in paragraphs)
        if not held or not keep(path, kind, day):
            continue
        keys = {
            "format": kind,
            "folder": path.split("/")[0] if "/" in path else "",
            "year": day[:4],
        }
        for facet, key in keys.items():
            if key:
                counts[facet][key] = counts[facet].get(key, 0) + held
    return counts


def facet_counts(facets) -> dict[str, dict[str, int]]:
    return {
        name: {value.value: value.count for value in getattr(facets, name)}
        for name in ("format", "folder", "year")
    }


# The syntax ---------------------------------------------------------------------------------


def test_filters_are_taken_out_of_the_query_wherever_they_stand():
    parsed = parse('format:pdf ピラー2 -path:drafts after:2024 before:2024-07 "format:docx"')
    assert parsed.text == 'ピラー2 "format:docx"'  # a quoted phrase stays a phrase
    assert parsed.filters == Filters(
        formats=("pdf",), not_paths=("drafts",), after=20240101, before=20240701
    )
    assert parsed.filters.terms == (
        "format:pdf",
        "-path:drafts",
        "after:2024-01-01",
        "before:2024-07-01",
    )


@pytest.mark.parametrize(
    ("query", "text", "filters"),
    [
        ("(format:pdf ピラー2)", "( ピラー2)", Filters(formats=("pdf",))),
        ("(ピラー2 format:pdf) OR 日米", "(ピラー2 ) OR 日米", Filters(formats=("pdf",))),
        ('(path:"my folder") ピラー2', "ピラー2", Filters(paths=("my folder",))),
        ("((after:2024)) ピラー2", "ピラー2", Filters(after=20240101)),
        ("path:資料(2024)/a ピラー2", "ピラー2", Filters(paths=("資料(2024)/a",))),
    ],
)
def test_a_filter_in_parentheses_is_read_as_a_filter_of_the_whole_query(query, text, filters):
    """Its value ends with its group (outside one, a path may hold parentheses); a group left
    empty goes."""
    parsed = parse(query)
    assert (parsed.text, parsed.filters) == (text, filters)


@pytest.mark.parametrize("query", ["年号 -(format:text)", "年号 NOT (牛丼 format:text)"])
def test_a_filter_in_a_group_left_out_is_a_one_line_error(query):
    with pytest.raises(QuerySyntaxError, match="write -format:… outside the parentheses"):
        parse(query)


def test_a_question_keeps_its_filters_and_stays_a_question():
    parsed = parse("日本で梅雨がないのはどこですか？ format:docx,md")
    assert parsed.is_question and parsed.filters.formats == ("docx", "markdown")


def test_a_query_of_filters_alone_keeps_every_paragraph_they_admit():
    parsed = parse("format:pdf after:2024")
    assert parsed.tree is None and parsed.filters.after == 20240101


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("ピラー2 format:xls", "unknown format 'xls'"),
        ("ピラー2 after:2024-13", "after: '2024-13' is not a date"),
        ("ピラー2 after:2024-02-30", "after: '2024-02-30' is not a date"),
        ("ピラー2 before:2023-02-29", "before: '2023-02-29' is not a date"),
        ("ピラー2 before:昨日", "before: needs a date as YYYY, YYYY-MM or YYYY-MM-DD"),
        ("ピラー2 -after:2024", "-after: cannot be negated; use before: instead"),
        ("ピラー2 path:", "path: needs a value"),
    ],
)
def test_a_filter_that_cannot_be_read_is_a_one_line_error(query, message):
    with pytest.raises(QuerySyntaxError, match=message.replace("(", r"\(")):
        parse(query)


@pytest.mark.parametrize(
    ("pattern", "kept"),
    [
        ("報告書", {"報告書/2024/a.txt", "報告書/2023/b.txt", "報告書/e.docx"}),
        ("報告書/2024", {"報告書/2024/a.txt"}),
        ("/報告書/2023/", {"報告書/2023/b.txt"}),
        ("*.txt", {"報告書/2024/a.txt", "報告書/2023/b.txt"}),
        ("報告書/*", {"報告書/2024/a.txt", "報告書/2023/b.txt", "報告書/e.docx"}),
        ("報告書/*.docx", {"報告書/e.docx"}),
        ("d.html", {"d.html"}),
    ],
)
def test_a_path_names_a_folder_or_file_or_is_a_glob(pattern, kept):
    filters = Filters.of(paths=[pattern])
    assert {path for path in DOCUMENTS if filters.admits(path, 20240101)} == kept
    left_out = Filters.of(paths=[f"!{pattern}"])
    assert {path for path in DOCUMENTS if left_out.admits(path, 20240101)} == set(DOCUMENTS) - kept


def test_dates_bound_a_period_after_its_start_and_before_the_next():
    filters = Filters.of(after="2024", before="2024-07")
    assert [filters.admits("a.txt", day) for day in (20231231, 20240101, 20240630, 20240701)] == [
        False,
        True,
        True,
        False,
    ]


def test_the_documents_own_dates_are_read_as_days():
    assert pdf_day("D:20240105") == "2024-01-05"
    assert iso_day("2024-01-05") == iso_day("2024年1月5日") == iso_day("2024/1/5") == "2024-01-05"
    utc = datetime(2024, 1, 4, 20, 30, tzinfo=timezone.utc)
    local = utc.astimezone().strftime("%Y-%m-%d")
    assert iso_day("2024-01-04T20:30:00Z") == local
    assert pdf_day("D:20240105053000+09'00'") == local
    assert (iso_day("0000-00-00"), iso_day("いつか"), pdf_day("D:0000"), iso_day(None)) == (
        None,
        None,
        None,
        None,
    )


def test_a_pdf_is_dated_by_its_creation_date():
    pdf = SHARED / "formats" / "mext-whitepaper-r6-ch3.pdf"
    if not pdf.exists():
        pytest.skip(f"{pdf} not found (the shared formats; KENSAKU_SHARED names the folder)")
    import pypdfium2

    from search.ingest.readers.pdf import read_pdf

    document = pypdfium2.PdfDocument(pdf.read_bytes())
    written = document.get_metadata_value("CreationDate")
    document.close()
    day = datetime.strptime(written[2:10], "%Y%m%d")
    read = datetime.strptime(read_pdf(pdf.read_bytes()).date, "%Y-%m-%d")
    assert abs(read - day) <= timedelta(days=1)  # the day it was where this machine is


# Filters, facets and sorting over a real index -----------------------------------------------


def test_every_paragraph_is_dated_by_its_document(narrow_searcher):
    results = narrow_searcher.search("梅雨", limit=20)
    assert results.total == 7
    assert {(hit.source, hit.date, hit.format) for hit in results.hits} == {
        (path, day, kind) for path, (kind, day, _) in DOCUMENTS.items()
    }


def test_facets_count_every_match_as_the_documents_do(narrow_searcher):
    results = narrow_searcher.search("梅雨", limit=1, facets=True)
    assert len(results.hits) == 1 and results.total == 7
    assert facet_counts(results.facets) == direct_count("梅雨")
    by_format = {value.value: value.documents for value in results.facets.format}
    assert by_format == {"text": 2, "markdown": 1, "html": 1, "docx": 1}
    assert [value.value for value in results.facets.year] == [
        "2024",
        "2023",
        "2022",
        "2021",
        "2020",
    ]


@pytest.mark.parametrize(
    ("filters", "keep"),
    [
        (Filters.of(formats=["txt"]), lambda path, kind, day: kind == "text"),
        (Filters.of(formats=["!text"]), lambda path, kind, day: kind != "text"),
        (Filters.of(paths=["報告書"]), lambda path, kind, day: path.startswith("報告書/")),
        (Filters.of(after="2022"), lambda path, kind, day: day >= "2022"),
        (
            Filters.of(after="2021-06", before="2023-07"),
            lambda path, kind, day: "2021-06" <= day < "2023-07",
        ),
    ],
)
def test_filters_narrow_the_hits_the_total_and_the_facets(narrow_searcher, filters, keep):
    results = narrow_searcher.search("梅雨", limit=20, filters=filters, facets=True)
    expected = direct_count("梅雨", keep)
    assert results.total == sum(expected["format"].values())
    assert {hit.source for hit in results.hits} == {
        path for path, (kind, day, _) in DOCUMENTS.items() if keep(path, kind, day)
    }
    counts = facet_counts(results.facets)
    assert (counts["format"], counts["year"]) == (expected["format"], expected["year"])


def test_each_facet_value_narrows_to_its_count(narrow_searcher):
    facets = narrow_searcher.search("梅雨", facets=True).facets
    for value in facets.format:
        assert narrow_searcher.search(f"梅雨 format:{value.value}").total == value.count
    for value in facets.folder:
        assert narrow_searcher.search(f"梅雨 path:{value.value}").total == value.count
    for value in facets.year:
        year = int(value.value)
        assert narrow_searcher.search(f"梅雨 after:{year} before:{year + 1}").total == value.count


def test_once_a_folder_is_chosen_its_folders_are_counted(narrow_searcher):
    results = narrow_searcher.search("梅雨 path:報告書", facets=True)
    assert results.facets.folder_base == "報告書"
    assert facet_counts(results.facets)["folder"] == {"報告書/2024": 2, "報告書/2023": 1}


def test_filters_combine_with_questions_or_and_not(narrow_searcher):
    question = narrow_searcher.search("梅雨はいつ明けますか？ path:報告書/2024", limit=20)
    assert question.total and {hit.source for hit in question.hits} == {"報告書/2024/a.txt"}
    either = narrow_searcher.search("(梅雨 OR 予算) format:docx", limit=20)
    assert [(hit.source, hit.paragraph) for hit in either.hits] in (
        [("報告書/e.docx", 1), ("報告書/e.docx", 2)],
        [("報告書/e.docx", 2), ("報告書/e.docx", 1)],
    )
    without = narrow_searcher.search("梅雨 -前線 -path:メモ -format:html,docx", limit=20)
    assert {hit.text for hit in without.hits} == {"梅雨明けの見通し", "梅雨の記録"}


def test_sorting_by_date_puts_the_newest_documents_first(narrow_searcher):
    results = narrow_searcher.search("梅雨", limit=20, sort="date")
    assert [hit.date for hit in results.hits] == [
        "2024-03-01",
        "2024-03-01",
        "2023-06-15",
        "2022-01-10",
        "2022-01-10",
        "2021-09-30",
        "2020-04-01",
    ]
    paged = narrow_searcher.search("梅雨", limit=2, offset=2, sort="date")
    assert [hit.source for hit in paged.hits] == ["報告書/2023/b.txt", "メモ/c.md"]
    assert list(narrow_searcher.sources("梅雨", sort="date")) == [
        "報告書/2024/a.txt",
        "報告書/2023/b.txt",
        "メモ/c.md",
        "d.html",
        "報告書/e.docx",
    ]


def test_a_query_of_filters_alone_lists_their_paragraphs_newest_first(narrow_searcher):
    results = narrow_searcher.search("path:報告書 after:2023", limit=20, sort="date", facets=True)
    assert results.total == 7
    assert [hit.text for hit in results.hits[:4]] == [
        "梅雨前線の報告",
        "統合作戦司令部の設置",
        "関係のない行",
        "梅雨明けの見通し",
    ]
    assert facet_counts(results.facets)["year"] == {"2024": 4, "2023": 3}


def test_an_unknown_sort_is_refused(narrow_searcher):
    with pytest.raises(QuerySyntaxError, match="unknown sort 'oldest'"):
        narrow_searcher.search("梅雨", sort="oldest")


# Suggestions -------------------------------------------------------------------------------


def test_suggestions_complete_words_and_phrases_as_written_by_paragraphs(narrow_searcher):
    found = narrow_searcher.suggest("統合")
    assert [(s.text, s.paragraphs) for s in found] == [("統合", 3), ("統合作戦司令部", 2)]
    assert found[1].reading == "トウゴウサクセンシレイブ"


def test_a_kana_prefix_finds_kanji_words_by_their_reading(narrow_searcher):
    assert [s.text for s in narrow_searcher.suggest("とうご")] == ["統合", "統合作戦司令部"]
    assert narrow_searcher.suggest("つゆ")[0].text == "梅雨"
    assert narrow_searcher.suggest("　") == []


def test_an_update_counts_the_words_of_the_documents_added(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("統合の話\n", encoding="utf-8")
    search.build_index(docs, tmp_path / "ix")
    (docs / "b.txt").write_text("統合作戦司令部\n統合作戦司令部の話\n", encoding="utf-8")
    search.update_index(docs, tmp_path / "ix")
    with search.Searcher(tmp_path / "ix") as searcher:
        assert [(s.text, s.paragraphs) for s in searcher.suggest("統合")] == [
            ("統合", 3),
            ("統合作戦司令部", 2),
        ]


# The command line ----------------------------------------------------------------------------


@pytest.fixture
def kensaku_narrow(narrow_index, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from search.cli.main import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KENSAKU_INDEX", str(narrow_index))
    for name in ("KENSAKU_DOCS", "KENSAKU_CONFIG", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)

    def invoke(*args: str):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return invoke


def test_the_cli_narrows_with_options_as_ripgrep_does(kensaku_narrow):
    listed = kensaku_narrow("search", "-l", "-t", "txt", "-g", "報告書", "梅雨")
    assert listed.exit_code == 0
    assert sorted(Path(line).name for line in listed.output.splitlines()) == ["a.txt", "b.txt"]
    dated = kensaku_narrow("search", "-l", "--sort", "date", "--before", "2022", "梅雨")
    assert [Path(line).name for line in dated.output.splitlines()] == ["d.html", "e.docx"]
    left_out = kensaku_narrow("search", "-c", "-T", "text", "-g", "!d.html", "梅雨")
    assert sorted(Path(line).name for line in left_out.output.splitlines()) == [
        "c.md:2",
        "e.docx:1",
    ]
    none = kensaku_narrow("search", "-t", "epub", "梅雨")
    assert (none.exit_code, none.output.strip()) == (1, "no paragraph matches 梅雨 format:epub")
    typed = kensaku_narrow("search", "-g", "報告書", "梅雨 format:txt")
    assert typed.output.splitlines()[0] == "3 paragraphs match 梅雨 format:txt path:報告書"


def test_the_cli_json_holds_the_filters_the_order_and_the_facets(kensaku_narrow):
    printed = kensaku_narrow("search", "--json", "-n", "2", "--sort", "date", "-t", "md", "梅雨")
    data = json.loads(printed.output)
    assert (data["filters"], data["sort"], data["total"]) == (["format:markdown"], "date", 2)
    assert data["facets"]["format"] == [{"value": "markdown", "count": 2, "documents": 1}]
    assert data["facets"]["folder"] == [{"value": "メモ", "count": 2, "documents": 1}]
    assert [(hit["format"], hit["date"]) for hit in data["hits"]] == [
        ("markdown", "2022-01-10"),
        ("markdown", "2022-01-10"),
    ]


def test_a_bad_filter_option_is_a_usage_error(kensaku_narrow):
    result = kensaku_narrow("search", "--after", "2024-13", "梅雨")
    assert result.exit_code == 2
    assert result.output.strip() == (
        "Error: after: '2024-13' is not a date (see `main search --help`)"
    )
    result = kensaku_narrow("search", "梅雨 format:xls")
    assert result.exit_code == 2 and "unknown format 'xls'" in result.output


# The API -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def narrow_served(tmp_path_factory):
    from .serving import Server

    root = tmp_path_factory.mktemp("narrow-served")
    write_documents(root / "docs")
    server = Server("--docs", str(root / "docs"), "--index", str(root / "index"), "--refresh", "0")
    yield server
    server.stop()


def test_the_api_narrows_sorts_and_counts_facets(narrow_served):
    from search.server.api_schema import SearchBody

    reply = narrow_served.get(
        "/api/search",
        {"q": "梅雨", "path": "報告書", "format": "!docx", "sort": "date", "limit": 2},
    )
    assert reply.status == 200
    body = reply.json()
    SearchBody.model_validate(body)
    assert (body["total"], body["filters"], body["sort"]) == (
        3,
        ["-format:docx", "path:報告書"],
        "date",
    )
    assert [hit["source"] for hit in body["hits"]] == ["報告書/2024/a.txt", "報告書/2024/a.txt"]
    assert body["facets"]["folder"] == [
        {"value": "報告書/2024", "count": 2, "documents": 1},
        {"value": "報告書/2023", "count": 1, "documents": 1},
    ]
    bad = narrow_served.get("/api/search", {"q": "梅雨", "after": "今年"})
    assert (bad.status, bad.json()) == (
        400,
        {"error": "after: needs a date as YYYY, YYYY-MM or YYYY-MM-DD, not '今年'"},
    )


def test_the_api_suggests_completions(narrow_served):
    reply = narrow_served.get("/api/suggest", {"q": "とうご", "limit": 1})
    assert reply.status == 200
    assert reply.json() == {
        "query": "とうご",
        "suggestions": [{"text": "統合", "reading": "トウゴウ", "paragraphs": 3}],
    }
    assert narrow_served.get("/api/suggest", {"q": "x", "limit": 0}).status == 400
