"""The resident agent's parts: mode choice, the tray model and menu, icons, hotkey syntax, autostart plans for
three platforms (and the real XDG entry on this one, through the executor), the single-instance lock, and
desktop notifications over a real session D-Bus (a private dbus-daemon with a recording notification server,
tests/notification_server.py): urgency, markup, buttons, the fallback chain, and a confirmation answered from
a notification button."""

from __future__ import annotations

import io
import json
import os
import plistlib
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.app import choose_mode, run_agent, stdin_kind
from agent.autostart import autostart_plan
from agent.display import has_display
from agent.events import Activity, Alert, MuteListening, Reply, ResultState, UnmuteListening, Utterance
from agent.instance import AlreadyRunningError, InstanceLock
from agent.notify import (
    DBusBackend,
    LogBackend,
    Notification,
    Notifier,
    NotifyError,
    choose_backends,
    start_notifications,
)
from agent.pipeline import Pipeline
from agent.services import Services
from tests.conftest import run_cli
from tests.notification_server import RecordingServer
from tray import ICON_STATES, TrayModel, draw_icon, menu_entries
from tray.hotkeys import to_pynput
from tray.icons import COLORS, flatten


# -- modes ---------------------------------------------------------------------------------------------------------
def test_mode_follows_the_display_the_config_and_stdin() -> None:
    assert choose_mode(system="Linux", env={"DISPLAY": ":0"}, tray=True, stdin="none") == \
        choose_mode(system="Linux", env={"DISPLAY": ":1"}, tray=True, stdin="none")
    linux = choose_mode(system="Linux", env={"DISPLAY": ":0"}, tray=True, stdin="pipe")
    assert (linux.desktop, linux.terminal) == (True, True)
    headless = choose_mode(system="Linux", env={"WAYLAND_DISPLAY": "wayland-0"}, tray=True, stdin="none")
    assert (headless.desktop, headless.terminal) == (False, False)  # autostart without X: waits for a signal
    assert not choose_mode(system="Linux", env={"DISPLAY": ":0"}, tray=False, stdin="tty").desktop
    assert has_display("Darwin", {})
    assert has_display("Windows", {})
    assert not has_display("Linux", {"DISPLAY": ""})


def test_stdin_kind(tmp_path: Path) -> None:
    assert stdin_kind(io.StringIO("quit\n")) == "pipe"
    assert stdin_kind(None) == "none"
    with open(os.devnull) as null:
        assert stdin_kind(null) == "none"
    (tmp_path / "lines").write_text("hi\n")
    with open(tmp_path / "lines") as f:
        assert stdin_kind(f) == "pipe"
    read_fd, write_fd = os.pipe()
    with os.fdopen(read_fd) as r, os.fdopen(write_fd, "w"):
        assert stdin_kind(r) == "pipe"


# -- the tray's model, menu and icons ---------------------------------------------------------------------------
def test_tray_model_follows_the_bus_events() -> None:
    model = TrayModel(recent=3)
    assert model.icon_state() == "idle"
    assert model.apply(Utterance("what time is it", "prompt"))
    assert model.icon_state() == "thinking"
    assert model.apply(Reply("It is noon.", ResultState.OK))
    assert model.icon_state() == "idle"
    model.apply(Reply("a rule's skill ran", ResultState.OK))  # no utterance before it: not listed
    assert [r.text for r in model.recent_items()] == ["It is noon."]
    model.apply(Activity("listening", "voice"))
    assert model.icon_state() == "listening"
    model.apply(Activity("idle", "voice"))
    model.apply(MuteListening(source="tray"))
    assert model.icon_state() == "muted"
    model.apply(Alert("Disk almost full", "/ has 2 GB left", "warning", "rule:disk"))
    assert model.icon_state() == "alert"  # an unseen alert shows over muted
    model.apply(Activity("speaking", "tts"))
    assert model.icon_state() == "speaking"  # busy states show over everything
    model.apply(Activity("idle", "tts"))
    assert model.seen()
    assert model.icon_state() == "muted"
    model.apply(UnmuteListening(source="tray"))
    assert model.icon_state() == "idle"
    assert not model.apply(Activity("bogus", "x"))
    assert "1 new alert" not in model.tooltip()


def test_menu_lists_recent_items_newest_first_and_the_switches() -> None:
    model = TrayModel(recent=2)
    for i in range(3):
        model.apply(Utterance(f"q{i}"))
        model.apply(Reply(f"answer {i} " + "x" * 80, ResultState.OK))
    model.apply(MuteListening())
    model.paused = True
    entries = menu_entries(model, rules=True)
    labels = [e.label for e in entries if e.action]
    assert labels[0] == "Open prompt…"
    assert labels[1].startswith("> answer 2 ")
    assert labels[1].endswith("…")
    assert len(labels[1]) <= 62
    assert labels[2].startswith("> answer 1")
    assert labels[3:] == ["Unmute listening", "Resume rules", "Reload rules", "Open config folder", "Open log",
                          "Quit"]
    no_rules = {e.action: e.enabled for e in menu_entries(TrayModel(), rules=False)}
    assert no_rules["pause"] is False
    assert no_rules["reload"] is False
    assert "recent:0" not in no_rules


def test_one_icon_per_state() -> None:
    pictures = {state: draw_icon(state).tobytes() for state in ICON_STATES}
    assert len(set(pictures.values())) == len(ICON_STATES)
    for state in ICON_STATES:
        image = draw_icon(state, 32)
        assert image.size == (32, 32)
        assert image.getpixel((16, 3))[:3] == COLORS[state] or state in ("alert",)  # the badge's colour
        assert image.getpixel((0, 0))[3] == 0  # transparent corners
        flat = flatten(image)
        assert flat.mode == "RGB"
        assert flat.getpixel((0, 0)) == (40, 40, 40)


def test_hotkey_syntax() -> None:
    assert to_pynput("ctrl+alt+space") == "<ctrl>+<alt>+<space>"
    assert to_pynput("<ctrl>+<alt>+<space>") == "<ctrl>+<alt>+<space>"
    assert to_pynput("Super+J") == "<cmd>+j"
    with pytest.raises(ValueError, match="empty key"):
        to_pynput("ctrl++a")


# -- autostart -----------------------------------------------------------------------------------------------------
ARGV = ["/opt/agent venv/bin/python", "-m", "agent", "run"]


def test_autostart_plan_linux_desktop_entry(tmp_path: Path) -> None:
    plan = autostart_plan("Linux", {"XDG_CONFIG_HOME": str(tmp_path / "cfg")}, tmp_path, ARGV)
    assert plan.kind == "desktop-file"
    assert plan.location == str(tmp_path / "cfg" / "autostart" / "ambient-agent.desktop")
    assert 'Exec="/opt/agent venv/bin/python" -m agent run' in plan.content.splitlines()
    assert plan.content.startswith("[Desktop Entry]\nType=Application\n")
    default = autostart_plan("Linux", {"AGENT_HOME": "/srv/a b"}, tmp_path, ["python", "-m", "agent", "run"])
    assert default.location == str(tmp_path / ".config" / "autostart" / "ambient-agent.desktop")
    assert 'Exec=env "AGENT_HOME=/srv/a b" python -m agent run' in default.content


def test_autostart_plan_macos_launch_agent(tmp_path: Path) -> None:
    plan = autostart_plan("Darwin", {"AGENT_HOME": "/tmp/h"}, Path("/Users/me"), ARGV)
    assert plan.kind == "launch-agent"
    assert plan.location == "/Users/me/Library/LaunchAgents/io.github.ambient-agent.plist"
    data = plistlib.loads(plan.content.encode())
    assert data["ProgramArguments"] == ARGV
    assert data["RunAtLoad"] is True
    assert data["EnvironmentVariables"] == {"AGENT_HOME": "/tmp/h"}


def test_autostart_plan_windows_run_key() -> None:
    plan = autostart_plan("Windows", {}, Path("C:/Users/me"),
                          [r"C:\Program Files\Agent\python.exe", "-m", "agent", "run"])
    assert plan.kind == "registry"
    assert plan.location == r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run"
    assert plan.value_name == "ambient-agent"
    assert plan.content == r'"C:\Program Files\Agent\pythonw.exe" -m agent run'  # no console window at login


def test_autostart_enable_and_disable_through_the_executor(services: Services, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    entry = tmp_path / "xdg" / "autostart" / "ambient-agent.desktop"
    result = services.executor.run("autostart_enable", {})
    assert result.ok, result.message
    assert entry.is_file()
    assert f"Exec={sys.executable} -m agent run" in entry.read_text() or "AGENT_HOME=" in entry.read_text()
    status = run_cli("autostart", "status", "--json", env={"XDG_CONFIG_HOME": str(tmp_path / "xdg")}, timeout=60)
    assert json.loads(status.stdout) | {"runs": ""} == {"enabled": True, "kind": "desktop-file",
                                                      "location": str(entry), "up_to_date": True, "runs": ""}
    assert services.executor.run("autostart_disable", {}).message == "the agent no longer starts at login"
    assert not entry.exists()
    assert services.executor.run("autostart_disable", {}).message == "autostart was not enabled"
    events = [r["data"].get("command") for r in services.audit.tail(10) if r["event"] == "exec.action"]
    assert events.count("autostart_enable") == 1
    assert events.count("autostart_disable") == 2


# -- one agent at a time ----------------------------------------------------------------------------------------
def test_single_instance_lock(services: Services) -> None:
    path = services.paths.data / "agent.lock"
    with InstanceLock(path):
        with pytest.raises(AlreadyRunningError, match=f"already running \\(pid {os.getpid()}\\)"):
            InstanceLock(path).acquire()
        with pytest.raises(AlreadyRunningError):
            run_agent(services, io.StringIO("quit\n"))
    with InstanceLock(path):  # released: free again
        pass


def test_run_agent_stops_components_in_reverse_and_releases_the_lock(services: Services) -> None:
    assert run_agent(services, io.StringIO("quit\n")) == 0
    assert services.notifier is None
    assert services.settings.automation.desktop_notify is True  # handed back to the engine
    InstanceLock(services.paths.data / "agent.lock").acquire().release()


# -- notifications over a real session D-Bus ----------------------------------------------------------------------
@pytest.fixture
def bus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    assert shutil.which("dbus-daemon"), "dbus-daemon is needed (scripts/setup.sh installs it)"
    proc = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    address = proc.stdout.readline().decode().strip()
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    monkeypatch.delenv("DISPLAY", raising=False)  # nothing here may open a window
    try:
        yield address
    finally:
        proc.terminate()
        proc.wait(5)
        proc.stdout.close()


@pytest.fixture
def server(bus: str) -> Iterator[RecordingServer]:
    s = RecordingServer(bus)
    try:
        yield s
    finally:
        s.close()


def test_choose_backends() -> None:
    assert choose_backends(enabled=True, dbus_address=True, notify_send=True) == ["dbus", "notify-send", "log"]
    assert choose_backends(enabled=True, dbus_address=True, notify_send=False) == ["dbus", "log"]
    assert choose_backends(enabled=True, dbus_address=False, notify_send=True) == ["log"]
    assert choose_backends(enabled=False, dbus_address=True, notify_send=True) == ["log"]


def test_dbus_notification_urgency_markup_and_buttons(bus: str, server: RecordingServer) -> None:
    backend = DBusBackend(bus)
    pressed: list[str] = []
    try:
        backend.send(Notification("Disk <full>", "a & b <i>", "critical", (("yes", "Yes"), ("no", "No"))), 10.0,
                     pressed.append)
        note = server.next()
        assert (note.app, note.summary, note.body) == ("ambient-agent", "Disk <full>", "a &amp; b &lt;i&gt;")
        assert note.actions == ["yes", "Yes", "no", "No"]
        assert note.hints["urgency"] == 2
        assert note.expire_ms == -1  # critical ones stay until dismissed
        backend.send(Notification("Backup done", "", "low"), 5.0, None)
        low = server.next()
        assert (low.hints["urgency"], low.expire_ms, low.actions) == (0, 5000, [])
        server.press(note, "yes")
        deadline = time.monotonic() + 10
        while not pressed and time.monotonic() < deadline:
            time.sleep(0.02)
        assert pressed == ["yes"]
    finally:
        backend.close()


def test_a_server_without_buttons_gets_none(bus: str) -> None:
    plain = RecordingServer(bus, capabilities=("body",))
    backend = DBusBackend(bus)
    try:
        backend.send(Notification("Hi", "<b>x</b>", "normal", (("yes", "Yes"),)), 10.0, None)
        note = plain.next()
        assert note.actions == []
        assert note.body == "<b>x</b>"  # no markup capability: sent as it is
        assert not backend.has_actions
    finally:
        backend.close()
        plain.close()


def test_the_chain_falls_back_when_no_server_answers(bus: str, services: Services) -> None:
    with pytest.raises(NotifyError, match="GetCapabilities"):
        DBusBackend(bus)  # a bus, but nobody owns org.freedesktop.Notifications
    factories = {"dbus": lambda: DBusBackend(bus), "log": LogBackend}
    notifier = Notifier(factories)  # type: ignore[dict-item]
    try:
        assert notifier.send_now(Notification("Hello")) == "log"
        assert notifier.backend("dbus") is None  # resting after the failure: not tried on every alert
        assert notifier.delivered == {"log": 1}
    finally:
        notifier.close()


def test_alerts_become_notifications_and_the_engine_stops_popping_up(services: Services,
                                                                      server: RecordingServer) -> None:
    assert services.settings.automation.desktop_notify is True
    stop = start_notifications(services)
    try:
        assert services.settings.automation.desktop_notify is False  # one path: no second pop-up
        services.bus.publish(Alert("CPU hot", "95% for 5 minutes", "warning", "rule:cpu"))
        services.bus.publish(Alert("Reminder", "water the plants", "info", "reminder:1"))
        first, second = server.next(), server.next()
        assert (first.summary, first.body, first.hints["urgency"]) == ("CPU hot", "95% for 5 minutes", 1)
        assert (second.summary, second.hints["urgency"]) == ("Reminder", 0)
    finally:
        stop()
    assert services.settings.automation.desktop_notify is True


def test_a_confirmation_raised_elsewhere_is_answered_from_a_notification_button(
        services: Services, server: RecordingServer, tmp_path: Path) -> None:
    from tray.desktop import DesktopUI

    nap = tmp_path / "agentnap2"
    shutil.copy("/bin/sleep", nap)
    target = subprocess.Popen([str(nap), "60"])
    stop = start_notifications(services)
    ui = DesktopUI(services)
    ui.attach()
    try:
        outcome = Pipeline(services).run_skill("process.kill", {"name": "agentnap2"}, source="api")
        assert outcome.result.state is ResultState.NEEDS_CONFIRMATION
        ask = server.next()
        assert ask.summary == "Confirm?"
        assert f"pid {target.pid}" in ask.body
        assert ask.actions == ["yes", "Yes", "no", "No"]
        assert target.poll() is None
        server.press(ask, "yes")
        done = server.next(20)
        assert target.wait(10) is not None
        assert done.summary == "Agent"
        assert str(target.pid) in done.body
        assert [r.text for r in ui.model.recent_items()] == [done.body]
    finally:
        ui.stop()
        stop()
        if target.poll() is None:
            target.kill()
        target.wait(5)
