"""Tests never touch the real user's files: AGENT_HOME points every state directory at a tmp dir."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agent.config import load_settings
from agent.events import Alert, Event
from agent.paths import Paths, get_paths
from agent.services import Services, build_services


@pytest.fixture(autouse=True)
def agent_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in list(os.environ):
        if key.startswith("AGENT_"):
            monkeypatch.delenv(key)
    home = tmp_path / "agent-home"
    monkeypatch.setenv("AGENT_HOME", str(home))
    return home


@pytest.fixture
def paths(agent_home: Path) -> Paths:
    return get_paths().ensure()


@pytest.fixture
def services(paths: Paths) -> Services:
    return build_services(paths, load_settings(paths))


@pytest.fixture(scope="session")
def shared_services(tmp_path_factory: pytest.TempPathFactory) -> Services:
    """One set of resident models for the slow tests (loading them once keeps the suite fast)."""
    home = tmp_path_factory.mktemp("shared-home")
    paths = get_paths({"AGENT_HOME": str(home)}).ensure()
    return build_services(paths, load_settings(paths, env={"AGENT_HOME": str(home)}))


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
            stdin: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run `python -m agent ARGS` as a user would, in a subprocess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "agent", *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd, input=stdin, timeout=timeout, check=False)


def wait_for(predicate: Callable[[], bool], timeout: float = 15.0, every: float = 0.05) -> bool:
    """Poll `predicate` until it is true or `timeout` seconds pass (tests wait on results, not on sleeps)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()


@contextlib.contextmanager
def xvfb(screen: str = "640x480x24") -> Iterator[str]:
    """A real X server on a free display number (Xvfb picks it and writes it to our pipe); yields ":N"."""
    if shutil.which("Xvfb") is None:
        pytest.fail("Xvfb is needed (scripts/setup.sh installs it)")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-nolisten", "tcp", "-screen", "0", screen],
                            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as f:
        number = f.readline().strip()
    assert number, "Xvfb did not start"
    try:
        yield f":{number}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def alerts(services: Services) -> Iterator[list[Alert]]:
    """Every Alert published on the services' bus during the test."""
    seen: list[Alert] = []

    def on_alert(event: Event) -> None:
        assert isinstance(event, Alert)
        seen.append(event)

    detach = services.bus.subscribe(Alert, on_alert)
    yield seen
    detach()
