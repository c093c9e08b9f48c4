"""A small, real notification server for tests: it owns org.freedesktop.Notifications on a (private) session
bus, records every Notify call, and can press a notification's button (emits ActionInvoked). Runs in a thread
of the test process; the agent talks to it over real D-Bus."""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from typing import Any

from jeepney import DBusAddress, HeaderFields, MatchRule, new_error, new_method_return, new_signal
from jeepney.bus_messages import message_bus
from jeepney.io.threading import DBusRouter, Proxy, open_dbus_connection

__all__ = ["Notified", "RecordingServer"]

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"


@dataclass
class Notified:
    id: int
    app: str
    summary: str
    body: str
    actions: list[str]
    hints: dict[str, Any]
    expire_ms: int


class RecordingServer:
    def __init__(self, address: str, capabilities: tuple[str, ...] = ("body", "body-markup", "actions")) -> None:
        self.capabilities = list(capabilities)
        self.calls: list[Notified] = []
        self.arrived: queue.Queue[Notified] = queue.Queue()
        self._conn = open_dbus_connection(address)
        self._router = DBusRouter(self._conn)
        self._incoming: queue.Queue[Any] = queue.Queue()
        self._filter = self._router.filter(MatchRule(type="method_call", interface=NAME), queue=self._incoming)
        owned = Proxy(message_bus, self._router, timeout=5).RequestName(NAME, 4)  # 4: do not queue
        assert owned == (1,), f"could not own {NAME}: {owned}"
        self._emitter = DBusAddress(PATH, interface=NAME)
        self._thread = threading.Thread(target=self._serve, name="notification-server", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            msg = self._incoming.get()
            if msg is None:
                return
            member = msg.header.fields.get(HeaderFields.member)
            if member == "GetCapabilities":
                self._router.send(new_method_return(msg, "as", (self.capabilities,)))
            elif member == "GetServerInformation":
                self._router.send(new_method_return(msg, "ssss", ("recorder", "tests", "1", "1.2")))
            elif member == "Notify":
                app, _replaces, _icon, summary, body, actions, hints, expire = msg.body
                note = Notified(len(self.calls) + 1, app, summary, body, list(actions),
                                {k: v[1] for k, v in hints.items()}, expire)
                self.calls.append(note)
                self._router.send(new_method_return(msg, "u", (note.id,)))
                self.arrived.put(note)
            elif member == "CloseNotification":
                self._router.send(new_method_return(msg))
            else:
                self._router.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod"))

    def next(self, timeout: float = 10.0) -> Notified:
        """The next notification that arrives (raises queue.Empty after `timeout`)."""
        return self.arrived.get(timeout=timeout)

    def press(self, note: Notified, key: str) -> None:
        """The user presses the button `key` of `note`: ActionInvoked, then NotificationClosed (reason 2)."""
        self._router.send(new_signal(self._emitter, "ActionInvoked", "us", (note.id, key)))
        self._router.send(new_signal(self._emitter, "NotificationClosed", "uu", (note.id, 2)))

    def close(self) -> None:
        self._incoming.put(None)
        self._thread.join(5)
        self._router.close()
        self._conn.close()
