"""command.fix: suggestions from a real PATH directory (built by the test, so results do not depend on what
this machine has installed), the curated sub-command table, and Damerau-Levenshtein distance. Nothing runs."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from agent.events import ResultState
from agent.pipeline import Pipeline
from agent.services import Services
from agent.skills.fixcmd import distance, path_executables, suggest

PROGRAMS = ("git", "grep", "ls", "python", "python3", "ss", "sh", "nl", "su", "docker", "npm", "apt-get",
            "uptime", "touch", "make", "kubectl", "systemctl")


def _bin_dir(tmp_path: Path, names: tuple[str, ...] = PROGRAMS) -> Path:
    d = tmp_path / "bin"
    d.mkdir(exist_ok=True)
    for name in names:
        f = d / name
        f.write_text("#!/bin/sh\nexit 0\n")
        f.chmod(f.stat().st_mode | stat.S_IXUSR)
    (d / "README").write_text("not executable")
    return d


@pytest.fixture
def bin_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    path = str(_bin_dir(tmp_path))
    monkeypatch.setenv("PATH", path)
    return path


@pytest.mark.parametrize(("typed", "meant"), [
    ("git pus origin main", "git push origin main"),
    ("grpe error log.txt", "grep error log.txt"),
    ("sl -la", "ls -la"),
    ("pyhton", "python"),
    ("gti status", "git status"),
    ("dokcer ps", "docker ps"),
    ("npm isntall", "npm install"),
    ("sudo apt-get udpate", "sudo apt-get update"),
    ("systemctl restrat nginx", "systemctl restart nginx"),
    ("kubeclt get pods", "kubectl get pods"),
    ("make tset", "make test"),
    ("cd..", "cd .."),
    ("my command: git pus origin main", "git push origin main"),
])
def test_the_issue_examples(bin_path: str, typed: str, meant: str) -> None:
    fix = suggest(typed, bin_path)
    assert fix.suggestion == meant
    assert fix.candidates[0] == meant


def test_only_the_wrong_words_change_and_quoting_is_kept(bin_path: str) -> None:
    fix = suggest('git comit -m "fix the  bug"', bin_path)
    assert fix.suggestion == 'git commit -m "fix the  bug"'
    assert fix.changed == [("comit", "commit")]


def test_ties_go_to_the_more_common_command(bin_path: str) -> None:
    fix = suggest("sl", bin_path)  # ls, ss, sh, nl, su are all one edit away
    assert fix.candidates[0] == "ls"
    assert {"ss", "sh", "su"} <= set(fix.candidates)


def test_a_correct_command_is_left_alone(bin_path: str) -> None:
    fix = suggest("git push origin main", bin_path)
    assert fix.suggestion is None
    assert fix.installed


def test_a_program_not_installed_is_said_so(tmp_path: Path) -> None:
    path = str(_bin_dir(tmp_path, ("grep",)))
    fix = suggest("pyhton script.py", path)
    assert fix.suggestion == "python script.py"  # a common command, but not on this PATH
    assert not fix.installed


def test_nothing_close_is_unknown(bin_path: str) -> None:
    fix = suggest("qwzxvk --help", bin_path)
    assert fix.suggestion is None
    assert fix.unknown == "qwzxvk"


def test_damerau_levenshtein_distance() -> None:
    assert distance("grpe", "grep") == 1  # one transposition
    assert distance("pus", "push") == 1
    assert distance("kitten", "sitting") == 3
    assert distance("", "abc") == 3
    assert distance("abc", "abc") == 0
    assert distance("abcdef", "z", limit=2) == 3  # capped at limit + 1


def test_path_scan_is_cached_until_a_directory_changes(tmp_path: Path) -> None:
    d = _bin_dir(tmp_path, ("git",))
    first = path_executables(str(d))
    assert first == frozenset({"git"})  # README is not executable
    assert path_executables(str(d)) is first  # cached
    time.sleep(0.01)
    (d / "htop").write_text("#!/bin/sh\n")
    (d / "htop").chmod(0o755)
    os.utime(d, None)
    assert "htop" in path_executables(str(d))


def test_the_skill_never_runs_the_command(services: Services, bin_path: str, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    outcome = Pipeline(services).run_skill("command.fix", {"command": f"tuoch {marker}"})
    assert outcome.result.state is ResultState.OK
    assert outcome.result.reply == f"Did you mean: touch {marker}?"
    assert outcome.result.data["suggestion"] == f"touch {marker}"
    assert not marker.exists()
    assert list(services.audit.records()) == []  # nothing went through the executor either


def test_running_is_offered_only_for_allow_listed_commands(services: Services, bin_path: str) -> None:
    pipeline = Pipeline(services)
    allowed = pipeline.run_skill("command.fix", {"command": "uptiem"}).result
    assert allowed.data["runnable"] == {"command": "uptime", "args": {}}
    assert "run uptime" in allowed.reply
    other = pipeline.run_skill("command.fix", {"command": "grpe error log.txt"}).result
    assert other.reply == "Did you mean: grep error log.txt?"
    assert other.data["runnable"] is None
    assert other.data["candidates"] == ["grep error log.txt"]


def test_through_the_router(services: Services, bin_path: str) -> None:
    pipeline = Pipeline(services)
    outcome = pipeline.handle("fix my command: git pus origin main")
    assert outcome.intent.skill == "command.fix"
    assert outcome.result.reply == "Did you mean: git push origin main?"
    outcome = pipeline.handle("did I mean something else with grpe error log.txt")
    assert outcome.result.data["suggestion"] == "grep error log.txt"
