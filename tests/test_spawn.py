"""`agent.safety.spawn`, where every child process of the agent starts: real programs, no shell, a minimal
environment, and a timeout that stops the whole process group. And no other module starts processes."""

from __future__ import annotations

import ast
import os
import sys
import time
from pathlib import Path

import psutil
import pytest

from agent.safety import spawn

ROOT = Path(__file__).resolve().parents[1]


def test_run_feeds_stdin_caps_output_and_keeps_the_environment_minimal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_SECRET_TOKEN", "do-not-pass")
    done = spawn.run(["sh", "-c", 'cat; echo "[$AGENT_SECRET_TOKEN]"; echo oops >&2; exit 3'], timeout_s=10,
                     stdin=b"hello ", env={"EXTRA": "1"})
    assert (done.returncode, done.stdout, done.stderr, done.timed_out) == (3, b"hello []\n", b"oops\n", False)
    capped = spawn.run(["printf", "abcdef"], timeout_s=10, cap=4)
    assert (capped.stdout, capped.truncated) == (b"abcd", True)
    with pytest.raises(FileNotFoundError, match="no-such-program-here is not installed"):
        spawn.run(["no-such-program-here"], timeout_s=1)


def test_a_timeout_stops_the_whole_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    done = spawn.run(["sh", "-c", f"sleep 60 & echo $! > {pid_file}; wait"], timeout_s=1)
    assert done.timed_out
    child = int(pid_file.read_text())

    def gone() -> bool:
        try:
            return psutil.Process(child).status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    # SIGKILL went to the whole group; a loaded kernel may still be tearing the child down for a moment
    deadline = time.monotonic() + 5
    while not gone() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone()


def test_start_reports_an_early_exit_and_leaves_a_long_runner_alone() -> None:
    failed = spawn.start(["sh", "-c", "exit 4"], wait_s=5)
    assert failed.returncode == 4
    running = spawn.start(["sleep", "30"], wait_s=0.2)
    assert running.returncode is None
    proc = psutil.Process(running.pid)
    assert proc.status() != psutil.STATUS_ZOMBIE
    assert os.getsid(running.pid) == running.pid  # its own session: no terminal of ours
    proc.kill()


def test_agent_module_runs_this_copy_of_the_agent_and_not_a_stray_module(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "agent.py").write_text("raise SystemExit('a stray agent.py was imported')\n")
    monkeypatch.chdir(tmp_path)  # a folder with a stray module: the helper does not run there
    helper = spawn.agent_module("agent", "--version")
    assert helper.argv[:3] == [sys.executable, "-m", "agent"]
    done = spawn.run(helper.argv, timeout_s=120, env=helper.env, cwd=helper.cwd)
    assert done.returncode == 0, done.stderr
    assert helper.env.get("PYTHONPATH", str(ROOT)) == str(ROOT)


def test_no_module_outside_agent_safety_starts_processes() -> None:
    starters = {"subprocess", "os.system", "os.startfile", "os.popen", "os.execv", "os.spawnv", "pty.spawn",
                "asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell"}
    found = []
    for path in [*ROOT.glob("agent/**/*.py"), *ROOT.glob("tray/**/*.py")]:
        if path.parent.name == "safety" and path.parent.parent.name == "agent":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                found += [f"{path.relative_to(ROOT)}: import {n}" for n in names if n.split(".")[0] == "subprocess"]
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if f"{node.value.id}.{node.attr}" in starters:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value.id}.{node.attr}")
    assert found == []
