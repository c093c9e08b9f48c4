"""The component protocol of the resident agent, and the one implementation of start/stop bookkeeping.

A component is a name and a start function `start(services) -> Stop | None`: it starts its threads, puts its
running object in its typed field of `Services` (`services.scheduler`, `services.api`, ...), and returns the
function that stops it and clears that field. It returns None when it is off in the config, and raises
`Unavailable` when it cannot run here and has already said why (logged once, an `Alert` published); any other
exception is logged and announced here. Either way the agent runs on without it (degrade, never die).

`Components` starts a table of them in order and stops the started ones in reverse (each flushes its own state).
The resident agent's table is `agent.app.COMPONENTS`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent.errors import AgentError, StoreError
from agent.events import Alert

if TYPE_CHECKING:
    from agent.services import Services

__all__ = ["Component", "Components", "Stop", "Unavailable"]

_LOGGER = logging.getLogger(__name__)

Stop = Callable[[], None]


class Unavailable(AgentError):
    """A component cannot run here and has already told the user why (logged, an Alert published)."""


@dataclass(frozen=True)
class Component:
    name: str
    start: Callable[[Services], Stop | None]


class Components:
    """The running components of one agent: `start(table)`, then `stop()` once."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._running: list[tuple[str, Stop]] = []

    @property
    def names(self) -> list[str]:
        return [name for name, _stop in self._running]

    def start(self, table: Sequence[Component]) -> list[str]:
        """Start every component of `table` in order; return the names now running."""
        unavailable = self.services.unavailable
        for component in table:
            t0 = time.perf_counter()
            try:
                stop = component.start(self.services)
            except Unavailable as exc:
                unavailable[component.name] = str(exc)
                continue
            except Exception as exc:
                if isinstance(exc, StoreError):  # a damaged store or a full disk: the message has the file and fix
                    _LOGGER.warning("component %s is off: %s", component.name, exc)
                else:
                    _LOGGER.exception("component %s failed to start; continuing without it", component.name)
                unavailable[component.name] = str(exc)
                self.services.bus.publish(Alert(f"{component.name} unavailable",
                                                f"{component.name} could not start: {exc}", "warning", "agent"))
                continue
            if stop is None:
                _LOGGER.info("component %s is off", component.name)
                continue
            self._running.append((component.name, stop))
            _LOGGER.info("component %s started in %.0f ms", component.name, (time.perf_counter() - t0) * 1000)
        return self.names

    def stop(self) -> None:
        """Stop the running components in reverse order; one that fails to stop does not keep the rest up."""
        while self._running:
            name, stop = self._running.pop()
            try:
                stop()
            except Exception:
                _LOGGER.exception("component %s failed to stop cleanly", name)
