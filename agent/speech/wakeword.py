"""A dedicated wake-word model: openWakeWord (pyopen-wakeword: TFLite runtime and models in its wheel).

The model listens to every 80 ms of audio (mel spectrogram → speech embedding → a small classifier per wake word)
and nothing else runs on speech until it fires: Whisper never hears what is said in the room before the wake word.

`WakeWordModel` is the streaming interface (samples in, the highest probability among the frames they completed
out); `OpenWakeWordModel` the real backend; `ToneWakeWord` a fake for logic tests (a tone of one pitch stands for
the wake word). `WakeGate` runs the model only around speech: in a silent room only Silero VAD runs; when the VAD
hears something the model first gets the last `context_s` of audio (its 1.3 s window), then every block until
`hangover_s` after the last voiced block. `choose_wake` is the pure backend choice from `voice.wake_word`.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agent.errors import ModelError
from agent.speech.audio import BLOCK, SAMPLE_RATE

__all__ = [
    "BUILTIN_WAKE_WORDS",
    "OpenWakeWordModel",
    "ToneWakeWord",
    "WakeChoice",
    "WakeGate",
    "WakeWordModel",
    "choose_wake",
]

_LOGGER = logging.getLogger(__name__)

BUILTIN_WAKE_WORDS = {"hey_jarvis": "hey jarvis", "hey_mycroft": "hey mycroft", "alexa": "alexa",
                      "okay_nabu": "okay nabu", "hey_rhasspy": "hey rhasspy"}
_CHUNK = 1280  # 80 ms: openWakeWord's step
_OFF = {"off", "none", "false", "no", ""}
_PHRASE = {"phrase", "whisper"}


@dataclass(frozen=True)
class WakeChoice:
    """How the agent wakes: `model` (openWakeWord; `name` a built-in or `path` a .tflite), `phrase` (Whisper
    transcribes VAD-gated speech and matches `voice.wake_phrase`) or `off` (push-to-talk / hands-free only).
    `spoken`: what the user says (stripped from the start of the transcript)."""

    kind: str
    name: str = ""
    path: Path | None = None
    spoken: str = ""
    reason: str = ""


def choose_wake(wake_word: str | bool, phrase: str, *, openwakeword: bool) -> WakeChoice:
    """The wake backend for `voice.wake_word` (pure). True means the default model, False means off."""
    value = ("hey_jarvis" if wake_word else "off") if isinstance(wake_word, bool) else wake_word.strip()
    key = value.lower().replace(" ", "_").replace("-", "_")
    if key in _OFF:
        return WakeChoice("off", reason="voice.wake_word is off: push-to-talk or hands-free only")
    if key in _PHRASE:
        return WakeChoice("phrase", spoken=phrase, reason=f"Whisper listens for the phrase {phrase!r}")
    if not openwakeword:
        return WakeChoice("phrase", spoken=phrase, reason="pyopen-wakeword is not installed: falling back to "
                          f"Whisper listening for {phrase!r} (pip install pyopen-wakeword)")
    if key in BUILTIN_WAKE_WORDS:
        return WakeChoice("model", key, None, BUILTIN_WAKE_WORDS[key], f"openWakeWord model {key}")
    path = Path(value).expanduser()
    if path.suffix == ".tflite":
        spoken = path.stem.replace("_", " ").replace("-", " ")
        return WakeChoice("model", path.stem, path, spoken, f"openWakeWord model {path}")
    raise ValueError(f"voice.wake_word: {value!r} is not one of {', '.join(BUILTIN_WAKE_WORDS)}, a .tflite file, "
                     "'phrase' or 'off'")


class WakeWordModel(ABC):
    """Streaming wake-word detection on 16 kHz mono float32 audio (stateful: call in order)."""

    name: str = ""

    @abstractmethod
    def process(self, samples: np.ndarray) -> float:
        """Feed audio; the highest wake probability among the frames it completed (0.0 when none completed)."""

    @abstractmethod
    def reset(self) -> None:
        """Forget the audio so far (after a detection, so one utterance fires once)."""


class ToneWakeWord(WakeWordModel):
    """A fake for logic tests: "hears the wake word" (1.0) in audio whose strongest frequency is `hz` (a test plays
    a tone of that pitch for the wake word and another pitch for other speech). Counts the samples it was fed."""

    def __init__(self, hz: float = 700.0, *, name: str = "tone") -> None:
        self.hz = hz
        self.samples = 0
        self.resets = 0
        self.name = name

    def process(self, samples: np.ndarray) -> float:
        x = np.asarray(samples, dtype=np.float32).reshape(-1)
        self.samples += x.size
        fired = 0.0
        for start in range(0, x.size - BLOCK + 1, BLOCK):
            window = x[start:start + BLOCK]
            if float(np.sqrt(np.mean(window * window))) < 0.01:
                continue
            peak = int(np.argmax(np.abs(np.fft.rfft(window))))
            if abs(peak * SAMPLE_RATE / BLOCK - self.hz) <= 2 * SAMPLE_RATE / BLOCK:
                fired = 1.0
        return fired

    def reset(self) -> None:
        self.resets += 1


class WakeGate:
    """Runs `model` only around speech (see the module docstring). Pure apart from the model: time is counted in
    blocks, so tests need no clock."""

    def __init__(self, model: WakeWordModel, *, context_s: float = 2.0, hangover_s: float = 1.5,
                 open_at: float = 0.2) -> None:
        self.model = model
        self.open_at = open_at
        self.hangover = max(1, int(hangover_s * SAMPLE_RATE / BLOCK))
        self._ring: deque[np.ndarray] = deque(maxlen=max(1, int(context_s * SAMPLE_RATE / BLOCK)))
        self._quiet = self.hangover  # blocks since the last voiced one
        self.open = False
        self.openings = 0

    def feed(self, block: np.ndarray, speech_prob: float) -> float:
        """One block and its VAD probability; the model's probability (0.0 while the gate is closed)."""
        self._ring.append(block)
        self._quiet = 0 if speech_prob >= self.open_at else self._quiet + 1
        if not self.open:
            if self._quiet:
                return 0.0
            self.open = True
            self.openings += 1
            return self.model.process(np.concatenate(self._ring))
        prob = self.model.process(block)
        if self._quiet >= self.hangover:
            self.open = False
        return prob

    def reset(self) -> None:
        self.model.reset()
        self._ring.clear()
        self.open = False
        self._quiet = self.hangover


class OpenWakeWordModel(WakeWordModel):
    """openWakeWord through pyopen-wakeword: a built-in model by `name`, or any openWakeWord `.tflite` by `path`."""

    def __init__(self, name: str = "hey_jarvis", path: Path | None = None) -> None:
        try:
            from pyopen_wakeword import Model, OpenWakeWord, OpenWakeWordFeatures
        except ImportError as exc:
            raise ModelError("pyopen-wakeword is not installed", model="openwakeword",
                             fix="pip install pyopen-wakeword, or set voice.wake_word: phrase") from exc
        try:
            self._features: Any = OpenWakeWordFeatures.from_builtin()
            if path is not None:
                if not path.is_file():
                    raise ModelError("wake-word model file not found", model=str(path),
                                     fix="check voice.wake_word (a built-in name or an openWakeWord .tflite)")
                self._model: Any = OpenWakeWord.from_model(path)
            else:
                self._model = OpenWakeWord.from_builtin(Model(name))
        except (OSError, RuntimeError, ValueError) as exc:
            raise ModelError(f"cannot load: {exc}", model=str(path or name),
                             fix="reinstall pyopen-wakeword, or set voice.wake_word: phrase") from exc
        self.name = path.stem if path is not None else name
        self._pending = np.zeros(0, dtype=np.int16)
        self._lock = threading.Lock()

    def process(self, samples: np.ndarray) -> float:
        pcm = (np.clip(np.asarray(samples, dtype=np.float32).reshape(-1), -1.0, 1.0) * 32767).astype(np.int16)
        best = 0.0
        with self._lock:
            data = np.concatenate([self._pending, pcm]) if self._pending.size else pcm
            whole = data.size - data.size % _CHUNK
            self._pending = data[whole:]
            for start in range(0, whole, _CHUNK):
                for features in self._features.process_streaming(data[start:start + _CHUNK].tobytes()):
                    for prob in self._model.process_streaming(features):
                        best = max(best, float(prob))
        return best

    def reset(self) -> None:
        with self._lock:
            self._features.reset()
            self._model.reset()
            self._pending = np.zeros(0, dtype=np.int16)

    def scan(self, audio: np.ndarray, threshold: float) -> float | None:
        """Whole-recording detection (benchmarks, tests): the time in seconds of the first frame at or above
        `threshold`, or None. Resets before and after."""
        self.reset()
        try:
            for start in range(0, audio.size, _CHUNK):
                if self.process(audio[start:start + _CHUNK]) >= threshold:
                    return (start + _CHUNK) / SAMPLE_RATE
            return None
        finally:
            self.reset()
