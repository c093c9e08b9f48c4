"""The password vault: one Fernet-encrypted file under the data dir, its key held in the OS keyring.

- The key (a Fernet key) lives in the keyring under service "ambient-agent", user "vault-key". It is made
  on first use and stored once; if the vault file exists but the key is gone, that is an error (a new key
  would make the old vault unreadable), never a silent reset.
- Only real keyrings are accepted: Secret Service (gnome-keyring, KWallet via its Secret Service API),
  macOS Keychain, Windows Credential Locker, or an encrypted file keyring (keyrings.cryptfile) unlocked with
  a passphrase. The fail and null backends, an empty chainer and every plaintext backend are refused with
  a `KeyringUnavailableError` that says what to install. A chainer is narrowed to its best non-plaintext
  backend, so a failing write can never fall through to a plaintext file.
- An encrypted file keyring is never unlocked by prompting inside the agent: the passphrase comes from the
  caller (the CLI prompts on a terminal) or `KEYRING_CRYPTFILE_PASSWORD`; otherwise `VaultLockedError`.
- The whole vault (names included) is one Fernet token: `_MAGIC` line, then the token. Writes go to a
  temporary file in the same folder, are fsynced, then renamed over the old file (and the folder fsynced),
  under an exclusive lock, with mode 0600.
- Secrets never reach logs, exceptions or `repr`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from agent.logs import said
from agent.vault.errors import KeyringUnavailableError, VaultError, VaultLockedError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["KEY_USER", "PASSPHRASE_ENV", "SERVICE", "Vault", "normalize_name", "usable_backend", "vault_path"]

_LOGGER = logging.getLogger(__name__)

SERVICE = "ambient-agent"
KEY_USER = "vault-key"
PASSPHRASE_ENV = "KEYRING_CRYPTFILE_PASSWORD"
_MAGIC = b"ambient-agent-vault 1\n"
_HISTORY = 5

_INSTALL_HINT = (
    "Install and unlock a Secret Service keyring (gnome-keyring, or KWallet with its Secret Service "
    "support), or use keyrings.cryptfile with a passphrase: set PYTHON_KEYRING_BACKEND="
    "keyrings.cryptfile.cryptfile.CryptFileKeyring and KEYRING_CRYPTFILE_PASSWORD. "
    "The vault never falls back to a plaintext file."
)


def _backend_name(kr: Any) -> str:
    return f"{type(kr).__module__}.{type(kr).__qualname__}"


def _is_plaintext(kr: Any) -> bool:
    name = _backend_name(kr)
    return "plaintext" in name.lower() or name.startswith("keyring.backends.null.")


def usable_backend(kr: Any) -> Any:
    """The keyring backend the vault may use, or `KeyringUnavailableError` naming the problem and the fix."""
    from keyring.backends import chainer, fail

    if isinstance(kr, fail.Keyring):
        raise KeyringUnavailableError(f"No keyring backend is available. {_INSTALL_HINT}", backend=_backend_name(kr))
    if isinstance(kr, chainer.ChainerBackend):
        backends = list(kr.backends)
        if not backends:
            raise KeyringUnavailableError(f"The keyring chainer has no backends. {_INSTALL_HINT}",
                                          backend=_backend_name(kr))
        for candidate in backends:  # highest priority first
            if not _is_plaintext(candidate) and not isinstance(candidate, fail.Keyring):
                return candidate
        raise KeyringUnavailableError(
            f"Only plaintext keyrings are available ({', '.join(_backend_name(b) for b in backends)}). "
            f"{_INSTALL_HINT}", backend=_backend_name(kr))
    if _is_plaintext(kr):
        raise KeyringUnavailableError(f"Refusing the plaintext keyring {_backend_name(kr)}. {_INSTALL_HINT}",
                                      backend=_backend_name(kr))
    return kr


def vault_path(data_dir: Path) -> Path:
    """Where the vault file lives under the agent's data dir."""
    return data_dir / "vault" / "vault.enc"


def normalize_name(name: str) -> str:
    """Vault entry names compare case-insensitively, with spaces collapsed."""
    return " ".join(name.strip().lower().split())


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Vault:
    """The encrypted vault at `path`. `backend`: a keyring backend (default: `keyring.get_keyring()`);
    `passphrase`: called when an encrypted file keyring is locked (default: `KEYRING_CRYPTFILE_PASSWORD`)."""

    def __init__(self, path: Path, *, backend: Any = None,
                 passphrase: Callable[[], str | None] | None = None) -> None:
        self.path = path
        self._backend = backend
        self._passphrase = passphrase

    def __repr__(self) -> str:
        return f"Vault({self.path})"

    # -- public --------------------------------------------------------------------------------------
    def names(self) -> list[dict[str, str]]:
        """Entry names with their dates (never the secrets)."""
        if not self.path.exists():
            return []
        entries = self._read(self._fernet(create=False))
        return [{"name": n, "created": e.get("created", ""), "updated": e.get("updated", "")}
                for n, e in sorted(entries.items())]

    def get(self, name: str) -> str | None:
        if not self.path.exists():
            return None
        entry = self._read(self._fernet(create=False)).get(normalize_name(name))
        return None if entry is None else str(entry["secret"])

    def save(self, name: str, secret: str) -> bool:
        """Store `secret` under `name`; True if it replaced an entry (the old value goes to its history)."""
        key = normalize_name(name)
        if not key or not secret:
            raise VaultError("a vault entry needs a name and a secret")
        fernet = self._fernet(create=True)
        with self._locked():
            entries = self._read(fernet)
            old = entries.get(key)
            now = _now()
            if old is None:
                entries[key] = {"secret": secret, "created": now, "updated": now, "history": []}
            else:
                history = [{"secret": old["secret"], "replaced": now}, *old.get("history", [])][:_HISTORY]
                entries[key] = {"secret": secret, "created": old.get("created", now), "updated": now,
                                "history": history}
            self._write(fernet, entries)
        _LOGGER.info("vault: saved entry %s (%s)", said(key), "replaced" if old else "new")
        return old is not None

    def delete(self, name: str) -> bool:
        key = normalize_name(name)
        if not self.path.exists():
            return False
        fernet = self._fernet(create=False)
        with self._locked():
            entries = self._read(fernet)
            if entries.pop(key, None) is None:
                return False
            self._write(fernet, entries)
        _LOGGER.info("vault: deleted entry %s", said(key))
        return True

    # -- the key -------------------------------------------------------------------------------------
    def backend(self) -> Any:
        import keyring

        kr = usable_backend(self._backend if self._backend is not None else keyring.get_keyring())
        self._unlock(kr)
        return kr

    def _unlock(self, kr: Any) -> None:
        """Give a locked encrypted file keyring its passphrase without ever letting it prompt."""
        if not hasattr(kr, "_keyring_key") or kr._keyring_key is not None:
            return
        source = self._passphrase or (lambda: os.environ.get(PASSPHRASE_ENV))
        passphrase = source()
        if not passphrase:
            raise VaultLockedError(
                f"The encrypted keyring {_backend_name(kr)} is locked: set {PASSPHRASE_ENV} for the agent, "
                "or use a Secret Service keyring (gnome-keyring, KWallet).", backend=_backend_name(kr))
        try:
            kr.keyring_key = passphrase
        except ValueError:
            raise VaultLockedError(f"Wrong passphrase for the encrypted keyring {_backend_name(kr)}.",
                                   backend=_backend_name(kr)) from None

    def _fernet(self, *, create: bool) -> Fernet:
        from keyring.errors import KeyringError

        kr = self.backend()
        try:
            key = kr.get_password(SERVICE, KEY_USER)
            if key is None:
                if self.path.exists():
                    raise VaultError(f"The vault key is missing from the keyring {_backend_name(kr)}, so the "
                                     f"vault at {self.path} cannot be opened.")
                if not create:
                    return Fernet(Fernet.generate_key())  # nothing stored yet: an empty vault
                key = Fernet.generate_key().decode("ascii")
                kr.set_password(SERVICE, KEY_USER, key)
                if kr.get_password(SERVICE, KEY_USER) != key:
                    raise KeyringUnavailableError(f"The keyring {_backend_name(kr)} did not keep the vault key. "
                                                  f"{_INSTALL_HINT}", backend=_backend_name(kr))
                _LOGGER.info("vault: made a new key in %s", _backend_name(kr))
        except KeyringError as exc:
            raise KeyringUnavailableError(f"The keyring {_backend_name(kr)} failed: "
                                          f"{exc.__class__.__name__}. {_INSTALL_HINT}",
                                          backend=_backend_name(kr)) from None
        try:
            return Fernet(key.encode("ascii"))
        except ValueError:
            raise VaultError(f"The vault key in {_backend_name(kr)} is not a valid key.") from None

    # -- the file ------------------------------------------------------------------------------------
    def _read(self, fernet: Fernet) -> dict[str, dict[str, Any]]:
        if not self.path.exists():
            return {}
        blob = self.path.read_bytes()
        if not blob.startswith(_MAGIC):
            raise VaultError(f"{self.path} is not a vault file")
        try:
            data = json.loads(fernet.decrypt(blob[len(_MAGIC):].strip()))
        except InvalidToken:
            raise VaultError(f"{self.path} cannot be decrypted with the key in the keyring") from None
        entries: dict[str, dict[str, Any]] = data.get("entries", {})
        return entries

    def _write(self, fernet: Fernet, entries: dict[str, dict[str, Any]]) -> None:
        token = fernet.encrypt(json.dumps({"version": 1, "entries": entries}).encode("utf-8"))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".vault-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                os.fchmod(f.fileno(), 0o600)
                f.write(_MAGIC + token + b"\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a") as f:
            if fcntl is not None:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                if fcntl is not None:
                    fcntl.flock(f.fileno(), fcntl.LOCK_UN)
