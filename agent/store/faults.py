"""What went wrong with a store, in the user's words: a damaged file, a full disk, or a file that cannot be opened.

`classify(path, exc)` turns an `sqlite3`/`OSError` into a `StoreError` naming the file, the problem and the exact
fix (None when the error is not about the store itself, e.g. a constraint violation). `report(err)` logs it once
per file and problem, so a broken store is announced once, not on every request; `problems()` lists the current
ones (the resident agent's start-up line, `agent doctor`).
"""

from __future__ import annotations

import errno
import logging
import shutil
import sqlite3
import threading
from pathlib import Path

from agent.errors import StoreError

__all__ = ["REPAIR_FIX", "classify", "disk_full", "forget", "full_error", "problems", "report"]

_LOGGER = logging.getLogger(__name__)

REPAIR_FIX = ("run `agent doctor --repair`: it moves the damaged file aside under a dated name (nothing is "
              "deleted) and the agent starts a fresh one.")
_DAMAGED = ("not a database", "malformed", "corrupt", "file is encrypted")
_FULL = ("database or disk is full", "no space left on device", "disk quota exceeded")
_UNAVAILABLE = ("unable to open database", "readonly database", "permission denied", "is a directory")
_LOW_SPACE_BYTES = 64 * 1024

_lock = threading.Lock()
_reported: dict[tuple[str, str], StoreError] = {}


def disk_full(folder: Path) -> bool:
    """Whether the disk holding `folder` has (almost) no free space left."""
    try:
        return shutil.disk_usage(folder).free < _LOW_SPACE_BYTES
    except OSError:
        return False


def full_error(path: Path) -> StoreError:
    """What a write to the store at `path` says when its disk is full (and what its read-only open logs)."""
    folder = path.parent
    return StoreError(f"The disk holding {folder} is full, so nothing new can be saved there (everything saved "
                      "before is intact and can still be read).", path=path, problem="full",
                      fix=f"free some space on the disk holding {folder}, then try again.")


def classify(path: Path, exc: BaseException) -> StoreError | None:
    """The `StoreError` `exc` means for the store at `path`, or None when it is not a store fault."""
    if isinstance(exc, StoreError):
        return exc
    text = str(exc).lower()
    if (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)) or any(w in text for w in _FULL):
        return full_error(path)
    if isinstance(exc, sqlite3.DatabaseError) and any(w in text for w in _DAMAGED):
        return StoreError(f"{path} is damaged ({exc}).", path=path, problem="damaged", fix=REPAIR_FIX)
    if isinstance(exc, sqlite3.OperationalError) and "disk i/o error" in text and disk_full(path.parent):
        return full_error(path)
    if isinstance(exc, PermissionError | IsADirectoryError) or (
            isinstance(exc, sqlite3.OperationalError) and any(w in text for w in _UNAVAILABLE)):
        what = "is a directory, not a database file" if path.is_dir() else f"cannot be opened ({exc})"
        fix = (f"move {path} out of the way (`agent doctor --repair` does it)." if path.is_dir() else
               f"make {path} and its folder readable and writable by you.")
        return StoreError(f"{path} {what}.", path=path, problem="unavailable", fix=fix)
    return None


def report(err: StoreError) -> StoreError:
    """Log `err` once per file and problem, a full disk once per folder (a warning naming the file or folder, the
    problem and the fix); return it."""
    # a full disk is one problem for every store on it: announced once per folder
    key = (str(Path(err.path).parent), "full") if err.problem == "full" else (err.path, err.problem)
    with _lock:
        first = key not in _reported
        _reported[key] = err
    if first:
        _LOGGER.warning("store %s: %s", err.problem, err)
    return err


def forget(path: Path | str) -> None:
    """The store at `path` works again (or was repaired): a new problem is announced again."""
    with _lock:
        for key in [k for k in _reported if k[0] in (str(path), str(Path(path).parent))]:
            del _reported[key]


def problems() -> list[StoreError]:
    """The store problems seen by this process, one per file and problem."""
    with _lock:
        return list(_reported.values())
