"""A tiny synchronous publish/subscribe bus: the only thing both inputs and faces know."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from agent.events import Event

__all__ = ["Bus"]

_LOGGER = logging.getLogger(__name__)

Handler = Callable[[Event], None]


class Bus:
    def __init__(self) -> None:
        self._subs: list[tuple[type[Event], Handler]] = []
        self._lock = threading.Lock()

    def subscribe(self, kind: type[Event], handler: Handler) -> Callable[[], None]:
        """Call `handler` for every published event of `kind`; returns the unsubscribe function."""
        entry = (kind, handler)
        with self._lock:
            self._subs.append(entry)

        def detach() -> None:
            with self._lock:
                if entry in self._subs:
                    self._subs.remove(entry)

        return detach

    def listeners(self, event: Event) -> int:
        """How many subscribers `publish(event)` would call right now."""
        with self._lock:
            return sum(1 for kind, _ in self._subs if isinstance(event, kind))

    def publish(self, event: Event) -> None:
        with self._lock:
            subs = list(self._subs)
        for kind, handler in subs:
            if isinstance(event, kind):
                try:
                    handler(event)
                except Exception:
                    _LOGGER.exception("subscriber %r failed on %s", handler, type(event).__name__)
