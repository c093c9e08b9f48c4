"""Wake phrase detection, gated by voice activity.

Nothing runs while the room is quiet except the 32 ms Silero VAD windows (about 0.5% of one core). When the
endpointer hands over an utterance, Whisper (the same tiny.en model as the requests, short-window decode,
about 0.1-0.2 s) transcribes its start and the words are fuzzy-matched against the configured phrase.
"Hey computer, what time is it" is a wake phrase and a request in one breath: the rest is returned.

`match_wake` and `is_stop` are pure; `WakeDetector` is the interface, `WhisperWake` the backend.
"""

from __future__ import annotations

import difflib
import logging
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from agent.speech.audio import SAMPLE_RATE
from agent.speech.stt import Transcriber, Transcription

__all__ = ["WakeDetector", "WakeMatch", "WakeResult", "WhisperWake", "is_stop", "match_wake"]

_LOGGER = logging.getLogger(__name__)

_STOP = re.compile(r"^(?:(?:ok(?:ay)?|please|hey|no)\s+)?(?:stop(?:\s+(?:it|talking|that|now))?|be quiet|quiet|"
                   r"shut up|enough|silence|cancel|never mind)(?:\s+please)?$")
_FILLERS = 2  # words that may come before the phrase ("okay", "uh")
# Whisper often writes a spoken greeting as another short word ("Hey computer" -> "A computer", "Hay computer")
_GREETINGS = {"hey", "hi", "ok", "okay", "hello"}
_GREETING_HEARD = {"a", "ay", "eh", "hay", "he", "hey", "hi", "k", "ok", "okay", "hello", "hallo"}


@dataclass(frozen=True)
class WakeMatch:
    score: float  # 0..1 similarity of the heard words to the phrase
    remainder: str  # what was said after the phrase ("" when the phrase was said alone)


@dataclass(frozen=True)
class WakeResult:
    matched: WakeMatch | None
    transcription: Transcription


def _norm(word: str) -> str:
    return re.sub(r"[^\w']", "", word.lower())


def match_wake(text: str, phrase: str, threshold: float = 0.75) -> WakeMatch | None:
    """Does `text` start with (something close to) `phrase`? Tolerates a filler word or two before it, a split or
    merged word ("hey, computer", "heycomputer") and near-misses ("hay computer")."""
    tokens = text.split()
    norm = [_norm(t) for t in tokens]
    target = "".join(_norm(w) for w in phrase.split())
    first = _norm(phrase.split()[0]) if phrase.split() else ""
    if first in _GREETINGS:  # read a mangled greeting as the phrase's own greeting
        norm = [first if w in _GREETING_HEARD and i < _FILLERS + 1 else w for i, w in enumerate(norm)]
    n = len(phrase.split())
    if not target or not tokens:
        return None
    best: tuple[float, int] | None = None
    for start in range(min(_FILLERS, len(tokens) - 1) + 1):
        for length in (n - 1, n, n + 1):
            if length < 1 or start + length > len(tokens):
                continue
            heard = "".join(norm[start:start + length])
            if length < n and len(heard) < 0.8 * len(target):
                continue  # fewer words only when they are the phrase run together ("heycomputer")
            # the whole phrase, and its first word at the start (so "computer is slow" is not "hey computer")
            score = 0.7 * difflib.SequenceMatcher(None, heard, target).ratio() \
                + 0.3 * difflib.SequenceMatcher(None, heard[:len(first)], first).ratio()
            if start:
                score -= 0.05 * start  # a little less sure when words came first
            if best is None or score > best[0]:
                best = (score, start + length)
    if best is None or best[0] < threshold:
        return None
    remainder = " ".join(tokens[best[1]:]).lstrip(" ,.;:!?-").strip()
    return WakeMatch(round(best[0], 3), remainder)


def is_stop(text: str) -> bool:
    """Is this a barge-in command ("stop", "stop talking", "be quiet", "okay stop")?"""
    words = " ".join(_norm(w) for w in text.split()).strip()
    return bool(words) and bool(_STOP.match(words))


class WakeDetector(ABC):
    """Decides whether an utterance (VAD-gated audio) starts with the wake phrase."""

    @abstractmethod
    def detect(self, audio: np.ndarray) -> WakeResult:
        """The match (or None) and what was heard."""


class WhisperWake(WakeDetector):
    """Transcribes the first `check_s` seconds with Whisper and fuzzy-matches the phrase; a long utterance that
    matched is then transcribed whole, so the request after the phrase is not cut."""

    def __init__(self, stt: Transcriber, phrase: str, *, threshold: float = 0.75, check_s: float = 3.0) -> None:
        self.stt = stt
        self.phrase = phrase
        self.threshold = threshold
        self.check_s = check_s

    def detect(self, audio: np.ndarray) -> WakeResult:
        long = audio.size / SAMPLE_RATE > 2 * self.check_s
        heard = self.stt.transcribe(audio, max_s=self.check_s if long else None)
        match = match_wake(heard.text, self.phrase, self.threshold)
        if match is not None and long:
            heard = self.stt.transcribe(audio)
            match = match_wake(heard.text, self.phrase, self.threshold) or match
        if heard.text:
            _LOGGER.debug("wake check: %r -> %s", heard.text, match)
        return WakeResult(match, heard)
