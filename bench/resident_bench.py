"""The resident agent's cost: startup to ready, memory, idle CPU, and the hotkey prompt's round trip.

    .venv/bin/python bench/resident_bench.py [--runs 3] [--idle 30]

Two modes, each in a fresh AGENT_HOME with the default config (default rules on, API on a free port):
  headless  no display, stdin a pipe (the terminal prompt)
  desktop   a private Xvfb + session D-Bus + dunst + tint2 (tests/desktop_session.py), stdin /dev/null

Per start: wall time from spawn to the "agent ready" line, and the agent's own figure (from its process
creation). After the last start: RSS at ready, RSS once the router's models are loaded (the API and the desktop
warm them up after ready), CPU used over --idle seconds of doing nothing once that is over, and (desktop) the
time from Enter in the prompt window to the reply in its title. Prints one JSON object. The machine is shared:
the load average is reported with it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.desktop_session import DesktopSession, wait_for  # noqa: E402

_READY = re.compile(r"agent ready in (\d+) ms")


class _Agent:
    def __init__(self, env: dict[str, str], stdin: int) -> None:
        self.started = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, "-m", "agent", "run"], env=env, stdin=stdin,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[tuple[float, str]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append((time.perf_counter(), line.rstrip("\n")))

    def ready(self, timeout: float = 120) -> tuple[float, float]:
        """(wall ms from spawn to the ready line, the agent's own ms from process creation)."""
        def found() -> tuple[float, str] | None:
            return next(((t, line) for t, line in self.lines if _READY.search(line)), None)

        if not wait_for(lambda: found() or self.proc.poll() is not None, timeout, 0.01) or found() is None:
            raise RuntimeError("the agent did not get ready:\n" + "\n".join(line for _, line in self.lines))
        t, line = found()  # type: ignore[misc]
        match = _READY.search(line)
        assert match is not None
        return (t - self.started) * 1000, float(match.group(1))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def _home(root: Path) -> Path:
    home = Path(tempfile.mkdtemp(prefix="home-", dir=root))
    (home / "config").mkdir()
    (home / "config" / "config.yaml").write_text("api: {port: 0}\n")
    return home


def _log_has(home: Path, text: str) -> bool:
    log = home / "logs" / "agent.log"
    return log.exists() and text in log.read_text(errors="replace")


def _idle(pid: int, seconds: float) -> dict[str, float]:
    proc = psutil.Process(pid)
    before, t0 = proc.cpu_times(), time.perf_counter()
    time.sleep(seconds)
    after, elapsed = proc.cpu_times(), time.perf_counter() - t0
    used = (after.user - before.user) + (after.system - before.system)
    return {"idle_s": round(elapsed, 1), "idle_cpu_s": round(used, 3),
            "idle_cpu_percent": round(100 * used / elapsed, 2), "threads": proc.num_threads()}


def _settle(pid: int, limit_s: float = 120.0) -> float:
    """Wait until start-up work (model warm-up by the API or the desktop) is over: two 1-second windows under
    3% CPU in a row. Returns the seconds it took."""
    proc, t0, calm = psutil.Process(pid), time.perf_counter(), 0
    proc.cpu_percent(None)
    while time.perf_counter() - t0 < limit_s and calm < 2:
        time.sleep(1.0)
        calm = calm + 1 if proc.cpu_percent(None) < 3.0 else 0
    return round(time.perf_counter() - t0, 1)


def _mb(pid: int) -> dict[str, float]:
    info = psutil.Process(pid).memory_full_info()
    return {"rss_mb": round(info.rss / 2**20, 1), "uss_mb": round(info.uss / 2**20, 1)}


def _startups(env: dict[str, str], stdin: int, runs: int, root: Path) -> tuple[list[float], list[float]]:
    wall, own = [], []
    for _ in range(runs):
        agent = _Agent({**env, "AGENT_HOME": str(_home(root))}, stdin)
        try:
            w, o = agent.ready()
            wall.append(round(w))
            own.append(o)
        finally:
            agent.stop()
    return wall, own


def bench_headless(runs: int, idle_s: float, root: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISPLAY", "DBUS_SESSION", "WAYLAND"))}
    wall, own = _startups(env, subprocess.PIPE, runs, root)
    home = _home(root)
    agent = _Agent({**env, "AGENT_HOME": str(home)}, subprocess.PIPE)
    try:
        agent.ready()
        at_ready = _mb(agent.proc.pid)
        settle_s = _settle(agent.proc.pid)
        settled = _mb(agent.proc.pid)
        idle = _idle(agent.proc.pid, idle_s)
        after = _mb(agent.proc.pid)
    finally:
        agent.stop()
    return {"startup_wall_ms": wall, "startup_agent_ms": own, "at_ready": at_ready, "warm_up_s": settle_s,
            "warmed_up": settled, **idle, "after_idle": after}


def bench_desktop(runs: int, idle_s: float, root: Path) -> dict[str, Any]:
    session = DesktopSession(root / "desktop")
    session.start_x()
    session.start_notifications()
    session.start_tray()
    try:
        wall, own = _startups(session.env, subprocess.DEVNULL, runs, root)
        home = _home(root)
        agent = _Agent({**session.env, "AGENT_HOME": str(home)}, subprocess.DEVNULL)
        try:
            agent.ready()
            at_ready = _mb(agent.proc.pid)
            t0 = time.perf_counter()
            wait_for(lambda: _log_has(home, "models loaded"), 120, 0.05)
            preload_ms = (time.perf_counter() - t0) * 1000
            loaded = _mb(agent.proc.pid)
            settle_s = _settle(agent.proc.pid)
            idle = _idle(agent.proc.pid, idle_s)
            prompt_ms = _prompt_round_trip(session)
            after = _mb(agent.proc.pid)
        finally:
            agent.stop()
    finally:
        session.stop()
    return {"startup_wall_ms": wall, "startup_agent_ms": own, "at_ready": at_ready,
            "preload_after_ready_ms": round(preload_ms), "models_loaded": loaded, "settled_after_s": settle_s, **idle,
            "prompt_enter_to_reply_ms": prompt_ms, "after_prompt": after}


def _prompt_round_trip(session: DesktopSession) -> list[float]:
    """Enter in the prompt window to the reply in its title, three times (models already loaded)."""
    session.xdotool("key", "ctrl+alt+space")
    if not wait_for(lambda: session.xdotool("search", "--onlyvisible", "--class", "AmbientAgent"), 10):
        return []
    wid = session.xdotool("search", "--onlyvisible", "--class", "AmbientAgent").split()[0]
    time.sleep(0.3)
    out = []
    for a, b in ((6, 7), (8, 9), (12, 3)):
        session.xdotool("type", "--delay", "5", f"what is {a} times {b}")
        t0 = time.perf_counter()
        session.xdotool("key", "Return")
        if wait_for(lambda a=a, b=b: f"is {a * b}." in session.xdotool("getwindowname", wid), 30, 0.005):
            out.append(round((time.perf_counter() - t0) * 1000, 1))
    session.xdotool("key", "Escape")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--idle", type=float, default=30.0)
    ns = ap.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="resident-bench-") as tmp:
        root = Path(tmp)
        result: dict[str, Any] = {"cpus": os.cpu_count(), "load_avg_before": [round(x, 2) for x in load_before]}
        result["headless"] = bench_headless(ns.runs, ns.idle, root)
        result["desktop"] = bench_desktop(ns.runs, ns.idle, root)
    result["load_avg_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
