"""Repair a transcript with the command vocabulary: words Whisper split, and words it misheard for a command word.

Whisper (tiny.en above all) hears "Show me my notice" for "Show me my notes", "Long fire fucks" for "Launch
Firefox", "fire fox" for "Firefox". The agent knows the words people use with it (`agent.speech.vocab`); this
module uses them in two ways:

- `join_compounds`: two heard words whose concatenation is a command word ("fire fox", "spread sheet") become
  that word. Spelling only, applied to every transcript.
- `repair_candidates`: transcripts with one or two spans (one or two words each) replaced by command words or
  word pairs that sound alike (`sound_key`: a coarse consonant skeleton, voicing ignored, at most one edit apart).
  The caller keeps a candidate only when the router understands it clearly and the heard text not at all: a
  transcript that is already understood (a command, a note's or reminder's free text) is never touched.

`spoken_for` is the one number rule: Whisper writes "for" as "4" and "to" as "2" before a number ("a timer 4 3
minutes"); a bare 4 or 2 directly followed by another number becomes the word.

Pure functions over a `Lexicon`; no model calls.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher

__all__ = ["Lexicon", "join_compounds", "repair_candidates", "repair_transcript", "sound_key", "spoken_for"]

_LOGGER = logging.getLogger(__name__)

_WORD = re.compile(r"[A-Za-z][A-Za-z']*")
_DIGITS = {"0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six", "7": "seven",
           "8": "eight", "9": "nine"}
_RULES: list[tuple[str, str]] = [(r"^[kgp]n", "n"), (r"^wr", "r"), (r"ph", "f"), (r"[cs]?ch", "X"), (r"sh", "X"),
          (r"th", "0"), (r"ck", "k"), (r"c(?=[eiy])", "s"), (r"c", "k"), (r"q", "k"), (r"x", "ks"), (r"z", "s"),
          (r"mb$", "m"), (r"d", "t"), (r"b", "p"), (r"g", "k"), (r"v", "f"), (r"j", "X"),
          (r"(?<=[aeiou])[wyh]", ""), (r"[wyh](?![aeiou])", ""), (r"'", "")]


def sound_key(text: str) -> str:
    """A coarse sound skeleton of `text` (words joined): consonants with voicing merged, vowels dropped except a
    leading one (as "A"), doubles merged. "notes" and "notice" -> "NTS", "firefox" and "fire fucks" -> "FRFKS"."""
    t = re.sub(r"[^a-z']", "", text.lower())
    if not t:
        return ""
    for pattern, repl in _RULES:
        t = re.sub(pattern, repl, t)
    lead = "A" if t[:1] in "aeiou" else ""
    body = re.sub(r"[aeiou']", "", t)  # X: the "sh" sound, 0: "th"
    body = re.sub(r"(.)\1+", r"\1", body)
    return (lead + body).upper()


def _deletes(key: str) -> set[str]:
    return {key[:i] + key[i + 1:] for i in range(len(key))}


@dataclass
class Lexicon:
    """The command vocabulary: words and adjacent word pairs, in their usual spelling, indexed by sound."""

    words: dict[str, str] = field(default_factory=dict)  # lower -> usual spelling
    _exact: dict[str, set[str]] = field(default_factory=dict)  # sound key -> phrases
    _deleted: dict[str, set[str]] = field(default_factory=dict)  # a key with one sound deleted -> phrases

    @classmethod
    def from_sentences(cls, sentences: Iterable[str]) -> Lexicon:
        """From plain sentences: every word, and every pair of adjacent words (as candidate replacements)."""
        lex = cls()
        counts: dict[str, dict[str, int]] = {}
        phrases: set[str] = set()
        for sentence in sentences:
            words = _WORD.findall(sentence)
            for w in words:
                forms = counts.setdefault(w.lower(), {})
                forms[w] = forms.get(w, 0) + 1
            lowered = [w.lower() for w in words]
            phrases.update(lowered)
            phrases.update(f"{a} {b}" for a, b in zip(lowered, lowered[1:], strict=False))
        for lower, forms in counts.items():
            # the usual spelling; a capitalised one only if it is never written lower case (a name)
            lex.words[lower] = lower if lower in forms else max(forms, key=lambda f: forms[f])
        for phrase in phrases:
            key = sound_key(phrase)
            if len(key) < 2:
                continue
            lex._exact.setdefault(key, set()).add(phrase)
            for k in _deletes(key) if len(key) >= 3 else ():
                lex._deleted.setdefault(k, set()).add(phrase)
        return lex

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word.lower() in self.words

    def spell(self, phrase: str) -> str:
        return " ".join(self.words.get(w, w) for w in phrase.split())

    def sounding_like(self, text: str) -> list[tuple[int, str]]:
        """Vocabulary words and pairs whose sound key is at most one edit from `text`'s: (distance, phrase)."""
        key = sound_key(text)
        if len(key) < 2:
            return []
        found: dict[str, int] = {p: 0 for p in self._exact.get(key, ())}
        if len(key) >= 3:
            near = set(self._deleted.get(key, ()))  # one sound more than `key`
            for k in _deletes(key):  # one sound less, or another sound in one place
                near |= self._exact.get(k, set()) | self._deleted.get(k, set())
            for phrase in near:
                if phrase not in found and _edit1(sound_key(phrase), key):
                    found[phrase] = 1
        return sorted(((d, p) for p, d in found.items()), key=lambda x: (x[0], len(x[1])))


def _edit1(a: str, b: str) -> bool:
    """At most one insertion, deletion or substitution apart."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


_TOKENS = re.compile(r"\S+")


def _split(text: str) -> list[tuple[str, str, str]]:
    """Tokens as (leading punctuation, word, trailing punctuation)."""
    out = []
    for tok in _TOKENS.findall(text):
        m = re.match(r"^(\W*)(.*?)(\W*)$", tok)
        assert m is not None
        out.append((m.group(1), m.group(2), m.group(3)))
    return out


def _join(tokens: list[tuple[str, str, str]]) -> str:
    return " ".join(a + w + b for a, w, b in tokens if w or a or b)


def join_compounds(text: str, lexicon: Lexicon) -> str:
    """"fire fox" -> "Firefox" when the two words together are a vocabulary word (of six letters or more) and the
    first is not followed by punctuation."""
    tokens = _split(text)
    out: list[tuple[str, str, str]] = []
    i = 0
    while i < len(tokens):
        if i + 1 < len(tokens):
            (a1, w1, b1), (a2, w2, b2) = tokens[i], tokens[i + 1]
            joined = (w1 + w2).lower()
            if not b1 and not a2 and w1.isalpha() and w2.isalpha() and len(joined) >= 6 and len(w1) >= 2 \
                    and len(w2) >= 2 and joined in lexicon.words and w1.lower() + " " + w2.lower() not in lexicon.words:
                spelled = lexicon.words[joined]
                if w1[:1].isupper() and spelled.islower():
                    spelled = spelled[:1].upper() + spelled[1:]
                out.append((a1, spelled, b2))
                i += 2
                continue
        out.append(tokens[i])
        i += 1
    return _join(out)


def spoken_for(text: str) -> str:
    """"Time 4 3 minutes" -> "Time for 3 minutes"; "from 2 2 4" is left alone (only a bare 4 or 2 after a word)."""
    return re.sub(r"(?<=[A-Za-z,] )([42]) (?=\d)", lambda m: "for " if m.group(1) == "4" else "to ", text)


def repair_candidates(text: str, lexicon: Lexicon, *, limit: int = 24) -> list[str]:
    """`text` with one span of one or two words replaced by a vocabulary word or pair that sounds alike; spans with
    a word outside the vocabulary first, closer sounds first; at most `limit` candidates."""
    tokens = _split(text)
    scored: list[tuple[tuple[int, int, float], str]] = []
    seen = {text}
    for i in range(len(tokens)):
        for n in (1, 2):
            span = tokens[i:i + n]
            if len(span) < n or any(not w for _a, w, _b in span):
                continue
            if n == 2 and span[0][2].strip(","):  # no span across a sentence's end
                continue
            words = [_DIGITS.get(w, w) for _a, w, _b in span]
            if not all(_WORD.fullmatch(w) for w in words):
                continue
            heard = " ".join(w.lower() for w in words)
            unknown = sum(w.lower() not in lexicon.words for w in words)
            for distance, phrase in lexicon.sounding_like(heard):
                if phrase == heard:
                    continue
                spelled = lexicon.spell(phrase)
                if span[0][1][:1].isupper() and spelled[:1].islower():
                    spelled = spelled[:1].upper() + spelled[1:]
                new = tokens[:i] + [(span[0][0], spelled, span[-1][2])] + tokens[i + n:]
                candidate = _join(new)
                if candidate in seen:
                    continue
                seen.add(candidate)
                like = SequenceMatcher(None, heard, phrase).ratio()
                scored.append(((-unknown, distance, -round(like, 2)), candidate))
    scored.sort(key=lambda x: x[0])
    return [c for _s, c in scored[:limit]]



def repair_transcript(text: str, lexicon: Lexicon, *, understood: Callable[[str], float],
                      matches: Callable[[str], bool], acoustic: Callable[[list[str]], list[float]] | None = None,
                      margin: float = 0.5, limit: int = 24, seeds: int = 2, accept: float = 0.9,
                      below: float = 0.5) -> str:
    """`text` when the router understands it well enough (`understood` >= `below`). Else its repairs that a sentence
    template matches whole (`matches`; one span replaced, or two: first the `seeds` best-ranked one-span repairs,
    then a span of each), kept when the audio supports them about as well as the heard text (`acoustic`: average
    log-probability per token of each text given the audio, within `margin`), the likeliest first; the first one
    `understood` clearly (>= `accept`) wins. Nothing fits: `text`."""
    if not text or understood(text) >= below:
        return text
    first = repair_candidates(text, lexicon, limit=limit)
    hits = [c for c in first if matches(c)]
    if not hits:
        for seed in first[:seeds]:
            hits.extend(c for c in repair_candidates(seed, lexicon, limit=limit // 2) if matches(c))
    if not hits:
        return text
    hits = list(dict.fromkeys(hits))[:8]
    if acoustic is not None:
        heard, *scores = acoustic([text, *hits])
        ranked = sorted(((s, c) for s, c in zip(scores, hits, strict=True) if s >= heard - margin),
                        key=lambda x: -x[0])
        _LOGGER.debug("repairs of %r (%.2f): %s", text, heard, list(zip(scores, hits, strict=True)))
        hits = [c for _s, c in ranked]
    for candidate in hits:
        if understood(candidate) >= accept:
            return candidate
    return text
