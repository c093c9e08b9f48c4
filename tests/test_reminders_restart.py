"""Reminders survive the process that set them, and missed ones fire once, late, when the agent starts."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from agent.events import Alert
from agent.scheduling import DB_NAME, POLL_S, AgentScheduler, ReminderStore
from agent.services import Services
from tests.conftest import run_cli, wait_for


def _read_lines(stream: object, lines: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        lines.put(line)


@pytest.mark.slow  # two agent processes; the first one loads the router's embedding model
def test_a_reminder_set_by_ask_fires_in_the_resident_process(agent_home: Path) -> None:
    asked = run_cli("ask", "--json", "remind me in 3 seconds to water the plants", timeout=120)
    assert asked.returncode == 0, asked.stderr
    out = json.loads(asked.stdout)
    assert (out["skill"], out["state"]) == ("reminder.add", "ok"), out
    assert out["args"]["text"] == "water the plants"
    assert out["reply"] == "I'll remind you to water the plants in 3 seconds."
    # process A has exited; process B is the resident agent, its stdin kept open like a terminal's
    lines: queue.Queue[str] = queue.Queue()
    with subprocess.Popen([sys.executable, "-m", "agent", "run"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, env=dict(os.environ)) as proc:
        reader = threading.Thread(target=_read_lines, args=(proc.stdout, lines), daemon=True)
        reader.start()
        seen: list[str] = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not any("[Reminder]" in line for line in seen):
            try:
                seen.append(lines.get(timeout=0.2))
            except queue.Empty:
                continue
        assert proc.stdin is not None
        proc.stdin.close()  # Ctrl-D: the agent stops its scheduler and exits
        assert proc.wait(timeout=20) == 0
        reader.join(timeout=5)
    alert_lines = [line.strip() for line in seen if "[Reminder]" in line]
    assert alert_lines == ["[Reminder] water the plants"], seen
    log = (agent_home / "logs" / "agent.log").read_text(encoding="utf-8")
    assert "reminder 1 fired" in log
    assert "water the plants" not in log  # what the user said never reaches the log at the default level
    rows = ReminderStore(agent_home / "data" / DB_NAME).fetch(include_done=True)
    assert [(r.text, r.status) for r in rows] == [("water the plants", "fired")]


@pytest.mark.clock
def test_missed_reminders_fire_once_late_at_start(services: Services, alerts: list[Alert]) -> None:
    due = datetime.now().astimezone() - timedelta(minutes=10)  # the machine slept through it
    writer = AgentScheduler(services.paths)  # like `agent ask`: stores the row and its job, fires nothing
    writer.start(paused=True)
    try:
        with_job = writer.add("reminder", "call mom", due)
    finally:
        writer.stop()
    lost_job = ReminderStore(services.paths.data / DB_NAME).add("reminder", "feed the cat", due)  # job lost
    assert alerts == []

    resident = AgentScheduler(services.paths, services.bus)
    resident.start()
    try:
        assert wait_for(lambda: len(alerts) == 2, timeout=8)
        time.sleep(POLL_S + 0.5)  # another look at the store fires nothing more
    finally:
        resident.stop()
    clock = f"{due.strftime('%I').lstrip('0') or '12'}:{due:%M} {due:%p}"
    expected = {f"Late reminder (due {clock}): call mom", f"Late reminder (due {clock}): feed the cat"}
    if due.date() != datetime.now().astimezone().date():  # just after midnight the due day is named
        expected = {m.replace(clock, f"{clock} yesterday") for m in expected}
    assert {a.message for a in alerts} == expected
    assert {a.title for a in alerts} == {"Reminder"}
    for rid in (with_job.id, lost_job.id):
        row = resident.store.get(rid)
        assert row is not None
        assert (row.status, row.late) == ("fired", True)

    again = AgentScheduler(services.paths, services.bus)  # a second start: nothing fires twice
    again.start()
    try:
        time.sleep(POLL_S + 0.5)
    finally:
        again.stop()
    assert len(alerts) == 2
