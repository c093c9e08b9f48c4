"""What rules may name: skills (from the registry), commands (from the executor's allow-list) and events."""

from __future__ import annotations

import difflib
import getpass
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ValidationError

from agent.errors import NotAllowedError
from agent.safety.validate import validate_args
from agent.yamlmarks import Loc

if TYPE_CHECKING:
    from agent.safety.executor import Executor
    from agent.skills.registry import Registry

__all__ = ["EVENTS", "Found", "RuleCatalog", "with_user"]


Found = tuple[Loc, str, Literal["error", "warning"]]

EVENTS: dict[str, str] = {
    "agent.started": "the resident agent started (its rule engine is running)",
    "agent.stopped": "the resident agent is stopping",
    "agent.resumed": "the machine woke from sleep (data: slept_s)",
    "rules.reloaded": "rule files changed and were reloaded (data: rules, errors)",
    "security.finding": "the security scan found a problem not yet acknowledged (data: id, severity, title, "
                        "evidence, fix)",
    "security.scan_done": "a security scan finished (data: findings, new, high, serious, top)",
}
"""Named events a rule can trigger on; `custom.<name>` events are free for users."""


def _hint(word: str, choices: list[str]) -> str:
    found = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean '{found[0]}'?)" if found else ""


def with_user(spec_args: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """Fill a command's `user` argument with the current user, as `command.run` does."""
    out = dict(args)
    if "user" in spec_args and "user" not in out:
        out["user"] = getpass.getuser()
    return out


def _templated(value: Any) -> bool:
    if isinstance(value, str):
        return "{" in value
    if isinstance(value, dict):
        return any(_templated(v) for v in value.values())
    if isinstance(value, list):
        return any(_templated(v) for v in value)
    return False


@dataclass
class RuleCatalog:
    registry: Registry | None = None
    executor: Executor | None = None
    events: set[str] = field(default_factory=lambda: set(EVENTS))

    def event_known(self, name: str) -> bool:
        return name in self.events or name.startswith("custom.")

    def skill_changes_system(self, name: str) -> bool:
        skill = self.registry.get(name) if self.registry is not None else None
        return True if skill is None else skill.changes_system

    def check_skill(self, name: str, args: dict[str, Any], loc: Loc) -> Iterator[Found]:
        if self.registry is None:
            return
        skill = self.registry.get(name)
        if skill is None:
            yield ((*loc, "name"), f"unknown skill '{name}'{_hint(name, self.registry.names())}", "error")
            return
        if skill.run is None:
            yield ((*loc, "name"), f"skill '{name}' is known but not installed here yet; the action will answer "
                                   "'unsupported'", "warning")
        if _templated(args):
            return
        try:
            skill.args.model_validate(args)
        except ValidationError as exc:
            for err in exc.errors():
                where = (*loc, "args", *(p for p in err["loc"]))
                msg = str(err["msg"]).removeprefix("Value error, ")
                if err["type"] == "extra_forbidden":
                    allowed = [f.alias or n for n, f in skill.args.model_fields.items()]
                    msg = f"unknown argument '{err['loc'][-1]}' for {name}{_hint(str(err['loc'][-1]), allowed)}"
                yield (where, msg, "error")

    def check_command(self, command_id: str, args: dict[str, Any], loc: Loc) -> Iterator[Found]:
        if self.executor is None:
            return
        spec = self.executor.command(command_id)
        if spec is None and self.executor.is_allowed(command_id):
            yield ((*loc, "id"), f"'{command_id}' is an in-process action, not an allow-listed command; a rule "
                                 "reaches it only through its skill (action 'skill:'), with the skill's "
                                 "confirmation", "error")
            return
        if spec is None:
            known = [c.id for c in self.executor.commands()]
            yield ((*loc, "id"), f"'{command_id}' is not an allow-listed command{_hint(command_id, known)}; "
                                 "add it under 'commands:' in the config file", "error")
            return
        if _templated(args):
            return
        try:
            validate_args(spec, with_user(spec.args, args))
        except NotAllowedError as exc:
            yield ((*loc, "args"), str(exc).removeprefix(f"{command_id}: "), "error")
