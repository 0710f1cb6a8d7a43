"""Server: the search page and the HTTP JSON API over one live index (`kensaku serve`).

FastAPI (on Starlette) routes the requests and describes the API in OpenAPI; uvicorn serves them;
Jinja2 renders the pages from `templates/`, escaping every value. Routes (each answers HEAD too):

    GET /                       the search page: ?q=…&mode=…&offset=… and the filters and order
                                of /api/search; a side panel of facets narrows it; examples
                                made of the index's words
    GET /documents              the documents the index holds, ?offset=… a page at a time
    GET /documents/{source}     a document a part at a time, ?paragraph=N highlighted (#pN
                                scrolls to it), ?part=K
    GET /api/search             ?q=…&limit=…&offset=…&mode=…&format=…&path=…&after=…&before=…
                                &sort=relevance|date: the `--json` contract (facets included),
                                plus paging
    GET /api/suggest            ?q=…&limit=…: words and phrases of the documents completing q
    GET /api/documents          ?limit=…&offset=…: the documents, as `kensaku documents --json`
    GET /api/documents/{source} a document's paragraphs with their citations
    GET /api/status             the index's documents, paragraphs, build time, format
    GET /openapi.json           the API's description; /docs (Swagger UI) and /redoc show it

Documents are shown from the index only: nothing is read from the documents folder, so no path
can reach a file the index does not hold. Every response forbids framing and any script but this
server's own from /static (Content-Security-Policy): the page works without its script (which only
offers suggestions as one types); the API's two description pages run Swagger UI's and ReDoc's,
served from the fastapi-offline package, never a CDN. Errors reach a client as one line (in
Japanese on a page), never as a stack trace.
"""

from __future__ import annotations

import logging
import signal
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, cast

from fastapi import FastAPI, Query, Request
from fastapi import Path as PathParameter
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from search.errors import IndexBusy, KensakuError, QuerySyntaxError
from search.ingest.paragraphs import Paragraph
from search.query.filters import SORTS
from search.query.parser import MODES
from search.results.hits import SearchResults
from search.server.api_schema import (
    DocumentBody,
    DocumentsBody,
    ErrorBody,
    SearchBody,
    StatusBody,
    SuggestBody,
)
from search.server.pages import (
    DOCUMENTS_PAGE_SIZE,
    EXAMPLE_LABELS,
    MAX_DEPTH,
    MODE_LABELS,
    PAGE_SIZE,
    DocumentsView,
    DocumentView,
    Links,
    Narrowing,
    PanelView,
    ResultsView,
    in_japanese,
    marked,
    page_limit,
    search_link,
)
from search.service.examples import Example, examples
from search.service.listening import LOOPBACK_NAMES, is_loopback, listen, url_of
from search.service.live import LiveIndex
from search.service.refresh import Refresher
from search.service.status import IndexedDocument

MAX_LIMIT = 100  # hits in one API response
MAX_DOCUMENTS = 1_000  # documents in one API response
MAX_SUGGESTIONS = 20
POLICY = (
    b"default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
    b"img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# The API's description pages run scripts, this server's own files (from fastapi-offline), with
# what each needs besides, as tried in Chromium: Swagger UI (/docs) only fetches /openapi.json
# and, for "Try it out", the API, as the page's script may; ReDoc (/redoc) also styles its widgets
# with <style> elements it writes, draws icons as data: images and searches in a worker made from
# a blob.
API_DOCS_POLICIES = {
    "/redoc": (
        b"default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        b"img-src 'self' data:; connect-src 'self'; worker-src blob:; "
        b"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
}
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]

log = logging.getLogger("kensaku.server")
Say = Callable[[str], None]


class BadRequest(KensakuError):
    """A request parameter out of bounds."""

    exit_code = 2


class Service:
    """What the routes ask of the index: searches with paging, documents, the status."""

    def __init__(self, live: LiveIndex, refresher: Refresher | None, default_mode: str) -> None:
        self.live = live
        self.refresher = refresher
        self.default_mode = default_mode
        # The examples of the front page, and (a weak reference to) the Searcher they came from.
        self._examples: tuple[weakref.ref, list[Example]] | None = None

    def search(
        self,
        query: str,
        limit: int,
        offset: int,
        mode: str,
        narrowing: Narrowing | None = None,
    ) -> SearchResults:
        """The hits ranked offset + 1 to offset + limit, the total and the facets."""
        if offset + limit > MAX_DEPTH:
            raise BadRequest(
                f"only the best {MAX_DEPTH:,} hits can be paged through: "
                f"offset + limit must be at most {MAX_DEPTH:,}"
            )
        narrowing = narrowing or Narrowing()
        filters = narrowing.filters
        with self.live.searcher() as searcher:
            return searcher.search(query, limit, mode, offset, filters, narrowing.sort, facets=True)

    def suggest(self, prefix: str, limit: int) -> list[dict]:
        """The words and phrases completing `prefix`."""
        with self.live.searcher() as searcher:
            found = searcher.suggest(prefix, limit)
        return [
            {"text": s.text, "reading": s.reading or None, "paragraphs": s.paragraphs}
            for s in found
        ]

    def document(self, source: str) -> list[Paragraph]:
        """The paragraphs of `source`; a 404 when the index holds none."""
        with self.live.searcher() as searcher:
            paragraphs = searcher.document(source)
        if not paragraphs:
            raise HTTPException(404)
        return paragraphs

    def documents(self, offset: int, limit: int) -> tuple[int, list[IndexedDocument]]:
        """How many documents the index holds, and those from `offset` on (at most `limit`)."""
        with self.live.searcher() as searcher:
            return searcher.document_list(offset, limit)

    def examples(self) -> list[Example]:
        """Queries that find something in the index served, worked out once an index."""
        with self.live.searcher() as searcher:
            cached = self._examples
            if cached is not None and cached[0]() is searcher:
                return cached[1]
            found = examples(searcher)
            self._examples = (weakref.ref(searcher), found)
            return found

    def marked_paragraph(self, query: str, mode: str, text: str) -> list[tuple[str, bool]]:
        """`text` as pieces, the matches of `query` marked (none for a query in error)."""
        try:
            with self.live.searcher() as searcher:
                spans = searcher.highlights(query, text, mode) if query else []
        except QuerySyntaxError:
            spans = []
        return marked(text, spans)

    def status(self) -> dict:
        return {**self.live.status(), "updating": bool(self.refresher and self.refresher.updating)}


def create_app(
    service: Service,
    cors_origins: tuple[str, ...] = (),
    allowed_hosts: list[str] | None = None,
    say: Say = log.warning,
):
    """The ASGI application. `allowed_hosts`: the Host header values it answers (None: any);
    `cors_origins`: the origins whose pages may call the API (none by default)."""
    return _SecurityHeaders(_HeadAsGet(_routed_app(service, cors_origins, allowed_hosts, say)))


def openapi_description(default_mode: str = "auto") -> dict[str, Any]:
    """The API's OpenAPI description, as GET /openapi.json serves it from a server reading
    queries in `default_mode`, made without an index (the documentation's HTTP reference is
    generated from it)."""
    # The routes ask the index only when a request comes, and none comes here.
    service = Service(cast(LiveIndex, None), None, default_mode)
    return _routed_app(service).openapi()


def _routed_app(
    service: Service,
    cors_origins: tuple[str, ...] = (),
    allowed_hosts: list[str] | None = None,
    say: Say = log.warning,
) -> FastAPI:
    """The FastAPI application, its routes, error handlers and middleware: create_app's, before
    the security headers and HEAD are wrapped around it."""
    app = FastAPI(
        title="kensaku",
        summary="Japanese full-text search over a folder of documents",
        description=API_DESCRIPTION,
        version=_version(),
        openapi_tags=API_TAGS,
        docs_url=None,
        redoc_url=None,
    )
    templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
    app.mount(
        "/static/api-docs",
        StaticFiles(packages=[("fastapi_offline", "static")]),
        name="api-docs-assets",
    )
    app.mount("/static", StaticFiles(packages=[("search.server", "static")]), name="static")
    if cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET"])
    if allowed_hosts is not None:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)
    _add_error_handlers(app, templates, say)
    _add_api(app, service)
    _add_pages(app, service, templates)
    _add_api_docs(app, templates)
    _describe_bad_parameters_as_answered(app)
    return app


def _describe_bad_parameters_as_answered(app: FastAPI) -> None:
    """FastAPI describes a 422 with its validation body on every route with a parameter; this
    server answers a bad parameter with 400 and an ErrorBody (`invalid_parameter`), so its
    description says that instead."""
    described = app.openapi

    def openapi() -> dict[str, Any]:
        schema = app.openapi_schema
        if schema is None:
            schema = described()
            for operations in schema["paths"].values():
                for operation in operations.values():
                    responses = operation.get("responses", {})
                    if responses.pop("422", None) is not None and "400" not in responses:
                        responses["400"] = _BAD_PARAMETER
            for name in ("HTTPValidationError", "ValidationError"):
                schema.get("components", {}).get("schemas", {}).pop(name, None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customize


_BAD_PARAMETER = {
    "description": "A bad parameter",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
}


class _SecurityHeaders:
    """Adds the Content-Security-Policy and SECURITY_HEADERS to every response, those of the
    error handlers included (which Starlette's middleware stack does not reach)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = API_DOCS_POLICIES.get(scope["path"], POLICY)

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"content-security-policy", policy),
                    *SECURITY_HEADERS,
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _HeadAsGet:
    """Answers HEAD on every route as GET, without the body (monitors and link checkers ask
    HEAD; FastAPI's routes answer GET only)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)


def _render(
    templates: Jinja2Templates,
    request: Request,
    name: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """The page `name`; the search form in its header is empty unless `context` fills it."""
    context = {"query": "", "mode": "auto", "modes": MODE_LABELS, "kept": [], **context}
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def _add_error_handlers(app: FastAPI, templates: Jinja2Templates, say: Say) -> None:
    """Every error as `{"error": "<one line>"}` under /api/, as a page elsewhere."""

    def respond(request: Request, status_code: int, message: str) -> Response:
        path = request.url.path
        if path.startswith("/api/") or path == "/openapi.json":
            return JSONResponse({"error": message}, status_code=status_code)
        return _render(
            templates,
            request,
            "error.html",
            status_code,
            message=message,
            japanese=in_japanese(message),
            code=status_code,
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_parameter(request: Request, error: RequestValidationError) -> Response:
        return respond(request, 400, _validation_message(error))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        return respond(
            request,
            error.status_code,
            "not found" if error.status_code == 404 else str(error.detail),
        )

    @app.exception_handler(KensakuError)
    async def library_error(request: Request, error: KensakuError) -> Response:
        return respond(request, *_error_status(error, say))

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, error: Exception) -> Response:
        log.error("%s %s failed", request.method, request.url.path, exc_info=error)
        try:
            return respond(request, 500, "internal error")
        except Exception:  # the error page itself failed: say so plainly
            return PlainTextResponse("internal error", status_code=500)


def _error_status(error: KensakuError, say: Say) -> tuple[int, str]:
    """The HTTP status and the message a client gets for a library error: the query's own
    error as it is; the index's (which names the server's folders) only in the server's log."""
    if isinstance(error, (QuerySyntaxError, BadRequest)):
        return 400, str(error)
    say(str(error))
    if isinstance(error, IndexBusy):
        return 503, "the index is busy; try again in a moment"
    return 503, "the index cannot be read; the server's log says why"


def _validation_message(error: RequestValidationError) -> str:
    """FastAPI's validation errors as one line: `limit: Input should be less than or equal to 100`."""
    problems = []
    for problem in error.errors():
        name = ".".join(str(part) for part in problem.get("loc", ())[1:]) or "request"
        problems.append(f"{name}: {problem.get('msg', 'invalid')}")
    return "; ".join(problems) or "invalid request"


API_DESCRIPTION = """Search the paragraphs of the documents this server indexes, with the \
query syntax of `kensaku search`, and read the documents as the index holds them. Every hit \
cites its document by `source` (its path in the documents folder), `line`, `paragraph` and, \
for a PDF, `page`. A bad query or parameter is HTTP 400 with `{"error": "<one line>"}`."""
API_TAGS = [
    {"name": "search", "description": "Ranked paragraphs for a query."},
    {"name": "documents", "description": "The documents the index holds, and their paragraphs."},
    {"name": "index", "description": "The index being served."},
]


def _add_api(app: FastAPI, service: Service) -> None:
    @app.get(
        "/api/search",
        tags=["search"],
        summary="Search the documents",
        operation_id="search",
        response_model=SearchBody,
        responses={400: {"model": ErrorBody, "description": "A bad query or parameter"}},
    )
    def api_search(
        q: str = Query(description="The query, in the syntax of `kensaku search`."),
        limit: int = Query(PAGE_SIZE, ge=1, le=MAX_LIMIT, description="How many hits."),
        offset: int = Query(0, ge=0, lt=MAX_DEPTH, description="How many hits to skip."),
        mode: str = Query(
            service.default_mode,
            description="How to read the query: " + " | ".join(MODES) + ".",
        ),
        formats: Annotated[
            list[str] | None,
            Query(
                alias="format",
                description="Only these formats: pdf, docx, html, epub, markdown, text; "
                "!pdf leaves one out. Repeatable.",
            ),
        ] = None,
        paths: Annotated[
            list[str] | None,
            Query(
                alias="path",
                description="Only under a folder, a file or a glob; !GLOB leaves out. Repeatable.",
            ),
        ] = None,
        after: str = Query("", description="YYYY, YYYY-MM or YYYY-MM-DD: dated on or after."),
        before: str = Query("", description="YYYY, YYYY-MM or YYYY-MM-DD: dated before."),
        sort: str = Query("relevance", description="The order: " + " | ".join(SORTS) + "."),
    ):
        """The best hits for `q` from `offset` on, narrowed by the filters given (and the
        query's own), in the order asked for: exactly what `kensaku search --json` prints
        (`total` counts the paragraphs holding every word; `partial` marks a hit holding only
        some), the facets of all the matches included, and the paging asked for. `offset` +
        `limit` is at most 1,000."""
        narrowing = Narrowing(tuple(formats or ()), tuple(paths or ()), after, before, sort)
        body = service.search(q, limit, offset, mode, narrowing).to_dict()
        return JSONResponse({**body, "offset": offset, "limit": limit})

    @app.get(
        "/api/suggest",
        tags=["search"],
        summary="Suggest completions",
        operation_id="suggest",
        response_model=SuggestBody,
        responses={400: {"model": ErrorBody, "description": "A bad parameter"}},
    )
    def api_suggest(
        q: str = Query(description="What was typed so far."),
        limit: int = Query(10, ge=1, le=MAX_SUGGESTIONS, description="How many suggestions."),
    ):
        """Words and phrases of the documents that begin with `q` (in kana, also those whose
        reading does: とうご finds 統合), as they are written, those in the most paragraphs
        first."""
        return JSONResponse({"query": q, "suggestions": service.suggest(q, limit)})

    @app.get(
        "/api/documents",
        tags=["documents"],
        summary="List the documents",
        operation_id="listDocuments",
        response_model=DocumentsBody,
        responses={400: {"model": ErrorBody, "description": "A bad parameter"}},
    )
    def api_documents(
        limit: int = Query(
            DOCUMENTS_PAGE_SIZE, ge=1, le=MAX_DOCUMENTS, description="How many documents."
        ),
        offset: int = Query(0, ge=0, description="How many documents to skip."),
    ):
        """The documents the index holds, by source, from `offset` on: each one's paragraphs,
        title, and size and modification time when it was indexed, as `kensaku documents
        --json` lists them; `total` counts them all."""
        total, documents = service.documents(offset, limit)
        return JSONResponse(
            {
                "total": total,
                "offset": offset,
                "limit": limit,
                "documents": [document.to_dict() for document in documents],
            }
        )

    @app.get(
        "/api/documents/{source:path}",
        tags=["documents"],
        summary="Read a document",
        operation_id="getDocument",
        response_model=DocumentBody,
        responses={404: {"model": ErrorBody, "description": "A document the index does not hold"}},
    )
    def api_document(
        source: str = PathParameter(description="The document's path in the documents folder."),
    ):
        """The paragraphs the index holds of the document `source` (its path in the documents
        folder, as hits cite it), in order, each with its citation."""
        paragraphs = service.document(source)
        return JSONResponse(
            {
                "source": source,
                "title": paragraphs[0].title,
                "paragraphs": [
                    {"paragraph": p.paragraph, "line": p.line, "page": p.page, "text": p.text}
                    for p in paragraphs
                ],
            }
        )

    @app.get(
        "/api/status",
        tags=["index"],
        summary="Describe the index",
        operation_id="status",
        response_model=StatusBody,
    )
    def api_status():
        """The index being served: documents, paragraphs, when it was built, its format; and
        whether the server is updating it."""
        return JSONResponse(service.status())


def _add_pages(app: FastAPI, service: Service, templates: Jinja2Templates) -> None:
    default_mode = service.default_mode

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def search_page(
        request: Request,
        q: str = "",
        mode: str = default_mode,
        offset: int = Query(0, ge=0),
        formats: Annotated[list[str] | None, Query(alias="format")] = None,
        paths: Annotated[list[str] | None, Query(alias="path")] = None,
        after: str = "",
        before: str = "",
        sort: str = "relevance",
    ):
        narrowing = Narrowing(tuple(formats or ()), tuple(paths or ()), after, before, sort)
        form: dict[str, Any] = {"query": q, "mode": mode, "kept": narrowing.parameters()}
        if not q:
            return _render(
                templates,
                request,
                "search.html",
                status=service.status(),
                examples=[
                    (example.query, search_link(example.query), EXAMPLE_LABELS[example.kind])
                    for example in service.examples()
                ],
                **form,
            )
        links = Links(q, mode, default_mode, narrowing)
        try:
            results = service.search(q, page_limit(offset), offset, mode, narrowing)
        except (QuerySyntaxError, BadRequest) as error:
            message = str(error)
            return _render(
                templates,
                request,
                "search.html",
                400,
                error=message,
                japanese=in_japanese(message),
                panel=PanelView(None, links),
                **form,
            )
        return _render(
            templates,
            request,
            "search.html",
            results=ResultsView(results, offset, links),
            panel=PanelView(results.facets, links),
            **form,
        )

    @app.get("/documents", response_class=HTMLResponse, include_in_schema=False)
    def documents_page(request: Request, offset: int = Query(0, ge=0)):
        total, documents = service.documents(offset, DOCUMENTS_PAGE_SIZE)
        return _render(
            templates, request, "documents.html", listing=DocumentsView(total, documents, offset)
        )

    @app.get("/documents/{source:path}", response_class=HTMLResponse, include_in_schema=False)
    def document_page(
        request: Request,
        source: str,
        paragraph: int | None = None,
        part: int | None = Query(None, ge=1),
        q: str = "",
        mode: str = default_mode,
    ):
        paragraphs = service.document(source)
        links = Links(q, mode, default_mode)
        chosen = next((p for p in paragraphs if p.paragraph == paragraph), None)
        return _render(
            templates,
            request,
            "document.html",
            source=source,
            title=paragraphs[0].title,
            view=DocumentView(source, paragraphs, paragraph, part, links),
            chosen=paragraph,
            chosen_text=chosen and service.marked_paragraph(q, mode, chosen.text),
            query=q,
            mode=mode,
            back=links.results() if q else None,
        )


def _add_api_docs(app: FastAPI, templates: Jinja2Templates) -> None:
    """/docs and /redoc: the API's description in Swagger UI and ReDoc, their scripts served
    from the fastapi-offline package (API_DOCS_POLICIES says what else they need)."""

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def swagger_ui(request: Request):
        return templates.TemplateResponse(request, "swagger.html", {"title": app.title})

    @app.get("/redoc", response_class=HTMLResponse, include_in_schema=False)
    def redoc(request: Request):
        return templates.TemplateResponse(request, "redoc.html", {"title": app.title})


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kensaku")
    except PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class ServeSettings:
    """What `kensaku serve` serves and how: the index and its documents folder, how often the
    documents are looked at for changes (`refresh` seconds, 0: never), synonyms, the mode a query
    is read in unless it asks, the address, the origins whose pages may call the API, and the
    cluster the index is searched and updated on (None: this process)."""

    index_dir: Path
    docs_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    refresh: float = 10.0
    synonyms_file: Path | None = None
    sudachi_synonyms: bool = False
    default_mode: str = "auto"
    cors_origins: tuple[str, ...] = ()
    cluster: str | None = None  # the Ray cluster the shards are searched on (search.cluster)


def serve(settings: ServeSettings, say: Say, announce: Say) -> None:
    """Serve the index until Ctrl-C (SIGINT) or SIGTERM. `announce` hears the URL once the
    server listens; `say` hears what the server does to the index and what goes wrong."""
    import uvicorn

    sock = listen(settings.host, settings.port)
    live = LiveIndex(
        settings.index_dir, settings.synonyms_file, settings.sudachi_synonyms, settings.cluster
    )
    refresher = (
        Refresher(settings.docs_dir, settings.index_dir, settings.refresh, say, settings.cluster)
        if settings.refresh > 0
        else None
    )
    app = create_app(
        Service(live, refresher, settings.default_mode),
        settings.cors_origins,
        LOOPBACK_NAMES if is_loopback(settings.host) else None,
        say,
    )
    server = uvicorn.Server(
        uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="off", server_header=False
        )
    )
    # uvicorn stops gracefully on either signal, then raises it again: end quietly then.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        if refresher:
            refresher.start()
        announce(url_of(sock))
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        if refresher:
            refresher.stop()
        live.close()
        sock.close()
