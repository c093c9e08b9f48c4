"""Regression tests for the attack pass of issue 14, one or more per finding, driving the agent as a user or an
attacker would: `agent` subprocesses, a real API server, real rule files, real desktop entries opened through
the real xdg-open on Xvfb, a real encrypted file keyring. Each failed on the code before the fix."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from agent.api.auth import load_token
from agent.api.server import start_server
from agent.automation.actions import Run, Trace
from agent.automation.effects import Effects
from agent.automation.store import AutomationStore
from agent.config import load_settings
from agent.paths import get_paths
from agent.safety.audit import AuditLog
from agent.services import Services, build_services
from tests.conftest import run_cli, wait_for, xvfb


# -- helpers --------------------------------------------------------------------------------------------------
@pytest.fixture
def nap(tmp_path: Path) -> Path:
    """A copy of `sleep` with a name nothing else on this machine has (a process to be killed, or not)."""
    exe = tmp_path / f"nap{uuid.uuid4().hex[:6]}"
    shutil.copy(shutil.which("sleep") or "/bin/sleep", exe)
    return exe


def _napping(exe: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([str(exe), "60"], start_new_session=True)
    assert wait_for(lambda: psutil.Process(proc.pid).name() == exe.name, timeout=10)
    return proc


def _ask(*text: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    done = run_cli("ask", "--json", *text, env=env)
    assert done.returncode in (0, 1), done.stderr
    out: dict[str, Any] = json.loads(done.stdout)
    return out


def _write_rules(home: Path, text: str) -> Path:
    folder = home / "config" / "rules"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "test.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def _audit(home: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (home / "data" / "audit.jsonl").read_text().splitlines()]


# -- 1. a bare "yes" answers only its own conversation -----------------------------------------------------------
def test_a_cli_yes_does_not_grant_a_rules_kill(agent_home: Path, nap: Path) -> None:
    mine, rules_target = _napping(nap), _napping(nap)
    try:
        asked = _ask(f"kill process {mine.pid}")  # the user's own question, in this terminal
        assert asked["state"] == "needs_confirmation", asked
        _write_rules(agent_home, f"""
            - id: test.kill_nap
              triggers: [{{event: custom.kill_nap}}]
              actions:
                - skill: {{name: process.kill, args: {{pid: {rules_target.pid}}}}}
        """)
        ran = run_cli("rules", "run", "test.kill_nap", "--json")
        assert "needs_confirmation" in ran.stdout, ran.stdout + ran.stderr
        answered = _ask("yes")  # later, in the same terminal
        assert answered["state"] == "ok", answered
        assert wait_for(lambda: mine.poll() is not None, timeout=10)  # the yes answered the user's question
        assert rules_target.poll() is None  # and not the rule's, raised after it
    finally:
        for p in (mine, rules_target):
            p.kill()
            p.wait()


@pytest.fixture
def api_server(agent_home: Path) -> Iterator[tuple[httpx.Client, Services]]:
    env = {"AGENT_HOME": str(agent_home), "AGENT_AUTOMATION__DESKTOP_NOTIFY": "false"}
    paths = get_paths(env).ensure()
    services = build_services(paths, load_settings(paths, env=env))
    server = start_server(services, port=0, metrics_interval_s=5)
    client = httpx.Client(base_url=server.url, timeout=120,
                          headers={"Authorization": f"Bearer {load_token(services.paths)}"})
    try:
        yield client, services
    finally:
        client.close()
        server.stop()


def test_an_api_kill_is_granted_only_through_post_api_confirm(api_server: tuple[httpx.Client, Services],
                                                               nap: Path) -> None:
    client, _services = api_server
    target = _napping(nap)
    try:
        skipped = client.post("/api/ask", json={"text": f"kill process {target.pid}", "yes": True})
        assert skipped.status_code == 422, skipped.text  # no request field skips a confirmation
        assert target.poll() is None
        asked = client.post("/api/ask", json={"text": f"kill process {target.pid}"}).json()
        assert asked["state"] == "needs_confirmation", asked
        token = asked["confirmation"]
        assert len(token) == 32
        assert int(token, 16) >= 0
        from_cli = _ask("yes")  # someone at a terminal says yes: not their question
        assert from_cli["state"] == "refused", from_cli
        typed = client.post("/api/ask", json={"text": "yes"}).json()
        assert typed["state"] == "refused", typed
        assert "/api/confirm/" in typed["reply"]
        time.sleep(0.3)
        assert target.poll() is None
        granted = client.post(f"/api/confirm/{token}")
        assert granted.status_code == 200, granted.text
        assert granted.json()["state"] == "ok"
        assert wait_for(lambda: target.poll() is not None, timeout=10)
    finally:
        target.kill()
        target.wait()


def test_two_questions_in_one_conversation_make_yes_ask_which(services: Services, nap: Path) -> None:
    from agent.pipeline import Pipeline

    a, b = _napping(nap), _napping(nap)
    try:
        pipeline = Pipeline(services)
        for p in (a, b):
            out = pipeline.run_skill("process.kill", {"pid": p.pid}, source="voice")
            assert out.result.state.value == "needs_confirmation"
        which = pipeline.handle("yes", source="voice")
        assert which.result.state.value == "refused"
        assert "More than one" in which.result.reply
        assert len(which.result.data["pending"]) == 2
        assert a.poll() is None
        assert b.poll() is None
    finally:
        for p in (a, b):
            p.kill()
            p.wait()


# -- 2. everything the agent writes is private -------------------------------------------------------------------
@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The usual login umask (022), as the agent meets it at the start of a session."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _readable_by_others(root: Path) -> list[str]:
    found = subprocess.run(["find", str(root), "-perm", "/077", "!", "-type", "l"], capture_output=True,
                           text=True, check=True)
    return found.stdout.split()


def test_a_full_session_leaves_nothing_readable_by_others(agent_home: Path, tmp_path: Path,
                                                          loose_umask: None) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "plan.md").write_text("The quarterly plan: move the servers to the new rack in March.\n")
    steps = [("ask", "what is 6 times 7"), ("ask", "show my ip addresses"), ("ask", "set a timer for 10 minutes"),
             ("ask", "take a note buy milk"), ("notes", "list"), ("index", str(docs)), ("search", "servers rack"),
             ("rules", "list"),
             ("api", "token"), ("history", "list"), ("audit", "verify")]
    for step in steps:
        done = run_cli(*step)
        assert done.returncode == 0, (step, done.stderr)
    assert (agent_home / "data" / "files").is_dir()  # the Chroma index is there
    assert (agent_home / "data" / "audit.jsonl").exists()
    assert (agent_home / "logs" / "agent.log").exists()
    assert _readable_by_others(agent_home) == []


def test_an_existing_install_is_made_private_on_start(agent_home: Path, loose_umask: None) -> None:
    for sub in ("config", "data/files", "cache", "logs"):
        (agent_home / sub).mkdir(parents=True, mode=0o755)
        os.chmod(agent_home / sub, 0o755)
    for name in ("data/audit.jsonl", "data/confirmations.json", "data/automation.sqlite3", "logs/agent.log",
                 "data/files/chroma.sqlite3"):
        (agent_home / name).write_text("{}\n")
        os.chmod(agent_home / name, 0o644)
    os.chmod(agent_home, 0o755)
    assert len(_readable_by_others(agent_home)) == 11
    run_cli("history", "list")
    assert _readable_by_others(agent_home) == []


# -- 3. what the user says stays out of the log --------------------------------------------------------------
def test_an_utterance_never_reaches_the_log_at_the_default_level(agent_home: Path) -> None:
    marker = f"zq{uuid.uuid4().hex[:10]}"
    for text in (f"my bank pin is {marker}", f"remind me in 10 minutes to call {marker}",
                 f"what is {int(marker[2:6], 16)} plus 1"):
        assert run_cli("ask", text).returncode == 0
    log = (agent_home / "logs" / "agent.log").read_text()
    assert marker not in log
    assert "turn from cli" in log  # skills, states and timings are logged
    assert str(int(marker[2:6], 16)) not in log  # nor an argument value
    on = run_cli("ask", f"my bank pin is {marker}", env={"AGENT_LOG_TEXT": "true", "AGENT_LOG_LEVEL": "DEBUG"})
    assert on.returncode == 0
    log = (agent_home / "logs" / "agent.log").read_text()
    assert "log_text is ON" in log  # the debug option says so, plainly
    assert marker in log


# -- 4. the keyed audit chain --------------------------------------------------------------------------------
def _tamper_last_record_and_head(data: Path) -> None:
    lines = (data / "audit.jsonl").read_text().splitlines(keepends=True)
    (data / "audit.jsonl").write_text("".join(lines[:-1]))
    last = json.loads(lines[-2])
    mac = last.get("mac") or last.get("hash")  # (either format: the attack worked on the unkeyed chain)
    (data / "audit.jsonl.head").write_text(json.dumps({"seq": last["seq"], "mac": mac, "hash": mac}))


def _cut_a_range_and_the_head(data: Path) -> None:
    lines = (data / "audit.jsonl").read_text().splitlines(keepends=True)
    (data / "audit.jsonl").write_text("".join(lines[:1] + lines[3:]))
    (data / "audit.jsonl.head").unlink()


def _cut_the_tail_and_the_head(data: Path) -> None:
    lines = (data / "audit.jsonl").read_text().splitlines(keepends=True)
    (data / "audit.jsonl").write_text("".join(lines[:2]))
    (data / "audit.jsonl.head").unlink()


def _delete_both(data: Path) -> None:
    (data / "audit.jsonl").unlink()
    (data / "audit.jsonl.head").unlink()


def _empty_the_log(data: Path) -> None:
    (data / "audit.jsonl").write_text("")


def _forge_a_fresh_chain(data: Path) -> None:
    forged = AuditLog(data.parent / "forger" / "audit.jsonl")  # the attacker's own key
    forged.append("exec.run", command="uptime", returncode=0)
    shutil.copy(forged.path, data / "audit.jsonl")
    shutil.copy(forged.head_path, data / "audit.jsonl.head")


def _reorder(data: Path) -> None:
    lines = (data / "audit.jsonl").read_text().splitlines(keepends=True)
    lines[1], lines[2] = lines[2], lines[1]
    (data / "audit.jsonl").write_text("".join(lines))


def _edit_a_record(data: Path) -> None:
    text = (data / "audit.jsonl").read_text()
    (data / "audit.jsonl").write_text(text.replace('"returncode":0', '"returncode":1', 1)
                                      .replace('"returncode": 0', '"returncode": 1', 1))


ATTACKS = [_tamper_last_record_and_head, _cut_a_range_and_the_head, _cut_the_tail_and_the_head, _delete_both,
           _empty_the_log, _forge_a_fresh_chain, _reorder, _edit_a_record]


@pytest.fixture(scope="module")
def audited_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An install whose audit log has a few records, made by the agent itself."""
    home = tmp_path_factory.mktemp("audited") / "agent-home"
    env = {"AGENT_HOME": str(home)}
    for text in ("how long has this machine been up", "show my ip addresses"):
        assert run_cli("ask", text, env=env).returncode == 0
    try:
        same_key = AuditLog(home / "data" / "audit.jsonl", home / "config" / "audit.key")
    except TypeError:  # the unkeyed log before issue 14 (so this test can show it failing there)
        same_key = AuditLog(home / "data" / "audit.jsonl")
    for n in range(3):
        same_key.append("exec.run", command=f"c{n}", returncode=0)
    assert run_cli("audit", "verify", env=env).returncode == 0
    assert len((home / "data" / "audit.jsonl").read_text().splitlines()) == 5
    return home


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda f: f.__name__.strip("_"))
def test_audit_verify_detects(attack: Any, audited_home: Path, tmp_path: Path) -> None:
    home = tmp_path / "copy"
    shutil.copytree(audited_home, home)
    env = {"AGENT_HOME": str(home)}
    attack(home / "data")
    bad = run_cli("audit", "verify", env=env)
    assert bad.returncode == 1, (bad.stdout, bad.stderr)
    assert "TAMPERED" in bad.stderr
    # the agent writing on afterwards does not launder it
    assert run_cli("ask", "how long has this machine been up", env=env).returncode == 0
    assert run_cli("audit", "verify", env=env).returncode == 1


def test_an_unkeyed_log_from_before_is_sealed_and_named(tmp_path: Path) -> None:
    path = tmp_path / "data" / "audit.jsonl"
    path.parent.mkdir()
    path.write_text(json.dumps({"seq": 1, "event": "exec.run", "data": {}, "prev": "0" * 64, "hash": "x"}) + "\n")
    log = AuditLog(path, tmp_path / "config" / "audit.key")
    assert log.verify() == 1
    first = next(log.records())
    assert first["event"] == "audit.sealed_unkeyed_log"
    assert first["data"]["sha256"] == hashlib.sha256((tmp_path / "data" / first["data"]["file"]).read_bytes()
                                                     ).hexdigest()
    assert oct((tmp_path / "config" / "audit.key").stat().st_mode & 0o777) == "0o600"


# -- 5. children get a minimal environment -------------------------------------------------------------------
DUMP = """#!/bin/sh
env > "$(dirname "$0")/env-dump.txt.tmp" && mv "$(dirname "$0")/env-dump.txt.tmp" "$(dirname "$0")/env-dump.txt"
"""


def test_a_launched_desktop_entry_gets_no_secrets(agent_home: Path, tmp_path: Path) -> None:
    desk = tmp_path / "desk"
    apps = desk / "data" / "applications"
    apps.mkdir(parents=True)
    (desk / "home").mkdir()
    dump = desk / "dump.sh"
    dump.write_text(DUMP)
    dump.chmod(0o755)
    (apps / "env-dumper.desktop").write_text(f"[Desktop Entry]\nType=Application\nName=Env Dumper\nExec={dump}\n")
    with xvfb("320x240x24") as display:
        env = {"DISPLAY": display, "HOME": str(desk / "home"), "XDG_DATA_HOME": str(desk / "data"),
               "XDG_DATA_DIRS": str(desk / "sysdata"), "XDG_CONFIG_HOME": str(desk / "config"),
               "KEYRING_CRYPTFILE_PASSWORD": "hunter2-passphrase", "AGENT_LOG_LEVEL": "INFO",
               "GITHUB_TOKEN": "ghp_secret", "MY_APP_SECRET": "s3cret"}
        out = _ask("open env dumper", env=env)
        assert out["state"] == "ok", out
        assert wait_for((desk / "env-dump.txt").exists, timeout=10)
    seen = dict(line.split("=", 1) for line in (desk / "env-dump.txt").read_text().splitlines() if "=" in line)
    assert seen["DISPLAY"] == display
    assert seen["HOME"] == str(desk / "home")
    assert seen["PATH"]
    assert seen["XDG_DATA_HOME"] == str(desk / "data")
    assert not {"KEYRING_CRYPTFILE_PASSWORD", "GITHUB_TOKEN", "MY_APP_SECRET", "AGENT_HOME",
                "AGENT_LOG_LEVEL", "PYTHONPATH"} & set(seen), sorted(seen)


def test_allow_listed_commands_get_the_same_minimal_environment(services: Services,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from agent.config import CommandSpec

    monkeypatch.setenv("KEYRING_CRYPTFILE_PASSWORD", "hunter2-passphrase")
    monkeypatch.setenv("LC_TIME", "C")
    services.executor.add_command(CommandSpec(id="print_env", argv=["env"], description="print the environment"))
    result = services.executor.run("print_env")
    assert result.ok
    names = {line.split("=", 1)[0] for line in result.stdout.splitlines()}
    assert "KEYRING_CRYPTFILE_PASSWORD" not in names
    assert "AGENT_HOME" not in names
    assert {"PATH", "LC_TIME", "LC_ALL"} <= names
    from agent.safety.childenv import child_env

    assert set(child_env({}, {"XDG_SESSION_KEY": "x", "XAUTHORITY": "/a", "LANG": "C"})) == {"XAUTHORITY", "LANG"}


# -- 6. rule commands reach allow-listed commands only --------------------------------------------------------
def test_rules_cannot_name_in_process_actions(agent_home: Path, tmp_path: Path) -> None:
    rules = _write_rules(agent_home, """
        - id: test.sneaky
          triggers: [{event: custom.sneaky}]
          actions:
            - command: {id: launch_app, args: {app: xterm.desktop}}
            - command: {id: open_uri, args: {uri: /tmp/evil.sh}}
            - command: {id: process.signal, args: {targets: "1"}}
            - command: {id: clipboard.read_secret, args: {}}
            - command: {id: uptime}
    """)
    checked = run_cli("rules", "check", str(rules))
    assert checked.returncode == 1
    for action in ("launch_app", "open_uri", "process.signal", "clipboard.read_secret"):
        assert f"'{action}' is an in-process action" in checked.stdout, checked.stdout
    assert "'uptime'" not in checked.stdout


def test_a_rule_command_naming_an_action_is_refused_when_run(services: Services, tmp_path: Path) -> None:
    marker = tmp_path / "launched"
    apps = tmp_path / "data" / "applications"
    apps.mkdir(parents=True)
    (apps / "toucher.desktop").write_text(f"[Desktop Entry]\nType=Application\nName=T\nExec=touch {marker}\n")
    os.environ["XDG_DATA_HOME"] = str(tmp_path / "data")
    try:
        effects = Effects(services, AutomationStore.for_data_dir(services.paths.data), lambda _e: None)
        run = Run.start("test.sneaky", [], "actions", {}, Trace("test.sneaky", 0.0, {}))
        state, data = effects.command("launch_app", {"app": "toucher.desktop"}, run)
    finally:
        del os.environ["XDG_DATA_HOME"]
    assert state == "refused", data
    time.sleep(0.5)
    assert not marker.exists()


# -- 7. apps.open asks before opening what would run ---------------------------------------------------------
def _entry(apps: Path, desktop_id: str, exec_line: str) -> None:
    apps.mkdir(parents=True, exist_ok=True)
    (apps / desktop_id).write_text(f"[Desktop Entry]\nType=Application\nName={desktop_id}\nExec={exec_line}\n"
                                   "MimeType=text/x-shellscript;text/plain;application/x-executable;\n")


@pytest.fixture
def opener_desk(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A desktop whose default handler for scripts, text and binaries records what it was given."""
    desk = tmp_path / "desk"
    home = desk / "home"
    (home / "downloads").mkdir(parents=True)  # lower case: the router hands the target on in lower case
    (home / "docs").mkdir()
    rec = desk / "rec.sh"
    rec.write_text('#!/bin/sh\nprintf "%s\\n" "$@" >> "$(dirname "$0")/opened.txt"\n')
    rec.chmod(0o755)
    _entry(desk / "data" / "applications", "recorder.desktop", f"{rec} %f")
    (desk / "config").mkdir()
    (desk / "config" / "user-dirs.dirs").write_text('XDG_DOWNLOAD_DIR="$HOME/downloads"\n')
    types = ("application/x-shellscript", "text/x-shellscript", "text/plain", "application/x-executable",
             "application/x-sharedlib",
             "application/x-pie-executable", "application/x-desktop", "application/octet-stream", "text/x-python")
    (desk / "config" / "mimeapps.list").write_text(
        "[Default Applications]\n" + "".join(f"{t}=recorder.desktop\n" for t in types))
    with xvfb("320x240x24") as display:
        yield desk, {"DISPLAY": display, "HOME": str(home), "XDG_DATA_HOME": str(desk / "data"),
                     "XDG_DATA_DIRS": str(desk / "sysdata") + ":/usr/share", "XDG_CONFIG_HOME": str(desk / "config"),
                     "XDG_CURRENT_DESKTOP": "", "BROWSER": "false"}


def _opened(desk: Path) -> list[str]:
    path = desk / "opened.txt"
    return path.read_text().splitlines() if path.exists() else []


def test_apps_open_asks_before_a_downloaded_script(opener_desk: tuple[Path, dict[str, str]]) -> None:
    desk, env = opener_desk
    script = desk / "home" / "downloads" / "setup.sh"
    script.write_text("#!/bin/sh\necho pwned\n")
    script.chmod(0o755)
    asked = _ask("open ~/downloads/setup.sh", env=env)
    assert asked["skill"] == "apps.open", asked
    assert asked["state"] == "needs_confirmation", asked
    assert "executable" in asked["reply"]
    assert "downloaded" in asked["reply"]
    time.sleep(1.0)
    assert _opened(desk) == []  # nothing was handed to the opener
    done = run_cli("confirm", "--json", asked["confirmation"], env=env)
    assert json.loads(done.stdout)["state"] == "ok", done.stdout
    assert wait_for(lambda: _opened(desk) == [str(script)], timeout=10)


@pytest.mark.parametrize("name", ["tool.desktop", "helper-x86_64.appimage", "runme", "notes.txt"])
def test_apps_open_asks_before_launchers_binaries_and_fresh_downloads(
        opener_desk: tuple[Path, dict[str, str]], name: str) -> None:
    desk, env = opener_desk
    target = desk / "home" / "downloads" / name
    if name == "runme":  # an ELF binary without the exec bit
        shutil.copy("/bin/true", target)
        target.chmod(0o644)
    else:
        target.write_text("[Desktop Entry]\nExec=sh -c 'echo pwned'\n" if name.endswith(".desktop") else "data\n")
    asked = _ask(f"open ~/downloads/{name}", env=env)
    assert asked["state"] == "needs_confirmation", asked
    time.sleep(0.5)
    assert _opened(desk) == []


def test_apps_open_still_opens_a_plain_document_and_refuses_other_schemes(
        opener_desk: tuple[Path, dict[str, str]]) -> None:
    desk, env = opener_desk
    doc = desk / "home" / "docs" / "plan.txt"
    doc.write_text("the plan\n")
    out = _ask("open ~/docs/plan.txt", env=env)
    assert out["state"] == "ok", out
    assert wait_for(lambda: _opened(desk) == [str(doc)], timeout=10)
    from agent.skills.apps import classify

    for uri in ("file:///etc/passwd", "ftp://example.org/x.sh", "smb://server/share", "javascript:alert(1)"):
        assert classify(uri)[0] == "refused", uri
        refused = _ask(f"open {uri}", env=env)  # (the router may reshape the address; nothing opens either way)
        assert refused["skill"] == "apps.open", refused
        assert refused["state"] in ("refused", "error"), refused
    time.sleep(0.5)
    assert _opened(desk) == [str(doc)]


# -- 8. tokens, the audit's name for a grant, the history key ----------------------------------------------------
def test_tokens_have_128_bits_and_the_audit_matches_a_grant_to_its_request(agent_home: Path, nap: Path) -> None:
    target = _napping(nap)
    try:
        asked = _ask(f"kill process {target.pid}")
        token = asked["confirmation"]
        assert len(token) == 32
        done = run_cli("confirm", "--json", token)
        assert json.loads(done.stdout)["state"] == "ok"
    finally:
        target.kill()
        target.wait()
    from agent.safety.confirm import request_id

    records = _audit(agent_home)
    events = {r["event"]: r["data"] for r in records if r["event"].startswith("confirmation.")}
    assert events["confirmation.asked"]["request"] == events["confirmation.granted"]["request"] == request_id(token)
    assert token not in (agent_home / "data" / "audit.jsonl").read_text()


@pytest.fixture
def cryptfile_env(tmp_path: Path) -> dict[str, str]:
    """A real encrypted file keyring (keyrings.cryptfile), configured the way a user would: by environment."""
    return {"PYTHON_KEYRING_BACKEND": "keyrings.cryptfile.cryptfile.CryptFileKeyring",
            "KEYRING_CRYPTFILE_PASSWORD": "correct horse battery", "XDG_DATA_HOME": str(tmp_path / "xdg-data")}


def _keyring_entry(env: dict[str, str], entry: str) -> str | None:
    code = ("import keyring; from agent.safety.keys import secret_keyring; "
            f"print(secret_keyring().get_password('ambient-agent', {entry!r}))")
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True,
                         check=True)
    value = out.stdout.strip()
    return None if value == "None" else value


def test_the_history_key_lives_in_the_keyring(agent_home: Path, cryptfile_env: dict[str, str]) -> None:
    from cryptography.fernet import Fernet

    old_key = Fernet.generate_key().decode()  # a history.key left by an older version moves into the keyring
    (agent_home / "config").mkdir(parents=True)
    (agent_home / "config" / "history.key").write_text(old_key)
    assert run_cli("ask", "what is 2 plus 2", env=cryptfile_env).returncode == 0
    assert not (agent_home / "config" / "history.key").exists()
    assert _keyring_entry(cryptfile_env, "history-key") == old_key
    listed = run_cli("history", "list", env=cryptfile_env)
    assert "2 plus 2" in listed.stdout, listed.stdout + listed.stderr
    assert not list((agent_home / "config").glob("*.key"))  # the audit key went to the keyring too
