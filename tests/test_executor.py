"""The one executor: allow-list, argv only (never a shell), validation, confirmation binding and expiry,
timeout, output cap, and the audit chain. Runs real processes."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from agent.config import ArgSpec, CommandSpec, ExecutorSettings
from agent.events import ResultState
from agent.safety.audit import AuditLog
from agent.safety.confirm import ConfirmationStore
from agent.safety.executor import ActionOutput, Executor


def _executor(tmp_path: Path, *specs: CommandSpec, ttl: float = 60.0, **settings: float) -> Executor:
    audit = AuditLog(tmp_path / "audit.jsonl")
    store = ConfirmationStore(tmp_path / "pending.json", audit, ttl)
    return Executor(ExecutorSettings(**settings), list(specs), audit, store)


ECHO = CommandSpec(id="echo", argv=["echo", "{text}"], args={"text": ArgSpec(type="str")})
TOUCH = CommandSpec(id="touch", argv=["touch", "{path}"], args={"path": ArgSpec(type="path")}, destructive=True)


def _events(ex: Executor) -> list[str]:
    return [r["event"] for r in ex.audit.records()]


def test_unknown_command_is_refused_and_audited(tmp_path: Path) -> None:
    ex = _executor(tmp_path, ECHO)
    result = ex.run("rm", {"path": "/"})
    assert result.state is ResultState.REFUSED
    assert "allow-list" in result.message
    assert _events(ex) == ["exec.refused"]


def test_arguments_are_one_argv_element_never_a_shell(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    ex = _executor(tmp_path, ECHO)
    hostile = f"hi; touch {marker} && echo $(id) `id` | cat"
    result = ex.run("echo", {"text": hostile})
    assert result.state is ResultState.OK
    assert result.stdout == hostile + "\n"  # printed literally: no shell ever saw it
    assert not marker.exists()


@pytest.mark.parametrize(
    ("spec", "args", "message"),
    [
        (ECHO, {"text": "-n"}, "may not start with '-'"),
        (ECHO, {}, "missing argument"),
        (ECHO, {"text": "a", "extra": "b"}, "unknown argument"),
        (ECHO, {"text": "line\nbreak"}, "control characters"),
        (CommandSpec(id="n", argv=["echo", "{n}"], args={"n": ArgSpec(type="int", min=1, max=5)}), {"n": 9},
         "between 1 and 5"),
        (CommandSpec(id="c", argv=["echo", "{c}"], args={"c": ArgSpec(type="choice", choices=["a", "b"])}),
         {"c": "z"}, "one of a, b"),
        (CommandSpec(id="p", argv=["echo", "{p}"], args={"p": ArgSpec(type="str", pattern="[a-z]+")}),
         {"p": "abc1"}, "does not match"),
    ],
)
def test_argument_validation(tmp_path: Path, spec: CommandSpec, args: dict[str, object], message: str) -> None:
    ex = _executor(tmp_path, spec)
    result = ex.run(spec.id, args)
    assert result.state is ResultState.REFUSED
    assert message in result.message


def test_destructive_needs_confirmation_and_runs_only_once_confirmed(tmp_path: Path) -> None:
    target = tmp_path / "made"
    ex = _executor(tmp_path, TOUCH)
    first = ex.run("touch", {"path": str(target)})
    assert first.state is ResultState.NEEDS_CONFIRMATION
    assert first.confirmation
    assert not target.exists()
    done = ex.run("touch", {"path": str(target)}, confirmation=first.confirmation)
    assert done.state is ResultState.OK
    assert target.exists()
    again = ex.run("touch", {"path": str(target)}, confirmation=first.confirmation)
    assert again.state is ResultState.REFUSED  # a confirmation is used once
    assert _events(ex) == ["confirmation.asked", "confirmation.granted", "exec.run"]


def test_confirmation_is_bound_to_the_exact_action(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    ex = _executor(tmp_path, TOUCH)
    asked = ex.run("touch", {"path": str(a)})
    other = ex.run("touch", {"path": str(b)}, confirmation=asked.confirmation)
    assert other.state is ResultState.REFUSED
    assert "different action" in other.message
    assert not b.exists()
    assert "confirmation.mismatch" in _events(ex)
    assert ex.run("touch", {"path": str(a)}, confirmation=asked.confirmation).state is ResultState.OK


def test_confirmation_expires(tmp_path: Path) -> None:
    target = tmp_path / "late"
    ex = _executor(tmp_path, TOUCH, ttl=0.2)
    asked = ex.run("touch", {"path": str(target)})
    time.sleep(0.3)
    late = ex.run("touch", {"path": str(target)}, confirmation=asked.confirmation)
    assert late.state is ResultState.REFUSED
    assert "expired" in late.message
    assert not target.exists()
    assert "confirmation.expired" in _events(ex)


def test_refusal_is_audited(tmp_path: Path) -> None:
    ex = _executor(tmp_path, TOUCH)
    asked = ex.run("touch", {"path": str(tmp_path / "x")})
    assert asked.confirmation is not None
    ex.confirmations.refuse(asked.confirmation)
    assert _events(ex)[-1] == "confirmation.refused"


def test_timeout_kills_the_process(tmp_path: Path) -> None:
    spec = CommandSpec(id="sleep", argv=["sleep", "30"], timeout_s=0.5)
    ex = _executor(tmp_path, spec)
    started = time.monotonic()
    result = ex.run("sleep")
    assert time.monotonic() - started < 10
    assert result.state is ResultState.ERROR
    assert "timed out" in result.message
    assert json.loads(ex.audit.path.read_text().splitlines()[-1])["data"]["timed_out"] is True


def test_output_is_capped(tmp_path: Path) -> None:
    spec = CommandSpec(id="seq", argv=["seq", "1", "200000"])
    ex = _executor(tmp_path, spec, output_cap_bytes=2048)
    result = ex.run("seq")
    assert result.state is ResultState.OK
    assert result.truncated
    assert len(result.stdout.encode()) <= 2048


def test_missing_program_is_a_clear_error(tmp_path: Path) -> None:
    ex = _executor(tmp_path, CommandSpec(id="ghost", argv=["no-such-program-xyz"]))
    result = ex.run("ghost")
    assert result.state is ResultState.ERROR
    assert "not installed" in result.message


def test_in_process_actions_go_through_the_same_checks(tmp_path: Path) -> None:
    calls: list[dict[str, object]] = []
    ex = _executor(tmp_path)
    ex.register_action("demo.delete", lambda a: calls.append(a) or ActionOutput(True, "deleted"),
                       destructive=True, describe=lambda a: f"delete {a['name']}", secret_args=frozenset({"pin"}))
    asked = ex.run("demo.delete", {"name": "x", "pin": "9999"})
    assert asked.state is ResultState.NEEDS_CONFIRMATION
    assert calls == []
    done = ex.run("demo.delete", {"name": "x", "pin": "9999"}, confirmation=asked.confirmation)
    assert done.state is ResultState.OK
    assert calls == [{"name": "x", "pin": "9999"}]
    assert "9999" not in ex.audit.path.read_text()


def test_every_run_is_in_a_verifiable_chain(tmp_path: Path) -> None:
    ex = _executor(tmp_path, ECHO)
    for i in range(5):
        ex.run("echo", {"text": f"n{i}"})
    assert ex.audit.verify() == 5
    assert _events(ex) == ["exec.run"] * 5
