"""Helpers for the automation tests: an engine on a manual clock, rules from YAML text, recorded bus events."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from agent.automation import Engine, ManualClock, Sample
from agent.events import Alert, Event, Notice, Speak
from agent.services import Services


@dataclass
class FakeState:
    """The user's state. Fake because this machine has no battery and no logged-in user to be idle."""

    battery: bool | None = False
    idle: float | None = 0.0
    dnd: bool = False

    def on_battery(self) -> bool | None:
        return self.battery

    def idle_seconds(self) -> float | None:
        return self.idle

    def do_not_disturb(self) -> bool:
        return self.dnd


@dataclass
class Recorder:
    alerts: list[Alert] = field(default_factory=list)
    spoken: list[Speak] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)

    def __call__(self, event: Event) -> None:
        if isinstance(event, Alert):
            self.alerts.append(event)
        elif isinstance(event, Speak):
            self.spoken.append(event)
        elif isinstance(event, Notice):
            self.notices.append(event)

    @property
    def titles(self) -> list[str]:
        return [a.title for a in self.alerts]


def write_rules(folder: Path, text: str, name: str = "rules.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    path.chmod(0o644)
    return path


def make_engine(services: Services, folder: Path, text: str | None = None, *, clock: ManualClock | None = None,
                state: FakeState | None = None, tick_s: float = 10.0) -> tuple[Engine, ManualClock, Recorder]:
    if text is not None:
        write_rules(folder, text)
    clock = clock or ManualClock(wall=1_750_000_000.0)  # 2025-06-15, a Sunday, mid-day UTC
    recorder = Recorder()
    for kind in (Alert, Speak, Notice):
        services.bus.subscribe(kind, recorder)
    engine = Engine(services, rule_paths=[folder], clock=clock, system=state or FakeState(), tick_s=tick_s)
    result = engine.load()
    assert not result.errors, [str(p) for p in result.errors]
    return engine, clock, recorder


def tick(engine: Engine, clock: ManualClock, values: dict[str, float | None], *, every: float = 10.0,
         processes: list | None = None) -> None:
    clock.advance(every)
    engine.tick(Sample.fixed(values, processes, ts=clock.time()))
