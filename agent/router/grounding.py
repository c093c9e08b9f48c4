"""Never a guess: is an argument value something the user said (or a documented derivation of it)?

A value is grounded when
- a string: every word of it occurs in the utterance (number words and digits count as the same word);
- a number: the utterance says that number, or a duration phrase in it comes to that many seconds
  (negative: the same duration removed);
- an ISO date-time: the utterance names a time (`agent.values.parse_when`).
Enumerated choices (an action, a metric) are grounded when their word, or a part of it, occurs.
The router drops any value the language model proposes that is not grounded, and asks instead.
"""

from __future__ import annotations

import re
from typing import Any

from agent.values import durations_in, numbers_in, parse_amount, parse_when, to_digits

__all__ = ["DERIVED_KEYS", "DURATION_KEYS", "grounded", "ungrounded_args"]

DERIVED_KEYS = frozenset({"command", "currency", "category", "metric", "sort", "action", "kind", "period", "when",
                          "path", "symbols", "digits", "uppercase", "topic", "list", "all", "latest", "args"})
"""Arguments that rule extractors and templates derive from the words (documented mappings), not copy."""

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2})?(?:[+-]\d{2}:?\d{2}|Z)?)?$")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def _words(text: str) -> set[str]:
    low = text.lower()
    words = set(_WORD.findall(low)) | set(_WORD.findall(to_digits(low)))
    words |= {w[:-2] for w in words if w.endswith("'s")}  # "slack's frozen" says "slack"
    return words | {w[:-1] for w in words if w.endswith("s")} | {w + "s" for w in words}


_LEVEL_WORDS = {100: r"max|maximum|full|full blast", 50: r"half", 0: r"zero|minimum|min"}
"""A level in percent said as a word ("volume to full", "volume at half"): a documented derivation."""


DURATION_KEYS = frozenset({"seconds"})
"""Arguments that are durations: grounded only by a duration said ("7am" holds a 7 but no 7 seconds)."""


def grounded(value: Any, utterance: str, key: str | None = None) -> bool:
    """True when `value` (of argument `key`, when known) is said in `utterance` (see the module docstring)."""
    if value is None:
        return True
    if isinstance(value, bool):
        return False  # a yes/no the model chose; the rules derive these from explicit words
    if isinstance(value, int | float) and key in DURATION_KEYS:
        return any(abs(abs(value) - seconds) < 1 for seconds in durations_in(utterance))
    if isinstance(value, int | float) and key == "level" and value in _LEVEL_WORDS \
            and re.search(r"\b(?:" + _LEVEL_WORDS[int(value)] + r")\b", utterance.lower()):
        return True
    if isinstance(value, int | float):
        said = numbers_in(utterance)
        if any(abs(n - value) < 1e-9 for n in said):
            return True
        amount = parse_amount(utterance) if key == "amount" else None  # "twelve fifty" is 12.50
        if amount is not None and abs(amount[0] - value) < 1e-9:
            return True
        return any(abs(abs(value) - seconds) < 1 for seconds in durations_in(utterance))
    if isinstance(value, str):
        if _ISO.match(value.strip()):
            return parse_when(utterance) is not None
        tokens = _WORD.findall(value.lower())
        if not tokens:
            return False
        words = _words(utterance)
        return all(t in words for t in tokens)
    if isinstance(value, dict):
        return all(grounded(v, utterance) for v in value.values())
    if isinstance(value, list | tuple):
        return all(grounded(v, utterance) for v in value)
    return False


def ungrounded_args(args: dict[str, Any], utterance: str, *, skip: frozenset[str] = DERIVED_KEYS) -> list[str]:
    """The names of the arguments in `args` whose values the utterance does not contain."""
    return [k for k, v in args.items() if k not in skip and not grounded(v, utterance, k)]
