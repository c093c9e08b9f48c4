"""The live voice loop: microphone → VAD → (wake word | push-to-talk | hands-free) → Whisper → pipeline → Piper.

Threads: the listener reads the microphone, runs the endpointer and the wake-word model (never blocked by
Whisper); the worker transcribes and runs requests through `Pipeline.handle(text, source="voice")`; the speaker
plays replies; pynput delivers push-to-talk. With the wake-word model (the default), an utterance reaches Whisper
only when the model fired during it (or just after it), in the follow-up window after a reply, with push-to-talk,
in hands-free mode, or while the agent speaks (to hear "stop"); everything else is dropped unheard. The Whisper
phrase matcher (`voice.wake_word: phrase`) transcribes VAD-gated speech to look for a custom phrase instead.
Barge-in: the push-to-talk key, the wake word, or "stop" (heard while speaking) cut the reply at once;
`StopSpeaking` on the bus does too. Early end of turn: at the first silent window inside a request, a checker
thread already transcribes what was said so far (speculatively: the speaker may go on); when that transcript is a
complete request (`agent.speech.understand.complete_request`) and the silence has lasted `early_end_ms` without
the speaker resuming, the turn ends there, with that transcript, instead of after the full `vad_min_silence_ms`.
A transcript of speech that then resumed is dropped (the endpointer's `turn` changed).
`MuteListening`/`UnmuteListening` close and reopen the microphone. Every request logs and publishes
(`VoiceTimings`) its stage timings.

The resident agent starts it with `start_voice(services)` (a component); without a microphone that logs one
message and the agent stays text-only.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from agent.components import Stop
from agent.config import Settings
from agent.errors import AgentError, AudioError
from agent.events import (
    Activity,
    Event,
    MuteListening,
    Reply,
    Speak,
    StopSpeaking,
    Transcript,
    UnmuteListening,
    VoiceTimings,
)
from agent.logs import said
from agent.pipeline import Outcome, Pipeline
from agent.services import Services
from agent.speech.audio import SAMPLE_RATE, AudioInput, AudioOutput, resample
from agent.speech.devices import open_input, open_output
from agent.speech.ptt import PttEvent, PushToTalk
from agent.speech.stt import Transcriber, WhisperTranscriber, vad_params
from agent.speech.tts import PiperSynthesizer, Speaker
from agent.speech.vad import Endpointer, SileroVad, Utterance, VadParams, VoiceActivity
from agent.speech.wake import WakeDetector, WhisperWake, is_stop, match_wake
from agent.speech.wakeword import OpenWakeWordModel, WakeGate, WakeWordModel, choose_wake

__all__ = ["VoiceOptions", "VoiceService", "build_voice", "start_voice", "warm_up"]

_LOGGER = logging.getLogger(__name__)

_RING_BLOCKS = 10  # ~320 ms kept before a push-to-talk press
_WAKE_BEFORE_S = 0.3  # a detection this long before an utterance's first voiced window still wakes it
_WAKE_AFTER_S = 0.6  # ... and this long after the endpointer closed it (the model fires at the word's end)
_WAKE_REFRACTORY_S = 1.5  # one wake word fires once


@dataclass
class VoiceOptions:
    wake_word: bool = True
    wake_phrase: str = "hey computer"
    hands_free: bool = False
    follow_up_s: float = 6.0
    speak_replies: bool = True
    ptt_key: str | None = None
    tap_s: float = 0.35
    wake_threshold: float = 0.5  # the wake-word model's probability that wakes
    early_end_ms: int = 0  # 0: every request waits for the full closing silence

    @classmethod
    def from_settings(cls, settings: Settings) -> VoiceOptions:
        v = settings.voice
        choice = choose_wake(v.wake_word, v.wake_phrase, openwakeword=True)
        return cls(choice.kind != "off", choice.spoken or v.wake_phrase, v.hands_free, v.follow_up_s,
                   v.speak_replies, v.ptt_key, v.tap_s, v.wake_word_threshold, v.early_end_ms)


@dataclass
class _Item:
    utterance: Utterance
    ptt: bool = False
    text: str | None = None  # already transcribed (an early end of turn): the request text
    stt_ms: float = 0.0


class VoiceService:
    """One microphone, one speaker, one pipeline. `start()` returns at once; `stop()` joins the threads."""

    def __init__(self, services: Services, *, source: AudioInput | None, speaker: Speaker | None,
                 stt: Transcriber, vad: VoiceActivity, wake: WakeDetector | None = None,
                 options: VoiceOptions | None = None, params: VadParams | None = None,
                 pipeline: Pipeline | None = None, wake_model: WakeWordModel | None = None,
                 complete: Callable[[str], bool] | None = None) -> None:
        self.services = services
        self.source = source
        self.speaker = speaker
        self.stt = stt
        self.vad = vad
        self.wake = wake
        self.wake_model = wake_model
        self._gate = WakeGate(wake_model) if wake_model is not None else None
        self.options = options or VoiceOptions()
        self.endpointer = Endpointer(params or VadParams())
        self.pipeline = pipeline or services.pipeline()
        self.hands_free = self.options.hands_free
        self.muted = False
        self.follow_up_until = 0.0
        self.requests = 0
        self.timings: list[dict[str, float]] = []  # one per request, newest last (bounded)
        self.ptt: PushToTalk | None = None
        self._ptt_buffer: list[np.ndarray] | None = None
        self._ring: deque[np.ndarray] = deque(maxlen=_RING_BLOCKS)
        self._queue: queue.Queue[_Item | None] = queue.Queue()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._poke = threading.Event()
        self.source_ended = threading.Event()
        self._local = threading.local()
        self._threads: list[threading.Thread] = []
        self._working = False
        self._detach: list[Callable[[], None]] = []
        self.woke_at = -1e9  # monotonic time of the last wake-word detection
        self.wakes = 0  # wake-word detections
        self.transcribed = 0  # utterances handed to Whisper
        self.ignored = 0  # utterances dropped without being transcribed (no wake word)
        self.complete = complete  # is this text a complete request? (early end of turn; None: off)
        self.early_ends = 0
        self.early_checks = 0  # speculative transcriptions of a pause (each one a decode)
        self._turn_lock = threading.Lock()  # the endpointer: fed by the listener, closed early by the checker
        self._early_asked: tuple[float, int] | None = None
        self._early_done: tuple[tuple[float, int], str, float] | None = None
        self._early_queue: queue.Queue[tuple[tuple[float, int], np.ndarray, bool] | None] = queue.Queue(maxsize=1)

    # -- life cycle ----------------------------------------------------------------------------------------------
    def start(self, *, ptt: bool = True) -> None:
        """Start listening; when it returns, an always-on microphone is already open (nothing said is lost)."""
        if self.source is not None and self._mic_wanted():
            try:
                self.source.start()
            except AgentError as exc:
                _LOGGER.error("cannot listen: %s", exc)
        bus = self.services.bus
        self._detach = [bus.subscribe(StopSpeaking, self._on_stop), bus.subscribe(MuteListening, self._on_mute),
                        bus.subscribe(UnmuteListening, self._on_unmute), bus.subscribe(Speak, self._on_speak),
                        bus.subscribe(Reply, self._on_reply)]
        for name, target in (("voice-listen", self._listen), ("voice-work", self._work),
                             ("voice-early", self._early_work)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        if ptt and self.options.ptt_key:
            self.ptt = PushToTalk(self.options.ptt_key, self.on_ptt, tap_s=self.options.tap_s)
            if not self.ptt.start():
                self.ptt = None
        _LOGGER.info("voice on: %s", self.describe())

    def describe(self) -> str:
        if self.hands_free:
            how = "hands-free (every utterance is a request)"
        elif self.wake_model is not None and self.options.wake_word:
            how = f"wake word {self.options.wake_phrase!r} (openWakeWord {self.wake_model.name})"
        elif self.wake is not None and self.options.wake_word:
            how = f"wake phrase {self.options.wake_phrase!r} (Whisper)"
        else:
            how = "push-to-talk only"
        ptt = f", push-to-talk {self.options.ptt_key}" if self.ptt is not None else ""
        return how + ptt + ("" if self.speaker else ", replies not spoken (no speaker)")

    def stop(self) -> None:
        self._closing.set()
        self._poke.set()
        self._queue.put(None)
        try:
            self._early_queue.put_nowait(None)
        except queue.Full:
            pass
        if self.ptt is not None:
            self.ptt.stop()
        for detach in self._detach:
            detach()
        for thread in self._threads:
            thread.join(timeout=10)
        if self.source is not None:
            self.source.stop()
        if self.speaker is not None:
            self.speaker.close()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Until the queue is empty and nothing is being said (tests, benchmarks, file input)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            busy = not self._queue.empty() or self._working
            if not busy and not (self.speaker and self.speaker.speaking) and not self.endpointer.pending:
                return True
            time.sleep(0.02)
        return False

    # -- listening -----------------------------------------------------------------------------------------------
    def _mic_wanted(self) -> bool:
        """The microphone stays open unless muted: push-to-talk then has the audio from just before the press,
        and no stream start-up (PortAudio on PulseAudio loses about a second of audio after each open)."""
        with self._lock:
            return self._ptt_buffer is not None or not self.muted

    def _vad_wanted(self) -> bool:
        """Voice activity runs only when an utterance could be acted on (push-to-talk only: it does not run)."""
        return self.hands_free or self.options.wake_word or time.monotonic() < self.follow_up_until

    def _listen(self) -> None:
        source = self.source
        if source is None:
            return
        while not self._closing.is_set():
            want = self._mic_wanted()
            if want and not source.active:
                try:
                    source.start()
                except AgentError as exc:
                    _LOGGER.error("cannot listen: %s", exc)
                    return
                self.vad.reset()
                with self._turn_lock:
                    self.endpointer.reset()
            elif not want and source.active:
                source.stop()
            if not source.active:
                self._poke.wait(0.5)
                self._poke.clear()
                continue
            try:
                block = source.read(0.2)
            except EOFError:
                self._end_of_source()
                return
            if block is not None:
                self._on_block(block)

    def _on_block(self, block: np.ndarray) -> None:
        self._ring.append(block)
        with self._lock:
            recording = self._ptt_buffer
            if recording is not None:
                recording.append(block)
                return
        if not self._vad_wanted():
            if self.endpointer.pending:
                with self._turn_lock:
                    self.endpointer.reset()
            return
        speech = self.vad.probability(block)
        if self._gate is not None and self.options.wake_word and not self.hands_free:
            self._listen_for_wake_word(block, speech)
        with self._turn_lock:
            utterance = self.endpointer.feed(block, speech)
            if utterance is not None:
                self._queue.put(_Item(utterance))
            elif self.complete is not None and self.options.early_end_ms and self.endpointer.in_speech:
                self._maybe_end_early()

    # -- early end of turn -------------------------------------------------------------------------------------
    def _maybe_end_early(self) -> None:
        """At each window of a request (under `_turn_lock`): close the turn when a complete transcript of it is
        ready and the silence is long enough; else, at its first silent window, have it transcribed."""
        ep = self.endpointer
        if ep.silent_ms <= 0:
            return  # still speaking
        turn = ep.turn
        done = self._early_done
        if done is not None and done[0] == turn:
            if ep.silent_ms >= self.options.early_end_ms:
                self._close_early(done[1], done[2])
            return
        if self._early_asked == turn:
            return
        woken = self._gate is not None and self.woke_at >= ep.first_voiced_at - _WAKE_BEFORE_S
        if not (self.hands_free or ep.first_voiced_at < self.follow_up_until or woken):
            return  # not (yet) a request: nothing is transcribed before the wake word
        if self.speaker is not None and self.speaker.speaking:
            return
        self._early_asked = turn
        self.early_checks += 1
        job = (turn, ep.snapshot(), woken)
        try:
            self._early_queue.put_nowait(job)
        except queue.Full:  # a check of an earlier pause is still waiting: this one replaces it (latest wins)
            try:
                self._early_queue.get_nowait()
            except queue.Empty:
                pass
            try:
                self._early_queue.put_nowait(job)
            except queue.Full:
                pass

    def _close_early(self, text: str, stt_ms: float) -> None:
        """End the current turn now with its transcript `text` (under `_turn_lock`)."""
        self._early_done = None
        utt = self.endpointer.close()
        if utt is not None:
            self.early_ends += 1
            self._queue.put(_Item(utt, text=text, stt_ms=stt_ms))

    def _early_work(self) -> None:
        while True:
            job = self._early_queue.get()
            if job is None:
                return
            turn, audio, woken = job
            try:
                with self._turn_lock:
                    if self.endpointer.turn != turn:
                        continue  # the speaker went on before this pause was checked
                heard = self.stt.transcribe(audio)
                text = heard.text
                if woken:
                    match = match_wake(text, self.options.wake_phrase, 0.6)
                    text = match.remainder if match is not None else text
                if not (text and not is_stop(text) and self.complete is not None and self.complete(text)):
                    continue
                with self._turn_lock:
                    ep = self.endpointer
                    if ep.turn != turn or not ep.pending:
                        continue  # the speaker went on (or the full silence ended the turn): not this transcript
                    self.transcribed += 1
                    if ep.silent_ms >= self.options.early_end_ms:
                        self._close_early(text, heard.ms)  # silent long enough already: end it now
                    else:
                        self._early_done = (turn, text, heard.ms)  # the listener ends it at early_end_ms
            except Exception:
                _LOGGER.exception("early end-of-turn check failed")

    def _listen_for_wake_word(self, block: np.ndarray, speech: float) -> None:
        assert self._gate is not None
        prob = self._gate.feed(block, speech)
        now = time.monotonic()
        if prob < self.options.wake_threshold or now - self.woke_at < _WAKE_REFRACTORY_S:
            return  # the refractory period also covers the model firing again on the rest of the same word
        self.woke_at = now
        self.wakes += 1
        _LOGGER.info("wake word %r heard (%.2f)", self._gate.model.name, prob)
        if self.speaker is not None and self.speaker.stop():
            _LOGGER.info("barge-in: wake word")
        self._activity("listening")

    def _end_of_source(self) -> None:
        last = self.endpointer.flush()
        if last is not None:
            self._queue.put(_Item(last))
        self.source_ended.set()
        _LOGGER.info("audio source ended")

    # -- push-to-talk --------------------------------------------------------------------------------------------
    def on_ptt(self, event: PttEvent) -> None:
        """Push-to-talk: START stops speaking and records; SEND sends the recording; TAP toggles hands-free."""
        if event is PttEvent.START:
            if self.speaker is not None:
                self.speaker.stop()
            with self._lock:
                self.muted = False
                self._ptt_buffer = list(self._ring)
            self._poke.set()
            self._activity("listening")
            return
        with self._lock:
            recorded, self._ptt_buffer = self._ptt_buffer, None
        with self._turn_lock:
            self.endpointer.reset()
        if event is PttEvent.SEND and recorded:
            now = time.monotonic()
            self._queue.put(_Item(Utterance(np.concatenate(recorded), now, now, True, now), ptt=True))
            return
        if event is PttEvent.TAP:
            self.hands_free = not self.hands_free
            _LOGGER.info("hands-free listening %s", "on" if self.hands_free else "off")
            if self.speaker is not None:
                self.speaker.play_chime(rising=self.hands_free)
            self._poke.set()
        self._activity("listening" if self.hands_free else "idle")

    # -- bus -----------------------------------------------------------------------------------------------------
    def _on_stop(self, event: Event) -> None:
        if self.speaker is not None and self.speaker.stop():
            _LOGGER.info("stopped speaking (%s)", getattr(event, "source", ""))

    def _on_mute(self, event: Event) -> None:
        with self._lock:
            self.muted = True
            self.follow_up_until = 0.0
        self._poke.set()
        _LOGGER.info("microphone muted until push-to-talk or unmute")

    def _on_unmute(self, event: Event) -> None:
        with self._lock:
            self.muted = False
        self._poke.set()

    def _on_speak(self, event: Event) -> None:
        if isinstance(event, Speak) and event.text.strip():
            self._say(event.text, event.source or "speak")

    def _on_reply(self, event: Event) -> None:
        # Replies to other faces that asked to be spoken; voice requests speak their own reply (timed).
        if isinstance(event, Reply) and event.speak and event.text.strip() \
                and not getattr(self._local, "in_request", False):
            self._say(event.text, "reply")

    def _say(self, text: str, source: str) -> None:
        if self.speaker is not None:
            self.speaker.say(text, source=source, on_first_audio=lambda _t: self._activity("speaking"),
                             on_done=lambda _s: self._activity("listening" if self.hands_free else "idle"))

    def _activity(self, state: str) -> None:
        self.services.bus.publish(Activity(state, "voice"))

    # -- requests ------------------------------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            self._working = True
            try:
                self._on_utterance(item)
            except Exception:
                _LOGGER.exception("voice request failed")
                self._activity("idle")
            finally:
                self._working = False

    def _on_utterance(self, item: _Item) -> None:
        utt = item.utterance
        if item.ptt:
            self._request(utt)
            return
        if item.text is not None:
            self._request(utt, text=item.text, stt_ms=item.stt_ms)
            return
        started = utt.speech_start or utt.ended - utt.seconds
        if self._woken(utt, started):
            self._request_after_wake(utt)
            return
        if self.speaker is not None and (self.speaker.speaking or started < self.speaker.last_spoke_at + 0.1):
            self._barge_in(utt)  # heard while we were talking: only "stop" or the wake phrase count
            return
        if self.hands_free or started < self.follow_up_until:
            self._request(utt)
            return
        if self.wake_model is not None:
            self.ignored += 1
            _LOGGER.debug("%.1f s of speech without the wake word: not transcribed", utt.seconds)
            return
        if self.wake is None or not self.options.wake_word:
            return
        self.transcribed += 1
        result = self.wake.detect(utt.audio)
        if result.matched is None:
            return
        _LOGGER.info("wake phrase heard (%.2f): %s", result.matched.score, said(result.transcription.text))
        if result.matched.remainder and not is_stop(result.matched.remainder):
            self._request(utt, text=result.matched.remainder, stt_ms=result.transcription.ms)
            return
        self._open_follow_up()

    def _woken(self, utt: Utterance, started: float) -> bool:
        """Did the wake-word model fire during `utt` (or just after it: it fires at the end of the word)?"""
        if self.wake_model is None or not self.options.wake_word or self.hands_free:
            return False
        wait = utt.ended + _WAKE_AFTER_S - time.monotonic()
        if self.woke_at < started - _WAKE_BEFORE_S and wait > 0:
            self._closing.wait(wait)  # the model may still fire on the utterance's last word
        return started - _WAKE_BEFORE_S <= self.woke_at <= utt.ended + _WAKE_AFTER_S

    def _request_after_wake(self, utt: Utterance) -> None:
        """The wake word was said in `utt`: what follows it is the request; the wake word alone opens a follow-up."""
        heard = self._transcribe(utt)
        match = match_wake(heard.text, self.options.wake_phrase, 0.6)
        rest = match.remainder if match is not None else heard.text
        if not rest or is_stop(rest) or not any(ch.isalnum() for ch in rest):
            self._open_follow_up()
            return
        self._request(utt, text=rest, stt_ms=heard.ms)

    def _transcribe(self, utt: Utterance, max_s: float | None = None) -> Any:
        self.transcribed += 1
        return self.stt.transcribe(utt.audio, max_s=max_s)

    def _open_follow_up(self) -> None:
        with self._lock:
            self.follow_up_until = time.monotonic() + self.options.follow_up_s
        if self.speaker is not None:
            self.speaker.play_chime()
        self._activity("listening")

    def _barge_in(self, utt: Utterance) -> None:
        heard = self._transcribe(utt, max_s=3.0)
        phrase_wake = self.options.wake_word and self.wake_model is None
        wake = match_wake(heard.text, self.options.wake_phrase) if phrase_wake else None
        if not (is_stop(heard.text) or wake is not None):
            return  # most likely our own voice coming back through the microphone
        assert self.speaker is not None
        self.speaker.stop()
        _LOGGER.info("barge-in: %s", said(heard.text))
        if wake is not None and wake.remainder and not is_stop(wake.remainder):
            self._request(utt, text=wake.remainder, stt_ms=heard.ms)
        elif wake is not None:
            self._open_follow_up()
        else:
            self._activity("idle")

    def _request(self, utt: Utterance, *, text: str | None = None, stt_ms: float | None = None) -> None:
        self._activity("thinking")
        timings: dict[str, float] = {}
        if text is None:
            heard = self._transcribe(utt)
            text, stt_ms = heard.text, heard.ms
            _LOGGER.debug("heard %r (%s decode, %.1f s of speech in %.1f s)", text, heard.path, heard.speech_s,
                          heard.audio_s)
            self.services.bus.publish(Transcript(text, heard.confidence, heard.audio_s * 1000))
        else:
            self.services.bus.publish(Transcript(text, 1.0, utt.seconds * 1000))
        timings["stt"] = stt_ms or 0.0
        timings["eos_to_transcript"] = (time.monotonic() - utt.ended) * 1000
        if not text:
            _LOGGER.info("heard no words (%.1f s of audio)", utt.seconds)
            self._activity("idle")
            return
        if is_stop(text):
            if self.speaker is not None:
                self.speaker.stop()
            self._activity("idle")
            return
        if self._automation_handles(text):
            self._done(utt, text, "automation", timings, None)
            return
        self._local.in_request = True
        try:
            outcome = self.pipeline.handle(text, source="voice")
        finally:
            self._local.in_request = False
        for stage in ("load", "route", "skill"):
            if stage in outcome.timings_ms:
                timings[stage] = outcome.timings_ms[stage]
        self._speak_reply(utt, text, outcome, timings)

    def _automation_handles(self, text: str) -> bool:
        service = self.services.automation
        engine = service.engine if service is not None else None
        if engine is None:
            return False
        fired: list[str] = engine.fire_voice(text)
        if fired:
            _LOGGER.info("voice %s handled by rule(s) %s", said(text), ", ".join(fired))
        return bool(fired)

    def _speak_reply(self, utt: Utterance, text: str, outcome: Outcome, timings: dict[str, float]) -> None:
        reply = outcome.result.reply
        if not (self.options.speak_replies and self.speaker is not None and reply.strip()):
            self._done(utt, text, outcome.intent.skill, timings, None)
            self._after_reply()
            return
        asked = time.monotonic()

        def first_audio(at: float) -> None:
            timings["tts_first_audio"] = (at - asked) * 1000
            self._activity("speaking")
            self._done(utt, text, outcome.intent.skill, timings, at)

        self.speaker.say(reply, source="voice", on_first_audio=first_audio, on_done=lambda _s: self._after_reply())

    def _after_reply(self) -> None:
        with self._lock:
            self.follow_up_until = time.monotonic() + self.options.follow_up_s
        self._activity("listening" if self.hands_free else "idle")
        self._poke.set()

    def _done(self, utt: Utterance, text: str, skill: str, timings: dict[str, float],
              first_audio: float | None) -> None:
        if first_audio is not None:
            timings["eos_to_first_audio"] = (first_audio - utt.ended) * 1000
            timings["speech_end_to_first_audio"] = (first_audio - utt.speech_end) * 1000
        rounded = {k: round(v, 1) for k, v in timings.items()}
        self.requests += 1
        self.timings.append(rounded)
        del self.timings[:-200]
        _LOGGER.info("voice request %s → %s; timings ms: %s", said(text), skill,
                     " ".join(f"{k}={v:.0f}" for k, v in rounded.items()))
        self.services.bus.publish(VoiceTimings(rounded, text, skill))


# -- building ------------------------------------------------------------------------------------------------------
def build_voice(services: Services, *, source: AudioInput | None = None, output: AudioOutput | None = None,
                use_devices: bool = True) -> VoiceService:
    """Load the models (Whisper, Piper, Silero) and wire a `VoiceService`. With `use_devices`, a missing
    `source`/`output` is opened from config (`AudioError` when there is no microphone)."""
    settings = services.settings
    if source is None and use_devices:
        source = open_input(settings)
    if output is None and use_devices:
        output = open_output(settings)
    stt = WhisperTranscriber.from_settings(settings, registry=services.registry)
    stt.attach_router(services)
    from agent.speech.understand import request_checker

    speaker = None
    if output is not None:
        speaker = Speaker(PiperSynthesizer.from_settings(settings), output, chime_on=settings.voice.chime)
    options = VoiceOptions.from_settings(settings)
    choice = choose_wake(settings.voice.wake_word, settings.voice.wake_phrase, openwakeword=_has_openwakeword())
    wake: WakeDetector | None = None
    wake_model: WakeWordModel | None = None
    if choice.kind == "model":
        wake_model = OpenWakeWordModel(choice.name, choice.path)
    elif choice.kind == "phrase":
        wake = WhisperWake(stt, options.wake_phrase, threshold=settings.voice.wake_threshold)
    _LOGGER.info("wake: %s", choice.reason)
    return VoiceService(services, source=source, speaker=speaker, stt=stt, vad=SileroVad(), wake=wake,
                        options=options, params=vad_params(settings), wake_model=wake_model,
                        complete=request_checker(services) if options.early_end_ms else None)


def _has_openwakeword() -> bool:
    import importlib.util

    return importlib.util.find_spec("pyopen_wakeword") is not None


def warm_up(service: VoiceService) -> None:
    """Load the router's models and run each speech model once, so the first request is as fast as the rest."""
    started = time.perf_counter()
    try:
        service.services.router()
    except AgentError as exc:
        _LOGGER.warning("router not ready: %s", exc)
    judge = getattr(service.stt, "judge", None)
    for check in (judge, service.complete):  # their router instance loads now, not during the first request
        if check is not None:
            check("what time is it")  # the sentence templates
            check("my laptop feels sluggish today")  # the semantic tier: its embedder's first run happens now
    if service.speaker is not None:
        synth = service.speaker.synth
        sample = synth.synthesize("Ready.")
        service.stt.transcribe(resample(sample, synth.sample_rate, SAMPLE_RATE))
    else:
        service.stt.transcribe(np.zeros(SAMPLE_RATE, dtype=np.float32))
    _LOGGER.info("voice warm-up took %.0f ms", (time.perf_counter() - started) * 1000)


def start_voice(services: Services) -> Stop | None:
    """Component start: the voice loop, as `services.voice` once its models loaded (in the background); returns
    its stop. No microphone (or voice off): one message, text-only, no error."""
    settings = services.settings
    if not settings.voice.enabled:
        _LOGGER.info("voice is off in the config (voice.enabled: false)")
        return None
    try:
        source = open_input(settings)
    except AudioError as exc:
        _LOGGER.warning("voice is off, text only: %s", exc)
        return None
    cancel = threading.Event()
    started: list[VoiceService] = []

    def load() -> None:
        try:
            service = build_voice(services, source=source)
            warm_up(service)
        except AgentError as exc:
            _LOGGER.warning("voice is off, text only: %s", exc)
            return
        if cancel.is_set():
            return
        started.append(service)
        services.voice = service
        service.start()

    loader = threading.Thread(target=load, name="voice-load", daemon=True)
    loader.start()

    def stop() -> None:
        cancel.set()
        loader.join(timeout=30)
        for service in started:
            if services.voice is service:
                services.voice = None
            service.stop()

    return stop
