"""Health, readiness, metrics, the pipeline (ask, confirm), chat (whole or streamed) and the live events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Generator
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import Response
from sse_starlette import EventSourceResponse

from agent import __version__
from agent.api.auth import tokens_match
from agent.api.events import Client
from agent.api.schemas import (
    CONFIRMATION_ID,
    AskRequest,
    AskResponse,
    AudioReady,
    ChatRequest,
    ChatResponse,
    ConfirmRequest,
    ErrorResponse,
    HealthResponse,
    ModelsReady,
    ReadyResponse,
    RulesReady,
)
from agent.api.state import (
    ERRORS,
    ApiState,
    bearer,
    outcome_json,
    presented_token,
    require_token,
    state_of,
)
from agent.errors import ModelError

__all__ = ["ERRORS", "outcome_json", "public", "router", "ws_router"]

_LOGGER = logging.getLogger(__name__)
_AUDIO_TTL_S = 30.0

_CHAT_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS, 503: {"model": ErrorResponse, "description": "the language model is unavailable"}}

router = APIRouter(dependencies=[Depends(bearer), Depends(require_token)], responses=ERRORS)
ws_router = APIRouter()
public = APIRouter()  # no token: /api/health only


@public.get("/api/health", response_model=HealthResponse, summary="liveness: status, version, uptime (no token)")
def health(request: Request) -> HealthResponse:
    return HealthResponse(status="ok", version=__version__,
                          uptime_s=round(time.monotonic() - state_of(request).started, 3))


def _audio(state: ApiState) -> dict[str, Any]:
    now = time.monotonic()
    if state.audio is not None and now - state.audio[0] < _AUDIO_TTL_S:
        return state.audio[1]
    try:
        import sounddevice as sd

        devices = sd.query_devices()
        ins = sum(1 for d in devices if d["max_input_channels"] > 0)
        outs = sum(1 for d in devices if d["max_output_channels"] > 0)
        result = {"available": bool(ins or outs), "inputs": ins, "outputs": outs,
                  "detail": f"{ins} input and {outs} output device(s)"}
    except Exception as exc:  # PortAudio missing, no sound server
        result = {"available": False, "inputs": 0, "outputs": 0, "detail": f"{exc.__class__.__name__}: {exc}"}
    state.audio = (now, result)
    return result


@router.get("/api/ready", response_model=ReadyResponse, summary="models loaded, audio, rules")
def ready(request: Request) -> ReadyResponse:
    state = state_of(request)
    services = state.services
    router_loaded = getattr(services, "_router", None) is not None
    error = services.models.last_error
    engine = services.automation.engine if services.automation is not None else None
    rows = engine.status() if engine is not None else []
    return ReadyResponse(
        ready=router_loaded,
        models=ModelsReady(router_loaded=router_loaded, llm_loaded=services.models.loaded(),
                           llm_error=str(error) if error else None),
        audio=AudioReady(**_audio(state)),
        rules=RulesReady(running=engine is not None, loaded=len(rows), firing=sum(1 for r in rows if r["firing"])))


@router.get("/api/metrics", response_class=Response, summary="Prometheus metrics (text format)",
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}})
def metrics(request: Request) -> Response:
    return Response(state_of(request).metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")


@router.post("/api/ask", response_model=AskResponse, summary="run the pipeline on text (as `agent ask --json`)")
def ask(request: Request, body: AskRequest) -> dict[str, Any]:
    state = state_of(request)
    with state.pipeline.turn():  # one turn at a time; the first one loads the router's models
        started = time.perf_counter()
        state.services.router()
        load_ms = (time.perf_counter() - started) * 1000
        outcome = state.pipeline.handle(body.text, source="api", dry_run=body.dry_run)
    if load_ms > 1:
        outcome.timings_ms = {"load": load_ms, **outcome.timings_ms}
        state.metrics.observe_load(load_ms)
    return outcome_json(outcome)


@router.post("/api/confirm/{id}", response_model=AskResponse, summary="grant (or refuse) a pending confirmation",
             responses={404: {"model": ErrorResponse, "description": "no such pending confirmation"}})
def confirm(request: Request, id: Annotated[str, Path(pattern=CONFIRMATION_ID, max_length=64)],
            body: Annotated[ConfirmRequest | None, Body()] = None) -> dict[str, Any]:
    state = state_of(request)
    if state.services.confirmations.get(id) is None:
        raise HTTPException(404, f"no pending confirmation {id!r} (it expired, was answered, or never existed)")
    granted = body.granted if body is not None else True
    return outcome_json(state.pipeline.confirm(id, granted=granted, source="api"))


# -- chat ---------------------------------------------------------------------------------------------------
def _chat_setup(state: ApiState, body: ChatRequest) -> tuple[Any, list[dict[str, str]], int]:
    from agent.skills.chat import SYSTEM

    try:
        llm = state.services.models.get()
    except ModelError as exc:
        raise HTTPException(503, f"the language model is unavailable: {exc}") from None
    messages = [{"role": "system", "content": SYSTEM}, *({"role": m.role, "content": m.content}
                                                         for m in body.messages)]
    limit = state.services.models.settings.llm.max_tokens
    return llm, messages, min(body.max_tokens or limit, limit)


@router.post("/api/chat", response_model=ChatResponse, responses=_CHAT_ERRORS, summary="one answer from the model")
def chat(request: Request, body: ChatRequest) -> ChatResponse:
    llm, messages, max_tokens = _chat_setup(state_of(request), body)
    started = time.perf_counter()
    try:
        reply = llm.chat(messages, max_tokens=max_tokens)
    except ModelError as exc:
        raise HTTPException(503, f"the language model failed: {exc}") from None
    except ValueError as exc:  # llama.cpp: the prompt does not fit the context window
        raise HTTPException(422, f"the conversation does not fit the model: {exc}") from None
    return ChatResponse(reply=reply, model=llm.name, ms=round((time.perf_counter() - started) * 1000, 2))


def _pieces(llm: Any, messages: list[dict[str, str]], max_tokens: int) -> Generator[str, None, None]:
    stream = getattr(llm, "chat_stream", None)
    if stream is None:  # a model without streaming: one piece
        yield llm.chat(messages, max_tokens=max_tokens)
        return
    yield from stream(messages, max_tokens=max_tokens)


def _sse(data: dict[str, Any], event: str | None = None) -> dict[str, Any]:
    """One server-sent event (sse-starlette writes `event: NAME` when named, then `data: JSON`)."""
    return {"data": json.dumps(data, ensure_ascii=False), "event": event}


@router.post("/api/chat/stream", response_class=EventSourceResponse, responses={
    **_CHAT_ERRORS, 200: {"description": "server-sent events: `data: {\"token\": ...}` per piece, then `event: done` "
                          "with the whole reply (or `event: error`)", "content": {"text/event-stream": {}}}},
    summary="the model's answer, token by token (server-sent events)")
async def chat_stream(request: Request, body: ChatRequest) -> EventSourceResponse:
    from starlette.concurrency import run_in_threadpool

    llm, messages, max_tokens = await run_in_threadpool(_chat_setup, state_of(request), body)
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    cancelled = threading.Event()

    def put(kind: str, value: str) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: the server stopped
            loop.call_soon_threadsafe(queue.put_nowait, (kind, value))

    def generate() -> None:
        try:
            with contextlib.closing(_pieces(llm, messages, max_tokens)) as pieces:
                for piece in pieces:
                    if cancelled.is_set():
                        break  # the client left: closing the iterator frees the model
                    put("token", piece)
            put("done", "")
        except Exception as exc:
            _LOGGER.warning("streamed chat failed: %s", exc)
            put("error", f"the language model failed: {exc}")

    threading.Thread(target=generate, name="api-chat-stream", daemon=True).start()

    async def events() -> AsyncIterator[dict[str, Any]]:
        parts: list[str] = []
        try:
            while True:
                kind, value = await queue.get()
                if kind == "token":
                    parts.append(value)
                    yield _sse({"token": value})
                elif kind == "done":
                    yield _sse({"reply": "".join(parts).strip(), "model": llm.name, "pieces": len(parts)}, "done")
                    return
                else:
                    yield _sse({"error": value}, "error")
                    return
        finally:
            cancelled.set()

    # "\n" line ends as before; a `: ping` comment every 15 s keeps proxies from closing a slow answer
    return EventSourceResponse(events(), sep="\n", headers={"Cache-Control": "no-cache"})


# -- live events --------------------------------------------------------------------------------------------
async def _pump(ws: WebSocket, client: Client) -> None:
    while True:
        await ws.send_json(await client.next())


async def _drain(ws: WebSocket) -> None:
    """Read (and ignore) what the client sends, to notice when it leaves."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return


@ws_router.websocket("/api/events")
async def events(ws: WebSocket, types: Annotated[str | None, Query(max_length=500)] = None) -> None:
    """Every bus event as JSON; `?types=Alert,Reply` for only some. Token: the Authorization header, or
    `?token=` for clients that cannot set headers."""
    state: ApiState = ws.app.state.api
    if not tokens_match(state.token, presented_token(ws.headers, ws.query_params)):
        await ws.close(code=1008, reason="missing or wrong token")
        return
    await ws.accept()
    wanted = frozenset(t.strip() for t in types.split(",") if t.strip()) if types else None
    client = state.hub.connect(wanted)
    state.metrics.ws_clients.inc()
    try:
        await ws.send_json({"type": "hello", "version": __version__, "types": sorted(wanted) if wanted else None})
        tasks = {asyncio.create_task(_pump(ws, client)), asyncio.create_task(_drain(ws))}
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            if not task.cancelled() and task.exception() is not None and not isinstance(
                    task.exception(), (WebSocketDisconnect, RuntimeError, OSError)):
                _LOGGER.warning("event stream ended: %r", task.exception())
    finally:
        state.hub.disconnect(client)
        state.metrics.ws_clients.dec()
