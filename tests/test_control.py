"""agent.stop / agent.mute: they publish StopSpeaking / MuteListening on the real bus and say how many
subscribers received it (no voice layer exists yet, so nothing pretends to have stopped anything)."""

from __future__ import annotations

from agent.events import Event, MuteListening, ResultState, StopSpeaking
from agent.pipeline import Pipeline
from agent.services import Services


def test_stop_publishes_stop_speaking_to_its_subscribers(services: Services) -> None:
    got: list[Event] = []
    detach = services.bus.subscribe(StopSpeaking, got.append)
    outcome = Pipeline(services).run_skill("agent.stop", {})
    assert outcome.result.state is ResultState.OK
    assert outcome.result.reply == "Okay."
    assert outcome.result.data == {"published": True, "listeners": 1, "event": "StopSpeaking"}
    assert len(got) == 1
    assert isinstance(got[0], StopSpeaking)
    detach()
    outcome = Pipeline(services).run_skill("agent.stop", {})
    assert outcome.result.data["listeners"] == 0
    assert len(got) == 1


def test_mute_publishes_mute_listening_and_not_stop(services: Services) -> None:
    muted: list[Event] = []
    stopped: list[Event] = []
    services.bus.subscribe(MuteListening, muted.append)
    services.bus.subscribe(StopSpeaking, stopped.append)
    outcome = Pipeline(services).run_skill("agent.mute", {})
    assert outcome.result.state is ResultState.OK
    assert outcome.result.reply == "Microphone off. Press the push-to-talk key to talk to me."
    assert outcome.result.data["listeners"] == 1
    assert [type(e) for e in muted] == [MuteListening]
    assert stopped == []


def test_spoken_commands_route_to_stop_and_mute(services: Services) -> None:
    received: list[Event] = []
    services.bus.subscribe(StopSpeaking, received.append)
    services.bus.subscribe(MuteListening, received.append)
    pipeline = Pipeline(services)
    stop = pipeline.handle("stop talking")
    mute = pipeline.handle("stop listening")
    assert (stop.intent.skill, mute.intent.skill) == ("agent.stop", "agent.mute")
    assert [type(e) for e in received] == [StopSpeaking, MuteListening]


def test_a_generic_event_subscriber_counts_as_a_listener(services: Services) -> None:
    seen: list[Event] = []
    services.bus.subscribe(Event, seen.append)  # e.g. the API streaming every event
    assert services.bus.listeners(StopSpeaking()) == 1
    assert services.bus.listeners(MuteListening()) == 1
