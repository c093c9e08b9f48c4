from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.errors import AuditError
from agent.safety.audit import AuditLog
from tests.conftest import run_cli


def _log(tmp_path: Path, n: int = 5) -> AuditLog:
    log = AuditLog(tmp_path / "audit.jsonl")
    for i in range(n):
        log.append("exec.run", command=f"c{i}", returncode=0)
    return log


def test_chain_verifies(tmp_path: Path) -> None:
    log = _log(tmp_path)
    assert log.verify() == 5
    records = list(log.records())
    assert records[0]["prev"] == "0" * 64
    assert all(b["prev"] == a["mac"] for a, b in zip(records, records[1:], strict=False))


def test_changing_one_byte_is_detected(tmp_path: Path) -> None:
    log = _log(tmp_path)
    raw = bytearray(log.path.read_bytes())
    i = raw.index(b'"c2"') + 2
    raw[i] = ord("X")
    log.path.write_bytes(bytes(raw))
    with pytest.raises(AuditError) as err:
        log.verify()
    assert err.value.line == 3


def test_rewriting_a_record_with_a_fresh_hash_is_detected(tmp_path: Path) -> None:
    import hashlib

    log = _log(tmp_path)
    lines = log.path.read_text().splitlines()
    rec = json.loads(lines[1])
    rec["data"]["command"] = "evil"
    body = {k: v for k, v in rec.items() if k != "mac"}
    rec["mac"] = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    lines[1] = json.dumps(rec, sort_keys=True)
    log.path.write_text("\n".join(lines) + "\n")
    with pytest.raises(AuditError) as err:
        log.verify()
    assert err.value.line == 2  # without the key, no MAC the attacker computes matches


def test_removing_the_last_record_is_detected(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = log.path.read_text().splitlines(keepends=True)
    log.path.write_text("".join(lines[:-1]))
    with pytest.raises(AuditError, match="removed"):
        log.verify()


def test_secrets_are_masked(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    log.append("vault.save", name="github", password="hunter2", nested={"api_key": "abc"})
    text = log.path.read_text()
    assert "hunter2" not in text
    assert "abc" not in text
    assert log.verify() == 1


def test_cli_audit_verify_fails_after_a_byte_changes(agent_home: Path) -> None:
    assert run_cli("ask", "how long has this machine been up").returncode == 0
    assert run_cli("ask", "show my ip addresses").returncode == 0
    ok = run_cli("audit", "verify")
    assert ok.returncode == 0, ok.stderr
    assert "ok:" in ok.stdout
    log = agent_home / "data" / "audit.jsonl"
    raw = bytearray(log.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    log.write_bytes(bytes(raw))
    bad = run_cli("audit", "verify")
    assert bad.returncode == 1
    assert "TAMPERED" in bad.stderr
