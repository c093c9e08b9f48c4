"""Indexing as a background job of the resident agent.

The end-to-end test runs `agent run` as a user would (a subprocess, text on its stdin, HOME in a tmp dir), with
the real embedder, Chroma and SQLite, the real API and its WebSocket, and a private session D-Bus with a
recording notification server (tests/notification_server.py) standing in for the desktop's. The job tests use
the real `FileIndex` with the shared real embedder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from agent.bus import Bus
from agent.config import FilesSettings
from agent.events import Alert, Event, Notice, Reply, ResultState, Utterance
from agent.files import FileIndex
from agent.files.job import DONE_NOTICE, PROGRESS_NOTICE, IndexJobs, TurnGate, describe, estimate_files
from agent.paths import Paths
from agent.services import Services
from tests.conftest import run_cli
from tests.notification_server import RecordingServer

TOPICS = ["compost heap and the rose bushes", "quarterly budget and the tax return", "train to Vienna and the ferry",
          "deployment pipeline and the unit tests", "piano lesson and the choir rehearsal"]


def write_docs(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        (folder / f"note-{i:03d}.md").write_text(f"# Note {i}\n\nThoughts on the {topic}, number {i}.\n",
                                                 encoding="utf-8")
    (folder / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n", encoding="utf-8")


# -- the job, in process -----------------------------------------------------------------------------------------
def test_estimate_counts_what_an_index_run_would_look_at(paths: Paths, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write_docs(docs, 12)
    (docs / ".hidden").mkdir()
    (docs / ".hidden" / "a.md").write_text("x", encoding="utf-8")
    (docs / "node_modules").mkdir()
    (docs / "node_modules" / "b.js").write_text("x", encoding="utf-8")
    (docs / ".ssh").mkdir()
    (docs / "photo.jpg").write_bytes(b"\xff\xd8")
    index = FileIndex(paths.data / "files", FilesSettings(), lambda: pytest.fail("no embedding to count"))
    assert estimate_files(index, docs) == (12, True)  # not id_rsa (a secret), .ssh, node_modules, the photo
    ticks = iter(range(100))
    assert estimate_files(index, docs, budget_s=0.5, clock=lambda: float(next(ticks))) == (0, False)


def test_turn_gate_is_busy_from_an_utterance_to_its_reply() -> None:
    bus = Bus()
    gate = TurnGate(bus, max_pause_s=5.0)
    gate.attach()
    assert not gate.busy()
    bus.publish(Utterance("index my documents"))
    assert gate.busy()
    released = threading.Event()
    stop = threading.Event()
    waiter = threading.Thread(target=lambda: (gate.wait_idle(stop), released.set()))
    waiter.start()
    assert not released.wait(0.3)  # the indexer waits while the turn runs
    bus.publish(Reply("Indexing ~/Documents", ResultState.OK))
    assert released.wait(5)
    waiter.join()
    gate.detach()


@pytest.mark.slow
def test_a_job_runs_once_per_folder_publishes_progress_and_resumes(paths: Paths, shared_services: Services,
                                                                   tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write_docs(docs, 60)
    bus = Bus()
    events: list[Event] = []
    bus.subscribe(Event, events.append)
    index = FileIndex(paths.data / "files", FilesSettings(), shared_services.embedder)
    jobs = IndexJobs(index, bus, publish_every_s=0.0)
    first, new = jobs.submit(docs)
    again, new_again = jobs.submit(docs)  # asked twice before it starts: one job
    assert (new, new_again) == (True, False)
    assert (first.estimate, first.state, again.root) == (60, "queued", str(docs.resolve()))
    jobs.start(resume=False)
    deadline = time.monotonic() + 120
    while jobs.jobs()[0].running and time.monotonic() < deadline:
        time.sleep(0.05)
    done = jobs.jobs()[0]
    assert (done.state, done.indexed, done.skipped, done.total) == ("done", 60, 1, 60)
    progress = [e for e in events if isinstance(e, Notice) and e.name == PROGRESS_NOTICE]
    assert progress[0].data["state"] == "queued"
    assert any(e.data["state"] == "indexing" and 0 < e.data["done"] < 60 for e in progress)
    assert [e.name for e in events if isinstance(e, Notice)][-1] == DONE_NOTICE
    alert = [e for e in events if isinstance(e, Alert)][-1]
    assert alert.title == "Indexing done"
    assert "Indexed 60 files" in alert.message
    assert describe(done) == alert.message
    assert index.manifest.unfinished_jobs() == []
    jobs.stop()

    # stopped part way (the agent quits), the next start resumes it and skips what was stored
    write_docs(tmp_path / "more", 300)
    jobs = IndexJobs(index, bus, publish_every_s=0.0)
    jobs.submit(tmp_path / "more")
    seen = threading.Event()
    bus.subscribe(Notice, lambda e: seen.set() if isinstance(e, Notice) and e.data.get("done", 0) > 0 else None)
    jobs.start(resume=False)
    assert seen.wait(120)
    jobs.stop()
    stopped = jobs.jobs()[0]
    assert stopped.state in ("stopped", "done")
    assert index.manifest.unfinished_jobs() == ([] if stopped.state == "done" else [str((tmp_path / "more").resolve())])
    resumed = IndexJobs(index, bus, publish_every_s=0.0).start()
    deadline = time.monotonic() + 180
    while (not resumed.jobs() or resumed.jobs()[0].running) and time.monotonic() < deadline and stopped.state != "done":
        time.sleep(0.05)
    if stopped.state != "done":
        final = resumed.jobs()[0]
        assert final.state == "done"
        assert final.unchanged >= stopped.indexed > 0  # what the first run stored is not embedded again
        assert final.indexed + final.unchanged == 300
    resumed.stop()
    assert index.manifest.file_count() == 360


# -- the resident agent, end to end ------------------------------------------------------------------------------
@pytest.fixture
def dbus_session(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    assert shutil.which("dbus-daemon"), "dbus-daemon is needed (scripts/setup.sh installs it)"
    proc = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    address = proc.stdout.readline().decode().strip()
    try:
        yield address
    finally:
        proc.terminate()
        proc.wait(5)
        proc.stdout.close()


class Lines:
    """The agent's stdout, line by line, read on a thread (so a test can wait with a timeout)."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.reader.start()
        self._next = 0

    def _read(self, stream: IO[str]) -> None:
        for line in iter(stream.readline, ""):
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()

    def wait(self, predicate: Any, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i in range(self._next, len(self.lines)):
                    if predicate(self.lines[i]):
                        self._next = i + 1
                        return self.lines[i]
                left = deadline - time.monotonic()
                assert left > 0, f"no such line in {timeout} s; got {self.lines[-20:]}"
                self._cond.wait(left)


def next_of(ws: ClientConnection, kind: str, timeout: float = 60.0, **match: Any) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no {kind} message {match} in {timeout} s"
        message = json.loads(ws.recv(timeout=left))
        if message["type"] == kind and all(message.get(k) == v for k, v in match.items()):
            return message


@pytest.mark.slow
def test_resident_agent_indexes_in_the_background(agent_home: Path, tmp_path: Path, dbus_session: str) -> None:
    home = tmp_path / "home"
    write_docs(home / "Documents", 240)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env |= {"AGENT_HOME": str(agent_home), "HOME": str(home), "AGENT_API__PORT": "0",
            "DBUS_SESSION_BUS_ADDRESS": dbus_session, "AGENT_VOICE__ENABLED": "false"}
    notifications = RecordingServer(dbus_session)
    proc = subprocess.Popen([sys.executable, "-m", "agent", "run"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env)
    assert proc.stdin is not None
    assert proc.stdout is not None
    out = Lines(proc.stdout)
    try:
        out.wait(lambda line: line.startswith("agent ready"), timeout=120)
        url = json.loads((agent_home / "data" / "api" / "server.json").read_text())["url"]
        token = run_cli("api", "token", env={"AGENT_HOME": str(agent_home)}).stdout.strip()
        auth = {"Authorization": f"Bearer {token}"}
        with connect(url.replace("http", "ws", 1) + "/api/events?types=Notice,Alert", additional_headers=auth,
                     open_timeout=10) as ws:
            assert json.loads(ws.recv(timeout=10))["type"] == "hello"
            proc.stdin.write("index my documents\n")
            proc.stdin.flush()
            answer = out.wait(lambda line: "Documents" in line, timeout=60)
            assert answer == "Indexing ~/Documents, about 240 files; I'll tell you when it's done."
            queued = next_of(ws, "Notice", name="files.index.progress")
            assert (queued["data"]["root"], queued["data"]["estimate"]) == (str(home / "Documents"), 240)
            running = next_of(ws, "Notice", name="files.index.progress", timeout=300)
            while running["data"]["state"] != "indexing" or not running["data"]["total"]:
                running = next_of(ws, "Notice", name="files.index.progress", timeout=300)
            assert running["data"]["total"] == 240

            status = httpx.get(url + "/api/files/index", headers=auth, timeout=10).json()
            assert status["resident"] is True
            assert status["jobs"][0]["root"] == str(home / "Documents")
            proc.stdin.write("how far is the indexing\n")
            proc.stdin.flush()
            how_far = out.wait(lambda line: "~/Documents" in line, timeout=60)
            assert how_far.startswith(("Indexing ~/Documents: ", "Indexed 240 files in ~/Documents")), how_far

            done = next_of(ws, "Alert", title="Indexing done", timeout=300)
            assert done["message"].startswith("Indexed 240 files in ~/Documents, 1 skipped in ")
        note = notifications.next(timeout=30)
        while note.summary != "Indexing done":
            note = notifications.next(timeout=30)
        assert "Indexed 240 files" in note.body
        status = httpx.get(url + "/api/files/index", headers=auth, timeout=10).json()
        assert (status["running"], status["jobs"][0]["state"], status["jobs"][0]["indexed"]) == (False, "done", 240)
        proc.stdin.write("search my files for the choir rehearsal\n")
        proc.stdin.flush()
        assert out.wait(lambda line: "best match" in line, timeout=60).startswith("The best match is note-")
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        out.reader.join(10)
        proc.stdin.close()
        proc.stdout.close()
        notifications.close()


def test_tray_tooltip_follows_the_index_job() -> None:
    from tray import TrayModel

    model = TrayModel()
    progress = {"root": "/home/u/Documents", "state": "indexing", "done": 120, "total": 480}
    assert model.apply(Notice(PROGRESS_NOTICE, progress, "files"))
    assert model.tooltip() == "Agent: idle, indexing Documents 120/480 (25%)"
    assert model.apply(Notice(PROGRESS_NOTICE, {**progress, "state": "done", "done": 480}, "files"))
    assert model.tooltip() == "Agent: idle"
