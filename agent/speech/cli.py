"""Voice commands of the `agent` CLI: transcribe, say, listen, devices, and `agent ask --audio`."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from agent.config import Settings, load_settings
from agent.errors import AudioError
from agent.events import Activity, Event, Reply, Transcript, VoiceTimings
from agent.logs import setup_logging
from agent.paths import get_paths

__all__ = ["add_parsers", "ask_audio"]

ServicesFactory = Callable[[], Any]


def _settings() -> Settings:
    paths = get_paths().ensure()
    settings = load_settings(paths)
    setup_logging(paths, settings.log_level, settings.console_log_level, log_text=settings.log_text)
    return settings


def _echo(text: str, *, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    stream.write(text + "\n")
    stream.flush()


def _out(obj: dict[str, Any]) -> None:
    _echo(json.dumps(obj, ensure_ascii=False, default=str))


def cmd_transcribe(services_factory: ServicesFactory, ns: argparse.Namespace) -> int:
    from agent.speech.audio import read_audio
    from agent.speech.stt import WhisperTranscriber

    services = services_factory()  # the commands it knows bias what it hears (see agent.speech.stt)
    stt = WhisperTranscriber.from_settings(services.settings, registry=services.registry)  # once for every file
    stt.attach_router(services)
    status = 0
    for name in ns.files:
        try:
            heard = stt.transcribe(read_audio(name))
        except AudioError as exc:
            _echo(f"error: {exc}", err=True)
            status = 2
            continue
        row = {"file": name, "text": heard.text, "ms": round(heard.ms, 1), "audio_s": round(heard.audio_s, 3)}
        if ns.json:
            _out(row)
        else:
            _echo(f"{name}: {heard.text}")
    return status


def cmd_say(ns: argparse.Namespace) -> int:
    from agent.speech.audio import write_wav
    from agent.speech.devices import open_output
    from agent.speech.tts import PiperSynthesizer, Speaker

    settings = _settings()
    text = " ".join(ns.text)
    synth = PiperSynthesizer.from_settings(settings)
    if ns.out:
        chunks = list(synth.stream(text))
        samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
        write_wav(ns.out, samples, synth.sample_rate)
        _echo(f"wrote {ns.out} ({samples.size / synth.sample_rate:.1f} s)")
        return 0
    output = open_output(settings)
    if output is None:
        _echo("error: no speaker to play on (see `agent devices`); use --out FILE.wav", err=True)
        return 2
    speaker = Speaker(synth, output, chime_on=False)
    speech = speaker.say(text)
    speech.done.wait()
    speaker.close()
    return 0 if speech.completed else 1


def cmd_devices(ns: argparse.Namespace) -> int:
    from agent.speech.devices import list_devices, resolve_device

    settings = _settings()
    devices = list_devices()
    picked: dict[str, int | None] = {}
    for kind, spec in (("input", settings.voice.input_device), ("output", settings.voice.output_device)):
        try:
            picked[kind] = resolve_device(spec, devices, kind).device  # type: ignore[arg-type]
        except AudioError as exc:
            _echo(f"warning: voice.{kind}_device: {exc}", err=True)
            picked[kind] = None
    if ns.json:
        for d in devices:
            _out({**d.__dict__, "configured_input": picked["input"] == d.index,
                  "configured_output": picked["output"] == d.index})
        return 0
    if not devices:
        _echo("no audio devices (install libportaudio2, start PulseAudio or plug in a device)")
    for d in devices:
        marks = [m for m, on in (("default in", d.is_default_input), ("default out", d.is_default_output),
                                 ("configured in", picked["input"] == d.index),
                                 ("configured out", picked["output"] == d.index)) if on]
        _echo(f"{d.index:>3}  {d.name:<40} in {d.inputs:<3} out {d.outputs:<3} {d.default_rate:>7.0f} Hz"
              + (f"  [{', '.join(marks)}]" if marks else ""))
    return 0


def cmd_listen(services_factory: ServicesFactory, ns: argparse.Namespace) -> int:
    from agent.speech.service import build_voice, warm_up

    services = services_factory()
    if ns.hands_free:
        services.settings.voice.hands_free = True
    service = build_voice(services)
    warm_up(service)
    state = {"last": "idle"}

    def show(event: Event) -> None:
        if isinstance(event, Transcript) and event.text:
            _echo(f"you: {event.text}")
        elif isinstance(event, Reply):
            _echo(f"agent: {event.text}")
        elif isinstance(event, VoiceTimings):
            _echo("timings ms: " + " ".join(f"{k}={v:.0f}" for k, v in event.timings_ms.items()))
        elif isinstance(event, Activity) and event.source == "voice":
            if state["last"] == "speaking" and event.state != "speaking":
                _echo("(done speaking)")
            state["last"] = event.state

    detach = [services.bus.subscribe(kind, show) for kind in (Transcript, Reply, VoiceTimings, Activity)]
    stop_scheduler = _start_scheduler(services)
    quit_now = threading.Event()
    # explicit handlers: Ctrl-C even when a parent shell started us with SIGINT ignored, and SIGTERM
    previous = {sig: signal.signal(sig, lambda *_: quit_now.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    service.start(ptt=not ns.no_ptt)
    _echo(f"listening: {service.describe()} (Ctrl-C to stop)")
    try:
        while not (quit_now.wait(0.5) or service.source_ended.is_set()):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        service.stop()
        for d in detach:
            d()
        if stop_scheduler is not None:
            stop_scheduler()
    return 0


def _start_scheduler(services: Any) -> Callable[[], None] | None:
    """Timers and reminders set by voice should fire while `agent listen` runs; returns the scheduler's stop."""
    try:
        from agent.scheduling import start_scheduler

        return start_scheduler(services)
    except Exception as exc:  # the voice loop runs without timers rather than not at all
        _echo(f"warning: timers are off: {exc}", err=True)
        return None


def ask_audio(services: Any, ns: argparse.Namespace) -> int:
    """`agent ask --audio FILE`: the whole voice pipeline on a recording (transcribe, route, run, synthesize)."""
    from agent.speech.audio import BufferOutput, read_audio, write_wav
    from agent.speech.devices import open_output
    from agent.speech.stt import WhisperTranscriber
    from agent.speech.tts import PiperSynthesizer, Speaker

    audio = read_audio(ns.audio)
    stt = WhisperTranscriber.from_settings(services.settings, registry=services.registry)
    stt.attach_router(services)
    heard = stt.transcribe(audio)
    services.bus.publish(Transcript(heard.text, heard.confidence, heard.audio_s * 1000))
    timings: dict[str, float] = {"stt": heard.ms}
    if not heard.text:
        reply = "I didn't hear any speech in that recording."
        if ns.json:
            _out({"file": ns.audio, "transcript": "", "audio_s": round(heard.audio_s, 3), "state": "error",
                  "reply": reply, "timings_ms": {"stt": round(heard.ms, 2)}})
        else:
            _echo(reply)
        return 1
    outcome = services.pipeline().handle(heard.text, source="voice", yes=ns.yes, dry_run=ns.dry_run)
    timings.update(outcome.timings_ms)
    reply_text = outcome.result.reply
    if not ns.dry_run and not ns.no_tts and reply_text.strip():
        synth = PiperSynthesizer.from_settings(services.settings)
        played = open_output(services.settings) if ns.speak else None
        buffer = BufferOutput()
        speaker = Speaker(synth, played or buffer, chime_on=False)
        speech = speaker.say(reply_text)
        speech.done.wait()
        speaker.close()
        if speech.first_audio_s is not None:
            timings["tts_first_audio"] = speech.first_audio_s * 1000
        if ns.reply_wav and played is None:
            samples, rate = buffer.audio()
            write_wav(ns.reply_wav, samples, rate)
    timings["total"] = sum(v for k, v in timings.items() if k in ("stt", "route", "skill", "tts_first_audio"))
    if ns.json:
        row = outcome.to_json()
        row.update({"file": ns.audio, "transcript": heard.text, "audio_s": round(heard.audio_s, 3),
                    "timings_ms": {k: round(v, 2) for k, v in timings.items()}})
        _out(row)
    else:
        _echo(f"(heard: {heard.text})")
        _echo(reply_text)
        if outcome.result.confirmation:
            _echo(f"(confirm with: agent confirm {outcome.result.confirmation})")
    return 0


def add_ask_options(ask: argparse.ArgumentParser) -> None:
    """The `--audio` options of `agent ask` (TEXT becomes optional with --audio)."""
    ask.add_argument("--audio", metavar="FILE.wav", help="run the whole voice pipeline on a recording")
    ask.add_argument("--speak", action="store_true", help="with --audio: play the spoken reply")
    ask.add_argument("--reply-wav", metavar="FILE.wav", type=Path, help="with --audio: save the spoken reply")
    ask.add_argument("--no-tts", action="store_true", help="with --audio: skip synthesizing the reply")


def add_parsers(sub: Any, services_factory: ServicesFactory) -> None:
    t = sub.add_parser("transcribe", help="speech to text for audio files (models loaded once)")
    t.add_argument("files", nargs="+", metavar="FILE.wav")
    t.add_argument("--json", action="store_true", help='one JSON per file: {"file","text","ms","audio_s"}')
    t.set_defaults(fn=lambda ns: cmd_transcribe(services_factory, ns))

    s = sub.add_parser("say", help="speak TEXT with the Piper voice (or write it to --out FILE.wav)")
    s.add_argument("text", nargs="+")
    s.add_argument("--out", type=Path, metavar="FILE.wav")
    s.set_defaults(fn=cmd_say)

    li = sub.add_parser("listen", help="the live voice loop in the terminal (wake word, push-to-talk)")
    li.add_argument("--hands-free", action="store_true", help="every utterance is a request (no wake word)")
    li.add_argument("--no-ptt", action="store_true", help="do not hook the push-to-talk key")
    li.set_defaults(fn=lambda ns: cmd_listen(services_factory, ns))

    d = sub.add_parser("devices", help="audio devices (for voice.input_device / voice.output_device)")
    d.add_argument("--json", action="store_true")
    d.set_defaults(fn=cmd_devices)
