"""Numbers written as words ("twenty four", "one and a half", "a hundred") to numbers, in text."""

from __future__ import annotations

import re

__all__ = ["parse_number", "words_to_digits"]

_UNITS = {
    "zero": 0, "oh": 0, "one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000}
_FRACTIONS = {"half": 0.5, "quarter": 0.25}
_NUMBER_WORDS = set(_UNITS) | set(_TENS) | set(_SCALES) | {"and"}
_TOKEN = re.compile(r"[a-z]+(?:-[a-z]+)?|\d+(?:[.,]\d+)*|\S")


def parse_number(text: str) -> float | None:
    """Parse a whole phrase as a number: "24", "1,200", "twenty-four", "one and a half"; else None."""
    t = text.strip().lower().replace("-", " ")
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?|\d+(\.\d+)?|\.\d+", t):
        return float(t.replace(",", ""))
    words = t.split()
    if not words:
        return None
    total, current, seen = 0.0, 0.0, False
    for i, w in enumerate(words):
        if w in ("a", "an") and i + 1 < len(words) and words[i + 1] in _FRACTIONS:
            continue
        if w in _UNITS and w not in ("a", "an", "oh"):
            current += _UNITS[w]
        elif w in ("a", "an") and i + 1 < len(words) and words[i + 1] in _SCALES:
            current += 1
        elif w in _TENS:
            current += _TENS[w]
        elif w in _SCALES:
            current = (current or 1) * _SCALES[w]
            if _SCALES[w] >= 1000:
                total, current = total + current, 0.0
        elif w == "and" and seen:
            continue
        elif w in _FRACTIONS and seen or (w in _FRACTIONS and i > 0 and words[i - 1] in ("a", "an")):
            current += _FRACTIONS[w]
        elif re.fullmatch(r"\d+(\.\d+)?", w):
            current += float(w)
        else:
            return None
        seen = True
    return total + current if seen else None


def words_to_digits(text: str) -> str:
    """Replace runs of number words in free text by digits: "set a timer for five minutes" → "... 5 minutes"."""
    tokens = text.split()
    out: list[str] = []
    i = 0
    while i < len(tokens):
        j = i
        best: tuple[int, float] | None = None
        while j < len(tokens):
            word = tokens[j].lower().strip(",.?!").replace("-", " ")
            if not all(p in _NUMBER_WORDS or p in _FRACTIONS or p in ("a", "an") for p in word.split()):
                break
            j += 1
            phrase = " ".join(t.strip(",.?!") for t in tokens[i:j])
            value = parse_number(phrase)
            last = tokens[j - 1].lower().strip(",.?!")
            if value is not None and last not in ("and", "a", "an"):
                best = (j, value)
        first = tokens[i].lower()
        if best is not None and not (first in ("a", "an") and best[0] == i + 1):
            end, value = best
            trail = tokens[end - 1][-1] if tokens[end - 1][-1] in ",.?!" else ""
            out.append((str(int(value)) if value == int(value) else str(value)) + trail)
            i = end
        else:
            out.append(tokens[i])
            i += 1
    return " ".join(out)
