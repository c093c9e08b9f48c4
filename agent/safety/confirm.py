"""Confirmations: a yes is bound to one exact action (by digest), to the conversation that asked, and expires.

Pending confirmations live in a small JSON file (mode 0600) under the data dir so a confirmation asked in one
process (`agent ask`) can be granted from another (`agent confirm TOKEN`, the tray, the API). Each one records
the conversation that raised it (`Conversation`: its source and session), so a bare "yes" answers only its
own conversation's question (`ConfirmationStore.answerable`). Tokens carry 128 random bits; the audit log names
a request by a digest of its token (`request_id`), never by the token, so a grant can be matched to its ask
without the log holding a usable token.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import logging
import os
import secrets
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from agent.errors import ConfirmationError
from agent.safety.audit import AuditLog

__all__ = ["TOKEN_BYTES", "ConfirmationStore", "Conversation", "Pending", "conversation", "current_conversation",
           "request_id"]

_LOGGER = logging.getLogger(__name__)

TOKEN_BYTES = 16  # 128 bits


@dataclass(frozen=True)
class Conversation:
    """Who asked: the face (`cli`, `prompt`, `voice`, `api`, `rule`, ...) and its session within that face."""

    source: str
    session: str

    @classmethod
    def of(cls, source: str, session: str | None = None) -> Conversation:
        """The conversation of `source` in this process: a terminal session for the CLI, else the process."""
        if session is None:
            session = _terminal_session() if source == "cli" else f"pid{os.getpid()}"
        return cls(source, session)


def _terminal_session() -> str:
    """Successive `agent ask` runs typed in one terminal share this; another terminal or user does not."""
    tty = ""
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            if stream is not None and stream.isatty():
                tty = os.ttyname(stream.fileno())
                break
    sid = os.getsid(0) if hasattr(os, "getsid") else os.getppid()
    return f"sid{sid}:{tty}:uid{os.getuid() if hasattr(os, 'getuid') else ''}"


_CURRENT: contextvars.ContextVar[Conversation | None] = contextvars.ContextVar("agent_conversation", default=None)


def current_conversation() -> Conversation:
    """The conversation the running turn belongs to (set by the pipeline); `system` outside any turn."""
    return _CURRENT.get() or Conversation("system", f"pid{os.getpid()}")


@contextlib.contextmanager
def conversation(conv: Conversation) -> Iterator[Conversation]:
    """Run a turn on behalf of `conv`: confirmations asked meanwhile belong to it."""
    reset = _CURRENT.set(conv)
    try:
        yield conv
    finally:
        _CURRENT.reset(reset)


def request_id(token: str) -> str:
    """What the audit log calls a confirmation request: a digest of its token (the token stays secret)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:24]


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
    source: str = ""  # the conversation that asked (see `Conversation`)
    session: str = ""

    @property
    def conversation(self) -> Conversation:
        return Conversation(self.source, self.session)


class ConfirmationStore:
    def __init__(self, path: Path, audit: AuditLog, ttl_s: float = 120.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.audit = audit
        self.ttl_s = ttl_s
        self.clock = clock

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
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps({k: asdict(v) for k, v in pending.items()}))
        os.replace(tmp, self.path)

    def _expire(self, pending: dict[str, Pending], now: float) -> dict[str, Pending]:
        alive = {}
        for token, p in pending.items():
            if p.expires <= now:
                self.audit.append("confirmation.expired", request=request_id(token), command=p.command,
                                  digest=p.digest)
            else:
                alive[token] = p
        return alive

    def ask(self, command: str, digest: str, summary: str, intent: dict[str, Any] | None = None,
            conv: Conversation | None = None) -> Pending:
        now = self.clock()
        conv = conv or current_conversation()
        p = Pending(secrets.token_hex(TOKEN_BYTES), command, digest, summary, now, now + self.ttl_s, intent or {},
                    conv.source, conv.session)
        pending = self._expire(self._load(), now)
        pending[p.token] = p
        self._save(pending)
        self.audit.append("confirmation.asked", request=request_id(p.token), command=command, digest=digest,
                          summary=summary, source=conv.source)
        return p

    def get(self, token: str) -> Pending | None:
        pending = self._load()
        p = pending.get(token)
        if p is not None and p.expires <= self.clock():
            self._save(self._expire(pending, self.clock()))
            return None
        return p

    def live(self) -> list[Pending]:
        """Every live confirmation, oldest first."""
        alive = self._expire(self._load(), self.clock())
        return sorted(alive.values(), key=lambda p: p.created)

    def answerable(self, conv: Conversation, within_s: float) -> list[Pending]:
        """The live confirmations a bare "yes" from `conv` may answer: its own, asked within `within_s`."""
        since = self.clock() - within_s
        return [p for p in self.live() if p.conversation == conv and p.created >= since]

    def grant(self, token: str, digest: str, *, by: str = "token") -> Pending:
        """Consume the confirmation `token` for the action `digest`, or raise `ConfirmationError`."""
        now = self.clock()
        pending = self._load()
        p = pending.pop(token, None)
        if p is None:
            raise ConfirmationError("no such pending confirmation", command="?")
        rid = request_id(token)
        if p.expires <= now:
            self._save(pending)
            self.audit.append("confirmation.expired", request=rid, command=p.command, digest=p.digest)
            raise ConfirmationError("the confirmation expired; ask again", command=p.command)
        if p.digest != digest:
            pending[token] = p  # still valid for the action it was asked for
            self._save(pending)
            self.audit.append("confirmation.mismatch", request=rid, command=p.command, asked=p.digest, got=digest)
            raise ConfirmationError("the confirmation was given for a different action", command=p.command)
        self._save(pending)
        self.audit.append("confirmation.granted", request=rid, command=p.command, digest=digest, by=by,
                          source=current_conversation().source)
        return p

    def refuse(self, token: str) -> Pending | None:
        pending = self._load()
        p = pending.pop(token, None)
        self._save(pending)
        if p is not None:
            self.audit.append("confirmation.refused", request=request_id(token), command=p.command, digest=p.digest,
                              source=current_conversation().source)
        return p

    def clear(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
