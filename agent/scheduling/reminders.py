"""Reminders and timers: the model, their SQLite table, parsing "when", and the words a firing says.

The `reminders` table is the source of truth: a row is written before its scheduler job, listing works
without a scheduler, and a row leaves `pending` exactly once (`claim` or `cancel`, each one atomic
UPDATE), so a reminder fires once even if two schedulers or a start-up sweep race for it.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
import time as _time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal, NoReturn

from agent.errors import SkillError
from agent.events import Alert
from agent.logs import said
from agent.store import faults
from agent.values import parse_duration
from agent.values import parse_when as spoken_when

__all__ = [
    "LATE_AFTER_S",
    "Kind",
    "Reminder",
    "ReminderError",
    "ReminderStore",
    "alert_for",
    "format_clock",
    "format_duration",
    "parse_when",
]

_LOGGER = logging.getLogger(__name__)

Kind = Literal["timer", "reminder"]
Status = Literal["pending", "fired", "cancelled"]

LATE_AFTER_S = 60.0
"""A reminder that fires more than this many seconds after its due time says it is late."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reminders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('timer', 'reminder')),
    text TEXT NOT NULL,
    seconds INTEGER,
    due REAL NOT NULL,
    created REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'fired', 'cancelled')),
    fired_at REAL,
    late INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS reminders_pending ON reminders (status, due);
"""


class ReminderError(SkillError):
    """A reminder could not be parsed, found or changed; the message is what to tell the user."""

    def __init__(self, message: str, *, skill: str = "reminder.add") -> None:
        super().__init__(message, skill=skill)


@dataclass(frozen=True)
class Reminder:
    """One row. `text`: the reminder's words, or a timer's label (may be empty); `seconds`: a timer's length."""

    id: int
    kind: Kind
    text: str
    due: datetime  # aware, local time
    created: datetime
    status: Status = "pending"
    seconds: int | None = None
    fired_at: datetime | None = None
    late: bool = False
    paused_left: float | None = None  # a paused timer: the seconds it had left when paused

    @property
    def name(self) -> str:
        """How a reply names it: "pizza timer", "10 minute timer", "reminder call mom"."""
        if self.kind == "timer":
            return f"{self.text} timer" if self.text else f"{format_duration(self.seconds or 0, adjective=True)} timer"
        return f"reminder {self.text}"

    @property
    def paused(self) -> bool:
        return self.paused_left is not None

    def remaining(self, now: datetime | None = None) -> float:
        """Seconds left: frozen while paused, else until `due` (never negative)."""
        if self.paused_left is not None:
            return max(0.0, self.paused_left)
        now = now or datetime.now().astimezone()
        return max(0.0, (self.due - now).total_seconds())

    @property
    def job_id(self) -> str:
        return f"{self.kind}-{self.id}"

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "text": self.text, "seconds": self.seconds,
                "due": self.due.isoformat(timespec="seconds"), "status": self.status, "late": self.late,
                "created": self.created.isoformat(timespec="seconds"),
                "fired_at": self.fired_at.isoformat(timespec="seconds") if self.fired_at else None,
                "paused": self.paused, "remaining_s": round(self.remaining(), 1) if self.status == "pending" else None}

    def describe(self, now: datetime | None = None) -> str:
        """One line for `agent reminders list`."""
        what = self.text or ""
        if self.kind == "timer":
            what = f"{format_duration(self.seconds or 0, adjective=True)} timer"
            what += f": {self.text}" if self.text else ""
        return f"{self.id:>4}  {self.kind:<8}  {self.status:<9}  {format_clock(self.due, now):<28}  {what}"


def _raise_store_error(path: Path, exc: BaseException) -> NoReturn:
    err = faults.classify(path, exc)
    if err is None:
        raise exc
    raise faults.report(err) from exc


def _local(ts: float) -> datetime:
    return datetime.fromtimestamp(ts).astimezone()


def _row(r: sqlite3.Row) -> Reminder:
    return Reminder(r["id"], r["kind"], r["text"], _local(r["due"]), _local(r["created"]), r["status"],
                    r["seconds"], _local(r["fired_at"]) if r["fired_at"] is not None else None, bool(r["late"]),
                    r["paused_left"])


class ReminderStore:
    """The `reminders` table in `path` (WAL). One short connection per call: safe from any thread or process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.is_file() and faults.disk_full(path.parent):
            return  # a full disk: the table is there and is read read-only; writes say the disk is full
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
            columns = {row["name"] for row in conn.execute("PRAGMA table_info(reminders)")}
            if "paused_left" not in columns:  # added with pause/resume; older files gain it in place
                conn.execute("ALTER TABLE reminders ADD COLUMN paused_left REAL")

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """One transaction on a short connection; a damaged file or a full disk raises `StoreError`."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=10)
        except (sqlite3.Error, OSError) as exc:
            _raise_store_error(self.path, exc)
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA synchronous=FULL")  # a committed reminder survives a power cut
            with conn:  # one transaction: commit, or roll back on error
                yield conn
        except (sqlite3.Error, OSError) as exc:
            _raise_store_error(self.path, exc)
        finally:
            conn.close()

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """A connection for reads: the usual one, or on a full disk a read-only one (a WAL database needs space
        for its -shm file even to be read; read-only, else as an immutable file, it needs none)."""
        if not (self.path.is_file() and faults.disk_full(self.path.parent)):
            with self._connect() as usual:
                yield usual
            return
        conn: sqlite3.Connection | None = None
        for mode in ("mode=ro", "immutable=1"):
            try:
                conn = sqlite3.connect(f"{self.path.as_uri()}?{mode}", uri=True, timeout=10)
                conn.execute("SELECT count(*) FROM reminders").fetchone()
                break
            except sqlite3.Error:
                if conn is not None:
                    conn.close()
                conn = None
        if conn is None:
            raise faults.report(faults.full_error(self.path))
        reader: sqlite3.Connection = conn
        try:
            reader.row_factory = sqlite3.Row
            yield reader
        except sqlite3.Error as exc:
            _raise_store_error(self.path, exc)
        finally:
            reader.close()

    def add(self, kind: Kind, text: str, due: datetime, *, seconds: int | None = None) -> Reminder:
        with self._connect() as conn:
            cur = conn.execute("INSERT INTO reminders (kind, text, seconds, due, created) VALUES (?, ?, ?, ?, ?)",
                               (kind, text, seconds, due.timestamp(), _time.time()))
            row = conn.execute("SELECT * FROM reminders WHERE id = ?", (cur.lastrowid,)).fetchone()
        reminder = _row(row)
        _LOGGER.info("%s %d stored, due %s: %s", kind, reminder.id, reminder.due.isoformat(), said(text))
        return reminder

    def get(self, reminder_id: int) -> Reminder | None:
        with self._reading() as conn:
            row = conn.execute("SELECT * FROM reminders WHERE id = ?", (reminder_id,)).fetchone()
        return _row(row) if row else None

    def fetch(self, *, include_done: bool = False) -> list[Reminder]:
        """Pending reminders by due time (all of them, newest last, with `include_done`)."""
        where = "" if include_done else "WHERE status = 'pending'"
        with self._reading() as conn:
            rows = conn.execute(f"SELECT * FROM reminders {where} ORDER BY due, id").fetchall()  # noqa: S608
        return [_row(r) for r in rows]

    def claim(self, reminder_id: int, now: datetime | None = None) -> Reminder | None:
        """Mark a pending reminder fired and return it; None if it is not pending (fired, cancelled, unknown)."""
        now = now or datetime.now().astimezone()
        with self._connect() as conn:
            row = conn.execute("SELECT due FROM reminders WHERE id = ? AND status = 'pending' "
                               "AND paused_left IS NULL", (reminder_id,)).fetchone()
            if row is None:
                return None
            late = now.timestamp() - row["due"] > LATE_AFTER_S
            cur = conn.execute("UPDATE reminders SET status = 'fired', fired_at = ?, late = ? "
                               "WHERE id = ? AND status = 'pending'", (now.timestamp(), int(late), reminder_id))
            if cur.rowcount != 1:
                return None
            fired = conn.execute("SELECT * FROM reminders WHERE id = ?", (reminder_id,)).fetchone()
        return _row(fired)

    def _pending(self, conn: sqlite3.Connection, reminder_id: int) -> Reminder:
        row = conn.execute("SELECT * FROM reminders WHERE id = ?", (reminder_id,)).fetchone()
        if row is None:
            raise ReminderError(f"there is no timer {reminder_id}", skill="timer")
        reminder = _row(row)
        if reminder.status != "pending":
            raise ReminderError(f"{reminder.kind} {reminder_id} is already {reminder.status}", skill="timer")
        return reminder

    def pause(self, reminder_id: int, now: datetime) -> Reminder:
        """Freeze a pending timer with the time it has left (a paused timer survives restarts paused)."""
        with self._connect() as conn:
            reminder = self._pending(conn, reminder_id)
            if reminder.paused:
                raise ReminderError(f"the {reminder.name} is already paused", skill="timer.pause")
            left = max(0.0, reminder.due.timestamp() - now.timestamp())
            conn.execute("UPDATE reminders SET paused_left = ? WHERE id = ?", (left, reminder_id))
            row = conn.execute("SELECT * FROM reminders WHERE id = ?", (reminder_id,)).fetchone()
        return _row(row)

    def resume(self, reminder_id: int, now: datetime) -> Reminder:
        """Run a paused timer again: due = now + what it had left."""
        with self._connect() as conn:
            reminder = self._pending(conn, reminder_id)
            if not reminder.paused:
                raise ReminderError(f"the {reminder.name} isn't paused", skill="timer.resume")
            conn.execute("UPDATE reminders SET due = ?, paused_left = NULL WHERE id = ?",
                         (now.timestamp() + (reminder.paused_left or 0.0), reminder_id))
            row = conn.execute("SELECT * FROM reminders WHERE id = ?", (reminder_id,)).fetchone()
        return _row(row)

    def adjust(self, reminder_id: int, seconds: float, now: datetime) -> Reminder:
        """Add `seconds` to a pending timer (negative: take off, down to zero left)."""
        with self._connect() as conn:
            reminder = self._pending(conn, reminder_id)
            if reminder.paused:
                left = max(0.0, (reminder.paused_left or 0.0) + seconds)
                conn.execute("UPDATE reminders SET paused_left = ? WHERE id = ?", (left, reminder_id))
            else:
                due = max(now.timestamp(), reminder.due.timestamp() + seconds)
                conn.execute("UPDATE reminders SET due = ? WHERE id = ?", (due, reminder_id))
            row = conn.execute("SELECT * FROM reminders WHERE id = ?", (reminder_id,)).fetchone()
        return _row(row)

    def cancel(self, reminder_id: int) -> Reminder:
        """Cancel a pending reminder; `ReminderError` says why not when it is unknown or no longer pending."""
        with self._connect() as conn:
            cur = conn.execute("UPDATE reminders SET status = 'cancelled' WHERE id = ? AND status = 'pending'",
                               (reminder_id,))
            row = conn.execute("SELECT * FROM reminders WHERE id = ?", (reminder_id,)).fetchone()
        if row is None:
            raise ReminderError(f"there is no reminder or timer {reminder_id}", skill="reminders")
        reminder = _row(row)
        if cur.rowcount != 1:
            raise ReminderError(f"{reminder.kind} {reminder_id} is already {reminder.status}", skill="reminders")
        _LOGGER.info("%s %d cancelled", reminder.kind, reminder_id)
        return reminder


# --- words ---------------------------------------------------------------------------------------------------

def format_duration(seconds: float, *, adjective: bool = False) -> str:
    """300 → "5 minutes", 90 → "90 seconds", 5400 → "1 hour and 30 minutes"; `adjective`: "5 minute"."""
    total = int(round(seconds))
    if total >= 120:
        total = int(round(total / 60)) * 60 if total < 3 * 3600 else total
    parts: list[tuple[int, str]]
    if total < 120 and total != 60:
        parts = [(total, "second")]
    else:
        hours, rest = divmod(total, 3600)
        minutes, secs = divmod(rest, 60)
        parts = [(n, unit) for n, unit in ((hours, "hour"), (minutes, "minute"), (secs, "second")) if n]
    words = [f"{n} {unit}" + ("" if n == 1 or adjective else "s") for n, unit in parts]
    return " and ".join(words) if len(words) < 3 else f"{words[0]}, {words[1]} and {words[2]}"


def format_clock(when: datetime, now: datetime | None = None) -> str:
    """ "5:00 PM today", "9:00 AM tomorrow", "9:00 AM on Friday", "9:00 AM on Monday, December 7"."""
    now = now or datetime.now().astimezone()
    local = when.astimezone(now.tzinfo)
    clock = f"{local.strftime('%I').lstrip('0') or '12'}:{local:%M} {local:%p}"
    days = (local.date() - now.date()).days
    if days == 0:
        return f"{clock} today"
    if days == 1:
        return f"{clock} tomorrow"
    if days == -1:
        return f"{clock} yesterday"
    if 1 < days < 7:
        return f"{clock} on {local:%A}"
    return f"{clock} on {local:%A}, {local:%B} {local.day}" + (f", {local.year}" if local.year != now.year else "")


def alert_for(reminder: Reminder) -> Alert:
    """The `Alert` a firing publishes: title "Reminder" or "Timer"; a late one says when it was due."""
    title = "Timer" if reminder.kind == "timer" else "Reminder"
    if reminder.kind == "timer":
        what = f"your {format_duration(reminder.seconds or 0, adjective=True)} timer is done"
        what += f": {reminder.text}" if reminder.text else ""
    else:
        what = reminder.text
    if reminder.late:
        due = format_clock(reminder.due, reminder.fired_at)
        due = due.removesuffix(" today")
        message = f"Late {title.lower()} (due {due}): {what}"
    else:
        message = what[:1].upper() + what[1:] if reminder.kind == "timer" else what
    severity = "warning" if reminder.late else "info"
    return Alert(title, message, severity, source=f"{reminder.kind}:{reminder.id}")


# --- "when" ------------------------------------------------------------------------------------------------



def parse_when(when: str, now: datetime | None = None) -> datetime:
    """An aware local datetime from the router's ISO 8601 value, or defensively from a relative form.

    Accepts "2026-11-21T17:00:00+01:00", a naive "2026-11-21T17:00" (local), "17:00" (today),
    "2026-11-22" (9 AM that day), "+20m", "20 minutes", "in 20 minutes", "at 5pm", "tomorrow at 9".
    Raises `ReminderError` when it reads none of these. Past times are returned as they are.
    """
    now = now or datetime.now().astimezone()
    s = when.strip()
    for parse in (_iso_datetime, _iso_time, _iso_date):
        found = parse(s, now)
        if found is not None:
            return found
    low = s.lower()
    seconds = parse_duration(low.removeprefix("in ").lstrip("+ "), whole=True)
    if seconds:
        return now + timedelta(seconds=seconds)
    spoken = spoken_when(low, now)
    if spoken is not None:
        return spoken[0].astimezone()
    raise ReminderError(f"I couldn't read '{when}' as a time", skill="reminder.add")


def _iso_datetime(s: str, now: datetime) -> datetime | None:
    if "T" not in s and " " not in s.strip():
        return None
    try:
        value = datetime.fromisoformat(s.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return value.astimezone() if value.tzinfo is None else value.astimezone(now.tzinfo)


def _iso_time(s: str, now: datetime) -> datetime | None:
    if not re.fullmatch(r"\d{1,2}:\d{2}(?::\d{2})?", s):
        return None
    try:
        clock = time.fromisoformat(s if len(s.split(":")[0]) == 2 else f"0{s}")
    except ValueError:
        return None
    return datetime.combine(now.date(), clock).astimezone()


def _iso_date(s: str, now: datetime) -> datetime | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
        return None
    try:
        day = date.fromisoformat(s)
    except ValueError:
        return None
    return datetime.combine(day, time(9, 0)).astimezone()
