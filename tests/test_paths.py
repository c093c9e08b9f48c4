from __future__ import annotations

from pathlib import Path

from agent.paths import get_paths
from tests.conftest import run_cli


def test_agent_home_moves_every_directory(tmp_path: Path) -> None:
    p = get_paths({"AGENT_HOME": str(tmp_path)})
    for d in (p.config, p.data, p.cache, p.logs):
        assert tmp_path in d.parents


def test_without_agent_home_uses_per_user_os_directories() -> None:
    p = get_paths({})
    assert "ambient-agent" in str(p.data)
    assert "ambient-agent" in str(p.config)
    assert p.data != p.config


def test_cli_writes_nothing_to_the_current_directory(tmp_path: Path, agent_home: Path) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    result = run_cli("ask", "what time is it", cwd=cwd)
    assert result.returncode == 0, result.stderr
    assert list(cwd.iterdir()) == []
    assert (agent_home / "logs" / "agent.log").is_file()  # the rotating log file is where it should be
