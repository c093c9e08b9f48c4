"""`system.top` (the busiest processes) and `process.kill` (stop processes, always after a confirmation).

Killing goes through the executor's in-process action `process.signal` (destructive, so it always asks):
the confirmation is bound to the exact targets, each named by pid, name, user and start time, so a
reused pid or a changed set of matching processes needs a new confirmation. The agent itself and the
processes that started it, pid 1, kernel threads and other users' processes are refused outright,
before any confirmation is asked, and checked again right before signalling.
Signals: SIGTERM, then SIGKILL for what is still alive after a grace period.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any, Literal

import psutil
from pydantic import Field, model_validator

from agent.events import ResultState, SkillResult
from agent.safety.executor import ActionOutput, Executor
from agent.skills.base import Args, Register, Skill, SkillContext

__all__ = [
    "ProcInfo",
    "find_by_name",
    "protected_pids",
    "refusal",
    "register",
    "register_actions",
    "signal_processes",
    "top_processes",
]

_LOGGER = logging.getLogger(__name__)

ACTION_ID = "process.signal"
CPU_SAMPLE_S = 0.5
GRACE_S = 3.0
MAX_TARGETS = 64
_SPOKEN = 5
_MB = 1024 * 1024
_GONE = (psutil.NoSuchProcess, psutil.ZombieProcess)
_UNREADABLE = (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied)


# -- system.top ---------------------------------------------------------------------------------------
class ProcessKillArgs(Args):
    name: str | None = Field(None, min_length=1, max_length=128)
    pid: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _one_target(self) -> ProcessKillArgs:
        if self.name is None and self.pid is None:
            raise ValueError("which process? give a name or a pid")
        return self


class SystemTopArgs(Args):
    sort: Literal["cpu", "memory"] = "cpu"
    limit: int = Field(5, ge=1, le=50)


def top_processes(sort: str = "cpu", limit: int = 5, sample_s: float = CPU_SAMPLE_S) -> list[dict[str, Any]]:
    """The `limit` processes using the most CPU or memory.

    CPU is sampled over `sample_s`: every process's counter is primed first (psutil's first reading is
    always 0.0), then read again. `cpu_percent` is relative to one core, like `top` (can exceed 100).
    """
    procs = []
    for p in psutil.process_iter():
        try:
            p.cpu_percent(None)
            procs.append(p)
        except _UNREADABLE:
            continue
    time.sleep(sample_s)
    rows = []
    for p in procs:
        try:
            with p.oneshot():
                cpu = p.cpu_percent(None)
                rss = p.memory_info().rss
                name = p.name()
                user = _username(p)
        except _UNREADABLE:
            continue
        rows.append({"pid": p.pid, "name": name, "user": user, "cpu_percent": round(cpu, 1),
                     "rss_mb": round(rss / _MB, 1)})
    key = "cpu_percent" if sort == "cpu" else "rss_mb"
    rows.sort(key=lambda r: (r[key], r["rss_mb"] if sort == "cpu" else r["cpu_percent"]), reverse=True)
    return rows[:limit]


def _size(mb: float) -> str:
    return f"{mb / 1024:.1f} GB" if mb >= 1024 else f"{mb:.0f} MB"


def _top(args: SystemTopArgs, ctx: SkillContext) -> SkillResult:
    rows = top_processes(args.sort, args.limit)
    if not rows:
        return SkillResult.error("I couldn't read the process list.", processes=[])
    if args.sort == "cpu":
        parts = [f"{r['name']} {r['cpu_percent']:.0f}%" for r in rows[:_SPOKEN]]
        reply = "Top by CPU: " + ", ".join(parts) + "."
    else:
        parts = [f"{r['name']} {_size(r['rss_mb'])}" for r in rows[:_SPOKEN]]
        reply = "Top by memory: " + ", ".join(parts) + "."
    return SkillResult.ok(reply, sort=args.sort, limit=args.limit, sample_s=CPU_SAMPLE_S, processes=rows)


# -- which processes may be killed --------------------------------------------------------------------
@dataclass(frozen=True)
class ProcInfo:
    """What the kill decision needs about one process."""

    pid: int
    name: str
    user: str
    uids: tuple[int, ...]  # (real, effective) on POSIX; empty where the platform has none
    ppid: int
    started: float  # create time, rounded: with the pid it names one process instance


def _username(p: psutil.Process) -> str:
    try:
        return p.username()
    except (KeyError, psutil.AccessDenied):
        return "?"


def _info(p: psutil.Process) -> ProcInfo:
    with p.oneshot():
        uids: tuple[int, ...] = ()
        if hasattr(p, "uids"):
            u = p.uids()
            uids = (u.real, u.effective)
        return ProcInfo(p.pid, p.name(), _username(p), uids, p.ppid(), round(p.create_time(), 2))


def _me() -> tuple[tuple[int, ...], str]:
    uids = (os.getuid(), os.geteuid()) if hasattr(os, "getuid") else ()
    return uids, _username(psutil.Process())


def protected_pids() -> set[int]:
    """The agent itself and every process above it (its shell, terminal, session)."""
    me = psutil.Process()
    return {me.pid, *(p.pid for p in me.parents())}


def refusal(info: ProcInfo, *, my_uids: tuple[int, ...], my_user: str, protected: set[int]) -> str | None:
    """Why this process must not be killed, or None. Pure: the caller gathers the facts."""
    if info.pid == 1:
        return "pid 1 is the init process"
    if info.pid in protected:
        return f"{info.name} (pid {info.pid}) is me or the program that started me"
    if sys.platform.startswith("linux") and (info.pid == 2 or info.ppid == 2):
        return f"{info.name} (pid {info.pid}) is a kernel thread"
    if my_uids and info.uids:
        if any(u != my_uids[0] for u in info.uids):
            return f"{info.name} (pid {info.pid}) belongs to {info.user}, not to you"
    elif info.user != my_user:
        return f"{info.name} (pid {info.pid}) belongs to {info.user}, not to you"
    return None


def _check(info: ProcInfo) -> str | None:
    uids, user = _me()
    return refusal(info, my_uids=uids, my_user=user, protected=protected_pids())


def _names(p: psutil.Process) -> set[str]:
    names = {p.name().lower()}
    try:
        cmd = p.cmdline()
        if cmd:
            names.add(os.path.basename(cmd[0]).lower())
    except _UNREADABLE:
        pass
    return {n.removesuffix(".exe") for n in names if n}


def find_by_name(name: str) -> list[ProcInfo]:
    """Running processes called `name`: exact names first; else names starting with it (3+ letters)."""
    target = name.lower().strip().removesuffix(".exe")
    exact, prefix = [], []
    for p in psutil.process_iter():
        try:
            if p.status() == psutil.STATUS_ZOMBIE:
                continue
            names = _names(p)
            if target in names:
                exact.append(_info(p))
            elif len(target) >= 3 and any(n.startswith(target) for n in names):
                prefix.append(_info(p))
        except _UNREADABLE:
            continue
    return sorted(exact or prefix, key=lambda i: i.pid)


# -- the executor action ------------------------------------------------------------------------------
def _describe(args: dict[str, Any]) -> str:
    targets = args.get("targets", [])
    if len(targets) == 1:
        t = targets[0]
        return f"stop {t['name']} (pid {t['pid']}, user {t['user']})"
    groups: dict[tuple[str, str], list[str]] = {}
    for t in targets:
        groups.setdefault((t["name"], t["user"]), []).append(str(t["pid"]))
    parts = [f"{name} (user {user}, pids {', '.join(pids)})" for (name, user), pids in groups.items()]
    return f"stop {len(targets)} processes: " + "; ".join(parts)


def _gone(p: psutil.Process) -> bool:
    try:
        p.wait(timeout=0)  # reaps it if it is our own child
        return True
    except psutil.TimeoutExpired:
        pass
    except psutil.NoSuchProcess:
        return True
    try:
        return p.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _wait_gone(procs: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait until all are gone or `timeout` passes; return those still alive."""
    deadline = time.monotonic() + timeout
    alive = [p for p in procs if not _gone(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [p for p in alive if not _gone(p)]
    return alive


def _verify(target: dict[str, Any]) -> tuple[psutil.Process | None, str | None]:
    """The live process a confirmed target names, or why it cannot be signalled now."""
    try:
        p = psutil.Process(int(target["pid"]))
        info = _info(p)
    except psutil.NoSuchProcess:
        return None, "already gone"
    except _UNREADABLE as exc:
        return None, f"unreadable ({exc.__class__.__name__})"
    if info.started != target["started"]:
        return None, "the pid now belongs to another process"
    reason = _check(info)
    return (None, reason) if reason else (p, None)


def signal_processes(args: dict[str, Any]) -> ActionOutput:
    """The `process.signal` action: SIGTERM each confirmed target, SIGKILL what outlives the grace period."""
    grace = float(args.get("grace_s", GRACE_S))
    procs: list[psutil.Process] = []
    skipped: dict[str, str] = {}
    for target in args.get("targets", []):
        p, why = _verify(target)
        if p is None:
            skipped[str(target["pid"])] = why or "?"
        else:
            procs.append(p)
    for p in procs:
        try:
            p.send_signal(signal.SIGTERM)
        except _GONE:
            pass
    after_term = _wait_gone(procs, grace)
    for p in after_term:
        try:
            p.kill()
        except _GONE:
            pass
    still = {p.pid for p in _wait_gone(after_term, 2.0)}
    late = {p.pid for p in after_term}
    data = {"terminated": sorted(p.pid for p in procs if p.pid not in late),
            "force_killed": sorted(late - still), "alive": sorted(still), "skipped": skipped}
    return ActionOutput(bool(procs) and not still, _action_message(data), data)


def _action_message(data: dict[str, Any]) -> str:
    parts = []
    if data["terminated"]:
        parts.append(f"terminated {_pid_list(data['terminated'])}")
    if data["force_killed"]:
        parts.append(f"force-killed {_pid_list(data['force_killed'])} after the grace period")
    if data["alive"]:
        parts.append(f"could not stop {_pid_list(data['alive'])}")
    for pid, why in data["skipped"].items():
        parts.append(f"left pid {pid} alone: {why}")
    return "; ".join(parts) or "nothing to stop"


def _pid_list(pids: list[int]) -> str:
    return ("pid " if len(pids) == 1 else "pids ") + ", ".join(map(str, pids))


# -- process.kill -------------------------------------------------------------------------------------
def _resolve(args: ProcessKillArgs) -> tuple[list[ProcInfo], list[str]]:
    """(killable targets, refusal reasons) for a pid or a name."""
    if args.pid is not None:
        try:
            found = [_info(psutil.Process(args.pid))]
        except psutil.NoSuchProcess:
            found = []
        except _UNREADABLE as exc:
            return [], [f"I can't read pid {args.pid} ({exc.__class__.__name__})"]
    else:
        found = find_by_name(args.name or "")
    uids, user = _me()
    protected = protected_pids()
    ok, refused = [], []
    for info in found:
        reason = refusal(info, my_uids=uids, my_user=user, protected=protected)
        if reason:
            refused.append(reason)
        else:
            ok.append(info)
    return ok, refused


def _kill(args: ProcessKillArgs, ctx: SkillContext) -> SkillResult:
    what = f"pid {args.pid}" if args.pid is not None else repr(args.name)
    targets, refused = _resolve(args)
    data: dict[str, Any] = {"targets": [asdict(t) for t in targets], "refused": refused}
    if not targets:
        if refused:
            return SkillResult.refused(f"I won't stop that: {refused[0]}.", **data)
        target = f"with pid {args.pid}" if args.pid is not None else f"called {args.name}"
        return SkillResult.refused(f"There is no running process {target}.", **data)
    if len(targets) > MAX_TARGETS:
        return SkillResult.refused(f"{len(targets)} processes match {what}; please name one pid.", **data)
    action_args = {"targets": [{"pid": t.pid, "name": t.name, "user": t.user, "started": t.started}
                               for t in targets]}
    result = ctx.executor.run(ACTION_ID, action_args, yes=ctx.yes, confirmation=ctx.confirmation,
                              intent={"skill": "process.kill", "args": args.model_dump(exclude_none=True)})
    data.update(result.data)
    others = f" I'll leave {len(refused)} other matching process(es) alone." if refused else ""
    if result.state is ResultState.NEEDS_CONFIRMATION:
        return SkillResult(ResultState.NEEDS_CONFIRMATION, f"This will {result.summary}.{others} Should I go ahead?",
                           data, confirmation=result.confirmation)
    if result.state is ResultState.OK:
        return SkillResult.ok(f"Done: {result.message}.", **data)
    if result.state is ResultState.REFUSED:
        return SkillResult.refused(f"Nothing was stopped: {result.message}.", **data)
    return SkillResult.error(f"Not quite: {result.message}.", **data)


def register_actions(executor: Executor) -> None:
    executor.register_action(ACTION_ID, signal_processes, destructive=True, describe=_describe)


# -- arguments from the words (the router's rule extractor for these skills) --------------------
def _extract_top(t: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if re.search(r"\b(memory|ram|mem)\b", t):
        out["sort"] = "memory"
    elif re.search(r"\b(cpu|processor|load)\b", t):
        out["sort"] = "cpu"
    m = re.search(r"\b(?:top|first|the|show|list)\s+(\d{1,2})\b|\b(\d{1,2})\s+(?:processes|programs|apps)", t)
    if m:
        out["limit"] = int(m.group(1) or m.group(2))
    return out


def _extract_kill(t: str) -> dict[str, Any]:
    m = re.search(r"\b(?:pid|process|id)\s*#?\s*(\d+)\b", t) or re.search(r"\b(\d{2,7})\b", t)
    if m:
        return {"pid": int(m.group(1))}
    m = re.search(r"\b(?:kill|terminate|end|stop|quit|close|force quit|force-quit|shut down)\s+(?:the\s+)?"
                  r"(?:task\s+for\s+|process\s+(?:called|named)\s+|frozen\s+program\s+|program\s+)?"
                  r"([\w.+-]+)", t)
    if m and m.group(1) not in ("process", "program", "app", "it", "that", "the", "task"):
        return {"name": m.group(1).removesuffix(".exe")}
    return {}


def register(reg: Register) -> None:
    reg(Skill("system.top", "the processes using the most CPU or memory",
              args=SystemTopArgs, run=_top, extract=_extract_top, numeric=True, actions=register_actions))
    reg(Skill("process.kill", "stop a running process by name or pid (asks first)",
              args=ProcessKillArgs, changes_system=True, run=_kill, extract=_extract_kill, numeric=True,
              actions=register_actions))
