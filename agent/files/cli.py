"""`agent index PATH [--json] [--watch]` and `agent search QUERY [--json] [-n N]` (wired in `agent.cli`)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from agent.files import FileIndex, IndexReport, Progress, index_for, search_files

__all__ = ["ProgressLine", "add_parsers", "run_index", "run_search"]


def _say(text: str, stream: TextIO | None = None) -> None:
    out = stream or sys.stdout
    out.write(text + "\n")
    out.flush()


def _index(services: Any) -> FileIndex:
    return index_for(services)


class ProgressLine:
    """Prints "120/1000 files · 35.2 files/s · ETA 25 s" on stderr: in place on a terminal, else every few s."""

    def __init__(self, stream: TextIO | None = None, every_s: float | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.every_s = every_s if every_s is not None else (0.2 if self.tty else 2.0)
        self._last = 0.0
        self._shown = False
        self.last: Progress | None = None

    def __call__(self, p: Progress) -> None:
        self.last = p
        now = time.monotonic()
        if now - self._last < self.every_s and p.done < p.total:
            return
        self._last = now
        eta = f"ETA {p.eta_s:.0f} s" if p.eta_s is not None else "ETA ?"
        line = (f"indexing: {p.done}/{p.total} files · {p.files_per_s:.1f} files/s · {p.chunks} chunks · "
                f"{p.skipped} skipped · {eta}")
        if self.tty:
            self.stream.write("\r" + line[:160].ljust(100))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown and self.tty:
            self.stream.write("\n")
            self.stream.flush()
        self._shown = False


def _summary(report: IndexReport) -> str:
    data = report.to_json()
    return (f"Indexed {report.files} files ({report.indexed} new or changed, {report.unchanged} unchanged, "
            f"{report.skipped} skipped, {report.removed} removed) in {report.seconds:.1f} s: {report.chunks} chunks, "
            f"{data['files_per_s']} files/s, {data['chunks_per_s']} chunks/s")


def run_index(services: Any, ns: argparse.Namespace) -> int:
    from agent.files.watcher import start_watching

    path = Path(ns.path).expanduser()
    if ns.watch and not path.is_dir():
        _say(f"error: --watch needs a folder, and {path} is not one", sys.stderr)
        return 2
    index = _index(services)
    progress = ProgressLine()
    try:
        report = index.index(path, progress)
    except KeyboardInterrupt:  # between two files or inside a batch: what was committed stays
        progress.close()
        state = progress.last
        done = f" after {state.done} of {state.total} files" if state is not None else ""
        _say(f"stopped{done}; run `agent index {ns.path}` again to resume", sys.stderr)
        return 130
    finally:
        progress.close()
    _say(json.dumps(report.to_json()) if ns.json else _summary(report))
    if not ns.watch:
        return 0
    root = Path(report.root)

    def updated(r: IndexReport) -> None:
        if ns.json:
            _say(json.dumps(r.to_json()))
        elif r.indexed or r.removed:
            _say(f"updated: {r.indexed} indexed, {r.removed} removed")

    watcher = start_watching(index, [root], on_update=updated)
    _say(f"watching {root} for changes (Ctrl-C to stop)", sys.stderr)

    def _interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # explicit handlers: a SIGINT ignored by a parent shell (background jobs) or a SIGTERM must still stop us
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        watcher.stop()
    return 0


def run_search(services: Any, ns: argparse.Namespace) -> int:
    index = _index(services)
    query = " ".join(ns.query)
    if index.manifest.file_count() == 0:
        _say("no files are indexed yet: run `agent index FOLDER` first", sys.stderr)
    response = search_files(index, query, ns.n)
    if ns.json:
        _say(json.dumps(response.to_json(), ensure_ascii=False))
        return 0
    if not response.results:
        _say(f"nothing found for {query!r}")
    for i, hit in enumerate(response.results, 1):
        _say(f"{i}. {hit.path}  (score {hit.score:.4f}, chunk {hit.chunk})\n   {hit.snippet}")
    return 0


def add_parsers(sub: Any, index_fn: Any, search_fn: Any) -> None:
    """Add the `index` and `search` subcommands to the `agent` parser."""
    ix = sub.add_parser("index", help="index a folder (or file) for `agent search`; --watch keeps it current")
    ix.add_argument("path")
    ix.add_argument("--json", action="store_true", help="print the report as one JSON object")
    ix.add_argument("--watch", action="store_true", help="then keep watching the folder for changes")
    ix.set_defaults(fn=index_fn)

    se = sub.add_parser("search", help="search indexed files (semantic and keyword)")
    se.add_argument("query", nargs="+")
    se.add_argument("--json", action="store_true", help='print {"query", "results": [...], "ms"}')
    se.add_argument("-n", type=int, default=5, help="how many files (default 5)")
    se.set_defaults(fn=search_fn)
