"""What every endpoint module shares: the app state, the bearer token check, the common error responses.

Endpoint modules (`routes.py`, `manage.py`, `files.py`) import from here; `app.py` imports them to build the
app, so nothing imports `app.py` back."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException, Request
from fastapi.security import HTTPBearer

from agent.api.auth import tokens_match
from agent.api.events import EventHub
from agent.api.metrics import AgentMetrics
from agent.api.schemas import ErrorResponse
from agent.pipeline import Outcome, Pipeline

if TYPE_CHECKING:
    from agent.automation.engine import Engine
    from agent.services import Services

__all__ = ["ERRORS", "ApiState", "bearer", "outcome_json", "presented_token", "require_token",
           "state_of"]

bearer = HTTPBearer(auto_error=False, description="the token `agent api token` prints")


@dataclass
class ApiState:
    """What the endpoints share: the agent's services, the token, metrics, the event hub."""

    services: Services
    token: str
    metrics: AgentMetrics
    hub: EventHub
    pipeline: Pipeline
    started: float = field(default_factory=time.monotonic)
    models_lock: threading.Lock = field(default_factory=threading.Lock)
    scan_lock: threading.Lock = field(default_factory=threading.Lock)
    rules_lock: threading.Lock = field(default_factory=threading.Lock)
    standby_engine: Engine | None = None  # rules loaded (not run) when the resident engine is not running
    audio: tuple[float, dict[str, Any]] | None = None  # (checked at, result)


def state_of(request: Request) -> ApiState:
    state: ApiState = request.app.state.api
    return state


def presented_token(headers: Any, query: Any = None) -> str | None:
    """The bearer token from `Authorization`, or (for the docs page and WebSockets, which browsers cannot give
    headers) from `?token=`."""
    scheme, _, value = str(headers.get("authorization") or "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return str(query.get("token")) if query is not None and query.get("token") else None


def require_token(request: Request) -> None:
    """The dependency every endpoint but `/api/health` has."""
    if not tokens_match(state_of(request).token, presented_token(request.headers)):
        raise HTTPException(401, "missing or wrong bearer token: send 'Authorization: Bearer <token>' "
                                 "(`agent api token` prints it)", headers={"WWW-Authenticate": "Bearer"})


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "missing or wrong bearer token"},
    413: {"model": ErrorResponse, "description": "request body over api.max_body_bytes"},
    422: {"model": ErrorResponse, "description": "invalid input"},
}

def outcome_json(outcome: Outcome) -> dict[str, Any]:
    """`outcome.to_json()` as plain JSON (what `agent ask --json` prints; non-finite numbers become null)."""
    out: dict[str, Any] = json.loads(json.dumps(outcome.to_json(), default=str), parse_constant=lambda _: None)
    return out
