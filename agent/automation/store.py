"""The automation store (SQLite, WAL): rule state, traces, alerts, security findings, acknowledgements, baselines.

One file, `<data dir>/automation.sqlite3`, shared by the resident engine and one-shot CLI commands.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from agent.store.sqlite import Database

__all__ = ["AutomationStore"]

_LOGGER = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rule_state (rule_id TEXT PRIMARY KEY, digest TEXT, state TEXT NOT NULL, updated REAL);
CREATE TABLE IF NOT EXISTS traces (id INTEGER PRIMARY KEY, rule_id TEXT NOT NULL, ts REAL NOT NULL, trace TEXT);
CREATE INDEX IF NOT EXISTS traces_rule ON traces (rule_id, id);
CREATE TABLE IF NOT EXISTS alerts (id INTEGER PRIMARY KEY, ts REAL NOT NULL, rule_id TEXT, title TEXT,
    message TEXT, severity TEXT, shown INTEGER);
CREATE TABLE IF NOT EXISTS findings (id TEXT PRIMARY KEY, check_name TEXT, severity TEXT, title TEXT,
    evidence TEXT, fix TEXT, first_seen REAL, last_seen REAL, active INTEGER);
CREATE TABLE IF NOT EXISTS acks (finding_id TEXT PRIMARY KEY, ts REAL, note TEXT);
CREATE TABLE IF NOT EXISTS baseline (kind TEXT, key TEXT, value TEXT, ts REAL, PRIMARY KEY (kind, key));
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT);
"""
_TRACES_KEPT = 20
_ALERTS_KEPT = 500


class AutomationStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        # FULL like every store with user data: alerts, acknowledgements and baselines survive a power cut
        self._db = Database.open(path, [_SCHEMA], synchronous="FULL", busy_timeout_ms=10_000)

    @classmethod
    def for_data_dir(cls, data: Path) -> AutomationStore:
        return cls(data / "automation.sqlite3")

    def close(self) -> None:
        self._db.close()

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._db.transaction()

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        return self._db.query(sql, args)

    # -- rule state ----------------------------------------------------------------------------------------
    def save_states(self, states: dict[str, tuple[str, dict[str, Any]]]) -> None:
        """`{rule_id: (digest, state)}`."""
        now = time.time()
        with self._tx() as db:
            db.executemany("INSERT OR REPLACE INTO rule_state VALUES (?, ?, ?, ?)",
                           [(rid, dig, json.dumps(st), now) for rid, (dig, st) in states.items()])

    def load_states(self) -> dict[str, tuple[str, dict[str, Any]]]:
        rows = self._query("SELECT rule_id, digest, state FROM rule_state")
        return {rid: (dig, json.loads(st)) for rid, dig, st in rows}

    # -- traces --------------------------------------------------------------------------------------------
    def add_trace(self, rule_id: str, trace: dict[str, Any]) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO traces (rule_id, ts, trace) VALUES (?, ?, ?)",
                       (rule_id, trace.get("started", time.time()), json.dumps(trace, default=str)))
            db.execute("DELETE FROM traces WHERE rule_id = ? AND id NOT IN "
                       "(SELECT id FROM traces WHERE rule_id = ? ORDER BY id DESC LIMIT ?)",
                       (rule_id, rule_id, _TRACES_KEPT))

    def traces(self, rule_id: str, limit: int = _TRACES_KEPT) -> list[dict[str, Any]]:
        rows = self._query("SELECT trace FROM traces WHERE rule_id = ? ORDER BY id DESC LIMIT ?", (rule_id, limit))
        return [json.loads(r[0]) for r in rows]

    def last_trace_ts(self) -> dict[str, float]:
        return {r: ts for r, ts in self._query("SELECT rule_id, MAX(ts) FROM traces GROUP BY rule_id")}

    # -- alerts --------------------------------------------------------------------------------------------
    def add_alert(self, rule_id: str, title: str, message: str, severity: str, shown: bool) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO alerts (ts, rule_id, title, message, severity, shown) VALUES (?, ?, ?, ?, ?, ?)",
                       (time.time(), rule_id, title, message, severity, int(shown)))
            db.execute("DELETE FROM alerts WHERE id <= (SELECT MAX(id) FROM alerts) - ?", (_ALERTS_KEPT,))

    def alerts(self, limit: int = 20, since: float = 0.0) -> list[dict[str, Any]]:
        rows = self._query("SELECT ts, rule_id, title, message, severity, shown FROM alerts WHERE ts >= ? "
                           "ORDER BY id DESC LIMIT ?", (since, limit))
        return [{"ts": ts, "rule": r, "title": t, "message": m, "severity": sev, "shown": bool(sh)}
                for ts, r, t, m, sev, sh in rows]

    # -- findings and acknowledgements ---------------------------------------------------------------------
    def record_findings(self, check_names: list[str], findings: list[dict[str, Any]]) -> set[str]:
        """Store this scan's findings; findings of the checks that ran but are gone become inactive.
        Returns the ids seen for the first time."""
        now = time.time()
        with self._tx() as db:
            known = {r[0] for r in db.execute("SELECT id FROM findings").fetchall()}
            db.executemany("UPDATE findings SET active = 0 WHERE check_name = ?", [(c,) for c in check_names])
            for f in findings:
                db.execute(
                    "INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT(id) DO UPDATE SET "
                    "severity = excluded.severity, title = excluded.title, evidence = excluded.evidence, "
                    "fix = excluded.fix, last_seen = excluded.last_seen, active = 1",
                    (f["id"], f["check"], f["severity"], f["title"], f["evidence"], f["fix"], now, now))
        return {f["id"] for f in findings} - known

    def findings(self, *, active_only: bool = True) -> list[dict[str, Any]]:
        rows = self._query(
            "SELECT f.id, check_name, severity, title, evidence, fix, first_seen, last_seen, active, a.ts, a.note "
            "FROM findings f LEFT JOIN acks a ON a.finding_id = f.id" + (" WHERE active = 1" if active_only else "")
            + " ORDER BY last_seen DESC")
        return [{"id": i, "check": c, "severity": sev, "title": t, "evidence": e, "fix": fx, "first_seen": fs,
                 "last_seen": ls, "active": bool(act), "acknowledged": ack is not None, "ack_note": note}
                for i, c, sev, t, e, fx, fs, ls, act, ack, note in rows]

    def acknowledge(self, finding_id: str, note: str = "") -> bool:
        """Acknowledge a finding so it stops repeating; False if no such finding was ever seen."""
        with self._tx() as db:
            if db.execute("SELECT 1 FROM findings WHERE id = ?", (finding_id,)).fetchone() is None:
                return False
            db.execute("INSERT OR REPLACE INTO acks VALUES (?, ?, ?)", (finding_id, time.time(), note))
        return True

    def acknowledged(self) -> set[str]:
        return {r[0] for r in self._query("SELECT finding_id FROM acks")}

    # -- baselines -----------------------------------------------------------------------------------------
    def baseline(self, kind: str) -> dict[str, str] | None:
        """The baseline entries of `kind`, or None when none was recorded yet."""
        if not self._query("SELECT 1 FROM kv WHERE key = ?", (f"baseline:{kind}",)):
            return None
        return {k: v for k, v in self._query("SELECT key, value FROM baseline WHERE kind = ?", (kind,))}

    def set_baseline(self, kind: str, entries: dict[str, str]) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM baseline WHERE kind = ?", (kind,))
            now = time.time()
            db.executemany("INSERT INTO baseline VALUES (?, ?, ?, ?)", [(kind, k, v, now) for k, v in entries.items()])
            db.execute("INSERT OR REPLACE INTO kv VALUES (?, ?)", (f"baseline:{kind}", str(now)))

    def clear_baselines(self) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM baseline")
            db.execute("DELETE FROM kv WHERE key LIKE 'baseline:%'")

    # -- small values --------------------------------------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        rows = self._query("SELECT value FROM kv WHERE key = ?", (key,))
        return json.loads(rows[0][0]) if rows else default

    def put(self, key: str, value: Any) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO kv VALUES (?, ?)", (key, json.dumps(value, default=str)))
