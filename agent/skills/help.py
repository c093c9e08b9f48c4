"""`agent.help`: what the agent can do, generated from the registry."""

from __future__ import annotations

from agent.events import SkillResult
from agent.skills.base import NoArgs, Register, SkillContext
from agent.skills.catalog import implement

__all__ = ["register"]


def _help(args: NoArgs, ctx: SkillContext) -> SkillResult:
    registry = ctx.services.get("registry")
    skills = list(registry) if registry is not None else []
    ready = [s for s in skills if s.run is not None and s.name not in ("chat", "agent.help")]
    missing = [s.name for s in skills if s.run is None]
    listing = [{"skill": s.name, "description": s.description, "example": s.examples[0] if s.examples else ""}
               for s in ready]
    families = sorted({s.description.split(",")[0] for s in ready})[:6]
    reply = f"I can do {len(ready)} things, for example: " + "; ".join(families) + ". Ask me anything else too."
    return SkillResult.ok(reply, skills=listing, not_installed=missing)


def register(reg: Register) -> None:
    reg(implement("agent.help", _help))
