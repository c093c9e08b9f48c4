"""password.generate / save / get with real parts: a real X server (Xvfb, started here) and xclip for the
clipboard, a real encrypted keyring (keyrings.cryptfile's CryptFileKeyring, file in the tmp AGENT_HOME),
the real vault file, audit log and log file. Nothing is faked."""

from __future__ import annotations

import collections
import json
import logging
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends import chainer, fail, null
from keyrings.cryptfile.cryptfile import CryptFileKeyring
from keyrings.cryptfile.file import PlaintextKeyring

from agent.cli import main as cli_main
from agent.config import load_settings
from agent.events import ResultState, SkillResult
from agent.logs import setup_logging
from agent.paths import Paths
from agent.services import Services, build_services
from agent.skills.passwords import _GENERATED
from agent.vault import (
    ClipboardUnavailableError,
    KeyringUnavailableError,
    Vault,
    VaultLockedError,
    generate_password,
    vault_path,
)
from agent.vault.clipboard import detect_tool, wait_for
from agent.vault.generate import CLASSES, _index
from tests.conftest import run_cli, xvfb

PASSPHRASE = "correct horse battery staple (test only)"


# -- fixtures ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def xserver() -> Iterator[str]:
    with xvfb("640x480x24") as display:
        yield display


@pytest.fixture
def display(xserver: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DISPLAY", xserver)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    _set_clipboard("")
    return xserver


def _cryptfile(path: Path, *, fast: bool) -> CryptFileKeyring:
    kr = CryptFileKeyring()
    kr.file_path = str(path)
    if fast:  # the same backend and cipher with a cheap Argon2 KDF; only this process can read the file
        kr.time_cost, kr.memory_cost, kr.parallelism = 1, 8 * 1024, 1
    return kr


def _use_cryptfile(agent_home: Path, monkeypatch: pytest.MonkeyPatch, *, fast: bool) -> Iterator[CryptFileKeyring]:
    """The real encrypted file keyring, unlocked with a test passphrase, at XDG_DATA_HOME/python_keyring."""
    xdg = agent_home / "xdg-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(xdg))
    monkeypatch.delenv("KEYRING_CRYPTFILE_PASSWORD", raising=False)
    kr = _cryptfile(xdg / "python_keyring" / "cryptfile_pass.cfg", fast=fast)
    kr.keyring_key = PASSPHRASE
    previous = keyring.get_keyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(previous)


@pytest.fixture
def cryptfile(agent_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CryptFileKeyring]:
    yield from _use_cryptfile(agent_home, monkeypatch, fast=True)


@pytest.fixture
def cryptfile_default(agent_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CryptFileKeyring]:
    """With the backend's default Argon2 cost, so a new `agent` process (configured by environment) reads it."""
    yield from _use_cryptfile(agent_home, monkeypatch, fast=False)


@pytest.fixture
def logged(services: Services) -> Iterator[Services]:
    setup_logging(services.paths, "DEBUG", "ERROR")
    yield services
    for h in list(logging.getLogger().handlers):
        if getattr(h, "_agent", False):
            logging.getLogger().removeHandler(h)
            h.close()


def _call(services: Services, skill: str, args: dict[str, Any] | None = None) -> SkillResult:
    s = services.registry.get(skill)
    assert s is not None
    assert s.run is not None
    return s.run(s.args.model_validate(args or {}), services.context(skill))


def _clipboard() -> str:
    out = subprocess.run(["xclip", "-selection", "clipboard", "-out"], capture_output=True, check=False)
    return out.stdout.decode() if out.returncode == 0 else ""


def _set_clipboard(text: str) -> None:
    """Copy like a user would, and wait until the (background) xclip owns the selection."""
    subprocess.run(["xclip", "-selection", "clipboard", "-in"], input=text.encode(), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert wait_for(text, detect_tool()), "xclip did not take the selection"


def _assert_nowhere(secret: str, root: Path, *results: SkillResult) -> None:
    """The secret is in no reply, no result data and no file under the agent's home (logs, audit, vault)."""
    for r in results:
        assert secret not in r.reply
        assert secret not in json.dumps(r.data, default=str)
    files = [p for p in root.rglob("*") if p.is_file()]
    assert any(p.name == "audit.jsonl" for p in files)
    for p in files:
        assert secret.encode() not in p.read_bytes(), f"secret found in {p}"


# -- generation ------------------------------------------------------------------------------------------
def test_generated_passwords_have_every_requested_class() -> None:
    for length in (8, 24, 64):
        pw = generate_password(length)
        assert len(pw.secret) == length
        for chars in CLASSES.values():
            assert any(c in chars for c in pw.secret)
        assert pw.secret not in repr(pw)
    plain = generate_password(30, symbols=False, uppercase=False)
    assert set(plain.secret) <= set(CLASSES["lowercase"] + CLASSES["digits"])
    assert any(c.isdigit() for c in plain.secret)
    assert any(c.islower() for c in plain.secret)
    with pytest.raises(ValueError, match="cannot hold"):
        generate_password(3)


def test_rejection_sampling_is_uniform() -> None:
    # 3 is the worst case for a 2-bit draw: modulo would give 0 twice as often as 1 and 2.
    counts = collections.Counter(_index(3) for _ in range(30_000))
    assert set(counts) == {0, 1, 2}
    for n in counts.values():
        assert 9_400 < n < 10_600  # 10,000 expected, std ~82


# -- clipboard -------------------------------------------------------------------------------------------
def test_no_display_means_no_clipboard_and_no_password(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(ClipboardUnavailableError, match="no clipboard available"):
        detect_tool()
    result = _call(services, "password.generate", {"length": 24})
    assert result.state is ResultState.ERROR
    assert result.reply.startswith("No clipboard available")
    assert "no clipboard available" in result.data["error"]
    assert _GENERATED.peek(services) is None  # nothing kept that could be saved unseen


def test_tool_choice_per_session() -> None:
    have = {"xclip", "xsel", "wl-copy", "wl-paste"}.__contains__
    which = lambda name: f"/usr/bin/{name}" if have(name) else None  # noqa: E731
    assert detect_tool({"DISPLAY": ":1"}, which).name == "xclip"
    assert detect_tool({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":1"}, which).name == "wl-clipboard"
    assert detect_tool({"DISPLAY": ":1"}, lambda n: "/usr/bin/xsel" if n == "xsel" else None).name == "xsel"
    with pytest.raises(ClipboardUnavailableError, match="install xclip or xsel"):
        detect_tool({"DISPLAY": ":1"}, lambda n: None)


def test_generate_copies_to_the_clipboard_and_clears_it(
        display: str, logged: Services, agent_home: Path) -> None:
    services = logged
    services.settings.vault.clipboard_clear_s = 2
    result = _call(services, "password.generate", {"length": 24})
    assert result.state is ResultState.OK
    assert result.reply.startswith("I generated a 24-character password and copied it to the clipboard; "
                                   "it clears in 2 seconds.")
    secret = _clipboard()
    assert len(secret) == 24
    audit = [json.loads(line) for line in services.paths.audit_log.read_text().splitlines()]
    assert audit[-1]["event"] == "exec.action"
    assert audit[-1]["data"]["args"]["secret"] == "***"
    deadline = time.monotonic() + 10
    while _clipboard() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _clipboard() == ""  # cleared by the detached helper
    _assert_nowhere(secret, agent_home, result)


def test_the_clipboard_is_left_alone_when_the_user_copied_something_else(display: str, services: Services) -> None:
    services.settings.vault.clipboard_clear_s = 1
    _call(services, "password.generate", {"length": 16})
    _set_clipboard("something the user copied")
    time.sleep(2.5)
    assert _clipboard() == "something the user copied"


# -- the vault -------------------------------------------------------------------------------------------
def test_save_get_round_trip_across_a_restart(
        display: str, cryptfile_default: CryptFileKeyring, logged: Services, agent_home: Path, paths: Paths) -> None:
    services = logged
    generated = _call(services, "password.generate", {"length": 24})
    assert generated.state is ResultState.OK, generated.data
    secret = _clipboard()
    _set_clipboard("unrelated text the user copied later")
    saved = _call(services, "password.save", {"name": "GitHub"})
    assert saved.state is ResultState.OK, saved.reply
    assert saved.reply == "Saved the password I generated as github in the encrypted vault."
    assert saved.data["source"] == "generated"

    vault_file = vault_path(paths.data)
    blob = vault_file.read_bytes()
    assert secret.encode() not in blob
    assert b"github" not in blob
    assert oct(vault_file.stat().st_mode & 0o777) == "0o600"
    assert cryptfile_default.get_password("ambient-agent", "vault-key")  # the key lives in the keyring

    restarted = build_services(paths, load_settings(paths))  # a new process's state: nothing in memory
    _set_clipboard("")
    got = _call(restarted, "password.get", {"name": "github"})
    assert got.state is ResultState.OK
    assert got.reply == "I copied the github password to the clipboard; it clears in 30 seconds."
    assert _clipboard() == secret

    env = {"PYTHON_KEYRING_BACKEND": "keyrings.cryptfile.cryptfile.CryptFileKeyring",
           "KEYRING_CRYPTFILE_PASSWORD": PASSPHRASE, "XDG_DATA_HOME": str(agent_home / "xdg-data")}
    listed = run_cli("vault", "list", "--json", env=env, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert [r["name"] for r in json.loads(listed.stdout)] == ["github"]
    assert secret not in listed.stdout + listed.stderr
    _set_clipboard("")
    _assert_nowhere(secret, agent_home, generated, saved, got)


def test_save_from_the_clipboard_update_and_unknown_names(
        display: str, cryptfile: CryptFileKeyring, services: Services, agent_home: Path) -> None:
    _set_clipboard("user-Copied-Secret!42\n")
    first = _call(services, "password.save", {"name": "bank"})
    assert first.reply == "Saved the password from your clipboard as bank in the encrypted vault."
    _set_clipboard("second-Secret!43")
    second = _call(services, "password.save", {"name": "Bank"})
    assert second.data["replaced"] is True
    assert second.reply.startswith("Updated the password from your clipboard as bank")
    _set_clipboard("")
    got = _call(services, "password.get", {"name": "bank"})
    assert got.state is ResultState.OK
    assert _clipboard() == "second-Secret!43"
    missing = _call(services, "password.get", {"name": "banks"})
    assert missing.state is ResultState.ERROR
    assert missing.reply == "I have no saved password for banks. Did you mean bank?"
    _set_clipboard("")
    empty = _call(services, "password.save", {"name": "wifi"})
    assert empty.state is ResultState.ERROR
    assert "the clipboard is empty" in empty.reply
    events = [json.loads(x)["event"] for x in services.paths.audit_log.read_text().splitlines()]
    assert events.count("vault.save") == 2
    assert "vault.get" in events
    for s in ("user-Copied-Secret!42", "second-Secret!43"):
        _assert_nowhere(s, agent_home, first, second, got, missing)


def test_cli_deletes_an_entry_without_showing_it(
        cryptfile: CryptFileKeyring, paths: Paths, capsys: pytest.CaptureFixture[str]) -> None:
    Vault(vault_path(paths.data)).save("router", "admin-Pass-77")
    try:
        assert cli_main(["vault", "list"]) == 0
        assert capsys.readouterr().out.startswith("router  updated ")
        assert cli_main(["vault", "delete", "router"]) == 2  # stdin is not a terminal: no prompt, no delete
        assert "needs --yes" in capsys.readouterr().err
        assert cli_main(["vault", "delete", "router", "--yes"]) == 0
        out = capsys.readouterr()
        assert out.out.strip() == "deleted router"
        assert "admin-Pass-77" not in out.out + out.err
    finally:
        for h in list(logging.getLogger().handlers):
            if getattr(h, "_agent", False):
                logging.getLogger().removeHandler(h)
                h.close()
    assert Vault(vault_path(paths.data)).get("router") is None
    assert Vault(vault_path(paths.data)).names() == []


# -- keyrings that are refused ------------------------------------------------------------------------------
def test_the_fail_backend_is_a_clear_error(display: str, services: Services, paths: Paths) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        _set_clipboard("would-be-Secret-1")
        result = _call(services, "password.save", {"name": "mail"})
    finally:
        keyring.set_keyring(previous)
    assert result.state is ResultState.ERROR
    assert result.data["error"] == "KeyringUnavailableError"
    assert "No keyring backend is available" in result.reply
    assert "gnome-keyring" in result.reply
    assert "keyrings.cryptfile" in result.reply
    assert not vault_path(paths.data).exists()


def test_plaintext_null_and_empty_backends_are_refused(tmp_path: Path) -> None:
    vault = tmp_path / "vault.enc"
    plain = PlaintextKeyring()
    plain.file_path = str(tmp_path / "plain.cfg")
    for backend, words in ((plain, "Refusing the plaintext keyring"), (null.Keyring(), "Refusing the plaintext"),
                           (fail.Keyring(), "No keyring backend")):
        with pytest.raises(KeyringUnavailableError, match=words):
            Vault(vault, backend=backend).save("x", "y-Secret-2")
    assert not vault.exists()
    assert not (tmp_path / "plain.cfg").exists()

    class OnlyPlaintext(chainer.ChainerBackend):
        backends = [plain]  # noqa: RUF012 - a chainer whose discovery found nothing but a plaintext file

    class Empty(chainer.ChainerBackend):
        backends: list[Any] = []  # noqa: RUF012

    with pytest.raises(KeyringUnavailableError, match="Only plaintext keyrings"):
        Vault(vault, backend=OnlyPlaintext()).save("x", "y")
    with pytest.raises(KeyringUnavailableError, match="no backends"):
        Vault(vault, backend=Empty()).save("x", "y")


def test_a_locked_cryptfile_keyring_never_prompts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KEYRING_CRYPTFILE_PASSWORD", raising=False)
    kr = _cryptfile(tmp_path / "locked.cfg", fast=True)
    with pytest.raises(VaultLockedError, match="KEYRING_CRYPTFILE_PASSWORD"):
        Vault(tmp_path / "vault.enc", backend=kr).save("x", "y")
    Vault(tmp_path / "vault.enc", backend=kr, passphrase=lambda: "first").save("x", "y-Secret-3")
    other = _cryptfile(tmp_path / "locked.cfg", fast=True)
    with pytest.raises(VaultLockedError, match="Wrong passphrase"):
        Vault(tmp_path / "vault.enc", backend=other, passphrase=lambda: "second").get("x")
