"""Trigger runtimes: each turns ticks or outside signals into edges (`fire`, `clear`) with template values.

Tick-driven: `metric` (hysteresis, `for`, `within`; fires on the edge), `schedule` (cron, every with jitter, a
time of day; runs missed while asleep are skipped or run once), `process` (started, stopped, count thresholds),
`file` (debounced). Signal-driven: `event` (named bus events), `hotkey` and `voice` (their inputs are other
parts of the agent; they call `Engine.fire_hotkey` / `Engine.fire_voice`).

Each runtime keeps its state in a plain JSON-able dict, so the engine can persist it and keep it across reloads.
"""

from __future__ import annotations

import fnmatch
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from agent.automation import schema as s
from agent.automation.metrics import Sample
from agent.automation.sentences import Template, compile_template

__all__ = ["Edge", "RuntimeTrigger", "TickContext", "TriggerInfo", "build_trigger", "humanize"]

_PAST_KEEP = 64  # most window entries kept for `within`


@dataclass(frozen=True)
class TriggerInfo:
    """Which trigger fired, and the values its templates can use (`{value}`, `{metric}`, `{duration}`...)."""

    kind: str
    index: int
    id: str | None = None
    vars: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        return f"{self.kind}[{self.index}]" + (f" ({self.id})" if self.id else "")


@dataclass(frozen=True)
class Edge:
    what: Literal["fire", "clear"]
    info: TriggerInfo


@dataclass(frozen=True)
class TickContext:
    now: float  # wall clock, seconds
    tz: tzinfo
    sample: Sample
    tick_s: float
    slept: bool = False  # the machine just woke from sleep

    @property
    def now_dt(self) -> datetime:
        return datetime.fromtimestamp(self.now, self.tz)


def humanize(seconds: float) -> str:
    """`45 seconds`, `5 minutes`, `2 hours 10 minutes`, `3 days`."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        text = f"{hours} hour{'s' if hours != 1 else ''}"
        return text + (f" {minutes} minute{'s' if minutes != 1 else ''}" if minutes else "")
    return f"{hours // 24} days"


class RuntimeTrigger:
    """Base: a trigger spec with its state. Tick-driven kinds override `on_tick`."""

    kind = "trigger"

    def __init__(self, spec: BaseModel, index: int, key: str) -> None:
        self.spec = spec
        self.index = index
        self.key = key  # index + digest: a changed trigger starts with fresh state
        self.id: str | None = getattr(spec, "id", None)
        self.state: dict[str, Any] = {}

    def info(self, **values: Any) -> TriggerInfo:
        return TriggerInfo(self.kind, self.index, self.id, {"trigger": self.id or self.kind, **values})

    def on_tick(self, ctx: TickContext) -> list[Edge]:
        return []

    @property
    def firing(self) -> bool:
        return bool(self.state.get("firing"))


class MetricRuntime(RuntimeTrigger):
    kind = "metric"
    spec: s.MetricTrigger

    def _bad(self, value: float) -> bool:
        sp = self.spec
        return value > sp.above if sp.above is not None else value < sp.below  # type: ignore[operator]

    def _clear(self, value: float) -> bool:
        sp = self.spec
        if sp.above is not None:
            return value < sp.clear_below if sp.clear_below is not None else value <= sp.above
        return value > sp.clear_above if sp.clear_above is not None else value >= sp.below  # type: ignore[operator]

    def on_tick(self, ctx: TickContext) -> list[Edge]:
        value = ctx.sample.get(self.spec.metric)
        if value is None:
            return []
        st = self.state
        st["value"] = value
        if st.get("firing"):
            if self._clear(value):
                since = st.get("since") or ctx.now
                self.state = {"value": value}
                return [Edge("clear", self._info(ctx, value, since))]
            return []
        bad = self._bad(value)
        window: list[int] = st.setdefault("window", [])
        window.append(1 if bad else 0)
        del window[:-_PAST_KEEP]
        st["streak"] = st.get("streak", 0) + 1 if bad else 0
        if bad:
            st.setdefault("since", ctx.now)
        elif not self.spec.within or not any(window[-self.spec.within.of:]):
            st.pop("since", None)
        if self.spec.within is not None:
            met = sum(window[-self.spec.within.of:]) >= self.spec.within.checks
        else:
            met = st["streak"] >= (self.spec.for_.checks if self.spec.for_ else 1)
        if met:
            st["firing"] = True
            st["fired_at"] = ctx.now
            return [Edge("fire", self._info(ctx, value, st.get("since", ctx.now)))]
        return []

    def _info(self, ctx: TickContext, value: float, since: float) -> TriggerInfo:
        sp = self.spec
        extra = ctx.sample.extra.get(sp.metric, {})
        return self.info(value=value, metric=sp.metric, duration=humanize(ctx.now - since),
                         threshold=sp.above if sp.above is not None else sp.below, **extra)

    def repeat_info(self, ctx: TickContext) -> TriggerInfo:
        value = self.state.get("value", 0.0)
        return self._info(ctx, value, self.state.get("since", ctx.now))


class ScheduleRuntime(RuntimeTrigger):
    kind = "schedule"
    spec: s.ScheduleTrigger

    def __init__(self, spec: BaseModel, index: int, key: str) -> None:
        super().__init__(spec, index, key)
        self._cron: Any = None

    def next_after(self, now: float, tz: tzinfo) -> float:
        sp = self.spec.schedule
        if sp.every is not None:
            return now + sp.every + (random.uniform(0, sp.jitter) if sp.jitter else 0.0)  # noqa: S311
        if self._cron is None:
            from apscheduler.triggers.cron import CronTrigger

            if sp.cron is not None:
                self._cron = CronTrigger.from_crontab(sp.cron, timezone=tz)
            else:
                assert sp.at is not None
                days = ",".join(sp.weekday) if sp.weekday else "*"
                self._cron = CronTrigger(day_of_week=days, hour=sp.at.hour, minute=sp.at.minute,
                                         second=sp.at.second, timezone=tz)
        start = datetime.fromtimestamp(now, tz) + timedelta(seconds=1)
        nxt = self._cron.get_next_fire_time(None, start)
        return float(nxt.timestamp()) if nxt is not None else float("inf")

    def on_tick(self, ctx: TickContext) -> list[Edge]:
        st = self.state
        due = st.get("next")
        if due is None:
            st["next"] = self.next_after(ctx.now, ctx.tz)
            return []
        if ctx.now < due:
            return []
        late = ctx.now - due
        missed = ctx.slept or late > max(60.0, 2 * ctx.tick_s)
        st["next"] = self.next_after(ctx.now, ctx.tz)
        if missed and self.spec.schedule.missed == "skip":
            st["skipped"] = st.get("skipped", 0) + 1
            return []
        st["last"] = ctx.now
        when = datetime.fromtimestamp(due, ctx.tz).isoformat(timespec="seconds")
        return [Edge("fire", self.info(scheduled=when, late_s=round(late, 1), missed=missed, value=when))]


class ProcessRuntime(RuntimeTrigger):
    kind = "process"
    spec: s.ProcessTrigger

    def on_tick(self, ctx: TickContext) -> list[Edge]:
        sp = self.spec.process
        matches = [p for p in ctx.sample.processes() if fnmatch.fnmatchcase(p.name, sp.name)]
        count = len(matches)
        st = self.state
        prev = st.get("count")
        st["count"] = count
        info = self.info(process=sp.name, count=count, value=count, pid=matches[0].pid if matches else None)
        if sp.event is not None:
            if prev is None:
                return []
            started = prev == 0 and count > 0
            stopped = prev > 0 and count == 0
            return [Edge("fire", info)] if (started and sp.event == "started") or (
                stopped and sp.event == "stopped") else []
        over = count > sp.count_above if sp.count_above is not None else count < sp.count_below  # type: ignore[operator]
        if over and not st.get("firing"):
            st["firing"] = True
            st["since"] = ctx.now
            return [Edge("fire", info)]
        if not over and st.get("firing"):
            st["firing"] = False
            return [Edge("clear", info)]
        return []


class FileRuntime(RuntimeTrigger):
    kind = "file"
    spec: s.FileTrigger

    @property
    def path(self) -> Path:
        return Path(self.spec.file.path).expanduser()

    def watch_dir(self) -> tuple[Path, bool]:
        """The folder to watch and whether recursively."""
        p = self.path
        return (p, self.spec.file.recursive) if p.is_dir() else (p.parent, False)

    def offer(self, path: str, event: str, now: float) -> bool:
        """Record a file system event if it concerns this trigger; fire after the debounce."""
        sp = self.spec.file
        if event not in sp.events:
            return False
        target, candidate = self.path, Path(path)
        if target.is_dir():
            inside = candidate.parent == target or (sp.recursive and target in candidate.parents)
            if not inside or not fnmatch.fnmatch(candidate.name, sp.pattern):
                return False
        elif candidate != target:
            return False
        pending = self.state.setdefault("pending", {"first": now, "paths": [], "count": 0})
        pending.update(last=now, event=event, path=str(candidate), count=pending["count"] + 1)
        if str(candidate) not in pending["paths"] and len(pending["paths"]) < 50:
            pending["paths"].append(str(candidate))
        return True

    def due_at(self) -> float | None:
        pending = self.state.get("pending")
        return pending["last"] + self.spec.file.debounce if pending else None

    def on_tick(self, ctx: TickContext) -> list[Edge]:
        due = self.due_at()
        if due is None or ctx.now < due:
            return []
        p = self.state.pop("pending")
        return [Edge("fire", self.info(path=p["path"], event=p["event"], count=p["count"], value=p["path"],
                                       paths=", ".join(p["paths"])))]


class EventRuntime(RuntimeTrigger):
    kind = "event"
    spec: s.EventTrigger

    def match(self, name: str, data: dict[str, Any]) -> TriggerInfo | None:
        sp = self.spec.event
        if name != sp.type:
            return None
        for key, want in sp.data.items():
            have = data.get(key)
            if (isinstance(want, list) and have not in want) or (not isinstance(want, list) and have != want):
                return None
        flat = {k: v for k, v in data.items() if isinstance(v, (str, int, float, bool)) or v is None}
        return self.info(event=name, **flat)


class HotkeyRuntime(RuntimeTrigger):
    kind = "hotkey"
    spec: s.HotkeyTrigger

    def match(self, combo: str) -> TriggerInfo | None:
        want = set(self.spec.hotkey.split("+"))
        got = {p.strip().lower() for p in combo.split("+")}
        return self.info(hotkey=self.spec.hotkey) if want == got else None


class VoiceRuntime(RuntimeTrigger):
    kind = "voice"
    spec: s.VoiceTrigger

    def __init__(self, spec: BaseModel, index: int, key: str) -> None:
        super().__init__(spec, index, key)
        self.templates: list[Template] = [compile_template(t) for t in self.spec.voice]

    def match(self, text: str) -> TriggerInfo | None:
        for template in self.templates:
            slots = template.match(text)
            if slots is not None:
                return self.info(sentence=text, template=template.text, **slots)
        return None


_RUNTIMES: dict[type[BaseModel], type[RuntimeTrigger]] = {
    s.MetricTrigger: MetricRuntime, s.ScheduleTrigger: ScheduleRuntime, s.ProcessTrigger: ProcessRuntime,
    s.FileTrigger: FileRuntime, s.EventTrigger: EventRuntime, s.HotkeyTrigger: HotkeyRuntime,
    s.VoiceTrigger: VoiceRuntime,
}


def build_trigger(spec: BaseModel, index: int) -> RuntimeTrigger:
    import hashlib
    import json

    digest = hashlib.sha256(json.dumps(spec.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()[:12]
    return _RUNTIMES[type(spec)](spec, index, f"{index}:{digest}")
