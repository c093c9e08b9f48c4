"""The wake-word model (openWakeWord through pyopen-wakeword) and what the voice loop does with it.

Pure choice first; then the service's decisions with fakes (`ToneWakeWord` takes a 700 Hz tone for the wake word,
`EnergyVad` and `ScriptedTranscriber` as in test_speech.py: the test is about the gating logic); then the real
model and the real Whisper on synthesized speech (flite voices the models never saw), marked slow. The end-to-end
test through a PulseAudio virtual microphone is in test_voice_e2e.py.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from agent.config import load_settings
from agent.events import Transcript, VoiceTimings
from agent.speech.audio import BLOCK, SAMPLE_RATE, BufferOutput, FileInput, read_audio
from agent.speech.service import VoiceOptions, VoiceService
from agent.speech.stt import ScriptedTranscriber, WhisperTranscriber
from agent.speech.tts import Speaker, ToneSynthesizer
from agent.speech.vad import EnergyVad, SileroVad, VadParams
from agent.speech.wakeword import OpenWakeWordModel, ToneWakeWord, WakeGate, choose_wake


def _tone(seconds: float, hz: float = 300.0) -> np.ndarray:
    return (0.3 * np.sin(2 * np.pi * hz * np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE)).astype(np.float32)


def _wake(seconds: float = 0.5) -> np.ndarray:
    """What `ToneWakeWord` takes for the wake word."""
    return _tone(seconds, 700.0)


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32)


@pytest.fixture(scope="module")
def wake_services(tmp_path_factory):
    """One set of services (router loaded once) for the loop tests."""
    from agent.paths import get_paths
    from agent.services import build_services

    home = tmp_path_factory.mktemp("wake-home")
    paths = get_paths({"AGENT_HOME": str(home)}).ensure()
    services = build_services(paths, load_settings(paths, env={"AGENT_HOME": str(home)}))
    router = services.router()
    router.route("what time is it")  # loads the sentence templates now, not during the first timed request
    router.context.last = None
    return services


@pytest.fixture
def events(wake_services):
    """`events(kind, ...)` -> a list that collects those bus events during the test."""
    detach = []

    def collect(*kinds):
        seen: list = []
        detach.extend(wake_services.bus.subscribe(kind, seen.append) for kind in kinds)
        return seen

    yield collect
    for d in detach:
        d()


def test_choose_wake_from_config():
    assert choose_wake("hey_jarvis", "hey computer", openwakeword=True).kind == "model"
    assert choose_wake(True, "hey computer", openwakeword=True).name == "hey_jarvis"
    assert choose_wake("Hey Mycroft", "x", openwakeword=True).name == "hey_mycroft"
    assert choose_wake("alexa", "x", openwakeword=True).spoken == "alexa"
    custom = choose_wake("/models/hey_nova.tflite", "x", openwakeword=True)
    assert custom.kind == "model"
    assert custom.path == Path("/models/hey_nova.tflite")
    assert custom.spoken == "hey nova"
    assert choose_wake(False, "x", openwakeword=True).kind == "off"
    assert choose_wake("off", "x", openwakeword=True).kind == "off"
    phrase = choose_wake("phrase", "hello there", openwakeword=True)
    assert phrase.kind == "phrase"
    assert phrase.spoken == "hello there"
    missing = choose_wake("hey_jarvis", "hey computer", openwakeword=False)
    assert missing.kind == "phrase"
    assert "pyopen-wakeword" in missing.reason
    with pytest.raises(ValueError, match="voice.wake_word"):
        choose_wake("hey_siri", "x", openwakeword=True)


def test_config_accepts_a_model_name_or_the_old_booleans(agent_home):
    assert load_settings(env={"AGENT_HOME": str(agent_home)}).voice.wake_word == "hey_jarvis"
    off = load_settings(env={"AGENT_HOME": str(agent_home), "AGENT_VOICE__WAKE_WORD": "off"})
    assert choose_wake(off.voice.wake_word, "x", openwakeword=True).kind == "off"


# -- the loop's decisions (fakes, see the module docstring) ---------------------------------------------------
def _blocks(seconds: float) -> int:
    return max(1, int(seconds * SAMPLE_RATE / BLOCK))


def _model_service(services, source, stt, wake_model, *, follow_up_s=1.5):
    speaker = Speaker(ToneSynthesizer(seconds_per_word=0.02), BufferOutput(), chime_on=True)
    options = VoiceOptions(wake_word=True, wake_phrase="hey jarvis", follow_up_s=follow_up_s)
    return VoiceService(services, source=source, speaker=speaker, stt=stt, vad=EnergyVad(), options=options,
                        params=VadParams(min_speech_ms=100, min_silence_ms=300), wake_model=wake_model)


def _run(service):
    service.start(ptt=False)
    try:
        assert service.source_ended.wait(30)
        assert service.wait_idle(30)
    finally:
        service.stop()


def test_wake_gate_runs_the_model_only_around_speech():
    model = ToneWakeWord()
    gate = WakeGate(model, context_s=1.0, hangover_s=0.5)
    silent, block = np.zeros(BLOCK, dtype=np.float32), _tone(BLOCK / SAMPLE_RATE)
    for _ in range(100):
        assert gate.feed(silent, 0.0) == 0.0
    assert model.samples == 0  # a quiet room: the model never runs
    gate.feed(block, 0.9)  # speech: the model gets the last second first (its context), then every block
    assert model.samples == _blocks(1.0) * BLOCK
    for _ in range(5):
        gate.feed(block, 0.9)
    assert model.samples == (_blocks(1.0) + 5) * BLOCK
    for _ in range(_blocks(0.5)):
        gate.feed(silent, 0.0)
    assert not gate.open
    fed = model.samples
    gate.feed(silent, 0.0)
    assert model.samples == fed
    assert gate.feed(np.concatenate([_wake(0.1)])[:BLOCK], 0.9) == 1.0
    assert gate.openings == 2


def test_speech_without_the_wake_word_is_never_transcribed(wake_services, events):
    audio = np.concatenate([_silence(0.5), _tone(1.0), _silence(1.0), _tone(1.5), _silence(1.0)])
    stt = ScriptedTranscriber("what time is it", "open firefox")
    wake = ToneWakeWord()
    seen = events(Transcript)
    service = _model_service(wake_services, FileInput(audio, realtime=True), stt, wake)
    _run(service)
    assert wake.samples > 2 * SAMPLE_RATE  # the model heard the speech ...
    assert stt.calls == []  # ... Whisper nothing
    assert not seen
    assert service.ignored == 2
    assert service.transcribed == 0


def test_wake_word_and_request_in_one_breath_then_follow_up(wake_services, events):
    # "hey jarvis what is 2 plus 3" in one breath, then a follow-up request without the wake word, then speech after
    # the follow-up window: ignored unheard
    audio = np.concatenate([_silence(0.5), _wake(0.5), _tone(1.0), _silence(2.0), _tone(0.8), _silence(7.0),
                            _tone(0.8), _silence(1.0)])
    stt = ScriptedTranscriber("Hey Jarvis, what is 2 plus 3?", "what is 9 times 9", "never")
    seen = events(Transcript, VoiceTimings)
    service = _model_service(wake_services, FileInput(audio, realtime=True), stt, ToneWakeWord(), follow_up_s=3.0)
    _run(service)
    texts = [e.text for e in seen if isinstance(e, Transcript)]
    assert texts == ["what is 2 plus 3?", "what is 9 times 9"]
    assert [e.skill for e in seen if isinstance(e, VoiceTimings)] == ["math.calc", "math.calc"]
    assert service.wakes == 1
    assert service.ignored == 1
    assert len(stt.calls) == 2


def test_wake_word_alone_opens_the_follow_up_window(wake_services, events):
    audio = np.concatenate([_silence(0.5), _wake(0.6), _silence(0.8), _tone(0.8), _silence(1.0)])
    stt = ScriptedTranscriber("Hey Jarvis.", "what is 2 plus 2")
    seen = events(Transcript)
    service = _model_service(wake_services, FileInput(audio, realtime=True), stt, ToneWakeWord())
    _run(service)
    assert [e.text for e in seen] == ["what is 2 plus 2"]


# -- real models on synthesized speech ---------------------------------------------------------------------------
def _say(tmp_path: Path, text: str, voice: str) -> np.ndarray:
    if shutil.which("flite") is None:
        pytest.fail("flite is missing (scripts/setup.sh installs it)")
    wav = tmp_path / f"{voice}-{abs(hash(text))}.wav"
    if voice == "espeak":
        subprocess.run(["espeak-ng", "-w", str(wav), text], check=True, timeout=60)
    else:
        subprocess.run(["flite", "-voice", voice, "-t", text, "-o", str(wav)], check=True, timeout=60)
    return read_audio(wav)


@pytest.mark.slow
@pytest.mark.parametrize("voice", ["slt", "rms", "awb", "kal16", "espeak"])
def test_openwakeword_hears_hey_jarvis_and_not_other_speech(tmp_path, voice):
    model = OpenWakeWordModel("hey_jarvis")
    pad = _silence(0.5)
    wake = np.concatenate([pad, _say(tmp_path, "Hey Jarvis, what time is it?", voice), pad])
    assert model.scan(wake, 0.5) is not None
    for other in ("Hey, what time is it?", "Set a timer for ten minutes.", "Jars of jam are in the garage."):
        assert model.scan(np.concatenate([pad, _say(tmp_path, other, voice), pad]), 0.5) is None, other


class _CountingWhisper(WhisperTranscriber):
    """The real transcriber, counting what it was given (the assertion is about what reaches Whisper)."""

    heard: list[str]

    def transcribe(self, audio, *, max_s=None):
        result = super().transcribe(audio, max_s=max_s)
        self.heard.append(result.text)
        return result


@pytest.mark.slow
def test_real_wake_word_gates_whisper(wake_services, events, tmp_path):
    settings = load_settings(env={"AGENT_HOME": str(tmp_path)})
    stt = _CountingWhisper.from_settings(settings, registry=wake_services.registry)
    stt.heard = []
    gap = _silence(1.5)
    audio = np.concatenate([gap, _say(tmp_path, "What is twelve times fifteen?", "awb"), gap,
                            _say(tmp_path, "Remind me to call the dentist.", "slt"), gap,
                            _say(tmp_path, "Hey Jarvis, what is six times seven?", "rms"), gap, gap])
    seen = events(Transcript, VoiceTimings)
    speaker = Speaker(ToneSynthesizer(seconds_per_word=0.02), BufferOutput(), chime_on=False)
    service = VoiceService(wake_services, source=FileInput(audio, realtime=True), speaker=speaker, stt=stt,
                           vad=SileroVad(), options=VoiceOptions(wake_word=True, wake_phrase="hey jarvis",
                                                                 follow_up_s=0.5),
                           params=VadParams(), wake_model=OpenWakeWordModel("hey_jarvis"))
    _run(service)
    assert len(stt.heard) == 1, stt.heard  # only the utterance with the wake word reached Whisper
    assert service.ignored == 2
    texts = [e.text for e in seen if isinstance(e, Transcript)]
    assert len(texts) == 1
    assert "6" in texts[0] or "six" in texts[0].lower()
    assert "jarvis" not in texts[0].lower()
    assert [e.skill for e in seen if isinstance(e, VoiceTimings)] == ["math.calc"]
