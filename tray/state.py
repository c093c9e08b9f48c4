"""What the tray shows, as plain data: the icon state derived from bus events, the recent replies and alerts,
and the menu entries. No UI toolkit here, so all of it is tested without a display."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

from agent.events import Activity, Alert, Event, MuteListening, Notice, Reply, UnmuteListening, Utterance

__all__ = ["ACTIVITIES", "MenuEntry", "Recent", "TrayModel", "menu_entries"]

ACTIVITIES = ("idle", "listening", "thinking", "speaking")
_LABEL_CHARS = 60


@dataclass(frozen=True)
class Recent:
    """A reply or an alert the menu lists. `kind`: reply or alert."""

    kind: str
    text: str
    ts: float = field(default_factory=time.time)

    def label(self) -> str:
        mark = "!" if self.kind == "alert" else ">"
        text = " ".join(self.text.split())
        return f"{mark} {text[:_LABEL_CHARS - 1] + '…' if len(text) > _LABEL_CHARS else text}"


@dataclass(frozen=True)
class MenuEntry:
    """One menu line. `action` names what the desktop does when it is chosen; None: a separator."""

    label: str
    action: str | None
    enabled: bool = True


class TrayModel:
    """The state behind the icon. `apply(event)` returns True when the icon or the menu should change."""

    def __init__(self, recent: int = 5) -> None:
        self.activity = "idle"
        self.muted = False
        self.paused = False
        self.unseen_alerts = 0
        self.recent: deque[Recent] = deque(maxlen=max(recent, 1))
        self.keep_recent = recent > 0
        self._pending = 0  # utterances without their reply yet
        self.indexing = ""  # "indexing Documents 40%" while a background index job runs
        self._lock = threading.Lock()

    def apply(self, event: Event) -> bool:
        with self._lock:
            before = (self.activity, self.muted, self.unseen_alerts, len(self.recent), self._top(), self.indexing)
            if isinstance(event, Notice) and event.name == "files.index.progress":
                self.indexing = _indexing(event.data)
            elif isinstance(event, Activity) and event.state in ACTIVITIES:
                self.activity = event.state
            elif isinstance(event, Utterance):
                self._pending += 1
                self.activity = "thinking"
            elif isinstance(event, Reply):
                if self._pending and self.keep_recent:  # a rule's skill call has no utterance: not listed
                    self.recent.append(Recent("reply", event.text))
                self._pending = max(0, self._pending - 1)
                if not self._pending and self.activity == "thinking":
                    self.activity = "idle"
            elif isinstance(event, Alert):
                if self.keep_recent:
                    self.recent.append(Recent("alert", f"{event.title}: {event.message}"))
                self.unseen_alerts += 1
            elif isinstance(event, MuteListening):
                self.muted = True
            elif isinstance(event, UnmuteListening):
                self.muted = False
            return before != (self.activity, self.muted, self.unseen_alerts, len(self.recent), self._top(),
                              self.indexing)

    def add_recent(self, kind: str, text: str) -> None:
        """List a reply that came without an utterance (a confirmation answered with a button)."""
        with self._lock:
            if self.keep_recent:
                self.recent.append(Recent(kind, text))

    def _top(self) -> Recent | None:
        return self.recent[-1] if self.recent else None

    def seen(self) -> bool:
        """The user opened the menu: alerts are no longer new. True if the icon changes."""
        with self._lock:
            changed = self.unseen_alerts > 0
            self.unseen_alerts = 0
            return changed

    def icon_state(self) -> str:
        """Busy states first; at rest, an unseen alert, then muted, then idle."""
        if self.activity != "idle":
            return self.activity
        if self.unseen_alerts:
            return "alert"
        return "muted" if self.muted else "idle"

    def tooltip(self) -> str:
        state = self.icon_state()
        extra = f", {self.unseen_alerts} new alert(s)" if self.unseen_alerts else ""
        return (f"Agent: {state}{extra}" + (", rules paused" if self.paused else "")
                + (f", {self.indexing}" if self.indexing else ""))

    def recent_items(self) -> list[Recent]:
        with self._lock:
            return list(reversed(self.recent)) if self.keep_recent else []


def _indexing(data: dict[str, object]) -> str:
    """The tooltip's words for a `files.index.progress` notice: empty once the job is over."""
    if data.get("state") not in ("queued", "indexing"):
        return ""
    name = str(data.get("root", "")).rstrip("/").rsplit("/", 1)[-1] or "files"
    done, total = data.get("done", 0), data.get("total", 0)
    if isinstance(done, int) and isinstance(total, int) and total:
        return f"indexing {name} {done}/{total} ({100 * done // total}%)"
    return f"indexing {name}"


def menu_entries(model: TrayModel, *, rules: bool) -> list[MenuEntry]:
    """The tray menu, top to bottom: the prompt, recent replies and alerts (newest first), the switches."""
    out = [MenuEntry("Open prompt…", "prompt"), MenuEntry("", None)]
    recent = model.recent_items()
    for i, item in enumerate(recent):
        out.append(MenuEntry(item.label(), f"recent:{i}"))
    if recent:
        out.append(MenuEntry("", None))
    out.append(MenuEntry("Unmute listening" if model.muted else "Mute listening",
                         "unmute" if model.muted else "mute"))
    out.append(MenuEntry("Resume rules" if model.paused else "Pause rules", "resume" if model.paused else "pause",
                         enabled=rules))
    out.append(MenuEntry("Reload rules", "reload", enabled=rules))
    out += [MenuEntry("", None), MenuEntry("Open config folder", "config"), MenuEntry("Open log", "log"),
            MenuEntry("", None), MenuEntry("Quit", "quit")]
    return out
