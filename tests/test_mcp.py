"""The MCP server, driven by the MCP SDK's own client over stdio (a real `kensaku mcp` subprocess,
as a desktop client starts it) and over streamable HTTP (a real `kensaku mcp --http` process on
127.0.0.1): its tools and resources on a copy of the seeds with a PDF, a long document and one in a
folder; bad input as one-line tool errors; and `kensaku mcp` without the SDK."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip(
    "mcp.server.mcpserver", reason="the MCP tests need the MCP SDK: pip install 'kensaku[mcp]'"
)

from anyio.from_thread import BlockingPortal, start_blocking_portal
from click.testing import CliRunner
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult

import search
from search.cli.main import main
from search.query.parser import MODES

from .conftest import SEEDS
from .serving import Server

PILLAR = "001_2eb2e19b899ffa84.txt"
IN_FOLDER = "資料/灯台 メモ.txt"  # a folder, kanji and a space: its URI is percent-encoded
IN_FOLDER_URI = "kensaku://documents/%E8%B3%87%E6%96%99/%E7%81%AF%E5%8F%B0%20%E3%83%A1%E3%83%A2.txt"
LONG = "long.txt"  # more than one part when read as a resource
LONG_LINES = 300
PDF = "report.pdf"
DOCUMENTS = sorted([path.name for path in SEEDS.glob("*.txt")] + [IN_FOLDER, LONG, PDF])
TOOLS = {"search", "read", "documents", "status"}


def draw_pdf(path: Path) -> None:
    """Two pages of Latin text (a built-in font, which any machine can extract)."""
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path))
    pdf.setTitle("Annual report")
    for lines in (
        ["The first page speaks of harbours and lighthouses.", "Its keeper is named here."],
        ["The second page tells of the storm of the winter."],
    ):
        pdf.setFont("Helvetica", 11)
        for number, line in enumerate(lines):
            pdf.drawString(72, 760 - 60 * number, line)
        pdf.showPage()
    pdf.save()


@pytest.fixture(scope="module")
def docs(tmp_path_factory) -> Path:
    """The seeds, a document in a folder, a long document and a PDF; not indexed yet."""
    docs = tmp_path_factory.mktemp("mcp") / "docs"
    shutil.copytree(SEEDS, docs)
    (docs / IN_FOLDER).parent.mkdir()
    (docs / IN_FOLDER).write_text("港の灯台は明治に建てられた。灯台守が記録を残した。\n", "utf-8")
    (docs / LONG).write_text(
        "".join(
            f"第{n}行。長い文書を部分に分けて読む試験のための文を、ここに三度書く。" * 3 + "\n"
            for n in range(1, LONG_LINES + 1)
        ),
        "utf-8",
    )
    draw_pdf(docs / PDF)
    return docs


class Session:
    """An MCP client session held open across a module's tests, called from their thread."""

    def __init__(self, portal: BlockingPortal, client: Client, transport: str, log) -> None:
        self.portal, self.client, self.transport, self._log = portal, client, transport, log

    def call(self, tool: str, **arguments) -> CallToolResult:
        return self.portal.call(self.client.call_tool, tool, arguments)

    def answer(self, tool: str, **arguments) -> dict:
        """The structured content of a call that must succeed."""
        result = self.call(tool, **arguments)
        assert not result.is_error, result.content[0].text
        return result.structured_content

    def read(self, uri: str) -> str:
        (contents,) = self.portal.call(self.client.read_resource, uri).contents
        return contents.text

    def tools(self) -> dict:
        return {tool.name: tool for tool in self.portal.call(self.client.list_tools).tools}

    def resources(self) -> list:
        return self.portal.call(self.client.list_resources).resources

    def templates(self) -> list:
        return self.portal.call(self.client.list_resource_templates).resource_templates

    @property
    def log(self) -> str:
        """What the server wrote to its stderr so far."""
        return self._log()


@pytest.fixture(scope="module", params=["stdio", "http"])
def session(request, docs, tmp_path_factory):
    """One `kensaku mcp` process for the module's tests, over stdio or over HTTP; the first to
    start builds the index."""
    index = docs.parent / "index"
    args = ["--docs", str(docs), "--index", str(index), "--refresh", "0"]
    with start_blocking_portal() as portal:
        if request.param == "stdio":
            errors = tmp_path_factory.mktemp("stdio") / "stderr.txt"
            with open(errors, "w+", encoding="utf-8") as errlog:
                command = [sys.executable, "-m", "search", "mcp", *args]
                parameters = StdioServerParameters(
                    command=command[0], args=command[1:], env=dict(os.environ), cwd=docs.parent
                )
                client = Client(stdio_client(parameters, errlog=errlog))
                with portal.wrap_async_context_manager(client):
                    yield Session(portal, client, "stdio", errors.read_text)
        else:
            server = Server(*args, command="mcp --http", cwd=docs.parent)
            try:
                client = Client(server.url)
                with portal.wrap_async_context_manager(client):
                    session = Session(portal, client, "http", lambda: server.stderr)
                    session.server = server
                    yield session
            finally:
                assert server.stop() == 0


# --- tools and resources listed -------------------------------------------------------------


def test_the_four_tools_each_have_an_input_and_an_output_schema(session):
    tools = session.tools()
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.input_schema["type"] == "object" and tool.output_schema["type"] == "object"
        assert tool.annotations.read_only_hint and not tool.annotations.open_world_hint
    limit = tools["search"].input_schema["properties"]["limit"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 50, 10)
    assert tools["search"].input_schema["required"] == ["query"]
    assert tools["read"].input_schema["required"] == ["source"]
    mode = tools["search"].input_schema["properties"]["mode"]["anyOf"][0]["enum"]
    assert tuple(mode) == MODES
    hit = tools["search"].output_schema["$defs"]["Hit"]["properties"]
    assert {"text", "snippet", "highlights", "citation", "score", "also", "partial"} <= set(hit)
    citation = tools["search"].output_schema["$defs"]["Citation"]["properties"]
    assert {"source", "page", "line", "paragraph", "cite"} <= set(citation)
    # Written for a model: the syntax with its Japanese examples, questions, citing.
    description = tools["search"].description
    for said in ("ピラー2 韓国", '"日米 同盟"', "ピラー2 -韓国", "source", "question", "file:line"):
        assert said in description


def test_every_document_is_a_resource_and_the_template_reads_any(session):
    listed = {resource.name: resource for resource in session.resources()}
    assert sorted(listed) == DOCUMENTS
    assert listed[PILLAR].uri == f"kensaku://documents/{PILLAR}"
    assert listed[IN_FOLDER].uri == IN_FOLDER_URI
    assert (listed[PDF].title, listed[PDF].mime_type) == ("Annual report", "text/plain")
    (template,) = session.templates()
    assert template.uri_template == "kensaku://documents/{+source}{?part}"


# --- search ---------------------------------------------------------------------------------


def test_search_finds_pillar_2_in_the_001_paragraph_at_line_8(session, docs):
    result = session.call("search", query="ピラー2", limit=3)
    found = result.structured_content
    first = found["hits"][0]
    assert (found["total"], found["more"], found["next_offset"]) == (13, True, 3)
    assert first["citation"] == {
        "source": PILLAR,
        "page": None,
        "line": 8,
        "column": 1,
        "paragraph": 8,
        "cite": f"{PILLAR}:8",
        "uri": f"kensaku://documents/{PILLAR}",
    }
    assert first["text"] == (docs / PILLAR).read_text("utf-8").split("\n")[7]
    assert {first["text"][start:end] for start, end in first["highlights"]} == {"ピラー2"}
    assert [place["cite"] for place in first["also"]] == [f"{PILLAR}:21"]
    # The same ranking as the library's, and a text giving each hit's citation and snippet.
    library = search.search("ピラー2", docs.parent / "index", limit=3)
    assert [(h["citation"]["source"], h["citation"]["line"]) for h in found["hits"]] == [
        (hit.source, hit.line) for hit in library.hits
    ]
    text = result.content[0].text
    assert text.startswith("13 paragraphs match ピラー2: hits 1–3.")
    assert f"1. {PILLAR}:8 ¶8" in text and first["snippet"] in text
    assert "search again with offset 3" in text


def test_pages_of_hits_follow_on_from_the_offset(session):
    four = session.answer("search", query="ピラー2", limit=4)["hits"]
    page = session.answer("search", query="ピラー2", limit=2, offset=2)
    assert page["hits"] == four[2:4] and [hit["rank"] for hit in page["hits"]] == [3, 4]


def test_a_source_pattern_narrows_the_search_to_those_documents(session):
    narrowed = session.answer("search", query="日米", source="002", limit=50)
    everywhere = session.answer("search", query="日米", limit=50)
    sources = {hit["citation"]["source"] for hit in narrowed["hits"]}
    assert sources == {"002_5cfbee36016c52e4.txt"}
    assert narrowed["total"] == sum(
        hit["citation"]["source"].startswith("002") for hit in everywhere["hits"]
    )
    in_folder = session.answer("search", query="灯台", source="資料/*")
    assert [hit["citation"]["cite"] for hit in in_folder["hits"]] == [f"{IN_FOLDER}:1"]


def test_a_source_narrows_as_the_documents_tool_does_and_keeps_the_query_whole(session):
    """`source` is a start of the path, as `documents` reads it, not the query syntax's source:
    (a name at any depth) that the query was once rewritten with; a filter in the query, soft
    AND, a question and a path with a space go with it."""
    assert session.answer("documents", source="灯台")["total"] == 0
    assert session.answer("search", query="灯台", source="灯台")["total"] == 0
    spaced = session.answer("search", query="灯台", source="資料/灯台 メモ")
    assert [hit["citation"]["cite"] for hit in spaced["hits"]] == [f"{IN_FOLDER}:1"]

    def cited(found: dict) -> list[tuple[str, bool]]:
        return [(hit["citation"]["cite"], hit["partial"]) for hit in found["hits"]]

    narrowed = session.answer("search", query="ピラー2 韓国", source="001", limit=50)
    everywhere = session.answer("search", query="ピラー2 韓国", limit=50)
    assert narrowed["partial"] and cited(narrowed) == [
        place for place in cited(everywhere) if place[0].startswith("001")
    ]
    in_query = session.answer("search", query=f"日米 path:{PILLAR}", source="00", limit=50)
    assert in_query["total"] > 0 and {hit["citation"]["source"] for hit in in_query["hits"]} == {
        PILLAR
    }
    question = {"query": "灯台はいつ建てられたか？", "mode": "question"}
    assert (
        session.answer("search", **question, source="資料/")["hits"][0]["citation"]["cite"]
        == f"{IN_FOLDER}:1"
    )
    assert all(
        hit["citation"]["source"].startswith("00")
        for hit in session.answer("search", **question, source="00")["hits"]
    )


def test_hits_holding_only_some_of_the_words_are_marked(session):
    found = session.answer("search", query="ピラー2 韓国", limit=20)
    whole = [hit for hit in found["hits"] if not hit["partial"]]
    partial = [hit for hit in found["hits"] if hit["partial"]]
    assert found["partial"] and not found["relaxed"] and whole and partial
    assert found["hits"] == whole + partial
    assert all("韓国" in hit["text"] for hit in whole)
    assert "(some of the words)" in session.call("search", query="ピラー2 韓国").content[0].text
    relaxed = session.answer("search", query="ピラー2 灯台", limit=20)
    assert relaxed["relaxed"] and relaxed["total"] > 0


def test_a_question_finds_the_paragraph_that_answers_it(session):
    found = session.answer("search", query="灯台はいつ建てられたか？", limit=1)
    assert found["hits"][0]["citation"]["cite"] == f"{IN_FOLDER}:1"


# --- read -----------------------------------------------------------------------------------


def test_read_gives_the_paragraph_with_its_context_to_quote(session, docs):
    result = session.call("read", source=PILLAR, paragraph=8, context=1)
    passage = result.structured_content
    lines = (docs / PILLAR).read_text("utf-8").split("\n")
    assert passage["citation"]["cite"] == f"{PILLAR}:8"
    assert [p["citation"]["line"] for p in passage["paragraphs"]] == [7, 8, 9]
    assert passage["text"] == "\n\n".join(lines[6:9])
    assert (passage["document_paragraphs"], passage["document_pages"]) == (28, None)
    text = result.content[0].text
    assert text.startswith(f"{PILLAR}: ¶7–¶9 of 28 paragraphs.")
    assert f"[{PILLAR}:8, ¶8]\n{lines[7]}" in text


def test_read_gives_a_page_of_a_pdf(session):
    first = session.answer("read", source=PDF, page=1, context=0)
    assert [p["citation"]["cite"] for p in first["paragraphs"]] == [f"{PDF} p.1", f"{PDF} p.1"]
    assert first["text"] == (
        "The first page speaks of harbours and lighthouses.\n\nIts keeper is named here."
    )
    second = session.answer("read", source=PDF, page=2, context=1)
    assert [p["citation"]["paragraph"] for p in second["paragraphs"]] == [2, 3]
    assert (second["citation"]["cite"], second["document_pages"]) == (f"{PDF} p.2", 2)


# --- documents and status -------------------------------------------------------------------


def test_documents_lists_them_with_titles_formats_and_pages(session):
    listed = session.answer("documents")
    assert (listed["total"], listed["more"]) == (len(DOCUMENTS), False)
    assert [document["source"] for document in listed["documents"]] == DOCUMENTS
    pdf = next(document for document in listed["documents"] if document["source"] == PDF)
    assert (pdf["title"], pdf["format"], pdf["pages"], pdf["paragraphs"]) == (
        "Annual report",
        "pdf",
        2,
        3,
    )
    page = session.answer("documents", offset=1, limit=2)
    assert [document["source"] for document in page["documents"]] == DOCUMENTS[1:3]
    assert (page["more"], page["next_offset"]) == (True, 3)
    folder = session.answer("documents", source="資料/")
    assert [document["uri"] for document in folder["documents"]] == [IN_FOLDER_URI]


def test_status_says_what_the_index_holds_and_that_it_is_up_to_date(session, docs):
    result = session.call("status")
    status = result.structured_content
    assert (status["documents"], status["up_to_date"], status["updating"]) == (
        len(DOCUMENTS),
        True,
        False,
    )
    assert (status["docs"], status["problem"], status["refresh_seconds"]) == (str(docs), None, None)
    assert status["unread"] == {}
    assert "It is up to date." in result.content[0].text


def test_status_names_the_pages_whose_text_could_not_be_read(tmp_path):
    """A gazette page whose running head's date is in a font mapping it to no character."""
    from .test_pdf import gazette_page

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "gazette.pdf").write_bytes(gazette_page())
    server = Server("--docs", str(docs), "--index", str(tmp_path / "ix"), command="mcp --http")
    try:
        with start_blocking_portal() as portal:
            client = Client(server.url)
            with portal.wrap_async_context_manager(client):
                result = portal.call(client.call_tool, "status", {})
    finally:
        assert server.stop() == 0
    assert result.structured_content["unread"] == {"gazette.pdf": [1]}
    assert (
        "Text that could not be read (scans, unmapped fonts) was left out of: gazette.pdf p. 1."
        in result.content[0].text
    )


# --- resources ------------------------------------------------------------------------------


def test_a_document_read_as_a_resource_tags_each_paragraph_with_its_line(session, docs):
    text = session.read(f"kensaku://documents/{PILLAR}")
    lines = (docs / PILLAR).read_text("utf-8").split("\n")
    assert text.startswith(f"# 001_2eb2e19b899ffa84\n{PILLAR}, part 1 of 1: ¶1–¶28.")
    assert f"[¶8 line 8]\n{lines[7]}\n" in text
    # The URI as listed (percent-encoded), or with its slash and kanji as they are.
    assert "[¶1 line 1]\n港の灯台は明治に建てられた。" in session.read(IN_FOLDER_URI)
    assert session.read("kensaku://documents/資料/灯台%20メモ.txt") == session.read(IN_FOLDER_URI)


def test_a_long_document_comes_in_parts_of_whole_paragraphs(session):
    first = session.read(f"kensaku://documents/{LONG}")
    second = session.read(f"kensaku://documents/{LONG}?part=2")
    assert "part 1 of 2: ¶1–" in first
    assert f"the next part is kensaku://documents/{LONG}?part=2" in first
    tags = [line for part in (first, second) for line in part.split("\n") if line.startswith("[¶")]
    assert tags == [f"[¶{n} line {n}]" for n in range(1, LONG_LINES + 1)]
    assert 15_000 < len(first) < 25_000


@pytest.mark.parametrize(
    "uri, message",
    [
        ("kensaku://documents/nowhere.txt", "no document 'nowhere.txt' in the index"),
        (f"kensaku://documents/{LONG}?part=3", f"{LONG} has 2 parts: part must be 1 to 2, not 3"),
        (f"kensaku://documents/{LONG}?part=two", "part must be a whole number from 1, not 'two'"),
        ("kensaku://documents/../secret.txt", "Unknown resource"),
    ],
)
def test_reading_what_the_index_does_not_hold_is_an_error(session, uri, message):
    with pytest.raises(MCPError) as raised:
        session.read(uri)
    assert message in str(raised.value) and "\n" not in str(raised.value)
    assert session.answer("search", query="ピラー2", limit=1)["hits"][0]["citation"]["line"] == 8


# --- bad input ------------------------------------------------------------------------------


def cli_message(docs: Path, *args: str) -> str:
    """The one line `kensaku search ARGS` prints on the same index, without `Error: `."""
    printed = CliRunner().invoke(main, ["search", "--index", str(docs.parent / "index"), *args])
    assert printed.exit_code == 2
    return printed.stderr.strip().removeprefix("Error: ")


@pytest.mark.parametrize(
    "tool, arguments, message",
    [
        ("search", {"query": '"ピラー'}, 'unbalanced quote: a phrase opened with " is not closed'),
        ("search", {"query": "  "}, "the query is empty"),
        ("search", {"query": "語" * 1001}, "the query is too long: 1,001 characters"),
        (
            "search",
            {"query": "ピラー2", "limit": 0},
            "limit: Input should be greater than or equal to 1",
        ),
        (
            "search",
            {"query": "ピラー2", "limit": 51},
            "limit: Input should be less than or equal to 50",
        ),
        ("search", {"query": "ピラー2", "limit": "ten"}, "limit: Input should be a valid integer"),
        ("search", {"query": "ピラー2", "offset": 995}, "offset + limit must be at most 1,000"),
        (
            "search",
            {"query": "ピラー2", "mode": "fuzzy"},
            "mode: Input should be 'auto', 'keyword'",
        ),
        ("search", {"limit": 3}, "query: Field required"),
        ("search", {"query": "ピラー2", "source": ""}, "source must be a path or a pattern, not"),
        (
            "read",
            {"source": "nowhere.txt", "paragraph": 1},
            "no document 'nowhere.txt' in the index",
        ),
        ("read", {"source": "../seeds/" + PILLAR, "paragraph": 1}, "no document '../seeds/"),
        ("read", {"source": PILLAR, "paragraph": 99}, f"{PILLAR} has paragraphs 1 to 28, not 99"),
        ("read", {"source": PILLAR}, "give either a paragraph"),
        ("read", {"source": PILLAR, "page": 1}, f"{PILLAR} has no pages"),
        ("read", {"source": PDF, "page": 3}, f"{PDF} has no text on page 3 (its pages are 1 to 2)"),
        (
            "read",
            {"source": PILLAR, "paragraph": 8, "context": 11},
            "context: Input should be less",
        ),
        ("documents", {"limit": 201}, "limit: Input should be less than or equal to 200"),
        ("nosuch", {}, "Unknown tool: nosuch"),
    ],
)
def test_bad_input_is_a_tool_error_of_one_line_and_the_server_goes_on(
    session, tool, arguments, message
):
    result = session.call(tool, **arguments)
    (content,) = result.content
    assert result.is_error and message in content.text and "\n" not in content.text
    assert session.answer("search", query="ピラー2", limit=1)["hits"][0]["citation"]["line"] == 8
    assert "Traceback" not in session.log


def test_a_bad_query_is_the_clis_own_message(session, docs):
    for query in ('"ピラー', "  "):
        result = session.call("search", query=query)
        assert result.content[0].text == cli_message(docs, query)


# --- the transports -------------------------------------------------------------------------


def test_over_http_only_requests_naming_a_loopback_host_are_answered(session):
    if session.transport != "http":
        pytest.skip("a question for the HTTP transport")
    server = session.server
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "a page in a browser", "version": "1"},
            },
        }
    )
    for host, status in (("evil.example", 421), (f"127.0.0.1:{server.port}", 200)):
        connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
        try:
            connection.request(
                "POST",
                "/mcp",
                body,
                {
                    "Host": host,
                    "Content-Type": "application/json",
                    "Accept": "application/json, text/event-stream",
                },
            )
            assert connection.getresponse().status == status
        finally:
            connection.close()


def test_without_the_sdk_kensaku_mcp_says_which_extra_to_install(tmp_path):
    code = (
        "import sys\n"
        "sys.modules['mcp'] = None  # as where the SDK is not installed\n"
        "from search.cli.main import run\n"
        f"sys.argv = ['kensaku', 'mcp', '--docs', {str(SEEDS)!r}, '--index', "
        f"{str(tmp_path / 'ix')!r}]\n"
        "run()\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert (completed.returncode, completed.stdout) == (1, "")
    assert completed.stderr == (
        "Error: kensaku mcp needs the MCP Python SDK (mcp 2.3 or newer): "
        "pip install 'kensaku[mcp]'\n"
    )
    assert not (tmp_path / "ix").exists()  # said before any index is built


def test_host_and_port_go_with_http(seed_index):
    printed = CliRunner().invoke(
        main, ["mcp", "--index", str(seed_index), "--port", "9000"], prog_name="kensaku"
    )
    assert printed.exit_code == 2
    assert printed.stderr == (
        "Error: --host and --port go with --http (see `kensaku mcp --help`)\n"
    )


def test_a_search_imports_nothing_of_mcp(seed_index, tmp_path):
    code = (
        "import sys; from search.cli.main import main\n"
        "try:\n"
        f"    main(['search', '--index', {str(seed_index)!r}, 'ピラー2'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in ('mcp', 'mcp_types')"
        " or name.startswith('search.mcp')))"
    )
    searched = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert searched.stdout.splitlines()[-1] == "[]", searched.stderr
