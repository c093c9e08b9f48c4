"""The resident agent. With only the core built, it runs the text prompt loop on the terminal."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from agent.events import Alert, Event
from agent.pipeline import Pipeline
from agent.services import Services

__all__ = ["run_agent"]

_LOGGER = logging.getLogger(__name__)


def run_agent(services: Services, stdin: TextIO | None = None) -> int:
    from agent.automation import start_automation, stop_automation
    from agent.scheduling import start_scheduler, stop_scheduler

    detach = services.bus.subscribe(Alert, _print_alert)  # before the start: late reminders fire at once
    try:
        start_scheduler(services)  # timers and reminders fire here, also those set by `agent ask`
        start_automation(services)  # rules: health checks, the daily security scan, the user's own
        return _prompt_loop(services, stdin)
    finally:
        detach()
        stop_automation(services)
        stop_scheduler(services)


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
