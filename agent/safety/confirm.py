"""Confirmations: a yes is bound to one exact action (by digest) and expires.

Pending confirmations live in a small JSON file under the data dir so a confirmation asked in one
process (`agent ask`) can be granted from another (`agent confirm TOKEN`, the tray, the API).
Every ask, grant, refusal and expiry is written to the audit log.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from agent.errors import ConfirmationError
from agent.safety.audit import AuditLog

__all__ = ["ConfirmationStore", "Pending"]

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pending:
    """A confirmation asked and not yet answered."""

    token: str
    command: str
    digest: str  # sha256 of the exact action (command id + validated arguments / argv)
    summary: str  # what will happen, in words, shown to the user
    created: float
    expires: float
    intent: dict[str, Any]  # the skill call to re-run once confirmed: {"skill", "args"}


class ConfirmationStore:
    def __init__(self, path: Path, audit: AuditLog, ttl_s: float = 120.0) -> None:
        self.path = path
        self.audit = audit
        self.ttl_s = ttl_s

    def _load(self) -> dict[str, Pending]:
        if not self.path.exists():
            return {}
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return {k: Pending(**v) for k, v in raw.items()}
        except (json.JSONDecodeError, TypeError):
            _LOGGER.warning("pending confirmations file %s unreadable; starting empty", self.path)
            return {}

    def _save(self, pending: dict[str, Pending]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({k: asdict(v) for k, v in pending.items()}), encoding="utf-8")
        os.replace(tmp, self.path)

    def _expire(self, pending: dict[str, Pending], now: float) -> dict[str, Pending]:
        alive = {}
        for token, p in pending.items():
            if p.expires <= now:
                self.audit.append("confirmation.expired", token=token, command=p.command, digest=p.digest)
            else:
                alive[token] = p
        return alive

    def ask(self, command: str, digest: str, summary: str, intent: dict[str, Any] | None = None) -> Pending:
        now = time.time()
        p = Pending(secrets.token_hex(4), command, digest, summary, now, now + self.ttl_s, intent or {})
        pending = self._expire(self._load(), now)
        pending[p.token] = p
        self._save(pending)
        self.audit.append("confirmation.asked", token=p.token, command=command, digest=digest, summary=summary)
        return p

    def get(self, token: str) -> Pending | None:
        pending = self._load()
        p = pending.get(token)
        if p is not None and p.expires <= time.time():
            self._save(self._expire(pending, time.time()))
            return None
        return p

    def latest(self) -> Pending | None:
        """The most recent live confirmation (for a spoken "yes")."""
        alive = self._expire(self._load(), time.time())
        return max(alive.values(), key=lambda p: p.created) if alive else None

    def grant(self, token: str, digest: str) -> Pending:
        """Consume the confirmation `token` for the action `digest`, or raise `ConfirmationError`."""
        now = time.time()
        pending = self._load()
        p = pending.pop(token, None)
        if p is None:
            raise ConfirmationError(f"no pending confirmation {token!r}", command="?")
        if p.expires <= now:
            self._save(pending)
            self.audit.append("confirmation.expired", token=token, command=p.command, digest=p.digest)
            raise ConfirmationError("the confirmation expired; ask again", command=p.command)
        if p.digest != digest:
            pending[token] = p  # still valid for the action it was asked for
            self._save(pending)
            self.audit.append("confirmation.mismatch", token=token, command=p.command, asked=p.digest, got=digest)
            raise ConfirmationError("the confirmation was given for a different action", command=p.command)
        self._save(pending)
        self.audit.append("confirmation.granted", token=token, command=p.command, digest=digest, by="token")
        return p

    def refuse(self, token: str) -> Pending | None:
        pending = self._load()
        p = pending.pop(token, None)
        self._save(pending)
        if p is not None:
            self.audit.append("confirmation.refused", token=token, command=p.command, digest=p.digest)
        return p

    def clear(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
