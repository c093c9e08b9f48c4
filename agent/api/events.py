"""`WS /api/events`: every bus event (transcripts, intents, replies, alerts, speech...) as JSON, to every client,
plus a metrics sample every few seconds.

The bus is synchronous and publishes from any thread; the hub turns each event into JSON in that thread and
hands it to the event loop with `call_soon_threadsafe`, never blocking the publisher. Each client has a bounded
queue: a client that reads too slowly loses its oldest events (and is told how many with a `dropped` message)
rather than holding anyone up.

Messages: `{"type": "<Event class>", ...its fields}`, e.g. `{"type": "Alert", "title": ..., "message": ...,
"severity": ..., "source": ..., "id": ..., "ts": ...}`; `{"type": "metrics", "cpu_percent": ..., ...}`;
`{"type": "dropped", "count": n}`; first of all `{"type": "hello", "version": ...}`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import psutil

from agent.bus import Bus
from agent.events import Event

__all__ = ["Client", "EventHub", "event_json"]

_LOGGER = logging.getLogger(__name__)
QUEUE_SIZE = 256


def _plain(value: Any) -> Any:
    """Nested events (an intent's further requests) as their fields, not their repr."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def event_json(event: Event) -> dict[str, Any]:
    """A bus event as plain JSON values (`type` names its class; anything unusual becomes a string)."""
    own_first = sorted(dataclasses.fields(event), key=lambda f: f.kw_only is True)  # then the base's id, ts
    fields = {f.name: _plain(getattr(event, f.name)) for f in own_first}
    out: dict[str, Any] = json.loads(json.dumps(fields, default=str))
    return {"type": type(event).__name__, **out}


class Client:
    """One WebSocket's queue. `types`: only these message types (None: all)."""

    def __init__(self, types: frozenset[str] | None = None, size: int = QUEUE_SIZE) -> None:
        self.types = types
        self.queue: deque[dict[str, Any]] = deque(maxlen=size)
        self.dropped = 0
        self._unreported = 0
        self._wake = asyncio.Event()

    def offer(self, message: dict[str, Any]) -> bool:
        """Queue a message (in the event loop's thread); False when it pushed out the oldest one."""
        if self.types is not None and message.get("type") not in self.types:
            return True
        full = len(self.queue) == self.queue.maxlen
        if full:
            self.dropped += 1
            self._unreported += 1
        self.queue.append(message)
        self._wake.set()
        return not full

    async def next(self) -> dict[str, Any]:
        while not self.queue:
            self._wake.clear()
            await self._wake.wait()
        if self._unreported:
            count, self._unreported = self._unreported, 0
            return {"type": "dropped", "count": count}
        return self.queue.popleft()


class EventHub:
    def __init__(self, bus: Bus, *, metrics_interval_s: float = 5.0, queue_size: int = QUEUE_SIZE,
                 on_drop: Callable[[], None] | None = None) -> None:
        self.bus = bus
        self.metrics_interval_s = metrics_interval_s
        self.queue_size = queue_size
        self.on_drop = on_drop
        self.clients: set[Client] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._detach: Callable[[], None] | None = None
        self._sampler: asyncio.Task[None] | None = None
        self._process = psutil.Process()

    async def start(self) -> None:
        """In the server's event loop: subscribe to the bus and start the metrics samples."""
        self._loop = asyncio.get_running_loop()
        self._detach = self.bus.subscribe(Event, self._on_event)
        if self.metrics_interval_s > 0:
            self._sampler = asyncio.create_task(self._sample_forever())

    async def stop(self) -> None:
        if self._detach is not None:
            self._detach()
            self._detach = None
        if self._sampler is not None:
            self._sampler.cancel()
            try:
                await self._sampler
            except asyncio.CancelledError:
                pass
            self._sampler = None
        self._loop = None

    def connect(self, types: frozenset[str] | None = None) -> Client:
        client = Client(types, self.queue_size)
        self.clients.add(client)
        return client

    def disconnect(self, client: Client) -> None:
        self.clients.discard(client)

    def _on_event(self, event: Event) -> None:
        """From the publisher's thread: never blocks, never raises."""
        loop = self._loop
        if loop is None or not self.clients:
            return
        try:
            message = event_json(event)
            loop.call_soon_threadsafe(self.broadcast, message)
        except RuntimeError:  # the loop closed while the server stops
            pass
        except Exception:
            _LOGGER.exception("cannot stream %s", type(event).__name__)

    def broadcast(self, message: dict[str, Any]) -> None:
        """In the event loop's thread."""
        for client in list(self.clients):
            if not client.offer(message) and self.on_drop is not None:
                self.on_drop()

    def sample(self) -> dict[str, Any]:
        with self._process.oneshot():
            cpu = self._process.cpu_percent(None)
            rss = self._process.memory_info().rss
        return {"type": "metrics", "ts": time.time(), "cpu_percent": cpu, "rss_bytes": rss,
                "system_cpu_percent": psutil.cpu_percent(None), "memory_percent": psutil.virtual_memory().percent}

    async def _sample_forever(self) -> None:
        self.sample()  # the first CPU reading is always 0: start the interval
        while True:
            await asyncio.sleep(self.metrics_interval_s)
            if self.clients:
                try:
                    self.broadcast(self.sample())
                except Exception:
                    _LOGGER.exception("metrics sample failed")
