"""Conversation history: every turn stored under the data dir, encrypted at rest (Fernet).

The key lives in the OS keyring when one is there (service "ambient-agent", entry "history-key"; see
`agent.safety.keys`: Secret Service, macOS, Windows, or an unlocked encrypted file keyring); otherwise in
`<config dir>/history.key` with mode 0600. A key file left from before moves into the keyring.
History is bounded (oldest turns are pruned), listable (`agent history`) and clearable (`agent history clear`).

History is conversation memory, never a reason to fail a request: a damaged file turns it off for the process
(`broken`, announced once with the fix), a full disk skips the turn it cannot save; `append` and `recent`
never raise a `StoreError`. Commits are `synchronous=FULL`, like every store with user data.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from agent.errors import StoreError
from agent.paths import Paths
from agent.safety.keys import KeyStore
from agent.store.sqlite import Database

__all__ = ["HistoryStore", "Turn", "history_key"]

_LOGGER = logging.getLogger(__name__)
_KEYRING_SERVICE = "ambient-agent"
_KEYRING_ENTRY = "history-key"
_SCHEMA = ("CREATE TABLE IF NOT EXISTS turns (id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, "
           "payload BLOB NOT NULL)")


@dataclass(frozen=True)
class Turn:
    id: int
    ts: float
    text: str
    skill: str
    args: dict[str, Any]
    reply: str
    state: str


def _native_keyring() -> Any | None:
    """The OS keyring (Secret Service, KWallet, macOS, Windows), never a file-based or prompting backend."""
    import keyring

    backend = keyring.get_keyring()
    candidates = getattr(backend, "backends", [backend])
    for b in candidates:
        module = type(b).__module__
        if module.startswith("keyring.backends.") and not module.endswith((".fail", ".chainer", ".null")):
            return b
    return None


def history_key(paths: Paths, *, use_keyring: bool = True) -> bytes:
    """The history's Fernet key: from the OS keyring where there is one, else the private key file."""
    store = KeyStore(_KEYRING_ENTRY, paths.config / "history.key", **({} if use_keyring else {"backend": None}))
    return store.get_or_create(lambda: Fernet.generate_key().decode()).encode()


class HistoryStore:
    def __init__(self, paths: Paths, *, max_turns: int = 1000, use_keyring: bool = True) -> None:
        self.path = paths.data / "history.sqlite"
        self.max_turns = max_turns
        self._fernet = Fernet(history_key(paths, use_keyring=use_keyring))
        self.broken: StoreError | None = None  # set when the file turns out damaged: history is off from then on
        # one connection for the process (not one per turn); raises StoreError when it cannot be opened
        self._db = Database.open(self.path, [_SCHEMA], synchronous="FULL", busy_timeout_ms=10_000)

    def _failed(self, exc: StoreError) -> None:
        if exc.problem != "full" and self.broken is None:
            self.broken = exc
            _LOGGER.warning("history is off for now: %s", exc)

    def append(self, text: str, skill: str, args: dict[str, Any], reply: str, state: str) -> bool:
        """Store one turn; False (logged, never raised) when it cannot be saved: a full disk, a damaged file."""
        if self.broken is not None:
            return False
        payload = json.dumps({"text": text, "skill": skill, "args": args, "reply": reply, "state": state},
                             default=str).encode()
        token = self._fernet.encrypt(payload)
        try:
            with self._db.transaction() as db:
                db.execute("INSERT INTO turns (ts, payload) VALUES (?, ?)", (time.time(), token))
                db.execute("DELETE FROM turns WHERE id <= (SELECT MAX(id) FROM turns) - ?", (self.max_turns,))
        except StoreError as exc:
            self._failed(exc)
            return False
        return True

    def recent(self, n: int = 20, within_s: float | None = None) -> list[Turn]:
        """The last `n` turns, oldest first (only those newer than `within_s` seconds if given); [] when the
        file cannot be read."""
        if self.broken is not None:
            return []
        since = time.time() - within_s if within_s is not None else 0.0
        try:
            rows = self._db.query("SELECT id, ts, payload FROM turns WHERE ts >= ? ORDER BY id DESC LIMIT ?",
                                  (since, n))
        except StoreError as exc:
            self._failed(exc)
            return []
        out = []
        for row_id, ts, token in reversed(rows):
            try:
                data = json.loads(self._fernet.decrypt(token))
            except InvalidToken:
                _LOGGER.warning("history turn %s cannot be decrypted (key changed?); skipping it", row_id)
                continue
            out.append(Turn(row_id, ts, data["text"], data["skill"], data.get("args", {}), data["reply"],
                            data["state"]))
        return out

    def clear(self) -> int:
        with self._db.transaction() as db:
            n = db.execute("SELECT COUNT(*) FROM turns").fetchone()[0]
            db.execute("DELETE FROM turns")
        self._db.query("VACUUM")  # the encrypted rows leave the file too
        return int(n)
