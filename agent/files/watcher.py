"""Keep indexed folders current: watchdog events, debounced, handed to `FileIndex.update_paths`.

`start_watching(index, roots)` returns a running `FileWatcher`; call its `stop()` (the detach function) to end
it. The resident agent's `files` component (agent/files/resident.py) watches every indexed folder, and
`files.index` adds each newly indexed folder to it. `agent index PATH --watch` starts one over PATH.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from agent.files.indexer import FileIndex, IndexReport

__all__ = ["FileWatcher", "start_watching"]

_LOGGER = logging.getLogger(__name__)



class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: FileWatcher, root: Path) -> None:
        self._watcher = watcher
        self._root = root

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if raw:
                path = Path(raw.decode() if isinstance(raw, bytes) else raw)
                self._watcher.changed(self._root, path)


class FileWatcher:
    """Watches roots recursively; after `debounce_s` without new events, re-indexes what changed."""

    def __init__(self, index: FileIndex, roots: Iterable[Path | str], debounce_s: float = 2.0,
                 on_update: Callable[[IndexReport], None] | None = None) -> None:
        self.index = index
        self.roots = [Path(r).expanduser().resolve() for r in roots]
        self.debounce_s = debounce_s
        self.on_update = on_update
        self._observer: Any = Observer()
        self._pending: dict[Path, set[Path]] = {}
        self._cond = threading.Condition()
        self._deadline: float | None = None
        self._stopping = False
        self._worker = threading.Thread(target=self._run, name="files-watcher", daemon=True)
        self.updates = 0

    def start(self) -> FileWatcher:
        roots, self.roots = self.roots, []
        for root in roots:
            self.add_root(root)
        self._observer.start()
        self._worker.start()
        _LOGGER.info("watching %d folder(s) for changes", len(self.roots))
        return self

    def add_root(self, root: Path | str) -> bool:
        """Also watch `root` (a folder indexed after the watcher started); False if it is not a folder."""
        path = Path(root).expanduser().resolve()
        if not path.is_dir():
            _LOGGER.warning("not watching %s: not a folder", path)
            return False
        if any(path == r or r in path.parents for r in self.roots):
            return True  # already covered
        self._observer.schedule(_Handler(self, path), str(path), recursive=True)
        self.roots.append(path)
        return True

    def changed(self, root: Path, path: Path) -> None:
        if path == self.index.directory or self.index.directory in path.parents:
            return  # our own writes
        with self._cond:
            self._pending.setdefault(root, set()).add(path)
            self._deadline = _now() + self.debounce_s
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and (self._deadline is None or _now() < self._deadline):
                    timeout = None if self._deadline is None else max(0.0, self._deadline - _now())
                    self._cond.wait(timeout)
                if self._stopping:
                    return
                batch, self._pending, self._deadline = self._pending, {}, None
            self._apply(batch)

    def _apply(self, batch: dict[Path, set[Path]]) -> None:
        for root, paths in batch.items():
            try:
                report = self.index.update_paths(paths, root)
            except Exception:
                _LOGGER.exception("updating the file index for %s failed", root)
                continue
            self.updates += 1
            if report.indexed or report.removed:
                _LOGGER.info("file index updated: %d indexed, %d removed", report.indexed, report.removed)
            if self.on_update is not None:
                self.on_update(report)

    def stop(self, timeout: float = 10.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self._observer.stop()
        self._observer.join(timeout)
        if self._worker.is_alive():
            self._worker.join(timeout)


def _now() -> float:
    return time.monotonic()


def start_watching(index: FileIndex, roots: Iterable[Path | str] | None = None, *, debounce_s: float | None = None,
                   on_update: Callable[[IndexReport], None] | None = None) -> FileWatcher:
    """Start watching `roots` (default: every folder indexed so far); returns the watcher (call `.stop()`)."""
    chosen = list(roots) if roots is not None else [Path(r) for r in index.roots()]
    debounce = index.settings.watch_debounce_s if debounce_s is None else debounce_s
    return FileWatcher(index, chosen, debounce, on_update).start()
