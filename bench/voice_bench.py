"""Measure the voice stages on this machine. Prints one JSON summary.

    .venv/bin/python bench/voice_bench.py [--quick] [--only latency|stt|tts|idle|rss] [--rounds N]
                                          [--set voice.KEY=VALUE ...]

- stt: faster-whisper tiny.en on a ~2.5 s spoken command (Piper's voice, VAD-trimmed): latency and real-time
  factor, with the short-window fast path (the default) and with Whisper's standard 30 s window;
- tts_first_audio: Piper, from the reply text to the first sentence's samples (a two-sentence reply);
- end_of_speech_to_first_audio: the live loop (`VoiceService`, hands-free) on a private PulseAudio server: a
  tier-1 request is played into a null sink the agent records from, and the agent's timings are read for
  each one (p50/p90). `eos` counts from the endpointer's decision (`vad_min_silence_ms` after the last voiced
  window); `speech_end` from the last voiced window itself (includes that closing silence). Without
  PulseAudio the requests come from a file source paced in real time instead;
- idle_cpu: process CPU over 20 s of silence with the models loaded: nothing running, voice with the wake word
  off (push-to-talk only: the microphone stream is open, no VAD), voice with the wake word on (Silero VAD on every
  32 ms window), measured from 5 s after the microphone opened (its start-up is busier);
- rss_mb: resident memory with Whisper, Piper, Silero, the embedder and the LLM loaded and used once.

The machine's load average is printed too: the figures are medians of repeated runs on a shared machine.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("AGENT_HOME", tempfile.mkdtemp(prefix="agent-bench-"))

import numpy as np  # noqa: E402
import psutil  # noqa: E402

from agent.config import load_settings  # noqa: E402
from agent.events import Event, VoiceTimings  # noqa: E402
from agent.paths import get_paths  # noqa: E402
from agent.services import build_services  # noqa: E402
from agent.speech.audio import (  # noqa: E402
    SAMPLE_RATE,
    BufferOutput,
    FileInput,
    SoundDeviceInput,
    SoundDeviceOutput,
    resample,
    write_wav,
)
from agent.speech.devices import list_devices, resolve_device  # noqa: E402
from agent.speech.service import VoiceOptions, VoiceService  # noqa: E402
from agent.speech.stt import WhisperTranscriber, vad_params  # noqa: E402
from agent.speech.tts import PiperSynthesizer, Speaker  # noqa: E402
from agent.speech.understand import request_checker  # noqa: E402
from agent.speech.vad import SileroVad  # noqa: E402

COMMAND = "Remind me to call mom at five pm tomorrow."
REPLY = "Six times seven is forty two. Anything else?"
REQUESTS = ["What is six times seven?", "What time is it?", "What is twelve plus thirty?",
            "What day is it?", "How much is nine times eight?"]


def _stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return {"p50": round(statistics.median(ordered), 1), "p90": round(p90, 1), "min": round(ordered[0], 1),
            "max": round(ordered[-1], 1), "n": len(ordered)}


def _speech(synth: PiperSynthesizer, text: str) -> np.ndarray:
    samples = resample(np.concatenate(list(synth.stream(text))), synth.sample_rate, SAMPLE_RATE)
    pad = np.zeros(int(0.2 * SAMPLE_RATE), dtype=np.float32)
    return np.concatenate([pad, samples, pad])


def bench_stt(settings: Any, synth: PiperSynthesizer, runs: int) -> dict[str, Any]:
    audio = _speech(synth, COMMAND)
    out: dict[str, Any] = {"audio_s": round(audio.size / SAMPLE_RATE, 2)}
    for label, window in (("fast_window_10s", settings.voice.whisper_window_s), ("standard_30s", 30.0)):
        stt = WhisperTranscriber.from_settings(settings)
        stt.window_s = window
        stt.transcribe(audio)  # warm
        times, text = [], ""
        for _ in range(runs):
            heard = stt.transcribe(audio)
            times.append(heard.ms)
            text = heard.text
        ms = _stats(times)
        out[label] = {"ms": ms, "rtf": round(ms["p50"] / 1000 / (audio.size / SAMPLE_RATE), 3), "text": text}
    return out


def bench_tts(synth: PiperSynthesizer, runs: int) -> dict[str, Any]:
    firsts, totals = [], []
    for _ in range(runs + 1):
        started = time.perf_counter()
        stream = synth.stream(REPLY)
        next(stream)
        firsts.append((time.perf_counter() - started) * 1000)
        list(stream)
        totals.append((time.perf_counter() - started) * 1000)
    return {"first_audio_ms": _stats(firsts[1:]), "whole_reply_ms": _stats(totals[1:]), "reply": REPLY}


class _Pulse:
    """A private PulseAudio server with null sinks `mic` (the agent's microphone) and `spk` (its speaker)."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="pa-"))
        self.env = {**os.environ, "XDG_RUNTIME_DIR": str(self.dir), "PULSE_RUNTIME_PATH": str(self.dir / "pulse"),
                    "PULSE_STATE_PATH": str(self.dir / "state"), "PULSE_SERVER": f"unix:{self.dir}/pulse/native"}
        self.proc = subprocess.Popen(
            ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit",
             "-L", "module-native-protocol-unix", "-L", "module-null-sink sink_name=mic",
             "-L", "module-null-sink sink_name=spk"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while subprocess.run(["pactl", "list", "short", "sinks"], env=self.env, capture_output=True,
                             text=True).stdout.count("null-sink") < 2:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("pulseaudio did not start")
            time.sleep(0.1)
        os.environ.update({k: self.env[k] for k in ("PULSE_SERVER", "PULSE_RUNTIME_PATH", "XDG_RUNTIME_DIR")})

    def play(self, wav: Path) -> None:
        subprocess.run(["paplay", "--device=mic", str(wav)], env=self.env, check=True, timeout=60)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def _pulse_devices() -> tuple[SoundDeviceInput, SoundDeviceOutput]:
    devices = list_devices(refresh=True)
    return (SoundDeviceInput(resolve_device("pulse:mic.monitor", devices, "input")),
            SoundDeviceOutput(resolve_device("pulse:spk", devices, "output")))


def bench_latency(services: Any, stt: WhisperTranscriber, synth: PiperSynthesizer, pulse: _Pulse | None,
                  rounds: int) -> dict[str, Any]:
    requests = [_speech(synth, text) for text in REQUESTS] * rounds
    timings: list[dict[str, float]] = []
    got = threading.Event()

    def on_timings(event: Event) -> None:
        if isinstance(event, VoiceTimings):
            timings.append(event.timings_ms)
            got.set()

    detach = services.bus.subscribe(VoiceTimings, on_timings)
    params = vad_params(services.settings)
    if pulse is not None:
        source, output = _pulse_devices()
        how = "pulseaudio null sinks (real PortAudio capture and playback)"
    else:
        gap = np.zeros(int(3.0 * SAMPLE_RATE), dtype=np.float32)
        source = FileInput(np.concatenate([x for r in requests for x in (r, gap)]), realtime=True)
        output = BufferOutput()
        how = "file source paced in real time, buffer output (no PulseAudio)"
    early_ms = services.settings.voice.early_end_ms
    complete = request_checker(services) if early_ms else None
    for check in (complete, stt.judge):  # their routers load now, as the agent's warm-up does
        if check is not None:
            check("what time is it")
    service = VoiceService(services, source=source, speaker=Speaker(synth, output, chime_on=False), stt=stt,
                           vad=SileroVad(), options=VoiceOptions(wake_word=False, hands_free=True,
                                                                 early_end_ms=early_ms),
                           params=params, complete=complete)
    service.start(ptt=False)
    cpu_before = psutil.Process().cpu_times()
    try:
        if pulse is not None:
            time.sleep(0.5)
            folder = Path(tempfile.mkdtemp(prefix="voice-bench-"))
            for i, audio in enumerate(requests):
                got.clear()
                wav = write_wav(folder / f"r{i}.wav", audio, SAMPLE_RATE)
                pulse.play(wav)
                got.wait(30)
                service.wait_idle(30)
                time.sleep(0.3)
        else:
            service.source_ended.wait(300)
            service.wait_idle(60)
    finally:
        cpu_after = psutil.Process().cpu_times()
        service.stop()
        detach()
    cpu_s = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
    out: dict[str, Any] = {"how": how, "cpu_s_per_request": round(cpu_s / max(1, len(requests)), 3),
                           "requests": len(requests), "answered": len(timings),
                           "vad_min_silence_ms": params.min_silence_ms, "early_end_ms": early_ms,
                           "ended_early": service.early_ends, "early_checks": service.early_checks}
    for t in timings:  # from the last voiced sound to the turn's end: the closing silence, or the early check
        if "speech_end_to_first_audio" in t and "eos_to_first_audio" in t:
            t["speech_end_to_eos"] = round(t["speech_end_to_first_audio"] - t["eos_to_first_audio"], 1)
    for key in ("eos_to_first_audio", "speech_end_to_first_audio", "speech_end_to_eos", "stt", "route", "skill",
                "tts_first_audio"):
        values = [t[key] for t in timings if key in t]
        if values:
            out[key + "_ms"] = _stats(values)
    out["each"] = [{k: round(v) for k, v in t.items()} for t in timings]
    return out


def _cpu_percent(seconds: float) -> float:
    proc = psutil.Process()
    before, started = proc.cpu_times(), time.monotonic()
    time.sleep(seconds)
    after, wall = proc.cpu_times(), time.monotonic() - started
    used = (after.user - before.user) + (after.system - before.system)
    return round(100 * used / wall, 2)


def bench_idle_cpu(services: Any, stt: WhisperTranscriber, pulse: _Pulse | None, seconds: float,
                   repeats: int) -> dict[str, Any]:
    out: dict[str, Any] = {"seconds": seconds, "unit": "% of one core (process CPU time / wall time)"}
    out["models_loaded_nothing_running"] = _cpu_percent(seconds)
    for label, wake in (("wake_word_off_ptt_only", False), ("wake_word_on", True)):
        values = []
        for _ in range(repeats):
            if pulse is not None:
                source: Any = _pulse_devices()[0]
            else:
                source = FileInput(np.zeros(int((seconds + 5) * SAMPLE_RATE), dtype=np.float32), realtime=True)
            service = VoiceService(services, source=source, speaker=None, stt=stt, vad=SileroVad(),
                                   options=VoiceOptions(wake_word=wake, ptt_key=None))
            service.start(ptt=False)
            time.sleep(5.0)  # past the start-up of a PortAudio stream on PulseAudio (about 1-4 s of busy polling)
            values.append(_cpu_percent(seconds))
            service.stop()
        out[label] = {"median": statistics.median(values), "runs": values}
    out["source"] = "pulseaudio null sink monitor (silence)" if pulse else "file source (silence, real time)"
    return out


def bench_rss(services: Any, stt: WhisperTranscriber, synth: PiperSynthesizer) -> dict[str, Any]:
    proc = psutil.Process()
    stages: dict[str, float] = {}
    stages["speech_models"] = round(proc.memory_info().rss / 1e6, 1)
    services.router().route("what is six times seven")  # the embedder and the semantic index
    stages["plus_router_embedder"] = round(proc.memory_info().rss / 1e6, 1)
    llm = services.models.get()
    llm.chat([{"role": "user", "content": "Say hi."}], max_tokens=8)
    stages["plus_llm"] = round(proc.memory_info().rss / 1e6, 1)
    stt.transcribe(_speech(synth, "What time is it?"))
    stages["after_one_more_request"] = round(proc.memory_info().rss / 1e6, 1)
    return {"rss_mb": stages, "llm": services.models.loaded()}


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", choices=("latency", "stt", "tts", "idle", "rss"), default=None)
    parser.add_argument("--rounds", type=int, default=None, help="latency: rounds over the requests")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a setting for this run, e.g. voice.early_end_ms=100")
    ns = parser.parse_args()
    for key, value in (item.split("=", 1) for item in ns.set):
        os.environ["AGENT_" + key.upper().replace(".", "__")] = value
    quick, only = ns.quick, ns.only
    load_before = os.getloadavg()
    paths = get_paths().ensure()
    settings = load_settings(paths)
    pulse = _Pulse() if shutil.which("pulseaudio") and shutil.which("paplay") else None
    try:
        started = time.perf_counter()
        stt = WhisperTranscriber.from_settings(settings)
        synth = PiperSynthesizer.from_settings(settings)
        load_ms = round((time.perf_counter() - started) * 1000)
        services = build_services(paths, settings)
        stt.attach_router(services)  # as the agent does: the router chooses between Whisper's candidates
        summary: dict[str, Any] = {"cpu_count": os.cpu_count(), "speech_models_load_ms": load_ms}
        if only in (None, "rss"):
            summary["rss"] = bench_rss(services, stt, synth)
        if only in (None, "stt"):
            summary["stt"] = bench_stt(settings, synth, 5 if quick else 15)
        if only in (None, "tts"):
            summary["tts"] = bench_tts(synth, 5 if quick else 15)
        if only in (None, "latency"):
            rounds = ns.rounds or (1 if quick else 3)
            summary["end_of_speech_to_first_audio"] = bench_latency(services, stt, synth, pulse, rounds)
        if only in (None, "idle"):
            summary["idle_cpu"] = bench_idle_cpu(services, stt, pulse, 8.0 if quick else 20.0, 1 if quick else 2)
        summary["load_average"] = {"before": [round(x, 2) for x in load_before],
                                   "after": [round(x, 2) for x in os.getloadavg()]}
    finally:
        if pulse is not None:
            pulse.close()
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
