"""How well the agent understands a text, for choosing between Whisper's candidate transcripts.

`understanding(intent)` is pure: a complete command decided by the templates scores highest, a semantic match
its score, a command that still needs a clarifying question less, the chat fallback nothing. `router_judge` wraps
the agent's router as a `Judge` without side effects: a second router instance over the same registry and
semantic index, without the LLM tier (no model call per candidate) and with its own follow-up context.
"""

from __future__ import annotations

import logging
from typing import Any

from agent.speech.stt import Judge

__all__ = ["router_judge", "understanding"]

_LOGGER = logging.getLogger(__name__)


def understanding(skill: str, tier: str, confidence: float, question: str | None) -> float:
    """0..1: how clearly a routing decision understood its text."""
    if skill == "chat" or tier in ("fallback", "chat"):
        return 0.0
    score = 1.0 if tier == "template" else max(0.0, min(1.0, confidence))
    return score - 0.3 if question else score


def router_judge(services: Any) -> Judge:
    """A `Judge` over the agent's router (built once, on the first call)."""
    judge_router: Any = None

    def build() -> Any:
        main = services.router()
        try:  # the same router class, without models (no LLM tier): routing a candidate costs milliseconds
            return type(main)(services.settings, services.registry, None, getattr(main, "semantic", None))
        except TypeError:
            _LOGGER.info("router has another constructor; judging candidates with the agent's own router")
            return main

    def judge(text: str) -> float:
        nonlocal judge_router
        if judge_router is None:
            judge_router = build()
        context = getattr(judge_router, "context", None)
        last = getattr(context, "last", None)
        try:
            intent = judge_router.route(text)
        finally:
            if context is not None and hasattr(context, "last"):
                context.last = last
        return understanding(intent.skill, intent.tier, intent.confidence, intent.question)

    return judge
