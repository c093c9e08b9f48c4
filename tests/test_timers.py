"""Timers and reminders on the real APScheduler with its real SQLite job store in the tmp AGENT_HOME."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from agent.components import Unavailable
from agent.events import Alert, ResultState, SkillResult
from agent.scheduling import (
    DB_NAME,
    AgentScheduler,
    ReminderError,
    ReminderStore,
    alert_for,
    cancel_reminder,
    format_duration,
    list_reminders,
    parse_when,
    start_scheduler,
)
from agent.services import Services
from agent.skills.timers import ReminderAddArgs, TimerSetArgs
from tests.conftest import run_cli, wait_for


@pytest.fixture
def scheduler(services: Services, alerts: list[Alert]) -> Iterator[AgentScheduler]:
    stop = start_scheduler(services)
    sched = services.scheduler
    assert sched is not None
    yield sched
    stop()
    assert services.scheduler is None
    assert not sched.running


def run_skill(services: Services, name: str, args: object, utterance: str = "") -> SkillResult:
    skill = services.registry.get(name)
    assert skill is not None
    assert skill.run is not None, f"{name} has no handler"
    return skill.run(args, services.context(utterance))


def job_ids(services: Services) -> set[str]:
    conn = sqlite3.connect(services.paths.data / DB_NAME)
    try:
        return {row[0] for row in conn.execute("SELECT id FROM apscheduler_jobs")}
    finally:
        conn.close()


@pytest.mark.parametrize(("seconds", "words"), [
    (300, "5 minutes"), (90, "90 seconds"), (60, "1 minute"), (1, "1 second"), (3600, "1 hour"),
    (5400, "1 hour and 30 minutes"), (1199.6, "20 minutes"), (7 * 3600 + 5, "7 hours and 5 seconds"),
])
def test_durations_read_aloud(seconds: float, words: str) -> None:
    assert format_duration(seconds) == words


def test_when_accepts_iso_and_a_few_relative_forms() -> None:
    now = datetime(2026, 3, 10, 14, 0).astimezone()
    assert parse_when("2026-03-10T17:00:00", now) == datetime(2026, 3, 10, 17, 0).astimezone()
    aware = parse_when("2026-03-10T17:00:00+00:00", now)
    assert aware.timestamp() == datetime.fromisoformat("2026-03-10T17:00:00+00:00").timestamp()
    assert parse_when("2026-03-10T17:00:00Z", now) == aware
    assert parse_when("17:30", now) == datetime(2026, 3, 10, 17, 30).astimezone()
    assert parse_when("2026-03-11", now) == datetime(2026, 3, 11, 9, 0).astimezone()
    for relative in ("+20m", "20 minutes", "in 20 minutes", "in twenty minutes", "20min"):
        assert parse_when(relative, now) == now + timedelta(minutes=20), relative
    assert parse_when("tomorrow at 9am", now) == datetime(2026, 3, 11, 9, 0).astimezone()
    with pytest.raises(ReminderError, match="couldn't read"):
        parse_when("whenever you like", now)


@pytest.mark.clock
def test_a_one_second_timer_fires_an_alert(services: Services, scheduler: AgentScheduler,
                                           alerts: list[Alert]) -> None:
    result = run_skill(services, "timer.set", TimerSetArgs(seconds=1), "set a timer for 1 second")
    assert result.state is ResultState.OK, result.reply
    assert result.reply == "Timer set for 1 second."
    assert wait_for(lambda: len(alerts) == 1, timeout=8)
    alert = alerts[0]
    assert (alert.title, alert.message) == ("Timer", "Your 1 second timer is done")
    row = scheduler.store.get(result.data["id"])
    assert row is not None
    assert (row.status, row.late) == ("fired", False)
    assert wait_for(lambda: job_ids(services) == set(), timeout=5)  # a date job leaves the store after it ran


@pytest.mark.clock
def test_reminder_reply_listing_and_cancel(services: Services, scheduler: AgentScheduler,
                                           alerts: list[Alert]) -> None:
    due = (datetime.now().astimezone() + timedelta(hours=2)).replace(second=0, microsecond=0)
    result = run_skill(services, "reminder.add", ReminderAddArgs(text="call my mom", when=due.isoformat()),
                       "remind me to call my mom")
    assert result.state is ResultState.OK, result.reply
    assert result.reply.startswith("I'll remind you to call your mom at ")
    assert result.data["due"] == due.isoformat(timespec="seconds")
    rid = result.data["id"]
    assert [r.id for r in list_reminders(services.paths)] == [rid]
    assert f"reminder-{rid}" in job_ids(services)

    cancelled = cancel_reminder(services.paths, rid, services.scheduler)
    assert cancelled.status == "cancelled"
    assert list_reminders(services.paths) == []
    assert job_ids(services) == set()
    assert scheduler.fire(rid) is None  # even a job that slipped through does not fire a cancelled one
    with pytest.raises(ReminderError, match="already cancelled"):
        cancel_reminder(services.paths, rid)
    with pytest.raises(ReminderError, match="no reminder or timer 999"):
        cancel_reminder(services.paths, 999)
    assert alerts == []


@pytest.mark.clock
def test_a_past_time_is_not_accepted_silently(services: Services) -> None:
    now = datetime.now().astimezone()
    long_ago = (now - timedelta(days=2)).isoformat()
    result = run_skill(services, "reminder.add", ReminderAddArgs(text="pay rent", when=long_ago), "remind me")
    assert result.state is ResultState.ERROR
    assert "has already passed" in result.reply
    assert result.data["clarify"] == "when"

    earlier = (now - timedelta(hours=1)).isoformat()
    said_today = run_skill(services, "reminder.add", ReminderAddArgs(text="call mom", when=earlier),
                           "remind me today at that time to call mom")
    assert said_today.state is ResultState.ERROR
    # a bare clock time that already passed today ("at 5pm" said at 5:40 PM) means tomorrow, and says so
    bare = run_skill(services, "reminder.add", ReminderAddArgs(text="call mom", when=earlier),
                     "remind me at that hour to call mom")
    assert bare.state is ResultState.OK, bare.reply
    assert bare.data["moved_to_tomorrow"] is True
    assert datetime.fromisoformat(bare.data["due"]) > now
    assert [r.text for r in list_reminders(services.paths)] == ["call mom"]


def test_claim_is_atomic_across_threads(services: Services) -> None:
    store = ReminderStore(services.paths.data / DB_NAME)
    reminder = store.add("reminder", "once", datetime.now().astimezone())
    results: list[object] = []
    barrier = threading.Barrier(6)

    def claim() -> None:
        barrier.wait()
        results.append(store.claim(reminder.id))

    threads = [threading.Thread(target=claim) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r is not None for r in results) == 1


def test_late_alert_words() -> None:
    store_due = datetime(2026, 3, 10, 17, 0).astimezone()
    from agent.scheduling import Reminder

    late = Reminder(1, "reminder", "call mom", store_due, store_due, "fired", None,
                    store_due + timedelta(minutes=40), True)
    assert alert_for(late).message == "Late reminder (due 5:00 PM): call mom"
    assert alert_for(late).severity == "warning"
    timer = Reminder(2, "timer", "pasta", store_due, store_due, "fired", 300, store_due, False)
    assert (alert_for(timer).title, alert_for(timer).message) == ("Timer", "Your 5 minute timer is done: pasta")


@pytest.mark.clock
def test_reminders_cli_lists_and_cancels(services: Services) -> None:
    store = ReminderStore(services.paths.data / DB_NAME)
    with_job = AgentScheduler(services.paths)
    with_job.start(paused=True)
    try:
        first = with_job.add("reminder", "water the plants", datetime.now().astimezone() + timedelta(hours=1))
    finally:
        with_job.stop()
    second = store.add("timer", "", datetime.now().astimezone() + timedelta(minutes=5), seconds=300)

    listed = run_cli("reminders", "--json", timeout=60)
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(r["id"], r["kind"], r["status"]) for r in rows] == [(second.id, "timer", "pending"),
                                                                   (first.id, "reminder", "pending")]
    plain = run_cli("reminders", "list", timeout=60)
    assert "5 minute timer" in plain.stdout
    assert "water the plants" in plain.stdout

    cancelled = run_cli("reminders", "cancel", str(first.id), timeout=60)
    assert cancelled.returncode == 0, cancelled.stderr
    assert cancelled.stdout.strip() == f"cancelled reminder {first.id}"
    assert job_ids(services) == set()
    again = run_cli("reminders", "cancel", str(first.id), timeout=60)
    assert again.returncode == 2
    assert "already cancelled" in again.stderr
    everything = json.loads(run_cli("reminders", "--all", "--json", timeout=60).stdout)
    assert {r["id"]: r["status"] for r in everything} == {first.id: "cancelled", second.id: "pending"}


def test_an_unusable_database_leaves_the_agent_running_without_reminders(services: Services,
                                                                         alerts: list[Alert]) -> None:
    (services.paths.data / DB_NAME).mkdir()  # a directory where the database file should be
    with pytest.raises(Unavailable):
        start_scheduler(services)
    assert services.scheduler is None
    assert [(a.title, a.severity) for a in alerts] == [("Reminders", "warning")]
    assert "Timers and reminders are off" in alerts[0].message
