"""What the documentation site generates at build time (docs/hooks/): the CLI reference from the
Click commands and the HTTP reference from the server's OpenAPI description. CI builds the whole
site with `mkdocs build --strict` (.ci/run); these check the generated parts say what is there."""

from __future__ import annotations

import importlib.util
import re
from types import ModuleType, SimpleNamespace

import click
import pytest

from search.cli.main import main
from search.server.app import openapi_description

from .conftest import REPO

HOOKS = REPO / "docs" / "hooks"


def hook(name: str) -> ModuleType:
    """A hook module of docs/hooks, loaded as MkDocs loads it: from its file."""
    spec = importlib.util.spec_from_file_location(f"docs_hook_{name}", HOOKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def page(src_uri: str) -> SimpleNamespace:
    return SimpleNamespace(file=SimpleNamespace(src_uri=src_uri))


def test_the_served_openapi_description_is_the_one_the_docs_are_made_from(served):
    reply = served.get("/openapi.json")
    assert reply.status == 200
    assert reply.json() == openapi_description()
    assert set(openapi_description()["paths"]) == {
        "/api/search",
        "/api/suggest",
        "/api/documents",
        "/api/documents/{source}",
        "/api/status",
    }


def test_the_cli_reference_has_every_command_and_option():
    cli = hook("cli_reference")
    markdown = "\n".join(cli.cli_reference(main))
    root = click.Context(main, info_name="kensaku")
    commands = main.list_commands(root)
    assert commands == ["documents", "index", "mcp", "search", "serve", "status"]
    headings = re.findall(r"^## (.+?) \{#", markdown, flags=re.MULTILINE)
    assert headings == ["kensaku"] + [f"kensaku {name}" for name in commands]
    sections = re.split(r"^## ", markdown, flags=re.MULTILINE)[1:]
    for name, section in zip(["kensaku", *commands], sections):
        command = main if name == "kensaku" else main.get_command(root, name)
        usage_line = f"Usage: {name if name == 'kensaku' else 'kensaku ' + name} "
        assert usage_line in section
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                for flag in param.opts + param.secondary_opts:
                    assert re.search(rf"(^|[\s,/]){re.escape(flag)}\b", section), (name, flag)
        assert "-h, --help" in section


def test_the_cli_reference_keeps_clicks_unwrapped_blocks_and_escapes_prose():
    cli = hook("cli_reference")
    lines = cli.cli_reference(main)
    block = lines.index("Examples:", lines.index("## kensaku {#kensaku}"))
    assert lines[block - 1] == "```text"
    assert lines[block + 1].strip().startswith("kensaku search ピラー2")
    assert cli._help("a <b> & c\nd\n\n\b\nx  y\n  z\n\nlast\fhidden") == [
        "<p>a &lt;b&gt; &amp; c d</p>",
        "",
        "```text",
        "x  y",
        "  z",
        "```",
        "",
        "<p>last</p>",
        "",
    ]


def test_the_cli_reference_page_needs_its_marker():
    cli = hook("cli_reference")
    assert cli.on_page_markdown("# Other\n", page("index.md"), None, None) == "# Other\n"
    made = cli.on_page_markdown("# CLI\n\n[kensaku --help]\n", page("reference/cli.md"), None, None)
    assert made.startswith("# CLI\n\n## kensaku {#kensaku}\n") and "## kensaku serve" in made
    with pytest.raises(ValueError, match=r"reference/cli.md has no line \[kensaku --help\]"):
        cli.on_page_markdown("# CLI\n", page("reference/cli.md"), None, None)


def test_the_http_reference_is_fitted_under_the_page_title():
    http = hook("http_reference")
    fitted = http._fitted(
        "# kensaku\n\n## search\n\n### GET /api/search\n\n"
        "<td>The query, in the syntax of `kensaku search`.</td>\n"
        '```json\n{"#": 1}\n```\n'
    )
    assert fitted.splitlines()[:5] == ["## kensaku", "", "### search", "", "#### GET /api/search"]
    assert "<td>The query, in the syntax of <code>kensaku search</code>.</td>" in fitted


def test_the_http_reference_page_describes_every_route():
    pytest.importorskip("openapidocs", reason="essentials-openapi: pip install '.[docs]'")
    http = hook("http_reference")
    made = http.on_page_markdown(
        "# HTTP API reference\n\n[OpenAPI description]\n", page("reference/http.md"), None, None
    )
    assert "[OpenAPI description]" not in made
    routes = re.findall(r"^#### .*?</span> (/api/.+)$", made, flags=re.MULTILINE)
    assert routes == [
        "/api/search",
        "/api/suggest",
        "/api/documents",
        '/api/documents/<span class="route-param">{source}</span>',
        "/api/status",
    ]
    assert "How to read the query: auto | keyword | question." in made
    with pytest.raises(ValueError, match=r"reference/http.md has no line \[OpenAPI description\]"):
        http.on_page_markdown("# HTTP\n", page("reference/http.md"), None, None)


def test_the_japanese_pages_are_marked_japanese():
    japanese = hook("japanese_pages")
    html = '<!doctype html>\n<html lang="en" class="no-js">\n<p>検索</p>'
    marked = japanese.on_post_page(html, page("ja/searching.md"), None)
    assert marked == '<!doctype html>\n<html lang="ja" class="no-js">\n<p>検索</p>'
    assert japanese.on_post_page(html, page("searching.md"), None) == html
    with pytest.raises(ValueError, match=re.escape('ja/index.md: no <html lang="en"> to mark')):
        japanese.on_post_page("<html>", page("ja/index.md"), None)
