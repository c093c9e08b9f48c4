"""Speech to text with faster-whisper: VAD-trimmed audio in, text out, never text from silence.

Commands are decoded knowing what people say to the agent: a `prompt` of example commands (built by
`agent.speech.vocab` from the skill registry) goes in as Whisper's previous text, so "note", "timer" and "Firefox"
are expected words. Whisper returns `hypotheses` candidates (beam search); when a `judge` is attached (how well the
router understands a text, 0..1) the candidate the router understands best wins among those the acoustics rate
about as likely, else the acoustically best one stays: free text ("remind me to water the plants") is kept as heard.

Short commands take a fast path: the encoder runs on a `window_s` window instead of Whisper's fixed 30 s; a decode
that loops, compresses too well or is too unlikely, or a clip longer than the window, falls back to the standard
decoding (30 s window, temperature fallback). A phrase said once but decoded twice ("Set a timer. Set a timer.")
is cut to one, and a run of a repeated symbol ("$ $ $") goes. With a `lexicon` (`agent.speech.repair`), words split
in two that make a command word are joined ("fire fox"), and a transcript the router does not understand at all is
repaired with command words that sound alike ("Show me my notice" -> "Show me my notes") when a sentence template
then matches it whole and the audio supports the repair about as well as what was heard (each text scored against
the encoder output, `repair_margin`).

No hallucinated "Thank you." on an empty clip: audio without Silero-detected speech never reaches Whisper,
and a decoding Whisper itself rates as no speech with a low likelihood is dropped.
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
import time
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import numpy as np

from agent.config import Settings
from agent.errors import ModelError
from agent.speech.audio import SAMPLE_RATE
from agent.speech.repair import Lexicon, join_compounds, repair_transcript, spoken_for
from agent.speech.understand import Judge, Matcher
from agent.speech.vad import VadParams, speech_segments

__all__ = [
    "Hypothesis",
    "Judge",
    "ScriptedTranscriber",
    "Transcriber",
    "Transcription",
    "WhisperTranscriber",
    "choose_hypothesis",
    "collapse_repeats",
    "tidy",
    "is_degenerate",
    "vad_params",
]

_LOGGER = logging.getLogger(__name__)

_NO_SPEECH_PROB = 0.6
_LOW_LOGPROB = -0.8
_FRAMES_PER_S = 100  # Whisper's log-mel frames per second
_UNLIKELY = -1.0  # a fast-path decode below this average log-probability is decoded again the standard way
_MARGIN = 0.25  # a candidate this much less likely (avg log-prob per token) than the best may still be chosen

_REPAIR_MARGIN = 0.9  # a repair may be this much less likely (avg log-prob per token) than what was heard


@dataclass(frozen=True)
class Hypothesis:
    text: str
    logprob: float  # average log-probability per token


@dataclass(frozen=True)
class Transcription:
    """What was heard. `path`: fast (short window), full (standard Whisper) or silence (nothing to decode)."""

    text: str
    audio_s: float
    speech_s: float
    ms: float
    no_speech_prob: float = 0.0
    avg_logprob: float = 0.0
    path: str = "fast"
    alternatives: tuple[str, ...] = ()  # the other candidates Whisper proposed, best first

    @property
    def confidence(self) -> float:
        return 0.0 if not self.text else round(math.exp(min(0.0, self.avg_logprob)), 3)


class Transcriber(ABC):
    """Speech to text for 16 kHz mono float32 audio."""

    @abstractmethod
    def transcribe(self, audio: np.ndarray, *, max_s: float | None = None) -> Transcription:
        """The words in `audio` ("" when there is no speech). `max_s`: only the first seconds of speech."""


class ScriptedTranscriber(Transcriber):
    """A fake for logic tests: returns the given texts in order ("" once they run out); records each call."""

    def __init__(self, *texts: str) -> None:
        self.texts = list(texts)
        self.calls: list[float] = []  # seconds of audio per call

    def transcribe(self, audio: np.ndarray, *, max_s: float | None = None) -> Transcription:
        seconds = np.asarray(audio).size / SAMPLE_RATE
        self.calls.append(seconds)
        text = self.texts.pop(0) if self.texts else ""
        return Transcription(text, seconds, seconds if text else 0.0, 1.0, 0.0, -0.1, "fake")


def vad_params(settings: Settings) -> VadParams:
    v = settings.voice
    return VadParams(v.vad_threshold, min(v.vad_neg_threshold, v.vad_threshold), v.vad_min_speech_ms,
                     v.vad_min_silence_ms, max_utterance_s=v.max_utterance_s)


def collapse_repeats(text: str) -> str:
    """A phrase of two or more words decoded twice or more in a row ("Pause the music. Pause the music.", possibly
    cut short at the end) becomes the phrase once; anything else is returned unchanged."""
    words = text.split()
    norm = [re.sub(r"[^\w']", "", w.lower()) for w in words]
    for n in range(2, len(words) // 2 + 1):
        unit = norm[:n]
        if not any(unit) or norm[n:2 * n] != unit:
            continue
        rest = norm[2 * n:]
        if all(w == unit[i % n] for i, w in enumerate(rest)):
            return " ".join(words[:n]).rstrip(",;")
    return _near_repeat(text)


def _near_repeat(text: str) -> str:
    """Two sentences of three or more words that say nearly the same ("Search for the spreadsheety. Search for the
    spreadsheet."): a decode that went round twice. The first is kept."""
    parts = [p for p in re.split(r"(?<=[.?!])\s+", text.strip()) if p]
    if len(parts) != 2:
        return text
    a, b = ([re.sub(r"[^\w']", "", w.lower()) for w in p.split()] for p in parts)
    if len(a) < 3 or len(b) < 3:
        return text
    return parts[0] if SequenceMatcher(None, a, b).ratio() >= 0.75 else text


_SYMBOL_RUN = re.compile(r"(?:^|(?<=\s))([^\w\s]+)(?:\s+\1)+(?=\s|$)")


def _number_loops(text: str) -> str:
    """A number of two digits or more decoded again right after itself, maybe followed by more of its own endings
    ("root of 144 144 44"): a decode that went round on the digits. The number is kept once."""
    tokens = text.split()
    out: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        digits = tok.rstrip(".,?!;:")
        j = i + 1
        if digits.isdigit() and len(digits) >= 2 and j < len(tokens) and tokens[j].rstrip(".,?!;:") == digits:
            while j < len(tokens) and (nxt := tokens[j].rstrip(".,?!;:")).isdigit() and digits.endswith(nxt):
                j += 1
            out.append(digits + tokens[j - 1][len(tokens[j - 1].rstrip(".,?!;:")):])
            i = j
            continue
        out.append(tok)
        i += 1
    return " ".join(out)


def tidy(text: str) -> str:
    """A decode without runs of a repeated symbol ("$ $ $ 30 dollars" -> "30 dollars"), with a number that looped
    kept once ("144 144 44" -> "144") and a phrase decoded twice cut to one (`collapse_repeats`)."""
    return collapse_repeats(_number_loops(" ".join(_SYMBOL_RUN.sub(" ", text).split())))


def choose_hypothesis(hypotheses: list[Hypothesis], judge: Judge | None, *, margin: float = _MARGIN) -> Hypothesis:
    """The acoustically best candidate, unless another one within `margin` of its log-probability is understood
    clearly better by `judge` (by more than 0.1): then that one. Degenerate candidates never win."""
    usable = [h for h in hypotheses if h.text and not is_degenerate(h.text)] or hypotheses
    best = max(usable, key=lambda h: h.logprob)
    if judge is None or len(usable) < 2:
        return best
    close = [h for h in usable if h.logprob >= best.logprob - margin]
    if len(close) < 2:
        return best
    scores = {h.text: judge(h.text) for h in close}
    top = max(close, key=lambda h: (scores[h.text], h.logprob))
    return top if scores[top.text] > scores[best.text] + 0.1 else best


def is_degenerate(text: str) -> bool:
    """True for a looping decode ("open firefox open firefox open firefox") or one that compresses too well."""
    if re.search(r"(?:^|\s)([^\w\s]+)(?:\s+\1){2,}(?:\s|$)", text):
        return True  # a looping symbol: "$ $ $ $"
    words = re.findall(r"[\w']+", text.lower())
    for n in range(1, 5):
        grams = [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]
        for i in range(len(grams) - 2 * n):
            if grams[i] == grams[i + n] == grams[i + 2 * n]:
                return True
    raw = text.encode("utf-8")
    return len(raw) > 60 and len(raw) / len(zlib.compress(raw)) > 2.4


class WhisperTranscriber(Transcriber):
    """faster-whisper on CPU; the model loads once, in the constructor. `prompt`: text Whisper takes as already
    said (the command vocabulary); `hypotheses`: candidates per fast-path decode; `judge`: see `choose_hypothesis`."""

    def __init__(self, model_dir: Path, *, compute_type: str = "int8", beam_size: int = 1,
                 threads: int | None = None, window_s: float = 10.0, vad: VadParams | None = None,
                 prompt: str = "", hypotheses: int = 1, judge: Judge | None = None,
                 lexicon: Lexicon | None = None) -> None:
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens

        threads = threads or min(4, os.cpu_count() or 1)
        started = time.perf_counter()
        try:
            self._model = WhisperModel(str(model_dir), device="cpu", compute_type=compute_type, cpu_threads=threads)
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelError(f"cannot load: {exc}", model=str(model_dir),
                             fix="check voice.whisper_model and voice.whisper_compute_type") from exc
        self.model_dir = Path(model_dir)
        self.beam_size = beam_size
        self.hypotheses = max(1, hypotheses)
        self.window_s = window_s
        self.vad = vad or VadParams()
        self.judge = judge
        self.matches: Matcher | None = None  # with `judge` and `lexicon`: repairs transcripts (see the module doc)
        self.lexicon = lexicon
        self.repair_margin = _REPAIR_MARGIN
        self.repair_below = 0.5  # only transcripts understood less than this are repaired (measured: see BENCHMARKS)
        self.margin = _MARGIN  # see choose_hypothesis
        self.multilingual = bool(self._model.model.is_multilingual)
        self._tokenizer = Tokenizer(self._model.hf_tokenizer, self.multilingual, task="transcribe",
                                    language="en" if self.multilingual else None)
        self._suppress = list(get_suppressed_tokens(self._tokenizer, [-1]) or [])
        self.prompt = ""
        self._prompt_tokens: list[int] = []
        self.set_prompt(prompt)
        self._lock = threading.Lock()
        _LOGGER.info("whisper model %s loaded in %.0f ms (%s, %d threads, %d prompt tokens)", model_dir,
                     (time.perf_counter() - started) * 1000, compute_type, threads, len(self._prompt_tokens))

    @classmethod
    def from_settings(cls, settings: Settings, *, registry: Any = None) -> WhisperTranscriber:
        """The configured model; with `voice.whisper_bias`, prompted with the commands of `registry` (default: the
        installed skills)."""
        from agent.speech.models import whisper_model_dir

        v = settings.voice
        prompt = ""
        lexicon = None
        if v.whisper_bias:
            from agent.speech.repair import Lexicon
            from agent.speech.vocab import command_phrases, command_sentences, decoding_prompt

            if registry is None:
                from agent.skills.registry import load_registry

                registry = load_registry()
            prompt = decoding_prompt(command_sentences(registry))
            lexicon = Lexicon.from_sentences(command_phrases(registry))
        return cls(whisper_model_dir(settings), compute_type=v.whisper_compute_type, beam_size=v.whisper_beam_size,
                   threads=v.whisper_threads, window_s=v.whisper_window_s, vad=vad_params(settings), prompt=prompt,
                   hypotheses=v.whisper_hypotheses, lexicon=lexicon)

    def set_prompt(self, prompt: str) -> None:
        self.prompt = prompt.strip()
        tokens = self._tokenizer.encode(" " + self.prompt) if self.prompt else []
        self._prompt_tokens = list(tokens)[-(self._model.max_length // 2 - 1):]

    def attach_router(self, services: Any) -> None:
        """Choose between candidates by how well the agent's router understands them."""
        from agent.speech.understand import RouterView

        view = RouterView(services)
        self.judge = view.judge
        self.matches = view.matches

    def transcribe(self, audio: np.ndarray, *, max_s: float | None = None) -> Transcription:
        started = time.perf_counter()
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        audio_s = audio.size / SAMPLE_RATE
        segments = speech_segments(audio, self.vad) if audio.size else []
        if not segments:
            return Transcription("", audio_s, 0.0, (time.perf_counter() - started) * 1000, 1.0, 0.0, "silence")
        speech = np.concatenate([audio[s.start:s.end] for s in segments])
        if max_s is not None:
            speech = speech[:int(max_s * SAMPLE_RATE)]
        speech_s = speech.size / SAMPLE_RATE
        with self._lock:
            raw, no_speech, path, encoded = self._decode(speech)
            hyps = _distinct(Hypothesis(tidy(h.text), h.logprob) for h in raw)
            chosen = choose_hypothesis(hyps, self.judge, margin=self.margin) if hyps else Hypothesis("", -10.0)
            text, logprob = chosen.text, chosen.logprob
            if self.lexicon is not None and text:
                text = spoken_for(join_compounds(text, self.lexicon))
                if self.judge is not None and self.matches is not None:
                    text = repair_transcript(text, self.lexicon, understood=self.judge, matches=self.matches,
                                             acoustic=self._scorer(encoded, speech), margin=self.repair_margin,
                                             below=self.repair_below)
        if no_speech > _NO_SPEECH_PROB and logprob < _LOW_LOGPROB:
            _LOGGER.debug("dropped %r: no_speech %.2f, logprob %.2f", text, no_speech, logprob)
            text = ""
        if not re.search(r"\w", text):
            text = ""
        others = tuple(h.text for h in hyps if h is not chosen)
        ms = (time.perf_counter() - started) * 1000
        return Transcription(text, audio_s, speech_s, ms, no_speech, logprob, path, others)

    def _decode(self, speech: np.ndarray) -> tuple[list[Hypothesis], float, str, Any]:
        if speech.size / SAMPLE_RATE <= self.window_s - 0.5 and self.window_s < 30:
            hyps, no_speech, encoded = self._fast(speech)
            best = max(hyps, key=lambda h: h.logprob) if hyps else None
            if best is not None and not _suspicious(best):
                return hyps, no_speech, "fast", encoded
            _LOGGER.debug("short-window decode rejected (%r); decoding the standard way", best)
        text, no_speech, logprob = self._full(speech)
        return [Hypothesis(text, logprob)], no_speech, "full", None

    def _scorer(self, encoded: Any, speech: np.ndarray) -> Callable[[list[str]], list[float]] | None:
        """Average log-probability per token of texts given the audio (teacher-forced on the encoder output, without
        the command prompt: comparable between texts, cheap), or None without a short-window encoding."""
        if encoded is None or self.multilingual:
            return None
        import ctranslate2  # type: ignore[import-untyped]

        start = [*self._tokenizer.sot_sequence, self._tokenizer.no_timestamps]
        frames = max(1, int(speech.size / SAMPLE_RATE * _FRAMES_PER_S))
        features = np.asarray(encoded)

        def score(texts: list[str]) -> list[float]:
            tokens = [self._tokenizer.encode(" " + t.strip()) for t in texts]
            batch = ctranslate2.StorageView.from_array(np.ascontiguousarray(np.repeat(features, len(texts), axis=0)))
            results = self._model.model.align(batch, start, tokens, [frames] * len(texts))
            return [sum(math.log(max(p, 1e-9)) for p in r.text_token_probs) / (len(r.text_token_probs) + 1)
                    for r in results]

        return score

    def _fast(self, speech: np.ndarray) -> tuple[list[Hypothesis], float, Any]:
        import ctranslate2
        from faster_whisper.audio import pad_or_trim

        features = self._model.feature_extractor(speech)
        features = pad_or_trim(features, int(self.window_s * _FRAMES_PER_S))
        encoded = self._model.model.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None])),
                                           to_cpu=False)
        prompt = self._prompt(encoded)
        max_length = min(self._model.max_length, len(prompt) + 12 + int(speech.size / SAMPLE_RATE * 8))
        n = self.hypotheses
        result: Any = self._model.model.generate(
            encoded, [prompt], beam_size=max(self.beam_size, n), num_hypotheses=n, max_length=max_length,
            suppress_blank=True, suppress_tokens=self._suppress, return_scores=True, return_no_speech_prob=True)[0]
        hyps = []
        for i, sequence in enumerate(result.sequences_ids):
            tokens = [t for t in sequence if t < self._tokenizer.eot]
            k = max(1, len(tokens))  # CTranslate2 scores are per token already; faster-whisper's avg adds one (EOT)
            logprob = float(result.scores[i]) * k / (k + 1) if result.scores else 0.0
            hyps.append(Hypothesis(self._tokenizer.decode(tokens).strip(), logprob))
        return hyps, float(result.no_speech_prob), encoded

    def _prompt(self, encoded: Any) -> list[int]:
        tokenizer = self._tokenizer
        if self.multilingual:
            from faster_whisper.tokenizer import Tokenizer

            lang = self._model.model.detect_language(encoded)[0][0][0].strip("<|>")
            tokenizer = Tokenizer(self._model.hf_tokenizer, True, task="transcribe", language=lang)
            if lang != "en":  # the command prompt is English: it would pull other languages towards it
                return list(self._model.get_prompt(tokenizer, [], without_timestamps=True))
        return list(self._model.get_prompt(tokenizer, self._prompt_tokens, without_timestamps=True))

    def _max_new_tokens(self, speech: np.ndarray) -> int:
        """Tokens one 30 s window may produce: about 8 per second of its speech (people say 2-4 words a second), so a
        looping decode stops early instead of running to Whisper's limit at every fallback temperature."""
        budget = int(self._model.max_length) // 2 - 4  # what the prompt leaves (faster-whisper checks prompt + new)
        return max(16, min(budget, int(16 + 8 * min(30.0, speech.size / SAMPLE_RATE))))

    def _full(self, speech: np.ndarray) -> tuple[str, float, float]:
        segments, _info = self._model.transcribe(
            speech, beam_size=max(self.beam_size, 5), language="en" if not self.multilingual else None,
            condition_on_previous_text=False, without_timestamps=True, vad_filter=False,
            initial_prompt=self.prompt or None, max_new_tokens=self._max_new_tokens(speech))
        parts = list(segments)
        if not parts:
            return "", 1.0, -10.0
        text = " ".join(p.text.strip() for p in parts).strip()
        no_speech = min(p.no_speech_prob for p in parts)
        logprob = sum(p.avg_logprob for p in parts) / len(parts)
        return text, no_speech, logprob


def _distinct(hyps: Iterable[Hypothesis]) -> list[Hypothesis]:
    """Non-empty candidates, each text once with its best log-probability, best first."""
    best: dict[str, Hypothesis] = {}
    for h in hyps:
        if h.text and (h.text not in best or h.logprob > best[h.text].logprob):
            best[h.text] = h
    return sorted(best.values(), key=lambda h: -h.logprob)


def _suspicious(best: Hypothesis) -> bool:
    """A fast-path decode worth a second, standard decoding: it loops (a known failure of short windows), compresses
    too well, or is unlikely. A phrase merely said twice is not: `collapse_repeats` cuts it to one."""
    return is_degenerate(collapse_repeats(best.text)) or best.logprob < _UNLIKELY
