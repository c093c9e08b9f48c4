"""One APScheduler 3.x `BackgroundScheduler` per process, its jobs persisted in `<data>/scheduler.sqlite`.

The same file holds APScheduler's `apscheduler_jobs` table (through its `SQLAlchemyJobStore`) and our
`reminders` table (`reminders.ReminderStore`, the source of truth). The resident process (`agent run`)
calls `start_scheduler(services)`: it starts paused, re-adds a job for every pending row that lost its job
(`sweep`), then resumes, so reminders that fell due while nothing ran fire once, late, at start.
A short-lived process (`agent ask`) only writes: `open_scheduler` starts a paused scheduler, stores the
row and the job, and shuts down; the resident scheduler looks at the store at least every `POLL_S`
seconds, so it sees that job, and it wakes promptly after the machine slept (a sleeping machine does not
advance the monotonic clock that a plain `Event.wait` counts).

Firing publishes an `Alert` on the bus. A row leaves `pending` in one atomic UPDATE, so a reminder fires
exactly once however many schedulers or sweeps race for it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING, STATE_STOPPED

from agent.components import Stop, Unavailable
from agent.errors import StoreError
from agent.events import Alert
from agent.logs import said
from agent.paths import Paths
from agent.scheduling.reminders import Kind, Reminder, ReminderStore, alert_for

if TYPE_CHECKING:
    from agent.bus import Bus
    from agent.services import Services

__all__ = [
    "DB_NAME",
    "POLL_S",
    "AgentScheduler",
    "cancel_reminder",
    "list_reminders",
    "open_scheduler",
    "start_scheduler",
]

_LOGGER = logging.getLogger(__name__)

DB_NAME = "scheduler.sqlite"
POLL_S = 2.0
"""The resident scheduler looks at its job store at least this often (jobs from other processes, wake-up)."""

_JOB_FUNC = "agent.scheduling.scheduler:_run_job"

_active: AgentScheduler | None = None  # the running (unpaused) scheduler of this process, which jobs fire on
_active_lock = threading.Lock()


class _PollingScheduler(BackgroundScheduler):  # type: ignore[misc]
    """A `BackgroundScheduler` that never waits longer than `POLL_S` between looks at its job stores.

    It also closes a race of the stock one: its thread takes one more look at the stores after
    `shutdown` has closed the executor (submitting a due job then fails). Here a look only runs while the
    scheduler is running, and `shutdown` first pauses it under the same lock.
    """

    def __init__(self, **options: Any) -> None:
        self._turn = threading.Lock()
        super().__init__(**options)

    def _process_jobs(self) -> float | None:
        with self._turn:
            if self.state != STATE_RUNNING:
                return None  # paused: `resume` wakes the thread; stopped: the loop ends
            wait: float | None = super()._process_jobs()
        return POLL_S if wait is None else min(wait, POLL_S)

    def shutdown(self, wait: bool = True) -> None:
        with self._turn:  # no look is in progress, and none starts after the pause
            if self.state == STATE_RUNNING:
                self.pause()
        super().shutdown(wait)


class AgentScheduler:
    """The scheduler of one process, the reminders table, and what a firing does."""

    def __init__(self, paths: Paths, bus: Bus | None = None) -> None:
        self.path = paths.data / DB_NAME
        self.store = ReminderStore(self.path)  # creates the file in WAL mode before the job store opens it
        self.bus = bus
        store = SQLAlchemyJobStore(url=f"sqlite:///{self.path}", engine_options={"connect_args": {"timeout": 10}})
        self._scheduler = _PollingScheduler(
            jobstores={"default": store},
            executors={"default": {"type": "threadpool", "max_workers": 2}},
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
        )

    @property
    def running(self) -> bool:
        """Started and firing jobs (not paused, not stopped)."""
        return bool(self._scheduler.state == STATE_RUNNING)

    def start(self, *, paused: bool = False) -> None:
        """Start; unless `paused`, first re-add lost jobs, then fire what is due (late ones say so)."""
        global _active
        self._scheduler.start(paused=True)
        if paused:
            return
        self.sweep()
        with _active_lock:
            _active = self
        self._scheduler.resume()
        _LOGGER.info("scheduler started (%s)", self.path)

    def stop(self) -> None:
        """Shut down: wait for a firing in progress, close the job store. Safe to call twice."""
        global _active
        if self._scheduler.state != STATE_STOPPED:
            self._scheduler.shutdown(wait=True)  # a firing already submitted completes first
            _LOGGER.debug("scheduler stopped")
        with _active_lock:
            if _active is self:
                _active = None

    def add(self, kind: Kind, text: str, due: datetime, *, seconds: int | None = None) -> Reminder:
        """Store the row, then its job. The row alone is enough: a later start re-adds a lost job."""
        reminder = self.store.add(kind, text, due, seconds=seconds)
        self._schedule(reminder)
        return reminder

    def cancel(self, reminder_id: int) -> Reminder:
        """Cancel a pending reminder or timer (`ReminderError` if unknown or already done) and drop its job."""
        reminder = self.store.cancel(reminder_id)
        with contextlib.suppress(JobLookupError):
            self._scheduler.remove_job(reminder.job_id)
        return reminder

    def pause(self, reminder_id: int, now: datetime | None = None) -> Reminder:
        """Pause a pending timer: its row keeps the time left, its job goes."""
        reminder = self.store.pause(reminder_id, now or datetime.now().astimezone())
        with contextlib.suppress(JobLookupError):
            self._scheduler.remove_job(reminder.job_id)
        return reminder

    def resume(self, reminder_id: int, now: datetime | None = None) -> Reminder:
        """Resume a paused timer with the time it had left."""
        reminder = self.store.resume(reminder_id, now or datetime.now().astimezone())
        self._schedule(reminder)
        return reminder

    def adjust(self, reminder_id: int, seconds: float, now: datetime | None = None) -> Reminder:
        """Add (or with a negative number take off) time on a pending timer; a running one is rescheduled."""
        reminder = self.store.adjust(reminder_id, seconds, now or datetime.now().astimezone())
        if not reminder.paused:
            self._schedule(reminder)
        return reminder

    def sweep(self) -> int:
        """Give every pending row a job again if it has none (a due one then fires, late); return how many."""
        restored = 0
        for reminder in self.store.fetch():
            if reminder.paused:
                continue
            if self._scheduler.get_job(reminder.job_id) is None:
                _LOGGER.warning("%s %d had no scheduler job; restoring it", reminder.kind, reminder.id)
                self._schedule(reminder)
                restored += 1
        return restored

    def fire(self, reminder_id: int) -> Alert | None:
        """Claim the row and publish its `Alert`; None when it is no longer pending (cancelled, fired)."""
        reminder = self.store.claim(reminder_id)
        if reminder is None:
            _LOGGER.info("reminder %d is not pending any more; not firing it", reminder_id)
            return None
        alert = alert_for(reminder)
        _LOGGER.info("%s %d fired: %s", reminder.kind, reminder.id, said(alert.message))
        if self.bus is not None:
            self.bus.publish(alert)
        return alert

    def _schedule(self, reminder: Reminder) -> None:
        self._scheduler.add_job(_JOB_FUNC, "date", run_date=reminder.due, args=(reminder.id,), id=reminder.job_id,
                                name=f"{reminder.kind} {reminder.id}", replace_existing=True)


def _run_job(reminder_id: int) -> None:
    """The job every reminder runs (referenced by name in the job store, so it survives restarts)."""
    with _active_lock:
        scheduler = _active
    if scheduler is None:  # the scheduler is shutting down; the row stays pending and the next start fires it
        _LOGGER.warning("reminder %d fell due with no running scheduler; it will fire at the next start",
                        reminder_id)
        return
    scheduler.fire(reminder_id)


def start_scheduler(services: Services) -> Stop:
    """Component start: run this process's resident scheduler as `services.scheduler`; returns its stop.

    If it cannot start (an unreadable database, say), this logs why, publishes a warning `Alert` and raises
    `Unavailable`: the agent runs on, reminders stay stored and fire at the next successful start.
    """
    scheduler: AgentScheduler | None = None
    try:
        scheduler = AgentScheduler(services.paths, services.bus)
        scheduler.start()
    except Exception as exc:
        if isinstance(exc, StoreError):  # already logged once, with the file and the fix
            _LOGGER.warning("timers and reminders are off: %s", exc)
        else:
            _LOGGER.exception("timers and reminders are off: the scheduler did not start")
        if scheduler is not None:
            with contextlib.suppress(Exception):
                scheduler.stop()
        services.bus.publish(Alert("Reminders", f"Timers and reminders are off: {exc}", "warning", "scheduler"))
        raise Unavailable(str(exc)) from exc
    services.scheduler = running = scheduler

    def stop() -> None:
        if services.scheduler is running:
            services.scheduler = None
        running.stop()

    return stop


@contextlib.contextmanager
def open_scheduler(paths: Paths, resident: AgentScheduler | None = None) -> Iterator[AgentScheduler]:
    """`resident` (the running scheduler, `services.scheduler`) when there is one; else a paused scheduler, just
    to write jobs, then closed."""
    if resident is not None and resident.running:
        yield resident
        return
    scheduler = AgentScheduler(paths)
    scheduler.start(paused=True)
    try:
        yield scheduler
    finally:
        scheduler.stop()


def list_reminders(paths: Paths, *, include_done: bool = False) -> list[Reminder]:
    """Pending reminders and timers (or all of them); reads the table only, no scheduler needed."""
    return ReminderStore(paths.data / DB_NAME).fetch(include_done=include_done)


def cancel_reminder(paths: Paths, reminder_id: int, resident: AgentScheduler | None = None) -> Reminder:
    """Cancel reminder or timer `reminder_id`; raises `ReminderError` if it is unknown or no longer pending."""
    with open_scheduler(paths, resident) as scheduler:
        return scheduler.cancel(reminder_id)
