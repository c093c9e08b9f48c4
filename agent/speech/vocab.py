"""What people say to the agent, as Whisper decoding context.

`command_sentences` is the one place that knows where the command vocabulary comes from (today: every skill's
example utterances in the registry; the sentence templates may move, this function follows them).
`command_phrases` adds the literal phrases of the skills' sentence templates (hassil YAML: alternatives, optional
parts and slot values, without the slots) for `agent.speech.repair`'s vocabulary.
`decoding_prompt` turns those sentences into a short "previous text" for Whisper: one or two short sentences per
skill, so the decoder expects command words ("timer", "expense", "Firefox") and their spelling, within Whisper's
prompt budget. Pure apart from loading the registry.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

__all__ = ["command_phrases", "command_sentences", "decoding_prompt"]

_LOGGER = logging.getLogger(__name__)

_QUESTION = re.compile(r"(?i)(what|how|who|which|is|are|do|can|where|when|why)\b")
_MAX_PROMPT_CHARS = 900  # about 200 tokens: under Whisper's 223-token prompt budget, cheap to decode


def command_sentences(registry: Iterable[object] | None = None) -> dict[str, list[str]]:
    """Example utterances per skill name (every skill in `registry`, default: the installed registry)."""
    if registry is None:
        from agent.skills.registry import load_registry

        registry = load_registry()
    out: dict[str, list[str]] = {}
    for skill in registry:
        examples = [str(e).strip() for e in getattr(skill, "examples", ()) if str(e).strip()]
        if examples:
            out[str(getattr(skill, "name", ""))] = examples
    return out


def command_phrases(registry: Iterable[object] | None = None) -> list[str]:
    """Every example utterance, and every literal chunk of the skills' sentence templates ("what is the",
    "battery level", "firefox"): plain text whose adjacent words really are adjacent in something people say."""
    if registry is None:
        from agent.skills.registry import load_registry

        registry = load_registry()
    skills = list(registry)
    phrases = [e for examples in command_sentences(skills).values() for e in examples]
    try:
        from agent.router.sentences import load_sentence_file
        from agent.skills.base import sentence_file
    except ImportError:  # the router moved: the examples alone still make a vocabulary
        _LOGGER.info("sentence templates not found; the command vocabulary is the skills' examples")
        return phrases
    files = {path for skill in skills if (path := sentence_file(skill)) is not None}  # type: ignore[arg-type]
    for path in sorted(files):
        try:
            data = load_sentence_file(path)
        except Exception:  # a broken file is the router's error to report, not the vocabulary's
            _LOGGER.warning("sentence file %s skipped in the command vocabulary", path)
            continue
        for text in _strings(data):
            text = re.sub(r"\{[^}]*\}|<[^>]*>", "|", text)
            phrases.extend(chunk for chunk in re.split(r"[()\[\]|]", text) if re.search(r"[A-Za-z]", chunk))
    return phrases


def _strings(data: object) -> list[str]:
    """The string values (not the keys) anywhere in a parsed YAML document."""
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [s for k, v in data.items() if k != "language" for s in _strings(v)]
    if isinstance(data, list):
        return [s for v in data for s in _strings(v)]
    return []


def _sentence(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    text = text[0].upper() + text[1:]
    if text[-1] in ".?!":
        return text
    return text + ("?" if _QUESTION.match(text) else ".")


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+|\d+", text.lower())


def _typical(examples: list[str]) -> list[str]:
    """The examples ordered by how typical their words are of the skill (words its other examples use too), per
    word, so short representative sentences come first."""
    freq: dict[str, int] = {}
    for e in examples:
        for w in set(_words(e)):
            freq[w] = freq.get(w, 0) + 1

    def score(e: str) -> float:
        words = _words(e)
        return sum(freq[w] - 1 for w in set(words)) / (len(words) + 3)

    return sorted(set(examples), key=lambda e: (-score(e), len(e), e))


def decoding_prompt(sentences: dict[str, list[str]], *, per_skill: int = 2,
                    max_chars: int = _MAX_PROMPT_CHARS) -> str:
    """A prompt of typical example commands, round-robin over the skills (so every skill is represented before any
    gets a second sentence), without the catch-all `chat` skill, within `max_chars`."""
    pools = {name: _typical(ex) for name, ex in sorted(sentences.items()) if name != "chat" and ex}
    chosen: list[str] = []
    used = 0
    for rank in range(per_skill):
        for _name, pool in pools.items():
            if rank >= len(pool):
                continue
            sentence = _sentence(pool[rank])
            if used + len(sentence) + 1 > max_chars:
                continue
            chosen.append(sentence)
            used += len(sentence) + 1
    return " ".join(chosen)
