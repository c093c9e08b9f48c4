"""Skills: the contract (`base`), the registry, the intent catalogue and the built-in families."""

from agent.skills.base import Args, NoArgs, Register, Skill, SkillContext
from agent.skills.registry import Registry, load_registry

__all__ = ["Args", "NoArgs", "Register", "Registry", "Skill", "SkillContext", "load_registry"]
