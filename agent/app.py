"""The resident agent. With only the core built, it runs the text prompt loop on the terminal."""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Callable
from typing import TextIO

from agent.events import Alert, Event
from agent.pipeline import Pipeline
from agent.services import Services

__all__ = ["run_agent"]

_LOGGER = logging.getLogger(__name__)


# The resident components, started in order and stopped in reverse. Each entry names two functions
# `start(services) -> None` and `stop(services) -> None` as "module:function". A component that fails to start
# is logged and announced as an Alert; the others keep running (degrade, never die).
COMPONENTS: list[tuple[str, str, str]] = [
    ("scheduler", "agent.scheduling:start_scheduler", "agent.scheduling:stop_scheduler"),  # timers, reminders
    ("automation", "agent.automation:start_automation", "agent.automation:stop_automation"),  # rules, scans
    ("api", "agent.api.server:start_api", "agent.api.server:stop_api"),  # local HTTP API, live events, metrics
]


def _resolve(ref: str) -> Callable[[Services], None]:
    module, _, name = ref.partition(":")
    fn: Callable[[Services], None] = getattr(importlib.import_module(module), name)
    return fn


def start_components(services: Services) -> list[str]:
    """Start every component; return the names that started."""
    started = []
    for name, start, _stop in COMPONENTS:
        try:
            _resolve(start)(services)
            started.append(name)
        except Exception as exc:
            _LOGGER.exception("component %s failed to start; continuing without it", name)
            services.bus.publish(Alert(f"{name} unavailable", f"{name} could not start: {exc}", "warning", "agent"))
    return started


def stop_components(services: Services, started: list[str]) -> None:
    for name, _start, stop in reversed(COMPONENTS):
        if name in started:
            try:
                _resolve(stop)(services)
            except Exception:
                _LOGGER.exception("component %s failed to stop cleanly", name)


def run_agent(services: Services, stdin: TextIO | None = None) -> int:
    detach = services.bus.subscribe(Alert, _print_alert)  # before the start: late reminders fire at once
    started: list[str] = []
    try:
        started = start_components(services)
        return _prompt_loop(services, stdin)
    finally:
        detach()
        stop_components(services, started)


def _print_alert(event: Event) -> None:
    if isinstance(event, Alert):
        sys.stdout.write(f"[{event.title}] {event.message}\n")
        sys.stdout.flush()


def _prompt_loop(services: Services, stdin: TextIO | None = None) -> int:
    pipeline = Pipeline(services)
    stream = stdin or sys.stdin
    interactive = stream.isatty()
    out = sys.stdout
    out.write("agent ready: type a request (Ctrl-D or 'quit' to leave)\n")
    out.flush()
    _LOGGER.info("agent started (text prompt)")
    while True:
        if interactive:
            out.write("> ")
            out.flush()
        line = stream.readline()
        if not line:
            break
        text = line.strip()
        if not text:
            continue
        if text.lower() in ("quit", "exit"):
            break
        outcome = pipeline.handle(text, source="prompt")
        out.write(outcome.result.reply + "\n")
        if outcome.result.confirmation:
            out.write("(say 'yes' to confirm, 'no' to cancel)\n")
        out.flush()
    _LOGGER.info("agent stopped")
    return 0
