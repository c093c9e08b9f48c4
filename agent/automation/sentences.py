"""Voice sentence templates: `[optional words]`, `(one|or|another)` alternatives and `{slot}` slots.

`compile_template("turn (on|off) the [kitchen] light")` gives a regex that matches "turn on the light" and
"turn off the kitchen light"; `{name}` captures one or more words as the slot `name`. Matching ignores case,
punctuation and repeated spaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Template", "compile_template", "normalize"]

_SLOT = re.compile(r"[a-z_][a-z0-9_]*")


def normalize(text: str) -> str:
    """Lower case, punctuation to spaces, single spaces."""
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


@dataclass(frozen=True)
class Template:
    text: str
    regex: re.Pattern[str]
    slots: tuple[str, ...]

    def match(self, utterance: str) -> dict[str, str] | None:
        m = self.regex.fullmatch(normalize(utterance))
        return None if m is None else {k: v for k, v in m.groupdict().items() if v is not None}


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.slots: list[str] = []

    def fail(self, message: str) -> ValueError:
        return ValueError(f"voice template {self.text!r}, at character {self.pos + 1}: {message}")

    def sequence(self, closers: str) -> str:
        """Words and groups until one of `closers` (not consumed)."""
        parts: list[str] = []
        word = ""
        while self.pos < len(self.text) and self.text[self.pos] not in closers:
            ch = self.text[self.pos]
            if ch in "[(":
                self.pos += 1
                closer = "]" if ch == "[" else ")"
                alternatives = [self.sequence("|" + closer)]
                while self.pos < len(self.text) and self.text[self.pos] == "|":
                    self.pos += 1
                    alternatives.append(self.sequence("|" + closer))
                if self.pos >= len(self.text):
                    raise self.fail(f"missing '{closer}'")
                self.pos += 1
                group = "(?:" + "|".join(alternatives) + ")"
                parts.append(word + group + ("?" if ch == "[" else ""))
                word = ""
            elif ch == "{":
                end = self.text.find("}", self.pos)
                name = self.text[self.pos + 1:end] if end > 0 else ""
                if end < 0 or not _SLOT.fullmatch(name):
                    raise self.fail("a slot is written {name} with a lowercase name")
                if name in self.slots:
                    raise self.fail(f"slot {{{name}}} appears twice")
                self.slots.append(name)
                parts.append(word + f"(?P<{name}>.+?)")
                word = ""
                self.pos = end + 1
            elif ch in ")]|}":
                raise self.fail(f"unexpected '{ch}'")
            elif ch.isspace():
                if word:
                    parts.append(word)
                    word = ""
                parts.append(" ")
                self.pos += 1
            else:
                word += re.escape(normalize(ch)) if normalize(ch) else ""
                self.pos += 1
        if word:
            parts.append(word)
        return "".join(parts)


def compile_template(text: str) -> Template:
    """Compile a template; raise `ValueError` naming the problem."""
    if not text.strip():
        raise ValueError("a voice template cannot be empty")
    parser = _Parser(text.strip().lower())
    body = parser.sequence("")
    if parser.pos < len(parser.text):
        raise parser.fail(f"unexpected '{parser.text[parser.pos]}'")
    # spaces are optional around optional groups: collapse them in the pattern
    pattern = re.sub(r" +", " ?", body.strip())
    pattern = pattern.replace("( ?", "(")
    return Template(text, re.compile(pattern), tuple(parser.slots))
