"""The resident agent (`agent run`): one process that starts every component, then serves its faces until asked
to stop.

    threads   main: the tray icon's event loop (desktop) or a wait (headless) · terminal-prompt: stdin lines
              (when stdin is a terminal or a pipe) · ui-worker: prompt-window turns · tk: the prompt window ·
              notifier: desktop notifications · each component's own (schedulers, hotkeys, voice, API)
    turns     every turn (terminal, prompt window, voice, API, rule actions) runs through the one pipeline
              (`services.pipeline()`), which lets one turn run at a time; UI threads hand turns to a worker
    stopping  Quit in the tray, 'quit' or end of input on the terminal, SIGTERM, SIGINT or SIGHUP: the turn in
              flight finishes, then the components stop in reverse order (each flushes its own state)
    one only  an exclusive lock in the data directory: a second `agent run` exits with a clear message

Modes (`choose_mode`, a pure function): with a display and `ui.tray` on, the desktop face (tray icon, hotkey
prompt); without one, headless (rules, scheduler, voice and the API still run). The terminal prompt runs
whenever stdin is a terminal or a pipe; with stdin at /dev/null (autostart) the agent waits for a signal.
"""

from __future__ import annotations

import logging
import os
import platform
import signal
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from agent.api.server import start_api
from agent.automation import start_automation
from agent.components import Component, Components, Stop
from agent.display import has_display
from agent.events import Alert, Event
from agent.files.resident import start_files
from agent.instance import InstanceLock
from agent.notify import start_notifications
from agent.scheduling import start_scheduler
from agent.services import Services

__all__ = ["COMPONENTS", "Mode", "choose_mode", "run_agent", "stdin_kind"]

_LOGGER = logging.getLogger(__name__)


def _voice(services: Services) -> Stop | None:
    from agent.speech.service import start_voice  # sounddevice loads PortAudio: only when the agent runs

    return start_voice(services)


def _desktop(services: Services) -> Stop | None:
    from tray import start_desktop  # pystray picks its backend at import: only when the agent runs

    return start_desktop(services)


# The resident components (the protocol: agent/components.py), started in order and stopped in reverse.
COMPONENTS: tuple[Component, ...] = (
    Component("notifications", start_notifications),  # alerts -> desktop notifications
    Component("scheduler", start_scheduler),  # timers, reminders
    Component("automation", start_automation),  # rules, health checks, security scans
    Component("files", start_files),  # folder watcher, background index jobs
    Component("voice", _voice),  # microphone, wake word, speech replies
    Component("api", start_api),  # local HTTP API, live events, metrics
    Component("desktop", _desktop),  # tray icon, hotkey prompt (only with a display)
)

_STOP_WAIT_S = 15.0


# -- modes -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Mode:
    desktop: bool  # tray icon and hotkey prompt
    terminal: bool  # the text prompt on stdin/stdout


def stdin_kind(stream: Any) -> str:
    """tty, pipe (a pipe, socket or file: lines to answer) or none (/dev/null, closed)."""
    if stream is None:
        return "none"
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return "pipe"  # a file-like object handed in (tests)
    try:
        if os.isatty(fd):
            return "tty"
        mode = os.fstat(fd).st_mode
    except OSError:
        return "none"
    return "pipe" if stat.S_ISFIFO(mode) or stat.S_ISREG(mode) or stat.S_ISSOCK(mode) else "none"


def choose_mode(*, system: str, env: dict[str, str], tray: bool, stdin: str) -> Mode:
    return Mode(desktop=tray and has_display(system, env), terminal=stdin in ("tty", "pipe"))


# -- the resident process ---------------------------------------------------------------------------------------
def run_agent(services: Services, stdin: TextIO | None = None) -> int:
    """Run until asked to stop; raises `AlreadyRunningError` if another agent holds the lock."""
    lock = InstanceLock(services.paths.data / "agent.lock").acquire()
    try:
        return _Resident(services, stdin).run()
    finally:
        lock.release()


class _Resident:
    def __init__(self, services: Services, stdin: TextIO | None) -> None:
        self.services = services
        self.stream: Any = stdin if stdin is not None else sys.stdin
        self.mode = choose_mode(system=platform.system(), env=dict(os.environ), tray=services.settings.ui.tray,
                                stdin=stdin_kind(self.stream))
        self.stop = threading.Event()
        self.reason = ""

    def request_stop(self, reason: str) -> None:
        if not self.stop.is_set():
            self.reason = reason
            _LOGGER.info("stopping: %s", reason)
            self.stop.set()

    def run(self) -> int:
        services = self.services
        services.shutdown = self.request_stop
        detach = services.bus.subscribe(Alert, _print_alert) if self.mode.terminal else None
        restore = self._handle_signals()
        components = Components(services)
        try:
            started = components.start(COMPONENTS)  # late reminders fire at once: the alert printer is on
            self._announce(started)
            if self.mode.terminal:
                threading.Thread(target=self._terminal, name="terminal-prompt", daemon=True).start()
            desktop = services.desktop
            if desktop is not None:
                desktop.run_main(self.stop)  # the tray's event loop, on this (main) thread
            while not self.stop.wait(5.0):
                pass
            return 0
        finally:
            restore()
            self._finish_turn()
            if detach is not None:
                detach()
            components.stop()
            services.shutdown = None
            _LOGGER.info("agent stopped (%s)", self.reason or "done")

    def _announce(self, started: list[str]) -> None:
        try:
            import psutil

            ready_ms = (time.time() - psutil.Process().create_time()) * 1000
        except Exception:
            ready_ms = float("nan")
        face = "desktop" if self.services.desktop is not None else "headless"
        line = f"agent ready in {ready_ms:.0f} ms ({face}; {', '.join(started) or 'no components'})"
        if off := self.services.unavailable:
            line += f"; not running: {', '.join(off)} (see the warnings above, or `agent doctor`)"
        _LOGGER.info("%s", line)
        if self.mode.terminal:
            line += ": type a request (Ctrl-D or 'quit' to leave)"
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def _handle_signals(self) -> Callable[[], None]:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        names = ["SIGTERM", "SIGINT", "SIGHUP"]
        saved: dict[int, Any] = {}
        for name in names:
            sig = getattr(signal, name, None)
            if sig is not None:
                saved[sig] = signal.signal(sig, lambda s, _f: self.request_stop(signal.Signals(s).name))

        def restore() -> None:
            for sig, handler in saved.items():
                signal.signal(sig, handler)

        return restore

    def _finish_turn(self) -> None:
        """Let a turn in flight finish (its skill may be writing), within reason."""
        if not self.services.pipeline().wait_idle(_STOP_WAIT_S):
            _LOGGER.warning("a request was still running after %g s; stopping anyway", _STOP_WAIT_S)

    def _terminal(self) -> None:
        try:
            _prompt_loop(self.services, self.stream, self.stop)
        except Exception:
            _LOGGER.exception("the terminal prompt failed")
        self.request_stop("end of terminal input")


def _print_alert(event: Event) -> None:
    if isinstance(event, Alert):
        sys.stdout.write(f"[{event.title}] {event.message}\n")
        sys.stdout.flush()


def _lines(stream: Any) -> Iterator[str]:
    """Lines from `stream`. The real stdin is read with os.read: a daemon thread blocked in the buffered reader
    would hold its lock when the interpreter exits."""
    if stream is not sys.stdin or not hasattr(stream, "fileno"):
        yield from iter(stream.readline, "")
        return
    fd, buf = stream.fileno(), b""
    while True:
        chunk = os.read(fd, 4096)
        if not chunk:
            if buf:
                yield buf.decode(errors="replace")
            return
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            yield line.decode(errors="replace") + "\n"


def _prompt_loop(services: Services, stream: Any, stop: threading.Event) -> None:
    pipeline = services.pipeline()
    interactive = stdin_kind(stream) == "tty"
    out = sys.stdout
    _LOGGER.info("terminal prompt on (%s)", "tty" if interactive else "pipe")
    lines = _lines(stream)
    while not stop.is_set():
        if interactive:
            out.write("> ")
            out.flush()
        line = next(lines, None)
        if line is None or stop.is_set():
            return
        text = line.strip()
        if not text:
            continue
        if text.lower() in ("quit", "exit"):
            return
        outcome = pipeline.handle(text, source="prompt", interactive=True)
        out.write(outcome.result.reply + "\n")
        if outcome.result.confirmation:
            out.write("(say 'yes' to confirm, 'no' to cancel)\n")
        out.flush()
