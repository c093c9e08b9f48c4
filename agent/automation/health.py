"""`agent health`: the machine's vital signs now, which rules are firing, recent alerts and security findings."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from agent.automation.metrics import METRICS, MetricCollector, Sample
from agent.automation.store import AutomationStore

__all__ = ["format_health", "health_snapshot"]

_SHOWN = ("cpu.percent", "load.1", "memory.percent", "memory.available_percent", "swap.percent",
          "battery.percent", "battery.plugged", "temperature.max", "process.count", "process.top_cpu_percent",
          "process.top_rss_mb")


def health_snapshot(store: AutomationStore, sample: Sample | None = None, *, cpu_interval: float = 0.3,
                    alert_hours: float = 24.0) -> dict[str, Any]:
    """A JSON-able snapshot. Without a sample, reads psutil now (CPU over `cpu_interval` seconds)."""
    from agent.disks import disk_mounts

    if sample is None:
        collector = MetricCollector()
        collector.sample().get("process.count")  # prime per-process CPU counters
        time.sleep(cpu_interval)
        sample = collector.sample()
    metrics = {name: _round(sample.get(name)) for name in METRICS if not name.startswith(("agent.", "net."))}
    disks = []
    for mount in disk_mounts():
        m = mount["mount"]
        disks.append({"mount": m, "percent": _round(sample.get(f"disk.{m}.percent")),
                      "free_gb": _round(sample.get(f"disk.{m}.free_gb"))})
    top = sample.extra.get("process.top_cpu_percent", {})
    states = store.load_states()
    firing = sorted(rid for rid, (_, st) in states.items() if st.get("firing"))
    alerts = store.alerts(limit=10, since=time.time() - alert_hours * 3600)
    findings = [f for f in store.findings() if not f["acknowledged"]]
    last_scan = store.get("security.last_scan")
    return {"ts": time.time(), "metrics": metrics, "disks": disks, "top_process": top,
            "rules": {"known": len(states), "firing": firing}, "alerts": alerts,
            "security": {"open_findings": len(findings), "last_scan": last_scan,
                         "worst": sorted({f["severity"] for f in findings})}}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _fmt(value: float | None, unit: str = "%") -> str:
    return "n/a" if value is None else f"{value:.0f}{unit}"


def format_health(snap: dict[str, Any]) -> str:
    m = snap["metrics"]
    lines = [
        f"CPU {_fmt(m['cpu.percent'])} (load {m['load.1']}), memory {_fmt(m['memory.percent'])} used, "
        f"swap {_fmt(m['swap.percent'])}",
        "disks: " + ", ".join(f"{d['mount']} {_fmt(d['percent'])} ({d['free_gb']} GB free)" for d in snap["disks"]),
        f"battery: {_fmt(m['battery.percent'])}" + ("" if m["battery.plugged"] is None else
                                                    (" plugged in" if m["battery.plugged"] else " on battery"))
        + f", hottest sensor: {_fmt(m['temperature.max'], '°C')}",
        f"processes: {_fmt(m['process.count'], '')}" + (f", busiest {snap['top_process'].get('process')} "
                                                         f"{_fmt(m['process.top_cpu_percent'])}" if snap["top_process"]
                                                         else ""),
        "rules firing: " + (", ".join(snap["rules"]["firing"]) or "none"),
    ]
    sec = snap["security"]
    last = sec["last_scan"]
    when = datetime.fromtimestamp(last["ts"]).strftime("%Y-%m-%d %H:%M") if last else "never"
    lines.append(f"security: {sec['open_findings']} open finding(s), last scan {when}")
    if snap["alerts"]:
        lines.append("recent alerts:")
        for a in snap["alerts"]:
            lines.append(f"  {datetime.fromtimestamp(a['ts']):%H:%M} [{a['severity']}] {a['title']}"
                         + (f": {a['message']}" if a["message"] else ""))
    else:
        lines.append("no alerts in the last day")
    return "\n".join(lines)
