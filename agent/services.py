"""The resident agent in one typed object: what every face and skill shares (settings, paths, bus, audit,
executor, registry, models), what loads on first use (embedder, router, history, the pipeline), and the components
`agent run` starts (each a typed field, None while it is not running; see agent/components.py).

Built once per process by `build_services`; heavy parts (embedder, LLM) load lazily on first use and then stay
resident.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import psutil

from agent.bus import Bus
from agent.config import Settings, load_settings
from agent.errors import ModelError, StoreError
from agent.events import Alert
from agent.history import HistoryStore
from agent.models.catalog import embedder_files
from agent.models.embedder import Embedder
from agent.models.llm import ModelManager
from agent.paths import Paths, get_paths
from agent.router.router import Router
from agent.router.semantic import SemanticIndex
from agent.safety.audit import AuditLog
from agent.safety.commands import BUILTIN_COMMANDS
from agent.safety.confirm import ConfirmationStore
from agent.safety.executor import Executor
from agent.skills.base import SkillContext
from agent.skills.registry import Registry, load_registry

if TYPE_CHECKING:
    from agent.api.server import ApiServer
    from agent.automation.service import AutomationService
    from agent.files.resident import FilesComponent
    from agent.notify import Notifier
    from agent.pipeline import Pipeline
    from agent.scheduling.scheduler import AgentScheduler
    from agent.speech.service import VoiceService
    from tray.desktop import DesktopUI

__all__ = ["Services", "build_services"]

_LOGGER = logging.getLogger(__name__)


@dataclass(eq=False)  # compared and hashed by identity: skills keep per-agent state keyed by it (`PerAgent`)
class Services:
    paths: Paths
    settings: Settings
    bus: Bus
    audit: AuditLog
    confirmations: ConfirmationStore
    executor: Executor
    registry: Registry
    models: ModelManager
    clock: Callable[[], float] = time.time  # epoch seconds; tests inject a fixed clock
    idle: Callable[[], float | None] | None = None  # seconds since the last input; None: the desktop's own reading
    # the resident components (agent/components.py), each set by its own start while it runs
    notifier: Notifier | None = None
    scheduler: AgentScheduler | None = None
    automation: AutomationService | None = None
    files: FilesComponent | None = None
    voice: VoiceService | None = None
    api: ApiServer | None = None
    desktop: DesktopUI | None = None
    unavailable: dict[str, str] = field(default_factory=dict)  # component name -> why it is not running
    shutdown: Callable[[str], None] | None = None  # asks the resident agent to stop (the tray's Quit), with a reason
    _pipeline: Pipeline | None = None
    _router: Router | None = None
    _embedder: Embedder | None = None
    _embedder_error: ModelError | None = None
    _history: HistoryStore | None = None
    history_error: StoreError | None = None  # why history is off although enabled (announced once)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _router_lock: threading.Lock = field(default_factory=threading.Lock)

    def embedder(self) -> Embedder:
        """The sentence-embedding model, loaded once; raises `ModelError` if it cannot load."""
        with self._lock:
            if self._embedder is None:
                if self._embedder_error is not None:
                    raise self._embedder_error
                try:
                    model, tok = embedder_files(self.settings)
                    threads = self.settings.embedder.threads or psutil.cpu_count(logical=False) or 1
                    self._embedder = Embedder(model, tok, threads=threads)
                except ModelError as exc:
                    self._embedder_error = exc
                    raise
            return self._embedder

    def history(self) -> HistoryStore | None:
        """The encrypted conversation store; None when history is off in config, or when its file cannot be used
        (`history_error` says why; announced once). History never fails a request."""
        if not self.settings.history.enabled:
            return None
        with self._lock:
            was_off = self.history_error is not None
            if self._history is None and self.history_error is None:
                try:
                    self._history = HistoryStore(self.paths, max_turns=self.settings.history.max_turns)
                except StoreError as exc:
                    self.history_error = exc
                except OSError as exc:  # the key file cannot be written (a full disk, permissions)
                    self.history_error = StoreError(
                        f"the history key cannot be stored ({exc}).", path=self.paths.config / "history.key",
                        problem="unavailable", fix=f"free space or fix permissions in {self.paths.config}.")
            if self._history is not None and self._history.broken is not None and self.history_error is None:
                self.history_error = self._history.broken
            error = self.history_error
        if error is not None and not was_off:  # announced once, outside the lock (subscribers may call back)
            _LOGGER.warning("conversation history is off until %s is fixed; requests still work", error.path)
            self.bus.publish(Alert("History off", f"Conversation history is off: {error}", "warning", "history"))
        return None if error is not None else self._history

    def router(self) -> Router:
        with self._router_lock:  # the first call loads models; two threads must not both build one
            return self._build_router()

    def _build_router(self) -> Router:
        if self._router is None:
            semantic = None
            try:
                examples = {s.name: list(s.examples) for s in self.registry if s.examples}
                semantic = SemanticIndex(self.embedder(), examples)
            except ModelError as exc:
                _LOGGER.warning("semantic routing off: %s", exc)
            self._router = Router(self.settings, self.registry, self.models, semantic)
            history = self.history()
            if history is not None:
                self._router.restore_context(history.recent(1, within_s=self.settings.history.follow_up_s))
        return self._router

    def pipeline(self) -> Pipeline:
        """The process's one pipeline: every caller (CLI, prompt window, voice, API, rule actions, tray) runs its
        turns through it, and it owns the one-turn-at-a-time lock."""
        with self._lock:
            if self._pipeline is None:
                from agent.pipeline import Pipeline

                self._pipeline = Pipeline(self)
            return self._pipeline

    def context(self, utterance: str = "", *, yes: bool = False, dry_run: bool = False,
                confirmation: str | None = None) -> SkillContext:
        return SkillContext(self, utterance, yes, dry_run, confirmation)


def _register_actions(executor: Executor, registry: Registry) -> None:
    """Allow-list the in-process actions (signal a process, write the clipboard, ...): the agent's own (rule
    commands, autostart), then each skill's `actions` hook (one call per hook: a family shares one)."""
    from agent import autostart
    from agent.automation import commands

    commands.register_actions(executor)
    autostart.register_actions(executor)
    seen: list[object] = []
    for skill in registry:
        if skill.actions is not None and not any(skill.actions is hook for hook in seen):
            seen.append(skill.actions)
            skill.actions(executor)


def build_services(paths: Paths | None = None, settings: Settings | None = None) -> Services:
    paths = (paths or get_paths()).ensure()
    settings = settings or load_settings(paths)
    audit = AuditLog(paths.audit_log, paths.config / "audit.key")
    confirmations = ConfirmationStore(paths.data / "confirmations.json", audit, settings.executor.confirmation_ttl_s)
    commands = [*BUILTIN_COMMANDS, *settings.commands]
    executor = Executor(settings.executor, commands, audit, confirmations)
    registry = load_registry()
    _register_actions(executor, registry)
    return Services(paths, settings, Bus(), audit, confirmations, executor, registry, ModelManager(settings))
