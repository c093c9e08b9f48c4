"""Slips of the keyboard in typed requests: "remnd me to call mom", "opne firefox", "set a timmer".

When no sentence template matched, a word that is no English word (not in the embedding model's word list)
and is one edit away (a letter added, dropped or changed, or two neighbours swapped) from exactly one word that
the sentence templates use is read as that word, and the templates are tried once more. Only the templates'
own words are candidates, so free text is never "corrected" into other free text, and a word the language
knows ("tier", "tinder") is never touched. Speech transcripts have no typos; this is for the typed paths.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from pathlib import Path

__all__ = ["Speller", "as_typed", "load_english_words", "one_edit"]

_LOGGER = logging.getLogger(__name__)
_WORD = re.compile(r"[A-Za-z0-9]*[A-Za-z]+(?:'[A-Za-z]+)?")
_MIN_LENGTH = 4  # shorter words are too often one edit from several others ("sat", "set", "sit")
# the shorthand of typed requests, read as the word only to match templates (values keep what was typed)
SHORTHAND = {"u": "you", "ur": "your", "pw": "password", "pws": "passwords", "sw": "software", "cmd": "command",
             "vol": "volume", "tmrw": "tomorrow", "tmr": "tomorrow", "tmw": "tomorrow", "2moro": "tomorrow",
             "b4": "before", "msg": "message", "pic": "picture", "pics": "pictures", "docs": "documents",
             "calc": "calculate", "rn": "now", "asap": "now", "yr": "year", "wk": "week", "mo": "month"}


def load_english_words(tokenizer_json: Path) -> frozenset[str]:
    """The whole words of a WordPiece tokenizer's vocabulary (MiniLM's has about 22,000 English words)."""
    data = json.loads(tokenizer_json.read_text(encoding="utf-8"))
    vocab = data.get("model", {}).get("vocab", {})
    return frozenset(w for w in vocab if w.isalpha())


def one_edit(a: str, b: str) -> bool:
    """True when `b` is `a` with one letter added, dropped or changed, or two neighbours swapped."""
    if a == b:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                                  and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    if len(long_) - len(short) != 1:
        return False
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1:]


_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_KEY = {c: (r, i) for r, row in enumerate(_ROWS) for i, c in enumerate(row)}


def _neighbour_slip(typed: str, word: str) -> bool:
    """`typed` is `word` with one letter changed into a key beside it on a QWERTY keyboard."""
    if len(typed) != len(word):
        return False
    diff = [(a, b) for a, b in zip(typed, word, strict=True) if a != b]
    if len(diff) != 1 or diff[0][0] not in _KEY or diff[0][1] not in _KEY:
        return False
    (r1, c1), (r2, c2) = _KEY[diff[0][0]], _KEY[diff[0][1]]
    return abs(r1 - r2) <= 1 and abs(c1 - c2) <= 1 + (r1 != r2)


class Speller:
    def __init__(self, english: frozenset[str], vocabulary: Iterable[str]) -> None:
        self._vocabulary = sorted({w for w in vocabulary if w.isalpha() and len(w) >= _MIN_LENGTH - 1})
        self._known = english | set(self._vocabulary)
        self._cache: dict[str, str | None] = {}

    def word(self, token: str) -> str | None:
        """The one template word `token` is a slip for, or None (a known word, or no single candidate)."""
        low = token.lower()
        if low in SHORTHAND:
            return SHORTHAND[low]
        if len(low) < _MIN_LENGTH or low in self._known:
            return None
        if low not in self._cache:
            near = [v for v in self._vocabulary if abs(len(v) - len(low)) <= 1 and one_edit(low, v)]
            for likelier in (lambda v: v.startswith(low),  # a dropped last letter: "paus" is "pause", not "pays"
                             lambda v: sorted(v) == sorted(low),  # two keys swapped: "pasue" is "pause", not "paste"
                             lambda v: _neighbour_slip(low, v)):  # a key beside the right one: "volime"
                if len(near) > 1:
                    near = [v for v in near if likelier(v)] or near
            self._cache[low] = near[0] if len(near) == 1 else None
        return self._cache[low]

    def correct(self, text: str) -> tuple[str, dict[str, str]] | None:
        """`text` with its slips replaced and {template word: what was typed}, or None when nothing changed."""
        changed: dict[str, str] = {}

        def fix(m: re.Match[str]) -> str:
            better = self.word(m.group(0))
            if better is None:
                return m.group(0)
            changed[better] = m.group(0)
            return better

        fixed = _WORD.sub(fix, text)
        if changed:
            _LOGGER.debug("spelling: %r -> %r", text, fixed)
        return (fixed, changed) if changed else None


def as_typed(value: str, changed: dict[str, str]) -> str:
    """A slot value with the user's own spelling back: a word that landed in free text ("call acme") was no
    template word, so it was no slip to correct."""
    return re.sub(r"[A-Za-z]+(?:'[A-Za-z]+)?", lambda m: changed.get(m.group(0), m.group(0)), value)
