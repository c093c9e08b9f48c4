"""Time tracking on a real SQLite file, with the real idle time of a real Xvfb display.

Only the idle *amount* is injected in some tests (`services.idle`): a test cannot
leave a real desktop untouched for the 5+ minutes the idle threshold needs. The real provider is tested on Xvfb.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from agent.config import load_settings
from agent.events import ResultState, SkillResult
from agent.paths import Paths
from agent.pipeline import Pipeline
from agent.services import Services, build_services
from agent.skills.timetrack import DB_NAME, TimeStore, idle_provider, report_csv, spoken_duration
from tests.conftest import run_cli

pytestmark = pytest.mark.clock  # periods and "today": re-run under faketime in CI (.ci/run)

MIN = 60.0
# a fixed Tuesday morning, so "today"/"week" do not depend on when the suite runs
T0 = datetime(2026, 3, 3, 9, 0).timestamp()


def _store(paths: Paths) -> TimeStore:
    return TimeStore(paths.data / DB_NAME)


@pytest.mark.parametrize(("seconds", "spoken"), [
    (20, "less than a minute"), (60, "1 min"), (20 * MIN, "20 min"), (72 * MIN, "1 h 12 min"), (120 * MIN, "2 h"),
    (119.6 * MIN, "2 h"),
])
def test_spoken_duration(seconds: float, spoken: str) -> None:
    assert spoken_duration(seconds) == spoken


def test_starting_a_project_stops_the_running_one(paths: Paths) -> None:
    store = _store(paths)
    store.start("apollo", now=T0)
    _, stopped = store.start("zeus", now=T0 + 72 * MIN)
    assert stopped is not None
    assert stopped.project == "apollo"
    assert stopped.ended == T0 + 72 * MIN
    store.stop(now=T0 + 92 * MIN)
    projects, entries, _, _ = store.report("today", now=T0 + 3 * 60 * MIN)
    assert [(p.project, p.seconds) for p in projects] == [("apollo", 72 * MIN), ("zeus", 20 * MIN)]
    assert len(entries) == 2
    store.db.conn.execute("INSERT INTO entries(project, started) VALUES ('a', 1)")
    with pytest.raises(sqlite3.IntegrityError):  # two running entries are impossible, whatever the code does
        store.db.conn.execute("INSERT INTO entries(project, started) VALUES ('b', 2)")


def test_pause_and_resume_keep_the_time(paths: Paths) -> None:
    store = _store(paths)
    store.start("apollo", now=T0)
    store.stop(now=T0 + 30 * MIN, pause=True)
    assert store.paused() == "apollo"
    store.start(store.paused() or "", now=T0 + 40 * MIN)  # what resume does
    assert store.paused() is None
    store.stop(now=T0 + 50 * MIN)
    projects, _, _, _ = store.report("today", now=T0 + 60 * MIN)
    assert [(p.project, p.seconds, len(p.entries)) for p in projects] == [("apollo", 40 * MIN, 2)]


def test_periods_clip_entries(paths: Paths) -> None:
    store = _store(paths)
    midnight = datetime(2026, 3, 3).timestamp()
    store.start("night", now=midnight - 30 * MIN)
    store.stop(now=midnight + 45 * MIN)
    today, _, _, _ = store.report("today", now=T0)
    yesterday, _, _, _ = store.report("yesterday", now=T0)
    week, _, _, _ = store.report("week", now=T0)
    assert today[0].seconds == 45 * MIN
    assert yesterday[0].seconds == 30 * MIN
    assert week[0].seconds == 75 * MIN


def test_idle_gaps_are_excluded_and_merged(paths: Paths) -> None:
    store = _store(paths)
    store.start("apollo", now=T0)
    assert not store.record_idle(120, now=T0 + 30 * MIN)  # under the threshold: not idle time
    assert store.record_idle(400, now=T0 + 30 * MIN)
    assert store.record_idle(700, now=T0 + 35 * MIN)  # the same idle stretch, seen later
    stopped = store.stop(now=T0 + 60 * MIN, idle_s=600, source="test")
    assert stopped is not None
    assert stopped.gaps == ((T0 + 30 * MIN - 400, T0 + 35 * MIN), (T0 + 50 * MIN, T0 + 60 * MIN))
    projects, _, _, _ = store.report("today", now=T0 + 2 * 60 * MIN)
    assert projects[0].idle_seconds == 400 + 5 * MIN + 10 * MIN
    assert projects[0].seconds == 60 * MIN - projects[0].idle_seconds


def test_csv_export(paths: Paths) -> None:
    store = _store(paths)
    store.start("apollo", now=T0)
    store.stop(now=T0 + 72 * MIN, idle_s=12 * MIN)
    store.start("zeus, the big one", now=T0 + 80 * MIN)
    rows = list(csv.DictReader(io.StringIO(report_csv(store, "today", now=T0 + 100 * MIN))))
    assert [(r["project"], r["seconds_in_period"], r["idle_seconds_excluded"], r["running"]) for r in rows] == [
        ("apollo", str(round(60 * MIN)), str(round(12 * MIN)), "no"),
        ("zeus, the big one", str(round(20 * MIN)), "0", "yes"),
    ]
    assert rows[0]["start"] == "2026-03-03T09:00:00"


def test_skills_through_the_pipeline(services: Services) -> None:
    services.idle = lambda: 30.0  # active user: nothing excluded
    services.clock = lambda: T0  # "today" is T0's day whatever the real clock reads
    pipeline = Pipeline(services)
    started = pipeline.handle("start tracking time on project apollo")
    assert (started.intent.skill, started.intent.args) == ("timetrack.start", {"project": "apollo"})
    assert started.result.state is ResultState.OK
    assert started.result.reply == "Tracking apollo."
    again = pipeline.run_skill("timetrack.start", {"project": "Apollo"})
    assert again.result.reply == "Already tracking apollo."
    paused = pipeline.run_skill("timetrack.pause", {})
    assert paused.result.reply.startswith("Paused apollo after")
    resumed = pipeline.run_skill("timetrack.resume", {})
    assert resumed.result.reply == "Resumed apollo."
    switched = pipeline.run_skill("timetrack.start", {"project": "zeus"})
    assert switched.result.reply.startswith("Stopped apollo after")
    assert switched.result.reply.endswith(
        "Tracking zeus.")
    stopped = pipeline.handle("stop the timer on my project")
    assert stopped.intent.skill == "timetrack.stop"
    assert stopped.result.reply.startswith("Stopped zeus after")
    nothing = pipeline.run_skill("timetrack.stop", {})
    assert nothing.result.state is ResultState.OK
    assert nothing.result.reply == "Nothing is being tracked."
    report = pipeline.handle("how much time did I track today")
    assert report.intent.skill == "timetrack.report"
    assert [p["project"] for p in report.result.data["projects"]] == ["apollo", "zeus"]
    assert [p["entries"] for p in report.result.data["projects"]] == [2, 1]
    assert report.result.data["idle_detection"] == "injected provider"


def test_spoken_report_and_idle_exclusion(services: Services) -> None:
    now = datetime(2026, 3, 3, 14, 0).timestamp()  # an injected clock: the real one may read 00:30
    services.clock = lambda: now
    store = _store(services.paths)
    midnight = datetime(2026, 3, 3).timestamp()
    store.start("zeus", now=midnight + 60)
    store.stop(now=midnight + 60 + 20 * MIN)
    store.start("apollo", now=now - 2 * 60 * MIN)
    services.idle = lambda: 48 * MIN  # the user left 48 minutes ago
    pipeline = Pipeline(services)
    stopped = pipeline.run_skill("timetrack.stop", {})
    assert stopped.result.reply == "Stopped apollo after 1 h 12 min, not counting 48 min idle."
    report = pipeline.run_skill("timetrack.report", {"period": "today"})
    assert report.result.reply == "1 h 12 min on apollo today, 20 min on zeus."
    assert report.result.data["projects"][0]["idle_seconds_excluded"] == round(48 * MIN)
    empty = pipeline.run_skill("timetrack.report", {"period": "yesterday"})
    assert empty.result.reply == "You tracked no time yesterday."


def test_a_session_across_midnight_is_split_between_the_days(services: Services) -> None:
    """The trap of issue 15: a session started two hours ago at 00:30 began yesterday."""
    now = datetime(2026, 3, 3, 0, 30).timestamp()
    services.clock = lambda: now
    services.idle = lambda: None
    _store(services.paths).start("apollo", now=now - 2 * 60 * MIN)
    pipeline = Pipeline(services)
    assert pipeline.run_skill("timetrack.stop", {}).result.reply == "Stopped apollo after 2 h."
    today = pipeline.run_skill("timetrack.report", {"period": "today"})
    assert today.result.reply == "30 min on apollo today."
    yesterday = pipeline.run_skill("timetrack.report", {"period": "yesterday"})
    assert yesterday.result.reply == "1 h 30 min on apollo yesterday."


def _call(services: Services, name: str, args: dict[str, object], utterance: str) -> SkillResult:
    """Run a skill as the pipeline would after routing `utterance` to it with `args`."""
    skill = services.registry.get(name)
    assert skill is not None
    assert skill.run is not None
    return skill.run(skill.args.model_validate(args), services.context(utterance))


def test_an_invented_project_is_not_tracked(services: Services) -> None:
    """The language model once filled "resume tracking" with project "your_project_name"."""
    services.idle = lambda: None
    asked = _call(services, "timetrack.start", {"project": "your_project_name"}, "start tracking")
    assert asked.state is ResultState.ERROR
    assert asked.reply == "Which project?"
    _call(services, "timetrack.start", {"project": "apollo"}, "start tracking apollo")
    _call(services, "timetrack.pause", {}, "pause tracking")
    resumed = _call(services, "timetrack.start", {"project": "your_project_name"}, "resume tracking")
    assert resumed.reply == "Resumed apollo."
    paused = _call(services, "timetrack.stop", {}, "pause tracking")  # routed to stop: still a pause
    assert paused.data["paused"] is True
    assert _store(services.paths).paused() == "apollo"
    numbered = _call(services, "timetrack.start", {"project": "project 7"}, "start tracking project seven")
    assert numbered.reply == "Tracking project 7."


def test_tracking_survives_a_restart(paths: Paths) -> None:
    first = build_services(paths, load_settings(paths))
    first.idle = lambda: None
    _call(first, "timetrack.start", {"project": "apollo"}, "start tracking apollo")
    second = build_services(paths, load_settings(paths))  # a new process, in effect
    second.idle = lambda: None
    stopped = _call(second, "timetrack.stop", {}, "stop tracking")
    assert stopped.reply.startswith("Stopped apollo after")
    assert stopped.data["idle_detection"] == "injected provider"


@pytest.fixture
def xvfb_display() -> Iterator[str]:
    """A real X server on a display number it picks itself (-displayfd), so two test runs never share one."""
    if shutil.which("Xvfb") is None:
        pytest.fail("Xvfb is needed (scripts/setup.sh installs it)")
    read, write = os.pipe()
    # the X server keeps real time even when CI moves this process's wall clock (faketime is preloaded)
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "FAKETIME")}
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "320x240x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(write,), env=env)
    os.close(write)
    try:
        with os.fdopen(read) as pipe:  # Xvfb writes the display number once it accepts connections
            number = pipe.readline().strip()
        assert number.isdigit(), f"Xvfb did not start (exit {proc.poll()})"
        yield f":{number}"
    finally:
        proc.terminate()
        proc.wait(5)


def test_idle_time_of_the_x11_display(xvfb_display: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPLAY", xvfb_display)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    provider, how = idle_provider()
    assert how == "X11 screen saver"
    assert provider is not None
    subprocess.run(["xdotool", "mousemove", "5", "5"], check=True, env={**os.environ})
    idle = provider()
    deadline = time.monotonic() + 10  # a loaded X server may answer its first query late
    while idle is None and time.monotonic() < deadline:
        time.sleep(0.2)
        idle = provider()
    assert idle is not None
    assert 0 <= idle < 60
    assert idle_provider(env={})[1] == "no X11 display: idle time is not excluded"
    absent, _ = idle_provider(env={"DISPLAY": ":999"})
    assert absent is not None
    assert absent() is None  # no X server there: unknown, not a crash
    wayland = idle_provider(env={"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"})
    assert wayland[0] is None
    assert "Wayland" in wayland[1]


def test_cli_report_and_csv(paths: Paths, tmp_path: Path) -> None:
    store = _store(paths)
    midnight = datetime.now().replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
    store.start("apollo", now=midnight + 60)
    store.stop(now=midnight + 60 + 72 * MIN)
    out = tmp_path / "week.csv"
    result = run_cli("timetrack", "report", "--period", "week", "--csv", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "1 h 12 min on apollo this week."
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(r["project"], r["seconds_in_period"]) for r in rows] == [("apollo", str(72 * 60))]
