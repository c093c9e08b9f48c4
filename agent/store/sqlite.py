"""A small shared SQLite helper: one database file under the data dir, opened for crash safety.

- WAL journal: readers never block the writer, and a crash (kill -9, power loss) never corrupts the file;
- `synchronous=FULL` by default: every COMMIT is fsynced before it returns, so a committed transaction survives
  power loss and OS crashes too, not just a killed process (`NORMAL` in WAL mode may lose the last commits on power
  loss). Writes here are human-paced (a note, an expense), so one fsync per commit costs nothing anyone notices;
- foreign keys on, and a busy timeout so two processes (the resident agent and `agent ask`) wait for each other
  instead of failing with "database is locked";
- numbered migrations recorded in a `schema_migrations` table, each applied in its own transaction;
- `transaction()`: BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception;
- faults in the user's words: a damaged file, a full disk or a file that cannot be opened raise `StoreError`
  (naming the file, the problem and the fix; logged once), never a bare `sqlite3` error (`agent.store.faults`).

    db = Database.open(paths.data / "notes.db", MIGRATIONS)
    with db.transaction() as conn:
        conn.execute("INSERT INTO notes(text) VALUES (?)", ("buy milk",))
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path
from typing import Any, Literal, NoReturn, TypeVar

from agent.errors import StoreError
from agent.store import faults

__all__ = ["Database", "Migration", "split_statements"]

_LOGGER = logging.getLogger(__name__)

Migration = str | Callable[[sqlite3.Connection], None]
"""SQL text (one or more statements) or a function given the connection inside the migration's transaction."""

Synchronous = Literal["NORMAL", "FULL", "EXTRA"]

T = TypeVar("T")


def split_statements(sql: str) -> list[str]:
    """Split SQL text into complete statements (`;` inside strings or trigger bodies does not split)."""
    out: list[str] = []
    buf = ""
    pieces = sql.split(";")
    for i, piece in enumerate(pieces):
        buf += piece + (";" if i < len(pieces) - 1 else "")
        if buf.strip() and sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        if not sqlite3.complete_statement(buf + ";"):
            raise ValueError(f"incomplete SQL statement: {buf.strip()[:80]!r}")
        out.append(buf.strip())  # the last statement may omit its ";"
    return out


class Database:
    """One connection to one SQLite file, shared by the threads of a process (calls are serialised)."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn
        self._lock = threading.RLock()
        self.full: StoreError | None = None  # set while opened read-only because its disk is full
        self._retry: Callable[[], Database] | None = None  # reopens it for writing

    def _writable(self) -> None:
        """Opened read-only on a full disk: reopen for writing if space was freed, else raise "disk is full"."""
        if self.full is None:
            return
        assert self._retry is not None
        try:
            fresh = self._retry()
        except StoreError as exc:
            raise faults.report(exc if exc.problem != "full" else faults.full_error(self.path)) from exc
        self.conn.close()
        self.conn, self.full, self._retry = fresh.conn, None, None
        faults.forget(self.path)
        _LOGGER.info("%s: space is back; writable again", self.path)

    @classmethod
    def open(cls, path: Path, migrations: Sequence[Migration] = (), *, synchronous: Synchronous = "FULL",
             busy_timeout_ms: int = 5000) -> Database:
        """Open (creating it and its folder if needed) and bring the schema up to date.

        Raises `StoreError` when the file is damaged, its disk is full or it cannot be opened. On a full disk an
        existing store opens read-only instead (`full` says why): reads work, and each write first tries to
        reopen it for writing (it succeeds once space is freed) or raises the "disk is full" `StoreError`."""
        try:
            return cls._open_rw(path, migrations, synchronous, busy_timeout_ms)
        except StoreError as err:
            if err.problem != "full" or not path.is_file():
                raise faults.report(err) from err
            db = cls._open_read_only(path, len(migrations), faults.report(err))
            db._retry = partial(cls._open_rw, path, migrations, synchronous, busy_timeout_ms)
            return db

    @classmethod
    def _open_rw(cls, path: Path, migrations: Sequence[Migration], synchronous: Synchronous,
                 busy_timeout_ms: int) -> Database:
        conn: sqlite3.Connection | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=busy_timeout_ms / 1000, isolation_level=None,
                                   check_same_thread=False)
            return cls._setup(path, conn, migrations, synchronous, busy_timeout_ms)
        except BaseException as exc:
            if conn is not None:
                conn.close()
            if not isinstance(exc, sqlite3.Error | OSError):
                raise
            err = faults.classify(path, exc)
            if err is None:
                raise
            raise err from exc

    @classmethod
    def _open_read_only(cls, path: Path, schema_version: int, full: StoreError) -> Database:
        """`path` for reading only, without creating its -wal/-shm (read-only, else as an immutable file)."""
        for mode in ("mode=ro", "immutable=1"):
            conn: sqlite3.Connection | None = None
            try:
                conn = sqlite3.connect(f"{path.as_uri()}?{mode}", uri=True, isolation_level=None,
                                       check_same_thread=False)
                conn.row_factory = sqlite3.Row
                version = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]
            except sqlite3.Error as exc:
                _LOGGER.debug("%s: read-only open (%s) failed: %s", path, mode, exc)
                if conn is not None:
                    conn.close()
                continue
            if int(version) < schema_version:  # its schema needs a migration, which needs space
                conn.close()
                break
            db = cls(path, conn)
            db.full = full
            return db
        raise full

    @classmethod
    def _setup(cls, path: Path, conn: sqlite3.Connection, migrations: Sequence[Migration], synchronous: Synchronous,
               busy_timeout_ms: int) -> Database:
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            _LOGGER.warning("%s: journal mode is %s, not WAL", path, mode)
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute("PRAGMA foreign_keys = ON")
        db = cls(path, conn)
        db.migrate(migrations)
        return db

    def _fault(self, exc: BaseException) -> NoReturn:
        """Re-raise `exc` as the `StoreError` it means (a damaged file, a full disk), else as it is."""
        err = faults.classify(self.path, exc)
        if err is None:
            raise exc
        raise faults.report(err) from exc

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE (take the write lock now) ... COMMIT; ROLLBACK and re-raise on any exception.

        A full disk or a damaged file raises `StoreError`; the transaction is rolled back, nothing half-written."""
        with self._lock:
            self._writable()
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self.conn
                except BaseException:
                    with suppress(sqlite3.Error):
                        self.conn.execute("ROLLBACK")
                    raise
                try:
                    self.conn.execute("COMMIT")
                except sqlite3.Error:
                    if self.conn.in_transaction:  # a failed COMMIT (disk full) may leave it open
                        with suppress(sqlite3.Error):
                            self.conn.execute("ROLLBACK")
                    raise
            except (sqlite3.Error, OSError) as exc:
                self._fault(exc)

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return list(self.conn.execute(sql, params).fetchall())
            except (sqlite3.Error, OSError) as exc:
                self._fault(exc)

    def version(self) -> int:
        row = self.query("SELECT coalesce(max(version), 0) FROM schema_migrations")
        return int(row[0][0])

    def migrate(self, migrations: Sequence[Migration]) -> int:
        """Apply the migrations numbered after the recorded version; return the new version."""
        with self.transaction() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                         "(version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)")
        current = self.version()
        if current > len(migrations):
            _LOGGER.warning("%s: schema version %d is newer than this code knows (%d)", self.path, current,
                            len(migrations))
        for number, migration in enumerate(migrations, start=1):
            if number <= current:
                continue
            with self.transaction() as conn:
                if callable(migration):
                    migration(conn)
                else:
                    for statement in split_statements(migration):
                        conn.execute(statement)
                conn.execute("INSERT INTO schema_migrations(version, applied_at) VALUES (?, ?)",
                             (number, time.time()))
            _LOGGER.info("%s: schema migrated to version %d", self.path, number)
        return self.version()

    def pragma(self, name: str) -> Any:
        """The value of a read-only pragma (`journal_mode`, `synchronous`, `foreign_keys`...)."""
        if not name.replace("_", "").isalpha():
            raise ValueError(f"not a pragma name: {name!r}")
        return self.query(f"PRAGMA {name}")[0][0]

    def integrity_check(self) -> str:
        """'ok', or SQLite's first complaint."""
        return str(self.query("PRAGMA integrity_check")[0][0])

    def quick_check(self) -> str:
        """'ok', or SQLite's first complaint (`PRAGMA quick_check`: O(N), skips index contents)."""
        return str(self.query("PRAGMA quick_check")[0][0])

    def close(self) -> None:
        with self._lock:
            self.conn.close()
