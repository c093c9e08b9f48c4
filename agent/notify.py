"""Desktop notifications: the one path every `Alert` takes to the user's screen.

    Notifier       a queue and one worker thread; each notification goes down the backend chain until one
                   delivers it. Publishers (rule ticks, reminders) never wait for the desktop.
    DBusBackend    org.freedesktop.Notifications over the session bus (jeepney): urgency, expiry, action
                   buttons where the server has the `actions` capability (`ActionInvoked` comes back to a
                   callback), markup escaped where the server renders it
    CommandBackend the allow-listed `notify_send` command through the executor (audited)
    LogBackend     the agent's log: always works, the end of the chain

`choose_backends` picks the chain from what the session offers (a pure function). In the resident agent this
module owns desktop notifications: `start_notifications` turns the automation engine's own notify-send call
(`automation.desktop_notify`) off for the life of the process, so an alert never pops up twice.
"""

from __future__ import annotations

import logging
import os
import queue
import shutil
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.components import Stop
from agent.errors import AgentError
from agent.events import Alert, Event
from agent.logs import said

if TYPE_CHECKING:
    from agent.safety.executor import Executor
    from agent.services import Services

__all__ = [
    "URGENCY",
    "Backend",
    "CommandBackend",
    "DBusBackend",
    "LogBackend",
    "Notification",
    "Notifier",
    "NotifyError",
    "choose_backends",
    "start_notifications",
]

_LOGGER = logging.getLogger(__name__)

APP_NAME = "ambient-agent"
URGENCY = {"info": "low", "warning": "normal", "critical": "critical"}  # Alert.severity -> urgency
_URGENCY_BYTE = {"low": 0, "normal": 1, "critical": 2}
_RETRY_S = 30.0
_BUS_NAME = "org.freedesktop.Notifications"
_PATH = "/org/freedesktop/Notifications"

ActionHandler = Callable[[str], None]


class NotifyError(AgentError):
    """A backend could not deliver a notification (the next one in the chain is tried)."""


@dataclass(frozen=True)
class Notification:
    """One desktop notification. `actions`: (key, label) buttons; `timeout_s` None: the configured default."""

    title: str
    body: str = ""
    urgency: str = "normal"  # low, normal, critical
    actions: tuple[tuple[str, str], ...] = ()
    timeout_s: float | None = None
    source: str = ""


class Backend(ABC):
    name = "backend"

    @abstractmethod
    def send(self, note: Notification, timeout_s: float, on_action: ActionHandler | None) -> None:
        """Deliver `note` or raise `NotifyError`."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the backend holds."""


class LogBackend(Backend):
    name = "log"

    def send(self, note: Notification, timeout_s: float, on_action: ActionHandler | None) -> None:
        _LOGGER.info("notification [%s] %s: %s", note.urgency, said(note.title), said(note.body))


class CommandBackend(Backend):
    """The allow-listed `notify_send` command (agent/automation/commands.py): no buttons, but audited."""

    name = "notify-send"

    def __init__(self, executor: Executor) -> None:
        self.executor = executor

    def send(self, note: Notification, timeout_s: float, on_action: ActionHandler | None) -> None:
        def clean(text: str, limit: int) -> str:
            return (" ".join(text.split()).lstrip("-") or " ")[:limit]

        result = self.executor.run("notify_send", {"urgency": note.urgency, "title": clean(note.title, 200),
                                                   "body": clean(note.body, 300)})
        if not result.ok:
            raise NotifyError(result.message or result.stderr or result.state.value)


class DBusBackend(Backend):
    """org.freedesktop.Notifications on the session bus. Opening it raises `NotifyError` if there is no bus or
    no notification server."""

    name = "dbus"

    def __init__(self, address: str | None = None) -> None:
        from jeepney import DBusAddress, MatchRule, message_bus
        from jeepney.io.threading import DBusRouter, Proxy, open_dbus_connection

        self._target = DBusAddress(_PATH, bus_name=_BUS_NAME, interface=_BUS_NAME)
        try:
            self._conn = open_dbus_connection(address or "SESSION")
        except Exception as exc:  # no bus, refused, bad address
            raise NotifyError(f"no session bus: {exc}") from exc
        self._router = DBusRouter(self._conn)
        self._handlers: dict[int, ActionHandler] = {}
        self._early: dict[int, str] = {}  # actions of notifications we have no handler for (yet)
        self._lock = threading.Lock()
        try:
            self.capabilities = set(self._call("GetCapabilities", "", ())[0])
            rule = MatchRule(type="signal", interface=_BUS_NAME, path=_PATH)
            self._signals: queue.Queue[Any] = queue.Queue()
            self._filter = self._router.filter(rule, queue=self._signals)
            Proxy(message_bus, self._router, timeout=2).AddMatch(rule)
        except Exception:
            self.close()
            raise
        self._listener = threading.Thread(target=self._listen, name="notify-signals", daemon=True)
        self._listener.start()
        _LOGGER.info("desktop notifications over D-Bus (server capabilities: %s)", sorted(self.capabilities))

    def _call(self, method: str, signature: str, body: tuple[Any, ...]) -> tuple[Any, ...]:
        from jeepney import MessageType, new_method_call

        try:
            reply = self._router.send_and_get_reply(new_method_call(self._target, method, signature, body),
                                                    timeout=3)
        except Exception as exc:
            raise NotifyError(f"D-Bus {method} failed: {exc}") from exc
        if reply.header.message_type == MessageType.error:
            raise NotifyError(f"D-Bus {method}: {reply.body[0] if reply.body else 'error'}")
        return tuple(reply.body)

    def send(self, note: Notification, timeout_s: float, on_action: ActionHandler | None) -> None:
        title, body = note.title, note.body
        if "body-markup" in self.capabilities:
            body = body.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        actions: list[str] = []
        if note.actions and "actions" in self.capabilities:
            for key, label in note.actions:
                actions += [key, label]
        expire = -1 if note.urgency == "critical" or timeout_s <= 0 else int(timeout_s * 1000)
        hints = {"urgency": ("y", _URGENCY_BYTE.get(note.urgency, 1))}
        (nid,) = self._call("Notify", "susssasa{sv}i", (APP_NAME, 0, "", title, body, actions, hints, expire))
        if actions and on_action is not None:
            with self._lock:
                early = self._early.pop(int(nid), None)  # pressed before the reply reached us
                if early is None:
                    self._handlers[int(nid)] = on_action
            if early is not None:
                on_action(early)

    @property
    def has_actions(self) -> bool:
        return "actions" in self.capabilities

    def _listen(self) -> None:
        from jeepney import HeaderFields

        while True:
            msg = self._signals.get()
            if msg is None:
                return
            member, args = msg.header.fields.get(HeaderFields.member), msg.body
            if member == "ActionInvoked" and len(args) == 2:
                with self._lock:
                    handler = self._handlers.pop(int(args[0]), None)
                    if handler is None:
                        self._early[int(args[0])] = str(args[1])
                        while len(self._early) > 32:
                            self._early.pop(next(iter(self._early)))
                if handler is not None:
                    try:
                        handler(str(args[1]))
                    except Exception:
                        _LOGGER.exception("notification action %s failed", args[1])
            elif member == "NotificationClosed" and args:
                with self._lock:
                    self._handlers.pop(int(args[0]), None)

    def close(self) -> None:
        signals = getattr(self, "_signals", None)
        if signals is not None:
            signals.put(None)
        try:
            self._router.close()
        finally:
            self._conn.close()


def choose_backends(*, enabled: bool, dbus_address: bool, notify_send: bool) -> list[str]:
    """The chain, best first. notify-send talks to the same bus, so it only helps when D-Bus calls from this
    process fail (a bus that rejects jeepney's authentication, say)."""
    if not enabled:
        return ["log"]
    chain = []
    if dbus_address:
        chain.append("dbus")
        if notify_send:
            chain.append("notify-send")
    chain.append("log")
    return chain


class Notifier:
    """Queue notifications; one worker delivers each through the first backend that works. A failing backend
    rests for 30 s, then is tried again (opened anew by its factory)."""

    def __init__(self, factories: dict[str, Callable[[], Backend]], timeout_s: float = 10.0) -> None:
        self.timeout_s = timeout_s
        self.delivered: dict[str, int] = {}
        self._factories = factories
        self._backends: dict[str, Backend] = {}
        self._resting: dict[str, float] = {}
        self._lock = threading.RLock()  # the worker and `send_now` callers share the open backends
        self._queue: queue.Queue[tuple[Notification, ActionHandler | None] | None] = queue.Queue()
        self._worker = threading.Thread(target=self._work, name="notifier", daemon=True)
        self._worker.start()

    @property
    def chain(self) -> list[str]:
        return list(self._factories)

    def backend(self, name: str) -> Backend | None:
        """The open backend `name`, opening it if needed; None while it is resting after a failure."""
        with self._lock:
            return self._open(name)

    def _open(self, name: str) -> Backend | None:
        if name in self._backends:
            return self._backends[name]
        if time.monotonic() < self._resting.get(name, 0.0):
            return None
        try:
            self._backends[name] = self._factories[name]()
        except Exception as exc:
            _LOGGER.warning("notifications: %s unavailable (%s); trying the next way", name, exc)
            self._resting[name] = time.monotonic() + _RETRY_S
            return None
        return self._backends[name]

    def notify(self, note: Notification, on_action: ActionHandler | None = None) -> None:
        """Show `note` soon (never blocks). `on_action(key)` runs when the user presses one of its buttons."""
        self._queue.put((note, on_action))

    def send_now(self, note: Notification, on_action: ActionHandler | None = None) -> str:
        """Deliver `note` down the chain now; return the name of the backend that delivered it."""
        timeout = self.timeout_s if note.timeout_s is None else note.timeout_s
        with self._lock:
            for name in self._factories:
                backend = self._open(name)
                if backend is None:
                    continue
                try:
                    backend.send(note, timeout, on_action)
                except Exception as exc:
                    _LOGGER.warning("notifications: %s failed (%s); trying the next way", name, exc)
                    self._drop(name)
                    continue
                self.delivered[name] = self.delivered.get(name, 0) + 1
                return name
        return "none"

    def supports_actions(self) -> bool:
        backend = self.backend("dbus") if "dbus" in self._factories else None
        return isinstance(backend, DBusBackend) and backend.has_actions

    def _drop(self, name: str) -> None:
        backend = self._backends.pop(name, None)
        self._resting[name] = time.monotonic() + _RETRY_S
        if backend is not None:
            try:
                backend.close()
            except Exception:
                _LOGGER.debug("closing %s failed", name, exc_info=True)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self.send_now(*item)
            except Exception:
                _LOGGER.exception("notification failed")
            finally:
                self._queue.task_done()

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued (up to `timeout`), then close the backends."""
        self._queue.put(None)
        self._worker.join(timeout)
        with self._lock:
            backends = list(self._backends.values())
            self._backends.clear()
        for backend in backends:
            try:
                backend.close()
            except Exception:
                _LOGGER.debug("closing %s failed", backend.name, exc_info=True)


def build_notifier(services: Services, env: dict[str, str] | None = None) -> Notifier:
    env = dict(os.environ) if env is None else env
    address = env.get("DBUS_SESSION_BUS_ADDRESS")
    chain = choose_backends(enabled=services.settings.ui.notifications, dbus_address=bool(address),
                            notify_send=shutil.which("notify-send") is not None
                            and services.executor.is_allowed("notify_send"))
    factories: dict[str, Callable[[], Backend]] = {
        "dbus": lambda: DBusBackend(address), "notify-send": lambda: CommandBackend(services.executor),
        "log": LogBackend}
    return Notifier({name: factories[name] for name in chain}, services.settings.ui.notification_timeout_s)


def start_notifications(services: Services) -> Stop:
    """Component start: every `Alert` on the bus becomes a desktop notification (or a log line); the notifier is
    `services.notifier` while it runs. Returns its stop."""
    notifier = build_notifier(services)

    def on_alert(event: Event) -> None:
        if isinstance(event, Alert):
            notifier.notify(Notification(event.title, event.message, URGENCY.get(event.severity, "normal"),
                                         source=event.source))

    automation = services.settings.automation
    desktop_notify, detach = automation.desktop_notify, services.bus.subscribe(Alert, on_alert)
    automation.desktop_notify = False  # this is the one path now: no second pop-up from the rule engine
    services.notifier = notifier
    if "dbus" in notifier.chain:
        notifier.backend("dbus")  # connect now: the log says at start whether pop-ups will work
    _LOGGER.info("notifications: %s", " -> ".join(notifier.chain))

    def stop() -> None:
        if services.notifier is notifier:
            services.notifier = None
        detach()
        automation.desktop_notify = desktop_notify
        notifier.close()

    return stop
