"""`timer.cancel`: "cancel it" right after a timer, or "cancel my reminder", on the real scheduler store."""

from __future__ import annotations

import pytest

from agent.events import ResultState
from agent.pipeline import Pipeline
from agent.scheduling import list_reminders
from agent.services import Services

pytestmark = pytest.mark.clock  # periods, "today", "tomorrow": re-run under faketime in CI


def test_cancel_it_after_a_timer(services: Services) -> None:
    services.settings.router.use_llm = False
    pipeline = Pipeline(services)
    assert pipeline.handle("set a timer for 10 minutes").result.state is ResultState.OK
    assert len(list_reminders(services.paths)) == 1
    outcome = pipeline.handle("cancel it")
    assert (outcome.intent.skill, outcome.intent.tier) == ("timer.cancel", "context")
    assert outcome.result.state is ResultState.OK
    assert list_reminders(services.paths) == []


def test_cancel_the_latest_reminder_and_honest_when_none(services: Services) -> None:
    services.settings.router.use_llm = False
    pipeline = Pipeline(services)
    pipeline.handle("remind me tomorrow at 9 to call bob")
    pipeline.handle("set a timer for 5 minutes")
    outcome = pipeline.handle("cancel my reminder")
    assert outcome.intent.args == {"kind": "reminder"}
    assert "call bob" in outcome.result.reply
    assert [r.kind for r in list_reminders(services.paths)] == ["timer"]
    assert pipeline.handle("cancel the timer").result.state is ResultState.OK
    none_left = pipeline.handle("cancel the timer")
    assert none_left.result.state is ResultState.ERROR
    assert "no pending" in none_left.result.reply
