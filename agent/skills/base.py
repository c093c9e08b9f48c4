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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from agent.events import SkillResult
from agent.per_agent import PerAgent

if TYPE_CHECKING:
    from agent.bus import Bus
    from agent.config import Settings
    from agent.models.llm import ModelManager
    from agent.paths import Paths
    from agent.safety.executor import Executor
    from agent.services import Services

__all__ = ["Args", "NoArgs", "PerAgent", "Register", "Skill", "SkillContext", "SkillHandler"]


class Args(BaseModel):
    """Base for skill argument models: unknown arguments are an error, strings are stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class NoArgs(Args):
    """For skills that take no arguments."""


@dataclass
class SkillContext:
    """What a skill may use while it runs: the call (utterance, confirmation) and the resident agent's services
    (`services`: scheduler, models, registry, history, clock...; the shortcuts below are the common ones)."""

    services: Services
    utterance: str = ""
    yes: bool = False  # the user confirmed up front (`--yes`, a confirm button)
    dry_run: bool = False
    confirmation: str | None = None  # a confirmation token the user granted for this exact call

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def paths(self) -> Paths:
        return self.services.paths

    @property
    def executor(self) -> Executor:
        return self.services.executor

    @property
    def bus(self) -> Bus:
        return self.services.bus

    @property
    def models(self) -> ModelManager:
        return self.services.models

    @property
    def data_dir(self) -> Path:
        return self.paths.data

    def now(self) -> float:
        """Epoch seconds from the agent's clock (tests inject one)."""
        return self.services.clock()


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
