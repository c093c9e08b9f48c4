"""music.control against real MPRIS players on a private session D-Bus started here.

The players are tests/mpris_player.py, a small but real D-Bus service (jeepney) implementing the MPRIS
Player interface; state is checked by reading its properties over D-Bus. The system-volume fallback runs
the real `pactl` against a real PulseAudio server (a null sink) started here too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jeepney import DBusAddress, Properties
from jeepney.io.blocking import open_dbus_connection
from jeepney.wrappers import unwrap_msg

from agent.events import ResultState, SkillResult
from agent.services import Services
from agent.skills.music import choose_player

PLAYER_SCRIPT = Path(__file__).with_name("mpris_player.py")
PATH = "/org/mpris/MediaPlayer2"


@pytest.fixture
def session_bus(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    proc = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    address = proc.stdout.readline().strip()
    assert address.startswith("unix:"), address
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    yield address
    proc.terminate()
    proc.wait(timeout=10)
    proc.stdout.close()


@pytest.fixture
def start_player(session_bus: str) -> Iterator[Callable[..., str]]:
    procs: list[subprocess.Popen[str]] = []

    def start(name: str, *args: str) -> str:
        proc = subprocess.Popen([sys.executable, str(PLAYER_SCRIPT), name, *args], stdout=subprocess.PIPE,
                                text=True, env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": session_bus})
        procs.append(proc)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        return f"org.mpris.MediaPlayer2.{name}"

    yield start
    for p in procs:
        p.terminate()
        p.wait(timeout=10)
        assert p.stdout is not None
        p.stdout.close()


def _prop(bus_name: str, prop: str, interface: str = "org.mpris.MediaPlayer2.Player") -> Any:
    with open_dbus_connection(bus="SESSION") as conn:
        msg = Properties(DBusAddress(PATH, bus_name, interface)).get(prop)
        return unwrap_msg(conn.send_and_get_reply(msg, timeout=5))[0][1]


def _calls(bus_name: str) -> list[str]:
    return list(_prop(bus_name, "Calls", "org.ambientagent.TestPlayer"))


def _music(services: Services, action: str) -> SkillResult:
    skill = services.registry.get("music.control")
    assert skill is not None
    assert skill.run is not None
    return skill.run(skill.args.model_validate({"action": action}), services.context(action))


def test_choose_player_prefers_playing_then_paused() -> None:
    assert choose_player([("org.mpris.MediaPlayer2.a", "Paused"), ("org.mpris.MediaPlayer2.b", "Playing")]) \
        == "org.mpris.MediaPlayer2.b"
    assert choose_player([("org.mpris.MediaPlayer2.a", "Stopped"), ("org.mpris.MediaPlayer2.b", "Paused")]) \
        == "org.mpris.MediaPlayer2.b"
    assert choose_player([]) is None


def test_no_player_running(session_bus: str, services: Services) -> None:
    result = _music(services, "pause")
    assert result.state is ResultState.ERROR
    assert result.reply == "No media player is running."


def test_no_session_bus_is_a_clear_error(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    result = _music(services, "next")
    assert result.state is ResultState.ERROR
    assert "session bus" in result.reply


def test_controls_the_playing_player(start_player: Callable[..., str], services: Services) -> None:
    idle = start_player("idle", "--status", "Paused")
    active = start_player("active", "--status", "Playing")

    paused = _music(services, "pause")
    assert paused.state is ResultState.OK
    assert paused.reply == "Paused Test Player active."
    assert _prop(active, "PlaybackStatus") == "Paused"
    assert _calls(idle) == []

    nxt = _music(services, "next")  # both paused now: ties go by name ("active" < "idle")
    assert nxt.reply == "Skipped to the next track in Test Player active."
    assert _prop(active, "Metadata")["xesam:title"] == ("s", "Second Song")
    _music(services, "previous")
    assert _prop(active, "Metadata")["xesam:title"] == ("s", "First Song")

    play = _music(services, "play")
    assert play.reply == "Playing Test Player active."
    assert _prop(active, "PlaybackStatus") == "Playing"
    toggled = _music(services, "toggle")
    assert toggled.state is ResultState.OK
    assert _prop(active, "PlaybackStatus") == "Paused"
    assert _calls(active) == ["Pause", "Next", "Previous", "Play", "PlayPause"]
    audit = [json.loads(x) for x in services.paths.audit_log.read_text().splitlines()]
    assert [r["data"]["args"]["action"] for r in audit if r["event"] == "exec.action"] == [
        "pause", "next", "previous", "play", "toggle"]


def test_volume_through_mpris(start_player: Callable[..., str], services: Services) -> None:
    player = start_player("vol", "--status", "Playing", "--volume", "0.5")
    up = _music(services, "volume_up")
    assert up.state is ResultState.OK
    assert up.reply == "Test Player vol volume is now 60%."
    assert _prop(player, "Volume") == pytest.approx(0.6)
    _music(services, "volume_down")
    _music(services, "volume_down")
    assert _prop(player, "Volume") == pytest.approx(0.4)


@pytest.fixture
def pulseaudio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    runtime = tmp_path / "xdg-runtime"
    runtime.mkdir(mode=0o700)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "HOME": str(tmp_path)}
    env.pop("PULSE_SERVER", None)
    proc = subprocess.Popen(
        ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit", "--use-pid-file=no",
         "--load=module-null-sink sink_name=testsink", "--load=module-native-protocol-unix"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    socket = runtime / "pulse" / "native"
    deadline = time.monotonic() + 20
    while not socket.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert socket.exists(), "pulseaudio did not start"
    server = f"unix:{socket}"
    monkeypatch.setenv("PULSE_SERVER", server)
    subprocess.run(["pactl", "set-sink-volume", "@DEFAULT_SINK@", "50%"], check=True)
    yield server
    proc.terminate()
    proc.wait(timeout=10)


def _sink_percent() -> int:
    out = subprocess.run(["pactl", "get-sink-volume", "@DEFAULT_SINK@"], capture_output=True, text=True,
                         check=True).stdout
    return int(out.split("/")[1].strip().rstrip("%"))


def test_volume_falls_back_to_the_system_mixer(
        start_player: Callable[..., str], pulseaudio: str, services: Services) -> None:
    player = start_player("novol", "--status", "Playing", "--no-volume")
    up = _music(services, "volume_up")
    assert up.state is ResultState.OK, up.reply
    assert up.reply == "Raised the system volume by 5%."
    assert up.data["why"] == "volume_unsupported"
    assert _sink_percent() == 55
    down = _music(services, "volume_down")
    assert down.reply == "Lowered the system volume by 5%."
    assert _sink_percent() == 50
    assert _calls(player) == []
    runs = [json.loads(x)["data"] for x in services.paths.audit_log.read_text().splitlines()
            if json.loads(x)["event"] == "exec.run"]
    assert [r["command"] for r in runs] == ["system_volume_up", "system_volume_down"]
    assert runs[0]["argv"] == ["pactl", "set-sink-volume", "@DEFAULT_SINK@", "+5%"]


def test_volume_with_no_player_uses_the_system_mixer(session_bus: str, pulseaudio: str, services: Services) -> None:
    result = _music(services, "volume_down")
    assert result.state is ResultState.OK
    assert result.data["why"] == "no_player"
    assert _sink_percent() == 45
