"""The engine on real time: a real APScheduler, real watchdog, a real D-Bus session with a notification server
on Xvfb (started here), the real pipeline and executor. Short intervals, polling for the result."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.automation import AutomationService, Engine, MetricCollector, Sample
from agent.automation.conditions import LocalSystemState
from agent.events import Alert, Notice, Speak
from agent.services import Services
from tests.automation_support import Recorder, make_engine, write_rules
from tests.conftest import wait_for


class FlakyCollector(MetricCollector):
    """A real collector whose first sample fails, as a broken sensor would."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def sample(self) -> Sample:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("first sample fails")
        return super().sample()


@pytest.fixture
def recorder(services: Services) -> Iterator[Recorder]:
    rec = Recorder()
    detach = [services.bus.subscribe(kind, rec) for kind in (Alert, Speak, Notice)]
    yield rec
    for d in detach:
        d()


def test_real_scheduler_fires_real_rules_survives_job_errors_and_hot_reloads(
        services: Services, tmp_path: Path, recorder: Recorder):
    rules, inbox = tmp_path / "rules", tmp_path / "inbox"
    inbox.mkdir()
    write_rules(rules, f"""
        - id: heartbeat
          triggers: [{{schedule: {{every: 0.3s}}}}]
          actions: [{{notify: {{title: "beat"}}}}]
        - id: processes
          triggers: [{{metric: process.count, above: 0}}]
          actions: [{{notify: {{title: "processes: {{value}}"}}}}]
        - id: later
          triggers: [{{event: custom.later}}]
          actions: [{{delay: 0.3s}}, {{notify: {{title: "later"}}}}]
        - id: inbox
          triggers: [{{file: {{path: "{inbox}", events: [created], debounce: 0.2s}}}}]
          actions: [{{notify: {{title: "new file {{path}}"}}}}]
    """)
    collector = FlakyCollector()
    engine = Engine(services, rule_paths=[rules], tick_s=0.2, collector=collector)
    service = AutomationService(engine)
    service.start()
    try:
        assert wait_for(lambda: "beat" in recorder.titles)
        assert wait_for(lambda: any(t.startswith("processes: ") for t in recorder.titles))
        assert engine.errors == 1  # the failing first tick was logged and counted; the scheduler went on
        assert int(recorder.titles[[t.startswith("processes") for t in recorder.titles].index(True)].split()[-1]) > 1

        services.bus.publish(Notice("custom.later"))  # a bus event; its run waits on a real APScheduler wake-up
        assert wait_for(lambda: "later" in recorder.titles)

        (inbox / "report.pdf").write_text("x")  # a real file system event through watchdog
        assert wait_for(lambda: f"new file {inbox / 'report.pdf'}" in recorder.titles)

        write_rules(rules, """
            - id: added
              triggers: [{event: custom.added}]
              actions: [{notify: {title: "added works"}}]
        """, name="more.yaml")
        assert wait_for(lambda: "added" in engine.rules)  # hot reload after the file changed
        assert any(n.name == "rules.reloaded" for n in recorder.notices)
        assert engine.fire_event("custom.added") == ["added"]
        assert "added works" in recorder.titles

        write_rules(rules, "- id: broken\n  triggers: [{metric: cpu.prcent, above: 1}]\n  actions: [{log: x}]\n",
                    name="broken.yaml")
        assert wait_for(lambda: "Some rules could not load" in recorder.titles)
        assert "broken" in recorder.alerts[-1].message
        assert "added" in engine.rules
        assert "broken" not in engine.rules
        assert engine.ticks > 3
    finally:
        service.stop()
    assert not service.scheduler.running
    assert service.job_errors == 0  # every job caught its own errors
    saved = engine.store.load_states()
    assert saved["processes"][1]["firing"] is True  # persisted at stop


def test_agent_run_starts_and_stops_the_engine(services: Services):
    import io

    from agent.app import run_agent

    seen: list[str] = []
    services.bus.subscribe(Notice, lambda e: seen.append(e.name) if isinstance(e, Notice) else None)
    assert run_agent(services, io.StringIO("quit\n")) == 0
    assert seen[:1] == ["agent.started"]
    assert seen[-1] == "agent.stopped"
    assert services.automation is None


def _start_desktop(procs: list[subprocess.Popen[bytes]], log: Path) -> tuple[str, str] | None:
    number = next(n for n in random.sample(range(200, 900), 700)
                  if not Path(f"/tmp/.X{n}-lock").exists() and not Path(f"/tmp/.X11-unix/X{n}").exists())
    display = f":{number}"
    with log.open("ab") as err:
        xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "640x480x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=err)
    procs.append(xvfb)
    if not wait_for(lambda: Path(f"/tmp/.X11-unix/X{number}").exists() or xvfb.poll() is not None, 10) or (
            xvfb.poll() is not None):
        return None
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
    procs.append(bus)
    assert bus.stdout is not None
    address = bus.stdout.readline().decode().strip()
    env = {**os.environ, "DISPLAY": display, "DBUS_SESSION_BUS_ADDRESS": address}
    with log.open("ab") as err:
        procs.append(subprocess.Popen(["dunst"], env=env, stdout=subprocess.DEVNULL, stderr=err))
    ask = ["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
           "org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.Notifications"]
    owned = wait_for(lambda: subprocess.run(ask, env=env, capture_output=True, text=True).stdout.rstrip().endswith(
        "true") or any(p.poll() is not None for p in procs), 10)
    if owned and all(p.poll() is None for p in procs):
        return display, address
    return None


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in reversed(procs):
        if p.poll() is None:
            p.terminate()
        p.wait(5)
        if p.stdout is not None:
            p.stdout.close()
    procs.clear()


@pytest.fixture
def desktop(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """Xvfb, a D-Bus session bus and the dunst notification server, started for this test only (a few tries:
    another test may grab the same X display at the same moment)."""
    procs: list[subprocess.Popen[bytes]] = []
    log = tmp_path / "desktop.log"
    try:
        for _ in range(3):
            started = _start_desktop(procs, log)
            if started is not None:
                break
            _stop(procs)
        assert started is not None, log.read_text(errors="replace")
        display, address = started
        monkeypatch.setenv("DISPLAY", display)
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        yield display
    finally:
        _stop(procs)


def test_notify_shows_a_real_desktop_notification_and_idle_time_comes_from_x11(
        services: Services, tmp_path: Path, desktop: str):
    assert shutil.which("notify-send")
    engine, clock, rec = make_engine(services, tmp_path, """
        - id: hello
          triggers: [{event: custom.hello}]
          actions: [{notify: {title: "Hello from a rule", body: "- it works", urgency: low}}]
    """)
    engine.fire_event("custom.hello")
    trace = engine.store.traces("hello")[0]
    assert trace["steps"][0]["detail"] == "notified: Hello from a rule (desktop)", trace
    history = subprocess.run(["dunstctl", "count", "history"], capture_output=True, text=True)
    displayed = subprocess.run(["dunstctl", "count", "displayed"], capture_output=True, text=True)
    assert int(history.stdout or 0) + int(displayed.stdout or 0) >= 1
    audit = [r for r in services.audit.tail(5) if r["data"].get("command") == "notify_send"]
    assert audit
    assert audit[-1]["data"]["returncode"] == 0
    idle = LocalSystemState(display=desktop).idle_seconds()
    assert idle is not None
    assert idle >= 0


@pytest.mark.slow  # the pipeline loads the router's embedding model
def test_skill_and_command_actions_go_through_the_pipeline_and_the_executor(
        services: Services, tmp_path: Path):
    engine, clock, rec = make_engine(services, tmp_path, """
        - id: act
          triggers: [{event: custom.act}]
          actions:
            - skill: {name: math.calc, args: {expression: "6 * 7"}}
            - notify: {title: "calc said: {result}"}
            - command: {id: uptime}
            - command: {id: clear_old_temp, args: {days: 3650}}
            - skill: {name: health.alerts}
    """)
    engine.run_rule("act", dry_run=True)
    dry = engine.store.traces("act")[0]
    assert dry["result"] == "dry_run"
    assert [s["outcome"] for s in dry["steps"]] == ["ok", "ok", "ok", "ok", "ok"]
    assert "(dry run) would run" in dry["steps"][3]["detail"]
    assert not [r for r in services.audit.tail(50) if r["event"] == "exec.run"]  # nothing ran

    engine.fire_event("custom.act")
    trace = engine.store.traces("act")[0]
    outcomes = [s["outcome"] for s in trace["steps"]]
    assert outcomes == ["ok", "ok", "ok", "needs_confirmation", "ok"], trace
    assert rec.titles[0] == "calc said: 6 * 7 is 42." or "42" in rec.titles[0]
    assert "Confirmation needed" in rec.titles  # a destructive command never runs unconfirmed from a rule
    assert trace["steps"][4]["detail"].startswith("2 alerts")  # health.alerts saw the alert this run stored
    commands = [r["data"].get("command") for r in services.audit.tail(50) if r["event"] == "exec.run"]
    assert "uptime" in commands
    assert "clear_old_temp" not in commands
