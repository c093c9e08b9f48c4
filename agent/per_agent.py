"""`PerAgent`: state kept once per resident agent (a store, a cache), typed, owned by the module that uses it."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    from agent.services import Services

__all__ = ["HasServices", "PerAgent"]

T = TypeVar("T")


class HasServices(Protocol):
    """Anything that carries the agent's services (a `SkillContext`)."""

    @property
    def services(self) -> Services: ...


class PerAgent(Generic[T]):
    """State a skill keeps once per resident agent (a store, a cache), made on first use by `factory`:
    `NOTES = PerAgent(lambda services: NoteStore(...))`, then `NOTES.get(ctx)`. Typed, and private to the skill's
    module; it goes away with the agent."""

    def __init__(self, factory: Callable[[Services], T]) -> None:
        self._factory = factory
        self._values: weakref.WeakKeyDictionary[Services, T] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def get(self, ctx: Services | HasServices) -> T:
        services = _services(ctx)
        with self._lock:
            if services not in self._values:
                self._values[services] = self._factory(services)
            return self._values[services]

    def peek(self, ctx: Services | HasServices) -> T | None:
        services = _services(ctx)
        with self._lock:
            return self._values.get(services)

    def set(self, ctx: Services | HasServices, value: T) -> None:
        services = _services(ctx)
        with self._lock:
            self._values[services] = value

    def clear(self, ctx: Services | HasServices) -> None:
        services = _services(ctx)
        with self._lock:
            if services in self._values:
                del self._values[services]


def _services(ctx: Services | HasServices) -> Services:
    if hasattr(ctx, "services"):
        return ctx.services
    return ctx
