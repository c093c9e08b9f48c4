"""One resident agent per user: an exclusive lock on a file in the data directory.

The operating system drops the lock when the process ends, however it ends (even `kill -9`), so a stale lock
file never blocks the next start. The file holds the owner's pid, for the message a second `agent run` prints.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import IO

from agent.errors import AgentError

__all__ = ["AlreadyRunningError", "InstanceLock"]

_LOGGER = logging.getLogger(__name__)


class AlreadyRunningError(AgentError):
    """Another resident agent holds the lock (carries its pid, when known, and the lock file)."""

    def __init__(self, lock_file: Path, pid: int | None) -> None:
        self.lock_file = lock_file
        self.pid = pid
        who = f" (pid {pid})" if pid else ""
        super().__init__(f"the agent is already running{who}; quit it from its tray menu or stop it first "
                         f"(lock: {lock_file})")


class InstanceLock:
    """`acquire()` takes the lock or raises `AlreadyRunningError`; `release()` (or the process ending) frees it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def acquire(self) -> InstanceLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        f = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held open for the life of the process
        try:
            _lock(f)
        except OSError:
            try:
                f.seek(0)
                text = f.read().strip()
            except OSError:  # Windows: the owner's locked byte cannot be read
                text = ""
            f.close()
            raise AlreadyRunningError(self.path, int(text) if text.isdigit() else None) from None
        f.seek(0)
        f.truncate()
        try:  # unbuffered, so a full disk leaves nothing pending to fail again at release
            os.write(f.fileno(), str(os.getpid()).encode())
        except OSError as exc:  # the disk is full: the lock holds all the same, only the pid is not recorded
            _LOGGER.warning("%s: could not record the pid (%s); the single-instance lock holds", self.path, exc)
        self._file = f
        _LOGGER.debug("instance lock taken: %s", self.path)
        return self

    def release(self) -> None:
        f, self._file = self._file, None
        if f is None:
            return
        try:
            f.seek(0)
            f.truncate()
            f.flush()
            _unlock(f)
        finally:
            f.close()

    def __enter__(self) -> InstanceLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock(f: IO[str]) -> None:
        f.seek(0)
        msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock(f: IO[str]) -> None:
        f.seek(0)
        msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(f: IO[str]) -> None:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(f: IO[str]) -> None:
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)
