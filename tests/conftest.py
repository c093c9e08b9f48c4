"""Tests never touch the real user's files: AGENT_HOME points every state directory at a tmp dir."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.config import load_settings
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
