"""The FastAPI app: `create_app(services)` wires the guards, the token, the error handlers, the routes
(`routes.py`, `manage.py`) and the live event hub. Serving it is `server.py`'s job."""

from __future__ import annotations

import html
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from agent import __version__
from agent.api.auth import load_token, tokens_match
from agent.api.events import EventHub
from agent.api.guards import ASGIApp, Receive, RequestGuard, Scope, Send, is_loopback
from agent.api.idempotency import IdempotencyKeys, IdempotencyMiddleware
from agent.api.metrics import AgentMetrics
from agent.api.state import ApiState, presented_token, state_of

if TYPE_CHECKING:
    from agent.services import Services

__all__ = ["create_app"]

_LOGGER = logging.getLogger(__name__)

# -- errors: always JSON ------------------------------------------------------------------------------------
async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail, default=str)
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no such endpoint: {request.method} {request.url.path} (see /api/docs)"
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    return JSONResponse({"error": detail}, exc.status_code, headers=getattr(exc, "headers", None))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [{"loc": [p if isinstance(p, (str, int)) else str(p) for p in e.get("loc", ())],
                 "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))} for e in exc.errors()]
    first = problems[0] if problems else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(p) for p in first["loc"])
    return JSONResponse({"error": f"invalid input: {where}: {first['msg']}", "detail": problems}, 422)


async def _server_error(request: Request, exc: Exception) -> JSONResponse:
    _LOGGER.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"error": f"internal error ({exc.__class__.__name__}); see the agent's log"}, 500)


def _keys_opener(services: Services) -> Callable[[], IdempotencyKeys]:
    """The Idempotency-Key store, opened on the first request that sends a key, then kept."""
    lock = threading.Lock()
    opened: list[IdempotencyKeys] = []

    def keys() -> IdempotencyKeys:
        with lock:
            if not opened:
                opened.append(IdempotencyKeys(services.paths.data / "api" / "idempotency.sqlite"))
            return opened[0]

    return keys


# -- metrics of every HTTP request --------------------------------------------------------------------------
class _RequestMetrics:
    def __init__(self, app: ASGIApp, metrics: AgentMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.observe_request(scope.get("method", ""), route, status, time.perf_counter() - started)


# -- docs: rendered here from the OpenAPI schema (no scripts from elsewhere; the agent is local) --------------
def _docs_html(schema: dict[str, Any]) -> str:
    rows = []
    for path, ops in schema.get("paths", {}).items():
        for method, op in ops.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            params = ", ".join(f"{p['name']} ({p['in']})" for p in op.get("parameters", []))
            cells = [f"<b>{html.escape(method.upper())}</b>", f"<code>{html.escape(path)}</code>",
                     f"{html.escape(op.get('summary', ''))}<br><small>{html.escape(op.get('description', ''))}</small>",
                     html.escape(params), html.escape(body.get("$ref", "").split("/")[-1]),
                     html.escape(", ".join(op.get("responses", {})))]
            rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    models = json.dumps(schema.get("components", {}).get("schemas", {}), indent=2)
    return ("<!doctype html><html><head><meta charset='utf-8'><title>agent API</title><style>body{font-family:"
            "sans-serif;margin:2em}td{border-top:1px solid #ccc;padding:4px;vertical-align:top}</style></head><body>"
            f"<h1>{html.escape(schema['info']['title'])} {html.escape(schema['info']['version'])}</h1>"
            "<p>Send <code>Authorization: Bearer &lt;token&gt;</code> (<code>agent api token</code> prints it). "
            "The machine-readable schema: <code>/api/openapi.json</code>. Live events: <code>WS /api/events</code>."
            "</p><table><tr><th>method</th><th>path</th><th>what</th><th>parameters</th><th>body</th>"
            f"<th>responses</th></tr>{''.join(rows)}</table><h2>Models</h2><pre>{html.escape(models)}</pre>"
            "</body></html>")


def _add_docs(app: FastAPI) -> None:
    def authorized(request: Request) -> None:
        if not tokens_match(state_of(request).token, presented_token(request.headers, request.query_params)):
            raise HTTPException(401, "missing or wrong token: send 'Authorization: Bearer <token>' or add "
                                     "?token=<token> (`agent api token` prints it)",
                                headers={"WWW-Authenticate": "Bearer"})

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi(request: Request) -> JSONResponse:
        authorized(request)
        return JSONResponse(app.openapi())

    @app.get("/api/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        authorized(request)
        return HTMLResponse(_docs_html(app.openapi()))


def create_app(services: Services, *, token: str | None = None, bind_host: str | None = None,
               metrics_interval_s: float = 5.0) -> FastAPI:
    """The API app for `services`. `token`: default the stored one (created the first time). `bind_host`: the
    address it will serve on; a non-loopback one (allowed by config) is also accepted as a Host name."""
    from agent.api.files import router as files_router
    from agent.api.manage import router as manage_router
    from agent.api.routes import public, router, ws_router

    metrics = AgentMetrics(services)
    state = ApiState(services, token or load_token(services.paths), metrics,
                     EventHub(services.bus, metrics_interval_s=metrics_interval_s, on_drop=metrics.ws_dropped.inc),
                     services.pipeline())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        detach = metrics.attach(services.bus.subscribe)
        await state.hub.start()
        try:
            yield
        finally:
            await state.hub.stop()
            detach()

    app = FastAPI(title="ambient agent local API", version=__version__, lifespan=lifespan, openapi_url=None,
                  docs_url=None, redoc_url=None,
                  description="Loopback only; every endpoint but /api/health needs the bearer token.")
    app.state.api = state
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _server_error)
    app.include_router(public)
    app.include_router(router)
    app.include_router(manage_router)
    app.include_router(files_router)
    app.include_router(ws_router)
    _add_docs(app)
    host = (bind_host or services.settings.api.host).strip("[]")
    extra = frozenset() if is_loopback(host) else frozenset({host})
    app.add_middleware(IdempotencyMiddleware, keys=_keys_opener(services),
                       authorized=lambda header: tokens_match(state.token, presented_token({"authorization": header})))
    app.add_middleware(RequestGuard, max_body_bytes=services.settings.api.max_body_bytes,
                       extra_hosts=extra, any_host=host in ("0.0.0.0", "::"))
    app.add_middleware(_RequestMetrics, metrics=metrics)
    return app
