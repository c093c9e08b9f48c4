"""The wake-word model (openWakeWord via pyopen-wakeword): detection rate, false accepts per hour, idle CPU.

    .venv/bin/python bench/wake_bench.py [--model hey_jarvis] [--threshold 0.5] [--hours 1.0] [--pulse-minutes 3]
                                         [--quick]

- detection: "Hey Jarvis, <command>" (the wake word's spoken form, then each sentence of
  `bench/data/voice_commands.jsonl`) in flite's slt, rms, awb, kal16 and espeak-ng, each clip fed alone; detected
  when the model fires anywhere in it. Also the wake word alone.
- false accepts: at least `--hours` of speech without the wake word (the README of the licenses in
  /usr/share/common-licenses read aloud sentence by sentence, plus every command sentence and the same sentences
  after a bare "Hey," in all five voices), streamed through the model as one continuous recording, counting
  fires (with the service's 1.5 s refractory period). The samples the model gets are the ones the PulseAudio
  null-sink microphone delivers; `--pulse-minutes` checks that by playing the first minutes through a private
  PulseAudio server into the null sink and capturing its monitor with PortAudio, as the agent does, in real time.
- idle CPU: the voice loop on the PulseAudio null-sink microphone (silence) with the wake-word model on (Silero VAD +
  openWakeWord on every block), and with VAD only (`voice.wake_word: phrase`, the old path), % of one core.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("AGENT_HOME", tempfile.mkdtemp(prefix="agent-bench-"))

import numpy as np  # noqa: E402

from agent.speech.audio import SAMPLE_RATE, write_wav  # noqa: E402
from agent.speech.wakeword import BUILTIN_WAKE_WORDS, OpenWakeWordModel  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from voice_accuracy import VOICES, load_sentences, synthesize  # noqa: E402

_REFRACTORY_S = 1.5
_LICENSES = Path("/usr/share/common-licenses")


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32)


def prose_sentences(limit_chars: int = 400_000) -> list[str]:
    """English sentences of 6 to 30 words from the license texts every Debian system ships."""
    out: list[str] = []
    for path in sorted(_LICENSES.glob("*")):
        if not path.is_file():
            continue
        text = re.sub(r"\s+", " ", path.read_text(encoding="utf-8", errors="ignore"))
        for sentence in re.split(r"(?<=[.;:!?])\s+", text):
            sentence = re.sub(r"[^A-Za-z0-9,.'\- ]", " ", sentence).strip()
            words = sentence.split()
            if 6 <= len(words) <= 30 and sum(c.isalpha() for c in sentence) > 0.7 * len(sentence):
                out.append(" ".join(words))
        if sum(map(len, out)) > limit_chars:
            break
    return list(dict.fromkeys(out))


def detection(model: OpenWakeWordModel, spoken: str, threshold: float, limit: int | None) -> dict[str, Any]:
    sentences = [s["text"] for s in load_sentences(limit)]
    per_voice: dict[str, float] = {}
    misses: list[str] = []
    total = hits = 0
    for voice in VOICES:
        n = h = 0
        for text in [f"{spoken.capitalize()}.", *[f"{spoken.capitalize()}, {t[0].lower()}{t[1:]}" for t in sentences]]:
            clip = np.concatenate([_silence(0.5), synthesize(text, voice), _silence(0.5)])
            fired = model.scan(clip, threshold) is not None
            n, h = n + 1, h + fired
            if not fired:
                misses.append(f"{voice}: {text}")
        per_voice[voice] = round(h / n, 4)
        total, hits = total + n, hits + h
    return {"clips": total, "detected": hits, "rate": round(hits / total, 4), "per_voice": per_voice,
            "misses": misses[:20]}


def non_wake_speech(hours: float, limit: int | None) -> tuple[list[np.ndarray], float]:
    commands = [s["text"] for s in load_sentences(limit)]
    lines = commands + [f"Hey, {c[0].lower()}{c[1:]}" for c in commands] + prose_sentences()
    clips: list[np.ndarray] = []
    seconds = 0.0
    i = 0
    while seconds < hours * 3600 and i < len(lines) * len(VOICES):
        voice = VOICES[i % len(VOICES)]
        text = lines[(i // len(VOICES) + (i % len(VOICES)) * 37) % len(lines)]
        clip = np.concatenate([synthesize(text, voice), _silence(0.4)])
        clips.append(clip)
        seconds += clip.size / SAMPLE_RATE
        i += 1
    return clips, seconds


def false_accepts(model: OpenWakeWordModel, clips: list[np.ndarray], threshold: float) -> dict[str, Any]:
    model.reset()
    fires = 0
    last = -1e9
    position = 0
    started = time.process_time()
    for clip in clips:
        for start in range(0, clip.size, 1280):
            position += min(1280, clip.size - start)
            if model.process(clip[start:start + 1280]) >= threshold and position / SAMPLE_RATE - last > _REFRACTORY_S:
                fires += 1
                last = position / SAMPLE_RATE
                model.reset()
    hours = position / SAMPLE_RATE / 3600
    cpu = time.process_time() - started
    return {"hours": round(hours, 3), "false_accepts": fires, "per_hour": round(fires / hours, 2),
            "model_cpu_s_per_audio_hour": round(cpu / hours, 1)}


def through_pulse(model_name: str, clips: list[np.ndarray], minutes: float, threshold: float) -> dict[str, Any]:
    """Play the first `minutes` of `clips` into the PulseAudio null-sink microphone, capture it as the agent does
    (PortAudio on `pulse:mic.monitor`) and count wake-word fires."""
    from voice_bench import _Pulse, _pulse_devices

    pulse = _Pulse()
    try:
        source, _out = _pulse_devices()
        model = OpenWakeWordModel(model_name)
        audio = np.concatenate(clips)[:int(minutes * 60 * SAMPLE_RATE)]
        wav = write_wav(Path(tempfile.mkdtemp(prefix="wake-bench-")) / "speech.wav", audio, SAMPLE_RATE)
        source.start()
        import subprocess
        player = subprocess.Popen(["paplay", "--device=mic", str(wav)], env=pulse.env)
        fires, last, got = 0, -1e9, 0
        deadline = time.monotonic() + audio.size / SAMPLE_RATE + 10
        while time.monotonic() < deadline and (player.poll() is None or got < audio.size):
            block = source.read(0.5)
            if block is None:
                if player.poll() is not None:
                    break
                continue
            got += block.size
            if model.process(block) >= threshold and got / SAMPLE_RATE - last > _REFRACTORY_S:
                fires, last = fires + 1, got / SAMPLE_RATE
                model.reset()
        player.wait(10)
        source.stop()
        return {"minutes_played": round(audio.size / SAMPLE_RATE / 60, 2),
                "minutes_captured": round(got / SAMPLE_RATE / 60, 2), "false_accepts": fires}
    finally:
        pulse.close()


def idle_cpu(model_name: str, seconds: float, repeats: int) -> dict[str, Any]:
    from voice_bench import _cpu_percent, _Pulse, _pulse_devices

    from agent.config import load_settings
    from agent.services import build_services
    from agent.speech.service import VoiceOptions, VoiceService
    from agent.speech.stt import ScriptedTranscriber
    from agent.speech.vad import SileroVad

    services = build_services(settings=load_settings())
    pulse = _Pulse()
    out: dict[str, Any] = {"seconds": seconds, "unit": "% of one core (process CPU time / wall time)",
                           "source": "pulseaudio null sink monitor (silence)"}
    try:
        for label, wake in (("vad_only", False), ("wake_word_model", True)):
            values = []
            for _ in range(repeats):
                model = OpenWakeWordModel(model_name) if wake else None
                service = VoiceService(services, source=_pulse_devices()[0], speaker=None,
                                       stt=ScriptedTranscriber(), vad=SileroVad(), wake_model=model,
                                       options=VoiceOptions(wake_word=True, ptt_key=None))
                service.start(ptt=False)
                time.sleep(5.0)  # past the start-up of a PortAudio stream on PulseAudio
                values.append(_cpu_percent(seconds))
                service.stop()
            out[label] = {"median": statistics.median(values), "runs": values}
    finally:
        pulse.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="hey_jarvis", choices=sorted(BUILTIN_WAKE_WORDS))
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--pulse-minutes", type=float, default=3.0)
    parser.add_argument("--quick", action="store_true", help="10 sentences, 0.1 h, 1 min through PulseAudio")
    ns = parser.parse_args(argv)
    limit = 10 if ns.quick else None
    hours, minutes = (0.1, 1.0) if ns.quick else (ns.hours, ns.pulse_minutes)
    model = OpenWakeWordModel(ns.model)
    load_before = [round(x, 2) for x in os.getloadavg()]
    result: dict[str, Any] = {"model": ns.model, "threshold": ns.threshold}
    result["detection"] = detection(model, BUILTIN_WAKE_WORDS[ns.model], ns.threshold, limit)
    clips, seconds = non_wake_speech(hours, limit)
    result["false_accepts"] = false_accepts(model, clips, ns.threshold)
    has_pulse = shutil.which("pulseaudio") and shutil.which("paplay")
    if has_pulse and minutes > 0:
        result["false_accepts_through_pulseaudio"] = through_pulse(ns.model, clips, minutes, ns.threshold)
    if has_pulse:
        result["idle_cpu"] = idle_cpu(ns.model, 8.0 if ns.quick else 20.0, 1 if ns.quick else 2)
    result["load_average"] = {"before": load_before, "after": [round(x, 2) for x in os.getloadavg()]}
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
