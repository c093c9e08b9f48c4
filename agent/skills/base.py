"""The whole skill contract, in one small module.

A plugin (built-in or third-party) exposes `register_skills(register)` through the `agent.skills` entry
point group and calls `register(Skill(...))` once per skill. A skill is one unit: its dotted name, a
description, a pydantic argument model, whether it changes the system and `run(args, ctx) -> SkillResult` live
in its module; its sentence templates and example utterances live in the hassil YAML file beside that module
(`sentences` names another file): `intents:` the templates the router matches whole (agent/router/sentences.py),
`examples:` the utterances the semantic tier learns from and `agent help` shows. Skills never start processes
themselves: anything that changes the system goes through `ctx.executor`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from agent.events import SkillResult
from agent.per_agent import PerAgent

if TYPE_CHECKING:
    from agent.bus import Bus
    from agent.config import Settings
    from agent.models.llm import ModelManager
    from agent.paths import Paths
    from agent.safety.executor import Executor
    from agent.services import Services

__all__ = ["ActionHook", "Args", "Extractor", "NoArgs", "PerAgent", "PeriodArgs", "QueryArgs", "Register", "Skill",
           "SkillContext", "SkillHandler", "examples_in", "sentence_file"]


class Args(BaseModel):
    """Base for skill argument models: unknown arguments are an error, strings are stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class NoArgs(Args):
    """For skills that take no arguments."""


class QueryArgs(Args):
    """A search: the words to look for, and how many results."""

    query: str = Field(min_length=1, max_length=1000)
    limit: int = Field(5, ge=1, le=50)


class PeriodArgs(Args):
    """A report period in local time (agent/skills/periods.py)."""

    period: Literal["today", "yesterday", "week", "month", "year"] = "today"


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
Extractor = Callable[[str], dict[str, Any]]  # arguments from the words of a request (the router's rule tier)
ActionHook = Callable[["Executor"], None]  # allow-lists the in-process actions and commands a skill runs


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
    extract: Extractor | None = None  # arguments from cleaned request text, when the templates did not give them
    numeric: bool = False  # `extract` reads digits ("five" -> "5") and its text is not restored to the user's case
    verbatim: bool = False  # its arguments are the user's exact characters (a mistyped command): never respelled
    actions: ActionHook | None = None  # registers this skill's executor actions (shared by a family: same function)

    def __post_init__(self) -> None:
        parts = self.name.split(".")
        if not all(p.replace("_", "").isalnum() and p.islower() for p in parts):
            raise ValueError(f"skill name must be dotted lowercase words: {self.name!r}")
        if not self.examples and (path := sentence_file(self)) is not None:
            object.__setattr__(self, "examples", examples_in(path).get(self.name, ()))


def sentence_file(skill: Skill) -> Path | None:
    """A skill's sentence file: its own `sentences`, else the YAML file beside the module of its handler."""
    if skill.sentences is not None:
        return Path(skill.sentences)
    if skill.run is None:
        return None
    module = sys.modules.get(getattr(skill.run, "__module__", ""))
    path = Path(module.__file__).with_suffix(".yaml") if module is not None and module.__file__ else None
    return path if path is not None and path.is_file() else None


@cache
def examples_in(path: Path) -> dict[str, tuple[str, ...]]:
    """The `examples:` section of a sentence file (skill name -> utterances); a broken file has none here (the
    router reports it with its name when it loads the templates)."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError):
        return {}
    found = data.get("examples") if isinstance(data, dict) else None
    if not isinstance(found, dict):
        return {}
    return {str(k): tuple(str(e) for e in v) for k, v in found.items() if isinstance(v, list)}


Register = Callable[[Skill], None]
