"""Ending a turn as soon as the request is complete, never cutting off an open one.

`complete_request` is pure; the loop tests use `EnergyVad` and `ScriptedTranscriber` (the test is about when the
turn ends, not about hearing) with the real router deciding what is complete."""

from __future__ import annotations

import numpy as np
import pytest

from agent.config import load_settings
from agent.events import Transcript
from agent.speech.audio import SAMPLE_RATE, BufferOutput, FileInput
from agent.speech.service import VoiceOptions, VoiceService
from agent.speech.stt import ScriptedTranscriber
from agent.speech.tts import Speaker, ToneSynthesizer
from agent.speech.understand import complete_request, request_checker
from agent.speech.vad import EnergyVad, VadParams


def test_complete_request_only_for_whole_closed_commands():
    assert complete_request("what time is it", "time.now", "template", None)
    assert not complete_request("what time is it", "time.now", "semantic", None)  # not matched whole
    assert not complete_request("set a timer for", "timer.set", "template", "How long?")
    assert not complete_request("remind me to call mom", "reminder.add", "template", None)  # may go on
    assert not complete_request("what is twelve times", "math.calc", "template", None)  # announces more
    assert not complete_request("tell me about", "chat", "fallback", None)
    assert not complete_request("", "time.now", "template", None)


def _tone(seconds: float) -> np.ndarray:
    return (0.3 * np.sin(2 * np.pi * 300 * np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE)).astype(np.float32)


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32)


@pytest.fixture(scope="module")
def turn_services(tmp_path_factory):
    from agent.paths import get_paths
    from agent.services import build_services

    home = tmp_path_factory.mktemp("turn-home")
    paths = get_paths({"AGENT_HOME": str(home)}).ensure()
    services = build_services(paths, load_settings(paths, env={"AGENT_HOME": str(home)}))
    router = services.router()
    router.route("what time is it")  # loads the sentence templates now, not during the first timed request
    router.context.last = None
    return services


def _run(services, audio, stt):
    heard: list[Transcript] = []
    detach = services.bus.subscribe(Transcript, heard.append)
    speaker = Speaker(ToneSynthesizer(seconds_per_word=0.02), BufferOutput(), chime_on=False)
    complete = request_checker(services)
    assert complete("what time is it")  # loads its router before the clock starts
    service = VoiceService(services, source=FileInput(audio, realtime=True), speaker=speaker, stt=stt,
                           vad=EnergyVad(), options=VoiceOptions(wake_word=False, hands_free=True, early_end_ms=200),
                           params=VadParams(min_speech_ms=100, min_silence_ms=800),
                           complete=complete)
    service.start(ptt=False)
    try:
        assert service.source_ended.wait(30)
        assert service.wait_idle(30)
    finally:
        service.stop()
        detach()
    return service, [e.text for e in heard]


def test_a_complete_request_ends_the_turn_early(turn_services):
    # the decode starts as the speaker stops, not after early_end_ms of silence: the audio it was given ends within
    # one window of the tone (the pre-roll, the tone, one silent window)
    stt = ScriptedTranscriber("what time is it", "unused")
    service, heard = _run(turn_services, np.concatenate([_silence(0.3), _tone(0.8), _silence(1.5)]), stt)
    assert heard == ["what time is it"]
    assert service.early_ends == 1
    assert len(stt.calls) == 1  # the early transcript is the request's: no second decoding
    assert stt.calls[0] < 0.3 + 0.8 + 0.8  # it was taken before the full closing silence
    assert stt.calls[0] < 0.3 + 0.8 + 0.1  # ... at the first silent window
    assert service.early_checks == 1


def test_an_open_request_waits_for_the_full_silence(turn_services):
    # "set a timer for" ... pause ... "five minutes": the pause must not end the turn
    audio = np.concatenate([_silence(0.3), _tone(0.6), _silence(0.5), _tone(0.6), _silence(1.5)])
    stt = ScriptedTranscriber("set a timer for", "set a timer for five minutes", "set a timer for five minutes")
    service, heard = _run(turn_services, audio, stt)
    assert heard == ["set a timer for five minutes"]
    assert service.early_ends == 0


def test_a_complete_prefix_is_dropped_when_the_speaker_goes_on(turn_services):
    # a pause shorter than early_end_ms whose transcript is a complete request, then more speech: the pause's
    # transcript must not end the turn nor become the request; the turn is the whole sentence
    audio = np.concatenate([_silence(0.3), _tone(0.8), _silence(0.1), _tone(0.5), _silence(1.5)])
    stt = ScriptedTranscriber("what time is it", "set a timer for five minutes", "set a timer for five minutes")
    service, heard = _run(turn_services, audio, stt)
    assert heard == ["set a timer for five minutes"]
    assert service.early_ends == 0
    assert service.early_checks == 2  # both pauses were transcribed as they began
    assert stt.calls[0] < 0.3 + 0.8 + 0.1  # the first check heard only the first part
