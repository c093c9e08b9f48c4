"""Conditions compiled to checker callables: `and`/`or`/`not`, `time`, `metric`, `state`, `process_running`,
`trigger`. Each checker records its result in the evaluation's trace, so a trace says which one failed.

The user's state (on battery, idle time, do-not-disturb) comes from a `SystemState`; `LocalSystemState` reads
the battery with psutil, idle time with `agent.idle` (X11) when a display is there, and the do-not-disturb flag
from a callable the engine gives it.
"""

from __future__ import annotations

import fnmatch
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any, Protocol

import psutil
from pydantic import BaseModel

from agent.automation import schema as s
from agent.automation.metrics import Sample
from agent.automation.triggers import TriggerInfo
from agent.idle import IdleReader, idle_reader

__all__ = ["Checker", "EvalContext", "LocalSystemState", "SystemState", "compile_conditions", "in_time_window"]

_LOGGER = logging.getLogger(__name__)


class SystemState(Protocol):
    def on_battery(self) -> bool | None: ...
    def idle_seconds(self) -> float | None: ...
    def do_not_disturb(self) -> bool: ...


@dataclass
class EvalContext:
    now: datetime  # local, aware
    sample: Sample
    system: SystemState
    trigger: TriggerInfo | None = None
    trace: list[dict[str, Any]] = field(default_factory=list)


Checker = Callable[[EvalContext], bool]


def in_time_window(now: time, after: time | None, before: time | None) -> bool:
    """`after <= now < before`, spanning midnight when `after` is later than `before`."""
    if after is not None and before is not None:
        return after <= now < before if after <= before else (now >= after or now < before)
    if after is not None:
        return now >= after
    if before is not None:
        return now < before
    return True


def _traced(path: str, describe: str, check: Checker) -> Checker:
    def run(ctx: EvalContext) -> bool:
        try:
            ok = check(ctx)
        except Exception as exc:  # a broken condition is false, and says why
            _LOGGER.exception("condition %s failed", path)
            ctx.trace.append({"path": path, "condition": describe, "result": False, "error": str(exc)})
            return False
        ctx.trace.append({"path": path, "condition": describe, "result": ok})
        return ok

    return run


def compile_conditions(conds: list[Any], path: str) -> Checker:
    """All of `conds` must hold (an empty list always holds)."""
    checkers = [_compile(c, f"{path}[{i}]") for i, c in enumerate(conds)]
    return lambda ctx: all(c(ctx) for c in checkers)


def _compile(cond: BaseModel, path: str) -> Checker:
    if isinstance(cond, s.AndCondition):
        parts = [_compile(c, f"{path}.and[{i}]") for i, c in enumerate(cond.and_)]
        return _traced(path, "and", lambda ctx: all(p(ctx) for p in parts))
    if isinstance(cond, s.OrCondition):
        parts = [_compile(c, f"{path}.or[{i}]") for i, c in enumerate(cond.or_)]
        return _traced(path, "or", lambda ctx: any(p(ctx) for p in parts))
    if isinstance(cond, s.NotCondition):
        parts = [_compile(c, f"{path}.not[{i}]") for i, c in enumerate(cond.not_)]
        return _traced(path, "not", lambda ctx: not any(p(ctx) for p in parts))
    if isinstance(cond, s.TimeCondition):
        return _traced(path, _describe_time(cond.time), _time_checker(cond.time))
    if isinstance(cond, s.MetricCondition):
        side = f"above {cond.above:g}" if cond.above is not None else f"below {cond.below:g}"
        return _traced(path, f"{cond.metric} {side}", _metric_checker(cond))
    if isinstance(cond, s.StateCondition):
        return _traced(path, f"state {cond.state.model_dump(exclude_none=True)}", _state_checker(cond.state))
    if isinstance(cond, s.ProcessRunningCondition):
        pattern = cond.process_running
        return _traced(path, f"process {pattern} running",
                       lambda ctx: any(fnmatch.fnmatchcase(p.name, pattern) for p in ctx.sample.processes()))
    if isinstance(cond, s.TriggerCondition):
        names = set(cond.trigger)
        return _traced(path, f"trigger in {sorted(names)}", lambda ctx: ctx.trigger is not None and (
            ctx.trigger.kind in names or (ctx.trigger.id is not None and ctx.trigger.id in names)))
    raise TypeError(f"unknown condition {type(cond).__name__}")


def _describe_time(spec: s.TimeSpec) -> str:
    parts = [f"after {spec.after:%H:%M}" if spec.after else "", f"before {spec.before:%H:%M}" if spec.before else "",
             f"on {','.join(spec.weekday)}" if spec.weekday else ""]
    return "time " + " ".join(p for p in parts if p)


def _time_checker(spec: s.TimeSpec) -> Checker:
    def check(ctx: EvalContext) -> bool:
        if spec.weekday and s.WEEKDAYS[ctx.now.weekday()] not in spec.weekday:
            return False
        return in_time_window(ctx.now.time(), spec.after, spec.before)

    return check


def _metric_checker(cond: s.MetricCondition) -> Checker:
    def check(ctx: EvalContext) -> bool:
        value = ctx.sample.get(cond.metric)
        if value is None:
            return False
        return value > cond.above if cond.above is not None else value < cond.below  # type: ignore[operator]

    return check


def _state_checker(spec: s.StateSpec) -> Checker:
    def check(ctx: EvalContext) -> bool:
        if spec.on_battery is not None and ctx.system.on_battery() is not spec.on_battery:
            return False
        if spec.do_not_disturb is not None and ctx.system.do_not_disturb() is not spec.do_not_disturb:
            return False
        if spec.idle is not None or spec.active is not None:
            idle = ctx.system.idle_seconds()
            if idle is None:
                return False  # unknown idle time: neither idle nor active can be claimed
            if spec.idle is not None and idle < spec.idle:
                return False
            if spec.active is not None and idle >= spec.active:
                return False
        return True

    return check


class LocalSystemState:
    """The real machine: psutil battery, X11 idle time, and a do-not-disturb flag read through `dnd`."""

    def __init__(self, dnd: Callable[[], bool] = lambda: False, display: str | None = None) -> None:
        self._dnd = dnd
        self._env = {"DISPLAY": display} if display is not None else dict(os.environ)
        self._idle: IdleReader | None = None
        self._idle_known = False

    def on_battery(self) -> bool | None:
        bat = psutil.sensors_battery() if hasattr(psutil, "sensors_battery") else None
        return None if bat is None else not bat.power_plugged

    def idle_seconds(self) -> float | None:
        if not self._idle_known:
            self._idle, how = idle_reader(self._env)
            self._idle_known = True
            _LOGGER.debug("idle time: %s", how)
        return self._idle() if self._idle is not None else None

    def do_not_disturb(self) -> bool:
        return self._dnd()
