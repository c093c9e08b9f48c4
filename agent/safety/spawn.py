"""Every child process the agent starts, in one place: an argv list with its program resolved on PATH, never a
shell; the minimal environment of `childenv`; its own session, so that nothing it starts reaches the agent's
terminal and a timeout can stop all of it.

- `run` waits for the program: stdin from bytes given (or nothing), stdout and stderr into files (a program
  that leaves a background process behind, like xclip serving the selection, would hold a pipe open forever),
  output capped, and on timeout its whole process group killed.
- `start` starts it detached (an opener, an application, a helper of the agent's own), reports a failure at
  once when it exits at once, and reaps it in the background.
- `agent_module` says how to run one of the agent's own modules with this interpreter (`python -m`).
- `start_file` hands a file or address to Windows' ShellExecute (`os.startfile`), the desktop's opener there.

The executor (`agent.safety.executor`) runs allow-listed commands with `run`; in-process actions use these too.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from agent.safety.childenv import child_env

__all__ = ["Completed", "ModuleCommand", "Started", "agent_module", "resolve", "run", "start", "start_file"]

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class Completed:
    """A program that ran to its end (or was stopped at its timeout)."""

    returncode: int
    stdout: bytes
    stderr: bytes
    timed_out: bool = False
    truncated: bool = False


@dataclass(frozen=True)
class Started:
    """A detached program: its pid, and its exit status if it exited within the wait (else None)."""

    pid: int
    returncode: int | None


def resolve(program: str) -> str | None:
    """The executable `program` names (an absolute path, or found on PATH), or None when it is not installed."""
    if os.path.isabs(program):
        return program if os.access(program, os.X_OK) and os.path.isfile(program) else None
    return shutil.which(program)


def _argv(argv: Sequence[str]) -> list[str]:
    program = resolve(argv[0])
    if program is None:
        raise FileNotFoundError(2, f"{argv[0]} is not installed", argv[0])
    return [program, *argv[1:]]


def _read(f: IO[bytes], cap: int | None) -> tuple[bytes, bool]:
    f.seek(0)
    data = f.read() if cap is None else f.read(cap + 1)
    return (data, False) if cap is None or len(data) <= cap else (data[:cap], True)


def run(argv: Sequence[str], *, timeout_s: float, stdin: bytes | None = None, cap: int | None = None,
        env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Completed:
    """Run `argv` to its end; `FileNotFoundError` when its program is not installed. `env` adds to `child_env()`."""
    resolved = _argv(argv)
    with tempfile.TemporaryFile() as inp, tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        if stdin is not None:
            inp.write(stdin)
            inp.seek(0)
        proc = subprocess.Popen(  # noqa: S603 - an argv list, never a shell
            resolved, stdin=inp if stdin is not None else subprocess.DEVNULL, stdout=out, stderr=err,
            shell=False, start_new_session=True, close_fds=True, env=child_env(env), cwd=cwd,
        )
        timed_out = False
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
        stdout, cut_out = _read(out, cap)
        stderr, cut_err = _read(err, cap)
    return Completed(proc.returncode, stdout, stderr, timed_out, cut_out or cut_err)


def start(argv: Sequence[str], *, stdin: bytes | None = None, wait_s: float = 0.0,
          cwd: Path | None = None, env: Mapping[str, str] | None = None) -> Started:
    """Start `argv` detached (`FileNotFoundError` when not installed), give it `stdin`, and wait up to `wait_s`
    to see whether it exits at once. Its working folder is `cwd`, else the home folder."""
    resolved = _argv(argv)
    home = Path.home()
    proc = subprocess.Popen(  # noqa: S603 - an argv list, never a shell
        resolved, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, shell=False, start_new_session=True, close_fds=True,
        cwd=str(cwd or (home if home.is_dir() else "/")), env=child_env(env),
    )
    if proc.stdin is not None:
        try:
            proc.stdin.write(stdin or b"")
            proc.stdin.close()
        except BrokenPipeError:
            _LOGGER.info("%s closed its input at once", argv[0])
    try:
        code = proc.wait(timeout=wait_s) if wait_s > 0 else proc.poll()
    except subprocess.TimeoutExpired:
        code = None
    if code is None:
        threading.Thread(target=proc.wait, name=f"reap-{proc.pid}", daemon=True).start()
    return Started(proc.pid, code)


@dataclass(frozen=True)
class ModuleCommand:
    """How to run one of the agent's own modules: `argv`, what to add to the environment, the working folder."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path


def agent_module(module: str, *args: str) -> ModuleCommand:
    """`python -m module args` with this interpreter and this copy of the agent (a source checkout, not installed
    in site-packages, goes on PYTHONPATH). It runs in the filesystem's root folder: `-m` puts the working folder
    first on `sys.path`, and a stray `json.py` in the user's home must not stand in for a module it imports."""
    root = str(Path(__file__).resolve().parents[2])
    installed = {str(Path(p).resolve()) for p in site.getsitepackages()}
    env = {} if root in installed else {"PYTHONPATH": root}
    return ModuleCommand([sys.executable, "-m", module, *args], env, Path(Path(sys.executable).anchor or "/"))


def start_file(target: str) -> None:
    """Windows only: open `target` with its associated program (ShellExecute), never through cmd's parser."""
    os.startfile(target)  # type: ignore[attr-defined,unused-ignore]  # Windows only
