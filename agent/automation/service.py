"""The engine on real time: an APScheduler `BackgroundScheduler` (its own, in memory) drives the ticks and wakes
delayed runs; watchdog reports rule-file changes (hot reload) and the folders `file` triggers watch.

Job errors never stop the scheduler: every job catches and logs, and a listener counts what slips through.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from agent.automation.engine import Engine
from agent.automation.loader import LoadResult
from agent.automation.triggers import FileRuntime
from agent.components import Stop, Unavailable
from agent.errors import StoreError
from agent.events import Alert, Notice

if TYPE_CHECKING:
    from agent.services import Services

__all__ = ["AutomationService", "start_automation"]

_LOGGER = logging.getLogger(__name__)
_RELOAD_DEBOUNCE_S = 1.0
_EXECUTOR = "automation"
# APScheduler logs every job run at INFO: a tick every 10 s would flood the agent's log
_QUIET = logging.getLogger("agent.automation.apscheduler")
_QUIET.setLevel(logging.WARNING)
logging.getLogger(f"apscheduler.executors.{_EXECUTOR}").setLevel(logging.WARNING)


class _Handler(FileSystemEventHandler):
    def __init__(self, service: AutomationService) -> None:
        self.service = service

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type not in ("created", "modified", "deleted", "moved"):
            return
        paths = [(str(event.src_path), "deleted" if event.event_type == "moved" else event.event_type)]
        if event.event_type == "moved":
            paths.append((str(event.dest_path), "created"))
        for path, kind in paths:
            try:
                self.service.on_file(path, kind)
            except Exception:
                _LOGGER.exception("file event %s %s failed", kind, path)


class AutomationService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(1), _EXECUTOR: ThreadPoolExecutor(2)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=engine.tz, logger=_QUIET,
        )
        self.scheduler.add_listener(self._on_error, EVENT_JOB_ERROR)
        self.job_errors = 0
        self._observer: Any = None
        self._reload_lock = threading.Lock()
        self._rule_dirs: list[Path] = []
        self._detach: Any = None
        self._lock = threading.Lock()

    def start(self) -> None:
        self._report(self.engine.load())
        self.engine.on_wake = self._wake_at
        self._detach = self.engine.attach()
        self.scheduler.add_job(self._tick, "interval", seconds=self.engine.tick_s, id="automation.tick",
                               next_run_time=datetime.now(self.engine.tz), executor=_EXECUTOR)
        self.scheduler.start()
        self._watch()
        _LOGGER.info("automation started: %d rules, tick every %g s", len(self.engine.rules), self.engine.tick_s)

    def stop(self) -> None:
        if self._detach is not None:
            self._detach()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        self.engine.save()
        _LOGGER.info("automation stopped")

    # -- jobs --------------------------------------------------------------------------------------------
    def _tick(self) -> None:
        try:
            self.engine.tick()
        except Exception:
            self.engine.errors += 1
            _LOGGER.exception("automation tick failed; the next tick runs as usual")

    def _advance(self) -> None:
        try:
            self.engine.advance()
        except Exception:
            self.engine.errors += 1
            _LOGGER.exception("automation wake-up failed")

    def _wake_at(self, ts: float) -> None:
        when = datetime.fromtimestamp(ts, self.engine.tz)
        if self.scheduler.running:
            self.scheduler.add_job(self._advance, "date", run_date=max(when, datetime.now(self.engine.tz)),
                                   id=f"automation.wake.{ts:.3f}", replace_existing=True, executor=_EXECUTOR)

    def _reload(self) -> None:
        try:
            with self._reload_lock:
                self._report(self.engine.reload())
                self._watch()
        except Exception:
            self.engine.errors += 1
            _LOGGER.exception("rule reload failed; the previous rules keep running")

    def _report(self, result: LoadResult) -> None:
        """Tell the user about rules that could not load (they are off; the others run)."""
        errors = result.errors
        if not errors:
            return
        rules = sorted({p.rule_id or p.file for p in errors})
        message = f"{len(errors)} problem(s) in {', '.join(rules)}; first: {errors[0]}."
        if result.kept:
            message += f" The last valid version of {', '.join(sorted(result.kept))} keeps running until it is fixed."
        message += " Run: agent rules check"
        self.engine.store.add_alert("automation", "Some rules could not load", message, "warning", True)
        self.engine.publish(Alert("Some rules could not load", message, "warning", source="automation"))

    def _on_error(self, event: JobExecutionEvent) -> None:
        self.job_errors += 1
        _LOGGER.error("automation job %s raised %r", event.job_id, event.exception)

    # -- watching files ------------------------------------------------------------------------------------
    def _watch(self) -> None:
        """(Re)watch the rule folders and every folder a `file` trigger names."""
        with self._lock:
            # The new observer starts before the old one stops, so a rule file written while the rules reload
            # is still seen by one of them (a gap here lost such edits).
            previous = self._observer
            observer = Observer()
            handler = _Handler(self)
            self._rule_dirs = [p if p.is_dir() else p.parent for p in self.engine.rule_paths]
            targets: dict[Path, bool] = {d: False for d in self._rule_dirs if d.is_dir()}
            for rule in self.engine.rules.values():
                for trig in rule.triggers:
                    if isinstance(trig, FileRuntime):
                        folder, recursive = trig.watch_dir()
                        if folder.is_dir():
                            targets[folder] = targets.get(folder, False) or recursive
                        else:
                            _LOGGER.warning("rule %s: %s does not exist; not watched", rule.id, folder)
            for folder, recursive in targets.items():
                observer.schedule(handler, str(folder), recursive=recursive)
            observer.daemon = True
            observer.start()
            self._observer = observer
            if previous is not None:
                previous.stop()
                previous.join(timeout=5)

    def on_file(self, path: str, kind: str) -> None:
        p = Path(path)
        if p.suffix in (".yaml", ".yml") and p.parent in self._rule_dirs and self.scheduler.running:
            # max_instances=2: an edit made while a reload runs gets its own reload (one instance would skip it);
            # the two run one after the other under `_reload_lock`.
            self.scheduler.add_job(self._reload, "date", id="automation.reload", replace_existing=True,
                                   run_date=datetime.now(self.engine.tz) + timedelta(seconds=_RELOAD_DEBOUNCE_S),
                                   executor=_EXECUTOR, max_instances=2)
        self.engine.file_event(path, kind)


def start_automation(services: Services) -> Stop | None:
    """Component start: the rule engine of the resident agent, as `services.automation`; returns its stop."""
    if not services.settings.automation.enabled:
        _LOGGER.info("automation is off in the config")
        return None
    (services.paths.config / "rules").mkdir(parents=True, exist_ok=True)
    try:
        service = AutomationService(Engine(services))
        service.start()
    except Exception as exc:  # the agent runs on without rules rather than not at all
        if isinstance(exc, StoreError):  # already logged once, with the file and the fix
            _LOGGER.warning("the automation engine could not start: %s", exc)
        else:
            _LOGGER.exception("the automation engine could not start")
        services.bus.publish(Alert("Rules off", f"Automation rules are off: {exc}", "warning", "automation"))
        raise Unavailable(str(exc)) from exc
    services.automation = service
    services.bus.publish(Notice("agent.started", {}, source="agent"))

    def stop() -> None:
        if services.automation is service:
            services.automation = None
        services.bus.publish(Notice("agent.stopped", {}, source="agent"))
        service.engine.advance()
        service.stop()

    return stop
