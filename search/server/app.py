"""Server: the search page and the HTTP JSON API over one live index (`kensaku serve`).

FastAPI (on Starlette) routes the requests and describes the API in OpenAPI; uvicorn serves them;
Jinja2 renders the pages from `templates/`, escaping every value. Routes:

    GET /                       the search page: ?q=…&mode=…&offset=… and the filters and order
                                of /api/search; a side panel of facets narrows it
    GET /documents/{source}     a whole document, ?paragraph=N highlighted (#pN scrolls to it)
    GET /api/search             ?q=…&limit=…&offset=…&mode=…&format=…&path=…&after=…&before=…
                                &sort=relevance|date: the `--json` contract (facets included),
                                plus paging
    GET /api/suggest            ?q=…&limit=…: words and phrases of the documents completing q
    GET /api/documents/{source} a document's paragraphs with their citations
    GET /api/status             the index's documents, paragraphs, build time, format
    GET /openapi.json           the API's description

Documents are shown from the index only: nothing is read from the documents folder, so no path
can reach a file the index does not hold. Every response forbids framing and any script but the
page's own from /static (Content-Security-Policy), and the page works without it (the script
only offers suggestions as one types); errors reach a client as one line, never as a stack trace.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
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
    ErrorBody,
    SearchBody,
    StatusBody,
    SuggestBody,
)
from search.server.pages import (
    MAX_DEPTH,
    MODE_LABELS,
    PAGE_SIZE,
    Links,
    Narrowing,
    PanelView,
    ResultsView,
    marked,
    page_limit,
)
from search.service.listening import LOOPBACK_NAMES, is_loopback, listen, url_of
from search.service.live import LiveIndex
from search.service.refresh import Refresher

MAX_LIMIT = 100  # hits in one API response
MAX_SUGGESTIONS = 20
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
        b"img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    ),
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
    app = FastAPI(
        title="kensaku",
        summary="Japanese full-text search over a folder of documents",
        version=_version(),
        docs_url=None,
        redoc_url=None,
    )
    templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
    app.mount("/static", StaticFiles(packages=[("search.server", "static")]), name="static")
    if cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET"])
    if allowed_hosts is not None:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)
    _add_error_handlers(app, templates, say)
    _add_api(app, service)
    _add_pages(app, service, templates)
    return _SecurityHeaders(app)


class _SecurityHeaders:
    """Adds SECURITY_HEADERS to every response, those of the error handlers included (which
    Starlette's middleware stack does not reach)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers if scope["type"] == "http" else send)


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
            templates, request, "error.html", status_code, message=message, code=status_code
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


def _add_api(app: FastAPI, service: Service) -> None:
    @app.get(
        "/api/search",
        tags=["search"],
        response_model=SearchBody,
        responses={400: {"model": ErrorBody}},
    )
    def api_search(
        q: str = Query(description="the query, in the syntax of `kensaku search`"),
        limit: int = Query(PAGE_SIZE, ge=1, le=MAX_LIMIT),
        offset: int = Query(0, ge=0, lt=MAX_DEPTH),
        mode: str = Query(service.default_mode, description=" | ".join(MODES)),
        formats: Annotated[
            list[str] | None,
            Query(
                alias="format", description="pdf, docx, html, epub, markdown, text; !pdf leaves out"
            ),
        ] = None,
        paths: Annotated[
            list[str] | None,
            Query(alias="path", description="a folder, a file or a glob; !GLOB leaves out"),
        ] = None,
        after: str = Query("", description="YYYY, YYYY-MM or YYYY-MM-DD: dated on or after"),
        before: str = Query("", description="YYYY, YYYY-MM or YYYY-MM-DD: dated before"),
        sort: str = Query("relevance", description=" | ".join(SORTS)),
    ):
        """The best hits for `q` from `offset` on, narrowed by the filters given (and the
        query's own), in the order asked for: exactly what `kensaku search --json` prints, the
        facets of all the matches included, and the paging asked for."""
        narrowing = Narrowing(tuple(formats or ()), tuple(paths or ()), after, before, sort)
        body = service.search(q, limit, offset, mode, narrowing).to_dict()
        return JSONResponse({**body, "offset": offset, "limit": limit})

    @app.get(
        "/api/suggest",
        tags=["search"],
        response_model=SuggestBody,
        responses={400: {"model": ErrorBody}},
    )
    def api_suggest(
        q: str = Query(description="what was typed so far"),
        limit: int = Query(10, ge=1, le=MAX_SUGGESTIONS),
    ):
        """Words and phrases of the documents that begin with `q` (in kana, also those whose
        reading does: とうご finds 統合), as they are written, those in the most paragraphs
        first."""
        return JSONResponse({"query": q, "suggestions": service.suggest(q, limit)})

    @app.get(
        "/api/documents/{source:path}",
        tags=["documents"],
        response_model=DocumentBody,
        responses={404: {"model": ErrorBody}},
    )
    def api_document(source: str):
        """The paragraphs the index holds of the document `source` (its path in the documents
        folder), each with its citation."""
        paragraphs = service.document(source)
        return JSONResponse(
            {
                "source": source,
                "title": paragraphs[0].title,
                "paragraphs": [
                    # getattr: Paragraph gains `page` with the format readers (issue 11).
                    {
                        "paragraph": p.paragraph,
                        "line": p.line,
                        "page": getattr(p, "page", None),
                        "text": p.text,
                    }
                    for p in paragraphs
                ],
            }
        )

    @app.get("/api/status", tags=["index"], response_model=StatusBody)
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
            return _render(templates, request, "search.html", status=service.status(), **form)
        links = Links(q, mode, default_mode, narrowing)
        try:
            results = service.search(q, page_limit(offset), offset, mode, narrowing)
        except (QuerySyntaxError, BadRequest) as error:
            return _render(
                templates,
                request,
                "search.html",
                400,
                error=str(error),
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

    @app.get("/documents/{source:path}", response_class=HTMLResponse, include_in_schema=False)
    def document_page(
        request: Request,
        source: str,
        paragraph: int | None = None,
        q: str = "",
        mode: str = default_mode,
    ):
        paragraphs = service.document(source)
        chosen = next((p for p in paragraphs if p.paragraph == paragraph), None)
        return _render(
            templates,
            request,
            "document.html",
            source=source,
            title=paragraphs[0].title,
            paragraphs=paragraphs,
            chosen=paragraph,
            chosen_text=chosen and service.marked_paragraph(q, mode, chosen.text),
            query=q,
            mode=mode,
            back=Links(q, mode, default_mode).results() if q else None,
        )


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
