"""The one pipeline every input uses: text → router → skill → reply (+ optional speech)."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

from agent.events import Intent, Reply, ResultState, SkillResult, Utterance
from agent.router.router import clarifying_question
from agent.services import Services

__all__ = ["Outcome", "Pipeline"]

_LOGGER = logging.getLogger(__name__)

_YES = re.compile(r"^(?:yes|yeah|yep|sure|confirm|confirmed|do it|go ahead|ok do it)\W*$", re.I)
_NO = re.compile(r"^(?:no|nope|cancel|don't|do not|never mind|abort)\W*$", re.I)


@dataclass
class Outcome:
    """One turn: what came in, how it was routed, what the skill did, and how long each stage took."""

    input: str
    intent: Intent
    result: SkillResult
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "input": self.input, "skill": self.intent.skill, "args": self.intent.args, "tier": self.intent.tier,
            "state": self.result.state.value, "reply": self.result.reply,
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            "confirmation": self.result.confirmation, "data": self.result.data,
        }


class Pipeline:
    def __init__(self, services: Services) -> None:
        self.services = services

    def handle(self, text: str, *, source: str = "cli", yes: bool = False, dry_run: bool = False) -> Outcome:
        utterance = Utterance(text, source)
        self.services.bus.publish(utterance)
        answer = self._answer_pending(text)
        if answer is not None:
            return answer
        timings: dict[str, float] = {}
        started = time.perf_counter()
        router = self.services.router()  # loads models the first time, then stays resident
        if (load_ms := (time.perf_counter() - started) * 1000) > 1:
            timings["load"] = load_ms
        started = time.perf_counter()
        intent = router.route(text)
        self.services.bus.publish(intent)
        timings["route"] = (time.perf_counter() - started) * 1000
        t0 = time.perf_counter()
        result = self._run(intent, yes=yes, dry_run=dry_run)
        timings["skill"] = (time.perf_counter() - t0) * 1000
        return self._finish(text, intent, result, timings, source=source)

    def run_skill(self, name: str, args: dict[str, Any] | None = None, *, source: str = "rule",
                  yes: bool = False, dry_run: bool = False) -> Outcome:
        """Call one skill by name, skipping the router (rule actions, the API, tray buttons)."""
        skill = self.services.registry.get(name)
        intent = Intent(name, dict(args or {}), source, 1.0, f"{name} {args or {}}")
        if skill is not None:
            question = clarifying_question(skill.args, intent.args)  # no model load just to validate
            if question is not None:
                intent = Intent(name, intent.args, source, 1.0, intent.utterance, question=question)
        t0 = time.perf_counter()
        result = self._run(intent, yes=yes, dry_run=dry_run)
        return self._finish(intent.utterance, intent, result, {"skill": (time.perf_counter() - t0) * 1000},
                            source=source)

    def confirm(self, token: str, *, granted: bool = True) -> Outcome:
        """Answer a pending confirmation: re-run its exact skill call with the token, or refuse it."""
        store = self.services.confirmations
        pending = store.get(token)
        if pending is None:
            intent = Intent("agent.confirm", {"token": token}, "confirmation", 1.0)
            result = SkillResult(ResultState.REFUSED, "That confirmation expired or does not exist; ask again.")
            return self._finish(token, intent, result, {})
        intent = Intent(pending.intent.get("skill", pending.command), pending.intent.get("args", {}),
                        "confirmation", 1.0, pending.summary)
        if not granted:
            store.refuse(token)
            return self._finish(token, intent, SkillResult(ResultState.REFUSED, "OK, I won't."), {})
        t0 = time.perf_counter()
        result = self._run(intent, confirmation=token)
        return self._finish(token, intent, result, {"skill": (time.perf_counter() - t0) * 1000})

    def _answer_pending(self, text: str) -> Outcome | None:
        if not (_YES.match(text.strip()) or _NO.match(text.strip())):
            return None
        pending = self.services.confirmations.latest()
        if pending is None:
            return None
        return self.confirm(pending.token, granted=bool(_YES.match(text.strip())))

    def _run(self, intent: Intent, *, yes: bool = False, dry_run: bool = False,
             confirmation: str | None = None) -> SkillResult:
        skill = self.services.registry.get(intent.skill)
        if intent.question:
            return SkillResult(ResultState.ERROR, intent.question, {"clarify": intent.question}, skill=intent.skill)
        if skill is None or skill.run is None:
            return SkillResult.unsupported(
                f"I understood that as {intent.skill}, but that skill isn't installed here yet.")
        if dry_run:
            return SkillResult.ok(f"(dry run) would call {intent.skill} with {intent.args}.", dry_run=True)
        ctx = self.services.context(intent.utterance, yes=yes, confirmation=confirmation)
        try:
            return skill.run(skill.args.model_validate(intent.args), ctx)
        except Exception as exc:
            _LOGGER.exception("skill %s failed", intent.skill)
            return SkillResult.error(f"Sorry, {intent.skill} failed: {exc.__class__.__name__}.", error=str(exc))

    def _finish(self, text: str, intent: Intent, result: SkillResult, timings: dict[str, float],
                source: str = "cli") -> Outcome:
        history = self.services.history()
        if history is not None and source not in ("rule", "eval") and not result.data.get("dry_run"):
            history.append(text, intent.skill, intent.args, result.reply, result.state.value)
        self.services.bus.publish(result)
        self.services.bus.publish(Reply(result.reply, result.state, self.services.settings.speak_replies))
        _LOGGER.info("%r → %s %s [%s] %s", text, intent.skill, intent.args, intent.tier, result.state.value)
        return Outcome(text, intent, result, timings)
