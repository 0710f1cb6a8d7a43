"""The HTTP API reference, made at build time from the server's own OpenAPI description.

An MkDocs hook (mkdocs.yml `hooks:`): reference/http.md says where the reference goes with the
line OPENAPI_MARKER, which is replaced by Markdown written from `openapi_description()` (the
description GET /openapi.json serves) by essentials-openapi; the description itself is added to
the site as reference/openapi.json. Nothing is checked in that could drift from the code.
"""

from __future__ import annotations

import json
import re
import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mkdocs.structure.files import Files

PAGE = "reference/http.md"
OPENAPI_MARKER = "[OpenAPI description]"
DESCRIPTION_FILE = "reference/openapi.json"
_NULL = {"type": "null"}


def _description() -> dict[str, Any]:
    from search.server.app import openapi_description

    return openapi_description()


def on_files(files: Files, config: Any) -> Files:
    from mkdocs.structure.files import File

    content = json.dumps(_description(), ensure_ascii=False, indent=2) + "\n"
    files.append(File.generated(config, DESCRIPTION_FILE, content=content))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    if OPENAPI_MARKER not in markdown:
        raise ValueError(f"{PAGE} has no line {OPENAPI_MARKER} to put the reference in")
    from openapidocs.mk.v3 import OpenAPIV3DocumentationHandler

    with warnings.catch_warnings():
        # `nullable` (see _nullable_folded) is OpenAPI 3.0's, which the handler warns of in 3.1.
        warnings.simplefilter("ignore", UserWarning)
        handler = OpenAPIV3DocumentationHandler(_nullable_folded(_description()), style="MKDOCS")
        reference = handler.write()
    return markdown.replace(OPENAPI_MARKER, _fitted(reference))


def _nullable_folded(node: Any) -> Any:
    """The description with each `anyOf: [X, {"type": "null"}]` (FastAPI's `X | None`) written
    as X with `nullable: true`, which the handler shows as `X | null` where it would show no
    type at all for the anyOf. Only the page's tables change: openapi.json stays as served."""
    if isinstance(node, list):
        return [_nullable_folded(item) for item in node]
    if not isinstance(node, dict):
        return node
    options = node.get("anyOf")
    if isinstance(options, list) and len(options) == 2 and _NULL in options:
        (schema,) = [option for option in options if option != _NULL]
        node = {**schema, **{k: v for k, v in node.items() if k != "anyOf"}, "nullable": True}
    return {key: _nullable_folded(value) for key, value in node.items()}


def _fitted(reference: str) -> str:
    """The generated reference under the page's own title (its headings a level down), with
    the `code` of the descriptions in its HTML tables shown as code (Markdown leaves HTML be)."""
    reference = re.sub(r"^(#{1,5}) ", r"#\1 ", reference, flags=re.MULTILINE)
    return re.sub(r"<td>(.*?)</td>", _cell, reference)


def _cell(match: re.Match[str]) -> str:
    coded = re.sub(r"`([^`]+)`", r"<code>\1</code>", match[1])  # already HTML-escaped
    return f"<td>{coded}</td>"
