"""Issue 15: one damaged store never silences the agent. Real damaged files, the real agent (CLI, `agent run`, API).

Each store fails alone: its skills answer with the file, what is wrong and the fix; everything else answers;
`agent doctor` lists every store with its state; `agent doctor --repair` moves a damaged file aside (never deletes
it) and the store starts fresh.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from agent.api import load_token, start_server
from agent.config import load_settings
from agent.paths import Paths, get_paths
from agent.services import build_services
from agent.store.health import STORES, check_store, repair_store
from tests.conftest import run_cli

# what a disk error or a stray write leaves: bytes that are not an SQLite database
GARBAGE = b"\x00\x13 this block was overwritten by something else \xff\xfe" * 512
REPAIR = "agent doctor --repair"


def _damage(data: Path, rel: str) -> bytes:
    path = data / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(GARBAGE)
    return GARBAGE


def _malformed(path: Path) -> None:
    """A real database whose second page was overwritten: the header is fine, the b-tree is not."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x TEXT)")
    conn.executemany("INSERT INTO t VALUES (?)", [(f"row {i}" * 20,) for i in range(400)])
    conn.commit()
    conn.close()
    with path.open("r+b") as f:
        f.seek(4096 + 16)
        f.write(b"\xde\xad\xbe\xef" * 256)


def test_a_damaged_history_never_fails_a_request(agent_home: Path) -> None:
    data = agent_home / "data"
    _damage(data, "history.sqlite")
    asked = run_cli("ask", "--json", "what is six times seven", timeout=180)
    assert asked.returncode == 0, asked.stderr
    out = json.loads(asked.stdout)
    assert (out["skill"], out["state"]) == ("math.calc", "ok")
    assert "42" in out["reply"]
    assert "Traceback" not in asked.stderr
    # announced once, with the file and the fix
    assert asked.stderr.count(f"{data / 'history.sqlite'} is damaged") == 1, asked.stderr
    assert REPAIR in asked.stderr
    assert (data / "history.sqlite").read_bytes() == GARBAGE  # never deleted or rewritten
    listed = run_cli("history", "list", timeout=60)
    assert listed.returncode == 1
    assert "history is off" in listed.stderr
    assert REPAIR in listed.stderr
    assert "Traceback" not in listed.stderr


def test_a_damaged_history_does_not_fail_the_api(agent_home: Path) -> None:
    env = {"AGENT_HOME": str(agent_home), "AGENT_AUTOMATION__DESKTOP_NOTIFY": "false"}
    paths = get_paths(env).ensure()
    _damage(paths.data, "history.sqlite")
    services = build_services(paths, load_settings(paths, env=env))
    server = start_server(services, port=0, metrics_interval_s=0)
    try:
        auth = {"Authorization": f"Bearer {load_token(paths)}"}
        with httpx.Client(base_url=server.url, timeout=120) as client:
            for text in ("what is six times seven", "calculate 15 times 24"):
                answer = client.post("/api/ask", json={"text": text}, headers=auth)
                assert answer.status_code == 200, answer.text
                assert answer.json()["state"] == "ok"
    finally:
        server.stop()
    assert services.history_error is not None
    assert services.history_error.path == str(paths.data / "history.sqlite")


@pytest.mark.slow  # one resident agent process with the embedding model
def test_each_damaged_store_fails_alone_in_the_resident_agent(agent_home: Path) -> None:
    config = agent_home / "config"
    config.mkdir(parents=True)
    (config / "config.yaml").write_text("api: {enabled: false}\nui: {preload: false}\n")
    data = agent_home / "data"
    for _name, rel in STORES:
        _damage(data, rel)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISPLAY", "DBUS_SESSION", "WAYLAND"))}
    requests = ["take a note buy milk", "I spent 12 dollars on lunch", "start tracking time on project apollo",
                "what is six times seven", "quit"]
    result = subprocess.run([sys.executable, "-m", "agent", "run"], input="\n".join(requests) + "\n", env=env,
                            capture_output=True, text=True, timeout=240, check=False)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stdout.splitlines()
    ready = next(line for line in lines if line.startswith("agent ready"))
    # the start-up line does not claim what is not running
    assert "not running: scheduler, automation, files" in ready, ready
    assert "scheduler," not in ready.split("not running")[0]
    replies = [line for line in lines if not line.startswith(("agent ready", "["))]
    for reply, rel in zip(replies, ("notes.db", "finance.db", "timetrack.db"), strict=False):
        assert f"{data / rel} is damaged" in reply, replies
        assert REPAIR in reply
    assert "6 times 7 is 42." in lines, lines
    for _name, rel in STORES:  # nothing was deleted or rewritten
        assert (data / rel).read_bytes() == GARBAGE, rel


def test_doctor_lists_every_store_and_repair_moves_the_damaged_one_aside(agent_home: Path) -> None:
    data = agent_home / "data"
    data.mkdir(parents=True)
    _damage(data, "notes.db")
    _malformed(data / "finance.db")
    added = run_cli("ask", "--json", "start tracking time on project apollo", timeout=180)
    assert json.loads(added.stdout)["state"] == "ok", added.stdout
    doctor = run_cli("doctor", "--json", timeout=60)
    assert doctor.returncode == 0, doctor.stderr
    states = {c["name"]: c for c in json.loads(doctor.stdout) if c["name"].startswith("store: ")}
    assert set(states) == {f"store: {name}" for name, _ in STORES}
    assert states["store: notes"]["state"] == "damaged"
    assert REPAIR in states["store: notes"]["fix"]
    assert states["store: finance"]["state"] == "damaged"
    assert states["store: time tracking"]["state"] == "ok"
    assert "quick_check ok" in states["store: time tracking"]["detail"]
    assert states["store: scheduler"]["state"] in ("ok", "new")

    repaired = run_cli("doctor", "--repair", timeout=60)
    assert repaired.returncode == 0, repaired.stderr
    moved = sorted(data.glob("notes.db.damaged-*"))
    assert len(moved) == 1
    assert moved[0].read_bytes() == GARBAGE
    assert f"repaired {data / 'notes.db'}: the damaged file was moved to {moved[0]}" in repaired.stdout
    assert len(list(data.glob("finance.db.damaged-*"))) == 1
    assert "damaged" not in [line.split()[2] for line in repaired.stdout.splitlines() if line.startswith("store:")]
    noted = run_cli("ask", "--json", "take a note buy milk", timeout=180)
    assert json.loads(noted.stdout)["state"] == "ok", noted.stdout
    assert json.loads(run_cli("ask", "--json", "stop tracking time", timeout=180).stdout)["state"] == "ok"


def test_check_and_repair_in_process(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    assert check_store("x", path).state == "new"
    path.write_bytes(GARBAGE)
    assert check_store("x", path).state == "damaged"
    (tmp_path / "x.db-wal").write_bytes(b"wal")  # its journal goes along with it
    dest = repair_store(path)
    assert dest.read_bytes() == GARBAGE
    assert (tmp_path / (dest.name + "-wal")).read_bytes() == b"wal"
    assert check_store("x", path).state == "ok"
    path.unlink()
    path.mkdir()  # a directory where the file should be
    assert check_store("x", path).state == "unavailable"


def test_every_store_commits_with_synchronous_full(paths: Paths) -> None:
    """Issue 15: history, automation and the file-index manifest ran synchronous=NORMAL (last commits lost on a
    power cut). Read on each store's own connection (the pragma is per connection)."""
    from agent.automation.store import AutomationStore
    from agent.files.manifest import Manifest
    from agent.history import HistoryStore
    from agent.skills.finance import ExpenseStore
    from agent.skills.notes import NoteStore
    from agent.skills.timetrack import TimeStore

    full = 2
    assert HistoryStore(paths, use_keyring=False)._db.pragma("synchronous") == full
    assert AutomationStore.for_data_dir(paths.data)._db.pragma("synchronous") == full
    assert Manifest(paths.data / "files" / "manifest.sqlite")._db().execute("PRAGMA synchronous").fetchone()[0] == full
    for store in (NoteStore(paths.data / "notes.db"), ExpenseStore(paths.data / "finance.db"),
                  TimeStore(paths.data / "timetrack.db")):
        assert store.db.pragma("synchronous") == full
