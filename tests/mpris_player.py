"""A small, real MPRIS media player for tests: a D-Bus service (jeepney) on the session bus.

    python tests/mpris_player.py NAME [--status Playing|Paused|Stopped] [--volume 0.5 | --no-volume]

Owns `org.mpris.MediaPlayer2.NAME`, implements Player.Play/Pause/PlayPause/Stop/Next/Previous and the
properties PlaybackStatus, Volume (read/write, unless --no-volume), Metadata (a track title), CanControl,
CanPlay, CanPause, CanGoNext, CanGoPrevious, and Identity on the root interface. Every method call is
recorded in the `Calls` property of the extra interface `org.ambientagent.TestPlayer`. It prints
"ready" once the name is owned, and runs until killed.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from jeepney import HeaderFields, MessageType, new_error, new_method_return
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

ROOT = "org.mpris.MediaPlayer2"
PLAYER = "org.mpris.MediaPlayer2.Player"
TEST = "org.ambientagent.TestPlayer"
PROPS = "org.freedesktop.DBus.Properties"
PATH = "/org/mpris/MediaPlayer2"
TRACKS = ["First Song", "Second Song", "Third Song"]


class Player:
    def __init__(self, name: str, status: str, volume: float | None) -> None:
        self.name = name
        self.status = status
        self.volume = volume
        self.track = 0
        self.calls: list[str] = []

    def method(self, member: str) -> None:
        self.calls.append(member)
        if member == "Play":
            self.status = "Playing"
        elif member == "Pause":
            self.status = "Paused"
        elif member == "PlayPause":
            self.status = "Paused" if self.status == "Playing" else "Playing"
        elif member == "Stop":
            self.status = "Stopped"
        elif member == "Next":
            self.track = (self.track + 1) % len(TRACKS)
        elif member == "Previous":
            self.track = (self.track - 1) % len(TRACKS)
        else:
            raise KeyError(member)

    def properties(self, interface: str) -> dict[str, tuple[str, Any]]:
        if interface == ROOT:
            return {"Identity": ("s", f"Test Player {self.name}"), "CanQuit": ("b", False),
                    "CanRaise": ("b", False), "HasTrackList": ("b", False)}
        if interface == PLAYER:
            props: dict[str, tuple[str, Any]] = {
                "PlaybackStatus": ("s", self.status),
                "Metadata": ("a{sv}", {"xesam:title": ("s", TRACKS[self.track]),
                                       "mpris:trackid": ("o", f"/track/{self.track}")}),
                "CanControl": ("b", True), "CanPlay": ("b", True), "CanPause": ("b", True),
                "CanGoNext": ("b", True), "CanGoPrevious": ("b", True), "Rate": ("d", 1.0),
            }
            if self.volume is not None:
                props["Volume"] = ("d", self.volume)
            return props
        if interface == TEST:
            return {"Calls": ("as", list(self.calls))}
        raise KeyError(interface)


def handle(player: Player, msg: Any) -> Any:
    fields = msg.header.fields
    interface = fields.get(HeaderFields.interface)
    member = fields.get(HeaderFields.member)
    if fields.get(HeaderFields.path) != PATH:
        return new_error(msg, "org.freedesktop.DBus.Error.UnknownObject")
    if interface == PLAYER:
        try:
            player.method(member)
        except KeyError:
            return new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod")
        return new_method_return(msg)
    if interface == PROPS:
        iface = msg.body[0]
        try:
            props = player.properties(iface)
        except KeyError:
            return new_error(msg, "org.freedesktop.DBus.Error.UnknownInterface")
        if member == "GetAll":
            return new_method_return(msg, "a{sv}", (props,))
        name = msg.body[1]
        if member == "Get":
            if name not in props:
                return new_error(msg, "org.freedesktop.DBus.Error.UnknownProperty", "s", (name,))
            return new_method_return(msg, "v", (props[name],))
        if member == "Set":
            if iface == PLAYER and name == "Volume" and player.volume is not None:
                player.calls.append("Set Volume")
                player.volume = max(0.0, min(1.0, float(msg.body[2][1])))
                return new_method_return(msg)
            return new_error(msg, "org.freedesktop.DBus.Error.PropertyReadOnly", "s", (name,))
    return new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("name")
    p.add_argument("--status", default="Paused", choices=["Playing", "Paused", "Stopped"])
    p.add_argument("--volume", type=float, default=0.5)
    p.add_argument("--no-volume", action="store_true")
    ns = p.parse_args()
    player = Player(ns.name, ns.status, None if ns.no_volume else ns.volume)
    conn = open_dbus_connection(bus="SESSION")
    reply = conn.send_and_get_reply(message_bus.RequestName(f"{ROOT}.{ns.name}"), timeout=5)
    if reply.body[0] != 1:  # DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER
        sys.stdout.write(f"could not own the name: {reply.body}\n")
        sys.stdout.flush()
        return 1
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        msg = conn.receive()
        if msg.header.message_type != MessageType.method_call:
            continue
        conn.send(handle(player, msg))


if __name__ == "__main__":
    sys.exit(main())
