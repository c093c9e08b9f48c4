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
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["OPEN_SKILLS", "Judge", "Matcher", "RouterView", "complete_request", "request_checker", "router_intent",
           "router_judge", "router_matcher", "understanding"]

_LOGGER = logging.getLogger(__name__)

Judge = Callable[[str], float]  # how well the agent understands a text: 0 (not at all) .. 1 (a complete command)
Matcher = Callable[[str], bool]  # does a sentence template match the text whole?

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


class RouterView:
    """The agent's router seen without side effects: a second router instance over the same registry and semantic
    index, without the LLM tier (no model call per candidate), built on first use, whose follow-up context each
    call leaves as it was."""

    def __init__(self, services: Any) -> None:
        self._services = services
        self._router: Any = None
        self._lock = threading.Lock()

    def router(self) -> Any:
        with self._lock:
            if self._router is None:
                main = self._services.router()
                try:  # the same router class, without models: routing a candidate costs milliseconds
                    self._router = type(main)(self._services.settings, self._services.registry, None,
                                              getattr(main, "semantic", None))
                except TypeError:
                    _LOGGER.info("router has another constructor; judging candidates with the agent's own router")
                    self._router = main
            return self._router

    def route(self, text: str) -> Any:
        router = self.router()
        context = getattr(router, "context", None)
        last = getattr(context, "last", None)
        try:
            return router.route(text)
        finally:
            if context is not None and hasattr(context, "last"):
                context.last = last

    def judge(self, text: str) -> float:
        """`understanding` of the routing decision."""
        intent = self.route(text)
        return understanding(intent.skill, intent.tier, intent.confidence, intent.question)

    def matches(self, text: str) -> bool:
        """Does one of the sentence templates match the text whole? (Tier 1 alone: a millisecond or two.)"""
        match = getattr(self.router(), "match_sentence", None)
        return bool(text.strip()) and match is not None and match(text) is not None

    def complete(self, text: str) -> bool:
        """`complete_request` of the routing decision."""
        intent = self.route(text)
        return complete_request(text, intent.skill, intent.tier, intent.question)


def router_intent(services: Any) -> Callable[[str], Any]:
    """Route a text with the agent's router, without side effects."""
    return RouterView(services).route


def router_judge(services: Any) -> Judge:
    """A `Judge` over the agent's router."""
    return RouterView(services).judge


def router_matcher(services: Any) -> Callable[[str], bool]:
    """Whole-sentence template matching with the agent's router."""
    return RouterView(services).matches


def request_checker(services: Any) -> Callable[[str], bool]:
    """`complete_request` over the agent's router."""
    return RouterView(services).complete
