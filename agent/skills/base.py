"""The whole skill contract, in one small module.

A plugin (built-in or third-party) exposes `register_skills(register)` through the `agent.skills` entry
point group and calls `register(Skill(...))` once per skill. A skill declares its dotted name, a
description, example utterances (the semantic tier learns from them), a pydantic argument model, whether it
changes the system, `run(args, ctx) -> SkillResult`, and its sentence templates: a hassil YAML file
(`sentences`, by default the `.yaml` file beside the module that defines `run`; see agent/router/sentences.py).
Skills never start processes themselves:
anything that changes the system goes through `ctx.executor`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from agent.events import SkillResult

if TYPE_CHECKING:
    from agent.bus import Bus
    from agent.config import Settings
    from agent.paths import Paths
    from agent.safety.executor import Executor

__all__ = ["Args", "NoArgs", "Register", "Skill", "SkillContext", "SkillHandler"]


class Args(BaseModel):
    """Base for skill argument models: unknown arguments are an error, strings are stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class NoArgs(Args):
    """For skills that take no arguments."""


@dataclass
class SkillContext:
    """What a skill may use while it runs."""

    settings: Settings
    paths: Paths
    executor: Executor
    bus: Bus
    utterance: str = ""
    yes: bool = False  # the user confirmed up front (`--yes`, a confirm button)
    dry_run: bool = False
    confirmation: str | None = None  # a confirmation token the user granted for this exact call
    services: dict[str, Any] = field(default_factory=dict)  # shared resident objects (llm, stores)

    @property
    def data_dir(self) -> Path:
        return self.paths.data


SkillHandler = Callable[[Any, SkillContext], SkillResult]


@dataclass(frozen=True)
class Skill:
    """One capability. `run` is None for a skill the router knows but no plugin implements here."""

    name: str
    description: str
    examples: tuple[str, ...] = ()
    args: type[Args] = NoArgs
    changes_system: bool = False
    run: SkillHandler | None = None
    plugin: str = ""
    sentences: Path | None = None  # hassil sentence file; default: the .yaml beside the handler's module

    def __post_init__(self) -> None:
        parts = self.name.split(".")
        if not all(p.replace("_", "").isalnum() and p.islower() for p in parts):
            raise ValueError(f"skill name must be dotted lowercase words: {self.name!r}")


Register = Callable[[Skill], None]
