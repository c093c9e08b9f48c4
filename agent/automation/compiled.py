"""A validated rule compiled for the engine: trigger runtimes, checker callables, and its live state."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from agent.automation import schema as s
from agent.automation.actions import Run, Trace
from agent.automation.conditions import Checker, compile_conditions
from agent.automation.loader import LoadedRule
from agent.automation.triggers import RuntimeTrigger, TriggerInfo, build_trigger

__all__ = ["CompiledRule", "Pending", "compile_rule"]

_STATEFUL = ("metric", "process")


@dataclass
class Pending:
    """A queued run (mode `queued`) waiting for the current one to finish."""

    info: TriggerInfo
    trace: Trace
    values: dict[str, Any]


@dataclass
class CompiledRule:
    loaded: LoadedRule
    triggers: list[RuntimeTrigger]
    check: Checker
    checkers: dict[int, Checker]  # id(ChooseOption or IfAction) -> its conditions
    active: bool = False  # the user was told about the current firing episode
    last_attempt: float | None = None  # last time a firing trigger was acted on (for `repeat`)
    last_run: float | None = None
    fired: int = 0
    errors: int = 0
    last_error: str | None = None
    runs: list[Run] = field(default_factory=list)
    queue: deque[Pending] = field(default_factory=deque)

    @property
    def id(self) -> str:
        return self.loaded.rule.id

    @property
    def rule(self) -> s.Rule:
        return self.loaded.rule

    def firing_triggers(self) -> list[RuntimeTrigger]:
        return [t for t in self.triggers if t.kind in _STATEFUL and t.firing]

    def live_runs(self) -> list[Run]:
        return [r for r in self.runs if not r.done]

    def state_json(self) -> dict[str, Any]:
        return {"active": self.active, "last_attempt": self.last_attempt, "last_run": self.last_run,
                "fired": self.fired, "errors": self.errors, "last_error": self.last_error,
                "firing": bool(self.firing_triggers()), "triggers": {t.key: t.state for t in self.triggers}}

    def restore(self, state: dict[str, Any]) -> None:
        """Take saved state: each unchanged trigger keeps its own (by trigger key: index and content), and the
        rule's episode state (told the user, last run, counts) comes along while any trigger carried over."""
        saved = state.get("triggers", {})
        carried = False
        for t in self.triggers:
            if t.key in saved:
                t.state = dict(saved[t.key])
                carried = True
        if carried or not self.triggers:
            self.active = bool(state.get("active"))
            self.last_attempt = state.get("last_attempt")
            self.last_run = state.get("last_run")
            self.fired = int(state.get("fired", 0))
            self.errors = int(state.get("errors", 0))
            self.last_error = state.get("last_error")

    def take_state(self, other: CompiledRule) -> None:
        """Carry live state from the previous version of this rule (a reload)."""
        self.restore(other.state_json())


def _action_checkers(actions: Sequence[BaseModel], path: str, out: dict[int, Checker]) -> None:
    for i, action in enumerate(actions):
        here = f"{path}[{i}]"
        if isinstance(action, s.ChooseAction):
            for j, option in enumerate(action.choose):
                out[id(option)] = compile_conditions(option.conditions, f"{here}.choose[{j}].conditions")
                _action_checkers(option.actions, f"{here}.choose[{j}].actions", out)
            _action_checkers(action.default, f"{here}.default", out)
        elif isinstance(action, s.IfAction):
            out[id(action)] = compile_conditions(action.if_, f"{here}.if")
            _action_checkers(action.then, f"{here}.then", out)
            _action_checkers(action.else_, f"{here}.else", out)


def compile_rule(loaded: LoadedRule) -> CompiledRule:
    rule = loaded.rule
    checkers: dict[int, Checker] = {}
    _action_checkers(rule.actions, "actions", checkers)
    _action_checkers(rule.on_clear, "on_clear", checkers)
    return CompiledRule(loaded, [build_trigger(t, i) for i, t in enumerate(rule.triggers)],
                        compile_conditions(rule.conditions, "conditions"), checkers)
