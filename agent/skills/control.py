"""`agent.stop` and `agent.mute`: ask the voice layer to stop talking or stop listening.

Both only publish an event on the bus (`StopSpeaking`, `MuteListening`); the speech output and the
listener subscribe to them. The result says how many subscribers received it, so a "stop" with nobody
listening is visible as such (`listeners: 0`) rather than a silent pretend success.
"""

from __future__ import annotations

import logging

from agent.events import Event, MuteListening, SkillResult, StopSpeaking
from agent.skills.base import NoArgs, Register, Skill, SkillContext

__all__ = ["register"]

_LOGGER = logging.getLogger(__name__)

STOP_REPLY = "Okay."
MUTE_REPLY = "Microphone off. Press the push-to-talk key to talk to me."


def _publish(ctx: SkillContext, event: Event) -> int:
    listeners = ctx.bus.listeners(event)
    ctx.bus.publish(event)
    _LOGGER.info("published %s to %d listener(s)", type(event).__name__, listeners)
    return listeners


def _stop(args: NoArgs, ctx: SkillContext) -> SkillResult:
    n = _publish(ctx, StopSpeaking(source="skill"))
    return SkillResult.ok(STOP_REPLY, published=True, listeners=n, event="StopSpeaking")


def _mute(args: NoArgs, ctx: SkillContext) -> SkillResult:
    n = _publish(ctx, MuteListening(source="skill"))
    return SkillResult.ok(MUTE_REPLY, published=True, listeners=n, event="MuteListening")


def register(reg: Register) -> None:
    reg(Skill("agent.stop", "stop speaking", run=_stop))
    reg(Skill("agent.mute", "stop listening", run=_mute))
