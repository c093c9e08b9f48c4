"""`command.run`: run an allow-listed command through the executor (read-only ones directly,
system-changing ones after confirmation)."""

from __future__ import annotations

import getpass
import logging
import re
from typing import Any

from pydantic import Field

from agent.events import ResultState, SkillResult
from agent.safety.commands import BUILTIN_COMMANDS
from agent.skills.base import Args, Register, Skill, SkillContext
from agent.skills.extractors import FOLDERS

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


# -- arguments from the words (the router's rule extractor for these skills) --------------------
_X_COMMAND_HINTS = [
    ("clear_old_temp", r"\b(temp|temporary|tmp)\b.*\b(files?|clean|clear|delete|remove)|\b(clean|clear)\w*\b.*\btemp"),
    ("uptime", r"\b(uptime|been up|been on|since (?:the )?(?:last )?(?:boot|reboot|restart)|up for|running for)\b"),
    ("network_addresses", r"\b(ip|ip addresses?|network addresses|mac address|interfaces)\b"),
    ("listening_ports", r"\b(ports?|listening)\b"),
    ("who", r"\b(who is logged|who's logged|logged in|users? online)\b"),
    ("kernel_version", r"\b(kernel|uname|os version)\b"),
    ("folder_size", r"\b(size of|how big is)\b.*\b(folder|directory|dir)\b"),
    ("list_folder", r"\b(list|show|what's in|whats in|what is in|contents)\b.*\b(folder|directory|dir|files|downloads|"
                    r"documents|desktop|pictures|home)\b|\bls\b"),
    ("disk_usage", r"\b(disk usage|df|space each|drive usage|disk space usage|usage of (?:the )?disks?|disk usage)\b"),
    ("memory_usage", r"\b(free -h|memory usage command)\b"),
]


_PROGRAMS = {"netstat": "ss", "ifconfig": "ip", "w": "who"}  # the allow-listed program doing the same job
_SHELL_LINE = re.compile(r"^([a-z]+)((?:\s+(?:-{1,2}[a-z][\w-]*|a|addr|address|brief))*)\s*(~?/[\w./~-]*|~)?\s*$")


def _typed_command(t: str) -> dict[str, Any]:
    """A command line typed as the request ("df -h", "du -sh ~/logs"): the allow-listed command that runs the same
    program with a folder at most (its own options are the allow-list's, never the typed ones)."""
    m = _SHELL_LINE.match(t.strip())
    if m is None:
        return {}
    program = _PROGRAMS.get(m.group(1), m.group(1))
    for spec in BUILTIN_COMMANDS:
        if spec.argv[0] == program and set(spec.args) <= {"path"}:
            out: dict[str, Any] = {"command": spec.id}
            if m.group(3) and "path" in spec.args:
                out["args"] = {"path": m.group(3)}
            return out
    return {}


def _extract_command(t: str) -> dict[str, Any]:
    typed = _typed_command(t)
    if typed:
        return typed
    out: dict[str, Any] = {}
    for cid, pattern in _X_COMMAND_HINTS:
        if re.search(pattern, t):
            out["command"] = cid
            break
    days = re.search(r"\b(\d{1,4})\s+days?\b", t)
    if days and out.get("command") in (None, "clear_old_temp"):  # "... older than 7 days"
        out["args"] = {"days": int(days.group(1))}
    if out.get("command") in ("list_folder", "folder_size"):
        m = re.search(r"(~?/[\w./-]*)", t)
        if m:
            out["args"] = {"path": m.group(1)}
        else:
            for word, path in FOLDERS.items():
                if re.search(rf"\b{word}\b", t):
                    out["args"] = {"path": path}
                    break
    return out


def register(reg: Register) -> None:
    reg(Skill("command.run", "run an allow-listed command (disk usage, list a folder, uptime...)",
              args=CommandRunArgs, changes_system=True, run=_run, extract=_extract_command, numeric=True))
