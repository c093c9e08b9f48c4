"""`system.status`: CPU, memory, disk (real mounts), battery, temperatures, network, via psutil."""

from __future__ import annotations

import logging
import re
import time
from typing import Any, Literal

import psutil

from agent.disks import disk_mounts
from agent.events import SkillResult
from agent.skills.base import Args, Register, Skill, SkillContext

__all__ = ["register", "snapshot"]

_LOGGER = logging.getLogger(__name__)
_GB = 1024**3


Metric = Literal["cpu", "memory", "disk", "battery", "temperature", "network"]


class SystemStatusArgs(Args):
    metric: Metric | None = None


def _gb(n: float) -> str:
    return f"{n / _GB:.1f}"


def _top_memory_process() -> dict[str, Any] | None:
    best = None
    for p in psutil.process_iter(["pid", "name", "memory_info"]):
        mem = p.info.get("memory_info")
        if mem is not None and (best is None or mem.rss > best["rss"]):
            best = {"pid": p.info["pid"], "name": p.info["name"], "rss": mem.rss}
    return best


def _network() -> dict[str, Any]:
    first = psutil.net_io_counters()
    time.sleep(0.2)
    second = psutil.net_io_counters()
    up = [n for n, s in psutil.net_if_stats().items() if s.isup and n != "lo"]
    return {"interfaces_up": up, "recv_kbps": round((second.bytes_recv - first.bytes_recv) / 0.2 / 1024, 1),
            "sent_kbps": round((second.bytes_sent - first.bytes_sent) / 0.2 / 1024, 1),
            "recv_total_gb": round(second.bytes_recv / _GB, 2), "sent_total_gb": round(second.bytes_sent / _GB, 2)}


def snapshot(metric: str | None) -> tuple[str, dict[str, Any]]:
    """The reply and data for one metric, or a summary when `metric` is None."""
    if metric == "cpu":
        pct = psutil.cpu_percent(interval=0.3)
        load = [round(x, 2) for x in psutil.getloadavg()]
        return f"CPU is at {pct:.0f}% across {psutil.cpu_count()} cores.", {"cpu_percent": pct, "load": load}
    if metric == "memory":
        vm = psutil.virtual_memory()
        return (f"Memory is {vm.percent:.0f}% used ({_gb(vm.used)} of {_gb(vm.total)} GB).",
                {"percent": vm.percent, "used_gb": round(vm.used / _GB, 1), "total_gb": round(vm.total / _GB, 1),
                 "available_gb": round(vm.available / _GB, 1)})
    if metric == "disk":
        mounts = disk_mounts()
        parts = [f"{m['mount']} {m['percent']:.0f}% full ({m['free_gb']} GB free)" for m in mounts[:3]]
        return "Disk: " + "; ".join(parts) + ".", {"mounts": mounts}
    if metric == "battery":
        bat = psutil.sensors_battery() if hasattr(psutil, "sensors_battery") else None
        if bat is None:
            return "This machine reports no battery.", {"battery": None}
        state = "charging" if bat.power_plugged else "on battery"
        return f"Battery is at {bat.percent:.0f}%, {state}.", {"percent": bat.percent, "plugged": bat.power_plugged}
    if metric == "temperature":
        temps = psutil.sensors_temperatures() if hasattr(psutil, "sensors_temperatures") else {}
        readings = [(name, t.current) for name, entries in temps.items() for t in entries if t.current]
        if not readings:
            return "This machine reports no temperature sensors.", {"temperatures": {}}
        hottest = max(readings, key=lambda r: r[1])
        return (f"The hottest sensor, {hottest[0]}, reads {hottest[1]:.0f}°C.",
                {"temperatures": {n: c for n, c in readings}})
    if metric == "network":
        net = _network()
        ifaces = ", ".join(net["interfaces_up"]) or "none"
        return (f"Network interfaces up: {ifaces}; receiving {net['recv_kbps']:.0f} KB/s, "
                f"sending {net['sent_kbps']:.0f} KB/s.", net)
    cpu = psutil.cpu_percent(interval=0.3)
    vm = psutil.virtual_memory()
    root = disk_mounts()[0]
    top = _top_memory_process()
    reply = (f"CPU {cpu:.0f}%, memory {vm.percent:.0f}% ({_gb(vm.used)} of {_gb(vm.total)} GB), "
             f"disk {root['mount']} {root['percent']:.0f}% full")
    if top:
        reply += f"; top process {top['name']} {_gb(top['rss'])} GB"
    return reply + ".", {"cpu_percent": cpu, "memory_percent": vm.percent, "disk": root, "top_process": top}


def _status(args: SystemStatusArgs, ctx: SkillContext) -> SkillResult:
    reply, data = snapshot(args.metric)
    return SkillResult.ok(reply, metric=args.metric or "summary", **data)


# -- arguments from the words (the router's rule extractor for these skills) --------------------
_X_METRICS = [
    ("battery", r"\b(battery|charge|charging|power left)\b"),
    ("temperature", r"\b(temp|temps|temperature|temperatures|hot|heat|thermal|fan)\b"),
    ("network", r"\b(network|internet|wifi|wi-fi|bandwidth|online|connected|connection|download speed)\b"),
    ("disk", r"\b(disk|disks|drive|drives|storage|ssd|hdd|hard drive|space left|free space|disk space)\b"),
    ("memory", r"\b(memory|ram|swap)\b"),
    ("cpu", r"\b(cpu|processor|cores?|load)\b"),
]


def _extract_metric(t: str) -> dict[str, Any]:
    for name, pattern in _X_METRICS:
        if re.search(pattern, t):
            return {"metric": name}
    return {}


def register(reg: Register) -> None:
    reg(Skill("system.status", "CPU, memory, disk, battery, temperature or network status",
              args=SystemStatusArgs, run=_status, extract=_extract_metric))
