"""Append-only audit log: JSON lines, each record chained to the previous by SHA-256.

Record: {"seq", "ts", "event", "data", "prev", "hash"} where `hash` = sha256 over the canonical JSON of
the record without `hash`. A sidecar `.head` file holds the last seq and hash, so cutting records off
the end is detected too. Secrets never reach the log: values under secret-looking keys are masked.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from agent.errors import AuditError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["GENESIS", "AuditLog", "redact"]

_LOGGER = logging.getLogger(__name__)

GENESIS = "0" * 64
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


def _digest(record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class AuditLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.head_path = path.with_suffix(path.suffix + ".head")
        self._lock_path = path.with_suffix(path.suffix + ".lock")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._lock_path, "a+") as lock:
            if fcntl is not None:
                fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                if fcntl is not None:
                    fcntl.flock(lock, fcntl.LOCK_UN)

    def _head(self) -> tuple[int, str]:
        if self.head_path.exists():
            head = json.loads(self.head_path.read_text(encoding="utf-8"))
            return int(head["seq"]), str(head["hash"])
        last = self._last_record()
        return (int(last["seq"]), str(last["hash"])) if last else (0, GENESIS)

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
        return dict(json.loads(line))

    def append(self, event: str, **data: Any) -> dict[str, Any]:
        """Write one record and fsync it. Returns the record written."""
        with self._locked():
            seq, prev = self._head()
            record: dict[str, Any] = {
                "seq": seq + 1,
                "ts": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                "event": event,
                "data": redact(data),
                "prev": prev,
            }
            record["hash"] = _digest(record)
            line = json.dumps(record, sort_keys=True, ensure_ascii=False, default=str) + "\n"
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
            tmp = self.head_path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"seq": record["seq"], "hash": record["hash"]}), encoding="utf-8")
            os.replace(tmp, self.head_path)
        return record

    def records(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        with open(self.path, encoding="utf-8") as f:
            for n, line in enumerate(f, start=1):
                try:
                    yield dict(json.loads(line))
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    raise AuditError(f"not valid JSON ({exc.__class__.__name__})", line=n) from exc

    def verify(self) -> int:
        """Check the whole chain; return the number of records, or raise `AuditError` at the first break."""
        started = time.perf_counter()
        prev, seq, n = GENESIS, 0, 0
        try:
            for n, record in enumerate(self.records(), start=1):
                if record.get("prev") != prev:
                    raise AuditError("chain broken: 'prev' does not match the previous record's hash", line=n)
                if record.get("seq") != seq + 1:
                    raise AuditError(f"sequence broken: expected {seq + 1}, found {record.get('seq')}", line=n)
                if _digest(record) != record.get("hash"):
                    raise AuditError("record was modified: its hash does not match its content", line=n)
                prev, seq = str(record["hash"]), int(record["seq"])
        except UnicodeDecodeError as exc:
            raise AuditError("not valid UTF-8", line=n + 1) from exc
        if self.head_path.exists():
            head = json.loads(self.head_path.read_text(encoding="utf-8"))
            if head.get("seq") != seq or head.get("hash") != prev:
                raise AuditError(
                    f"log ends at record {seq} but the head says {head.get('seq')}: records were removed or added",
                    line=seq or None,
                )
        _LOGGER.debug("audit verified %d records in %.1f ms", n, (time.perf_counter() - started) * 1000)
        return seq

    def tail(self, count: int = 20) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for record in self.records():
            out.append(record)
            if len(out) > count:
                out.pop(0)
        return out
