"""Small event dataclasses for what flows through the agent.

Inputs publish them on the bus (`agent.bus`); the tray, the API and the logs subscribe.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

__all__ = [
    "Activity",
    "Alert",
    "Event",
    "Intent",
    "MuteListening",
    "Notice",
    "Reply",
    "ResultState",
    "SkillResult",
    "Speak",
    "StopSpeaking",
    "Transcript",
    "UnmuteListening",
    "Utterance",
    "VoiceTimings",
]


def _now() -> float:
    return time.time()


def _id() -> str:
    return uuid.uuid4().hex[:12]


@dataclass(frozen=True)
class Event:
    """Base: every event has an id and a wall-clock timestamp, keyword-only (they follow each event's own fields
    in its constructor and in its JSON)."""

    id: str = field(default_factory=_id, kw_only=True)
    ts: float = field(default_factory=_now, kw_only=True)


@dataclass(frozen=True)
class Utterance(Event):
    """Text the user typed or said. `source`: cli, prompt, voice, api, rule."""

    text: str
    source: str = "cli"


@dataclass(frozen=True)
class Transcript(Event):
    """What speech recognition heard. `confidence` is 0..1, `audio_ms` the audio length."""

    text: str
    confidence: float = 1.0
    audio_ms: float = 0.0


@dataclass(frozen=True)
class Intent(Event):
    """The router's decision: one skill call. `tier` names the router stage that decided."""

    skill: str
    args: dict[str, Any]
    tier: str
    confidence: float
    utterance: str = ""
    ms: float = 0.0
    question: str | None = None  # set when the arguments need clarifying
    timings: dict[str, float] = field(default_factory=dict)  # ms per router tier that ran
    then: tuple[Intent, ...] = ()  # further requests said in the same breath, run after this one in order


class ResultState(str, Enum):
    """What happened. Never a fake success: a skill that cannot act says so."""

    OK = "ok"
    NEEDS_CONFIRMATION = "needs_confirmation"
    REFUSED = "refused"
    UNSUPPORTED = "unsupported"
    ERROR = "error"


@dataclass(frozen=True)
class SkillResult(Event):
    """A skill's answer: a short spoken-style `reply` and structured `data` for JSON and the tray."""

    state: ResultState
    reply: str
    data: dict[str, Any] = field(default_factory=dict)
    confirmation: str | None = None  # token to pass back when state is needs_confirmation
    skill: str = ""

    @classmethod
    def ok(cls, reply: str, **data: Any) -> SkillResult:
        return cls(ResultState.OK, reply, dict(data))

    @classmethod
    def error(cls, reply: str, **data: Any) -> SkillResult:
        return cls(ResultState.ERROR, reply, dict(data))

    @classmethod
    def refused(cls, reply: str, **data: Any) -> SkillResult:
        return cls(ResultState.REFUSED, reply, dict(data))

    @classmethod
    def unsupported(cls, reply: str, **data: Any) -> SkillResult:
        return cls(ResultState.UNSUPPORTED, reply, dict(data))


@dataclass(frozen=True)
class Reply(Event):
    """What the user gets back: `text`, spoken when `speak` is true."""

    text: str
    state: ResultState
    speak: bool = False
    utterance_id: str = ""


@dataclass(frozen=True)
class Alert(Event):
    """Something the agent noticed on its own (a rule fired). `severity`: info, warning, critical."""

    title: str
    message: str
    severity: str = "info"
    source: str = ""


@dataclass(frozen=True)
class StopSpeaking(Event):
    """Stop talking now: the speech output cuts the current reply short. `source`: who asked."""

    source: str = "user"


@dataclass(frozen=True)
class MuteListening(Event):
    """Stop listening: the microphone stays off until the push-to-talk key is pressed. `source`: who asked."""

    source: str = "user"


@dataclass(frozen=True)
class UnmuteListening(Event):
    """Listen again after `MuteListening` (the tray's "Unmute listening"). `source`: who asked."""

    source: str = "user"


@dataclass(frozen=True)
class Activity(Event):
    """What the agent is doing now, for the tray icon and the API: `state` is idle, listening (heard the wake
    word or push-to-talk), thinking or speaking. The voice input and the speech output publish it;
    `source`: who says so (voice, tts, pipeline)."""

    state: str
    source: str = ""


@dataclass(frozen=True)
class Speak(Event):
    """Say `text` aloud (the speech output subscribes). `source`: who asked, e.g. `rule:cpu_hot`."""

    text: str
    source: str = ""


@dataclass(frozen=True)
class Notice(Event):
    """A named agent event rules can trigger on: `agent.started`, `agent.resumed`, `security.finding`...
    `data` holds plain values (str, int, float, bool)."""

    name: str
    data: dict[str, Any] = field(default_factory=dict)
    source: str = ""


@dataclass(frozen=True)
class VoiceTimings(Event):
    """How long one spoken request took, per stage, in ms (the voice input publishes it; metrics subscribe):
    `stt`, `route`, `skill`, `tts_first_audio`, and from the end of speech `eos_to_transcript`,
    `eos_to_first_audio` (the endpointer's decision) and `speech_end_to_first_audio` (the last voiced sound)."""

    timings_ms: dict[str, float]
    transcript: str = ""
    skill: str = ""
