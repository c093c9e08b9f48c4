"""The local HTTP API: FastAPI on loopback with a bearer token, live events over WebSocket, Prometheus metrics.

    app      `create_app(services)`: guards, token, error handlers, docs, the event hub
    routes   health, ready, metrics, ask, confirm, chat (whole and streamed), WS /api/events
    manage   models, skills, rules, traces, scan, alerts
    schemas  request and response models (limits, no unknown fields)
    auth     the token (OS keyring and a 0600 file); guards: Host, Origin and body-size checks
    metrics  the Prometheus registry; events: bus events to WebSocket clients
    server   uvicorn in a thread (`start_api` for `agent run`), `serve` for `agent api`
"""

from agent.api.app import create_app
from agent.api.auth import load_token, token_file
from agent.api.server import ApiServer, serve, server_file, start_api, start_server

__all__ = ["ApiServer", "create_app", "load_token", "serve", "server_file", "start_api", "start_server",
           "token_file"]
