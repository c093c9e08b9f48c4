"""Audio in and out: 16 kHz mono capture and playback on sounddevice (PortAudio), WAV files, a buffer.

Inputs deliver float32 mono blocks of `BLOCK` samples at `SAMPLE_RATE` (one Silero VAD window each).
Outputs play an iterable of float32 chunks at the synthesizer's rate and stop at once when asked.
Which device and backend (`agent.speech.devices`): by index, by name (exact, else a unique substring), or as
`pulse:NAME`: the PortAudio `pulse` device routed to that PulseAudio source or sink (`PULSE_SOURCE`/`PULSE_SINK`).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
import wave
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from agent.errors import AudioError

__all__ = [
    "BLOCK",
    "SAMPLE_RATE",
    "AudioInput",
    "AudioOutput",
    "BufferOutput",
    "DeviceChoice",
    "FileInput",
    "SoundDeviceInput",
    "SoundDeviceOutput",
    "chime",
    "read_audio",
    "resample",
    "sounddevice_module",
    "write_wav",
]

_LOGGER = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
BLOCK = 512  # 32 ms: one Silero VAD window
_PLAY_BLOCK_S = 0.05  # playback is written in 50 ms pieces so a stop lands within one piece

Kind = Literal["input", "output"]
OnStart = Callable[[], None]


# -- devices (chosen in agent.speech.devices) ---------------------------------------------------------------
@dataclass(frozen=True)
class DeviceChoice:
    """What to open: a PortAudio `device` (None: the default) and, for `pulse:NAME`, the PulseAudio name."""

    device: int | None = None
    pulse: str | None = None


def sounddevice_module() -> Any:
    """The sounddevice module, or `AudioError` when the PortAudio library is missing."""
    try:
        import sounddevice as sd
    except OSError as exc:  # the Python package is there but libportaudio is not
        raise AudioError(f"PortAudio is not available: {exc}", device="portaudio") from exc
    return sd


def _route_pulse(choice: DeviceChoice, kind: Kind) -> None:
    if choice.pulse:
        os.environ["PULSE_SOURCE" if kind == "input" else "PULSE_SINK"] = choice.pulse





# -- samples ---------------------------------------------------------------------------------------------------
def resample(samples: np.ndarray, src: int, dst: int = SAMPLE_RATE) -> np.ndarray:
    """Resample mono float32 audio (windowed-sinc low-pass when downsampling, then linear interpolation)."""
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    if src == dst or x.size == 0:
        return x
    if dst < src:
        cutoff = 0.45 * dst / src
        n = np.arange(-32, 33)
        taps = np.sinc(2 * cutoff * n) * np.hamming(n.size)
        x = np.convolve(x, (taps / taps.sum()).astype(np.float32), mode="same")
    positions = np.arange(int(x.size * dst / src)) * (src / dst)
    out: np.ndarray = np.interp(positions, np.arange(x.size), x).astype(np.float32)
    return out


def read_audio(path: str | Path) -> np.ndarray:
    """Any audio file (WAV, FLAC, MP3, ...) as 16 kHz mono float32."""
    from faster_whisper.audio import decode_audio

    p = Path(path)
    if not p.is_file():
        raise AudioError("file not found", device=str(p))
    try:
        return np.asarray(decode_audio(str(p), sampling_rate=SAMPLE_RATE), dtype=np.float32)
    except Exception as exc:  # PyAV raises its own error types for unreadable files
        raise AudioError(f"cannot decode audio: {exc}", device=str(p)) from exc


def write_wav(path: str | Path, samples: np.ndarray, rate: int) -> Path:
    """Write mono float32 samples as a 16-bit PCM WAV file."""
    p = Path(path)
    pcm = (np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(p), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return p


def chime(rate: int, *, rising: bool = True) -> np.ndarray:
    """A short two-note chime (rising: listening; falling: stopped listening)."""
    notes = (880.0, 1320.0) if rising else (1320.0, 880.0)
    n = int(0.07 * rate)
    t = np.arange(n) / rate
    fade = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01)
    tone = [0.25 * np.sin(2 * np.pi * f * t) * fade for f in notes]
    return np.concatenate([tone[0], np.zeros(int(0.02 * rate)), tone[1]]).astype(np.float32)


# -- interfaces -------------------------------------------------------------------------------------------------
class AudioInput(ABC):
    """A source of `BLOCK`-sample float32 mono blocks at 16 kHz."""

    @property
    @abstractmethod
    def active(self) -> bool:
        """True while started."""

    @abstractmethod
    def start(self) -> None:
        """Open the source (idempotent)."""

    @abstractmethod
    def read(self, timeout: float = 0.5) -> np.ndarray | None:
        """The next block, or None when none arrived within `timeout`. Raises EOFError when a file ran out."""

    @abstractmethod
    def stop(self) -> None:
        """Close the source (idempotent); a later `start` reopens it."""


class AudioOutput(ABC):
    """A sink that plays chunks at one rate and can be cut short."""

    @abstractmethod
    def play(self, chunks: Iterable[np.ndarray], rate: int, stop: threading.Event,
             on_start: OnStart | None = None) -> bool:
        """Play `chunks` (float32 mono at `rate`) until done (True) or `stop` is set (False, cut at once).
        `on_start` is called once, when the first samples are handed to the device."""


def _pieces(chunks: Iterable[np.ndarray], size: int, stop: threading.Event) -> Iterable[np.ndarray]:
    for chunk in chunks:
        data = np.asarray(chunk, dtype=np.float32).reshape(-1)
        for i in range(0, data.size, size):
            if stop.is_set():
                return
            yield data[i:i + size]


# -- PortAudio --------------------------------------------------------------------------------------------------
class SoundDeviceInput(AudioInput):
    """Microphone capture. Asks PortAudio for 16 kHz; a device that refuses is opened at its own rate and
    resampled. Keeps at most `max_queue_s` of unread audio (oldest dropped). `start()` returns once audio flows:
    PortAudio's ALSA layer on PulseAudio can take a second or two to deliver the first block (and drops what is
    said meanwhile), so a caller that says "listening" after `start()` says it truthfully."""

    def __init__(self, choice: DeviceChoice | None = None, *, max_queue_s: float = 20.0,
                 ready_timeout_s: float = 5.0) -> None:
        self.choice = choice or DeviceChoice()
        self.ready_timeout_s = ready_timeout_s
        self._flowing = threading.Event()
        self._queue: queue.Queue[np.ndarray] = queue.Queue(maxsize=int(max_queue_s * SAMPLE_RATE / BLOCK))
        self._stream: Any = None
        self._rate = SAMPLE_RATE
        self._lock = threading.Lock()
        self.overflows = 0

    @property
    def active(self) -> bool:
        return self._stream is not None

    def _callback(self, indata: np.ndarray, frames: int, _time: Any, status: Any) -> None:
        if status:
            self.overflows += 1
        self._flowing.set()
        block = indata[:, 0].copy()
        if self._rate != SAMPLE_RATE:
            block = resample(block, self._rate, SAMPLE_RATE)
        try:
            self._queue.put_nowait(block)
        except queue.Full:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                pass
            self._queue.put_nowait(block)

    def _open(self, rate: int) -> Any:
        sd = sounddevice_module()
        stream = sd.InputStream(samplerate=rate, channels=1, dtype="float32", blocksize=int(BLOCK * rate / SAMPLE_RATE),
                                device=self.choice.device, callback=self._callback, latency="low")
        stream.start()
        return stream

    def start(self) -> None:
        with self._lock:
            if self._stream is not None:
                return
            _route_pulse(self.choice, "input")
            sd = sounddevice_module()
            started = time.monotonic()
            self._flowing.clear()
            try:
                self._rate = SAMPLE_RATE
                self._stream = self._open(SAMPLE_RATE)
            except sd.PortAudioError:
                info = sd.query_devices(self.choice.device, "input")
                self._rate = int(info["default_samplerate"])
                _LOGGER.info("microphone refuses 16 kHz; capturing at %d Hz and resampling", self._rate)
                try:
                    self._stream = self._open(self._rate)
                except sd.PortAudioError as exc:
                    raise AudioError(f"cannot open the microphone: {exc}", device=str(self.choice.device)) from exc
        if not self._flowing.wait(self.ready_timeout_s):
            _LOGGER.warning("the microphone is open but no audio arrived within %.0f s", self.ready_timeout_s)
        elif (waited := time.monotonic() - started) > 0.5:
            _LOGGER.info("the microphone took %.1f s to deliver audio", waited)

    def read(self, timeout: float = 0.5) -> np.ndarray | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def stop(self) -> None:
        with self._lock:
            stream, self._stream = self._stream, None
        if stream is not None:
            stream.abort()
            stream.close()
        while not self._queue.empty():
            self._queue.get_nowait()


class SoundDeviceOutput(AudioOutput):
    """Speaker playback; a stop aborts the stream, dropping what is buffered."""

    def __init__(self, choice: DeviceChoice | None = None) -> None:
        self.choice = choice or DeviceChoice()

    def play(self, chunks: Iterable[np.ndarray], rate: int, stop: threading.Event,
             on_start: OnStart | None = None) -> bool:
        _route_pulse(self.choice, "output")
        sd = sounddevice_module()
        try:  # opened now (while the first sentence is synthesized), started when it is ready: no underrun
            stream = sd.OutputStream(samplerate=rate, channels=1, dtype="float32", device=self.choice.device,
                                     latency="low")
        except sd.PortAudioError as exc:
            raise AudioError(f"cannot open the speaker: {exc}", device=str(self.choice.device)) from exc
        try:
            for piece in _pieces(chunks, int(rate * _PLAY_BLOCK_S), stop):
                if not stream.active:
                    stream.start()
                    if on_start is not None:
                        on_start()
                stream.write(piece.reshape(-1, 1))
            if stop.is_set():
                if stream.active:
                    stream.abort()
                return False
            if stream.active:
                stream.stop()  # waits until the buffered audio has played
            return True
        finally:
            stream.close()


# -- files and buffers ------------------------------------------------------------------------------------------
class FileInput(AudioInput):
    """A recording as if it were a microphone: its blocks, then `tail_s` of silence, then EOFError.
    `realtime` paces the blocks like a live device (for measurements); otherwise they come at once."""

    def __init__(self, samples: np.ndarray, *, realtime: bool = False, tail_s: float = 1.0,
                 lead_s: float = 0.0) -> None:
        lead = np.zeros(int(lead_s * SAMPLE_RATE), dtype=np.float32)
        tail = np.zeros(int(tail_s * SAMPLE_RATE), dtype=np.float32)
        data = np.concatenate([lead, np.asarray(samples, dtype=np.float32).reshape(-1), tail])
        pad = (-data.size) % BLOCK
        self._data = np.pad(data, (0, pad))
        self.realtime = realtime
        self._pos = 0
        self._t0: float | None = None
        self._active = False

    @property
    def active(self) -> bool:
        return self._active

    @property
    def position_s(self) -> float:
        return self._pos / SAMPLE_RATE

    def start(self) -> None:
        self._active = True
        if self._t0 is None:
            self._t0 = time.monotonic()

    def read(self, timeout: float = 0.5) -> np.ndarray | None:
        if self._pos >= self._data.size:
            raise EOFError("end of recording")
        if self.realtime and self._t0 is not None:
            due = self._t0 + (self._pos + BLOCK) / SAMPLE_RATE
            wait = due - time.monotonic()
            if wait > timeout:
                time.sleep(timeout)
                return None
            if wait > 0:
                time.sleep(wait)
        block = self._data[self._pos:self._pos + BLOCK]
        self._pos += BLOCK
        return block

    def stop(self) -> None:
        self._active = False


@dataclass
class _Played:
    samples: list[np.ndarray]
    rate: int
    completed: bool


class BufferOutput(AudioOutput):
    """Keeps what was played (for `agent say --out`, `ask --audio` and tests). `realtime` takes as long as the
    audio lasts, like a speaker, so a stop can cut it."""

    def __init__(self, *, realtime: bool = False) -> None:
        self.realtime = realtime
        self.played: list[_Played] = []
        self.first_audio_at: float | None = None

    def play(self, chunks: Iterable[np.ndarray], rate: int, stop: threading.Event,
             on_start: OnStart | None = None) -> bool:
        record = _Played([], rate, False)
        self.played.append(record)
        for piece in _pieces(chunks, int(rate * _PLAY_BLOCK_S), stop):
            if not record.samples:
                self.first_audio_at = time.monotonic()
                if on_start is not None:
                    on_start()
            record.samples.append(piece)
            if self.realtime and stop.wait(piece.size / rate):
                break
        record.completed = not stop.is_set()
        return record.completed

    def audio(self, index: int = -1) -> tuple[np.ndarray, int]:
        """The samples and rate of one playback (default: the last)."""
        if not self.played:
            return np.zeros(0, dtype=np.float32), SAMPLE_RATE
        rec = self.played[index]
        data = np.concatenate(rec.samples) if rec.samples else np.zeros(0, dtype=np.float32)
        return data, rec.rate
