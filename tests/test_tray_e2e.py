"""`agent run` as a user meets it, end to end: a real X server (Xvfb), a private session D-Bus with the dunst
notification daemon, the tint2 panel as the system tray, and the agent as a subprocess with its own AGENT_HOME.

The test presses the global hotkey with xdotool, types a request, and reads the reply from the prompt window's
title (the window mirrors its reply there: what screen readers and xdotool read); it answers a confirmation
with the window's Yes key; it takes screenshots (PIL's X11 grab) of the tray icon, the prompt and the menu; a
rule file dropped into the config folder fires and the resulting desktop notification is observed on D-Bus
(dbus-monitor), exactly once; a rule's own hotkey fires another; the tray menu's Quit stops the agent cleanly.
Two more tests run the agent with no display (headless; SIGTERM stops it) and with a broken one: it still
answers on stdin.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np
import pytest
from PIL import Image, ImageGrab

from tests.conftest import run_cli
from tests.desktop_session import DesktopSession, notify_calls, wait_for
from tray.icons import COLORS

CONFIG = """\
automation: {tick_s: 0.5, default_rules: false}
api: {port: 0}
ui: {hotkey: "<ctrl>+<alt>+<space>", notification_timeout_s: 30}
"""
RULE = """\
- id: e2e_ping
  triggers: [{schedule: {every: 3s}}]
  actions:
    - notify: {title: "E2E ping {value}", body: "a rule fired", urgency: normal}
- id: e2e_key
  triggers: [{hotkey: "<ctrl>+<alt>+h"}]
  actions:
    - notify: {title: "E2E hotkey", body: "a rule's hotkey", urgency: low}
"""


class Agent:
    """`python -m agent run` in the session, its stdout lines collected by a thread."""

    def __init__(self, env: dict[str, str], stdin: int = subprocess.DEVNULL) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "agent", "run"], env=env, stdin=stdin,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()

    def _read(self, stream: IO[str] | None) -> None:
        assert stream is not None
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def wait_line(self, text: str, timeout: float = 60) -> str:
        ok = wait_for(lambda: any(text in line for line in self.lines) or self.proc.poll() is not None, timeout)
        found = [line for line in self.lines if text in line]
        assert ok, f"no {text!r} from the agent (exit {self.proc.poll()}):\n" + "\n".join(self.lines)
        assert found, "\n".join(self.lines)
        return found[0]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # a clean stop, like the session's logout
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise
        finally:
            if self.proc.stdout is not None:
                self.proc.stdout.close()


@pytest.fixture
def session(tmp_path: Path) -> Iterator[DesktopSession]:
    for tool in ("Xvfb", "dbus-daemon", "dbus-monitor", "dunst", "tint2", "xdotool"):
        assert shutil.which(tool), f"{tool} is needed (scripts/setup.sh installs it)"
    s = DesktopSession(tmp_path / "desktop")
    try:
        s.start_x()
        s.start_notifications()
        yield s
    finally:
        s.stop()


def _window(session: DesktopSession, cls: str, *, visible: bool = False, field: str = "--class") -> str | None:
    args = ["search", "--onlyvisible"] if visible else ["search"]
    for wid in session.xdotool(*args, field, cls).split():
        if session.xdotool("getwindowname", wid):
            return wid
    return None


def _icon(session: DesktopSession) -> str | None:
    return _window(session, "SystemTrayIcon", visible=True, field="--classname")


def _geometry(session: DesktopSession, wid: str) -> tuple[int, int, int, int]:
    out = dict(line.split("=", 1) for line in session.xdotool("getwindowgeometry", "--shell", wid).splitlines())
    return int(out["X"]), int(out["Y"]), int(out["WIDTH"]), int(out["HEIGHT"])


def _shot(session: DesktopSession, box: tuple[int, int, int, int], path: Path) -> Image.Image:
    x, y, w, h = box
    image = ImageGrab.grab(xdisplay=session.display).crop((x, y, x + w, y + h)).convert("RGB")
    image.save(path)
    return image


def _share(image: Image.Image, color: tuple[int, int, int], tolerance: int = 40) -> float:
    """The share of pixels close to `color`."""
    pixels = np.asarray(image.convert("RGB"), dtype=np.int16).reshape(-1, 3)
    near = np.all(np.abs(pixels - np.array(color, dtype=np.int16)) <= tolerance, axis=1)
    return float(near.mean()) if len(pixels) else 0.0


def _colors(image: Image.Image) -> int:
    return len(np.unique(np.asarray(image.convert("RGB")).reshape(-1, 3), axis=0))


def test_tray_hotkey_prompt_notifications_and_clean_stop(session: DesktopSession, agent_home: Path,
                                                         tmp_path: Path) -> None:
    (agent_home / "config" / "rules").mkdir(parents=True)
    (agent_home / "config" / "config.yaml").write_text(CONFIG)
    env = {**session.env, "AGENT_HOME": str(agent_home)}
    agent = Agent(env)
    try:
        ready = agent.wait_line("agent ready in")
        assert "(desktop; notifications, scheduler, automation" in ready, ready

        # one agent only: a second `agent run` says so and leaves
        second = run_cli("run", env=env, stdin="", timeout=60)
        assert second.returncode == 2
        assert f"already running (pid {agent.proc.pid})" in second.stderr

        # the tray starts after the agent: the icon docks when the tray announces itself
        session.start_tray()
        assert wait_for(lambda: _icon(session), 15), "the icon never docked"
        icon_wid = _icon(session)
        assert icon_wid is not None
        assert wait_for(lambda: _geometry(session, icon_wid)[2] >= 16, 10)
        idle = _shot(session, _geometry(session, icon_wid), tmp_path / "tray-idle.png")
        assert _colors(idle) > 2, "the tray icon is blank"
        assert _share(idle, COLORS["idle"]) > 0.2, "the idle icon is not showing"

        # the hotkey opens the prompt near the pointer; Enter sends; the reply shows in the window
        session.xdotool("mousemove", "400", "300")
        session.xdotool("key", "ctrl+alt+space")
        assert wait_for(lambda: _window(session, "AmbientAgent", visible=True), 10), "no prompt window"
        prompt = _window(session, "AmbientAgent", visible=True)
        assert prompt is not None
        x, y, w, _h = _geometry(session, prompt)
        assert x <= 400 <= x + w, (x, w)  # just below the pointer
        assert 300 <= y <= 340, y
        time.sleep(0.3)  # the window takes the keyboard focus once mapped
        session.xdotool("type", "--delay", "20", "what is six times seven")
        session.xdotool("key", "Return")
        assert wait_for(lambda: "42" in session.xdotool("getwindowname", prompt), 60), \
            session.xdotool("getwindowname", prompt)
        assert session.xdotool("getwindowname", prompt) == "Agent — 6 times 7 is 42."
        shot = _shot(session, _geometry(session, prompt), tmp_path / "prompt.png")
        assert shot.size[0] >= 300
        assert _colors(shot) > 10, "the prompt window looks blank"

        # a confirmation shows in the window with Yes/No; Alt+Y answers yes and the process is stopped
        nap = tmp_path / "agentnap"
        shutil.copy("/bin/sleep", nap)
        target = subprocess.Popen([str(nap), "120"])
        try:
            session.xdotool("type", "--delay", "20", "kill agentnap")
            session.xdotool("key", "Return")
            assert wait_for(lambda: "Should I go ahead" in session.xdotool("getwindowname", prompt), 30), \
                session.xdotool("getwindowname", prompt)
            assert f"pid {target.pid}" in session.xdotool("getwindowname", prompt)
            _shot(session, _geometry(session, prompt), tmp_path / "prompt-confirm.png")
            assert target.poll() is None
            session.xdotool("key", "alt+y")
            assert wait_for(lambda: target.poll() is not None, 20), "the confirmed kill did not happen"
        finally:
            if target.poll() is None:
                target.kill()
            target.wait(5)

        # Esc closes the window
        session.xdotool("key", "Escape")
        assert wait_for(lambda: _window(session, "AmbientAgent", visible=True) is None, 10)

        # a rule dropped into the config folder (hot reload) fires: a real desktop notification, just once each
        (agent_home / "config" / "rules" / "e2e.yaml").write_text(RULE)
        assert wait_for(lambda: any(c["summary"].startswith("E2E ping") for c in notify_calls(session.monitor_log)),
                        30), session.monitor_log.read_text(errors="replace")[-3000:]
        time.sleep(1.0)  # a second pop-up (the engine's own notify-send) would arrive within this second
        calls = [c for c in notify_calls(session.monitor_log) if c["summary"].startswith("E2E ping")]
        summaries = [c["summary"] for c in calls]
        assert len(summaries) == len(set(summaries)), f"an alert popped up twice: {summaries}"
        assert calls[0]["app"] == "ambient-agent"
        assert calls[0]["body"] == "a rule fired"
        assert calls[0]["urgency"] == 1  # normal
        audit = [json.loads(line) for line in (agent_home / "data" / "audit.jsonl").read_text().splitlines()]
        assert not [r for r in audit if r["data"].get("command") == "notify_send"], "notify-send ran as well"

        # the rule's own hotkey is grabbed as soon as the rule loads
        log = agent_home / "logs" / "agent.log"
        assert wait_for(lambda: "<ctrl>+<alt>+h" in log.read_text(), 10), "the rule's hotkey was not bound"
        session.xdotool("key", "ctrl+alt+h")
        assert wait_for(lambda: any(c["summary"] == "E2E hotkey" for c in notify_calls(session.monitor_log)), 15)

        # the icon now shows the alert
        assert wait_for(lambda: _share(_shot(session, _geometry(session, icon_wid), tmp_path / "tray-alert.png"),
                                       COLORS["alert"]) > 0.2, 10), "the icon does not show the alert"

        # a click on the icon opens the menu (recent replies and alerts first); Quit stops the agent cleanly.
        # A click that lands while a loaded X server is still mapping the menu is lost: then open it once more.
        # The icon is looked up again each time: once Quit has landed it leaves, and the agent is then stopping
        # (its components save their state), which a loaded machine may take longer than 20 s to finish.
        code = None
        for _attempt in range(2):
            icon_now = _icon(session)
            if icon_now is None:
                break
            ix, iy, iw, ih = _geometry(session, icon_now)
            session.xdotool("mousemove", str(ix + iw // 2), str(iy + ih // 2), "click", "1")
            assert wait_for(lambda: _window(session, "menu", visible=True, field="--classname"), 10), "no menu"
            menu = _window(session, "menu", visible=True, field="--classname")
            assert menu is not None
            box = _geometry(session, menu)
            assert _colors(_shot(session, box, tmp_path / "menu.png")) > 10
            mx, my, _mw, mh = box
            session.xdotool("mousemove", str(mx + 20), str(my + mh - 8), "click", "1")  # the last entry: Quit
            try:
                code = agent.proc.wait(20)
                break
            except subprocess.TimeoutExpired:
                continue
        if code is None:
            code = agent.proc.wait(60)
        assert code == 0, "\n".join(agent.lines)
    finally:
        agent.stop()
    text = (agent_home / "logs" / "agent.log").read_text()
    assert "agent stopped (quit from the tray)" in text
    assert "automation stopped" in text  # the components stopped (and saved their state)
    assert "math.calc [template] ok" in text  # the turn is logged by skill, tier and state
    assert "six times seven" not in text  # never what the user said
    for name in ("tray-idle.png", "prompt.png", "prompt-confirm.png", "tray-alert.png", "menu.png"):
        assert (tmp_path / name).stat().st_size > 100


def test_headless_agent_answers_on_stdin_and_stops_on_sigterm(agent_home: Path) -> None:
    (agent_home / "config").mkdir(parents=True)
    (agent_home / "config" / "config.yaml").write_text("automation: {default_rules: false}\napi: {enabled: false}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISPLAY", "DBUS_SESSION", "WAYLAND"))}
    agent = Agent(env, stdin=subprocess.PIPE)
    proc = agent.proc
    try:
        ready = agent.wait_line("agent ready in")
        assert "(headless; notifications, scheduler, automation" in ready, ready
        assert "desktop" not in ready
        assert proc.stdin is not None
        proc.stdin.write("what is six times seven\n")
        proc.stdin.flush()
        agent.wait_line("6 times 7 is 42.")
    finally:
        code = agent.stop()  # SIGTERM, stdin still open
        if proc.stdin is not None:
            proc.stdin.close()
    assert code == 0, "\n".join(agent.lines)
    log = (agent_home / "logs" / "agent.log").read_text()
    assert "agent stopped (SIGTERM)" in log
    assert "no display: headless" in log
    assert "notifications: log" in log  # no session bus: alerts go to the log (and the terminal)


def test_with_a_broken_display_the_desktop_degrades_and_the_rest_runs(agent_home: Path) -> None:
    (agent_home / "config").mkdir(parents=True)
    (agent_home / "config" / "config.yaml").write_text("automation: {default_rules: false}\napi: {enabled: false}\n"
                                                       "ui: {preload: false}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISPLAY", "DBUS_SESSION", "WAYLAND"))}
    env["DISPLAY"] = ":987"  # no X server there
    result = subprocess.run([sys.executable, "-m", "agent", "run"], input="what is six times seven\nquit\n",
                            env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "6 times 7 is 42." in result.stdout.splitlines(), result.stdout
    assert "[desktop unavailable] desktop could not start" in result.stdout, result.stdout
    assert "(headless;" in result.stdout
