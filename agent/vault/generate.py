"""Password generation: `secrets` only, uniform over all passwords that contain every requested class.

Each character is drawn with rejection sampling (`_index`: draw `k` random bits, retry when the number is
out of range), so no character is likelier than another (no modulo bias). A password that misses a
requested class is rejected and drawn again as a whole, which keeps the result uniform over the valid
passwords (placing one character of each class first and shuffling would not be).
"""

from __future__ import annotations

import math
import secrets
import string
from dataclasses import dataclass

__all__ = ["CLASSES", "GeneratedPassword", "generate_password"]

# Symbols that survive pasting into shells, forms and config files: no quotes, backslash, backtick, space.
_SYMBOLS = "!#$%&()*+,-./:;<=>?@[]^_{|}~"

CLASSES: dict[str, str] = {
    "lowercase": string.ascii_lowercase,
    "uppercase": string.ascii_uppercase,
    "digits": string.digits,
    "symbols": _SYMBOLS,
}

_MAX_TRIES = 10_000


@dataclass(frozen=True)
class GeneratedPassword:
    """A fresh password. `repr` never shows the secret."""

    secret: str
    classes: tuple[str, ...]
    entropy_bits: float

    def __repr__(self) -> str:
        return f"GeneratedPassword(length={len(self.secret)}, classes={self.classes}, secret=***)"

    __str__ = __repr__


def _index(n: int) -> int:
    """A uniform integer in [0, n) by rejection sampling over `n.bit_length()` random bits."""
    bits = n.bit_length()
    while True:
        r = secrets.randbits(bits)
        if r < n:
            return r


def generate_password(length: int, *, lowercase: bool = True, uppercase: bool = True, digits: bool = True,
                      symbols: bool = True) -> GeneratedPassword:
    """A random password of `length` with at least one character of each requested class."""
    wanted = {"lowercase": lowercase, "uppercase": uppercase, "digits": digits, "symbols": symbols}
    classes = tuple(name for name, on in wanted.items() if on)
    if not classes:
        raise ValueError("at least one character class is needed")
    if length < len(classes):
        raise ValueError(f"a {length}-character password cannot hold {len(classes)} character classes")
    alphabet = "".join(CLASSES[c] for c in classes)
    sets = [frozenset(CLASSES[c]) for c in classes]
    for _ in range(_MAX_TRIES):
        chars = [alphabet[_index(len(alphabet))] for _ in range(length)]
        if all(any(ch in s for ch in chars) for s in sets):
            return GeneratedPassword("".join(chars), classes, round(length * math.log2(len(alphabet)), 1))
    raise RuntimeError("could not draw a password with every class")  # pragma: no cover - p < 1e-300
