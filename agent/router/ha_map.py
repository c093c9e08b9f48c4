"""Home Assistant intents → our skills: which of its English sentences we use and what their slots become.

Home Assistant's `HassStartTimer {minutes: 5, name: pizza}` is our `timer.set {seconds: 300, label: pizza}`.
Intents that need a device we do not have (lights, climate...) are not loaded. A timer that runs a
command when it ends ("in 5 minutes turn off the lights") is not ours either: those matches are dropped.
"""

from __future__ import annotations

import re
from typing import Any

from hassil.recognize import RecognizeResult

__all__ = ["HA_INTENTS", "HA_SKIP_WORDS", "from_home_assistant"]

HA_SKIP_WORDS = ["please", "can you", "could you", "would you", "for me", "i'd like", "i'd like to", "i want"]

_SIMPLE: dict[str, tuple[str, dict[str, Any]]] = {
    "HassTimerStatus": ("timer.status", {}),
    "HassPauseTimer": ("timer.pause", {}),
    "HassUnpauseTimer": ("timer.resume", {}),
    "HassCancelTimer": ("timer.cancel", {"kind": "timer"}),
    "HassCancelAllTimers": ("timer.cancel", {"kind": "timer", "all": True}),
    "HassMediaNext": ("music.control", {"action": "next"}),
    "HassMediaPrevious": ("music.control", {"action": "previous"}),
    "HassMediaPause": ("music.control", {"action": "pause"}),
    "HassMediaUnpause": ("music.control", {"action": "play"}),
    "HassMediaPlayerMute": ("music.control", {"action": "mute"}),
    "HassMediaPlayerUnmute": ("music.control", {"action": "unmute"}),
    "HassNevermind": ("agent.stop", {}),
    "HassGetCurrentTime": ("time.now", {}),
    "HassGetCurrentDate": ("time.now", {}),
}
HA_INTENTS = frozenset(_SIMPLE) | {"HassStartTimer", "HassIncreaseTimer", "HassDecreaseTimer", "HassSetVolume",
                                   "HassSetVolumeRelative", "HassShoppingListAddItem", "HassListAddItem"}


def _seconds(slots: dict[str, Any]) -> int:
    total = 0.0
    for key, unit in (("hours", 3600), ("minutes", 60), ("seconds", 1)):
        value = slots.get(key)
        if isinstance(value, int | float):
            total += float(value) * unit
    return int(round(total))


def _label(slots: dict[str, Any]) -> dict[str, Any]:
    name = slots.get("name")
    if isinstance(name, str) and name.strip() and name.strip().lower() not in ("timer", "the timer"):
        label = re.sub(r"^(?:the|my|a|an|our)\s+", "", name.strip(), flags=re.I)
        return {"label": label} if label else {}
    return {}


_NOT_MEDIA = re.compile(r"\b(?:timers?|countdowns?|tracking|tracker|time|clock|reminders?|alarms?|downloads?|"
                        r"indexing|index|scan|work|project|session|notes?|backup|update|updates|"
                        # a request of ours before "resume"/"pause" is no device: "find my resume"
                        r"find|search|open|show|check|get|set|start|look|read|tell|give|make|add|delete|remove|"
                        r"save|print|edit|write|send|update|download)\b", re.I)


def from_home_assistant(result: RecognizeResult) -> tuple[str, dict[str, Any]] | None:
    """(skill, arguments) for a Home Assistant match, or None when it is not something we do."""
    intent = result.intent.name
    slots = {k: (e.text.strip() if e.is_wildcard else e.value) for k, e in result.entities.items()}
    if "conversation_command" in slots:
        return None
    name = slots.get("name")
    if intent.startswith("HassMedia") and isinstance(name, str) and _NOT_MEDIA.search(name):
        return None  # "pause tracking for a sec", "pause my timer": a device name that is one of our things
    if intent in _SIMPLE:
        skill, args = _SIMPLE[intent]
        args = dict(args)
        if skill.startswith("timer."):
            args.update(_label(slots))
        return skill, args
    if intent == "HassStartTimer":
        seconds = _seconds(slots)
        return ("timer.set", {"seconds": seconds, **_label(slots)}) if seconds > 0 else None
    if intent in ("HassIncreaseTimer", "HassDecreaseTimer"):
        seconds = _seconds(slots)
        if seconds <= 0:
            return None
        sign = 1 if intent == "HassIncreaseTimer" else -1
        return "timer.adjust", {"seconds": sign * seconds, **_label(slots)}
    if intent == "HassSetVolume":
        level = slots.get("volume_level")
        return ("music.control", {"action": "volume", "level": int(level)}) if isinstance(level, int | float) \
            else None
    if intent == "HassSetVolumeRelative":
        step = slots.get("volume_step")
        if step in ("up", "down"):
            return "music.control", {"action": f"volume_{step}"}
        if isinstance(step, int | float):
            return "music.control", {"action": "volume_up" if step > 0 else "volume_down"}
        return None
    if intent in ("HassShoppingListAddItem", "HassListAddItem"):
        item = slots.get("item")
        if not isinstance(item, str) or not item.strip():
            return None
        name = slots.get("name")
        listname = "shopping" if intent == "HassShoppingListAddItem" else str(name or "list").strip()
        return "notes.add", {"text": item.strip(), "list": listname}
    return None
