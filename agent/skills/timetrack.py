"""Time tracking: `timetrack.start/stop/pause/resume/report` on one SQLite file (`timetrack.db`).

One entry runs at a time (a partial unique index makes two impossible); starting a project stops the running
one in the same transaction. Pause closes the running entry and remembers its project; resume starts a new
entry on it, so the paused minutes are simply not tracked and nothing already tracked is lost.

Idle time: an injectable provider gives the seconds since the last keyboard/mouse input, or None when unknown.
The default reads the X11 display's idle time (`agent.idle`); elsewhere (no display, Wayland) there is no idle
exclusion and `data["idle_detection"]` says why.
When an entry closes (or the resident agent calls `sample_idle`) and the provider reports more than
`IDLE_THRESHOLD_S` of idle time, that gap is recorded and not counted.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import Field

from agent.events import ResultState, SkillResult
from agent.idle import IdleReader, idle_reader
from agent.skills.base import Args, NoArgs, PerAgent, PeriodArgs, Register, Skill, SkillContext
from agent.skills.extractors import extract_period
from agent.skills.periods import PERIOD_WORDS, period_bounds
from agent.store.sqlite import Database
from agent.values import to_digits

__all__ = ["DB_NAME", "IDLE_THRESHOLD_S", "Entry", "IdleProvider", "ProjectTime", "TimeStore", "idle_provider",
           "register", "report_csv", "sample_idle", "spoken_duration"]

_LOGGER = logging.getLogger(__name__)

DB_NAME = "timetrack.db"
IDLE_THRESHOLD_S = 300.0
IdleProvider = IdleReader

MIGRATIONS = (
    """
    CREATE TABLE entries (id INTEGER PRIMARY KEY, project TEXT NOT NULL CHECK (length(project) > 0),
                          started REAL NOT NULL, ended REAL, CHECK (ended IS NULL OR ended >= started));
    CREATE UNIQUE INDEX entries_one_running ON entries((ended IS NULL)) WHERE ended IS NULL;
    CREATE INDEX entries_started ON entries(started);
    CREATE TABLE idle_gaps (id INTEGER PRIMARY KEY,
                            entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
                            started REAL NOT NULL, ended REAL NOT NULL, source TEXT NOT NULL,
                            CHECK (ended > started));
    CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
)


class ProjectArgs(Args):
    project: str = Field(min_length=1, max_length=200)


@dataclass(frozen=True)
class Entry:
    id: int
    project: str
    started: float
    ended: float | None
    gaps: tuple[tuple[float, float], ...] = ()

    def seconds(self, lo: float, hi: float, now: float) -> tuple[float, float]:
        """(tracked seconds, idle seconds excluded) inside [lo, hi)."""
        end = min(self.ended if self.ended is not None else now, hi)
        start = max(self.started, lo)
        if end <= start:
            return 0.0, 0.0
        idle = sum(max(0.0, min(g1, end) - max(g0, start)) for g0, g1 in self.gaps)
        return end - start - idle, idle

    def to_json(self, now: float | None = None) -> dict[str, Any]:
        now = time.time() if now is None else now
        tracked, idle = self.seconds(self.started, float("inf"), now)
        return {"id": self.id, "project": self.project, "start": _iso(self.started),
                "end": _iso(self.ended) if self.ended is not None else None, "running": self.ended is None,
                "seconds": round(tracked), "idle_seconds_excluded": round(idle)}


@dataclass
class ProjectTime:
    project: str
    seconds: float = 0.0
    idle_seconds: float = 0.0
    entries: list[int] = field(default_factory=list)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts).isoformat(timespec="seconds")


def spoken_duration(seconds: float) -> str:
    """3120 → "52 min", 4320 → "1 h 12 min", 7200 → "2 h", 20 → "less than a minute"."""
    if seconds < 60:
        return "less than a minute"
    hours, minutes = divmod(round(seconds / 60), 60)
    return " ".join(p for p in (f"{hours} h" if hours else "", f"{minutes} min" if minutes else "") if p)


class TimeStore:
    """The time-tracking database; every change is one committed transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = Database.open(path, MIGRATIONS)

    def _entries(self, where: str, params: tuple[Any, ...]) -> list[Entry]:
        rows = self.db.query(f"SELECT id, project, started, ended FROM entries WHERE {where} ORDER BY started", params)
        gaps: dict[int, list[tuple[float, float]]] = {}
        if rows:
            ids = [int(r["id"]) for r in rows]
            marks = ",".join("?" * len(ids))
            for g in self.db.query(f"SELECT entry_id, started, ended FROM idle_gaps WHERE entry_id IN ({marks}) "
                                   "ORDER BY started", ids):
                gaps.setdefault(int(g["entry_id"]), []).append((float(g["started"]), float(g["ended"])))
        return [Entry(int(r["id"]), str(r["project"]), float(r["started"]),
                      None if r["ended"] is None else float(r["ended"]), tuple(gaps.get(int(r["id"]), ())))
                for r in rows]

    def running(self) -> Entry | None:
        found = self._entries("ended IS NULL", ())
        return found[0] if found else None

    def last(self) -> Entry | None:
        rows = self.db.query("SELECT id FROM entries ORDER BY started DESC, id DESC LIMIT 1")
        return self._entries("id = ?", (rows[0][0],))[0] if rows else None

    def between(self, lo: float, hi: float, now: float) -> list[Entry]:
        return self._entries("started < ? AND coalesce(ended, ?) > ?", (hi, now, lo))

    def paused(self) -> str | None:
        rows = self.db.query("SELECT value FROM state WHERE key = 'paused'")
        return str(rows[0][0]) if rows else None

    def spelling(self, project: str) -> str:
        """The spelling already in use for `project` (case-insensitive), else `project`."""
        rows = self.db.query("SELECT project FROM entries WHERE lower(project) = lower(?) LIMIT 1", (project,))
        return str(rows[0][0]) if rows else project

    def start(self, project: str, now: float | None = None, idle_s: float | None = None,
              source: str = "") -> tuple[Entry, Entry | None]:
        """Start `project`; the running entry (if any) stops first, in the same transaction."""
        now = time.time() if now is None else now
        with self.db.transaction():
            stopped = self._close(now, idle_s, source)
            cur = self.db.conn.execute("INSERT INTO entries(project, started) VALUES (?, ?)", (project, now))
            self.db.conn.execute("DELETE FROM state WHERE key = 'paused'")
        return Entry(int(cur.lastrowid or 0), project, now, None), stopped

    def stop(self, now: float | None = None, idle_s: float | None = None, source: str = "", *,
             pause: bool = False) -> Entry | None:
        """Stop the running entry (None if none). `pause` remembers its project for `resume`."""
        now = time.time() if now is None else now
        with self.db.transaction():
            stopped = self._close(now, idle_s, source)
            if stopped is not None and pause:
                self.db.conn.execute("INSERT OR REPLACE INTO state(key, value) VALUES ('paused', ?)",
                                     (stopped.project,))
            elif not pause:
                self.db.conn.execute("DELETE FROM state WHERE key = 'paused'")
        return stopped

    def _close(self, now: float, idle_s: float | None, source: str) -> Entry | None:
        running = self.running()
        if running is None:
            return None
        end = max(now, running.started)
        if idle_s is not None and idle_s >= IDLE_THRESHOLD_S:
            self._add_gap(running, max(running.started, end - idle_s), end, source)
        self.db.conn.execute("UPDATE entries SET ended = ? WHERE id = ?", (end, running.id))
        return self._entries("id = ?", (running.id,))[0]

    def record_idle(self, idle_s: float, now: float | None = None, source: str = "") -> bool:
        """Record that the user has been idle `idle_s` seconds up to `now` (when over the threshold)."""
        now = time.time() if now is None else now
        with self.db.transaction():
            running = self.running()
            if running is None or idle_s < IDLE_THRESHOLD_S or now <= running.started:
                return False
            self._add_gap(running, max(running.started, now - idle_s), now, source)
        return True

    def _add_gap(self, entry: Entry, start: float, end: float, source: str) -> None:
        if end <= start:
            return
        conn = self.db.conn
        row = conn.execute("SELECT id, started, ended FROM idle_gaps WHERE entry_id = ? AND ended >= ? "
                           "AND started <= ? ORDER BY started LIMIT 1", (entry.id, start - 1, end + 1)).fetchone()
        if row is None:
            conn.execute("INSERT INTO idle_gaps(entry_id, started, ended, source) VALUES (?, ?, ?, ?)",
                         (entry.id, start, end, source))
        else:
            conn.execute("UPDATE idle_gaps SET started = ?, ended = ? WHERE id = ?",
                         (min(start, row["started"]), max(end, row["ended"]), row["id"]))

    def report(self, period: str, now: float | None = None) -> tuple[list[ProjectTime], list[Entry], float, float]:
        """(per-project time sorted by time, the entries, period start, period end)."""
        now = time.time() if now is None else now
        lo, hi = period_bounds(period, now)
        entries = self.between(lo, hi, now)
        totals: dict[str, ProjectTime] = {}
        for entry in entries:
            tracked, idle = entry.seconds(lo, hi, now)
            pt = totals.setdefault(entry.project.lower(), ProjectTime(entry.project))
            pt.seconds += tracked
            pt.idle_seconds += idle
            pt.entries.append(entry.id)
        return sorted(totals.values(), key=lambda p: -p.seconds), entries, lo, hi


def report_csv(store: TimeStore, period: str, now: float | None = None) -> str:
    """The entries of `period` as CSV; `seconds_in_period` is clipped to the period, idle time excluded."""
    now = time.time() if now is None else now
    _, entries, lo, hi = store.report(period, now)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["entry_id", "project", "start", "end", "seconds_in_period", "idle_seconds_excluded", "running"])
    for e in entries:
        tracked, idle = e.seconds(lo, hi, now)
        writer.writerow([e.id, e.project, _iso(e.started), "" if e.ended is None else _iso(e.ended),
                         round(tracked), round(idle), "yes" if e.ended is None else "no"])
    return out.getvalue()


# -- idle time -------------------------------------------------------------------------------------------
def idle_provider(env: dict[str, str] | None = None) -> tuple[IdleProvider | None, str]:
    """The desktop's idle time (`agent.idle`), or (None, why there is no idle detection here)."""
    reader, how = idle_reader(env)
    return (reader, how) if reader is not None else (None, f"{how}: idle time is not excluded")


def _provider(ctx: SkillContext) -> tuple[IdleProvider | None, str]:
    """A provider injected as `services["timetrack.idle_provider"]` (tests, other desktops), else the default."""
    injected = ctx.services.idle
    return (injected, "injected provider") if injected is not None else idle_provider()


def _idle(ctx: SkillContext) -> tuple[float | None, str]:
    """(idle seconds or None, how idle time is detected)."""
    provider, how = _provider(ctx)
    if provider is None:
        return None, how
    try:
        return provider(), how
    except Exception:
        _LOGGER.exception("idle provider failed")
        return None, f"{how} failed: idle time is not excluded"


def sample_idle(ctx: SkillContext) -> bool:
    """For the resident agent to call every minute or so: record an idle gap in the running entry."""
    idle, how = _idle(ctx)
    return idle is not None and _store(ctx).record_idle(idle, _now(ctx), source=how)


# -- skills ----------------------------------------------------------------------------------------------
_STORE: PerAgent[TimeStore] = PerAgent(lambda services: TimeStore(services.paths.data / DB_NAME))


def _store(ctx: SkillContext) -> TimeStore:
    return _STORE.get(ctx)


def _now(ctx: SkillContext) -> float:
    """Epoch seconds from the clock injected as `services["clock"]` (tests), else the system clock."""
    return ctx.now()


def _closed(entry: Entry | None, verb: str, now: float) -> str:
    if entry is None:
        return ""
    tracked, idle = entry.seconds(entry.started, float("inf"), entry.ended or now)
    extra = f", not counting {spoken_duration(idle)} idle" if idle else ""
    return f"{verb} {entry.project} after {spoken_duration(tracked)}{extra}."


def _said(project: str, utterance: str) -> bool:
    """Whether `project` comes from what the user said (the language model sometimes invents a placeholder)."""
    if not utterance:
        return True
    said = set(re.findall(r"\w+", to_digits(utterance.lower())))
    return all(w in said for w in re.findall(r"\w+", project.lower()))


def _start(args: ProjectArgs, ctx: SkillContext) -> SkillResult:
    if not _said(args.project, ctx.utterance):
        if re.search(r"\b(?:resume|continue|carry on|back to)\b", ctx.utterance.lower()):
            return _resume(NoArgs(), ctx)
        return SkillResult(ResultState.ERROR, "Which project?", {"clarify": "Which project?",
                                                                 "unheard_project": args.project})
    store = _store(ctx)
    project = store.spelling(args.project)
    running = store.running()
    if running is not None and running.project.lower() == project.lower():
        return SkillResult.ok(f"Already tracking {running.project}.", running=running.to_json())
    idle, how = _idle(ctx) if running is not None else (None, "")
    entry, stopped = store.start(project, _now(ctx), idle_s=idle, source=how)
    before = _closed(stopped, "Stopped", _now(ctx))
    return SkillResult.ok(f"{before + ' ' if before else ''}Tracking {project}.", started=entry.to_json(),
                          stopped=stopped.to_json() if stopped else None, idle_detection=how or None)


def _stop(args: NoArgs, ctx: SkillContext, *, pause: bool = False) -> SkillResult:
    pause = pause or bool(re.search(r"\b(?:pause|break)\b", ctx.utterance.lower()))  # "pause tracking"
    store = _store(ctx)
    if store.running() is None:
        paused = store.paused()
        msg = f"Nothing is running; {paused} is paused." if paused else "Nothing is being tracked."
        if paused and not pause:
            store.stop(_now(ctx))  # a stop after a pause ends it: resume has nothing to continue
            msg = f"Nothing is running; {paused} was paused and is now stopped."
        return SkillResult.ok(msg, stopped=None, paused=paused if pause else None)
    idle, how = _idle(ctx)
    now = _now(ctx)
    stopped = store.stop(now, idle_s=idle, source=how, pause=pause)
    reply = _closed(stopped, "Paused" if pause else "Stopped", now) + (" Say resume to continue." if pause else "")
    return SkillResult.ok(reply, stopped=stopped.to_json() if stopped else None, paused=pause,
                          idle_detection=how)


def _pause(args: NoArgs, ctx: SkillContext) -> SkillResult:
    return _stop(args, ctx, pause=True)


def _resume(args: NoArgs, ctx: SkillContext) -> SkillResult:
    store = _store(ctx)
    running = store.running()
    if running is not None:
        return SkillResult.ok(f"Already tracking {running.project}.", running=running.to_json())
    paused = store.paused()
    last = store.last()
    project = paused or (last.project if last else None)
    if project is None:
        return SkillResult(ResultState.ERROR, "There is nothing to resume. Which project?",
                           {"clarify": "Which project?"})
    entry, _ = store.start(project, _now(ctx))
    how = "Resumed" if paused else "Nothing was paused, so I resumed your last project,"
    return SkillResult.ok(f"{how} {project}.", started=entry.to_json(), was_paused=paused is not None)


def _report(args: PeriodArgs, ctx: SkillContext) -> SkillResult:
    store = _store(ctx)
    now = _now(ctx)
    projects, entries, lo, hi = store.report(args.period, now)
    when = PERIOD_WORDS[args.period]
    running = store.running()
    _, how = _provider(ctx)
    data = {"period": args.period, "from": _iso(lo), "to": _iso(hi), "idle_detection": how,
            "projects": [{"project": p.project, "seconds": round(p.seconds),
                          "idle_seconds_excluded": round(p.idle_seconds), "entries": len(p.entries)}
                         for p in projects],
            "total_seconds": round(sum(p.seconds for p in projects)),
            "running": running.to_json(now) if running else None, "paused": store.paused()}
    shown = [p for p in projects if p.seconds > 0]
    if not shown:
        return SkillResult.ok(f"You tracked no time {when}.", **data)
    parts = [f"{spoken_duration(p.seconds)} on {p.project}" for p in shown[:4]]
    parts[0] = f"{parts[0][0].upper()}{parts[0][1:]} {when}"
    more = f", and {len(shown) - 4} more projects" if len(shown) > 4 else ""
    still = f" {running.project} is still running." if running else ""
    return SkillResult.ok(", ".join(parts) + more + "." + still, **data)


# -- arguments from the words (the router's rule extractor for these skills) --------------------
_X_NOT_PROJECTS = {"my", "the", "a", "this", "that", "current", "new", "work", "time", "it", "some", "same", "previous",
                   "last", "usual", "old", "paused", "other"}


def _extract_project(t: str) -> dict[str, Any]:
    patterns = (
        r"\b(?:project|client)\s+(?:called\s+|named\s+)?([\w-]+(?:\s+(?!and\b|now\b)[\w-]+)?)\s*$",
        r"\b(?:project|client)\s+(?:called\s+|named\s+)?([\w-]+)",
        r"\b(?:the|my)\s+([\w-]+(?:\s+[\w-]+)?)\s+(?:project|client)\b",
        r"\b(?:on|for)\s+(?:the\s+|my\s+)?([\w-]+(?:\s+[\w-]+)?)\s*$",
    )
    for p in patterns:
        m = re.search(p, t)
        if m and m.group(1).split()[0] not in _X_NOT_PROJECTS:
            return {"project": re.sub(r"\s+(?:project|client)$", "", m.group(1))}
    return {}


def register(reg: Register) -> None:
    reg(Skill("timetrack.start", "start tracking time on a project",
              args=ProjectArgs, run=_start, extract=_extract_project))
    reg(Skill("timetrack.stop", "stop tracking time", run=_stop))
    reg(Skill("timetrack.pause", "pause time tracking (resume continues the same project)",
              run=_pause))
    reg(Skill("timetrack.resume", "resume time tracking on the paused project", run=_resume))
    reg(Skill("timetrack.report", "how much time you tracked, per project",
              args=PeriodArgs, run=_report, extract=extract_period))
