"""A kill -9 during writes loses nothing committed: real processes, real SIGKILL, real SQLite files."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.store.sqlite import Database, Migration, split_statements

# Writes one entry per committed transaction and prints its id only after the commit returned.
WRITER = r"""
import sys
from pathlib import Path

family, path = sys.argv[1], Path(sys.argv[2])
if family == "notes":
    from agent.skills.notes import NoteStore
    store = NoteStore(path)
    def write(i):
        return store.add(f"note number {i}").id
elif family == "finance":
    from agent.skills.finance import ExpenseStore
    store = ExpenseStore(path)
    def write(i):
        return store.add(100 + i, "USD", "food", f"lunch {i}").id
else:
    from agent.skills.timetrack import TimeStore
    store = TimeStore(path)
    def write(i):
        return store.start(f"project {i % 7}")[0].id
i = 0
while True:
    print(write(i), flush=True)
    i += 1
"""

# One big all-or-nothing transaction (what a CSV import does).
BULK = r"""
import sys
from pathlib import Path
from agent.skills.finance import ExpenseStore

store = ExpenseStore(Path(sys.argv[1]))
rows = [(1.0e9 + i, 100 + i, "EUR", "food", f"row {i}") for i in range(int(sys.argv[2]))]
print("writing", flush=True)
store.add_many(rows, "bulk")
print("committed", flush=True)
"""

TABLES = {"notes": "notes", "finance": "expenses", "timetrack": "entries"}


def _spawn(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _kill(proc: subprocess.Popen[str]) -> tuple[list[str], str]:
    os.kill(proc.pid, signal.SIGKILL)
    rest, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, err
    return rest.splitlines(keepends=True), err


def _reopen_ok(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    return conn


@pytest.mark.parametrize("family", ["notes", "finance", "timetrack"])
def test_kill_9_mid_run_loses_nothing_committed(family: str, tmp_path: Path) -> None:
    path = tmp_path / f"{family}.db"
    proc = _spawn(WRITER, family, str(path))
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while len(lines) < 150:  # the writer is mid-run: it has committed 150 entries and is writing more
        line = proc.stdout.readline()
        assert line, f"writer died: {proc.stderr.read() if proc.stderr else ''}"
        lines.append(line)
        assert time.monotonic() < deadline, "the writer is too slow"
    rest, _ = _kill(proc)
    lines += rest
    committed = {int(line) for line in lines if line.endswith("\n")}  # a torn last line was not reported
    conn = _reopen_ok(path)
    stored = {int(r[0]) for r in conn.execute(f"SELECT id FROM {TABLES[family]}")}
    assert committed <= stored, f"lost {sorted(committed - stored)[:10]}"
    assert len(stored - committed) <= 1  # at most the one committed just before its id could be printed
    if family == "timetrack":  # and the invariants held through the kill: exactly one running entry
        assert conn.execute("SELECT count(*) FROM entries WHERE ended IS NULL").fetchone()[0] == 1
    if family == "notes":  # the full-text index is consistent with the table
        conn.execute("INSERT INTO notes_fts(notes_fts) VALUES ('integrity-check')")
        assert conn.execute("SELECT count(*) FROM notes_fts WHERE notes_fts MATCH 'number'").fetchone()[0] == len(
            stored)
    conn.close()


def test_kill_9_during_one_big_transaction_is_all_or_nothing(tmp_path: Path) -> None:
    path = tmp_path / "finance.db"
    rows = 150_000
    proc = _spawn(BULK, str(path), str(rows))
    assert proc.stdout is not None
    assert proc.stdout.readline() == "writing\n"
    time.sleep(0.05)  # inside the transaction, most likely
    rest, _ = _kill(proc)
    conn = _reopen_ok(path)
    count = conn.execute("SELECT count(*) FROM expenses").fetchone()[0]
    assert count in (0, rows)
    if "committed\n" in rest:
        assert count == rows
    conn.close()


def _add_note_column(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE parent ADD COLUMN note TEXT")


def _orphan(db: Database) -> None:
    with db.transaction() as conn:
        conn.execute("INSERT INTO parent(name) VALUES ('b')")
        conn.execute("INSERT INTO child(parent_id) VALUES (99)")


def test_the_database_helper(tmp_path: Path) -> None:
    migrations: list[Migration] = [
        """
        CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
        CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id));
        CREATE TABLE log (msg TEXT);
        CREATE TRIGGER parent_ai AFTER INSERT ON parent BEGIN
            INSERT INTO log VALUES ('added; ' || new.name);
        END;
        """,
        _add_note_column,
    ]
    db = Database.open(tmp_path / "sub" / "x.db", migrations)
    assert (db.version(), db.pragma("journal_mode"), db.pragma("synchronous"), db.pragma("foreign_keys")) == (
        2, "wal", 2, 1)  # 2 = FULL
    with db.transaction() as conn:
        conn.execute("INSERT INTO parent(name, note) VALUES ('a', 'n')")
    with pytest.raises(sqlite3.IntegrityError):  # foreign keys are enforced
        _orphan(db)
    assert [r[0] for r in db.query("SELECT name FROM parent")] == ["a"]  # the whole transaction rolled back
    assert [r[0] for r in db.query("SELECT msg FROM log")] == ["added; a"]
    db.close()
    again = Database.open(tmp_path / "sub" / "x.db", migrations)  # migrations run once
    assert [r[0] for r in again.query("SELECT version FROM schema_migrations")] == [1, 2]
    assert len(split_statements(str(migrations[0]))) == 4
    assert split_statements("CREATE TABLE a (x); CREATE TABLE b (y)") == ["CREATE TABLE a (x);", "CREATE TABLE b (y)"]
    with pytest.raises(ValueError, match="incomplete"):
        split_statements("CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT 1;")
    assert again.integrity_check() == "ok"
