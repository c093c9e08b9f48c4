"""Speech stages: pure logic with fakes first, then each real backend with its real model (marked slow).

Fakes used (and why): `EnergyVad`, `ScriptedTranscriber`, `ToneSynthesizer` stand in only where a test is about
the logic around a stage (endpointing, wake/follow-up/barge-in decisions, queueing); every real backend (Silero,
faster-whisper, Piper, pynput on Xvfb) has its own test below with the real package and model.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from agent.config import load_settings
from agent.errors import AudioError, ModelError
from agent.events import Activity, Speak, StopSpeaking, Transcript, VoiceTimings
from agent.models.catalog import piper_voice_path, whisper_model_path
from agent.speech.audio import BLOCK, SAMPLE_RATE, BufferOutput, FileInput, resample
from agent.speech.devices import DeviceInfo, choose_backend, resolve_device
from agent.speech.ptt import HotkeyTracker, PttEvent, PttStateMachine, PushToTalk
from agent.speech.service import VoiceOptions, VoiceService
from agent.speech.stt import ScriptedTranscriber, WhisperTranscriber, is_degenerate
from agent.speech.tts import (
    PiperSynthesizer,
    Speaker,
    ToneSynthesizer,
    speakable,
    speech_chunks,
    split_sentences,
)
from agent.speech.vad import Endpointer, EnergyVad, SileroVad, VadParams
from agent.speech.wake import WhisperWake, is_stop, match_wake

from .conftest import run_cli

# -- backend choice and devices (pure) -------------------------------------------------------------------------


def test_choose_backend_from_availability_flags():
    assert choose_backend("input", portaudio=False, devices=3).backend == "none"
    assert "libportaudio2" in choose_backend("input", portaudio=False, devices=3).reason
    none = choose_backend("input", portaudio=True, devices=0)
    assert none.backend == "none"
    assert "microphone" in none.reason
    assert "speaker" in choose_backend("output", portaudio=True, devices=0).reason
    bad = choose_backend("input", portaudio=True, devices=2, device_error="no input device named 'usb'")
    assert bad.backend == "none"
    assert "usb" in bad.reason
    assert choose_backend("output", portaudio=True, devices=1).backend == "sounddevice"


DEVICES = [
    DeviceInfo(0, "HDA Intel PCH: ALC3246 Analog (hw:0,0)", 2, 2, 44100.0),
    DeviceInfo(1, "USB Headset: Audio (hw:1,0)", 1, 0, 48000.0),
    DeviceInfo(2, "pulse", 32, 32, 44100.0),
    DeviceInfo(3, "default", 32, 32, 44100.0, True, True),
]


def test_resolve_device_by_index_name_substring_and_pulse():
    assert resolve_device(None, DEVICES, "input").device is None
    assert resolve_device(1, DEVICES, "input").device == 1
    assert resolve_device("1", DEVICES, "input").device == 1
    assert resolve_device("usb headset", DEVICES, "input").device == 1
    assert resolve_device("default", DEVICES, "output").device == 3  # exact name wins over substrings
    choice = resolve_device("pulse:mic.monitor", DEVICES, "input")
    assert (choice.device, choice.pulse) == (2, "mic.monitor")
    with pytest.raises(AudioError, match="no output device with index 1"):
        resolve_device(1, DEVICES, "output")  # the headset has no output channels
    with pytest.raises(AudioError, match=r"no input device named 'webcam'.*available: 0: HDA"):
        resolve_device("webcam", DEVICES, "input")
    with pytest.raises(AudioError, match="several"):
        resolve_device("hw:", DEVICES, "input")
    with pytest.raises(AudioError, match="PulseAudio"):
        resolve_device("pulse:mic", DEVICES[:2], "input")


def test_resample_keeps_duration_and_pitch():
    rate = 22050
    tone = np.sin(2 * np.pi * 440 * np.arange(rate) / rate).astype(np.float32)
    out = resample(tone, rate, SAMPLE_RATE)
    assert abs(out.size - SAMPLE_RATE) <= 1
    spectrum = np.abs(np.fft.rfft(out))
    assert abs(np.argmax(spectrum) * SAMPLE_RATE / out.size - 440) < 3


def test_model_paths_from_config_and_clear_errors(tmp_path, agent_home):
    settings = load_settings(env={"AGENT_HOME": str(agent_home)})
    assert (whisper_model_path(settings) / "model.bin").is_file()
    assert piper_voice_path(settings).with_suffix(".onnx.json").is_file()
    settings.voice.whisper_model = tmp_path / "nowhere"
    with pytest.raises(ModelError, match="voice.whisper_model.*model.bin"):
        whisper_model_path(settings)
    voice = tmp_path / "v.onnx"
    voice.write_bytes(b"x")
    settings.voice.piper_voice = voice
    with pytest.raises(ModelError, match=r"v\.onnx\.json"):
        piper_voice_path(settings)


# -- endpointing, wake phrase, stop words, push-to-talk (pure) ------------------------------------------------


def _feed(ep: Endpointer, probs: list[float]) -> list:
    out = []
    for i, p in enumerate(probs):
        utt = ep.feed(np.full(BLOCK, 0.1 if p else 0.0, dtype=np.float32), p, now=i * 0.032)
        if utt is not None:
            out.append(utt)
    return out


def test_endpointer_cuts_one_utterance_with_pre_roll_and_ignores_clicks():
    params = VadParams(min_speech_ms=200, min_silence_ms=320, pre_roll_ms=96)
    ep = Endpointer(params)
    utts = _feed(ep, [0.0] * 20 + [0.9] * 30 + [0.0] * 15)
    assert len(utts) == 1
    utt = utts[0]
    assert 30 * BLOCK < utt.audio.size <= (3 + 30 + 4) * BLOCK  # pre-roll + speech + ~100 ms of the silence
    assert utt.speech_end == pytest.approx(49 * 0.032)
    assert utt.ended > utt.speech_end
    assert utt.speech_start == pytest.approx(20 * 0.032)
    assert _feed(Endpointer(params), [0.9] * 3 + [0.0] * 20) == []  # 96 ms click: not speech
    # hysteresis: a dip between the two thresholds inside speech does not end it
    assert len(_feed(Endpointer(params), [0.9] * 10 + [0.4] * 20 + [0.9] * 5 + [0.0] * 12)) == 1


def test_endpointer_forces_a_cut_at_max_length():
    ep = Endpointer(VadParams(max_utterance_s=1.0))
    utts = _feed(ep, [0.9] * 40)
    assert len(utts) == 1
    assert utts[0].forced


@pytest.mark.parametrize(("heard", "remainder"), [
    ("Hey computer, what time is it?", "what time is it?"),
    ("Hey, computer.", ""),
    ("hay computer set a timer", "set a timer"),
    ("Okay hey computer stop", "stop"),
    ("Heycomputer what's up", "what's up"),
    ("A computer, what time is it?", "what time is it?"),  # Whisper's usual way of hearing "Hey"
    ("Hi computer, open firefox", "open firefox"),
])
def test_match_wake_finds_the_phrase_and_returns_the_rest(heard, remainder):
    match = match_wake(heard, "hey computer")
    assert match is not None
    assert match.remainder == remainder


@pytest.mark.parametrize("heard", ["What is the weather like?", "computer is slow", "", "Thank you.",
                                   "I said hey to my computer"])
def test_match_wake_rejects_other_speech(heard):
    assert match_wake(heard, "hey computer") is None


def test_stop_words():
    for text in ("Stop.", "stop talking", "Okay, stop!", "be quiet", "Stop it please", "never mind"):
        assert is_stop(text), text
    for text in ("stop the timer", "what is stop", "", "don't stop"):
        assert not is_stop(text), text


def test_push_to_talk_hold_sends_tap_toggles():
    m = PttStateMachine(tap_s=0.35)
    assert m.press(10.0) is PttEvent.START
    assert m.press(10.1) is None  # already down
    assert m.release(11.0) is PttEvent.SEND
    assert m.press(12.0) is PttEvent.START
    assert m.release(12.1) is PttEvent.TAP
    assert m.release(13.0) is None
    keys = HotkeyTracker({"ctrl", "alt", "v"})
    assert not keys.press("ctrl")
    assert not keys.press("alt")
    assert keys.press("v")
    assert not keys.press("v")  # auto-repeat press: already active
    assert keys.release("alt")
    assert not keys.release("v")


def test_speakable_text_and_sentences():
    assert speakable("6 * 7 is 42.") == "6 times 7 is 42."
    assert speakable("10 / 4 = 2.5, and 12% of 3 - 1") == "10 divided by 4 = 2.5, and 12 percent of 3 minus 1"
    assert speakable("See **this** at https://x.y/z") == "See this at a link"
    assert split_sentences("It is 3.5 degrees. Take a coat! OK?") == ["It is 3.5 degrees.", "Take a coat!", "OK?"]


@pytest.mark.parametrize(("reply", "chunks"), [
    ("It's 6:52 AM on Wednesday, December 2, 2026.", ["It's 6:52 AM on Wednesday,", "December 2, 2026."]),
    ("Today is Wednesday, December 2, 2026; it's 6:52 AM.",
     ["Today is Wednesday,", "December 2, 2026;", "it's 6:52 AM."]),
    ("Six times seven is 42. Anything else?", ["Six times seven is 42.", "Anything else?"]),
    ("Yes, I can.", ["Yes, I can."]),  # too short to cut
    ("Counting 1, 2, 3, 4 and 5 now.", ["Counting 1, 2, 3, 4 and 5 now."]),  # never before a number
    ("Done. Well, that took a while, sorry.", ["Done.", "Well, that took a while, sorry."]),  # only the first
])
def test_the_first_spoken_chunk_is_cut_at_a_clause_for_sooner_audio(reply, chunks):
    assert speech_chunks(reply) == chunks


def test_degenerate_decodes_are_detected():
    assert is_degenerate("Open Firefox Open Firefox Open Firefox Open Firefox")
    assert is_degenerate("mute mute mute mute")
    assert not is_degenerate("Set a timer for 5 minutes.")
    assert not is_degenerate("What is 6 times 7?")


# -- speaker (fake synthesizer, real threads) -------------------------------------------------------------------


def test_speaker_streams_first_sentence_before_the_rest_is_synthesized():
    synth = ToneSynthesizer(delay_s=0.15)
    out = BufferOutput()
    speaker = Speaker(synth, out, chime_on=False)
    progress: list[int] = []
    speech = speaker.say("One two. Three four. Five six.",
                         on_first_audio=lambda _t: progress.append(synth.synthesized))
    assert speech.done.wait(10)
    assert speech.completed
    assert progress[0] < 3  # the first sentence played while later ones were still being made
    assert out.audio()[0].size == int(6 * 0.1 * 16000)
    speaker.close()


def test_speaker_stop_cuts_at_once_and_drops_the_queue():
    out = BufferOutput(realtime=True)
    speaker = Speaker(ToneSynthesizer(seconds_per_word=0.5), out, chime_on=False)
    first = speaker.say("one two three four five six seven eight")  # 4 s of audio
    second = speaker.say("never said")
    deadline = time.monotonic() + 10
    while not speaker.speaking and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)
    t0 = time.monotonic()
    assert speaker.stop()
    assert first.done.wait(2)
    assert time.monotonic() - t0 < 0.3
    assert first.interrupted
    assert second.interrupted
    assert not second.first_audio_at
    played, rate = out.audio(0)
    assert played.size / rate < 1.5
    speaker.close()


# -- the service's decisions (fake STT and VAD; real bus, pipeline, threads) ----------------------------------


@pytest.fixture(scope="module")
def voice_services(tmp_path_factory):
    """One set of services (router loaded once) for the service tests; each test detaches what it subscribed."""
    from agent.paths import get_paths
    from agent.services import build_services

    home = tmp_path_factory.mktemp("voice-home")
    paths = get_paths({"AGENT_HOME": str(home)}).ensure()
    services = build_services(paths, load_settings(paths, env={"AGENT_HOME": str(home)}))
    services.router()
    return services


@pytest.fixture
def listen(voice_services):
    """`listen(kind)` -> a list that collects the bus events of that kind during the test."""
    detach = []

    def collect(*kinds):
        seen: list = []
        detach.extend(voice_services.bus.subscribe(kind, seen.append) for kind in kinds)
        return seen

    yield collect
    for d in detach:
        d()


def _tone(seconds: float) -> np.ndarray:
    return (0.3 * np.sin(2 * np.pi * 300 * np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE)).astype(np.float32)


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32)


def _service(services, source, stt, *, wake=True, hands_free=False, out=None):
    speaker = Speaker(ToneSynthesizer(seconds_per_word=0.02), out or BufferOutput(), chime_on=True)
    options = VoiceOptions(wake_word=wake, wake_phrase="hey computer", hands_free=hands_free, follow_up_s=1.5)
    return VoiceService(services, source=source, speaker=speaker, stt=stt, vad=EnergyVad(),
                        wake=WhisperWake(stt, "hey computer") if wake else None, options=options,
                        params=VadParams(min_speech_ms=100, min_silence_ms=300))


def test_wake_phrase_then_follow_up_then_ignored_speech(voice_services, listen):
    audio = np.concatenate([_tone(0.5), _silence(0.6), _tone(0.6), _silence(0.6), _tone(0.4), _silence(3.2),
                            _tone(0.5), _silence(0.6)])
    stt = ScriptedTranscriber("what is the weather", "hey computer", "what is 2 plus 3", "what is 9 times 9")
    seen = listen(Transcript, VoiceTimings)
    service = _service(voice_services, FileInput(audio, realtime=True), stt)
    service.start(ptt=False)
    try:
        assert service.source_ended.wait(30)
        assert service.wait_idle(30)
    finally:
        service.stop()
    texts = [e.text for e in seen if isinstance(e, Transcript)]
    # no wake phrase: ignored; wake phrase alone: chime + follow-up window; the request inside the window runs;
    # the last utterance comes after the window closed and has no wake phrase: ignored
    assert texts == ["what is 2 plus 3"]
    timings = [e for e in seen if isinstance(e, VoiceTimings)]
    assert len(timings) == 1
    assert timings[0].skill == "math.calc"
    assert {"stt", "route", "skill", "tts_first_audio", "eos_to_first_audio"} <= set(timings[0].timings_ms)
    assert len(stt.calls) == 4


def test_stop_event_and_spoken_stop_barge_in(voice_services, listen):
    services = voice_services
    out = BufferOutput(realtime=True)
    stt = ScriptedTranscriber("stop")
    # 2.5 s of quiet, then "stop" while the long reply below is still playing
    service = _service(services, FileInput(np.concatenate([_silence(2.5), _tone(0.4), _silence(1.0)]),
                                           realtime=True), stt, wake=False, hands_free=True, out=out)
    states = listen(Activity)
    service.start(ptt=False)
    try:
        services.bus.publish(Speak("word " * 300, source="test"))  # 6 s of audio
        assert service.source_ended.wait(30)
        assert service.wait_idle(30)
        assert not out.played[-1].completed
        assert sum(p.size for p in out.played[-1].samples) < 16000 * 5
        services.bus.publish(Speak("word " * 300, source="test"))
        deadline = time.monotonic() + 10
        while not (service.speaker and service.speaker.speaking) and time.monotonic() < deadline:
            time.sleep(0.01)
        services.bus.publish(StopSpeaking(source="test"))
        assert service.wait_idle(5)
        assert not out.played[-1].completed
    finally:
        service.stop()
    assert stt.calls  # "stop" was transcribed while speaking
    assert "speaking" in [e.state for e in states]  # the tray shows it


def test_wake_phrase_and_push_to_talk_barge_in(voice_services, listen):
    out = BufferOutput(realtime=True)
    stt = ScriptedTranscriber("hey computer")
    source = FileInput(np.concatenate([_silence(2.5), _tone(0.5), _silence(1.5)]), realtime=True)
    service = _service(voice_services, source, stt, wake=True, out=out)
    service.start(ptt=False)
    try:
        voice_services.bus.publish(Speak("word " * 300, source="test"))
        assert service.source_ended.wait(30)
        assert service.wait_idle(30)
        assert stt.calls  # the wake phrase was heard while speaking ...
        assert not out.played[0].completed  # ... and cut the reply
        assert service.follow_up_until > 0  # then it listens for the request without the phrase
        voice_services.bus.publish(Speak("word " * 300, source="test"))
        deadline = time.monotonic() + 10
        while not (service.speaker and service.speaker.speaking) and time.monotonic() < deadline:
            time.sleep(0.01)
        service.on_ptt(PttEvent.START)  # the push-to-talk key cuts it too
        assert service.wait_idle(5)
        assert not out.played[-1].completed
    finally:
        service.stop()


def test_push_to_talk_events_drive_the_service(voice_services, listen):
    stt = ScriptedTranscriber("what is 2 plus 2")
    source = FileInput(_silence(30), realtime=True)
    service = _service(voice_services, source, stt, wake=False)
    seen = listen(VoiceTimings)
    service.start(ptt=False)
    try:
        service.on_ptt(PttEvent.START)
        deadline = time.monotonic() + 10
        while len(service._ptt_buffer or []) < 8 and time.monotonic() < deadline:
            time.sleep(0.02)  # the microphone opens on the press and records while the key is held
        service.on_ptt(PttEvent.SEND)
        deadline = time.monotonic() + 20
        while not seen and time.monotonic() < deadline:
            time.sleep(0.02)
        assert seen
        assert seen[0].transcript == "what is 2 plus 2"
        service.on_ptt(PttEvent.START)
        service.on_ptt(PttEvent.TAP)
        assert service.hands_free
        service.on_ptt(PttEvent.START)
        service.on_ptt(PttEvent.TAP)
        assert not service.hands_free
    finally:
        service.stop()


# -- real models ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    home = tmp_path_factory.mktemp("speech-home")
    settings = load_settings(env={"AGENT_HOME": str(home)})
    stt = WhisperTranscriber.from_settings(settings)
    synth = PiperSynthesizer.from_settings(settings)
    return stt, synth


def _speech(synth: PiperSynthesizer, text: str, pad_s: float = 0.3) -> np.ndarray:
    samples = resample(np.concatenate(list(synth.stream(text))), synth.sample_rate, SAMPLE_RATE)
    return np.concatenate([_silence(pad_s), samples, _silence(pad_s)])


@pytest.mark.slow
def test_piper_to_whisper_round_trip(models):
    stt, synth = models
    heard = stt.transcribe(_speech(synth, "Set a timer for five minutes."))
    words = heard.text.lower()
    assert "timer" in words, heard
    assert "five" in words or "5" in words, heard
    assert heard.path in ("fast", "full")
    assert 1.0 < heard.audio_s < 4.0


@pytest.mark.slow
def test_no_text_from_silence_or_hiss(models):
    stt, _synth = models
    rng = np.random.default_rng(1)
    for clip in (_silence(2.0), (0.003 * rng.standard_normal(SAMPLE_RATE * 2)).astype(np.float32), _silence(0.1)):
        heard = stt.transcribe(clip)
        assert heard.text == "", heard
        assert heard.path == "silence", heard


@pytest.mark.slow
def test_piper_streams_sentence_by_sentence(models):
    _stt, synth = models
    before = synth.synthesized
    stream = synth.stream("Forty two. That is the answer. It is a fine number.")
    first = next(stream)
    assert synth.synthesized - before == 1  # only the first sentence exists when it can start playing
    assert first.size > synth.sample_rate * 0.3
    assert len(list(stream)) == 2
    assert synth.synthesized - before == 3


@pytest.mark.slow
def test_silero_vad_and_endpointer_on_real_speech(models):
    _stt, synth = models
    audio = np.concatenate([_speech(synth, "What time is it?", pad_s=1.0), _silence(0.5)])
    vad, ep = SileroVad(), Endpointer(VadParams())
    probs, utts = [], []
    for i in range(0, audio.size - BLOCK + 1, BLOCK):
        block = audio[i:i + BLOCK]
        probs.append(vad.probability(block))
        utt = ep.feed(block, probs[-1], now=i / SAMPLE_RATE)
        if utt is not None:
            utts.append(utt)
    assert max(probs[:25]) < 0.3
    assert max(probs) > 0.8
    assert len(utts) == 1
    assert 0.8 < utts[0].seconds < 2.5


@pytest.mark.slow
def test_whisper_wake_on_real_speech(models):
    stt, synth = models
    wake = WhisperWake(stt, "hey computer")
    hit = wake.detect(_speech(synth, "Hey computer, what time is it?"))
    assert hit.matched is not None, hit
    assert "time" in hit.matched.remainder.lower(), hit
    assert wake.detect(_speech(synth, "What is the weather like today?")).matched is None


@pytest.mark.slow
def test_voice_service_in_process_on_a_recording(voice_services, listen, models):
    """Hands-free: a spoken request from a recording, through the real pipeline, answered in Piper's voice."""
    stt, synth = models
    out = BufferOutput()
    speaker = Speaker(synth, out, chime_on=False)
    service = VoiceService(voice_services, source=FileInput(_speech(synth, "What is six times seven?"),
                                                            realtime=True),
                           speaker=speaker, stt=stt, vad=SileroVad(), options=VoiceOptions(hands_free=True))
    seen = listen(VoiceTimings)
    service.start(ptt=False)
    try:
        assert service.source_ended.wait(30)
        assert service.wait_idle(60)
    finally:
        service.stop()
    assert seen
    assert seen[0].skill == "math.calc"
    reply, rate = out.audio()
    heard = stt.transcribe(resample(reply, rate, SAMPLE_RATE)).text.lower()
    assert "42" in heard or "forty" in heard, heard


@pytest.mark.slow
def test_ask_audio_and_transcribe_cli(tmp_path, models):
    stt, synth = models
    from agent.speech.audio import write_wav

    request = write_wav(tmp_path / "ask.wav", _speech(synth, "What is six times seven?"), SAMPLE_RATE)
    quiet = write_wav(tmp_path / "quiet.wav", _silence(1.5), SAMPLE_RATE)
    reply_wav = tmp_path / "reply.wav"
    done = run_cli("ask", "--audio", str(request), "--json", "--reply-wav", str(reply_wav))
    assert done.returncode == 0, done.stderr
    import json

    row = json.loads(done.stdout)
    assert row["skill"] == "math.calc"
    assert "42" in row["reply"]
    assert "6" in row["transcript"] or "six" in row["transcript"].lower()
    assert {"stt", "route", "skill", "tts_first_audio"} <= set(row["timings_ms"])
    listed = run_cli("transcribe", str(reply_wav), str(quiet), "--json")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [Path(r["file"]).name for r in rows] == ["reply.wav", "quiet.wav"]
    assert "42" in rows[0]["text"]
    assert rows[1]["text"] == ""
    assert rows[1]["audio_s"] == 1.5


@pytest.mark.slow
def test_ask_audio_on_silence_says_so(voice_services, tmp_path, capsys):
    import argparse
    import json

    from agent.speech.audio import write_wav
    from agent.speech.cli import ask_audio

    quiet = write_wav(tmp_path / "quiet.wav", _silence(1.5), SAMPLE_RATE)
    ns = argparse.Namespace(audio=str(quiet), json=True, dry_run=True, yes=False, no_tts=False, speak=False,
                            reply_wav=None)
    assert ask_audio(voice_services, ns) == 1
    row = json.loads(capsys.readouterr().out)
    assert row["transcript"] == ""
    assert row["state"] == "error"
    assert "didn't hear" in row["reply"]


# -- push-to-talk with a real key on Xvfb ------------------------------------------------------------------------


@pytest.fixture
def xvfb(tmp_path):
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "640x480x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(write_fd,))
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        display = ":" + pipe.readline().strip()  # Xvfb picks a free display and writes its number
    env = {**os.environ, "DISPLAY": display}
    deadline = time.monotonic() + 20
    while subprocess.run(["xdotool", "getmouselocation"], env=env, capture_output=True).returncode != 0:
        assert time.monotonic() < deadline, "Xvfb did not start"
        assert proc.poll() is None, "Xvfb exited"
        time.sleep(0.1)
    yield env
    proc.terminate()
    proc.wait(10)


@pytest.mark.slow
def test_push_to_talk_key_on_xvfb(xvfb, monkeypatch):
    assert shutil.which("xdotool")
    monkeypatch.setenv("DISPLAY", xvfb["DISPLAY"])
    events: list[PttEvent] = []
    got = threading.Event()

    def on_event(e: PttEvent) -> None:
        events.append(e)
        got.set()

    def keys(*args: str) -> None:
        subprocess.run(["xdotool", *args], env=xvfb, check=True)

    ptt = PushToTalk("<ctrl>+<alt>+v", on_event, tap_s=0.3)
    assert ptt.start()
    try:

        def wait_for(n: int) -> None:
            deadline = time.monotonic() + 10
            while len(events) < n and time.monotonic() < deadline:
                got.wait(0.1)

        keys("keydown", "ctrl", "keydown", "alt", "keydown", "v")
        wait_for(1)
        time.sleep(0.5)
        keys("keyup", "v", "keyup", "alt", "keyup", "ctrl")
        wait_for(2)
        keys("keydown", "ctrl", "keydown", "alt", "keydown", "v", "keyup", "v", "keyup", "alt", "keyup", "ctrl")
        wait_for(4)
        keys("key", "v")  # v alone is not the hotkey
        time.sleep(0.3)
    finally:
        if not ptt.stop():
            keys("key", "shift")  # pynput's X11 listener notices a stop at the next key event
            assert ptt.stop(wait_s=10)
    assert events == [PttEvent.START, PttEvent.SEND, PttEvent.START, PttEvent.TAP]


def test_voice_timings_reach_the_metrics(services):
    from agent.api.metrics import AgentMetrics

    metrics = AgentMetrics(services)
    detach = metrics.attach(services.bus.subscribe)
    try:
        services.bus.publish(VoiceTimings({"stt": 150.0, "route": 1.0, "eos_to_first_audio": 420.0}, "hi", "chat"))
    finally:
        detach()
    text = metrics.render().decode()
    assert 'agent_stage_seconds_count{stage="voice_stt"} 1.0' in text
    assert 'agent_stage_seconds_count{stage="voice_eos_to_first_audio"} 1.0' in text
    assert 'stage="voice_route"' not in text
