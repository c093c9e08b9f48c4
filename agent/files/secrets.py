"""Files and folders that hold secrets by their nature: never indexed, whatever folder the user points at.

The default list (`SECRET_DIRS`, `SECRET_DIR_PATHS`, `SECRET_FILES`) covers private keys and certificates,
password managers' databases and stores, GnuPG and SSH folders, cloud and package-registry credentials, `.env`
files and browser or mail profiles. The user extends it with `files.exclude` (glob patterns matched against a
file's or folder's name and its path under the indexed folder). A file whose text holds a private key block is
skipped too, whatever its name (`holds_private_key`).

All names are matched case-insensitively; a path is secret when any of its folders (from the file system root,
so indexing `~/.ssh` itself indexes nothing) or its own name matches.
"""

from __future__ import annotations

import fnmatch
import re
from functools import lru_cache
from pathlib import PurePath

__all__ = ["SECRET_DIRS", "SECRET_DIR_PATHS", "SECRET_FILES", "holds_private_key", "secret_dir", "secret_file",
           "secret_path"]

# folder names: anywhere on the path
SECRET_DIRS = frozenset({
    ".ssh", ".gnupg", ".password-store", "password-store", ".pki", ".aws", ".azure", ".gcloud", ".kube",
    ".docker", ".terraform.d", ".keepass", ".keepassxc", ".mozilla", ".thunderbird", ".librewolf", ".waterfox",
    "google-chrome", "google-chrome-beta", "google-chrome-unstable", "bravesoftware", "microsoft-edge",
    "microsoft-edge-beta", "tor-browser", ".electrum", ".bitcoin", ".ethereum", ".secrets",
})
# folder paths (their last components, as globs): profiles and stores whose folder name alone is ambiguous
SECRET_DIR_PATHS = (
    ".config/chromium", "snap/chromium", ".config/opera", ".config/vivaldi", ".config/gcloud",
    ".local/share/keyrings", "mozilla/firefox", "google/chrome", "google/chrome beta", "microsoft/edge",
    "thunderbird/profiles", "firefox/profiles", "librewolf/profiles", "library/keychains", "opera software",
)
# file names (globs)
SECRET_FILES = (
    "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*", "*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "*.keystore",
    "*.ppk", "*.kdbx", "*.kdb", "*.agilekeychain", "*.opvault", "*.1pif", "*.psafe3", "*.gpg", "*.pgp", "*.asc",
    "*.sig", "*.ovpn", "*.keychain", "*.keychain-db", "*.tfstate", "*.tfstate.*", "*.tfvars", "*.env", ".env",
    ".env.*", "env.local", ".netrc", "_netrc", ".pgpass", ".htpasswd", ".git-credentials", ".npmrc", ".pypirc",
    ".boto", ".s3cfg", ".dockercfg", "credentials", "credentials.*", "*credentials*.json", "client_secret*.json",
    "service-account*.json", "secrets.*", "secret.*", "*.secret", "*.secrets", "known_hosts", "authorized_keys",
    "wallet.dat", "*.wallet", "shadow", "gshadow", "master.key", "*.mobileprovision", "logins.json",
    "key4.db", "key3.db", "cookies.sqlite", "login data", "cookies", "web data", "*.cer", "*.crt", "*.der",
    "*.csr", "*.jwk", "*.token", ".vault-token",
)
_PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")


def secret_file(name: str) -> bool:
    """Whether a file of this name holds secrets by its nature (`id_rsa`, `vault.kdbx`, `prod.env`...)."""
    low = name.lower()
    return any(fnmatch.fnmatchcase(low, pat) for pat in SECRET_FILES)


@lru_cache(maxsize=4096)
def secret_dir(path: str) -> bool:
    """Whether a folder (absolute or relative; its own name and parents) is or lies in a secret folder."""
    parts = [p.lower() for p in PurePath(path).parts]
    if any(p in SECRET_DIRS for p in parts):
        return True
    tail = "/" + "/".join(p.strip("/") for p in parts) + "/"
    return any(fnmatch.fnmatchcase(tail, f"*/{pat}/*") for pat in SECRET_DIR_PATHS)


def secret_path(path: str) -> bool:
    """Whether a file's path is secret: its name, or any folder it lies in."""
    pure = PurePath(path)
    return secret_file(pure.name) or secret_dir(str(pure.parent))


def holds_private_key(text: str) -> bool:
    """Whether the text holds a PEM or OpenSSH private key, or a PGP secret key block."""
    return _PRIVATE_KEY.search(text) is not None
