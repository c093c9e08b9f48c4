"""The security scan on this machine (real psutil, /proc, executor commands), with planted problems in tmp dirs."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.automation import AutomationStore, run_scan
from agent.automation.health import format_health
from agent.automation.security import CHECKS
from agent.events import Notice
from agent.pipeline import Pipeline
from agent.services import Services
from tests.conftest import run_cli


@pytest.fixture
def store(services: Services) -> Iterator[AutomationStore]:
    s = AutomationStore.for_data_dir(services.paths.data)
    yield s
    s.close()


@pytest.fixture
def exposed_port() -> Iterator[int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("0.0.0.0", 0))  # noqa: S104 - the point: a port open on all interfaces
    sock.listen()
    yield sock.getsockname()[1]
    sock.close()


def test_new_ports_against_the_baseline(services: Services, store: AutomationStore):
    run_scan(services.executor, store, only=["ports"])  # baseline
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        report = run_scan(services.executor, store, only=["ports"])
    new = [f for f in report.findings if f.id.startswith(f"port.new.tcp.{port}.")]
    assert len(new) == 1
    assert new[0].severity == "low"
    assert str(port) in new[0].evidence


def test_ssh_settings_with_includes(services: Services, store: AutomationStore, tmp_path: Path):
    conf = tmp_path / "sshd_config"
    (tmp_path / "sshd_config.d").mkdir()
    (tmp_path / "sshd_config.d" / "10-local.conf").write_text("PasswordAuthentication no\n")
    conf.write_text(f"# test\nInclude {tmp_path}/sshd_config.d/*.conf\nPermitRootLogin yes\n"
                    "PasswordAuthentication yes\nMatch User backup\n  PermitEmptyPasswords yes\n")
    report = run_scan(services.executor, store, only=["ssh"], sshd_config=conf)
    by_id = {f.id: f for f in report.findings}
    assert set(by_id) == {"ssh.root_login"}  # the include set PasswordAuthentication first; Match is not global
    assert by_id["ssh.root_login"].severity == "high"
    assert f"{conf}:3" in by_id["ssh.root_login"].evidence
    missing = run_scan(services.executor, store, only=["ssh"], sshd_config=tmp_path / "none")
    assert missing.checks["ssh"]["status"] == "skipped"


def test_world_writable_path_and_autostart_entries(services: Services, store: AutomationStore, tmp_path: Path):
    bad = tmp_path / "bin"
    bad.mkdir()
    bad.chmod(0o777)
    home = tmp_path / "home"
    autostart = home / ".config" / "autostart"
    autostart.mkdir(parents=True)
    report = run_scan(services.executor, store, only=["writable"], path_env=f"/usr/bin:{bad}:.", home=home)
    titles = [f.title for f in report.findings]
    assert any(str(bad) in t and "any user" in t for t in titles), titles
    assert any("relative entry (.)" in t for t in titles)
    (autostart / "evil.desktop").write_text("[Desktop Entry]\nExec=/tmp/x\n")
    (autostart / "evil.desktop").chmod(0o666)
    report = run_scan(services.executor, store, only=["writable"], path_env="/usr/bin", home=home)
    titles = [f.title for f in report.findings]
    assert titles == [f"{autostart / 'evil.desktop'} (autostart) can be changed by any user"]


def test_processes_running_from_temporary_or_deleted_binaries(services: Services, store: AutomationStore,
                                                            tmp_path: Path):
    sleeper = tmp_path / "sleepy"
    shutil.copy("/bin/sleep", sleeper)
    proc = subprocess.Popen([str(sleeper), "30"])
    try:
        sleeper.unlink()  # running from /tmp, and deleted as well
        assert time.sleep(0.1) is None
        report = run_scan(services.executor, store, only=["processes"])
        mine = [f for f in report.findings if f"pid {proc.pid} " in f.evidence]
        assert len(mine) == 1
        assert mine[0].severity == "high"
        assert "(deleted)" in mine[0].evidence
        assert mine[0].id.startswith("process.temp_binary.")
    finally:
        proc.kill()
        proc.wait()


def test_persistence_baseline_new_changed_acknowledged_and_gone(services: Services, store: AutomationStore,
                                                                tmp_path: Path):
    home = tmp_path / "home"
    units = home / ".config" / "systemd" / "user"
    units.mkdir(parents=True)
    first = run_scan(services.executor, store, only=["persistence"], home=home)
    assert first.baselines_created == ["persistence"]
    assert first.findings == []
    unit = units / "miner.service"
    unit.write_text("[Service]\nExecStart=/tmp/miner\n")
    report = run_scan(services.executor, store, only=["persistence"], home=home)
    assert [f.title for f in report.findings] == [f"New autostart entry: {unit}"]
    finding = report.findings[0]
    assert report.attention() == [finding]
    assert store.acknowledge(finding.id, "I installed it")
    assert not store.acknowledge("no.such.finding")
    report = run_scan(services.executor, store, only=["persistence"], home=home)
    assert report.attention() == []  # acknowledged: listed, but no longer repeated
    assert [f["acknowledged"] for f in store.findings()] == [True]
    unit.unlink()
    run_scan(services.executor, store, only=["persistence"], home=home)
    assert store.findings() == []  # fixed: no longer active


@pytest.mark.slow  # the pipeline loads the router's embedding model
def test_full_scan_through_the_pipeline_reports_real_findings_and_publishes_them(
        services: Services, store: AutomationStore, exposed_port: int):
    seen: list[Notice] = []
    services.bus.subscribe(Notice, lambda e: seen.append(e) if isinstance(e, Notice) else None)
    outcome = Pipeline(services).run_skill("security.scan", {}, source="cli")
    result = outcome.result
    assert result.state.value == "ok"
    assert result.reply.startswith("Security scan")
    assert len(result.reply) < 300
    data = result.data
    assert set(data["checks"]) == set(CHECKS)
    assert all(c["status"] in ("ok", "findings", "skipped") for c in data["checks"].values()), data["checks"]
    ids = {f["id"] for f in data["findings"]}
    assert f"port.exposed.tcp.{exposed_port}" in ids
    for f in data["findings"]:
        assert f["id"]
        assert f["severity"] in ("info", "low", "medium", "high", "critical")
        assert f["title"]
        assert f["evidence"]
        assert f["fix"]
        assert f["new"] is True
    assert set(data["baselines_created"]) == {"ports", "persistence"}
    names = [n.name for n in seen]
    assert "security.scan_done" in names
    assert "security.finding" in names
    done = next(n for n in seen if n.name == "security.scan_done")
    assert done.data["findings"] == names.count("security.finding")
    again = run_scan(services.executor, store, only=["ports"])
    assert again.baselines_created == []
    assert again.new == []
    alerts = Pipeline(services).run_skill("health.alerts", {}, source="cli").result
    assert "security finding" in alerts.reply


@pytest.mark.slow  # three agent subprocesses, one loading the router
def test_cli_scan_json_ack_and_health(exposed_port: int):
    result = run_cli("scan", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    exposed = next(f for f in data["findings"] if f["id"] == f"port.exposed.tcp.{exposed_port}")
    assert exposed["severity"] == "medium"
    assert exposed["fix"]
    acked = run_cli("scan", "--ack", exposed["id"], "nope")
    assert acked.returncode == 1
    assert acked.stdout.splitlines() == [f"{exposed['id']}: acknowledged", "nope: unknown finding"]
    health = run_cli("health", "--json")
    assert health.returncode == 0, health.stderr
    snap = json.loads(health.stdout)
    assert snap["metrics"]["memory.percent"] > 0
    assert snap["disks"]
    assert snap["security"]["last_scan"] is not None
    assert "security: " in format_health(snap)
    assert "CPU" in format_health(snap)
    assert os.environ.get("AGENT_HOME")  # all of it stayed in the test's home
