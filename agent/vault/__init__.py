"""Secrets: password generation, the encrypted vault (key in the OS keyring), and the clipboard."""

from agent.vault.errors import ClipboardUnavailableError, KeyringUnavailableError, VaultError, VaultLockedError
from agent.vault.generate import GeneratedPassword, generate_password
from agent.vault.vault import PASSPHRASE_ENV, Vault, normalize_name, usable_backend, vault_path

__all__ = [
    "ClipboardUnavailableError",
    "GeneratedPassword",
    "KeyringUnavailableError",
    "PASSPHRASE_ENV",
    "Vault",
    "VaultError",
    "VaultLockedError",
    "generate_password",
    "normalize_name",
    "usable_backend",
    "vault_path",
]
