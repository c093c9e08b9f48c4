"""Every store the agent keeps, its state (`PRAGMA quick_check`), and the one repair: move a damaged file aside.

`agent doctor` lists each store with its state; `agent doctor --repair` moves each damaged file (with its `-wal`
and `-shm`) aside under a dated name, never deleting anything, and leaves an empty database in its place that the
store fills with its schema on next use.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from agent.store import faults

__all__ = ["STORES", "StoreState", "check_store", "check_stores", "repair_store"]

_LOGGER = logging.getLogger(__name__)

STORES: tuple[tuple[str, str], ...] = (
    ("history", "history.sqlite"),
    ("notes", "notes.db"),
    ("finance", "finance.db"),
    ("time tracking", "timetrack.db"),
    ("scheduler", "scheduler.sqlite"),
    ("automation", "automation.sqlite3"),
    ("file index", "files/manifest.sqlite"),
    ("API idempotency keys", "api/idempotency.sqlite"),
)
"""(what it holds, its path under the data dir) for every SQLite store with user data or state."""


@dataclass(frozen=True)
class StoreState:
    name: str
    path: Path
    state: str  # "ok", "new" (not created yet), "damaged", "unavailable", "full"
    detail: str
    fix: str = ""

    @property
    def ok(self) -> bool:
        return self.state in ("ok", "new")


def check_store(name: str, path: Path) -> StoreState:
    """The state of one store, read without changing it (the file is opened read-write but never created)."""
    if not path.exists():
        return StoreState(name, path, "new", f"{path}: not created yet (made on first use)")
    note = ""
    try:
        verdict = _quick_check(path, "mode=rw")
    except (sqlite3.Error, OSError) as exc:
        err = faults.classify(path, exc)
        if err is None:
            return StoreState(name, path, "unavailable", f"{path}: {exc}", f"check {path} and its folder")
        if err.problem != "full":
            return StoreState(name, path, err.problem, str(err).split(" Fix: ")[0], err.fix)
        try:  # a full disk: read it without creating its -wal/-shm, as the stores then do
            verdict, note = _quick_check(path, "immutable=1"), ", read-only: its disk is full"
        except sqlite3.Error as again:
            if (damaged := faults.classify(path, again)) is not None and damaged.problem == "damaged":
                return StoreState(name, path, "damaged", str(damaged).split(" Fix: ")[0], damaged.fix)
            return StoreState(name, path, "full", str(err).split(" Fix: ")[0], err.fix)
    if verdict != "ok":
        return StoreState(name, path, "damaged", f"{path}: quick_check says {verdict!r}", faults.REPAIR_FIX)
    size = path.stat().st_size
    return StoreState(name, path, "ok", f"{path}: quick_check ok ({size // 1024} KB{note})")


def _quick_check(path: Path, mode: str) -> str:
    conn = sqlite3.connect(f"{path.as_uri()}?{mode}", uri=True, timeout=5)
    try:
        return str(conn.execute("PRAGMA quick_check").fetchone()[0])
    finally:
        conn.close()


def check_stores(data: Path) -> list[StoreState]:
    return [check_store(name, data / rel) for name, rel in STORES]


def repair_store(path: Path, now: datetime | None = None) -> Path:
    """Move `path` (and its -wal, -shm) aside as `<name>.damaged-YYYYmmdd-HHMMSS`, put an empty database in its
    place, and return where the old one went. Nothing is deleted."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    dest = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while dest.exists():
        n += 1
        dest = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, dest.with_name(dest.name + suffix))
    os.replace(path, dest)
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()
    faults.forget(path)
    _LOGGER.warning("store %s was damaged: moved aside to %s; a fresh one starts empty", path, dest)
    return dest
