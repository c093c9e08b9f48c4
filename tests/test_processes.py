"""system.top and process.kill against real processes started by the tests.

Kill targets carry a unique program name (a copy of `sleep` called nap<random>), so a kill by name can never
reach anybody else's processes on a shared machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from agent.events import ResultState, SkillResult
from agent.pipeline import Pipeline
from agent.services import Services
from agent.skills import processes
from agent.skills.processes import ProcInfo, refusal, top_processes
from tests.conftest import run_cli

_procs: list[subprocess.Popen[bytes]] = []


@pytest.fixture(autouse=True)
def _reap() -> Iterator[None]:
    yield
    while _procs:
        p = _procs.pop()
        if p.poll() is None:
            p.kill()
        p.wait()
        if p.stdout is not None:
            p.stdout.close()


def _start(argv: list[str], user: int | None = None) -> subprocess.Popen[bytes]:
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, user=user)
    _procs.append(p)
    return p


@pytest.fixture
def nap(tmp_path: Path) -> Path:
    """A copy of `sleep` with a name nothing else on this machine has."""
    exe = tmp_path / f"nap{uuid.uuid4().hex[:6]}"
    shutil.copy(shutil.which("sleep") or "/bin/sleep", exe)
    return exe


def _call(services: Services, name: str, args: dict[str, object], confirmation: str | None = None) -> SkillResult:
    """Run one skill the way the pipeline does, without loading the router's models (kept to two tests)."""
    skill = services.registry.get(name)
    assert skill is not None
    assert skill.run is not None
    return skill.run(skill.args.model_validate(args), services.context(confirmation=confirmation))


def _napping(exe: Path, count: int = 1) -> list[subprocess.Popen[bytes]]:
    """Start `count` copies of the renamed sleep and wait until each has exec'd (carries its name)."""
    procs = [_start([str(exe), "30"]) for _ in range(count)]
    deadline = time.monotonic() + 10
    for p in procs:
        while time.monotonic() < deadline:
            try:
                if psutil.Process(p.pid).name() == exe.name:
                    break
            except psutil.NoSuchProcess:
                pass
            time.sleep(0.01)
    return procs


def _alive(p: subprocess.Popen[bytes]) -> bool:
    return p.poll() is None


def _wait_dead(p: subprocess.Popen[bytes], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if p.poll() is not None:
            return True
        time.sleep(0.02)
    return False


# -- system.top -----------------------------------------------------------------------------------------
def test_top_by_cpu_samples_a_busy_process(services: Services) -> None:
    busy = _start([sys.executable, "-c", "while True: pass"])
    time.sleep(0.3)
    rows = top_processes("cpu", 100_000)
    mine = [r for r in rows if r["pid"] == busy.pid]
    assert mine
    assert mine[0]["cpu_percent"] > 5  # a real sample, not psutil's first 0.0 (the machine may be busy)
    assert set(mine[0]) == {"pid", "name", "user", "cpu_percent", "rss_mb"}
    assert [r["cpu_percent"] for r in rows] == sorted((r["cpu_percent"] for r in rows), reverse=True)
    result = _call(services, "system.top", {"sort": "cpu", "limit": 3})
    assert result.state is ResultState.OK
    assert result.reply.startswith("Top by CPU: ")
    assert result.reply.count("%") == 3
    assert len(result.data["processes"]) == 3


def test_top_by_memory_sees_a_process_holding_memory(services: Services) -> None:
    hog = subprocess.Popen([sys.executable, "-c", "b = b'x' * (160 * 1024 * 1024); print('ok', flush=True); "
                            "import time; time.sleep(60)"], stdout=subprocess.PIPE)
    _procs.append(hog)
    assert hog.stdout is not None
    assert hog.stdout.readline() == b"ok\n"
    rows = top_processes("memory", 100_000, sample_s=0.1)
    mine = [r for r in rows if r["pid"] == hog.pid]
    assert mine
    assert mine[0]["rss_mb"] >= 150
    assert [r["rss_mb"] for r in rows] == sorted((r["rss_mb"] for r in rows), reverse=True)
    reply = _call(services, "system.top", {"sort": "memory", "limit": 5}).reply
    assert reply.startswith("Top by memory: ")
    assert ("MB" in reply or "GB" in reply)


# -- who may be killed (pure) ---------------------------------------------------------------------------
def _info(pid: int = 4242, uids: tuple[int, ...] = (1000, 1000), user: str = "ann", ppid: int = 100) -> ProcInfo:
    return ProcInfo(pid, "thing", user, uids, ppid, 1.0)


def test_refusal_rules() -> None:
    me = {"my_uids": (1000, 1000), "my_user": "ann", "protected": {500, 400}}
    assert refusal(_info(), **me) is None  # type: ignore[arg-type]
    assert "init" in (refusal(_info(pid=1), **me) or "")  # type: ignore[arg-type]
    assert "me or the program that started me" in (refusal(_info(pid=400), **me) or "")  # type: ignore[arg-type]
    assert "belongs to bob" in (refusal(_info(uids=(1001, 1001), user="bob"), **me) or "")  # type: ignore[arg-type]
    assert "belongs to root" in (refusal(_info(uids=(1000, 0), user="root"), **me) or "")  # type: ignore[arg-type]
    if sys.platform.startswith("linux"):
        assert "kernel thread" in (refusal(_info(ppid=2), **me) or "")  # type: ignore[arg-type]
    no_uids = {"my_uids": (), "my_user": "ann", "protected": set()}  # platforms without uids: names
    assert refusal(_info(uids=(), user="ann"), **no_uids) is None  # type: ignore[arg-type]
    assert refusal(_info(uids=(), user="bob"), **no_uids)  # type: ignore[arg-type]


# -- refused outright: no confirmation is even asked -------------------------------------------------------
def _other_users_process() -> int:
    if os.geteuid() == 0:
        pid = _start(["sleep", "30"], user=65534).pid  # nobody
        deadline = time.monotonic() + 10
        while psutil.Process(pid).uids().real != 65534 and time.monotonic() < deadline:
            time.sleep(0.01)  # until the child has switched user
        return pid
    me = os.getuid()
    for p in psutil.process_iter(["pid", "uids"]):
        if p.info["uids"] and p.info["uids"].real != me and p.pid != 1:
            return int(p.pid)
    pytest.fail("no process of another user to test with")


def test_refuses_pid_1_itself_its_parent_and_other_users(services: Services) -> None:
    other = _other_users_process()
    for pid, why in ((1, "init"), (os.getpid(), "started me"), (os.getppid(), "started me"), (other, "belongs to")):
        result = _call(services, "process.kill", {"pid": pid})
        assert result.state is ResultState.REFUSED, (pid, result.reply)
        assert why in result.reply
        assert result.confirmation is None
    assert services.confirmations.live() == []
    assert psutil.pid_exists(other)


def test_no_such_process_is_an_honest_refusal(services: Services, nap: Path) -> None:
    result = _call(services, "process.kill", {"name": nap.name})
    assert result.state is ResultState.REFUSED
    assert result.reply == f"There is no running process called {nap.name}."
    dead = _start(["true"])
    dead.wait()
    assert _call(services, "process.kill", {"pid": dead.pid}).reply.startswith("There is no running")


# -- confirmation -----------------------------------------------------------------------------------------
def test_asking_kills_nothing_and_the_token_kills_exactly_that(services: Services, nap: Path) -> None:
    (child,) = _napping(nap)
    pipeline = Pipeline(services)
    asked = _call(services, "process.kill", {"pid": child.pid})
    assert asked.state is ResultState.NEEDS_CONFIRMATION
    user = psutil.Process().username()
    assert f"stop {nap.name} (pid {child.pid}, user {user})" in asked.reply
    assert asked.confirmation
    time.sleep(0.3)
    assert _alive(child)
    wrong = pipeline.confirm("deadbeef").result
    assert wrong.state is ResultState.REFUSED
    assert _alive(child)
    done = pipeline.confirm(asked.confirmation)
    assert done.result.state is ResultState.OK, done.result.reply
    assert done.result.data["terminated"] == [child.pid]
    assert _wait_dead(child)


def test_a_token_for_one_process_does_not_kill_another(services: Services, nap: Path) -> None:
    a, b = _napping(nap, 2)
    token = _call(services, "process.kill", {"pid": a.pid}).confirmation
    result = _call(services, "process.kill", {"pid": b.pid}, confirmation=token)
    assert result.state is ResultState.REFUSED
    assert "different action" in result.reply
    time.sleep(0.2)
    assert _alive(a)
    assert _alive(b)


def test_an_expired_token_kills_nothing(services: Services, nap: Path) -> None:
    (child,) = _napping(nap)
    services.confirmations.ttl_s = 0.2
    pipeline = Pipeline(services)
    token = _call(services, "process.kill", {"pid": child.pid}).confirmation
    assert token
    time.sleep(0.4)
    result = pipeline.confirm(token).result
    assert result.state is ResultState.REFUSED
    assert "expired" in result.reply
    assert _alive(child)


def test_a_name_kills_all_matching_with_one_confirmation_bound_to_those_pids(services: Services, nap: Path) -> None:
    first = _napping(nap, 2)
    pipeline = Pipeline(services)
    asked = _call(services, "process.kill", {"name": nap.name})
    assert asked.state is ResultState.NEEDS_CONFIRMATION
    pids = sorted(p.pid for p in first)
    assert f"stop 2 processes: {nap.name} (user {psutil.Process().username()}, pids {pids[0]}, {pids[1]})" \
        in asked.reply
    (late,) = _napping(nap)  # a third one appears: the yes was not given for it
    assert asked.confirmation
    stale = pipeline.confirm(asked.confirmation).result
    assert stale.state is ResultState.REFUSED
    assert all(_alive(p) for p in [*first, late])
    again = _call(services, "process.kill", {"name": nap.name})
    assert again.confirmation
    assert str(late.pid) in again.reply
    done = pipeline.confirm(again.confirmation).result
    assert done.state is ResultState.OK
    assert done.data["terminated"] == sorted([*pids, late.pid])
    assert all(_wait_dead(p) for p in [*first, late])


def test_sigkill_after_the_grace_period(services: Services) -> None:
    stubborn = subprocess.Popen([sys.executable, "-c", "import signal, time; "
                                 "signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ok', flush=True); "
                                 "time.sleep(60)"], stdout=subprocess.PIPE)
    _procs.append(stubborn)
    assert stubborn.stdout is not None
    assert stubborn.stdout.readline() == b"ok\n"
    info = processes._info(psutil.Process(stubborn.pid))
    target = {"pid": info.pid, "name": info.name, "user": info.user, "started": info.started}
    started = time.monotonic()
    result = services.executor.run("process.signal", {"targets": [target], "grace_s": 0.5}, yes=True)
    assert result.state is ResultState.OK, result.message
    assert result.data["force_killed"] == [stubborn.pid]
    assert result.data["terminated"] == []
    assert time.monotonic() - started >= 0.5
    assert _wait_dead(stubborn)
    events = [r["event"] for r in services.audit.records()]
    assert events[-3:] == ["confirmation.asked", "confirmation.granted", "exec.action"]


def test_a_reused_pid_is_left_alone(services: Services, nap: Path) -> None:
    (child,) = _napping(nap)
    info = processes._info(psutil.Process(child.pid))
    target = {"pid": info.pid, "name": info.name, "user": info.user, "started": info.started - 100}
    result = services.executor.run("process.signal", {"targets": [target]}, yes=True)
    assert result.state is ResultState.ERROR
    assert result.data["skipped"] == {str(child.pid): "the pid now belongs to another process"}
    assert _alive(child)


# -- through the router, and across processes with the CLI ----------------------------------------------------
def test_pipeline_kill_process_pid_then_confirm(services: Services, nap: Path) -> None:
    (child,) = _napping(nap)
    pipeline = Pipeline(services)
    outcome = pipeline.handle(f"kill process {child.pid}")
    assert outcome.intent.skill == "process.kill"
    assert outcome.result.state is ResultState.NEEDS_CONFIRMATION
    assert outcome.result.confirmation
    assert _alive(child)
    done = pipeline.confirm(outcome.result.confirmation)
    assert done.result.state is ResultState.OK
    assert _wait_dead(child)


def test_cli_ask_then_confirm_from_another_process(nap: Path) -> None:
    (child,) = _napping(nap)
    asked = run_cli("ask", "--json", f"kill process {child.pid}")
    assert asked.returncode == 0, asked.stderr
    out = json.loads(asked.stdout)
    assert out["state"] == "needs_confirmation"
    assert _alive(child)
    done = run_cli("confirm", "--json", out["confirmation"])
    assert json.loads(done.stdout)["state"] == "ok", done.stdout
    assert _wait_dead(child)
