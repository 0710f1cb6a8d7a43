"""The JSON API and the server-rendered page through real HTTP requests to a `kensaku serve`
process on 127.0.0.1 (the `served` fixture: the seeds and a hostile document)."""

import json
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from search.cli.main import main
from search.index.manifest import FORMAT_VERSION
from search.server.api_schema import DocumentBody, SearchBody, StatusBody

from .conftest import HOSTILE_NAME, SECRET, SEEDS

SEARCH_KEYS = [
    "query",
    "total",
    "relaxed",
    "more",
    "filters",
    "sort",
    "hits",
    "facets",
    "offset",
    "limit",
]
PILLAR_DOC = "001_2eb2e19b899ffa84.txt"


def cli(served, *args):
    return CliRunner().invoke(
        main, [*args, "--index", str(served.index), "--docs", str(served.docs)]
    )


def test_search_answers_exactly_the_json_contract_plus_paging(served):
    reply = served.search(q="ピラー2", limit=3)
    assert reply.status == 200 and reply.headers["content-type"] == "application/json"
    body = reply.json()
    assert list(body) == SEARCH_KEYS and (body["offset"], body["limit"]) == (0, 3)
    printed = json.loads(cli(served, "search", "--json", "--limit", "3", "ピラー2").stdout)
    for hit in printed["hits"]:  # the CLI adds each file's path as it opens from where it runs
        del hit["path"]
        for place in hit["also"]:
            del place["path"]
    assert {key: body[key] for key in printed} == printed  # every key but the paging
    assert (body["total"], body["hits"][0]["source"], body["hits"][0]["line"]) == (
        13,
        PILLAR_DOC,
        8,
    )
    SearchBody.model_validate(body)  # the OpenAPI description says what is sent


def test_paging_takes_the_hits_from_offset_on(served):
    first_four = served.search(q="ピラー2", limit=4).json()["hits"]
    page = served.search(q="ピラー2", limit=2, offset=2).json()
    assert page["hits"] == first_four[2:4] and [hit["rank"] for hit in page["hits"]] == [3, 4]
    assert served.search(q="ピラー2", limit=10, offset=20).json()["hits"] == []


def test_a_bad_query_is_400_with_the_clis_one_line_message(served):
    reply = served.search(q='"ピラー2')
    printed = cli(served, "search", '"ピラー2')
    assert (reply.status, printed.exit_code) == (400, 2)
    assert reply.json() == {"error": printed.stderr.strip().removeprefix("Error: ")}
    assert reply.json()["error"].startswith("unbalanced quote")


@pytest.mark.parametrize(
    "params, message",
    [
        ({"q": "ピラー2", "limit": 0}, "limit: Input should be greater than or equal to 1"),
        ({"q": "ピラー2", "limit": 101}, "limit: Input should be less than or equal to 100"),
        ({"q": "ピラー2", "limit": "ten"}, "limit: Input should be a valid integer"),
        ({"q": "ピラー2", "offset": -1}, "offset: Input should be greater than or equal to 0"),
        ({"q": "ピラー2", "offset": 995, "limit": 10}, "offset + limit must be at most 1,000"),
        ({"q": "語" * 1001}, "the query is too long: 1,001 characters, at most 1,000"),
        ({"q": "   "}, "the query is empty"),
        ({"limit": 3}, "q: Field required"),
        ({"q": "ピラー2", "mode": "fuzzy"}, "unknown query mode 'fuzzy'"),
    ],
)
def test_parameters_out_of_bounds_are_400_with_one_line(served, params, message):
    reply = served.search(**params)
    assert reply.status == 400
    error = reply.json()["error"]
    assert message in error and "\n" not in error and list(reply.json()) == ["error"]


def test_mode_question_reads_the_query_as_a_question(served):
    keywords = served.search(q="ピラー2 韓国").json()
    question = served.search(q="ピラー2 韓国", mode="question").json()
    # As keywords, 2 paragraphs hold both (the hits holding either follow, marked partial); as a
    # question, every paragraph holding either counts.
    assert keywords["total"] == 2 and any(hit["partial"] for hit in keywords["hits"])
    assert question["total"] > 10 and not any(hit["partial"] for hit in question["hits"])


def test_a_document_is_its_paragraphs_with_their_citations(served):
    reply = served.get(f"/api/documents/{PILLAR_DOC}")
    assert reply.status == 200
    body = reply.json()
    lines = (SEEDS / PILLAR_DOC).read_text(encoding="utf-8").split("\n")
    expected = [(number, line) for number, line in enumerate(lines, start=1) if line.strip()]
    assert [(p["line"], p["text"]) for p in body["paragraphs"]] == expected
    assert [p["paragraph"] for p in body["paragraphs"]] == list(range(1, len(expected) + 1))
    # Its first line is a lead paragraph, not a title: the file name stands in.
    assert body["source"] == PILLAR_DOC and body["title"] == PILLAR_DOC.removesuffix(".txt")
    DocumentBody.model_validate(body)


def test_a_document_whose_name_needs_escaping_is_found_by_its_encoded_name(served):
    reply = served.get(f"/api/documents/{quote(HOSTILE_NAME)}")
    assert reply.status == 200 and reply.json()["source"] == HOSTILE_NAME


@pytest.mark.parametrize(
    "path",
    [
        "/documents/../../etc/passwd",
        "/api/documents/../outside/secret.txt",
        "/documents/..%2foutside%2fsecret.txt",
        "/documents/%2e%2e/outside/secret.txt",
        "/documents/%252e%252e%252foutside%252fsecret.txt",
        "/documents//etc/passwd",
        "/documents/%2Fetc%2Fpasswd",
        "/api/documents/outside-link/secret.txt",
        "/documents/outside-link/secret.txt",
        f"/documents/{PILLAR_DOC}%00",
        f"/documents/./{PILLAR_DOC}",
        "/documents/no-such-document.txt",
    ],
)
def test_only_documents_in_the_index_are_shown(served, path):
    reply = served.get(path)
    assert reply.status == 404
    assert SECRET not in reply.text and "root:" not in reply.text


def test_an_absolute_path_to_an_indexed_file_is_not_a_document(served):
    path = quote(str(served.docs / PILLAR_DOC))
    for prefix in ("/documents/", "/api/documents/"):
        assert served.get(prefix + path).status == 404
    assert served.get(f"/api/documents/{quote(str(served.outside / 'secret.txt'))}").status == 404


def test_status_tells_what_the_index_holds(served):
    body = served.get("/api/status").json()
    StatusBody.model_validate(body)
    assert (body["documents"], body["paragraphs"], body["format"]) == (6, 235, FORMAT_VERSION)
    assert body["built"][:2] == "20" and body["updating"] is False


def test_openapi_describes_the_api(served):
    reply = served.get("/openapi.json")
    assert reply.status == 200
    paths = reply.json()["paths"]
    assert set(paths) == {
        "/api/search",
        "/api/suggest",
        "/api/documents",
        "/api/documents/{source}",
        "/api/status",
    }
    limit = next(p for p in paths["/api/search"]["get"]["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 100)
    operations = {path: paths[path]["get"] for path in paths}
    assert {path: (op["operationId"], op["summary"]) for path, op in operations.items()} == {
        "/api/search": ("search", "Search the documents"),
        "/api/documents": ("listDocuments", "List the documents"),
        "/api/suggest": ("suggest", "Suggest completions"),
        "/api/documents/{source}": ("getDocument", "Read a document"),
        "/api/status": ("status", "Describe the index"),
    }
    for operation in operations.values():
        assert len(operation["description"]) > 60 and "Api " not in operation["summary"]
        for parameter in operation.get("parameters", []):
            assert parameter.get("description"), parameter["name"]
    # A bad parameter is answered 400 with an ErrorBody, never FastAPI's 422: described so.
    for path, operation in operations.items():
        assert "422" not in operation["responses"], path
        if operation.get("parameters"):
            error = operation["responses"]["400"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/ErrorBody"}, path
    assert "HTTPValidationError" not in reply.json()["components"]["schemas"]
    # Every field of every body says what it holds.
    schemas = reply.json()["components"]["schemas"]
    for name, schema in schemas.items():
        for field, described in schema["properties"].items():
            assert described.get("description"), (name, field)
    assert schemas["HitBody"]["properties"]["highlights"]["description"].startswith(
        "[start, end) offsets into text"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/?q=ピラー2",
        "/documents",
        f"/documents/{PILLAR_DOC}?paragraph=8",
        "/api/search?q=ピラー2",
        "/api/documents",
        f"/api/documents/{PILLAR_DOC}",
        "/api/status",
        "/openapi.json",
        "/docs",
        "/redoc",
        "/static/style.css",
    ],
)
def test_head_answers_every_page_as_get_does_without_the_body(served, path):
    target = quote(path, safe="/?=%&")
    got, head = served.get(target), served.get(target, method="HEAD")
    assert (head.status, got.status) == (200, 200)
    assert head.body == b""
    for header in ("content-type", "content-length", "content-security-policy"):
        assert head.headers[header] == got.headers[header], header


def test_docs_and_redoc_describe_the_api_with_scripts_served_here(served):
    for path, script in (
        ("/docs", "/static/api-docs/swagger-ui-bundle.js"),
        ("/redoc", "/static/api-docs/redoc.standalone.js"),
    ):
        reply = served.get(path)
        assert reply.status == 200 and f'<script src="{script}">' in reply.text
        assert "http://" not in reply.text and "https://" not in reply.text  # no CDN
        policy = reply.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
        asset = served.get(script)
        assert asset.status == 200 and len(asset.body) > 100_000
        assert "javascript" in asset.headers["content-type"]
    # Only ReDoc's page allows more than the others: its inline styles, data: icons, a worker.
    assert "unsafe-inline" not in served.get("/docs").headers["content-security-policy"]
    assert "unsafe-inline" not in served.get("/").headers["content-security-policy"]


def test_the_documents_are_listed_a_page_at_a_time(served):
    from search.server.api_schema import DocumentsBody

    body = served.get("/api/documents", {"limit": 2, "offset": 1}).json()
    DocumentsBody.model_validate(body)
    assert (body["total"], body["offset"], body["limit"]) == (6, 1, 2)
    assert [d["source"] for d in body["documents"]] == [
        "000_9ac1f42681134e70.txt",
        "001_2eb2e19b899ffa84.txt",
    ]
    first = body["documents"][0]
    assert (first["paragraphs"], first["title"]) == (115, "日本関連")
    everything = served.get("/api/documents").json()
    assert everything["total"] == len(everything["documents"]) == 6
    assert sum(d["paragraphs"] for d in everything["documents"]) == 235
    assert served.get("/api/documents", {"limit": 0}).status == 400
    page = served.get("/documents").text
    assert "文書一覧: 6文書" in page
    assert (
        '<a href="/documents/000_9ac1f42681134e70.txt"><span class="doc-name">日本関連</span>'
        in (page)
    )
    assert 'rel="next"' not in page  # 6 documents: one page


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/?q=ピラー2",
        "/api/search?q=ピラー2",
        "/nowhere",
        "/api/search?q=%22",
        f"/documents/{PILLAR_DOC}",
        "/documents",
        "/api/documents",
    ],
)
def test_every_response_forbids_scripts_framing_and_sniffing(served, path):
    reply = served.get(quote(path, safe="/?=%"))
    policy = reply.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    # No script but the page's own file (suggestions as one types): none inline, none elsewhere.
    assert "script-src 'self';" in policy and "unsafe" not in policy
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["x-frame-options"] == "DENY"


def test_cors_is_off_and_other_host_names_are_refused(served):
    reply = served.get("/api/status", headers={"Origin": "https://elsewhere.example"})
    assert reply.status == 200 and "access-control-allow-origin" not in reply.headers
    assert served.get("/api/status", headers={"Host": "rebound.example"}).status == 400
    assert served.get("/api/status", headers={"Host": f"localhost:{served.port}"}).status == 200


def test_the_page_is_served_as_html_that_needs_no_script(served):
    reply = served.get("/", {"q": "ピラー2"})
    html = reply.text
    assert reply.status == 200 and reply.headers["content-type"] == "text/html; charset=utf-8"
    assert '<html lang="ja">' in html and '<label for="q"' in html
    # One script, the page's own file, which only offers suggestions: the form is a plain form.
    assert html.count("<script") == 1 and '<script src="/static/suggest.js" defer>' in html
    assert '<form class="search" action="/" method="get"' in html
    assert "「ピラー2」に一致する段落: 13件（1–10件目を表示）" in html
    hits = html.split('<li class="hit">')[1:]
    assert len(hits) == 10 and all("<mark>" in hit for hit in hits)
    assert "◆日本、「<mark>ピラー2</mark>」参加の可能性" in html
    assert (
        f'href="/documents/{PILLAR_DOC}?paragraph=8&amp;q=%E3%83%94%E3%83%A9%E3%83%BC2#p8"'
        in hits[0]
    )
    assert f">{PILLAR_DOC}:19</a>" in html  # also at
    assert 'rel="next"' not in html  # 13 paragraphs: 10 hits, 3 of them also elsewhere
    second = served.get("/", {"q": "日本", "offset": 10}).text
    assert "「日本」に一致する段落: 76件（11–20件目を表示）" in second
    assert '<a rel="prev" href="/?q=%E6%97%A5%E6%9C%AC">' in second
    assert '<a rel="next" href="/?q=%E6%97%A5%E6%9C%AC&amp;offset=20">' in second


def test_the_page_shows_errors_in_japanese_and_the_question_notice(served):
    error = served.get("/", {"q": '"ピラー2'})
    assert error.status == 400 and 'role="alert"' in error.text
    assert "引用符 &#34; が閉じていません。語句の終わりにも &#34; を付けてください。" in error.text
    assert "unbalanced quote" not in error.text
    # The API keeps the CLI's one-line English message.
    assert served.search(q='"ピラー2').json()["error"].startswith("unbalanced quote: a phrase")
    for query, japanese in (
        ("ピラー2 OR", "OR の前後に語が必要です。"),
        ("(ピラー2", "括弧 ( が閉じていません。"),
        ("source:", "source: のあとにファイル名を書いてください"),
        ("。、", "探せる語がありません"),
    ):
        assert japanese in served.get("/", {"q": query}).text, query
    deep = served.get("/", {"q": "日本", "offset": 1000}).text
    assert "上位1,000件より先へはページを進められません。" in deep
    # An error it has no Japanese for is said in general, the English kept for the curious.
    invalid = served.get("/", {"offset": "-1"})
    assert invalid.status == 400 and "要求を処理できませんでした。" in invalid.text
    assert '<p class="detail" lang="en">offset: ' in invalid.text
    relaxed = served.get("/", {"q": "ピラー2 梅雨前線"}).text
    assert "「ピラー2 梅雨前線」の語をすべて含む段落はありません" in relaxed


def test_document_text_titles_names_and_queries_are_escaped(served):
    query = '危険試験 "><b>'
    html = served.get("/", {"q": "危険試験"}).text + served.get("/", {"q": query}).text
    html += served.get(f"/documents/{quote(HOSTILE_NAME)}", {"paragraph": 2, "q": query}).text
    for raw in ("<script>document", "<img src=x", "<b>"):
        assert raw not in html
    assert "&lt;script&gt;document.title=&#34;pwned&#34;&lt;/script&gt;危険な題名" in html
    assert "&#34;&gt;&lt;img src=x onerror=document.title=1&gt;.txt" in html


def test_the_document_view_highlights_the_cited_paragraph(served):
    html = served.get(f"/documents/{PILLAR_DOC}", {"paragraph": 6, "q": "ピラー2"}).text
    assert html.count('class="chosen"') == 1 and '<li id="p6" class="chosen">' in html
    assert "◆日本、「<mark>ピラー2</mark>」参加の可能性</p>" in html  # the query's matches marked
    assert 'href="/?q=%E3%83%94%E3%83%A9%E3%83%BC2"' in html  # back to the results


def test_the_header_counts_hits_with_all_the_words_apart_and_the_label_is_no_link(served):
    html = served.get("/", {"q": "ピラー2 韓国"}).text
    assert (
        "「ピラー2 韓国」の語をすべて含む段落: 2件。続いて一部の語のみを含む段落9件（1–10件目を表示）"
        in html
    )
    hits = html.split('<li class="hit">')[1:]
    partial = [h for h in hits if "一部の語のみ" in h]
    assert len(partial) == 9
    for one in partial:  # after the link's end, not inside it
        assert '</a> <span class="partial">一部の語のみ</span></h2>' in one


@pytest.fixture(scope="module")
def cookbook(tmp_path_factory):
    """`kensaku serve` of another collection than the seeds: a long document of 450 paragraphs
    and a short one in a folder."""
    from .serving import Server

    root = tmp_path_factory.mktemp("cookbook")
    docs = root / "docs"
    (docs / "献立").mkdir(parents=True)
    lines = [f"第{n}の手順。味噌汁の出汁は昆布と鰹節で取る。" for n in range(1, 451)]
    (docs / "long.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (docs / "献立" / "冬の献立.txt").write_text(
        "冬の献立\n豚汁と焼き魚。味噌汁の具は大根。\n鍋料理の出汁は昆布で取る。\n", encoding="utf-8"
    )
    server = Server("--docs", str(docs), "--index", str(root / "index"), "--refresh", "0")
    yield server
    server.stop()


def test_the_home_page_offers_examples_from_the_collection_served_as_links(cookbook):
    import re
    from html import unescape
    from urllib.parse import parse_qs, urlsplit

    html = cookbook.get("/").text
    links = re.findall(r'<dt><a href="(/\?q=[^"]+)"><code>([^<]+)</code></a></dt>', html)
    queries = [parse_qs(urlsplit(unescape(href)).query)["q"][0] for href, _ in links]
    assert [unescape(code) for _, code in links] == queries
    assert len(queries) >= 5
    assert any(" OR " in q for q in queries) and any(" -" in q for q in queries)
    assert any("source:" in q for q in queries) and any(q.endswith("？") for q in queries)
    words = "味噌汁 出汁 昆布 鰹節 手順 献立 豚汁 焼き魚 大根 鍋料理".split()
    for query in queries:
        assert any(word in query for word in words), query  # the collection's words
        assert "ピラー" not in query and "韓国" not in query  # not the seeds'
        found = cookbook.search(q=query).json()
        assert found["total"] > 0, query


def test_a_long_document_is_served_a_part_at_a_time(cookbook):
    first = cookbook.get("/documents/long.txt")
    assert first.status == 200 and first.text.count('<li id="p') == 200
    assert "450段落（3部分に分けて表示）" in first.text
    assert '<a rel="next" href="/documents/long.txt?part=2">次 →</a>' in first.text
    assert len(first.body) < 120_000
    chosen = cookbook.get("/documents/long.txt", {"paragraph": 420, "q": "味噌汁"}).text
    assert chosen.count('<li id="p') == 50 and '<li id="p420" class="chosen">' in chosen
    assert '<span aria-current="page">¶401–450</span>' in chosen
    whole = cookbook.get("/api/documents/long.txt").json()  # the API gives it whole
    assert len(whole["paragraphs"]) == 450
