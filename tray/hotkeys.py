"""Global hotkeys (pynput): the prompt window's, and those of rules with a `hotkey` trigger.

Callbacks run on pynput's listener thread, so they must only hand work on (queue it), never do it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

__all__ = ["Hotkeys", "to_pynput"]

_LOGGER = logging.getLogger(__name__)
_MODIFIERS = {"control": "ctrl", "super": "cmd", "win": "cmd", "meta": "cmd", "option": "alt"}


def to_pynput(combo: str) -> str:
    """`ctrl+alt+space` or `<ctrl>+<alt>+<space>` -> pynput's `<ctrl>+<alt>+<space>` (single characters stay
    bare, names get angle brackets, common aliases map to pynput's names)."""
    parts = []
    for raw in combo.strip().lower().split("+"):
        name = raw.strip().strip("<>")
        if not name:
            raise ValueError(f"empty key in hotkey {combo!r}")
        name = _MODIFIERS.get(name, name)
        parts.append(name if len(name) == 1 else f"<{name}>")
    return "+".join(parts)


class Hotkeys:
    """A running pynput listener for `bindings` (combo -> callback). Invalid combos are logged and skipped."""

    def __init__(self, bindings: dict[str, Callable[[], None]]) -> None:
        from pynput import keyboard

        valid: dict[str, Callable[[], None]] = {}
        for combo, callback in bindings.items():
            try:
                key = to_pynput(combo)
                keyboard.HotKey.parse(key)
            except ValueError:
                _LOGGER.warning("hotkey %r is not a valid key combination: ignored", combo)
                continue
            valid[key] = callback
        self.combos = sorted(valid)
        self._listener: Any = keyboard.GlobalHotKeys(valid) if valid else None
        if self._listener is not None:
            self._listener.daemon = True
            self._listener.start()
            self._listener.wait()  # the X RECORD connection is up: keys pressed from now on are seen
        _LOGGER.info("hotkeys: %s", ", ".join(self.combos) or "none")

    @property
    def running(self) -> bool:
        return self._listener is not None and bool(self._listener.running)

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
