"""Rule actions, run by a small interpreter that can pause (`delay`) and resume on a later tick.

`speak`, `notify`, `skill` (through the pipeline), `command` (an allow-listed id through the executor), `log`,
`delay`, `choose`, `if`, `stop`. Text is templated with the trigger's values: `{value}`, `{metric}`,
`{duration}`, the rule's `variables` and any metric by name (`{memory.available_mb}`); a name that is not known
stays as written.
"""

from __future__ import annotations

import logging
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel

from agent.automation import schema as s
from agent.automation.conditions import Checker, EvalContext
from agent.automation.metrics import is_known_metric

__all__ = ["SAMPLE_KEY", "Actuator", "Run", "Step", "Trace", "render", "step_run"]

SAMPLE_KEY = "__sample__"
"""Where a run's values keep the tick's `Sample`, so templates can name any metric."""

_LOGGER = logging.getLogger(__name__)


class _Num(float):
    """A number that prints rounded (`{value}` → `93` or `4.5`) but keeps its format specs (`{value:.2f}`)."""

    def __format__(self, spec: str) -> str:
        if spec:
            return format(float(self), spec)
        v = float(self)
        return f"{v:.0f}" if abs(v) >= 10 or v == int(v) else f"{v:.1f}"

    def __str__(self) -> str:
        return format(self, "")


class _Missing:
    def __init__(self, name: str) -> None:
        self.name = name

    def __format__(self, spec: str) -> str:
        return "{" + self.name + (":" + spec if spec else "") + "}"


class _Formatter(string.Formatter):
    def get_value(self, key: int | str, args: Any, kwargs: Any) -> Any:
        if not isinstance(key, str):
            return _Missing(str(key))
        value = kwargs.get(key, _Missing(key))
        if isinstance(value, _Missing) and SAMPLE_KEY in kwargs and is_known_metric(key):
            reading = kwargs[SAMPLE_KEY].get(key)  # `{disk./.free_gb}`: any metric, from this tick's sample
            value = "n/a" if reading is None else reading
        if isinstance(value, float) and not isinstance(value, bool):
            return _Num(value)
        return value

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        return self.get_value(field_name, args, kwargs), field_name


_FORMATTER = _Formatter()


def render(text: str, values: dict[str, Any]) -> str:
    """Fill `{name}` placeholders; unknown names and malformed braces stay as written."""
    try:
        return _FORMATTER.vformat(text, (), values)
    except (ValueError, IndexError, KeyError):
        return text


def _render_any(value: Any, values: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return render(value, values)
    if isinstance(value, dict):
        return {k: _render_any(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_render_any(v, values) for v in value]
    return value


class Actuator(Protocol):
    """What actions do in the world; the engine implements it with the bus, the pipeline and the executor."""

    def speak(self, text: str, run: Run) -> str: ...
    def notify(self, title: str, body: str, urgency: str, run: Run) -> str: ...
    def skill(self, name: str, args: dict[str, Any], run: Run) -> tuple[str, dict[str, Any]]: ...
    def command(self, command_id: str, args: dict[str, Any], run: Run) -> tuple[str, dict[str, Any]]: ...


@dataclass
class Step:
    path: str
    action: str
    outcome: str  # ok, skipped, error, waiting, stopped, needs_confirmation, refused, unsupported
    detail: str = ""
    ts: float = 0.0


@dataclass
class Trace:
    """One run of a rule: what fired it, which conditions passed, what each action did."""

    rule_id: str
    started: float
    trigger: dict[str, Any]
    conditions: list[dict[str, Any]] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    result: str = "running"
    finished: float | None = None
    sequence: str = "actions"
    dry_run: bool = False
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule_id, "run": self.run_id, "started": self.started, "finished": self.finished,
                "result": self.result, "sequence": self.sequence, "dry_run": self.dry_run, "trigger": self.trigger,
                "conditions": self.conditions, "steps": [vars(st) for st in self.steps]}


@dataclass
class Run:
    """A rule run in progress: a stack of (actions, next index, path) frames."""

    rule_id: str
    frames: list[list[Any]]
    values: dict[str, Any]
    trace: Trace
    quiet: bool = False
    dry_run: bool = False
    wake_at: float | None = None
    done: bool = False

    @classmethod
    def start(cls, rule_id: str, actions: list[Any], sequence: str, values: dict[str, Any], trace: Trace,
              *, quiet: bool = False, dry_run: bool = False) -> Run:
        return cls(rule_id, [[actions, 0, sequence]], values, trace, quiet, dry_run)


def step_run(run: Run, actuator: Actuator, now: float, checkers: dict[int, Checker],
             make_ctx: Callable[[], EvalContext]) -> None:
    """Run actions until the run ends or waits on a delay (`run.wake_at`)."""
    run.wake_at = None
    while run.frames:
        frame = run.frames[-1]
        actions, index, path = frame
        if index >= len(actions):
            run.frames.pop()
            continue
        frame[1] = index + 1
        action = actions[index]
        here = f"{path}[{index}]"
        step = Step(here, _kind(action), "ok", ts=now)
        run.trace.steps.append(step)
        try:
            _do(action, run, actuator, now, checkers, make_ctx, step, here)
        except Exception as exc:
            _LOGGER.exception("rule %s: action %s failed", run.rule_id, here)
            step.outcome, step.detail = "error", f"{exc.__class__.__name__}: {exc}"
            run.frames.clear()
            run.trace.result = "error"
            break
        if step.outcome == "stopped":
            run.frames.clear()
            run.trace.result = "stopped"
            break
        if run.wake_at is not None:
            return
    run.done = True
    if run.trace.result == "running":
        run.trace.result = "dry_run" if run.dry_run else "done"
    run.trace.finished = now


def _kind(action: BaseModel) -> str:
    return next(tag.split(":")[1] for tag, m in s.TAG_MODELS.items() if tag.startswith("action:") and m is type(action))


def _do(action: BaseModel, run: Run, actuator: Actuator, now: float, checkers: dict[int, Checker],
        make_ctx: Callable[[], EvalContext], step: Step, here: str) -> None:
    v = run.values
    if isinstance(action, s.SpeakAction):
        step.detail = actuator.speak(render(action.speak, v), run)
    elif isinstance(action, s.NotifyAction):
        n = action.notify
        step.detail = actuator.notify(render(n.title, v), render(n.body, v), n.urgency, run)
    elif isinstance(action, s.SkillAction):
        step.outcome, data = actuator.skill(action.skill.name, _render_any(action.skill.args, v), run)
        step.detail = str(data.get("reply", ""))
        v["result"] = data.get("reply", "")
        v.update({f"result_{k}": val for k, val in data.get("data", {}).items() if isinstance(val, (str, int, float))})
    elif isinstance(action, s.CommandAction):
        step.outcome, data = actuator.command(action.command.id, _render_any(action.command.args, v), run)
        step.detail = str(data.get("summary", ""))
        v["result"] = data.get("stdout", "")
    elif isinstance(action, s.LogAction):
        message = render(action.log.message, v)
        _LOGGER.log(logging.getLevelName(action.log.level.upper()), "rule %s: %s", run.rule_id, message)
        step.detail = message
    elif isinstance(action, s.DelayAction):
        if run.dry_run:
            step.outcome, step.detail = "skipped", f"(dry run) would wait {action.delay:g} s"
        else:
            run.wake_at = now + action.delay
            step.outcome, step.detail = "waiting", f"until {run.wake_at:.0f}"
    elif isinstance(action, s.StopAction):
        step.outcome, step.detail = "stopped", render(action.stop, v)
    elif isinstance(action, s.ChooseAction):
        for j, option in enumerate(action.choose):
            ctx = make_ctx()
            ok = checkers[id(option)](ctx)
            run.trace.conditions.extend(ctx.trace)
            if ok:
                step.detail = f"option {j}"
                run.frames.append([option.actions, 0, f"{here}.choose[{j}].actions"])
                return
        step.detail = "default" if action.default else "no option matched"
        if action.default:
            run.frames.append([action.default, 0, f"{here}.default"])
    elif isinstance(action, s.IfAction):
        ctx = make_ctx()
        ok = checkers[id(action)](ctx)
        run.trace.conditions.extend(ctx.trace)
        step.detail = "then" if ok else "else"
        branch = action.then if ok else action.else_
        if branch:
            run.frames.append([branch, 0, f"{here}.{step.detail}"])
    else:
        raise TypeError(f"unknown action {type(action).__name__}")
