"""The pipeline's result states, through real skills and the real executor."""

from __future__ import annotations

from datetime import datetime

import pytest

from agent.events import Intent, Reply, ResultState, SkillResult
from agent.pipeline import Pipeline
from agent.services import Services
from agent.skills.base import NoArgs, Skill, SkillContext


@pytest.mark.clock
def test_ok_answers_the_time(services: Services) -> None:
    before = datetime.now()
    outcome = Pipeline(services).handle("what time is it")
    after = datetime.now()
    assert outcome.intent.skill == "time.now"
    assert outcome.result.state is ResultState.OK
    hours = {(t.strftime("%I").lstrip("0") or "12") for t in (before, after)}  # the hour may turn meanwhile
    assert any(f"{hour}:" in outcome.result.reply for hour in hours), outcome.result.reply
    assert set(outcome.timings_ms) >= {"route", "skill"}


def test_calc_through_the_pipeline(services: Services) -> None:
    outcome = Pipeline(services).handle("calculate 15 times 24")
    assert outcome.result.state is ResultState.OK
    assert "360" in outcome.result.reply
    assert outcome.to_json()["skill"] == "math.calc"


def test_a_skill_without_a_handler_is_unsupported(services: Services) -> None:
    services.registry.register(Skill("demo.absent", "known to the router, implemented nowhere"))
    outcome = Pipeline(services).run_skill("demo.absent", {})
    assert outcome.result.state is ResultState.UNSUPPORTED
    assert "isn't installed" in outcome.result.reply


def test_a_crashing_skill_is_an_error_not_a_crash(services: Services) -> None:
    def boom(args: NoArgs, ctx: SkillContext) -> SkillResult:
        raise RuntimeError("disk on fire")

    services.registry.register(Skill("demo.boom", "always fails", run=boom))
    outcome = Pipeline(services).run_skill("demo.boom")
    assert outcome.result.state is ResultState.ERROR
    assert "disk on fire" in outcome.result.data["error"]


def test_destructive_command_needs_confirmation_then_refusal(services: Services) -> None:
    pipeline = Pipeline(services)
    asked = pipeline.run_skill("command.run", {"command": "clear_old_temp", "args": {"days": 3650}})
    assert asked.result.state is ResultState.NEEDS_CONFIRMATION
    token = asked.result.confirmation
    assert token
    refused = pipeline.confirm(token, granted=False)
    assert refused.result.state is ResultState.REFUSED
    events = [r["event"] for r in services.audit.records()]
    assert events == ["confirmation.asked", "confirmation.refused"]  # nothing ran


def test_spoken_yes_confirms_its_own_conversations_pending_action(services: Services) -> None:
    pipeline = Pipeline(services)
    asked = pipeline.run_skill("command.run", {"command": "clear_old_temp", "args": {"days": 3650}}, source="voice")
    assert asked.result.state is ResultState.NEEDS_CONFIRMATION
    other = pipeline.handle("yes", source="prompt")  # another conversation's yes answers nothing
    assert other.result.state is ResultState.REFUSED
    done = pipeline.handle("yes", source="voice")
    assert done.result.state is ResultState.OK, done.result.reply
    assert [r["event"] for r in services.audit.records()][-1] == "exec.run"


def test_dry_run_executes_nothing(services: Services) -> None:
    outcome = Pipeline(services).handle("show my ip addresses", dry_run=True)
    assert outcome.intent.skill == "command.run"
    assert outcome.result.data.get("dry_run") is True
    assert list(services.audit.records()) == []


def test_missing_argument_gets_a_clarifying_question(services: Services) -> None:
    services.settings.router.use_llm = False  # the question must come from validation, not a model guess
    outcome = Pipeline(services).handle("set a timer")
    assert outcome.intent.skill == "timer.set"
    assert outcome.result.state is ResultState.ERROR
    assert outcome.result.reply == "How long should the timer run?"
    assert outcome.result.data["clarify"]


def test_replies_are_published_on_the_bus(services: Services) -> None:
    seen: list[object] = []
    services.bus.subscribe(Reply, seen.append)
    services.bus.subscribe(Intent, seen.append)
    Pipeline(services).handle("what is 2 plus 2")
    assert [type(e).__name__ for e in seen] == ["Intent", "Reply"]
