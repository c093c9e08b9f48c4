"""Serving the API: uvicorn in a background thread of the resident agent (`start_api`, in
`agent.app.COMPONENTS`), or alone in the foreground (`serve`, for `agent api`).

The socket is bound here, before uvicorn starts, so a busy port or a refused address is a clear error at once,
and port 0 gets its real number. Where the API listens is written to `<data dir>/api/server.json`
(`{"url", "host", "port", "pid"}`, mode 0600) and removed when it stops; the token is next to it
(`auth.py`).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uvicorn

from agent.api.auth import runtime_dir
from agent.api.guards import check_bind_host
from agent.components import Stop
from agent.errors import ConfigError

if TYPE_CHECKING:
    from agent.services import Services

__all__ = ["ApiServer", "server_file", "serve", "start_api", "start_server"]

_LOGGER = logging.getLogger(__name__)
_START_TIMEOUT_S = 15.0


def server_file(services: Services) -> Path:
    return runtime_dir(services.paths) / "server.json"


@dataclass
class ApiServer:
    server: uvicorn.Server
    thread: threading.Thread
    host: str
    port: int
    runtime_file: Path
    warming: threading.Thread | None = None  # loading the router's models in the background

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        if self.thread.is_alive():
            self.server.force_exit = True
            self.thread.join(timeout)
        _remove_runtime_file(self.runtime_file, self.port)
        if self.warming is not None:  # native model code must not be running when the process exits
            self.warming.join()
        _LOGGER.info("API stopped (%s)", self.url)


def _bind(host: str, port: int) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"api.host {host!r} cannot be resolved: {exc}") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        hint = " (is another agent already running? set api.port, or 0 for a free one)" if port else ""
        raise ConfigError(f"the API cannot listen on {host}:{port}: {exc.strerror or exc}{hint}") from None
    sock.setblocking(False)
    return sock


def _write_runtime_file(path: Path, data: dict[str, Any]) -> None:
    """Write `server.json` atomically; on a full disk log why and serve anyway (the log has the URL)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        _LOGGER.warning("%s could not be written (%s); the API serves on %s all the same", path, exc,
                        data.get("url"))


def _remove_runtime_file(path: Path, port: int) -> None:
    """Remove `server.json` if it is still ours (another agent may have started since)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("pid") == os.getpid() and data.get("port") == port:
            path.unlink()
    except (OSError, ValueError):
        pass


def start_server(services: Services, *, host: str | None = None, port: int | None = None,
                 metrics_interval_s: float = 5.0, warm: bool = False) -> ApiServer:
    """Bind, start uvicorn in a thread, wait until it serves; raises `ConfigError` when it cannot. `warm`: load
    the router's models in the background now, so the first `/api/ask` does not wait for them."""
    from agent.api.app import create_app

    cfg = services.settings.api
    host = (host or cfg.host).strip().strip("[]")
    port = cfg.port if port is None else port
    if not 0 <= port <= 65535:
        raise ConfigError(f"API port {port} is out of range (0-65535; 0 picks a free one)")
    check_bind_host(host, cfg.allow_non_loopback)
    sock = _bind(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    app = create_app(services, bind_host=host, metrics_interval_s=metrics_interval_s)
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", ws="websockets-sansio",
                            ws_max_size=64 * 1024, server_header=False, timeout_graceful_shutdown=3,
                            limit_concurrency=200)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="api-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + _START_TIMEOUT_S
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    if not server.started:
        server.should_exit = True
        sock.close()
        raise ConfigError(f"the API did not start on {host}:{bound_port} (see the agent's log)")
    api = ApiServer(server, thread, str(bound_host), int(bound_port), server_file(services))
    _write_runtime_file(api.runtime_file, {"url": api.url, "host": api.host, "port": api.port, "pid": os.getpid()})
    _LOGGER.info("API serving on %s", api.url)
    if warm:
        api.warming = threading.Thread(target=_warm, args=(services,), name="api-warm", daemon=True)
        api.warming.start()
    return api


def _warm(services: Services) -> None:
    try:
        services.pipeline().warm()
    except Exception:
        _LOGGER.exception("warming the router failed; the first request will try again")


def start_api(services: Services) -> Stop | None:
    """Component start (`agent run`): serve the API as `services.api` if `api.enabled`; returns its stop."""
    if not services.settings.api.enabled:
        _LOGGER.info("the API is off in the config (api.enabled: false)")
        return None
    api = services.api = start_server(services, warm=True)

    def stop() -> None:
        if services.api is api:
            services.api = None
        api.stop()

    return stop


def serve(services: Services, *, host: str | None = None, port: int | None = None,
          announce: Any = None) -> int:
    """`agent api`: serve in the foreground until Ctrl-C or SIGTERM, then stop cleanly."""
    api = start_server(services, host=host, port=port, warm=True)
    if announce is not None:
        announce(api)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.is_set() and api.thread.is_alive():
            stop.wait(0.5)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        api.stop()
    return 0
