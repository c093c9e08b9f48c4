"""How well the voice path hears commands: word error rate and spoken-routing accuracy on synthetic speech.

    .venv/bin/python bench/voice_accuracy.py [--voices slt,rms,awb,kal16,espeak] [--limit N] [--decoder agent|standard]
                                             [--errors] [--set KEY=VALUE ...]

The sentences (`bench/data/voice_commands.jsonl`: text, expected skill, and for notes/reminders the free text that
must survive) were written from the README's skill list, not from the router's templates or examples. Each one is
spoken by flite's slt, rms, awb and kal16 voices and by espeak-ng (none of them the agent's own Piper voice), with
0.3 s of silence around it, and transcribed with the embedded tiny.en:

- `agent`: the agent's transcriber as configured (`WhisperTranscriber.from_settings`, with the router's
  understanding when the transcriber asks for it);
- `standard`: faster-whisper's `transcribe()` with its defaults (30 s window, beam 5, temperature fallback), the
  reference point.

Early end of turn: each clip is also fed window by window through the live loop's endpointer (Silero VAD, the
configured `vad_*` settings): at the first silent window of every pause the loop transcribes what was said so far,
and ends the turn when that transcript is a complete request and the pause reaches `voice.early_end_ms`. An early
end before the clip's last voiced window would cut the person off: `cutoffs` counts those (target 0).
`early_end_eligible` is the share of clips the loop ends early; `early_end_wer` the WER of the transcripts those
early ends act on (decoded from the audio up to the first silent window), against the same clips' `wer`.

Reported: WER (after a normalizer that spells numbers as words and expands contractions, on both sides), skill
accuracy of the transcript through the router (and of the sentence text itself: the router's own ceiling), free
text kept word for word, degenerate decodes, and STT latency (p50/p90, one request at a time). The router runs
without its LLM tier (it only fills arguments; the skill never depends on it). Clips are cached under
$AGENT_VOICE_CLIPS (default: a folder in the temp dir), so reruns only decode.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("AGENT_HOME", tempfile.mkdtemp(prefix="agent-bench-"))
os.environ.setdefault("AGENT_ROUTER__USE_LLM", "false")

import numpy as np  # noqa: E402

from agent.config import load_settings  # noqa: E402
from agent.services import build_services  # noqa: E402
from agent.speech.audio import BLOCK, SAMPLE_RATE, read_audio  # noqa: E402
from agent.speech.stt import WhisperTranscriber, vad_params  # noqa: E402
from agent.speech.understand import request_checker  # noqa: E402
from agent.speech.vad import Endpointer, SileroVad, VadParams  # noqa: E402

ROOT = Path(__file__).resolve().parent
SENTENCES = ROOT / "data" / "voice_commands.jsonl"
VOICES = ("slt", "rms", "awb", "kal16", "espeak")

# -- text normalisation (both sides) -----------------------------------------------------------------------------
_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen " \
        "seventeen eighteen nineteen".split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_CONTRACTIONS = {"what's": "what is", "it's": "it is", "i'm": "i am", "that's": "that is", "there's": "there is",
                 "don't": "do not", "today's": "today is", "let's": "let us", "where's": "where is",
                 "how's": "how is", "who's": "who is", "you're": "you are", "i'll": "i will", "can't": "cannot"}
_SPELLING = {"wi fi": "wifi", "ok": "okay", "e mail": "email", "p d f": "pdf", "i p": "ip", "c p u": "cpu",
             "timer s": "timers", "alright": "all right", "disc": "disk"}


def number_words(n: int) -> str:
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + number_words(rest))
    if n < 1_000_000:
        rest = n % 1000
        return number_words(n // 1000) + " thousand" + ("" if rest == 0 else " " + number_words(rest))
    return " ".join(_ONES[int(d)] for d in str(n))


def normalize(text: str) -> str:
    t = text.lower().replace("’", "'")
    t = re.sub(r"\$(\d+)(?:\.(\d\d))?", lambda m: m.group(1) + " dollars", t)
    t = re.sub(r"(\d+)\s*%", r"\1 percent", t)
    t = re.sub(r"\b(\d{1,2}):00\b", r"\1", t)
    t = re.sub(r"\b(\d{1,2}):(\d\d)\b", r"\1 \2", t)
    t = re.sub(r"\b([ap])\.\s?m\b\.?", r"\1m", t)
    t = re.sub(r"(\d),(\d{3})", r"\1\2", t)
    t = re.sub(r"\d+", lambda m: " " + number_words(int(m.group(0))) + " ", t)
    for short, full in _CONTRACTIONS.items():
        t = re.sub(rf"\b{re.escape(short)}\b", full, t)
    t = re.sub(r"[^a-z' ]+", " ", t.replace("-", " "))
    t = " ".join(w.strip("'") for w in t.split())
    for a, b in _SPELLING.items():
        t = re.sub(rf"\b{a}\b", b, t)
    return " ".join(t.split())


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


# -- speech ------------------------------------------------------------------------------------------------------
def clip_dir() -> Path:
    path = Path(os.environ.get("AGENT_VOICE_CLIPS") or Path(tempfile.gettempdir()) / "agent-voice-clips")
    path.mkdir(parents=True, exist_ok=True)
    return path


def synthesize(text: str, voice: str) -> np.ndarray:
    """`text` spoken by a flite voice or espeak-ng, as 16 kHz float32 with 0.3 s of silence either side."""
    key = hashlib.sha1(f"{voice}\0{text}".encode()).hexdigest()[:16]
    wav = clip_dir() / f"{voice}-{key}.wav"
    if not wav.exists():
        tmp = wav.with_suffix(".tmp.wav")
        if voice == "espeak":
            cmd = ["espeak-ng", "-w", str(tmp), text]
        else:
            cmd = ["flite", "-voice", voice, "-t", text, "-o", str(tmp)]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)
        tmp.rename(wav)
    pad = np.zeros(int(0.3 * SAMPLE_RATE), dtype=np.float32)
    return np.concatenate([pad, read_audio(wav), pad])


def load_sentences(limit: int | None = None, path: Path = SENTENCES) -> list[dict[str, str]]:
    """Sentences with their expected skill (a router set's JSON lines serve as well: text, skill)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows[:limit] if limit else rows


def _standard(model: Any, audio: np.ndarray) -> tuple[str, float]:
    started = time.perf_counter()
    segments, _info = model.transcribe(audio, language="en", vad_filter=True)
    text = " ".join(s.text.strip() for s in segments).strip()
    return text, (time.perf_counter() - started) * 1000


def _stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values) or [0.0]
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return {"p50": round(statistics.median(ordered), 1), "p90": round(p90, 1), "max": round(ordered[-1], 1)}


def _route(router: Any, text: str) -> str:
    context = getattr(router, "context", None)
    if context is not None and hasattr(context, "last"):
        context.last = None  # each clip is its own first request: no follow-ups
    return str(router.route(text).skill)


def run(voices: list[str], limit: int | None, decoder: str, overrides: dict[str, str],
        margin: float | None = None, sentences_file: Path = SENTENCES) -> dict[str, Any]:
    for key, value in overrides.items():
        os.environ["AGENT_" + key.upper().replace(".", "__")] = value
    services = build_services()
    settings = load_settings(services.paths)
    router = services.router()
    stt = WhisperTranscriber.from_settings(settings)
    if hasattr(stt, "attach_router"):  # the agent's transcriber may use the router to choose between hypotheses
        stt.attach_router(services)
    if margin is not None:
        stt.margin = margin
    standard = stt._model if decoder == "standard" else None
    sentences = load_sentences(limit, sentences_file)
    complete = request_checker(services)
    early_ms = settings.voice.early_end_ms
    vad = SileroVad()
    for check in (getattr(stt, "judge", None), complete):  # their router loads now (templates and embeddings)
        if check is not None:
            check("what time is it")
            check("how tall is the tallest tree on the island")
    stt.transcribe(synthesize(sentences[0]["text"], voices[0]))  # warm
    rows: list[dict[str, Any]] = []
    for voice in voices:
        for s in sentences:
            audio = synthesize(s["text"], voice)
            if standard is not None:
                text, ms = _standard(standard, audio)
                path = "standard"
            else:
                heard = stt.transcribe(audio)
                text, ms, path = heard.text, heard.ms, heard.path
            ref, hyp = normalize(s["text"]).split(), normalize(text).split()
            row = {"voice": voice, "ref": s["text"], "heard": text, "ms": round(ms, 1), "path": path,
                   "edits": edit_distance(ref, hyp), "words": len(ref), "skill": s["skill"],
                   "routed": _route(router, text), "text_routed": _route(router, s["text"])}
            if standard is None and early_ms:
                early, row["cutoffs"] = live_turn(stt, complete, audio, vad_params(settings), early_ms, vad)
                row["early_end"] = early is not None
                if early is not None:
                    row["early_heard"] = early
                    row["early_edits"] = edit_distance(ref, normalize(early).split())
            if s.get("free"):
                row["free_kept"] = f" {normalize(s['free'])} " in f" {' '.join(hyp)} "
            rows.append(row)
    return summarize(rows, settings, decoder, getattr(stt, "margin", None))


def live_turn(stt: Any, complete: Any, audio: np.ndarray, params: VadParams, early_ms: int,
              vad: Any) -> tuple[str | None, list[str]]:
    """The clip through the live loop's early end of turn (`VoiceService._maybe_end_early`): the transcript the
    turn ends early with (None: it waits for the full silence) and the early ends that would cut the speaker off
    (complete transcripts taken at a pause before the clip's last voiced window)."""
    vad.reset()
    ep = Endpointer(params)
    windows = [audio[i:i + BLOCK] for i in range(0, audio.size - BLOCK + 1, BLOCK)]
    probs = [vad.probability(w) for w in windows]
    last_voiced = max((i for i, p in enumerate(probs) if p >= params.threshold), default=-1)
    asked: dict[tuple[float, int], np.ndarray] = {}
    heard: dict[tuple[float, int], str] = {}
    cut: list[str] = []
    for i, (window, prob) in enumerate(zip(windows, probs, strict=True)):
        if ep.feed(window, prob, now=i * BLOCK / SAMPLE_RATE) is not None or not ep.in_speech or ep.silent_ms <= 0:
            continue
        turn = ep.turn
        if turn not in asked:
            asked[turn] = ep.snapshot()  # the first silent window: the loop transcribes what was said so far
        if ep.silent_ms < early_ms:
            continue
        if turn in heard:
            continue  # this pause was judged already
        text = heard[turn] = stt.transcribe(asked[turn]).text
        if text and complete(text):
            if i < last_voiced:  # the speaker goes on after this pause: counted, and checked on as if not cut
                cut.append(text)
                continue
            return text, cut
    return None, cut


def summarize(rows: list[dict[str, Any]], settings: Any, decoder: str, margin: float | None = None) -> dict[str, Any]:
    def wer(rs: list[dict[str, Any]]) -> float:
        return round(sum(r["edits"] for r in rs) / max(1, sum(r["words"] for r in rs)), 4)

    def acc(rs: list[dict[str, Any]], key: str) -> float:
        return round(sum(r[key] == r["skill"] for r in rs) / max(1, len(rs)), 4)

    voices = sorted({r["voice"] for r in rows}, key=lambda v: VOICES.index(v) if v in VOICES else 99)
    free = [r for r in rows if "free_kept" in r]
    early = [r for r in rows if "early_heard" in r]
    paths: dict[str, int] = {}
    for r in rows:
        paths[r["path"]] = paths.get(r["path"], 0) + 1
    v = settings.voice
    return {
        "decoder": decoder,
        "config": {"window_s": v.whisper_window_s, "beam_size": v.whisper_beam_size, "margin": margin,
                   **{k: getattr(v, k) for k in ("whisper_hypotheses", "whisper_bias") if hasattr(v, k)}},
        "clips": len(rows),
        "wer": wer(rows),
        "skill_accuracy": acc(rows, "routed"),
        "text_skill_accuracy": acc(rows, "text_routed"),
        # hearing alone: among the clips whose sentence text the router gets right, the share whose transcript too
        "skill_accuracy_where_text_routes_right": acc([r for r in rows if r["text_routed"] == r["skill"]], "routed"),
        "free_text_kept": round(sum(r["free_kept"] for r in free) / max(1, len(free)), 4),
        "cutoffs": sum(len(r.get("cutoffs", [])) for r in rows),
        "cut_off": [{"ref": r["ref"], "voice": r["voice"], "cut_at": r["cutoffs"]} for r in rows if r.get("cutoffs")],
        "early_end_eligible": round(sum(r.get("early_end", False) for r in rows) / max(1, len(rows)), 4),
        "early_end_wer": wer([{"edits": r["early_edits"], "words": r["words"]} for r in early]),
        "wer_of_early_ended_clips": wer(early),
        "early_end_differs": [{k: r[k] for k in ("voice", "ref", "heard", "early_heard")} for r in early
                              if normalize(r["early_heard"]) != normalize(r["heard"])],
        "exact_transcripts": round(sum(r["edits"] == 0 for r in rows) / max(1, len(rows)), 4),
        "stt_ms": _stats([r["ms"] for r in rows]),
        "slowest": [{k: r[k] for k in ("voice", "ref", "heard", "ms", "path")}
                    for r in sorted(rows, key=lambda r: -r["ms"])[:3]],
        "paths": paths,
        "per_voice": {voice: {"wer": wer([r for r in rows if r["voice"] == voice]),
                              "skill_accuracy": acc([r for r in rows if r["voice"] == voice], "routed")}
                      for voice in voices},
        "misrouted": [{k: r[k] for k in ("voice", "ref", "heard", "skill", "routed")} for r in rows
                      if r["routed"] != r["skill"]],
        "misheard": [{k: r[k] for k in ("voice", "ref", "heard", "edits")} for r in rows if r["edits"]],
        "load_avg": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--voices", default=",".join(VOICES))
    parser.add_argument("--limit", type=int, default=None, help="only the first N sentences")
    parser.add_argument("--sentences", type=Path, default=SENTENCES, help="JSON lines with text and skill")
    parser.add_argument("--decoder", choices=("agent", "standard"), default="agent")
    parser.add_argument("--errors", action="store_true", help="include every misheard / misrouted clip")
    parser.add_argument("--margin", type=float, default=None, help="log-probability margin for choosing a candidate")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a voice setting for this run, e.g. voice.whisper_window_s=30")
    ns = parser.parse_args(argv)
    for tool in ("flite", "espeak-ng"):
        if shutil.which(tool) is None:
            print(f"{tool} is missing (scripts/setup.sh installs it)", file=sys.stderr)
            return 2
    overrides = dict(item.split("=", 1) for item in ns.set)
    result = run([v for v in ns.voices.split(",") if v], ns.limit, ns.decoder, overrides, ns.margin, ns.sentences)
    if not ns.errors:
        result["misrouted"] = result["misrouted"][:15]
        result["misheard"] = result["misheard"][:15]
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
