"""The CLI contract, driven as a user would: `python -m agent ...` in a subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import run_cli


@pytest.mark.clock
def test_ask_what_time_is_it() -> None:
    before = datetime.now()
    result = run_cli("ask", "what time is it")
    assert result.returncode == 0, result.stderr
    after = datetime.now()  # the answer is the real clock's: any minute from before to after the command
    minutes = int((after - before).total_seconds() // 60) + 1
    stamps = {(before + timedelta(minutes=m)).strftime("%I:%M").lstrip("0") for m in range(minutes + 1)}
    assert any(s in result.stdout for s in stamps), result.stdout


def test_ask_json_contract() -> None:
    result = run_cli("ask", "--json", "calculate 15 times 24")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert {"input", "skill", "args", "tier", "state", "reply", "timings_ms"} <= set(out)
    assert out["skill"] == "math.calc"
    assert out["state"] == "ok"
    assert "360" in out["reply"]
    assert {"route", "skill"} <= set(out["timings_ms"])


def test_ask_dry_run_routes_but_runs_nothing(agent_home: Path) -> None:
    result = run_cli("ask", "--json", "--dry-run", "how long has the system been up")
    out = json.loads(result.stdout)
    assert out["skill"] == "command.run"
    assert out["args"]["command"] == "uptime"
    audit = agent_home / "data" / "audit.jsonl"
    assert not audit.exists() or audit.read_text() == ""


def test_route_reads_stdin_one_json_line_each() -> None:
    result = run_cli("route", "--json", stdin="what time is it\n\nset a timer for 5 minutes\n")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert [x["skill"] for x in lines] == ["time.now", "timer.set"]
    assert lines[1]["args"]["seconds"] == 300
    assert {"input", "skill", "args", "tier", "confidence", "ms"} <= set(lines[0])


def test_route_never_executes(agent_home: Path) -> None:
    result = run_cli("route", "--json", "clear old temp files")
    assert json.loads(result.stdout)["skill"] == "command.run"
    assert not (agent_home / "data" / "audit.jsonl").exists()


def test_python_dash_m_and_console_script_agree() -> None:
    script = shutil.which("agent") or str(Path(__file__).parents[1] / ".venv" / "bin" / "agent")
    a = run_cli("--version").stdout.strip()
    b = subprocess.run([script, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    assert a == b
    assert a.startswith("agent ")


def test_doctor_lists_every_piece_with_a_fix() -> None:
    result = run_cli("doctor", "--json")
    assert result.returncode == 0, result.stderr
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert {"chat model", "embedding model", "display", "keyring", "notifications"} <= set(rows)
    assert rows["embedding model"]["ok"] is True
    for row in rows.values():
        assert row["ok"] or row["fix"], row


def test_run_is_a_text_prompt_loop() -> None:
    result = run_cli("run", stdin="what is 6 times 7\nquit\n")
    assert result.returncode == 0, result.stderr
    assert "42" in result.stdout


def test_bad_config_is_a_clear_error(agent_home: Path) -> None:
    (agent_home / "config").mkdir(parents=True, exist_ok=True)
    (agent_home / "config" / "config.yaml").write_text("llm:\n  bogus: 1\n")
    result = run_cli("ask", "what time is it")
    assert result.returncode == 2
    assert "config.yaml:2" in result.stderr
    assert "llm.bogus" in result.stderr
