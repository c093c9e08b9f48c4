"""The resident agent (`agent run`): one process that starts every component, then serves its faces until asked
to stop.

    threads   main: the tray icon's event loop (desktop) or a wait (headless) · terminal-prompt: stdin lines
              (when stdin is a terminal or a pipe) · ui-worker: prompt-window turns · tk: the prompt window ·
              notifier: desktop notifications · each component's own (schedulers, hotkeys, voice, API)
    turns     every text turn (terminal, prompt window) runs under one pipeline lock, off the UI threads
    stopping  Quit in the tray, 'quit' or end of input on the terminal, SIGTERM, SIGINT or SIGHUP: the turn in
              flight finishes, then the components stop in reverse order (each flushes its own state)
    one only  an exclusive lock in the data directory: a second `agent run` exits with a clear message

Modes (`choose_mode`, a pure function): with a display and `ui.tray` on, the desktop face (tray icon, hotkey
prompt); without one, headless (rules, scheduler, voice and the API still run). The terminal prompt runs
whenever stdin is a terminal or a pipe; with stdin at /dev/null (autostart) the agent waits for a signal.
"""

from __future__ import annotations

import contextlib
import importlib
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

from agent.errors import StoreError
from agent.events import Alert, Event
from agent.instance import InstanceLock
from agent.pipeline import Pipeline
from agent.services import Services

__all__ = ["COMPONENTS", "Mode", "choose_mode", "has_display", "in_interactive_turn", "interactive_turn",
           "pipeline_lock", "run_agent", "start_components", "stdin_kind", "stop_components"]

_LOGGER = logging.getLogger(__name__)


# The resident components, started in order and stopped in reverse. Each entry names two functions
# `start(services) -> None` and `stop(services) -> None` as "module:function". A component that fails to start
# is logged and announced as an Alert; the others keep running (degrade, never die).
COMPONENTS: list[tuple[str, str, str]] = [
    ("notifications", "agent.notify:start_notifications", "agent.notify:stop_notifications"),  # alerts -> desktop
    ("scheduler", "agent.scheduling:start_scheduler", "agent.scheduling:stop_scheduler"),  # timers, reminders
    ("automation", "agent.automation:start_automation", "agent.automation:stop_automation"),  # rules, scans
    ("files", "agent.files.resident:start_files", "agent.files.resident:stop_files"),  # watcher, index jobs
    ("voice", "agent.speech.service:start_voice", "agent.speech.service:stop_voice"),  # microphone, speech replies
    ("api", "agent.api.server:start_api", "agent.api.server:stop_api"),  # local HTTP API, live events, metrics
    ("desktop", "tray:start_desktop", "tray:stop_desktop"),  # tray icon, hotkey prompt (only with a display)
]

_LOCK_KEY = "pipeline.lock"
_STOP_WAIT_S = 15.0
_interactive = threading.local()


def _resolve(ref: str) -> Callable[[Services], None]:
    module, _, name = ref.partition(":")
    fn: Callable[[Services], None] = getattr(importlib.import_module(module), name)
    return fn


def start_components(services: Services) -> list[str]:
    """Start every component; return the names that started.

    A component that cannot start raises, or (when it announced why itself) records the reason in
    `services.shared["unavailable"][name]`; either way it is left out of the list and the agent runs on."""
    started = []
    unavailable: dict[str, str] = services.shared.setdefault("unavailable", {})
    for name, start, _stop in COMPONENTS:
        t0 = time.perf_counter()
        try:
            _resolve(start)(services)
        except Exception as exc:
            if isinstance(exc, StoreError):  # a damaged store or a full disk: the message has the file and fix
                _LOGGER.warning("component %s is off: %s", name, exc)
            else:
                _LOGGER.exception("component %s failed to start; continuing without it", name)
            unavailable[name] = str(exc)
            services.bus.publish(Alert(f"{name} unavailable", f"{name} could not start: {exc}", "warning", "agent"))
            continue
        if name in unavailable:
            continue
        started.append(name)
        _LOGGER.info("component %s started in %.0f ms", name, (time.perf_counter() - t0) * 1000)
    return started


def stop_components(services: Services, started: list[str]) -> None:
    for name, _start, stop in reversed(COMPONENTS):
        if name in started:
            try:
                _resolve(stop)(services)
            except Exception:
                _LOGGER.exception("component %s failed to stop cleanly", name)


# -- turns -------------------------------------------------------------------------------------------------------
def pipeline_lock(services: Services) -> threading.RLock:
    """The lock every text turn of the resident agent holds: one request at a time through the pipeline."""
    lock: threading.RLock = services.shared.setdefault(_LOCK_KEY, threading.RLock())
    return lock


@contextlib.contextmanager
def interactive_turn(services: Services) -> Iterator[None]:
    """Hold the pipeline lock and mark this thread as answering a user who is looking at the reply (the
    terminal, the prompt window): a confirmation it raises needs no extra notification."""
    with pipeline_lock(services):
        _interactive.on = True
        try:
            yield
        finally:
            _interactive.on = False


def in_interactive_turn() -> bool:
    return bool(getattr(_interactive, "on", False))


# -- modes -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Mode:
    desktop: bool  # tray icon and hotkey prompt
    terminal: bool  # the text prompt on stdin/stdout


def has_display(system: str, env: dict[str, str]) -> bool:
    """A graphical session to put a tray icon in: always on macOS and Windows; X11 elsewhere (the tray and the
    hotkey use X; a Wayland session offers it through XWayland's DISPLAY)."""
    if system in ("Darwin", "Windows"):
        return True
    return bool(env.get("DISPLAY"))


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
        services.shared["shutdown"] = self.request_stop
        pipeline_lock(services)
        detach = services.bus.subscribe(Alert, _print_alert) if self.mode.terminal else None
        restore = self._handle_signals()
        started: list[str] = []
        try:
            started = start_components(services)  # late reminders fire at once: the alert printer is on
            self._announce(started)
            if self.mode.terminal:
                threading.Thread(target=self._terminal, name="terminal-prompt", daemon=True).start()
            desktop = services.shared.get("desktop")
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
            stop_components(services, started)
            services.shared.pop("shutdown", None)
            _LOGGER.info("agent stopped (%s)", self.reason or "done")

    def _announce(self, started: list[str]) -> None:
        try:
            import psutil

            ready_ms = (time.time() - psutil.Process().create_time()) * 1000
        except Exception:
            ready_ms = float("nan")
        face = "desktop" if "desktop" in self.services.shared else "headless"
        running = [name for name in started if name != "desktop" or face == "desktop"]
        line = f"agent ready in {ready_ms:.0f} ms ({face}; {', '.join(running) or 'no components'})"
        if off := self.services.shared.get("unavailable"):
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
        lock = pipeline_lock(self.services)
        if lock.acquire(timeout=_STOP_WAIT_S):
            lock.release()
        else:
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
    pipeline = Pipeline(services)
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
        with interactive_turn(services):
            outcome = pipeline.handle(text, source="prompt")
        out.write(outcome.result.reply + "\n")
        if outcome.result.confirmation:
            out.write("(say 'yes' to confirm, 'no' to cancel)\n")
        out.flush()
