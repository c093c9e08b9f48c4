"""The vault's errors. Messages say what to install or set; they never contain a secret.

    AgentError
    └── VaultError                  the vault file cannot be read or written, or an entry is invalid
        ├── KeyringUnavailableError no usable (non-plaintext) keyring backend; carries the backend name
        ├── VaultLockedError        an encrypted file keyring has no passphrase, or the wrong one
        └── ClipboardUnavailableError no display or no clipboard tool ("no clipboard available")
"""

from __future__ import annotations

from agent.errors import AgentError

__all__ = ["ClipboardUnavailableError", "KeyringUnavailableError", "VaultError", "VaultLockedError"]


class VaultError(AgentError):
    """The vault cannot do what was asked."""


class KeyringUnavailableError(VaultError):
    def __init__(self, message: str, *, backend: str) -> None:
        self.backend = backend
        super().__init__(message)


class VaultLockedError(KeyringUnavailableError):
    """An encrypted file keyring needs its passphrase."""


class ClipboardUnavailableError(VaultError):
    """No clipboard: no display, or no clipboard tool installed."""
