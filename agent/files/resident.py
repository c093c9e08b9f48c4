"""The resident agent's `files` component: the folder watcher and the background index jobs.

`start_files(services)` puts a `FileWatcher` in `services.shared["files.watcher"]` and an `IndexJobs` in
`services.shared["files.jobs"]` (resuming jobs a previous run left unfinished); `stop_files(services)` stops the
running job between two batches, then the watcher.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from agent.files.embedding import build_index_embedder
from agent.files.job import JOBS_KEY, IndexJobs, JobStatus, TurnGate
from agent.files.watcher import FileWatcher, start_resident_watcher, stop_resident_watcher
from agent.models.embedder import Embedder

__all__ = ["start_files", "stop_files"]

_LOGGER = logging.getLogger(__name__)
_GATE_KEY = "files.turn_gate"


def _job_embedder(services: Any) -> Embedder:
    """A second embedder session for the index jobs: built in the job's (lower-priority) thread, so its threads
    are too, and a turn's embedding (or a search) never waits for an indexing batch."""
    return build_index_embedder(services)


def start_files(services: Any) -> None:
    watcher = start_resident_watcher(services)
    gate = TurnGate(services.bus)
    gate.attach()
    services.shared[_GATE_KEY] = gate

    def done(status: JobStatus) -> None:
        if isinstance(watcher, FileWatcher) and Path(status.root).is_dir():
            watcher.add_root(status.root)  # kept current from now on

    jobs = IndexJobs(watcher.index, services.bus, embedder=lambda: _job_embedder(services), gate=gate,
                     on_done=done)
    services.shared[JOBS_KEY] = jobs
    jobs.start()


def stop_files(services: Any) -> None:
    jobs = services.shared.pop(JOBS_KEY, None)
    if isinstance(jobs, IndexJobs):
        jobs.stop()
    gate = services.shared.pop(_GATE_KEY, None)
    if isinstance(gate, TurnGate):
        gate.detach()
    stop_resident_watcher(services)
