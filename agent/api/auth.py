"""The API's bearer token: created on first start, then the same on every start.

Where it lives:

- the OS keyring (service "ambient-agent", entry "api-token") when a native backend is there (Secret Service,
  KWallet, macOS Keychain, Windows Credential Locker; never a file-based or prompting backend);
- always `<data dir>/api/token` (mode 0600, in a 0700 folder) so local scripts can read it
  (`TOKEN=$(agent api token)`). When both exist and differ, the keyring wins and the file is rewritten.

Clients send it as `Authorization: Bearer <token>`. Compared in constant time.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import secrets
from pathlib import Path
from typing import Any

from agent.history import _native_keyring
from agent.paths import Paths

__all__ = ["KEYRING_ENTRY", "load_token", "runtime_dir", "token_file", "tokens_match"]

_LOGGER = logging.getLogger(__name__)
_KEYRING_SERVICE = "ambient-agent"
KEYRING_ENTRY = "api-token"
_VALID = re.compile(r"[A-Za-z0-9_-]{32,128}")
_AUTO: Any = object()


def runtime_dir(paths: Paths) -> Path:
    """`<data dir>/api`: the token file and `server.json` (where a running API listens)."""
    folder = paths.data / "api"
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    return folder


def token_file(paths: Paths) -> Path:
    return runtime_dir(paths) / "token"


def _read_file(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text if _VALID.fullmatch(text) else None


def _write_file(path: Path, token: str) -> None:
    """Write the token file atomically; on a full disk (or any OSError) log why and keep the old file, if any:
    the API still serves with the token in memory (and in the keyring when there is one)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(token + "\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        _LOGGER.warning("the API token could not be written to %s (%s): `agent api token` cannot print it until "
                        "there is space; the API serves meanwhile", path, exc)


def _keyring_get(backend: Any) -> str | None:
    try:
        stored = backend.get_password(_KEYRING_SERVICE, KEYRING_ENTRY)
    except Exception as exc:  # locked keyring, D-Bus gone
        _LOGGER.warning("cannot read the API token from the keyring: %s", exc)
        return None
    return str(stored) if stored and _VALID.fullmatch(str(stored)) else None


def _keyring_set(backend: Any, token: str) -> None:
    try:
        backend.set_password(_KEYRING_SERVICE, KEYRING_ENTRY, token)
    except Exception as exc:
        _LOGGER.warning("cannot store the API token in the keyring (the 0600 file still has it): %s", exc)


def load_token(paths: Paths, *, backend: Any = _AUTO) -> str:
    """The API token, created (and stored in both places) the first time. `backend`: a keyring backend, None for
    none; by default the native OS keyring when there is one."""
    if backend is _AUTO:
        try:
            backend = _native_keyring()
        except Exception as exc:  # keyring broken or missing
            _LOGGER.debug("no keyring for the API token: %s", exc)
            backend = None
    path = token_file(paths)
    from_file = _read_file(path)
    from_keyring = _keyring_get(backend) if backend is not None else None
    token = from_keyring or from_file or secrets.token_urlsafe(32)
    if backend is not None and from_keyring is None:
        _keyring_set(backend, token)
    if from_file != token:
        _write_file(path, token)
        _LOGGER.info("API token %s (%s)", "created" if not (from_file or from_keyring) else "file updated", path)
    elif path.stat().st_mode & 0o077:
        path.chmod(0o600)  # someone loosened it
    return token


def tokens_match(expected: str, presented: str | None) -> bool:
    """Constant-time comparison; None or an empty string never matches."""
    if not presented:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode("utf-8", "replace"))
