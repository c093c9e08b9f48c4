"""Measure timers and reminders on the real scheduler and SQLite store. Prints one JSON summary.

    .venv/bin/python bench/timers.py

- add_ms: storing a reminder (row + job) through the resident scheduler, and through a short-lived paused
  one as `agent ask` does (start, add, shut down);
- fire_late_ms: alert time minus due time, for jobs added in-process (the scheduler is woken) and for jobs
  written by "another process" (a second scheduler; the resident one sees them on its next look);
- missed_start_ms: time from `start()` until 100 overdue reminders have all fired, late, once each.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import threading
import time
from datetime import datetime, timedelta

os.environ.setdefault("AGENT_HOME", tempfile.mkdtemp(prefix="agent-bench-"))

from agent.bus import Bus  # noqa: E402
from agent.events import Alert, Event  # noqa: E402
from agent.paths import get_paths  # noqa: E402
from agent.scheduling import POLL_S, AgentScheduler, open_scheduler  # noqa: E402


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"median": round(statistics.median(ordered), 2), "p90": round(ordered[int(len(ordered) * 0.9) - 1], 2),
            "max": round(ordered[-1], 2), "n": len(ordered)}


def main() -> None:
    paths = get_paths().ensure()
    bus = Bus()
    fired: dict[str, float] = {}
    count: list[str] = []
    done = threading.Condition()

    def on_alert(event: Event) -> None:
        assert isinstance(event, Alert)
        with done:
            fired[event.message] = time.time()
            count.append(event.message)
            done.notify_all()

    bus.subscribe(Alert, on_alert)
    resident = AgentScheduler(paths, bus)
    resident.start()
    try:
        now = datetime.now().astimezone()
        resident_add, short_lived_add, due = [], [], {}
        for i in range(10):
            t0 = time.perf_counter()
            r = resident.add("reminder", f"in-process {i}", now + timedelta(seconds=1 + i * 0.2))
            resident_add.append((time.perf_counter() - t0) * 1000)
            due[r.text] = r.due.timestamp()
        with done:
            done.wait_for(lambda: len(fired) >= len(due), timeout=30)
        now = datetime.now().astimezone()
        for i in range(10):  # the resident scheduler has nothing due now: it sees these on its next look
            t0 = time.perf_counter()
            with open_scheduler(paths) as writer:
                r = writer.add("reminder", f"other process {i}", now + timedelta(seconds=1 + i * 0.37))
            short_lived_add.append((time.perf_counter() - t0) * 1000)
            due[r.text] = r.due.timestamp()
        with done:
            done.wait_for(lambda: len(fired) >= len(due), timeout=30)
        late = {k: (fired[k] - due[k]) * 1000 for k in due if k in fired}
    finally:
        resident.stop()

    overdue = datetime.now().astimezone() - timedelta(hours=1)
    with open_scheduler(paths) as writer:
        for i in range(100):
            writer.add("reminder", f"missed {i}", overdue)
    fired.clear()
    count.clear()
    again = AgentScheduler(paths, bus)
    t0 = time.perf_counter()
    again.start()
    try:
        with done:
            done.wait_for(lambda: len(fired) >= 100, timeout=60)
        missed_ms = (time.perf_counter() - t0) * 1000
        time.sleep(POLL_S + 0.5)
        duplicates = len(count) - len(set(count))
    finally:
        again.stop()
    print(json.dumps({
        "poll_s": POLL_S,
        "add_ms": {"resident": _ms(resident_add), "short_lived_process": _ms(short_lived_add)},
        "fire_late_ms": {"added_in_process": _ms([v for k, v in late.items() if k.startswith("in-process")]),
                         "added_by_other_process": _ms([v for k, v in late.items() if k.startswith("other")])},
        "fired": f"{len(late)}/{len(due)}",
        "missed_100_start_ms": round(missed_ms, 1), "missed_fired": len(fired), "missed_duplicates": duplicates,
    }))


if __name__ == "__main__":
    main()
