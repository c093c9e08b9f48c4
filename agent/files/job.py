"""Index folders in the background (the resident agent): one job per folder, progress on the bus.

`IndexJobs.submit(folder)` answers at once with the job's status (a quick file-count estimate) and queues the
folder; one worker thread runs the jobs one after another, so a folder is never indexed twice at once (asking
again for a folder that is queued or running returns that job). While it runs:

    progress   `Notice("files.index.progress", {...JobStatus})` about once a second (the tray's tooltip, the
               API's `GET /api/files/index` and its WebSocket stream follow it)
    done       `Notice("files.index.done", {...})` and an `Alert` (a desktop notification) with the count
    yielding   the worker thread runs at a lower priority (nice 10, and so do the threads of its own embedder
               session, created in it), and it pauses between batches while a turn is in progress (`TurnGate`)
    stopping   `stop()` (the agent quits) ends the run between two batches; what was stored stays, and the job is
               kept in the manifest's `jobs` table, so the next start resumes it (unchanged files are skipped)
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from agent.bus import Bus
from agent.events import Activity, Alert, Event, Notice, Reply, Utterance
from agent.files.extract import is_supported
from agent.files.indexer import FileIndex, IndexReport, Progress
from agent.files.secrets import secret_file
from agent.models.embedder import Embedder

__all__ = ["DONE_NOTICE", "PROGRESS_NOTICE", "IndexJobs", "JobStatus", "TurnGate", "describe",
           "done_message", "estimate_files"]

_LOGGER = logging.getLogger(__name__)

PROGRESS_NOTICE = "files.index.progress"
DONE_NOTICE = "files.index.done"
_NICE = 10


class _Stopped(Exception):  # noqa: N818 - a signal from the progress callback, not an error
    pass


@dataclass
class JobStatus:
    """One folder's job. `state`: queued, indexing, done, stopped or failed; `estimate` the quick count made
    when it was asked for, `total` the exact one once the folder is walked."""

    root: str
    state: str = "queued"
    estimate: int = 0
    estimate_complete: bool = True
    done: int = 0
    total: int = 0
    indexed: int = 0
    unchanged: int = 0
    skipped: int = 0
    removed: int = 0
    chunks: int = 0
    files_per_s: float = 0.0
    eta_s: float | None = None
    paused_s: float = 0.0
    queued_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    error: str = ""

    @property
    def running(self) -> bool:
        return self.state in ("queued", "indexing")

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["percent"] = self.percent
        out["files_per_s"] = round(self.files_per_s, 2)
        out["eta_s"] = None if self.eta_s is None else round(self.eta_s, 1)
        out["paused_s"] = round(self.paused_s, 2)
        return out


def estimate_files(index: FileIndex, root: Path, budget_s: float = 1.0,
                   clock: Callable[[], float] = time.monotonic) -> tuple[int, bool]:
    """How many files under `root` an index run would look at (supported types, outside hidden, junk, secret
    and excluded folders), counted for at most `budget_s`: (count, whether the count is complete)."""
    if root.is_file():
        return (1 if is_supported(root) else 0), True
    deadline = clock() + budget_s
    count = 0
    stack = [root]
    while stack:
        if clock() > deadline:
            return count, False
        here = stack.pop()
        try:
            with os.scandir(here) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        full = Path(entry.path)
                        if not index.skips_dir(full, root):
                            stack.append(full)
                    elif (entry.is_file(follow_symlinks=False) and is_supported(Path(entry.name))
                          and not secret_file(entry.name)):
                        count += 1
        except OSError:
            continue
    return count, True


class TurnGate:
    """Busy while the agent answers someone: an utterance without its reply yet, or the voice listening,
    thinking or speaking. The indexer waits on it between batches (at most `max_pause_s` at a time, so a turn
    that never replies cannot stall indexing for good)."""

    def __init__(self, bus: Bus, max_pause_s: float = 30.0) -> None:
        self._bus = bus
        self.max_pause_s = max_pause_s
        self._pending = 0
        self._activity = "idle"
        self._cond = threading.Condition()
        self._detach: list[Callable[[], None]] = []

    def attach(self) -> Callable[[], None]:
        for kind in (Utterance, Reply, Activity):
            self._detach.append(self._bus.subscribe(kind, self._on_event))
        return self.detach

    def detach(self) -> None:
        for undo in self._detach:
            undo()
        self._detach.clear()

    def _on_event(self, event: Event) -> None:
        with self._cond:
            if isinstance(event, Utterance):
                self._pending += 1
            elif isinstance(event, Reply):
                self._pending = max(0, self._pending - 1)
            elif isinstance(event, Activity):
                self._activity = event.state
            self._cond.notify_all()

    def busy(self) -> bool:
        with self._cond:
            return self._pending > 0 or self._activity in ("listening", "thinking", "speaking")

    def wait_idle(self, stop: threading.Event) -> float:
        """Block while busy (or until `stop`, or `max_pause_s`); returns the seconds waited."""
        started = time.monotonic()
        with self._cond:
            while (self._pending > 0 or self._activity in ("listening", "thinking", "speaking")) \
                    and not stop.is_set():
                left = self.max_pause_s - (time.monotonic() - started)
                if left <= 0:
                    _LOGGER.info("a turn has been running for %.0f s; indexing goes on", self.max_pause_s)
                    break
                self._cond.wait(min(left, 0.2))
        return time.monotonic() - started


def _lower_priority() -> None:
    """This thread (and threads it starts, which inherit it) at nice 10: a turn's threads run first."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _NICE)  # Linux: per thread
    except (AttributeError, OSError):  # pragma: no cover - other systems
        try:
            os.nice(0)
        except OSError:
            pass


class IndexJobs:
    """The background index jobs of one `FileIndex`; see the module doc. `embedder`: makes the embedder the
    worker uses (called in the worker thread, so its threads inherit the lower priority); default the index's."""

    def __init__(self, index: FileIndex, bus: Bus, *, embedder: Callable[[], Embedder] | None = None,
                 gate: TurnGate | None = None, on_done: Callable[[JobStatus], None] | None = None,
                 publish_every_s: float = 1.0, estimate_budget_s: float = 1.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.index = index
        self.bus = bus
        self.gate = gate
        self.on_done = on_done
        self.publish_every_s = publish_every_s
        self.estimate_budget_s = estimate_budget_s
        self._clock = clock
        self._make_embedder = embedder
        self._embedder: Embedder | None = None
        self._jobs: dict[str, JobStatus] = {}
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._worker = threading.Thread(target=self._run, name="files-index-job", daemon=True)
        self._started = False

    def start(self, resume: bool = True) -> IndexJobs:
        """Start the worker; with `resume`, queue again the jobs a previous run left unfinished."""
        self._started = True
        self._worker.start()
        if resume:
            for root in self.index.manifest.unfinished_jobs():
                if Path(root).exists():
                    _LOGGER.info("resuming the index job for %s", root)
                    self.submit(Path(root))
                else:
                    self.index.manifest.finish_job(root)
        return self

    def submit(self, folder: Path) -> tuple[JobStatus, bool]:
        """Queue `folder` (a copy of its status, True) or return the job already queued or running (False)."""
        root = str(Path(folder).expanduser().resolve())
        with self._lock:
            current = self._jobs.get(root)
            if current is not None and current.running:
                return replace(current), False
        count, complete = estimate_files(self.index, Path(root), self.estimate_budget_s)
        status = JobStatus(root, estimate=count, estimate_complete=complete, queued_at=self._clock())
        with self._lock:
            current = self._jobs.get(root)
            if current is not None and current.running:
                return replace(current), False
            self._jobs[root] = status
            snapshot = replace(status)
        self.index.manifest.start_job(root)
        self._queue.put(root)
        self._publish(PROGRESS_NOTICE, snapshot)
        return snapshot, True

    def jobs(self) -> list[JobStatus]:
        """Every job of this process, most recent first (copies)."""
        with self._lock:
            return sorted((replace(j) for j in self._jobs.values()), key=lambda j: -j.queued_at)

    def current(self) -> JobStatus | None:
        """The job running now, else the next queued one, else None."""
        jobs = self.jobs()
        return next((j for j in jobs if j.state == "indexing"), None) or next((j for j in jobs if j.running), None)

    def stop(self, timeout: float = 15.0) -> None:
        """End the running job between two batches (it resumes on the next start) and the worker."""
        self._stop.set()
        self._queue.put(None)
        if self._started and self._worker.is_alive():
            self._worker.join(timeout)
            if self._worker.is_alive():
                _LOGGER.warning("the index job did not stop within %.0f s", timeout)

    # -- the worker ---------------------------------------------------------------------------------------------

    def _run(self) -> None:
        _lower_priority()
        while not self._stop.is_set():
            root = self._queue.get()
            if root is None or self._stop.is_set():
                return
            self._run_job(root)

    def _worker_embedder(self) -> Embedder | None:
        if self._make_embedder is None:
            return None
        if self._embedder is None:
            self._embedder = self._make_embedder()
        return self._embedder

    def _update(self, root: str, **fields: Any) -> JobStatus:
        with self._lock:
            job = self._jobs[root]
            for key, value in fields.items():
                setattr(job, key, value)
            return replace(job)

    def _run_job(self, root: str) -> None:
        self._update(root, state="indexing", started_at=self._clock())
        last = [0.0]

        def progress(p: Progress) -> None:
            snap = self._update(root, done=p.done, total=p.total, indexed=p.indexed, unchanged=p.unchanged,
                                skipped=p.skipped, removed=p.removed, chunks=p.chunks, files_per_s=p.files_per_s,
                                eta_s=p.eta_s)
            now = time.monotonic()
            if now - last[0] >= self.publish_every_s or p.done == p.total:
                last[0] = now
                self._publish(PROGRESS_NOTICE, snap)
            pause()

        def pause() -> None:
            if self._stop.is_set():
                raise _Stopped
            if self.gate is not None and self.gate.busy():
                waited = self.gate.wait_idle(self._stop)
                self._update(root, paused_s=self._jobs[root].paused_s + waited)
                if self._stop.is_set():
                    raise _Stopped

        try:
            report = self.index.index(root, progress, embedder=self._worker_embedder(), pause=pause)
        except _Stopped:
            snap = self._update(root, state="stopped", finished_at=self._clock())
            _LOGGER.info("index job for %s stopped at %d of %d files; it resumes on the next start", root,
                         snap.done, snap.total)
            self._publish(PROGRESS_NOTICE, snap)
            return
        except Exception as exc:
            _LOGGER.exception("the index job for %s failed", root)
            snap = self._update(root, state="failed", error=f"{exc.__class__.__name__}: {exc}",
                                finished_at=self._clock())
            self.index.manifest.finish_job(root)
            self._publish(PROGRESS_NOTICE, snap)
            self.bus.publish(Alert("Indexing failed", f"Indexing {root} failed: {exc}", "warning", "files"))
            return
        self.index.manifest.finish_job(root)
        snap = self._finish(root, report)
        self._publish(PROGRESS_NOTICE, snap)
        self._publish(DONE_NOTICE, snap)
        self.bus.publish(Alert("Indexing done", done_message(snap), "info", "files"))
        if self.on_done is not None:
            self.on_done(snap)

    def _finish(self, root: str, report: IndexReport) -> JobStatus:
        total = self._jobs[root].total or report.files + report.skipped
        return self._update(root, state="done", finished_at=self._clock(), done=total, total=total,
                            indexed=report.indexed, unchanged=report.unchanged, skipped=report.skipped,
                            removed=report.removed, chunks=report.chunks, eta_s=0.0,
                            files_per_s=report.files / report.seconds if report.seconds > 0 else 0.0)

    def _publish(self, name: str, status: JobStatus) -> None:
        self.bus.publish(Notice(name, status.to_json(), "files"))


def done_message(status: JobStatus) -> str:
    files = status.indexed + status.unchanged
    took = (status.finished_at or 0.0) - (status.started_at or 0.0)
    extra = f", {status.skipped} skipped" if status.skipped else ""
    return f"Indexed {files:,} files in {_short(status.root)}{extra} in {_duration(took)}. You can search them now."


def _short(path: str) -> str:
    home = os.path.expanduser("~")
    return "~" + path[len(home):] if home not in ("", "/") and (path == home or path.startswith(home + "/")) \
        else path


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(seconds, 0.0):.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def describe(status: JobStatus) -> str:
    """"Indexing ~/Documents: 1,200 of 12,400 files (10%), about 3 min left." and the like."""
    where = _short(status.root)
    if status.state == "queued":
        return f"Indexing {where} is queued (about {status.estimate:,} files)."
    if status.state == "indexing":
        if not status.total:
            return f"Indexing {where}: looking through the folder (about {status.estimate:,} files)."
        eta = f", about {_duration(status.eta_s)} left" if status.eta_s is not None and status.done else ""
        return f"Indexing {where}: {status.done:,} of {status.total:,} files ({status.percent}%){eta}."
    if status.state == "done":
        return done_message(status)
    if status.state == "stopped":
        return f"Indexing {where} stopped at {status.done:,} of {status.total:,} files; it resumes when I restart."
    return f"Indexing {where} failed: {status.error}"
