"""Metrics for rules: one shared psutil sample per tick, computed lazily (a group is read at most once a tick).

Names: `cpu.percent`, `load.1`, `memory.available_percent`, `disk./.percent`, `disk./home.hours_to_full`, ...
(`METRICS` lists the fixed ones; disk metrics take any mount point). A metric this machine lacks (no battery,
no sensors) reads as None and never fires a trigger.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

__all__ = ["METRICS", "MetricCollector", "ProcInfo", "Sample", "is_known_metric", "suggest_metric"]

_LOGGER = logging.getLogger(__name__)
_MB = 1024**2
_GB = 1024**3

METRICS: dict[str, str] = {
    "cpu.percent": "CPU use across all cores, %",
    "load.1": "load average over 1 minute", "load.5": "load average over 5 minutes",
    "load.15": "load average over 15 minutes",
    "memory.percent": "memory used, %", "memory.available_percent": "memory available, %",
    "memory.available_mb": "memory available, MB",
    "swap.percent": "swap used, %", "swap.used_mb": "swap used, MB",
    "battery.percent": "battery charge, %", "battery.plugged": "1 on mains power, 0 on battery",
    "battery.minutes_left": "minutes of battery left",
    "temperature.max": "the hottest sensor, °C",
    "process.count": "number of processes",
    "process.top_cpu_percent": "CPU use of the busiest process, % of one core",
    "process.top_rss_mb": "resident memory of the largest process, MB",
    "process.top_memory_percent": "memory share of the largest process, %",
    "agent.rss_mb": "the agent's resident memory, MB", "agent.cpu_percent": "the agent's CPU use, % of one core",
    "agent.threads": "the agent's thread count",
    "net.recv_kbps": "network receive rate, KB/s", "net.sent_kbps": "network send rate, KB/s",
}
_DISK = re.compile(r"^disk\.(/\S*?)\.(percent|free_gb|hours_to_full)$")
_DISK_EXAMPLES = ("disk./.percent", "disk./.free_gb", "disk./.hours_to_full")
_NOT_FILLING_H = 10_000.0  # hours_to_full when a disk is not filling up
_PROC = Path("/proc")
_CLK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def is_known_metric(name: str) -> bool:
    return name in METRICS or _DISK.match(name) is not None


def suggest_metric(name: str) -> str | None:
    """The closest known metric name, for 'did you mean'."""
    if name.startswith("disk."):
        tail = name.rsplit(".", 1)[-1]
        match = difflib.get_close_matches(tail, ["percent", "free_gb", "hours_to_full"], n=1)
        mount = name[5:].rsplit(".", 1)[0] if "." in name[5:] else "/"
        return f"disk.{mount if mount.startswith('/') else '/' + mount}.{match[0] if match else 'percent'}"
    found = difflib.get_close_matches(name, [*METRICS, *_DISK_EXAMPLES], n=1, cutoff=0.5)
    return found[0] if found else None


@dataclass(frozen=True)
class ProcInfo:
    pid: int
    name: str
    cpu_percent: float = 0.0
    rss_mb: float = 0.0


class Sample:
    """The readings of one tick. `get` computes a metric's group on first use and caches it."""

    def __init__(self, ts: float, reader: Callable[[str, Sample], None] | None = None,
                 values: dict[str, float | None] | None = None, processes: list[ProcInfo] | None = None) -> None:
        self.ts = ts
        self._reader = reader
        self.values: dict[str, float | None] = dict(values or {})
        self.extra: dict[str, dict[str, Any]] = {}  # metric -> template values (e.g. the top process name)
        self._procs = processes
        self._groups: set[str] = set()

    @classmethod
    def fixed(cls, values: dict[str, float | None], processes: list[ProcInfo] | None = None,
              ts: float = 0.0) -> Sample:
        """A sample with given values (tests, replays): anything not given reads as None."""
        return cls(ts, None, values, processes or [])

    def get(self, name: str) -> float | None:
        if name not in self.values and self._reader is not None:
            group = _group(name)
            if group not in self._groups:
                self._groups.add(group)
                try:
                    self._reader(group, self)
                except (OSError, psutil.Error, AttributeError, ValueError):
                    _LOGGER.warning("reading metric group %s failed", group, exc_info=True)
        return self.values.get(name)

    def processes(self) -> list[ProcInfo]:
        if self._procs is None:
            self.get("process.count")
        return self._procs or []

    def set_processes(self, procs: list[ProcInfo]) -> None:
        self._procs = procs


def _group(name: str) -> str:
    m = _DISK.match(name)
    return f"disk:{m.group(1)}" if m else name.split(".", 1)[0]


class MetricCollector:
    """Reads psutil into `Sample`s; keeps the little history some metrics need (rates, disk forecast)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._self = psutil.Process(os.getpid())
        self._disk_history: dict[str, deque[tuple[float, float]]] = {}
        self._net_last: tuple[float, int, int] | None = None
        self._proc_last: dict[int, int] = {}
        self._proc_last_t = 0.0
        psutil.cpu_percent(None)  # prime the counters so the first tick reads a real value
        self._self.cpu_percent(None)

    def sample(self) -> Sample:
        return Sample(self._clock(), self._read)

    def _read(self, group: str, s: Sample) -> None:
        if group.startswith("disk:"):
            self._disk(group[5:], s)
            return
        reader = getattr(self, f"_read_{group}", None)
        if reader is not None:
            reader(s)

    def _read_cpu(self, s: Sample) -> None:
        s.values["cpu.percent"] = psutil.cpu_percent(None)

    def _read_load(self, s: Sample) -> None:
        one, five, fifteen = os.getloadavg()
        s.values.update({"load.1": one, "load.5": five, "load.15": fifteen})

    def _read_memory(self, s: Sample) -> None:
        vm = psutil.virtual_memory()
        s.values.update({"memory.percent": vm.percent, "memory.available_percent": vm.available / vm.total * 100,
                         "memory.available_mb": vm.available / _MB})

    def _read_swap(self, s: Sample) -> None:
        sw = psutil.swap_memory()
        s.values.update({"swap.percent": sw.percent if sw.total else 0.0, "swap.used_mb": sw.used / _MB})

    def _read_battery(self, s: Sample) -> None:
        bat = psutil.sensors_battery() if hasattr(psutil, "sensors_battery") else None
        if bat is None:
            return
        left = bat.secsleft if isinstance(bat.secsleft, int) and bat.secsleft >= 0 else None
        s.values.update({"battery.percent": bat.percent, "battery.plugged": 1.0 if bat.power_plugged else 0.0,
                         "battery.minutes_left": left / 60 if left is not None else None})

    def _read_temperature(self, s: Sample) -> None:
        temps = psutil.sensors_temperatures() if hasattr(psutil, "sensors_temperatures") else {}
        readings = [(name, t.current) for name, entries in temps.items() for t in entries if t.current]
        if readings:
            name, hottest = max(readings, key=lambda r: r[1])
            s.values["temperature.max"] = hottest
            s.extra["temperature.max"] = {"sensor": name}

    def _read_process(self, s: Sample) -> None:
        procs = self._procs_linux() if _PROC.is_dir() else self._procs_psutil()
        total = psutil.virtual_memory().total
        s.set_processes(procs)
        s.values["process.count"] = float(len(procs))
        if procs:
            busiest = max(procs, key=lambda p: p.cpu_percent)
            largest = max(procs, key=lambda p: p.rss_mb)
            s.values["process.top_cpu_percent"] = busiest.cpu_percent
            s.values["process.top_rss_mb"] = largest.rss_mb
            s.values["process.top_memory_percent"] = largest.rss_mb * _MB / total * 100
            s.extra["process.top_cpu_percent"] = {"process": busiest.name, "pid": busiest.pid}
            s.extra["process.top_rss_mb"] = s.extra["process.top_memory_percent"] = {
                "process": largest.name, "pid": largest.pid}

    def _procs_psutil(self) -> list[ProcInfo]:
        procs = []
        for p in psutil.process_iter(["name", "memory_info"]):
            try:
                cpu = p.cpu_percent(None)  # process_iter caches Process objects: this is the rate since last tick
            except psutil.Error:
                continue
            mem = p.info.get("memory_info")
            procs.append(ProcInfo(p.pid, p.info.get("name") or "", cpu, mem.rss / _MB if mem else 0.0))
        return procs

    def _procs_linux(self) -> list[ProcInfo]:
        """One read of /proc/<pid>/stat per process (name, CPU ticks, resident pages): several times cheaper
        than psutil's per-process objects, which matters because this runs every tick."""
        now = time.monotonic()
        last, self._proc_last = self._proc_last, {}
        dt = now - self._proc_last_t if self._proc_last_t else 0.0
        self._proc_last_t = now
        procs = []
        for entry in os.scandir(_PROC):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"{entry.path}/stat", "rb") as f:
                    raw = f.read()
            except OSError:
                continue
            head, _, tail = raw.rpartition(b") ")
            fields = tail.split()
            pid = int(entry.name)
            ticks = int(fields[11]) + int(fields[12])  # utime + stime
            self._proc_last[pid] = ticks
            before = last.get(pid)
            cpu = (ticks - before) / _CLK / dt * 100 if before is not None and dt > 0 else 0.0
            name = head.split(b" (", 1)[-1].decode(errors="replace")
            procs.append(ProcInfo(pid, name, cpu, int(fields[21]) * _PAGE / _MB))
        return procs

    def _read_agent(self, s: Sample) -> None:
        with self._self.oneshot():
            s.values.update({"agent.rss_mb": self._self.memory_info().rss / _MB,
                             "agent.cpu_percent": self._self.cpu_percent(None),
                             "agent.threads": float(self._self.num_threads())})

    def _read_net(self, s: Sample) -> None:
        counters = psutil.net_io_counters()
        now = time.monotonic()
        last, self._net_last = self._net_last, (now, counters.bytes_recv, counters.bytes_sent)
        if last is not None and now > last[0]:
            dt = now - last[0]
            s.values["net.recv_kbps"] = (counters.bytes_recv - last[1]) / dt / 1024
            s.values["net.sent_kbps"] = (counters.bytes_sent - last[2]) / dt / 1024

    def _disk(self, mount: str, s: Sample) -> None:
        try:
            usage = psutil.disk_usage(mount)
        except OSError:
            return
        prefix = f"disk.{mount}."
        s.values[prefix + "percent"] = usage.percent
        s.values[prefix + "free_gb"] = usage.free / _GB
        history = self._disk_history.setdefault(mount, deque(maxlen=360))
        if not history or s.ts - history[-1][0] >= 60:
            history.append((s.ts, float(usage.used)))
        s.values[prefix + "hours_to_full"] = hours_to_full(history, usage.free)


def hours_to_full(history: deque[tuple[float, float]] | list[tuple[float, float]], free: float) -> float | None:
    """Hours until the disk is full at the current fill rate (least squares over the history), or None
    while there is too little history (3 points over 10 minutes)."""
    if len(history) < 3 or history[-1][0] - history[0][0] < 600:
        return None
    n = len(history)
    mean_t = sum(t for t, _ in history) / n
    mean_u = sum(u for _, u in history) / n
    var = sum((t - mean_t) ** 2 for t, _ in history)
    slope = sum((t - mean_t) * (u - mean_u) for t, u in history) / var if var else 0.0  # bytes per second
    if slope <= 0:
        return _NOT_FILLING_H
    return min(free / slope / 3600, _NOT_FILLING_H)
