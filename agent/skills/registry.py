"""The skill registry: loads every `agent.skills` entry point, built-ins included, the same way."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points

from agent.errors import AgentError
from agent.skills.base import Skill

__all__ = ["Registry", "load_registry"]

_LOGGER = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "agent.skills"
_BUILTIN = "agent.skills.builtin:register_skills"


class Registry:
    def __init__(self) -> None:
        self._skills: dict[str, Skill] = {}

    def register(self, skill: Skill) -> None:
        """Add a skill. A skill with a handler replaces a catalogue entry without one; two handlers clash."""
        old = self._skills.get(skill.name)
        if old is not None and old.run is not None and skill.run is not None:
            raise AgentError(f"skill {skill.name} registered twice ({old.plugin} and {skill.plugin})")
        if old is not None and skill.run is None:
            return
        self._skills[skill.name] = skill

    def get(self, name: str) -> Skill | None:
        return self._skills.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._skills

    def __iter__(self) -> Iterator[Skill]:
        return iter(sorted(self._skills.values(), key=lambda s: s.name))

    def __len__(self) -> int:
        return len(self._skills)

    def names(self) -> list[str]:
        return sorted(self._skills)

    def load_plugin(self, name: str, hook: Callable[[Callable[[Skill], None]], None]) -> None:
        def register(skill: Skill) -> None:
            if not skill.plugin:
                skill = Skill(**{**skill.__dict__, "plugin": name})
            self.register(skill)

        hook(register)


def load_registry() -> Registry:
    """Every skill from every installed plugin. Built-ins come in through their entry point."""
    registry = Registry()
    seen = set()
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.value in seen:
            continue
        seen.add(ep.value)
        try:
            registry.load_plugin(ep.name, ep.load())
        except AgentError:
            raise
        except Exception:
            _LOGGER.exception("skill plugin %s (%s) failed to load; skipping it", ep.name, ep.value)
    if _BUILTIN not in seen:  # running from a source tree that was never installed
        _LOGGER.warning("built-in skills entry point not installed; loading %s directly", _BUILTIN)
        from agent.skills.builtin import register_skills

        registry.load_plugin("builtin", register_skills)
    return registry
