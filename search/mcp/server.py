"""Server: the MCP server over one live index (`kensaku mcp`), on the official Python SDK.

Tools: `search`, `read`, `documents`, `status`, each with an input schema (its arguments, their
bounds) and an output schema (schema's models), answering with structured content and a short text
(rendering). Resources: every document the index holds, `kensaku://documents/{source}`, and the
template of those URIs with `?part=N` for the parts of a long one.

A bad argument, a bad query or a source the index does not hold is a tool error (`isError`) whose
text is one line, the CLI's message where the CLI has one; the server goes on answering. It serves
over stdio (what desktop clients start) or streamable HTTP at /mcp, on 127.0.0.1 by default, where
it answers only requests naming a loopback host (no DNS rebinding).
"""

from __future__ import annotations

import logging
import signal
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, Field, ValidationError

from search.errors import KensakuError
from search.mcp import descriptions as about
from search.mcp.library import URI_TEMPLATE, BadInput, Library, document_uri
from search.mcp.rendering import (
    counted,
    documents_text,
    part_text,
    read_text,
    search_text,
    status_text,
)
from search.mcp.schema import (
    DEFAULT_CONTEXT,
    DEFAULT_DOCUMENTS,
    DEFAULT_LIMIT,
    MAX_CONTEXT,
    MAX_DEPTH,
    MAX_DOCUMENTS,
    MAX_LIMIT,
    DocumentsOutput,
    ReadOutput,
    SearchOutput,
    StatusOutput,
)
from search.query.parser import Mode
from search.service.listening import listen, url_of
from search.service.live import LiveIndex
from search.service.refresh import Refresher


class MissingSDK(KensakuError):
    """The MCP Python SDK is not installed (or not a version this server is written for)."""


try:
    import anyio.to_thread
    from mcp.server.mcpserver import Context, MCPServer
    from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
    from mcp.types import CallToolResult, Resource, TextContent, ToolAnnotations
except ImportError as error:
    raise MissingSDK(
        "kensaku mcp needs the MCP Python SDK (mcp 2.3 or newer): pip install 'kensaku[mcp]'"
    ) from error

HTTP_PATH = "/mcp"
log = logging.getLogger("kensaku.mcp")
Say = Callable[[str], None]
READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)


class KensakuServer(MCPServer):
    """The MCP server answering from `library`."""

    def __init__(self, library: Library) -> None:
        super().__init__(
            "kensaku",
            title="kensaku: Japanese full-text search",
            instructions=about.INSTRUCTIONS,
            version=_version(),
            log_level="WARNING",
        )
        self.library = library
        self._add_tools()
        self._add_resources()

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context | None = None
    ) -> Any:
        """The tool's answer; an error the caller can mend (a bad argument, a bad query, a
        source the index does not hold) as a tool error of one line. What else goes wrong is the
        SDK's to report: in the log, and to the client as a tool error naming only the tool."""
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as error:
            message = _one_line(error)
            if message is None:
                raise
            return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)

    async def list_resources(self) -> list[Resource]:
        """Every document the index holds, as a resource, by source."""
        documents = await anyio.to_thread.run_sync(self.library.sources)
        return [
            Resource(
                uri=document_uri(source),
                name=source,
                title=title,
                description=counted(paragraphs, "paragraph"),
                mime_type="text/plain",
            )
            for source, title, paragraphs in documents
        ]

    def _add_tools(self) -> None:
        library = self.library

        @self.tool(title="Search the documents", description=about.SEARCH, annotations=READ_ONLY)
        def search(
            query: Annotated[str, Field(description=about.QUERY)],
            limit: Annotated[int, Field(ge=1, le=MAX_LIMIT, description=about.LIMIT)] = (
                DEFAULT_LIMIT
            ),
            offset: Annotated[int, Field(ge=0, lt=MAX_DEPTH, description=about.OFFSET)] = 0,
            mode: Annotated[Mode | None, Field(description=about.MODE)] = None,
            source: Annotated[str | None, Field(description=about.SOURCE_PATTERN)] = None,
        ) -> Annotated[CallToolResult, SearchOutput]:
            return _answer(library.search(query, limit, offset, mode, source), search_text)

        @self.tool(title="Read paragraphs to quote", description=about.READ, annotations=READ_ONLY)
        def read(
            source: Annotated[str, Field(description=about.SOURCE)],
            paragraph: Annotated[int | None, Field(ge=1, description=about.PARAGRAPH)] = None,
            page: Annotated[int | None, Field(ge=1, description=about.PAGE)] = None,
            context: Annotated[int, Field(ge=0, le=MAX_CONTEXT, description=about.CONTEXT)] = (
                DEFAULT_CONTEXT
            ),
        ) -> Annotated[CallToolResult, ReadOutput]:
            return _answer(library.read(source, paragraph, page, context), read_text)

        @self.tool(title="List the documents", description=about.DOCUMENTS, annotations=READ_ONLY)
        def documents(
            offset: Annotated[int, Field(ge=0, description=about.DOCUMENTS_OFFSET)] = 0,
            limit: Annotated[
                int, Field(ge=1, le=MAX_DOCUMENTS, description=about.DOCUMENTS_LIMIT)
            ] = DEFAULT_DOCUMENTS,
            source: Annotated[str | None, Field(description=about.SOURCE_PATTERN)] = None,
        ) -> Annotated[CallToolResult, DocumentsOutput]:
            return _answer(library.documents(offset, limit, source), documents_text)

        @self.tool(title="How the index stands", description=about.STATUS, annotations=READ_ONLY)
        def status() -> Annotated[CallToolResult, StatusOutput]:
            return _answer(library.status(), status_text)

    def _add_resources(self) -> None:
        library = self.library

        @self.resource(
            URI_TEMPLATE,
            name="document",
            title="A document's text",
            description=about.DOCUMENT_RESOURCE,
            mime_type="text/plain",
        )
        def document(source: str, part: str = "1") -> str:
            try:
                return part_text(library.part(source, _part_number(part)))
            except BadInput as error:  # UnknownDocument included: the client's to mend
                raise ResourceNotFoundError(str(error)) from None
            except KensakuError as error:
                raise ResourceError(str(error)) from None


def _answer(output: BaseModel, render: Callable[[Any], str]) -> CallToolResult:
    """The tool result: `output` as structured content, and as text."""
    return CallToolResult(
        content=[TextContent(type="text", text=render(output))],
        structured_content=output.model_dump(mode="json"),
    )


def _one_line(error: ToolError) -> str | None:
    """The one-line message of a tool error the caller can mend; None for any other."""
    cause = error.__cause__
    if isinstance(cause, KensakuError):
        return str(cause)
    if isinstance(cause, ValidationError):
        return "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or 'arguments'}: {problem['msg']}"
            for problem in cause.errors()
        )
    if type(error) is ToolError and cause is None:  # the SDK's own: an unknown tool
        return str(error)
    return None


def _part_number(part: str) -> int:
    if not part.isascii() or not part.isdigit():
        raise BadInput(f"part must be a whole number from 1, not {part!r}")
    return int(part)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kensaku")
    except PackageNotFoundError:
        return "unknown"


def serve(
    index_dir: Path,
    docs_dir: Path | None,
    refresh: float,
    synonyms_file: Path | None,
    sudachi_synonyms: bool,
    default_mode: str,
    http: tuple[str, int] | None,
    say: Say,
    announce: Say,
    cluster: str | None = None,
) -> None:
    """Serve the index over stdio until the client closes it, or over HTTP at `http` (host,
    port) until Ctrl-C; either until SIGTERM. `announce` hears the HTTP server's URL once it
    listens; `say` hears what the server does to the index and what goes wrong. With `cluster`
    (see search.cluster) the shards are searched and updated on that Ray cluster."""
    sock = listen(*http) if http else None
    live = LiveIndex(index_dir, synonyms_file, sudachi_synonyms, cluster)
    refresher = Refresher(docs_dir, index_dir, refresh, say, cluster) if refresh > 0 else None
    server = KensakuServer(Library(live, refresher, default_mode))
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        if refresher:
            refresher.start()
        if sock is None:
            server.run("stdio")
        else:
            _serve_http(server, sock, announce)
    except KeyboardInterrupt:
        pass
    finally:
        if refresher:
            refresher.stop()
        live.close()
        if sock is not None:
            sock.close()


def _serve_http(server: KensakuServer, sock: socket.socket, announce: Say) -> None:
    import uvicorn

    host = sock.getsockname()[0]
    app = server.streamable_http_app(streamable_http_path=HTTP_PATH, host=host)
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="on", server_header=False
    )
    announce(url_of(sock) + HTTP_PATH.lstrip("/"))
    uvicorn.Server(config).run(sockets=[sock])
