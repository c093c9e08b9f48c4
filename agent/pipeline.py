"""The one pipeline every input uses: text → router → skill → reply (+ optional speech).

One per process (`services.pipeline()`): the terminal, the prompt window, voice, the API, rule actions and the
tray all run their turns through it, and it owns the lock that lets one turn run at a time. Whether a turn
answers a user looking at the reply (the terminal, the prompt window) is a parameter of the turn.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agent.errors import StoreError
from agent.events import Intent, Reply, ResultState, SkillResult, Utterance
from agent.logs import said
from agent.router.router import clarifying_question
from agent.safety.confirm import Conversation, Pending, conversation, request_id

if TYPE_CHECKING:
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
        self._turn_lock = threading.RLock()
        self._interactive = False

    @contextlib.contextmanager
    def turn(self, *, interactive: bool = False) -> Iterator[None]:
        """Hold the one-turn-at-a-time lock (re-entrant: a caller may hold it around several steps of one turn).
        `interactive`: the user is looking at the reply (the terminal, the prompt window), so a confirmation
        this turn raises needs no extra notification."""
        with self._turn_lock:
            outer = self._interactive
            self._interactive = interactive or outer
            try:
                yield
            finally:
                self._interactive = outer

    @property
    def interactive(self) -> bool:
        """Whether the turn in progress answers a user who is looking at the reply."""
        return self._interactive

    def wait_idle(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the turn in flight to finish; False if it is still running."""
        if self._turn_lock.acquire(timeout=timeout):
            self._turn_lock.release()
            return True
        return False

    def warm(self) -> None:
        """Load the router's models now (between turns), so the first request answers at once."""
        with self.turn():
            self.services.router()

    def handle(self, text: str, *, source: str = "cli", yes: bool = False, dry_run: bool = False,
               session: str | None = None, interactive: bool = False) -> Outcome:
        """One turn of the conversation `source`/`session` (default: this terminal for the CLI, else this
        process): a bare yes/no answers only a confirmation that conversation raised."""
        with self.turn(interactive=interactive), conversation(Conversation.of(source, session)) as conv:
            return self._handle(text, conv, yes=yes, dry_run=dry_run)

    def _handle(self, text: str, conv: Conversation, *, yes: bool, dry_run: bool) -> Outcome:
        source = conv.source
        utterance = Utterance(text, source)
        self.services.bus.publish(utterance)
        answer = self._answer_pending(text, conv)
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
        if intent.then:
            result = self._then(intent, result, yes=yes, dry_run=dry_run)
        timings["skill"] = (time.perf_counter() - t0) * 1000
        return self._finish(text, intent, result, timings, source=source)

    def _then(self, first: Intent, result: SkillResult, *, yes: bool, dry_run: bool) -> SkillResult:
        """Several requests in one sentence: each in order, while each succeeds. One that needs a confirmation
        or fails stops the rest, which the reply names so that nothing is silently dropped."""
        steps = [(first, result)]
        for intent in first.then:
            if result.state is not ResultState.OK:
                break
            self.services.bus.publish(intent)
            result = self._run(intent, yes=yes, dry_run=dry_run)
            steps.append((intent, result))
        left = first.then[len(steps) - 1:]
        reply = " ".join(r.reply for _, r in steps)
        if left:
            reply += " I stopped there; not done: " + "; ".join(i.utterance for i in left) + "."
        data = {"steps": [{"skill": i.skill, "args": i.args, "state": r.state.value, "reply": r.reply, "data": r.data}
                          for i, r in steps]}
        return SkillResult(result.state, reply, data, confirmation=result.confirmation, skill=result.skill)

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
        with self.turn(), conversation(Conversation.of(source)):
            result = self._run(intent, yes=yes, dry_run=dry_run)
            return self._finish(intent.utterance, intent, result, {"skill": (time.perf_counter() - t0) * 1000},
                                source=source)

    def confirm(self, token: str, *, granted: bool = True, source: str = "confirmation",
                interactive: bool = False) -> Outcome:
        """Answer a pending confirmation by its token (whoever holds the token may answer it): re-run its
        exact skill call with the token, or refuse it."""
        with self.turn(interactive=interactive), conversation(Conversation.of(source)):
            return self._confirm(token, granted=granted)

    def _confirm(self, token: str, *, granted: bool) -> Outcome:
        store = self.services.confirmations
        pending = store.get(token)
        if pending is None:
            intent = Intent("agent.confirm", {"token": token}, "confirmation", 1.0)
            result = SkillResult(ResultState.REFUSED, "That confirmation expired or does not exist; ask again.")
            return self._finish("(confirmation)", intent, result, {})
        intent = Intent(pending.intent.get("skill", pending.command), pending.intent.get("args", {}),
                        "confirmation", 1.0, pending.summary)
        if not granted:
            store.refuse(token)
            return self._finish("(confirmation)", intent, SkillResult(ResultState.REFUSED, "OK, I won't."), {})
        t0 = time.perf_counter()
        result = self._run(intent, confirmation=token)
        return self._finish("(confirmation)", intent, result, {"skill": (time.perf_counter() - t0) * 1000})

    def _answer_pending(self, text: str, conv: Conversation) -> Outcome | None:
        """A bare yes/no: answer this conversation's one recent confirmation; otherwise ask which, or refuse."""
        granted = bool(_YES.match(text.strip()))
        if not (granted or _NO.match(text.strip())):
            return None
        store = self.services.confirmations
        live = store.live()
        if not live:
            return None
        intent = Intent("agent.confirm", {}, "confirmation", 1.0, text)
        if conv.source == "api":
            return self._finish(text, intent, SkillResult(
                ResultState.REFUSED, "Over the API a confirmation is answered only with POST /api/confirm/{id}."),
                {}, source=conv.source)
        mine = store.answerable(conv, self.services.settings.history.follow_up_s)
        if len(mine) == 1:
            return self._confirm(mine[0].token, granted=granted)
        if mine:
            return self._finish(text, intent, _which_one(mine), {}, source=conv.source)
        _LOGGER.info("a bare %s from %s matched no confirmation of its own (%d pending elsewhere)",
                     "yes" if granted else "no", conv.source, len(live))
        return self._finish(text, intent, SkillResult(
            ResultState.REFUSED, "Nothing you asked here is waiting for a yes or no. A confirmation raised "
            "elsewhere is answered where it was asked, or with its id (agent confirm ID)."), {}, source=conv.source)

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
        except StoreError as exc:  # a damaged store or a full disk (logged once): which file, and the fix
            return SkillResult.error(str(exc), store=exc.path, problem=exc.problem)
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
        # skills, states, timings and ids only: what was said and the argument values stay out of the log
        _LOGGER.info("turn from %s: %s [%s] %s%s in %s ms", source, intent.skill, intent.tier, result.state.value,
                     f" request {request_id(result.confirmation)}" if result.confirmation else "",
                     "+".join(f"{k}={v:.0f}" for k, v in timings.items()) or "0")
        _LOGGER.debug("turn text: %s args: %s", said(text), said(str(intent.args)))
        return Outcome(text, intent, result, timings)


def _which_one(mine: list[Pending]) -> SkillResult:
    listed = "; ".join(f"{n}) {p.summary} (agent confirm {p.token})" for n, p in enumerate(mine, start=1))
    return SkillResult(ResultState.REFUSED, f"More than one action is waiting for your answer: {listed}. "
                       "Answer one by its id.", {"pending": [{"summary": p.summary, "confirmation": p.token}
                                                            for p in mine]})
