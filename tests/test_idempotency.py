"""Issue 15: a retried API write never duplicates. `Idempotency-Key` against a real API server, a real SQLite key
store, and a real `agent api` process killed with SIGKILL between the first request and its retry."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agent.api import load_token, start_server
from agent.api.idempotency import IdempotencyKeys
from agent.config import load_settings
from agent.paths import get_paths
from agent.services import build_services
from tests.conftest import run_cli


@pytest.fixture
def client(agent_home: Path) -> Iterator[httpx.Client]:
    env = {"AGENT_HOME": str(agent_home), "AGENT_AUTOMATION__DESKTOP_NOTIFY": "false"}
    paths = get_paths(env).ensure()
    services = build_services(paths, load_settings(paths, env=env))
    server = start_server(services, port=0, metrics_interval_s=0)
    try:
        with httpx.Client(base_url=server.url, timeout=120,
                          headers={"Authorization": f"Bearer {load_token(paths)}"}) as c:
            yield c
    finally:
        server.stop()


def _notes(client: httpx.Client) -> str:
    return str(client.post("/api/ask", json={"text": "list my notes"}).json()["reply"])


def test_a_retry_with_the_same_key_returns_the_first_answer_and_writes_once(client: httpx.Client) -> None:
    first = client.post("/api/ask", json={"text": "take a note buy milk"}, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 200
    assert first.json()["state"] == "ok"
    assert "idempotent-replayed" not in first.headers
    again = client.post("/api/ask", json={"text": "take a note buy milk"}, headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert _notes(client).startswith("You have 1 note.")

    other = client.post("/api/ask", json={"text": "take a note buy eggs"}, headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 422
    assert "used for another request" in other.json()["error"]
    assert client.post("/api/ask", json={"text": "x"}, headers={"Idempotency-Key": "bad key"}).status_code == 422
    wrong = client.post("/api/ask", json={"text": "take a note buy milk"},
                        headers={"Idempotency-Key": "k-1", "Authorization": "Bearer wrong"})
    assert wrong.status_code == 401  # never a replay without the token

    # without a key nothing changes: two requests, two notes
    for _ in range(2):
        assert client.post("/api/ask", json={"text": "take a note call bob"}).json()["state"] == "ok"
    assert _notes(client).startswith("You have 3 notes.")


def test_concurrent_retries_run_once(client: httpx.Client) -> None:
    answers: list[httpx.Response] = []
    barrier = threading.Barrier(4)

    def post() -> None:
        barrier.wait()
        answers.append(client.post("/api/ask", json={"text": "take a note water the plants"},
                                   headers={"Idempotency-Key": "same-moment"}))

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(a.status_code for a in answers) in ([200, 200, 200, 200], [200, 200, 200, 409],
                                                      [200, 200, 409, 409], [200, 409, 409, 409])
    assert _notes(client).startswith("You have 1 note.")


def test_a_key_cut_off_by_a_dead_process_is_not_run_again(client: httpx.Client, agent_home: Path) -> None:
    store = agent_home / "data" / "api" / "idempotency.sqlite"
    request = client.post("/api/ask", json={"text": "take a note one"}, headers={"Idempotency-Key": "warm"})
    assert request.status_code == 200
    body = json.dumps({"text": "take a note lost reply"}, separators=(",", ":")).encode()
    claimed = subprocess.run(  # another process records the key as pending, then dies (like a kill -9 mid-request)
        [sys.executable, "-c", "import hashlib, sys; from pathlib import Path; "
         "from agent.api.idempotency import IdempotencyKeys; "
         "IdempotencyKeys(Path(sys.argv[1])).claim('cut-off', 'POST /api/ask ' + hashlib.sha256(sys.argv[2]"
         ".encode()).hexdigest())", str(store), body.decode()], capture_output=True, text=True, check=False)
    assert claimed.returncode == 0, claimed.stderr
    retry = client.post("/api/ask", content=body, headers={"Idempotency-Key": "cut-off",
                                                           "Content-Type": "application/json"})
    assert retry.status_code == 409
    assert "interrupted" in retry.json()["error"]
    assert _notes(client).startswith("You have 1 note.")


def test_keys_expire(tmp_path: Path) -> None:
    now = [1_800_000_000.0]
    keys = IdempotencyKeys(tmp_path / "keys.sqlite", ttl_s=60, clock=lambda: now[0])
    assert keys.claim("a", "POST /x 1") is None
    keys.finish("a", 200, "application/json", b"{}")
    seen = keys.claim("a", "POST /x 1")
    assert seen is not None
    assert (seen.state, seen.body) == ("done", b"{}")
    now[0] += 61
    assert keys.claim("a", "POST /x 1") is None  # expired: a new request
    assert keys.db.pragma("synchronous") == 2  # FULL


@pytest.mark.slow  # two `agent api` processes, each loading the router's models
def test_a_retry_after_the_server_was_killed_returns_the_first_answer(agent_home: Path) -> None:
    env = {**os.environ, "AGENT_HOME": str(agent_home)}

    def serve() -> tuple[subprocess.Popen[str], str]:
        proc = subprocess.Popen([sys.executable, "-m", "agent", "api", "--port", "0"], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, env=env)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        proc.stdout.close()
        assert line.startswith("API serving on "), line
        return proc, line.split()[3]

    token = run_cli("api", "token", env={"AGENT_HOME": str(agent_home)}).stdout.strip()
    auth = {"Authorization": f"Bearer {token}", "Idempotency-Key": "expense-1"}
    proc, url = serve()
    try:
        first = httpx.post(url + "/api/ask", json={"text": "I spent 12 dollars on lunch"}, headers=auth, timeout=120)
        assert first.json()["state"] == "ok"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    proc, url = serve()
    try:
        retry = httpx.post(url + "/api/ask", json={"text": "I spent 12 dollars on lunch"}, headers=auth, timeout=120)
        assert retry.headers["idempotent-replayed"] == "true"
        assert retry.json() == first.json()
        spent = httpx.post(url + "/api/ask", json={"text": "how much did I spend this month"},
                           headers={"Authorization": f"Bearer {token}"}, timeout=120).json()
        assert "$12.00" in spent["reply"]
        assert "$24.00" not in spent["reply"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
