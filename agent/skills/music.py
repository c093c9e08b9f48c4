"""`music.control`: play, pause, skip and volume for media players over MPRIS (session D-Bus, jeepney).

The player that is Playing is preferred, then a Paused one, then any other. Volume uses the player's MPRIS
`Volume` property; when no player has one (or none runs, or there is no session bus) it falls back to the
system volume with `pactl set-sink-volume @DEFAULT_SINK@ ±5%`, an allow-listed executor command.

Everything goes through the executor: the in-process action `music.mpris` {action} and the commands
`system_volume_up` / `system_volume_down`, all allow-listed by `register_actions`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from contextlib import closing
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator

from agent.config import ArgSpec, CommandSpec
from agent.events import ResultState, SkillResult
from agent.skills.base import Args, Register, Skill, SkillContext
from agent.values import to_digits

if TYPE_CHECKING:
    from agent.safety.executor import ActionOutput, Executor

__all__ = ["MPRIS_PREFIX", "choose_player", "register", "register_actions"]

_LOGGER = logging.getLogger(__name__)

MPRIS_PREFIX = "org.mpris.MediaPlayer2."
_PATH = "/org/mpris/MediaPlayer2"
_ROOT = "org.mpris.MediaPlayer2"
_PLAYER = "org.mpris.MediaPlayer2.Player"
_TIMEOUT_S = 2.0
_STEP = 0.1
_METHODS = {"play": "Play", "pause": "Pause", "toggle": "PlayPause", "next": "Next", "previous": "Previous"}
_ABILITY = {"play": "CanPlay", "pause": "CanPause", "toggle": "CanPause", "next": "CanGoNext",
            "previous": "CanGoPrevious"}
_RANK = {"Playing": 0, "Paused": 1}

_VOLUME_COMMANDS = (
    CommandSpec(id="system_volume_up", argv=["pactl", "set-sink-volume", "@DEFAULT_SINK@", "+5%"],
                description="raise the system volume by 5%"),
    CommandSpec(id="system_volume_down", argv=["pactl", "set-sink-volume", "@DEFAULT_SINK@", "-5%"],
                description="lower the system volume by 5%"),
    CommandSpec(id="system_volume_set", argv=["pactl", "set-sink-volume", "@DEFAULT_SINK@", "{level}%"],
                args={"level": ArgSpec(type="int", min=0, max=100)}, description="set the system volume in percent"),
    CommandSpec(id="system_mute", argv=["pactl", "set-sink-mute", "@DEFAULT_SINK@", "1"],
                description="mute the system sound"),
    CommandSpec(id="system_unmute", argv=["pactl", "set-sink-mute", "@DEFAULT_SINK@", "0"],
                description="unmute the system sound"),
)
_SYSTEM_ONLY = {"volume": ("system_volume_set", "Set the system volume to {level}%."),
                "mute": ("system_mute", "Muted the system sound."),
                "unmute": ("system_unmute", "Unmuted the system sound.")}


class MusicControlArgs(Args):
    action: Literal["play", "pause", "toggle", "next", "previous", "volume_up", "volume_down", "volume", "mute",
                    "unmute"]
    level: int | None = Field(None, ge=0, le=100, description="the volume in percent, with action 'volume'")

    @model_validator(mode="after")
    def _level(self) -> MusicControlArgs:
        if self.action == "volume" and self.level is None:
            raise ValueError("what volume? say a level from 0 to 100")
        return self


def choose_player(statuses: Iterable[tuple[str, str]]) -> str | None:
    """The bus name to control: Playing first, then Paused, then any; ties by name."""
    ranked = sorted(statuses, key=lambda s: (_RANK.get(s[1], 2), s[0]))
    return ranked[0][0] if ranked else None


class _Bus:
    """A small blocking MPRIS client over one session-bus connection."""

    def __init__(self) -> None:
        from jeepney.io.blocking import open_dbus_connection

        self.conn = open_dbus_connection(bus="SESSION")

    def close(self) -> None:
        self.conn.close()

    def _call(self, msg: Any) -> Any:
        from jeepney.wrappers import unwrap_msg

        return unwrap_msg(self.conn.send_and_get_reply(msg, timeout=_TIMEOUT_S))

    def players(self) -> list[str]:
        from jeepney.bus_messages import message_bus

        names = self._call(message_bus.ListNames())[0]
        return sorted(n for n in names if n.startswith(MPRIS_PREFIX))

    def get(self, name: str, interface: str, prop: str, default: Any = None) -> Any:
        from jeepney import DBusAddress, Properties
        from jeepney.wrappers import DBusErrorResponse

        try:
            _sig, value = self._call(Properties(DBusAddress(_PATH, name, interface)).get(prop))[0]
        except DBusErrorResponse:
            return default
        return value

    def call(self, name: str, method: str) -> None:
        from jeepney import DBusAddress, new_method_call

        self._call(new_method_call(DBusAddress(_PATH, name, _PLAYER), method))

    def set_volume(self, name: str, volume: float) -> None:
        from jeepney import DBusAddress, Properties

        self._call(Properties(DBusAddress(_PATH, name, _PLAYER)).set("Volume", "d", volume))


def _describe(name: str, bus: _Bus) -> dict[str, Any]:
    identity = bus.get(name, _ROOT, "Identity") or name[len(MPRIS_PREFIX):].split(".")[0]
    return {"player": name, "identity": str(identity), "status": bus.get(name, _PLAYER, "PlaybackStatus", "")}


def _volume(bus: _Bus, players: list[str], action: str) -> ActionOutput:
    from agent.safety.executor import ActionOutput

    with_volume = [(p, bus.get(p, _PLAYER, "PlaybackStatus", "")) for p in players
                   if isinstance(bus.get(p, _PLAYER, "Volume"), float)]
    name = choose_player(with_volume)
    if name is None:
        return ActionOutput(False, "no player supports MPRIS volume", {"reason": "volume_unsupported"})
    info = _describe(name, bus)
    before = float(bus.get(name, _PLAYER, "Volume"))
    target = min(1.0, before + _STEP) if action == "volume_up" else max(0.0, before - _STEP)
    bus.set_volume(name, round(target, 3))
    after = bus.get(name, _PLAYER, "Volume")
    if not isinstance(after, float) or (abs(after - before) < 1e-6 and abs(target - before) > 1e-6):
        return ActionOutput(False, f"{info['identity']} ignored the volume change",
                            {"reason": "volume_unsupported", **info})
    return ActionOutput(True, f"{info['identity']} volume {before:.2f} -> {after:.2f}",
                        {**info, "volume_before": before, "volume": after})


def _mpris_action(args: dict[str, Any]) -> ActionOutput:
    from jeepney.wrappers import DBusErrorResponse

    from agent.safety.executor import ActionOutput

    action = str(args.get("action", ""))
    if action not in _METHODS and action not in ("volume_up", "volume_down"):
        return ActionOutput(False, f"unknown action {action!r}", {"reason": "bad_action"})
    try:
        bus = _Bus()
    except (KeyError, OSError, TimeoutError) as exc:  # no DBUS_SESSION_BUS_ADDRESS, or nothing listening
        return ActionOutput(False, f"no session D-Bus: {exc.__class__.__name__}", {"reason": "no_bus"})
    with closing(bus):
        try:
            players = bus.players()
            if not players:
                return ActionOutput(False, "No media player is running.", {"reason": "no_player"})
            if action.startswith("volume_"):
                return _volume(bus, players, action)
            name = choose_player((p, bus.get(p, _PLAYER, "PlaybackStatus", "")) for p in players)
            assert name is not None
            info = _describe(name, bus)
            if bus.get(name, _PLAYER, "CanControl", True) is False or bus.get(
                    name, _PLAYER, _ABILITY[action], True) is False:
                return ActionOutput(False, f"{info['identity']} does not allow {action}",
                                    {"reason": "not_allowed", **info})
            bus.call(name, _METHODS[action])
            return ActionOutput(True, f"{_METHODS[action]} on {info['identity']}",
                                {**info, "status_before": info["status"],
                                 "status": bus.get(name, _PLAYER, "PlaybackStatus", "")})
        except (DBusErrorResponse, TimeoutError, OSError) as exc:
            return ActionOutput(False, f"the media player did not answer: {exc}", {"reason": "dbus_error"})


def register_actions(executor: Executor) -> None:
    executor.register_action("music.mpris", _mpris_action, destructive=False,
                             describe=lambda a: f"media player: {a.get('action')}")
    for spec in _VOLUME_COMMANDS:
        if executor.command(spec.id) is None:
            executor.add_command(spec)


_DONE = {"play": "Playing {p}.", "pause": "Paused {p}.", "toggle": "Toggled {p}.",
         "next": "Skipped to the next track in {p}.", "previous": "Back to the previous track in {p}."}


def _system_volume(args: MusicControlArgs, ctx: SkillContext, why: str) -> SkillResult:
    command = "system_volume_up" if args.action == "volume_up" else "system_volume_down"
    result = ctx.executor.run(command, {})
    data = {"action": args.action, "via": "pactl", "why": why, "returncode": result.returncode,
            "stderr": result.stderr[:500]}
    if result.ok:
        word = "Raised" if args.action == "volume_up" else "Lowered"
        return SkillResult.ok(f"{word} the system volume by 5%.", **data)
    detail = result.stderr.strip().splitlines()[0] if result.stderr.strip() else result.message
    return SkillResult(ResultState.ERROR, f"I couldn't change the system volume: pactl said {detail}.", data)


def _system_sound(args: MusicControlArgs, ctx: SkillContext) -> SkillResult:
    """An absolute volume, mute and unmute act on the system's default output (PulseAudio/PipeWire)."""
    command, done = _SYSTEM_ONLY[args.action]
    params = {"level": args.level} if args.action == "volume" else {}
    result = ctx.executor.run(command, params)
    data = {"action": args.action, "via": "pactl", "returncode": result.returncode, "stderr": result.stderr[:500],
            **params}
    if result.ok:
        return SkillResult.ok(done.format(level=args.level), **data)
    detail = result.stderr.strip().splitlines()[0] if result.stderr.strip() else result.message
    return SkillResult(ResultState.ERROR, f"I couldn't change the system sound: {detail}.", data)


def _control(args: MusicControlArgs, ctx: SkillContext) -> SkillResult:
    if args.action in _SYSTEM_ONLY:
        return _system_sound(args, ctx)
    result = ctx.executor.run("music.mpris", {"action": args.action}, yes=ctx.yes, confirmation=ctx.confirmation,
                              intent={"skill": "music.control", "args": args.model_dump()})
    data = {"action": args.action, **result.data}
    reason = result.data.get("reason")
    if args.action.startswith("volume_") and reason in ("volume_unsupported", "no_player", "no_bus"):
        return _system_volume(args, ctx, str(reason))
    if result.ok:
        player = data.get("identity", "the player")
        if args.action.startswith("volume_"):
            return SkillResult.ok(f"{player} volume is now {round(float(data['volume']) * 100)}%.", **data)
        return SkillResult.ok(_DONE[args.action].format(p=player), **data)
    if reason == "no_player":
        return SkillResult(ResultState.ERROR, "No media player is running.", data)
    if reason == "no_bus":
        return SkillResult(ResultState.ERROR, "I can't reach the desktop session bus, so I can't control media "
                                              "players.", data)
    return SkillResult(ResultState.ERROR, f"I couldn't do that: {result.message}.", data)


# -- arguments from the words (the router's rule extractor for these skills) --------------------
_X_MUSIC = [
    ("volume_up", r"\b(louder|volume up|turn (?:it|the volume|the music) up|raise the volume|increase the volume|"
                  r"turn up)\b"),
    ("volume_down", r"\b(quieter|softer|volume down|turn (?:it|the volume|the music) down|lower the volume|"
                    r"decrease the volume|turn down)\b"),
    ("next", r"\b(next|skip|forward)\b"),
    ("previous", r"\b(previous|go back|last song|back a (?:song|track)|rewind)\b"),
    ("toggle", r"\b(toggle|play/pause|play pause)\b"),
    ("pause", r"\b(pause|stop the music|stop playing|stop music|hold the music|mute the music|silence the)\b"),
    ("play", r"\b(play|resume|unpause|continue)\b"),
]


def _extract_music(t: str) -> dict[str, Any]:
    d = to_digits(t)
    level = re.search(r"\b(?:volume|sound|it)\b.*?\b(?:to|at)\s+(\d{1,3})\s*(?:%|percent)?\s*$", d) or re.search(
        r"^(?:volume|sound)\s+(\d{1,3})\s*(?:%|percent)?$", d)
    if level and int(level.group(1)) <= 100:
        return {"action": "volume", "level": int(level.group(1))}
    if re.search(r"\b(?:unmute|un-mute|sound back|audio back|back on)\b", t):
        return {"action": "unmute"}
    if re.search(r"\b(?:mute|silence)\b", t):
        return {"action": "mute"}
    for action, pattern in _X_MUSIC:
        if re.search(pattern, t):
            return {"action": action}
    return {}


def register(reg: Register) -> None:
    reg(Skill("music.control", "play, pause or skip music; raise, lower, set or mute the volume",
              args=MusicControlArgs, changes_system=True, run=_control, extract=_extract_music,
              actions=register_actions))
