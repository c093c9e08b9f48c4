"""`time.now`: the local time and date."""

from __future__ import annotations

from datetime import datetime

from agent.events import SkillResult
from agent.skills.base import NoArgs, Register, Skill, SkillContext

__all__ = ["register"]


def _now(args: NoArgs, ctx: SkillContext) -> SkillResult:
    now = datetime.now().astimezone()
    hour = now.strftime("%I").lstrip("0") or "12"
    clock = f"{hour}:{now:%M} {now:%p}"
    date = f"{now:%A}, {now:%B} {now.day}, {now.year}"
    asks_date = any(w in ctx.utterance.lower() for w in ("date", "day", "today", "month", "year"))
    reply = f"Today is {date}; it's {clock}." if asks_date else f"It's {clock} on {date}."
    return SkillResult.ok(reply, iso=now.isoformat(timespec="seconds"), timezone=str(now.tzinfo),
                          time=now.strftime("%H:%M"), date=now.date().isoformat())


def register(reg: Register) -> None:
    reg(Skill("time.now", "the current time and date", run=_now))
