"""`agent vault list` and `agent vault delete NAME`: manage the vault without ever printing a secret.

There is deliberately no command that shows a password: `agent ask "get my NAME password"` copies it to
the clipboard, which clears itself. An encrypted file keyring is unlocked with `KEYRING_CRYPTFILE_PASSWORD`
or, on a terminal, a passphrase prompt.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from agent.vault.vault import PASSPHRASE_ENV, Vault, normalize_name, vault_path

__all__ = ["add_parsers"]


def _out(text: str, *, err: bool = False) -> None:
    (sys.stderr if err else sys.stdout).write(text + "\n")


def _passphrase() -> str | None:
    if os.environ.get(PASSPHRASE_ENV):
        return os.environ[PASSPHRASE_ENV]
    if sys.stdin.isatty():
        return getpass.getpass("Keyring passphrase: ")
    return None


def _run(ns: argparse.Namespace, services_factory: Callable[[], Any]) -> int:
    services = services_factory()
    vault = Vault(vault_path(services.paths.data), passphrase=_passphrase)
    if ns.action == "list":
        rows = vault.names()
        if ns.json:
            _out(json.dumps(rows))
        elif rows:
            width = max(len(r["name"]) for r in rows)
            _out("\n".join(f"{r['name']:<{width}}  updated {r['updated']}" for r in rows))
        else:
            _out("the vault is empty")
        return 0
    if not ns.name:
        _out("error: which entry? (see: agent vault list)", err=True)
        return 2
    name = normalize_name(" ".join(ns.name))
    if not ns.yes:
        if not sys.stdin.isatty():
            _out(f"error: deleting {name!r} needs --yes (or run it on a terminal to be asked)", err=True)
            return 2
        if input(f"Delete the password for {name!r}? [y/N] ").strip().lower() not in ("y", "yes"):
            _out("kept")
            return 1
    if not vault.delete(name):
        _out(f"error: no entry named {name!r}", err=True)
        return 1
    services.audit.append("vault.delete", name=name)
    _out(f"deleted {name}")
    return 0


def add_parsers(sub: Any, services_factory: Callable[[], Any]) -> None:
    """Add `agent vault ...` to the CLI's subparsers."""
    v = sub.add_parser("vault", help="list the password vault's entries, or delete one (never shows secrets)")
    v.add_argument("action", choices=["list", "delete"])
    v.add_argument("name", nargs="*", help="the entry to delete")
    v.add_argument("--yes", action="store_true", help="delete without asking")
    v.add_argument("--json", action="store_true")
    v.set_defaults(fn=lambda ns: _run(ns, services_factory))
