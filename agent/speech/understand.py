"""How well the agent understands a text: for choosing between Whisper's candidate transcripts, and for ending a
turn as soon as what was heard is a complete request.

`understanding` and `complete_request` are pure: a command matched whole by the sentence templates scores highest,
a semantic match its score, a command that still needs a clarifying question less, the chat fallback nothing; a
request is complete when the templates matched it whole, nothing is missing, it does not end on a word that
announces more ("for", "to", "and") and its skill takes no free text that may go on ("remind me to ...").
`router_intent` wraps the agent's router without side effects: a second router instance over the same registry
and semantic index, without the LLM tier (no model call per candidate) and with its own follow-up context.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

__all__ = ["OPEN_SKILLS", "Judge", "complete_request", "request_checker", "router_intent", "router_judge",
           "understanding"]

_LOGGER = logging.getLogger(__name__)

Judge = Callable[[str], float]  # how well the agent understands a text: 0 (not at all) .. 1 (a complete command)

# Skills whose request may go on after a pause: free text, or an optional detail that often comes last.
OPEN_SKILLS = frozenset({"chat", "reminder.add", "notes.add", "notes.search", "files.search", "files.index",
                         "finance.expense_add", "timetrack.start", "tools.recommend", "command.fix", "password.save",
                         "shopping.add", "timer.set"})
_ANNOUNCES_MORE = re.compile(r"\b(?:to|for|in|at|on|and|or|the|a|an|my|of|with|about|by|from|until|then|but|"
                             r"is|was|than|plus|minus|times|divided|over|into|called|named|that|this)\W*$", re.I)


def understanding(skill: str, tier: str, confidence: float, question: str | None) -> float:
    """0..1: how clearly a routing decision understood its text."""
    if skill == "chat" or tier in ("fallback", "chat"):
        return 0.0
    score = 1.0 if tier == "template" else max(0.0, min(1.0, confidence))
    return score - 0.3 if question else score


def complete_request(text: str, skill: str, tier: str, question: str | None) -> bool:
    """Is `text` a whole request the agent can act on now (see the module docstring)?"""
    words = text.strip()
    return bool(words) and tier == "template" and question is None and skill not in OPEN_SKILLS \
        and not _ANNOUNCES_MORE.search(words)


def router_intent(services: Any) -> Callable[[str], Any]:
    """Route a text with the agent's router, without side effects (built once, on the first call)."""
    judge_router: Any = None

    def build() -> Any:
        main = services.router()
        try:  # the same router class, without models (no LLM tier): routing a candidate costs milliseconds
            return type(main)(services.settings, services.registry, None, getattr(main, "semantic", None))
        except TypeError:
            _LOGGER.info("router has another constructor; judging candidates with the agent's own router")
            return main

    def route(text: str) -> Any:
        nonlocal judge_router
        if judge_router is None:
            judge_router = build()
        context = getattr(judge_router, "context", None)
        last = getattr(context, "last", None)
        try:
            return judge_router.route(text)
        finally:
            if context is not None and hasattr(context, "last"):
                context.last = last

    return route


def router_judge(services: Any) -> Judge:
    """A `Judge` over the agent's router."""
    route = router_intent(services)

    def judge(text: str) -> float:
        intent = route(text)
        return understanding(intent.skill, intent.tier, intent.confidence, intent.question)

    return judge


def request_checker(services: Any) -> Callable[[str], bool]:
    """`complete_request` over the agent's router."""
    route = router_intent(services)

    def check(text: str) -> bool:
        intent = route(text)
        return complete_request(text, intent.skill, intent.tier, intent.question)

    return check
