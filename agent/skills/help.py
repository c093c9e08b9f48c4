"""`agent.help`: what the agent can do, and what it is, answered from real data, never from a model's imagination.

- skills: generated from the skill registry (what is installed and what is not);
- identity: the agent's name, version and that it runs locally;
- model: the chat model actually configured (a server, a GGUF path, or the embedded default);
- machine: this computer, from `platform` and psutil.
"""

from __future__ import annotations

import platform
from typing import Literal

import psutil
from pydantic import Field

from agent import __version__
from agent.events import SkillResult
from agent.models.catalog import DEFAULT_LLM
from agent.skills.base import Args, Register, Skill, SkillContext

__all__ = ["chat_model_description", "register"]

_BIGGER = ("For real open-ended answers, set llm.model_path to a bigger GGUF file, or llm.server_url to an "
           "Ollama or llama.cpp server.")


class HelpArgs(Args):
    topic: Literal["skills", "identity", "model", "machine"] = "skills"
    about: str | None = Field(None, max_length=200, description="what the user wants to do, in their words")


def chat_model_description(ctx: SkillContext) -> str:
    """Which model answers chat, from the configuration."""
    llm = ctx.settings.llm
    if llm.server_url:
        return f"the model {llm.server_model or '(server default)'} on the server at {llm.server_url}"
    if llm.model_path:
        return f"the GGUF model {llm.model_path}"
    return f"the small embedded model {DEFAULT_LLM}, through llama.cpp"


def _skills(args: HelpArgs, ctx: SkillContext) -> SkillResult:
    skills = list(ctx.services.registry)
    ready = [s for s in skills if s.run is not None and s.name not in ("chat", "agent.help")]
    missing = [s.name for s in skills if s.run is None]
    listing = [{"skill": s.name, "description": s.description, "example": s.examples[0] if s.examples else ""}
               for s in ready]
    if args.about:
        words = {w for w in args.about.lower().split() if len(w) > 3}
        related = [s for s in ready if words & set(f"{s.name} {s.description}".lower().replace(".", " ").split())]
        if related:
            reply = f"With {args.about} I can: " + "; ".join(s.description for s in related[:6]) + "."
            return SkillResult.ok(reply, skills=listing, related=[s.name for s in related], not_installed=missing)
    families = sorted({s.description.split(",")[0] for s in ready})[:6]
    reply = f"I can do {len(ready)} things, for example: " + "; ".join(families) + ". Ask me anything else too."
    return SkillResult.ok(reply, skills=listing, not_installed=missing)


def _help(args: HelpArgs, ctx: SkillContext) -> SkillResult:
    if args.topic == "identity":
        return SkillResult.ok(f"I'm ambient-agent {__version__}, a desktop assistant that runs entirely on this "
                              "computer: I route what you say to my skills, and nothing you say leaves the machine. "
                              "Ask \"what can you do\" for the list.", version=__version__)
    if args.topic == "model":
        model = chat_model_description(ctx)
        return SkillResult.ok(f"Chat answers come from {model}. Requests are routed by sentence templates and a "
                              f"MiniLM sentence-embedding model first. {_BIGGER}", model=model)
    if args.topic == "machine":
        mem = psutil.virtual_memory().total / 2**30
        cores = psutil.cpu_count(logical=True)
        system = f"{platform.system()} {platform.release()}".strip()
        reply = (f"This is {platform.node() or 'this computer'}: {system} on {platform.machine()}, "
                 f"{cores} CPU threads, {mem:.1f} GiB of memory.")
        return SkillResult.ok(reply, system=system, cpus=cores, memory_gib=round(mem, 1))
    return _skills(args, ctx)


def register(reg: Register) -> None:
    reg(Skill("agent.help", "what the agent can do, and what it is (name, model, machine)", args=HelpArgs, run=_help))
