"""`Idempotency-Key` on the API's POST endpoints: a retry with the same key gets the first answer and writes
nothing twice.

Keys live in `<data>/api/idempotency.sqlite` (`synchronous=FULL`) for 24 hours. A key is recorded as pending (with
this process's pid) before the request runs, then done with the response (status, content type, body):

- a retry of a done key replays that response, with the header `Idempotent-Replayed: true`;
- a retry while the first is still running: 409; a key whose first request was cut off by the process dying
  (pending, its pid gone): 409, saying the outcome is unknown, never run a second time;
- the same key with another method, path or body: 422; a 5xx answer releases the key, so the retry runs again.

Only requests with the right bearer token are considered (others go on to their 401). Streaming answers
(`/api/chat/stream`) are not recorded. When the key cannot be recorded because the disk is full the request runs
anyway (its own writes fail on that disk too); any other store failure answers 503 with the reason.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import psutil

from agent.api.guards import ASGIApp, Message, Receive, Scope, Send
from agent.errors import StoreError
from agent.store.sqlite import Database

__all__ = ["HEADER", "IdempotencyKeys", "IdempotencyMiddleware"]

_LOGGER = logging.getLogger(__name__)

HEADER = "idempotency-key"
TTL_S = 24 * 3600
_VALID_KEY = re.compile(r"[\x21-\x7e]{1,255}")
_UNRECORDED = ("/api/chat/stream",)
_SCHEMA = """
CREATE TABLE keys (key TEXT PRIMARY KEY, request TEXT NOT NULL, state TEXT NOT NULL CHECK (state IN ('pending',
    'done')), pid INTEGER NOT NULL, status INTEGER, content_type TEXT, body BLOB, created REAL NOT NULL);
CREATE INDEX keys_created ON keys (created);
"""


@dataclass(frozen=True)
class Seen:
    """What the store knows of a key: `None` from `claim` means it is new (now pending for this request)."""

    state: str
    request: str
    pid: int
    status: int | None
    content_type: str | None
    body: bytes | None


class IdempotencyKeys:
    """The keys table; every call is one short transaction."""

    def __init__(self, path: Path, *, ttl_s: float = TTL_S, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.ttl_s = ttl_s
        self.clock = clock
        self.db = Database.open(path, [_SCHEMA])

    def claim(self, key: str, request: str) -> Seen | None:
        """Record `key` as pending for `request`; or what was already recorded under it."""
        now = self.clock()
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM keys WHERE created < ?", (now - self.ttl_s,))
            row = conn.execute("SELECT state, request, pid, status, content_type, body FROM keys WHERE key = ?",
                               (key,)).fetchone()
            if row is None:
                conn.execute("INSERT INTO keys (key, request, state, pid, created) VALUES (?, ?, 'pending', ?, ?)",
                             (key, request, os.getpid(), now))
                return None
        return Seen(str(row[0]), str(row[1]), int(row[2]), row[3], row[4], None if row[5] is None else bytes(row[5]))

    def finish(self, key: str, status: int, content_type: str, body: bytes) -> None:
        with self.db.transaction() as conn:
            conn.execute("UPDATE keys SET state = 'done', status = ?, content_type = ?, body = ? WHERE key = ?",
                         (status, content_type, body, key))

    def release(self, key: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM keys WHERE key = ? AND state = 'pending'", (key,))


@dataclass
class _Answer:
    status: int = 500
    content_type: str = ""
    streaming: bool = False
    recorded: bool = False


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


async def _json(send: Send, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class IdempotencyMiddleware:
    """Pure ASGI; sits inside `RequestGuard`, so the body is already read and size-limited."""

    def __init__(self, app: ASGIApp, *, keys: Callable[[], IdempotencyKeys],
                 authorized: Callable[[str | None], bool]) -> None:
        self.app = app
        self.keys = keys
        self.authorized = authorized

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, HEADER.encode()) if scope["type"] == "http" else None
        if key is None or scope.get("method") != "POST" or scope.get("path") in _UNRECORDED \
                or not self.authorized(_header(scope, b"authorization")):
            await self.app(scope, receive, send)
            return
        if not _VALID_KEY.fullmatch(key):
            await _json(send, 422, {"error": "invalid Idempotency-Key: 1 to 255 printable ASCII characters"})
            return
        messages: list[Message] = []
        while True:  # the whole (size-limited) body, to bind the key to this exact request
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
        request = f"POST {scope.get('path')} {hashlib.sha256(body).hexdigest()}"
        try:
            store = await anyio.to_thread.run_sync(self.keys)
            seen = await anyio.to_thread.run_sync(store.claim, key, request)
        except StoreError as exc:
            if exc.problem != "full":
                await _json(send, 503, {"error": f"the Idempotency-Key cannot be recorded: {exc}"})
                return
            _LOGGER.warning("Idempotency-Key %s not recorded (the disk is full); running the request", key)
            await self.app(scope, _replay(messages, receive), send)
            return
        if seen is not None:
            await self._answer_seen(key, request, seen, send)
            return
        await self._run_and_record(scope, _replay(messages, receive), send, store, key)

    @staticmethod
    async def _answer_seen(key: str, request: str, seen: Seen, send: Send) -> None:
        if seen.request != request:
            await _json(send, 422, {"error": "this Idempotency-Key was used for another request (another endpoint "
                                             "or body); use a new key for a new request"})
        elif seen.state == "done":
            headers = [(b"content-type", (seen.content_type or "application/json").encode()),
                       (b"content-length", str(len(seen.body or b"")).encode()), (b"idempotent-replayed", b"true")]
            await send({"type": "http.response.start", "status": seen.status or 200, "headers": headers})
            await send({"type": "http.response.body", "body": seen.body or b""})
            _LOGGER.info("Idempotency-Key %s: replayed the first answer", key)
        elif seen.pid == os.getpid() or psutil.pid_exists(seen.pid):
            await _json(send, 409, {"error": "the first request with this Idempotency-Key is still running; "
                                             "retry in a moment"})
        else:
            await _json(send, 409, {"error": "the first request with this Idempotency-Key was interrupted (the agent "
                                             "stopped while it ran); whether it took effect is unknown, so it is not "
                                             "run again: check, then use a new key"})

    async def _run_and_record(self, scope: Scope, receive: Receive, send: Send, store: IdempotencyKeys,
                              key: str) -> None:
        """Run the request; record its answer *before* the answer leaves (a kill after the client has it must
        not leave the key pending), then send it. A 5xx answer or a failure releases the key."""
        held: list[Message] = []
        chunks: list[bytes] = []
        state = _Answer()

        async def recording(message: Message) -> None:
            if message["type"] == "http.response.start":
                state.status = int(message["status"])
                state.content_type = next((bytes(v).decode("latin-1") for k, v in message.get("headers", [])
                                           if k.lower() == b"content-type"), "")
                if state.content_type.startswith("text/event-stream"):  # streamed as it comes, not recorded
                    state.streaming = True
                    await send(message)
                else:
                    held.append(message)
                return
            if message["type"] != "http.response.body" or state.streaming:
                await send(message)
                return
            chunks.append(bytes(message.get("body", b"")))
            if message.get("more_body", False):
                return
            await self._record(store, key, state.status, state.content_type, b"".join(chunks))
            state.recorded = True
            for start in held:
                await send(start)
            await send({"type": "http.response.body", "body": b"".join(chunks)})

        try:
            await self.app(scope, receive, recording)
        finally:
            if not state.recorded:
                with contextlib.suppress(StoreError):
                    await anyio.to_thread.run_sync(store.release, key)

    @staticmethod
    async def _record(store: IdempotencyKeys, key: str, status: int, content_type: str, body: bytes) -> None:
        try:
            if status >= 500:
                await anyio.to_thread.run_sync(store.release, key)
            else:
                await anyio.to_thread.run_sync(store.finish, key, status, content_type, body)
        except StoreError as exc:  # the answer still goes out; a retry will say the outcome is unknown
            _LOGGER.warning("Idempotency-Key %s: the answer could not be recorded: %s", key, exc)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
