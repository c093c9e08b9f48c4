"""The agent's own secret keys (history encryption, audit MAC): in the OS keyring where there is one, else in a
private key file (0600, in the config folder, never beside the data it protects).

"The OS keyring" is the one the vault accepts (`agent.vault.vault.usable_backend`): Secret Service, macOS
Keychain, Windows Credential Locker, or an encrypted file keyring unlocked with `KEYRING_CRYPTFILE_PASSWORD`;
never a plaintext backend, never a prompt. A key found in a file while a keyring is there moves into the
keyring and the file is deleted.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["SERVICE", "KeyStore", "secret_keyring"]

_LOGGER = logging.getLogger(__name__)

SERVICE = "ambient-agent"
_UNSET = object()
_CACHE: dict[int, Any] = {}


def secret_keyring() -> Any | None:
    """The usable, unlocked keyring backend, or None (none installed, only plaintext ones, locked, no D-Bus)."""
    try:
        import keyring

        from agent.vault.vault import PASSPHRASE_ENV, usable_backend

        configured = keyring.get_keyring()
        if id(configured) in _CACHE:
            return _CACHE[id(configured)]
        backend = usable_backend(configured)
        if hasattr(backend, "_keyring_key") and backend._keyring_key is None:  # an encrypted file keyring
            passphrase = os.environ.get(PASSPHRASE_ENV)
            if not passphrase:
                _LOGGER.info("the encrypted file keyring is locked (no %s); keys stay in files", PASSPHRASE_ENV)
                return None
            backend.keyring_key = passphrase
        _CACHE[id(configured)] = backend
        return backend
    except Exception as exc:  # no backend, only plaintext ones, a wrong passphrase
        _LOGGER.debug("no keyring for the agent's keys: %s", exc)
        return None


class KeyStore:
    """One key: keyring entry `entry` under service "ambient-agent", else the 0600 file `fallback`."""

    def __init__(self, entry: str, fallback: Path, *, backend: Any = _UNSET) -> None:
        self.entry = entry
        self.fallback = fallback
        self._backend = backend

    def backend(self) -> Any | None:
        return secret_keyring() if self._backend is _UNSET else self._backend

    def where(self) -> str:
        return "keyring" if self._read_keyring(self.backend()) is not None else (
            "file" if self.fallback.exists() else "none")

    def get(self) -> str | None:
        """The key, or None when it was never made."""
        backend = self.backend()
        stored = self._read_keyring(backend)
        if stored is not None:
            return stored
        if self.fallback.exists():
            key = self.fallback.read_text(encoding="utf-8").strip()
            if backend is not None and self._write_keyring(backend, key):
                self.fallback.unlink()  # moved into the keyring: no copy left beside the data
                _LOGGER.info("moved the %s into the OS keyring", self.entry)
            return key
        return None

    def get_or_create(self, make: Callable[[], str]) -> str:
        key = self.get()
        if key is not None:
            return key
        key = make()
        backend = self.backend()
        if backend is None or not self._write_keyring(backend, key):
            self._write_file(key)
        return key

    def _read_keyring(self, backend: Any | None) -> str | None:
        if backend is None:
            return None
        try:
            value = backend.get_password(SERVICE, self.entry)
        except Exception as exc:  # locked, D-Bus gone
            _LOGGER.warning("cannot read the %s from the keyring: %s", self.entry, exc.__class__.__name__)
            return None
        return None if value is None else str(value)

    def _write_keyring(self, backend: Any, key: str) -> bool:
        try:
            backend.set_password(SERVICE, self.entry, key)
            return bool(backend.get_password(SERVICE, self.entry) == key)
        except Exception as exc:
            _LOGGER.warning("cannot store the %s in the keyring (a 0600 file keeps it): %s", self.entry,
                            exc.__class__.__name__)
            return False

    def _write_file(self, key: str) -> None:
        self.fallback.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = self.fallback.with_suffix(".tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(key)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.fallback)
