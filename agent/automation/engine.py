"""The rule engine: ticks evaluate triggers against one shared sample, conditions gate, actions run.

The engine itself has no threads: `tick()` and `advance()` do all the work under one lock and take their time
from a `Clock`, so tests drive it with a `ManualClock` and injected samples. `AutomationService` (service.py)
puts it on APScheduler and watchdog. Modes: `single` (ignore a trigger while a run is in progress), `restart`
(stop it and start again), `queued` (run one after the other, at most `max` waiting), `parallel` (at most `max`
at once). Notification policy: `repeat` runs the actions again while a metric or process trigger is still
firing, `on_clear` runs once when it clears (only if the user was told), `quiet_hours` (and do-not-disturb)
mute speech and desktop notifications (critical ones still show); alerts are always stored.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.automation.actions import SAMPLE_KEY, Run, Trace, step_run
from agent.automation.catalog import RuleCatalog
from agent.automation.clock import Clock, ManualClock, SystemClock
from agent.automation.compiled import CompiledRule, Pending, compile_rule
from agent.automation.conditions import EvalContext, LocalSystemState, SystemState, in_time_window
from agent.automation.effects import Effects
from agent.automation.loader import LoadResult, Problem, load_rules
from agent.automation.metrics import MetricCollector, Sample
from agent.automation.store import AutomationStore
from agent.automation.triggers import (
    EventRuntime,
    FileRuntime,
    HotkeyRuntime,
    MetricRuntime,
    TickContext,
    TriggerInfo,
    VoiceRuntime,
)
from agent.events import Notice

if TYPE_CHECKING:
    from agent.services import Services

__all__ = ["Clock", "Engine", "ManualClock", "SystemClock", "default_rule_paths"]

_LOGGER = logging.getLogger(__name__)
_PERSIST_EVERY_S = 30.0


def default_rule_paths(services: Services) -> list[Path]:
    """The shipped defaults (the repository's top-level `rules/` folder, found next to the package) unless
    turned off, then the user's `<config dir>/rules/`."""
    out: list[Path] = []
    cfg = services.settings.automation
    if cfg.default_rules:
        shipped = Path(__file__).resolve().parents[2] / "rules"
        if shipped.is_dir():
            out.append(shipped)
        else:
            _LOGGER.warning("default rules folder %s not found (not a source checkout?)", shipped)
    out.append(services.paths.config / "rules")
    out.extend(Path(p).expanduser() for p in cfg.rule_dirs)
    return out


def _json_safe(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in values.items()
            if isinstance(v, (str, int, float, bool)) or v is None}


class Engine:
    def __init__(self, services: Services, *, rule_paths: list[Path] | None = None, clock: Clock | None = None,
                 collector: MetricCollector | None = None, system: SystemState | None = None,
                 store: AutomationStore | None = None, tick_s: float | None = None) -> None:
        self.services = services
        self.settings = services.settings.automation
        self.tick_s = tick_s or self.settings.tick_s
        self.clock: Clock = clock or SystemClock()
        self.tz: tzinfo = datetime.now().astimezone().tzinfo  # type: ignore[assignment]
        self.store = store or AutomationStore.for_data_dir(services.paths.data)
        self.collector = collector or MetricCollector(self.clock.time)
        self.system: SystemState = system or LocalSystemState(dnd=lambda: bool(self.store.get("dnd", False)))
        self.rule_paths = rule_paths if rule_paths is not None else default_rule_paths(services)
        self.catalog = RuleCatalog(services.registry, services.executor)
        self.problems: list[Problem] = []
        self.ticks = 0
        self.errors = 0
        self.on_wake: Callable[[float], None] | None = None  # set by the service: schedule `advance` at a time
        self.paused = False  # "Pause rules": no trigger fires (ticks still sample, so resuming is seamless)
        self._rules: dict[str, CompiledRule] = {}
        self._lock = threading.RLock()
        self._local = threading.local()
        self._inbox: deque[Callable[[], None]] = deque()
        self._last_clock: tuple[float, float] | None = None
        self._last_persist = 0.0
        self._dirty = False
        self.effects = Effects(services, self.store, self.publish)
        self._sample: Sample | None = None

    # -- rules -------------------------------------------------------------------------------------------
    @property
    def rules(self) -> dict[str, CompiledRule]:
        return dict(self._rules)

    def load(self) -> LoadResult:
        """Validate every rule file, then swap the new rule set in at once. Unchanged rules keep their live
        state; a rule that fails validation keeps running its previous version if it had one."""
        result = load_rules(self.rule_paths, self.catalog, missing_ok=True)
        saved = self.store.load_states()
        with self._entered():
            new: dict[str, CompiledRule] = {}
            for loaded in result.rules:
                old = self._rules.get(loaded.rule.id)
                if old is not None and old.loaded.digest == loaded.digest:
                    old.loaded = loaded
                    new[loaded.rule.id] = old
                    continue
                compiled = compile_rule(loaded)
                if old is not None:
                    compiled.take_state(old)
                elif loaded.rule.id in saved:
                    compiled.restore(saved[loaded.rule.id][1])
                new[loaded.rule.id] = compiled
            for rule_id, _problems in result.invalid.items():
                if rule_id in self._rules and rule_id not in new:
                    new[rule_id] = self._rules[rule_id]
                    result.kept.append(rule_id)
                    _LOGGER.warning("rule %s is invalid now; its previous version keeps running", rule_id)
            broken = result.broken_files
            for rule_id, old in self._rules.items():  # a file that no longer parses: keep all its rules
                if rule_id not in new and str(old.loaded.file) in broken:
                    new[rule_id] = old
                    result.kept.append(rule_id)
                    _LOGGER.warning("%s cannot be read now; rule %s keeps running its previous version",
                                    old.loaded.file, rule_id)
            self._rules = new
            self.problems = result.problems
            self._dirty = True
        for problem in result.problems:
            (_LOGGER.warning if problem.severity == "warning" else _LOGGER.error)("rule problem: %s", problem)
        return result

    def reload(self) -> LoadResult:
        result = self.load()
        self.publish(Notice("rules.reloaded", {"rules": len(self._rules), "errors": len(result.errors)},
                            source="automation"))
        return result

    # -- ticks -------------------------------------------------------------------------------------------
    def pause(self) -> None:
        """Stop firing rules (every kind of trigger) until `resume()`."""
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    def tick(self, sample: Sample | None = None) -> None:
        """One evaluation of every tick-driven trigger against one shared sample, then pending work."""
        if self.paused:
            return
        with self._entered():
            now, mono = self.clock.time(), self.clock.monotonic()
            slept = self._check_sleep(now, mono)
            self._sample = sample or self.collector.sample()
            ctx = TickContext(now, self.tz, self._sample, self.tick_s, slept)
            for rule in list(self._rules.values()):
                if rule.rule.enabled:
                    self._guard(rule, self._tick_rule, rule, ctx)
            self._advance(now)
            self.ticks += 1
            self._persist(now)
            self._sample = None

    def advance(self) -> None:
        """Resume runs whose delay is over and fire debounced file triggers (between ticks)."""
        with self._entered():
            self._advance(self.clock.time())

    def _check_sleep(self, now: float, mono: float) -> bool:
        last, self._last_clock = self._last_clock, (now, mono)
        if last is None:
            return False
        gap = (now - last[0]) - (mono - last[1])  # the monotonic clock stops while the machine sleeps
        if gap > max(30.0, 2 * self.tick_s):
            _LOGGER.info("resumed from sleep (about %.0f s)", gap)
            self.publish(Notice("agent.resumed", {"slept_s": round(gap)}, source="automation"))
            return True
        return False

    def _tick_rule(self, rule: CompiledRule, ctx: TickContext) -> None:
        for trig in rule.triggers:
            if isinstance(trig, FileRuntime):
                continue  # flushed in _advance
            for edge in trig.on_tick(ctx):
                self._dirty = True
                if edge.what == "fire":
                    self._fire(rule, edge.info, ctx.now, stateful=trig.kind in ("metric", "process"))
                else:
                    self._cleared(rule, edge.info, ctx.now)
        firing = rule.firing_triggers()
        repeat = rule.rule.repeat
        if repeat and firing and now_minus(ctx.now, rule.last_attempt) >= repeat:
            trig = firing[0]
            info = trig.repeat_info(ctx) if isinstance(trig, MetricRuntime) else trig.info(
                value=trig.state.get("count"), count=trig.state.get("count"))
            info.vars["repeat"] = True
            self._fire(rule, info, ctx.now, stateful=True)

    def _guard(self, rule: CompiledRule, fn: Callable[..., Any], *args: Any) -> None:
        """A rule's failure stays with that rule: logged, counted, and the engine goes on."""
        try:
            fn(*args)
        except Exception as exc:
            _LOGGER.exception("rule %s failed", rule.id)
            rule.errors += 1
            rule.last_error = f"{exc.__class__.__name__}: {exc}"
            self.errors += 1

    # -- firing ------------------------------------------------------------------------------------------
    def _context(self, now: float, info: TriggerInfo | None) -> EvalContext:
        sample = self._sample or self.collector.sample()
        self._sample = sample
        return EvalContext(datetime.fromtimestamp(now, self.tz), sample, self.system, info)

    def _trace(self, rule: CompiledRule, info: TriggerInfo, now: float, sequence: str = "actions",
               dry_run: bool = False) -> Trace:
        return Trace(rule.id, now, {"kind": info.kind, "index": info.index, "id": info.id,
                                    "values": _json_safe(info.vars)}, sequence=sequence, dry_run=dry_run)

    def _fire(self, rule: CompiledRule, info: TriggerInfo, now: float, *, stateful: bool = False,
              force: bool = False, dry_run: bool = False) -> Trace:
        ctx = self._context(now, info)
        ok = rule.check(ctx)
        trace = self._trace(rule, info, now, dry_run=dry_run)
        trace.conditions = ctx.trace
        if stateful:
            rule.last_attempt = now
        if not ok and not force:
            trace.result, trace.finished = "conditions_failed", now
            self._save_trace(trace)
            return trace
        if force and not ok:
            trace.conditions.append({"path": "conditions", "condition": "ignored for a manual run", "result": True})
        if stateful:
            rule.active = True
        rule.fired += 1
        values = {**rule.rule.variables, "rule": rule.id, "alias": rule.rule.alias or rule.id, **info.vars,
                  SAMPLE_KEY: self._sample or self._context(now, info).sample}
        self._start(rule, rule.rule.actions, "actions", values, trace, now, dry_run=dry_run)
        return trace

    def _cleared(self, rule: CompiledRule, info: TriggerInfo, now: float) -> None:
        if rule.firing_triggers():
            return  # another trigger of this rule is still firing
        was_active, rule.active = rule.active, False
        if not was_active or not rule.rule.on_clear:
            return
        trace = self._trace(rule, info, now, sequence="on_clear")
        values = {**rule.rule.variables, "rule": rule.id, "alias": rule.rule.alias or rule.id, **info.vars,
                  SAMPLE_KEY: self._sample or self._context(now, info).sample}
        self._launch(rule, rule.rule.on_clear, "on_clear", values, trace, now, False)

    def _start(self, rule: CompiledRule, actions: list[Any], sequence: str, values: dict[str, Any], trace: Trace,
               now: float, *, dry_run: bool = False) -> None:
        live = rule.live_runs()
        mode, most = rule.rule.mode, rule.rule.max
        if live and mode == "single":
            trace.result, trace.finished = "skipped: a run is in progress (mode single)", now
            self._save_trace(trace)
            return
        if live and mode == "restart":
            for run in live:
                run.frames.clear()
                run.done = True
                run.trace.result, run.trace.finished = "restarted", now
                self._save_trace(run.trace)
            rule.runs = []
        if live and mode == "queued":
            if len(rule.queue) >= most:
                trace.result, trace.finished = f"dropped: {most} runs already queued", now
                self._save_trace(trace)
            else:
                rule.queue.append(Pending(TriggerInfo("queued", -1), trace, values))
            return
        if mode == "parallel" and len(live) >= most:
            trace.result, trace.finished = f"dropped: {most} runs already in progress", now
            self._save_trace(trace)
            return
        self._launch(rule, actions, sequence, values, trace, now, dry_run)

    def _launch(self, rule: CompiledRule, actions: list[Any], sequence: str, values: dict[str, Any], trace: Trace,
                now: float, dry_run: bool) -> None:
        run = Run.start(rule.id, actions, sequence, values, trace, quiet=self._quiet(rule, now), dry_run=dry_run)
        rule.runs.append(run)
        rule.last_run = now
        self._step(rule, run, now)

    def _step(self, rule: CompiledRule, run: Run, now: float) -> None:
        info = TriggerInfo(run.trace.trigger.get("kind", ""), run.trace.trigger.get("index", -1),
                           run.trace.trigger.get("id"), run.values)
        step_run(run, self.effects, now, rule.checkers, lambda: self._context(now, info))
        if run.wake_at is not None and self.on_wake is not None:
            self.on_wake(run.wake_at)
        if run.done:
            rule.runs = [r for r in rule.runs if r is not run]
            if run.trace.result == "error":
                rule.errors += 1
                rule.last_error = run.trace.steps[-1].detail if run.trace.steps else "error"
            self._save_trace(run.trace)
            if rule.queue and not rule.live_runs():
                pending = rule.queue.popleft()
                self._launch(rule, rule.rule.actions, "actions", pending.values, pending.trace, now, False)

    def _advance(self, now: float) -> None:
        for rule in list(self._rules.values()):
            for trig in rule.triggers:
                if isinstance(trig, FileRuntime) and rule.rule.enabled:
                    ctx = TickContext(now, self.tz, self._sample or Sample.fixed({}), self.tick_s)
                    for edge in trig.on_tick(ctx):
                        self._guard(rule, self._fire, rule, edge.info, now)
            for run in list(rule.runs):
                if not run.done and run.wake_at is not None and run.wake_at <= now:
                    self._guard(rule, self._step, rule, run, now)

    def _quiet(self, rule: CompiledRule, now: float) -> bool:
        if self.system.do_not_disturb():
            return True
        q = rule.rule.quiet_hours
        if q is None:
            return False
        dt = datetime.fromtimestamp(now, self.tz)
        from agent.automation.schema import WEEKDAYS

        if q.weekday and WEEKDAYS[dt.weekday()] not in q.weekday:
            return False
        return in_time_window(dt.time(), q.after, q.before)

    # -- signals from outside: events, hotkeys, voice, files, manual runs ------------------------------
    def attach(self) -> Callable[[], None]:
        """Listen to `Notice` events on the bus (event triggers); returns the detach function."""

        def on_notice(event: Any) -> None:
            if isinstance(event, Notice):
                self.fire_event(event.name, dict(event.data))

        return self.services.bus.subscribe(Notice, on_notice)

    def fire_event(self, name: str, data: dict[str, Any] | None = None) -> list[str]:
        """Fire every `event` trigger matching `name` (and its `data` filter); returns the rule ids."""
        return self._signal(EventRuntime, lambda t: t.match(name, data or {}))

    def fire_hotkey(self, combo: str) -> list[str]:
        """For the hotkey input (another part of the agent): fire rules with this `hotkey` trigger."""
        return self._signal(HotkeyRuntime, lambda t: t.match(combo))

    def fire_voice(self, text: str) -> list[str]:
        """For the voice input: fire rules whose `voice` template matches `text`; [] means not handled."""
        return self._signal(VoiceRuntime, lambda t: t.match(text))

    def hotkeys(self) -> dict[str, list[str]]:
        """Key combination -> rule ids, for the hotkey input to grab."""
        out: dict[str, list[str]] = {}
        for rule in self._rules.values():
            for t in rule.triggers:
                if isinstance(t, HotkeyRuntime) and rule.rule.enabled:
                    out.setdefault(t.spec.hotkey, []).append(rule.id)
        return out

    def _signal(self, kind: type[Any], match: Callable[[Any], TriggerInfo | None]) -> list[str]:
        fired: list[str] = []
        if self.paused:
            return fired

        def work() -> None:
            now = self.clock.time()
            for rule in list(self._rules.values()):
                if not rule.rule.enabled:
                    continue
                for trig in rule.triggers:
                    info = match(trig) if isinstance(trig, kind) else None
                    if info is not None:
                        fired.append(rule.id)
                        self._guard(rule, self._fire, rule, info, now)
                        break

        if getattr(self._local, "inside", False):
            self._inbox.append(work)  # raised by one of our own actions: run it once the current step is done
            return fired
        with self._entered():
            work()
        return fired

    def file_event(self, path: str, event: str) -> None:
        """A file system event (from watchdog); matching `file` triggers fire after their debounce."""
        with self._entered():
            now = self.clock.time()
            for rule in self._rules.values():
                for trig in rule.triggers:
                    if isinstance(trig, FileRuntime) and trig.offer(path, event, now):
                        due = trig.due_at()
                        if due is not None and self.on_wake is not None:
                            self.on_wake(due)

    def run_rule(self, rule_id: str, *, dry_run: bool = False) -> Trace:
        """Run a rule's actions now (conditions are evaluated and shown, not enforced)."""
        with self._entered():
            rule = self._rules.get(rule_id)
            if rule is None:
                raise KeyError(rule_id)
            now = self.clock.time()
            values: dict[str, Any] = {"trigger": "manual", "value": "", "metric": "", "duration": "0 seconds"}
            metric = next((t for t in rule.triggers if isinstance(t, MetricRuntime)), None)
            if metric is not None:  # show the metric's current reading in `{value}`
                sample = self._context(now, None).sample
                reading = sample.get(metric.spec.metric)
                values.update(sample.extra.get(metric.spec.metric, {}), metric=metric.spec.metric,
                              value=reading if reading is not None else "n/a")
            return self._fire(rule, TriggerInfo("manual", -1, None, values), now, force=True, dry_run=dry_run)

    def busy(self) -> bool:
        return any(r.live_runs() or r.queue for r in self._rules.values())

    def next_wake(self) -> float | None:
        times = [r.wake_at for rule in self._rules.values() for r in rule.live_runs() if r.wake_at is not None]
        return min(times) if times else None

    def publish(self, event: Any) -> None:
        """Publish on the bus; what it triggers in this engine runs after the current step."""
        self.services.bus.publish(event)

    # -- state -------------------------------------------------------------------------------------------
    def _save_trace(self, trace: Trace) -> None:
        try:
            self.store.add_trace(trace.rule_id, trace.to_json())
        except Exception:
            _LOGGER.exception("could not store the trace of %s", trace.rule_id)

    def _persist(self, now: float, force: bool = False) -> None:
        if not (force or (self._dirty and now - self._last_persist >= 1.0) or now - self._last_persist
                >= _PERSIST_EVERY_S):
            return
        self.store.save_states({r.id: (r.loaded.digest, r.state_json()) for r in self._rules.values()})
        self._last_persist, self._dirty = now, False

    def save(self) -> None:
        with self._entered():
            self._persist(self.clock.time(), force=True)

    def status(self) -> list[dict[str, Any]]:
        out = []
        for rule in sorted(self._rules.values(), key=lambda r: r.id):
            out.append({"id": rule.id, "alias": rule.rule.alias, "enabled": rule.rule.enabled,
                        "mode": rule.rule.mode, "file": str(rule.loaded.file), "line": rule.loaded.line,
                        "triggers": [t.kind for t in rule.triggers], "firing": bool(rule.firing_triggers()),
                        "active": rule.active, "fired": rule.fired, "last_run": rule.last_run,
                        "running": len(rule.live_runs()), "queued": len(rule.queue), "errors": rule.errors,
                        "last_error": rule.last_error})
        return out

    @contextmanager
    def _entered(self) -> Iterator[None]:
        """The engine lock; signals raised by our own actions wait in the inbox and run before we leave."""
        with self._lock:
            outer = not getattr(self._local, "inside", False)
            self._local.inside = True
            try:
                yield
                while outer and self._inbox:
                    self._inbox.popleft()()
            finally:
                if outer:
                    self._local.inside = False


def now_minus(now: float, then: float | None) -> float:
    return float("inf") if then is None else now - then
