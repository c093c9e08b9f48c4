"""Push-to-talk on a global hotkey (pynput): hold to talk, release to send; a short tap toggles hands-free.

`HotkeyTracker` (is the whole combination down?) and `PttStateMachine` (hold or tap?) are pure and take any
hashable keys; `PushToTalk` feeds them from a pynput keyboard listener. X11 key auto-repeat sends release+press
pairs while a key is held; a release is only believed after `debounce_s` without a new press.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Hashable, Iterable
from enum import Enum
from typing import Any

__all__ = ["HotkeyTracker", "PttEvent", "PttStateMachine", "PushToTalk"]

_LOGGER = logging.getLogger(__name__)


class PttEvent(str, Enum):
    START = "start"  # the key went down: stop speaking, start recording
    SEND = "send"  # held, then released: send what was recorded
    TAP = "tap"  # a short press: toggle hands-free listening (the recording is dropped)


class HotkeyTracker:
    """Tracks which keys are down; reports when the whole combination becomes down, and when it stops being."""

    def __init__(self, keys: Iterable[Hashable]) -> None:
        self.keys = frozenset(keys)
        self._down: set[Hashable] = set()
        self.active = False

    def press(self, key: Hashable) -> bool:
        """True when this press completes the combination."""
        self._down.add(key)
        if not self.active and self.keys <= self._down:
            self.active = True
            return True
        return False

    def release(self, key: Hashable) -> bool:
        """True when this release breaks a complete combination."""
        self._down.discard(key)
        if self.active and key in self.keys:
            self.active = False
            return True
        return False


class PttStateMachine:
    """Hold or tap: a press starts recording; a release after `tap_s` sends it, an earlier one is a tap."""

    def __init__(self, tap_s: float = 0.35) -> None:
        self.tap_s = tap_s
        self._down_at: float | None = None

    @property
    def down(self) -> bool:
        return self._down_at is not None

    def press(self, now: float) -> PttEvent | None:
        if self._down_at is not None:
            return None
        self._down_at = now
        return PttEvent.START

    def release(self, now: float) -> PttEvent | None:
        if self._down_at is None:
            return None
        held = now - self._down_at
        self._down_at = None
        return PttEvent.SEND if held >= self.tap_s else PttEvent.TAP


class PushToTalk:
    """The global push-to-talk key. `on_event(PttEvent)` runs on pynput's thread: keep it short."""

    def __init__(self, hotkey: str, on_event: Callable[[PttEvent], None], *, tap_s: float = 0.35,
                 debounce_s: float = 0.06) -> None:
        self.hotkey = hotkey
        self.on_event = on_event
        self.machine = PttStateMachine(tap_s)
        self.debounce_s = debounce_s
        self._listener: Any = None
        self._stopped: Any = None  # the last listener, until its thread has ended
        self._tracker: HotkeyTracker | None = None
        self._pending: threading.Timer | None = None
        self._lock = threading.Lock()

    def start(self) -> bool:
        """Listen for the key; False (and the reason logged once) when there is no keyboard hook (no display)."""
        if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
            _LOGGER.info("push-to-talk is off: no X display to hook %s on (the wake phrase still works)", self.hotkey)
            return False
        try:
            from pynput import keyboard

            keys = keyboard.HotKey.parse(self.hotkey)
            self._listener = keyboard.Listener(on_press=self._press, on_release=self._release)
            self._tracker = HotkeyTracker(self._listener.canonical(k) for k in keys)
            self._listener.start()
            self._listener.wait()
        except Exception as exc:  # pynput raises ImportError without a usable display, ValueError for a bad key
            _LOGGER.warning("push-to-talk is off: %s: %s", type(exc).__name__, str(exc).splitlines()[0])
            self._listener = None
            return False
        _LOGGER.info("push-to-talk on %s (hold to talk, tap to toggle hands-free)", self.hotkey)
        return True

    def stop(self, wait_s: float = 0.5) -> bool:
        """Stop listening; True once the listener thread has ended. (pynput's X11 listener can only notice the
        stop at the next key event; its thread is a daemon, so a late end never holds up the agent.)"""
        if self._pending is not None:
            self._pending.cancel()
        listener, self._listener = self._listener, None
        self._stopped = listener if listener is not None else self._stopped
        if self._stopped is None:
            return True
        if listener is not None:
            listener.stop()
        self._stopped.join(timeout=wait_s)
        return not self._stopped.is_alive()

    def _press(self, key: Any) -> None:
        if self._tracker is None or self._listener is None:
            return
        if not self._tracker.press(self._listener.canonical(key)):
            return
        with self._lock:
            if self._pending is not None:  # auto-repeat: the "release" was not real
                self._pending.cancel()
                self._pending = None
                return
        self._emit(self.machine.press(time.monotonic()))

    def _release(self, key: Any) -> None:
        if self._tracker is None or self._listener is None:
            return
        if not self._tracker.release(self._listener.canonical(key)):
            return
        released_at = time.monotonic()
        with self._lock:
            self._pending = threading.Timer(self.debounce_s, self._confirm_release, args=(released_at,))
            self._pending.daemon = True
            self._pending.start()

    def _confirm_release(self, released_at: float) -> None:
        with self._lock:
            self._pending = None
        self._emit(self.machine.release(released_at))

    def _emit(self, event: PttEvent | None) -> None:
        if event is None:
            return
        try:
            self.on_event(event)
        except Exception:
            _LOGGER.exception("push-to-talk handler failed on %s", event.value)
