"""Home Assistant's published English test sentences for the domains we share, as a router evaluation.

    .venv/bin/python bench/ha_sentences.py PATH_TO_A_CHECKOUT_OF_home-assistant/intents [--out FILE.jsonl]

Reads `tests/en/*.yaml` of the intents repository (timers, media, volume, time and date, shopping list, never
mind), turns each test sentence into a line `{"text", "skill", "args"}` with the arguments our skills take
(HassStartTimer {minutes: 5, name: pizza} → timer.set {seconds: 300, label: pizza}), and runs
`agent eval router` on them in a fresh AGENT_HOME. Nothing from that repository is stored in this project.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_SKILL = {
    "HassStartTimer": "timer.set", "HassCancelTimer": "timer.cancel", "HassCancelAllTimers": "timer.cancel",
    "HassTimerStatus": "timer.status", "HassPauseTimer": "timer.pause", "HassUnpauseTimer": "timer.resume",
    "HassIncreaseTimer": "timer.adjust", "HassDecreaseTimer": "timer.adjust", "HassMediaNext": "music.control",
    "HassMediaPrevious": "music.control", "HassMediaPause": "music.control", "HassMediaUnpause": "music.control",
    "HassSetVolume": "music.control", "HassMediaPlayerMute": "music.control",
    "HassMediaPlayerUnmute": "music.control", "HassShoppingListAddItem": "notes.add",
    "HassNevermind": "agent.stop", "HassGetCurrentTime": "time.now", "HassGetCurrentDate": "time.now",
}
_ACTION = {"HassMediaNext": "next", "HassMediaPrevious": "previous", "HassMediaPause": "pause",
           "HassMediaUnpause": "play", "HassSetVolume": "volume", "HassMediaPlayerMute": "mute",
           "HassMediaPlayerUnmute": "unmute"}


def _args(intent: str, slots: dict[str, Any]) -> dict[str, Any]:
    seconds = sum(float(slots.get(k, 0) or 0) * u for k, u in (("hours", 3600), ("minutes", 60), ("seconds", 1)))
    out: dict[str, Any] = {}
    if intent in ("HassStartTimer", "HassIncreaseTimer", "HassDecreaseTimer") and seconds:
        out["seconds"] = int(seconds) * (-1 if intent == "HassDecreaseTimer" else 1)
    if intent in _ACTION:
        out["action"] = _ACTION[intent]
    if intent == "HassSetVolume" and "volume_level" in slots:
        out["level"] = int(slots["volume_level"])
    if intent == "HassShoppingListAddItem" and "item" in slots:
        out["text"] = str(slots["item"])
    if intent.endswith("Timer") and intent != "HassStartTimer" or intent == "HassStartTimer":
        name = slots.get("name")
        if isinstance(name, str) and name:
            out["label"] = name
    return out


def convert(repo: Path) -> list[dict[str, Any]]:
    rows = []
    for path in sorted((repo / "tests" / "en").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for test in data.get("tests", []):
            intent = (test.get("intent") or {}).get("name")
            if intent not in _SKILL:
                continue
            slots = (test.get("intent") or {}).get("slots") or {}
            for sentence in test.get("sentences", []):
                rows.append({"text": sentence, "skill": _SKILL[intent], "args": _args(intent, slots),
                             "source": path.name})
    return rows


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    rows = convert(Path(sys.argv[1]))
    out = Path(sys.argv[sys.argv.index("--out") + 1]) if "--out" in sys.argv else Path(
        tempfile.mkdtemp(prefix="ha-sentences-")) / "ha_sentences.jsonl"
    out.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    os.environ["AGENT_HOME"] = tempfile.mkdtemp(prefix="agent-bench-ha-")
    from agent.evaluate import evaluate_router, format_report
    from agent.services import build_services

    report = evaluate_router(build_services(), str(out), with_replies=False)
    print(format_report(report))


if __name__ == "__main__":
    main()
