"""The resident agent's `files` component: the folder watcher and the background index jobs.

`start_files(services)` watches every indexed folder and runs an `IndexJobs` (resuming jobs a previous run left
unfinished), both in `services.files` while they run; its stop ends the running job between two batches, then
the watcher.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from agent.components import Stop
from agent.files import index_for
from agent.files.embedding import build_index_embedder
from agent.files.job import IndexJobs, JobStatus, TurnGate
from agent.files.watcher import FileWatcher, start_watching

if TYPE_CHECKING:
    from agent.services import Services

__all__ = ["FilesComponent", "start_files"]

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class FilesComponent:
    watcher: FileWatcher  # `files.index` adds each newly indexed folder to it
    jobs: IndexJobs
    gate: TurnGate  # index jobs yield the CPU to a turn in progress


def start_files(services: Services) -> Stop:
    """Component start; returns its stop."""
    watcher = start_watching(index_for(services))
    gate = TurnGate(services.bus)
    gate.attach()

    def done(status: JobStatus) -> None:
        if Path(status.root).is_dir():
            watcher.add_root(status.root)  # kept current from now on

    # the jobs' own embedder session is built in the job's (lower-priority) thread, so its threads are too,
    # and a turn's embedding (or a search) never waits for an indexing batch
    jobs = IndexJobs(watcher.index, services.bus, embedder=lambda: build_index_embedder(services), gate=gate,
                     on_done=done)
    files = services.files = FilesComponent(watcher, jobs, gate)
    jobs.start()

    def stop() -> None:
        if services.files is files:
            services.files = None
        jobs.stop()
        gate.detach()
        watcher.stop()

    return stop
