"""Timers and reminders on one persistent APScheduler per process (see `scheduler` for the design)."""

from agent.scheduling.reminders import (
    LATE_AFTER_S,
    Reminder,
    ReminderError,
    ReminderStore,
    alert_for,
    format_clock,
    format_duration,
    parse_when,
)
from agent.scheduling.scheduler import (
    DB_NAME,
    POLL_S,
    AgentScheduler,
    cancel_reminder,
    list_reminders,
    open_scheduler,
    start_scheduler,
)

__all__ = [
    "DB_NAME",
    "LATE_AFTER_S",
    "POLL_S",
    "AgentScheduler",
    "Reminder",
    "ReminderError",
    "ReminderStore",
    "alert_for",
    "cancel_reminder",
    "format_clock",
    "format_duration",
    "list_reminders",
    "open_scheduler",
    "parse_when",
    "start_scheduler",
]
