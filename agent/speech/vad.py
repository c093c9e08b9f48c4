"""Voice activity: the Silero VAD model that ships inside faster-whisper, run one 32 ms window at a time,
and the endpointer that cuts a stream of windows into utterances.

`VoiceActivity` is the interface (one speech probability per window); `SileroVad` the real backend;
`EnergyVad` a fake for unit tests of the logic around it. `Endpointer` is pure logic over probabilities.
"""

from __future__ import annotations

import logging
import os
import time
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from agent.speech.audio import BLOCK, SAMPLE_RATE

__all__ = [
    "EnergyVad",
    "Endpointer",
    "SileroVad",
    "SpeechSegment",
    "Utterance",
    "VadParams",
    "VoiceActivity",
    "speech_segments",
]

_LOGGER = logging.getLogger(__name__)

_CONTEXT = 64  # Silero v5/v6 look at the last 64 samples of the previous window


@dataclass(frozen=True)
class VadParams:
    """When speech starts and ends. Probabilities are Silero's, per 32 ms window."""

    threshold: float = 0.5
    neg_threshold: float = 0.35
    min_speech_ms: int = 200
    min_silence_ms: int = 500
    pre_roll_ms: int = 300  # audio kept from before the start, so the first syllable is not cut
    max_utterance_s: float = 15.0


class VoiceActivity(ABC):
    """Speech probability of consecutive `BLOCK`-sample windows of 16 kHz audio (stateful: call in order)."""

    @abstractmethod
    def probability(self, window: np.ndarray) -> float:
        """0..1 for one window of `BLOCK` samples."""

    @abstractmethod
    def reset(self) -> None:
        """Forget the stream so far (call between unrelated streams)."""


class SileroVad(VoiceActivity):
    """Silero VAD v6 from faster-whisper's assets, one ONNX call per window (about 0.15 ms of CPU)."""

    def __init__(self) -> None:
        import onnxruntime
        from faster_whisper.utils import get_assets_path

        opts = onnxruntime.SessionOptions()
        opts.inter_op_num_threads = 1
        opts.intra_op_num_threads = 1
        opts.enable_cpu_mem_arena = False
        opts.log_severity_level = 4
        path = os.path.join(get_assets_path(), "silero_vad_v6.onnx")
        self._session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"], sess_options=opts)
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(_CONTEXT, dtype=np.float32)

    def probability(self, window: np.ndarray) -> float:
        w = np.asarray(window, dtype=np.float32).reshape(-1)
        if w.size != BLOCK:
            w = np.pad(w[:BLOCK], (0, max(0, BLOCK - w.size)))
        x = np.concatenate([self._context, w])[None, :]
        prob, self._h, self._c = self._session.run(None, {"input": x, "h": self._h, "c": self._c})
        self._context = w[-_CONTEXT:]
        return float(np.asarray(prob).reshape(-1)[0])


class EnergyVad(VoiceActivity):
    """A fake for logic tests: probability 1.0 when the window's RMS exceeds `level`, else 0.0."""

    def __init__(self, level: float = 0.01) -> None:
        self.level = level

    def probability(self, window: np.ndarray) -> float:
        w = np.asarray(window, dtype=np.float32)
        return 1.0 if float(np.sqrt(np.mean(w * w))) > self.level else 0.0

    def reset(self) -> None:
        pass


@dataclass
class Utterance:
    """One stretch of speech (monotonic clock): `speech_start` when the first voiced window arrived,
    `speech_end` when the last one did, `ended` when the endpointer decided it was over (+ the closing silence)."""

    audio: np.ndarray
    speech_end: float
    ended: float
    forced: bool = False  # cut by max_utterance_s or a push-to-talk release, not by silence
    speech_start: float = 0.0

    @property
    def seconds(self) -> float:
        return self.audio.size / SAMPLE_RATE


@dataclass
class Endpointer:
    """Cuts a stream of (window, probability) into utterances. Pure apart from the clock it is given."""

    params: VadParams = field(default_factory=VadParams)
    _pre: deque[np.ndarray] = field(default_factory=deque)
    _speech: list[np.ndarray] = field(default_factory=list)
    _voiced: int = 0  # voiced windows in the current candidate
    _silent: int = 0  # consecutive silent windows since the last voiced one
    _in_speech: bool = False
    _last_voiced_at: float = 0.0
    _first_voiced_at: float = 0.0

    def __post_init__(self) -> None:
        self._window_ms = BLOCK * 1000 / SAMPLE_RATE
        self._pre = deque(maxlen=max(1, int(self.params.pre_roll_ms / self._window_ms)))

    @property
    def in_speech(self) -> bool:
        """True once speech has lasted `min_speech_ms` (a confirmed start), until the utterance ends."""
        return self._in_speech

    @property
    def pending(self) -> bool:
        """True while any speech is being collected (confirmed or not)."""
        return bool(self._speech)

    @property
    def silent_ms(self) -> float:
        """Silence since the last voiced window of the current utterance."""
        return self._silent * self._window_ms if self._speech else 0.0

    @property
    def turn(self) -> tuple[float, int]:
        """Identifies the current utterance and its last voiced window (changes when speech resumes)."""
        return (self._first_voiced_at, self._voiced)

    @property
    def first_voiced_at(self) -> float:
        return self._first_voiced_at

    def snapshot(self) -> np.ndarray:
        """The audio of the current utterance so far."""
        return np.concatenate(self._speech) if self._speech else np.zeros(0, dtype=np.float32)

    def close(self, now: float | None = None) -> Utterance | None:
        """End the current utterance now, as if its closing silence had run out (an early end of turn)."""
        if not self._speech:
            return None
        return self._close(time.monotonic() if now is None else now, forced=False)

    def reset(self) -> None:
        self._pre.clear()
        self._speech = []
        self._voiced = self._silent = 0
        self._in_speech = False

    def feed(self, window: np.ndarray, prob: float, now: float | None = None) -> Utterance | None:
        """Add one window; returns an `Utterance` when one has just ended."""
        now = time.monotonic() if now is None else now
        p = self.params
        if not self._speech:
            if prob >= p.threshold:
                self._speech = [*self._pre, window]
                self._pre.clear()
                self._voiced, self._silent = 1, 0
                self._last_voiced_at = self._first_voiced_at = now
            else:
                self._pre.append(window)
            return None
        self._speech.append(window)
        voiced = prob >= p.threshold or (prob >= p.neg_threshold and self._silent == 0)
        if voiced:
            self._voiced += 1
            self._silent = 0
            self._last_voiced_at = now
            if self._voiced * self._window_ms >= p.min_speech_ms:
                self._in_speech = True
        else:
            self._silent += 1
        if self._silent * self._window_ms >= p.min_silence_ms:
            return self._close(now, forced=False)
        if len(self._speech) * BLOCK / SAMPLE_RATE >= p.max_utterance_s:
            return self._close(now, forced=True)
        return None

    def flush(self, now: float | None = None) -> Utterance | None:
        """End the current utterance now (end of the stream)."""
        if not self._speech:
            return None
        return self._close(time.monotonic() if now is None else now, forced=True)

    def _close(self, now: float, *, forced: bool) -> Utterance | None:
        speech, confirmed = self._speech, self._in_speech
        keep_silence = max(0, len(speech) - max(0, self._silent - 3))  # keep ~100 ms of the closing silence
        self.reset()
        if not confirmed:
            return None  # a click or a cough: shorter than min_speech_ms
        audio = np.concatenate(speech[:keep_silence])
        return Utterance(audio, self._last_voiced_at, now, forced, self._first_voiced_at)


@dataclass(frozen=True)
class SpeechSegment:
    start: int  # sample offsets
    end: int


def speech_segments(audio: np.ndarray, params: VadParams | None = None) -> list[SpeechSegment]:
    """Where the speech is in a whole recording (faster-whisper's Silero helper), padded by `pre_roll_ms`."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    p = params or VadParams()
    opts = VadOptions(threshold=p.threshold, neg_threshold=p.neg_threshold, min_speech_duration_ms=p.min_speech_ms,
                      min_silence_duration_ms=max(p.min_silence_ms, 300), speech_pad_ms=min(p.pre_roll_ms, 400))
    stamps = get_speech_timestamps(np.asarray(audio, dtype=np.float32), opts)
    return [SpeechSegment(int(s["start"]), int(s["end"])) for s in stamps]
