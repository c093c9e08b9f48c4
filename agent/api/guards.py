"""What every request passes before it reaches an endpoint (one pure ASGI middleware, HTTP and WebSocket):

- the `Host` header must name a loopback host (localhost, 127.x.y.z, ::1): a web page that rebinds its own DNS
  name to 127.0.0.1 still sends its own name, and is refused (400);
- a browser's `Origin` header, when there is one, must be a loopback origin (403); the API never sends CORS
  headers, so no other origin is granted anything, and preflight requests are not answered (405);
- a request body may not exceed `max_body_bytes` (413), whether it declares its length or not.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from agent.errors import ConfigError

__all__ = ["RequestGuard", "check_bind_host", "host_of", "is_loopback"]

_LOGGER = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def is_loopback(host: str) -> bool:
    """localhost (and *.localhost), or a loopback IP address (127.0.0.0/8, ::1, ::ffff:127.x.y.z)."""
    name = host.strip().strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def check_bind_host(host: str, allow_non_loopback: bool) -> None:
    """Refuse to serve on a non-loopback address unless the user said so (`api.allow_non_loopback: true`)."""
    if is_loopback(host) or allow_non_loopback:
        return
    raise ConfigError(f"api.host {host!r} is not a loopback address; the API serves this machine only. "
                      "Use 127.0.0.1 (or another 127.x address, ::1), or set api.allow_non_loopback: true")


def host_of(value: str) -> str:
    """The host part of a `Host` header value: `[::1]:8765` -> `::1`, `localhost:80` -> `localhost`."""
    value = value.strip()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else ""
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


class _TooLarge(Exception):
    pass


class RequestGuard:
    """`extra_hosts`: host names accepted besides loopback ones (the bind address when the user allowed a
    non-loopback one); `any_host`: accept every Host (bound to all interfaces on purpose)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, extra_hosts: frozenset[str] = frozenset(),
                 any_host: bool = False) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.extra_hosts = frozenset(h.lower() for h in extra_hosts)
        self.any_host = any_host

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        problem = self._problem(scope)
        if problem is not None:
            status, message = problem
            _LOGGER.info("refused %s %s: %s", kind, scope.get("path"), message)
            await self._refuse(kind, status, message, send)
            return
        if kind == "websocket":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.strip().isdigit() or int(declared) > self.max_body_bytes):
            await self._refuse(kind, 413, f"request body over the limit of {self.max_body_bytes} bytes", send)
            return
        try:
            body = await self._read_body(receive)
        except _TooLarge:
            await self._refuse(kind, 413, f"request body over the limit of {self.max_body_bytes} bytes", send)
            return
        await self.app(scope, _replay(body, receive), send)

    def _problem(self, scope: Scope) -> tuple[int, str] | None:
        host = host_of(_header(scope, b"host") or "")
        if not self.any_host and not (is_loopback(host) or host.lower() in self.extra_hosts):
            return 400, f"host {host!r} not allowed: the API answers loopback host names only"
        origin = _header(scope, b"origin")
        if origin is not None:
            origin_host = urlsplit(origin).hostname or ""
            if not (is_loopback(origin_host) or origin_host in self.extra_hosts):
                return 403, "cross-origin requests are not allowed"
        return None

    async def _read_body(self, receive: Receive) -> list[Message]:
        """Read the whole body (it is small: the limit says so) before the app sees it."""
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages
            size += len(message.get("body", b""))
            if size > self.max_body_bytes:
                raise _TooLarge
            if not message.get("more_body", False):
                return messages

    @staticmethod
    async def _refuse(kind: str, status: int, message: str, send: Send) -> None:
        if kind == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})
            return
        body = json.dumps({"error": message}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()  # http.disconnect, for streaming responses

    return replayed
