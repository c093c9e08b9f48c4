"""`command.run`: run an allow-listed command through the executor (read-only ones directly,
system-changing ones after confirmation)."""

from __future__ import annotations

import getpass
import logging

from pydantic import Field

from agent.events import ResultState, SkillResult
from agent.skills.base import Args, Register, Skill, SkillContext

__all__ = ["register"]

_LOGGER = logging.getLogger(__name__)

_MAX_SPOKEN = 160


class CommandRunArgs(Args):
    command: str = Field(min_length=1, description="an allow-listed command id")
    args: dict[str, str | int] = Field(default_factory=dict)


def _first_lines(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    short = "; ".join(lines[:2])
    return short if len(short) <= _MAX_SPOKEN else short[: _MAX_SPOKEN - 1] + "…"


def _run(args: CommandRunArgs, ctx: SkillContext) -> SkillResult:
    spec = ctx.executor.command(args.command)
    if spec is None:
        known = ", ".join(c.id for c in ctx.executor.commands())
        return SkillResult.refused(f"'{args.command}' is not an allowed command. I can run: {known}.")
    cmd_args = dict(args.args)
    if "user" in spec.args and "user" not in cmd_args:
        cmd_args["user"] = getpass.getuser()
    result = ctx.executor.run(args.command, cmd_args, yes=ctx.yes, confirmation=ctx.confirmation,
                              intent={"skill": "command.run", "args": args.model_dump()})
    data = {"command": args.command, "summary": result.summary, "returncode": result.returncode,
            "stdout": result.stdout, "stderr": result.stderr[:2000], "truncated": result.truncated,
            "duration_ms": round(result.duration_ms, 1)}
    if result.state is ResultState.NEEDS_CONFIRMATION:
        return SkillResult(ResultState.NEEDS_CONFIRMATION, f"This will {result.summary}. Should I go ahead?",
                           data, confirmation=result.confirmation)
    if result.state is ResultState.OK:
        out = _first_lines(result.stdout)
        reply = f"Done: {spec.description or args.command}." + (f" {out}" if out else "")
        return SkillResult(ResultState.OK, reply, data)
    return SkillResult(result.state, f"{args.command} {result.message}.", data)


def register(reg: Register) -> None:
    reg(Skill("command.run", "run an allow-listed command (disk usage, list a folder, uptime...)",
              args=CommandRunArgs, changes_system=True, run=_run))
