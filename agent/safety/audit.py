"""Append-only audit log: JSON lines, each record chained to the previous one by an HMAC under a secret key.

Record: {"seq", "ts", "event", "data", "prev", "mac"}: `mac` = HMAC-SHA256(key, canonical JSON of the record
without `mac`), `prev` = the previous record's `mac`. A sidecar `.head` file holds the last seq and mac, itself
MACed. The key is made with the first record and kept in the OS keyring, else in a private key file in the
config folder (`agent.safety.keys`), so whoever can write the log but not read the key cannot forge records.

`verify()` fails on an edited, removed, inserted or reordered record, cut-off records (the head says more),
a removed or forged head, an emptied or deleted log whose chain was started (the key exists), records the key
did not sign (a chain forged without the key), and on the markers `append()` writes when it finds the log in
such a state (`audit.log_missing`, `audit.head_missing`, `audit.head_mismatch`), so an append cannot hide it.
It cannot tell a whole log and head rolled back to an earlier, genuine copy; nor stop someone holding the key.

A log from before the key (unkeyed SHA-256 chain) is sealed the first time: moved to `audit.unkeyed-N.jsonl`
and named, with its digest, in the first record of the new chain. Secrets never reach the log: values under
secret-looking keys are masked.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from agent.errors import AuditError
from agent.safety.keys import KeyStore

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["GENESIS", "MARKERS", "AuditLog", "redact"]

_LOGGER = logging.getLogger(__name__)

GENESIS = "0" * 64
MARKERS = {"audit.log_missing": "the audit log was deleted or emptied before this record",
           "audit.head_missing": "the head file was deleted before this record (records may have been cut off)",
           "audit.head_mismatch": "the log did not end where the head said before this record (records were "
                                  "cut off, or the head was forged)",
           "audit.key_missing": "the audit key was missing, so the records before this one cannot be checked"}
_SECRET_WORDS = ("password", "passwd", "secret", "token", "passphrase", "api_key", "apikey", "credential")


def redact(value: Any) -> Any:
    """Mask values stored under secret-looking keys, recursively."""
    if isinstance(value, dict):
        return {
            k: ("***" if any(w in str(k).lower() for w in _SECRET_WORDS) and v not in (None, "") else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def _canonical(record: dict[str, Any]) -> bytes:
    body = {k: v for k, v in record.items() if k not in ("mac", "hash")}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")


def _mac(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _head_mac(key: bytes, seq: int, last: str) -> str:
    return _mac(key, f"head:{seq}:{last}".encode())


class AuditLog:
    def __init__(self, path: Path, key_file: Path | None = None, *, keys: KeyStore | None = None) -> None:
        """`key_file`: where the key lives when there is no OS keyring (default: beside the log, for tests
        and tools; the agent passes its config folder)."""
        self.path = path
        self.head_path = path.with_suffix(path.suffix + ".head")
        self._lock_path = path.with_suffix(path.suffix + ".lock")
        entry = "audit-key-" + hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
        self.keys = keys or KeyStore(entry, key_file or path.with_name(path.stem + ".key"))
        self._key: bytes | None = None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        with os.fdopen(fd, "r+") as lock:
            if fcntl is not None:
                fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                if fcntl is not None:
                    fcntl.flock(lock, fcntl.LOCK_UN)

    # -- the key ---------------------------------------------------------------------------------------------
    def _existing_key(self) -> bytes | None:
        if self._key is None:
            stored = self.keys.get()
            self._key = bytes.fromhex(stored) if stored else None
        return self._key

    def _new_key(self) -> bytes:
        self._key = bytes.fromhex(self.keys.get_or_create(lambda: secrets.token_hex(32)))
        return self._key

    # -- reading ---------------------------------------------------------------------------------------------
    def _read_head(self) -> dict[str, Any] | None:
        try:
            return dict(json.loads(self.head_path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (ValueError, TypeError):
            return {}

    def _last_record(self) -> dict[str, Any] | None:
        if not self.path.exists() or self.path.stat().st_size == 0:
            return None
        with open(self.path, "rb") as f:
            f.seek(0, os.SEEK_END)
            pos = f.tell()
            chunk = b""
            while pos > 0 and chunk.count(b"\n") < 2:
                step = min(4096, pos)
                pos -= step
                f.seek(pos)
                chunk = f.read(step) + chunk
        line = chunk.rstrip(b"\n").rsplit(b"\n", 1)[-1]
        try:
            return dict(json.loads(line))
        except ValueError:
            return {}

    def _first_record(self) -> dict[str, Any] | None:
        if not self.path.exists():
            return None
        with open(self.path, "rb") as f:
            line = f.readline()
        try:
            return dict(json.loads(line)) if line.strip() else None
        except ValueError:
            return {}

    def records(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        with open(self.path, encoding="utf-8") as f:
            for n, line in enumerate(f, start=1):
                try:
                    yield dict(json.loads(line))
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    raise AuditError(f"not valid JSON ({exc.__class__.__name__})", line=n) from exc

    # -- writing ---------------------------------------------------------------------------------------------
    def append(self, event: str, **data: Any) -> dict[str, Any]:
        """Write one record (after any marker the log's state calls for) and fsync it. Returns the record."""
        with self._locked():
            key, seq, prev = self._position()
            record = self._write(key, seq, prev, event, redact(data))
        return record

    def _position(self) -> tuple[bytes, int, str]:
        """The key and where the next record goes; writes a marker first when the log is not as it was left."""
        first = self._first_record()
        key = self._existing_key()
        if first is not None and "mac" not in first:
            return self._seal("unkeyed", "audit.sealed_unkeyed_log")
        if first is not None and key is None:
            return self._seal("unverifiable", "audit.key_missing")
        if key is None:
            return self._new_key(), 0, GENESIS
        last = self._last_record()
        if not last:  # the chain was started (the key exists) but the log is gone or empty
            return key, *self._marker(key, 0, GENESIS, "audit.log_missing", {})
        seq, mac = int(last.get("seq", 0)), str(last.get("mac", ""))
        head = self._read_head()
        if head is None:
            return key, *self._marker(key, seq, mac, "audit.head_missing", {"last_seq": seq})
        if (head.get("seq"), head.get("mac")) != (seq, mac) or not hmac.compare_digest(
                str(head.get("head_mac", "")), _head_mac(key, seq, mac)):
            return key, *self._marker(key, seq, mac, "audit.head_mismatch",
                                      {"head_seq": head.get("seq"), "last_seq": seq})
        return key, seq, mac

    def _marker(self, key: bytes, seq: int, prev: str, event: str, data: dict[str, Any]) -> tuple[int, str]:
        _LOGGER.warning("audit log: %s", MARKERS[event])
        record = self._write(key, seq, prev, event, data)
        return int(record["seq"]), str(record["mac"])

    def _seal(self, kind: str, event: str) -> tuple[bytes, int, str]:
        """Move a log this key cannot vouch for aside, and start a new chain that names it."""
        n = 1
        while (aside := self.path.with_name(f"{self.path.stem}.{kind}-{n}{self.path.suffix}")).exists():
            n += 1
        raw = self.path.read_bytes()
        digest, lines = hashlib.sha256(raw).hexdigest(), raw.count(b"\n")
        os.replace(self.path, aside)
        with contextlib.suppress(FileNotFoundError):
            self.head_path.unlink()
        key = self._existing_key() or self._new_key()
        data = {"file": aside.name, "records": lines, "sha256": digest}
        if event in MARKERS:
            _LOGGER.warning("audit log: %s", MARKERS[event])
        else:
            _LOGGER.info("audit log: the unkeyed log was sealed as %s; a keyed chain starts", aside.name)
        record = self._write(key, 0, GENESIS, event, data)
        return key, int(record["seq"]), str(record["mac"])

    def _write(self, key: bytes, seq: int, prev: str, event: str, data: Any) -> dict[str, Any]:
        record: dict[str, Any] = {
            "seq": seq + 1,
            "ts": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "event": event,
            "data": data,
            "prev": prev,
        }
        record["mac"] = _mac(key, _canonical(record))
        line = json.dumps(record, sort_keys=True, ensure_ascii=False, default=str) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
        head = {"seq": record["seq"], "mac": record["mac"], "head_mac": _head_mac(key, record["seq"], record["mac"])}
        tmp = self.head_path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(head))
        os.replace(tmp, self.head_path)
        return record

    # -- verifying -------------------------------------------------------------------------------------------
    def verify(self) -> int:
        """Check the whole chain with the key; return the number of records, or raise `AuditError`."""
        started = time.perf_counter()
        first = self._first_record()
        if first is not None and "mac" not in first and self._existing_key() is None:
            with self._locked():  # a log from before the key: seal it and start the keyed chain
                self._position()
        key = self._existing_key()
        has_records = self.path.exists() and self.path.stat().st_size > 0
        if key is None:
            if has_records:
                raise AuditError("the audit key is missing (keyring entry or key file), so no record can be "
                                 "checked", line=1)
            if self.head_path.exists():
                raise AuditError("the log and its key are gone but the head remains: the log was removed")
            return 0
        if not has_records:
            raise AuditError("the audit log is missing or empty, but its chain was started (the key exists): "
                             "it was deleted or emptied")
        prev, seq, n = GENESIS, 0, 0
        try:
            for n, record in enumerate(self.records(), start=1):
                if "mac" not in record:
                    raise AuditError("record has no MAC: not written by this agent's keyed log", line=n)
                if not hmac.compare_digest(str(record["mac"]), _mac(key, _canonical(record))):
                    raise AuditError("record was modified or forged: its MAC does not match (edited, or written "
                                     "without the key)", line=n)
                if record.get("seq") != seq + 1:
                    raise AuditError(f"sequence broken: expected {seq + 1}, found {record.get('seq')} (records "
                                     "were removed or reordered)", line=n)
                if record.get("prev") != prev:
                    raise AuditError("chain broken: 'prev' does not match the previous record (records were "
                                     "removed or reordered)", line=n)
                if record.get("event") in MARKERS:
                    raise AuditError(MARKERS[str(record["event"])], line=n)
                prev, seq = str(record["mac"]), int(record["seq"])
        except UnicodeDecodeError as exc:
            raise AuditError("not valid UTF-8", line=n + 1) from exc
        self._verify_head(key, seq, prev)
        _LOGGER.debug("audit verified %d records in %.1f ms", n, (time.perf_counter() - started) * 1000)
        return seq

    def _verify_head(self, key: bytes, seq: int, last: str) -> None:
        head = self._read_head()
        if head is None:
            raise AuditError("the head file was removed: the end of the log cannot be checked (records may have "
                             "been cut off)", line=seq or None)
        if not hmac.compare_digest(str(head.get("head_mac", "")), _head_mac(key, head.get("seq", -1),
                                                                              str(head.get("mac", "")))):
            raise AuditError("the head file was modified or forged: its MAC does not match", line=seq or None)
        if head.get("seq") != seq or head.get("mac") != last:
            raise AuditError(f"log ends at record {seq} but the head says {head.get('seq')}: records were removed "
                             "or added", line=seq or None)

    def tail(self, count: int = 20) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for record in self.records():
            out.append(record)
            if len(out) > count:
                out.pop(0)
        return out
