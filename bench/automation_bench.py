"""Automation engine benchmark: CPU and memory per tick with all the default rules.

    .venv/bin/python bench/automation_bench.py [--ticks 300] [--live-seconds 20]

1. Manual clock (10 s per tick, as `automation.tick_s` defaults), the real psutil collector, every default
   rule: process CPU time and wall time per tick (p50/p95/mean), split into the shared sample and the rules.
2. Live: the real APScheduler service at 1 tick/s for a while: the engine's CPU per tick and per minute at the
   default 10 s tick, and thread count.
RSS is measured before the engine exists, after loading the rules and after all the ticks (delta = the engine's
own memory). Everything runs in a throw-away AGENT_HOME. Prints one JSON summary.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _rss_mb() -> float:
    import psutil

    return float(psutil.Process(os.getpid()).memory_info().rss) / 1024**2


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ticks", type=int, default=300)
    ap.add_argument("--live-seconds", type=float, default=20.0)
    ns = ap.parse_args()
    home = tempfile.mkdtemp(prefix="automation-bench-")
    os.environ["AGENT_HOME"] = home
    os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)  # no desktop pop-ups from the bench

    from agent.services import build_services

    services = build_services()
    gc.collect()
    rss_before = _rss_mb()  # before the automation package (APScheduler, watchdog) is even imported

    from agent.automation import AutomationService, Engine, ManualClock
    from agent.automation.metrics import MetricCollector

    clock = ManualClock(wall=time.time())
    engine = Engine(services, clock=clock)
    result = engine.load()
    gc.collect()
    rss_loaded = _rss_mb()

    cpu_ms: list[float] = []
    wall_ms: list[float] = []
    sample_cpu_ms: list[float] = []
    collector = MetricCollector()
    metrics_used = sorted({t.spec.metric for r in engine.rules.values() for t in r.triggers  # type: ignore[attr-defined]
                           if t.kind == "metric"})
    for _ in range(ns.ticks):
        clock.advance(10)
        c0, w0 = time.process_time(), time.perf_counter()
        engine.tick()
        cpu_ms.append((time.process_time() - c0) * 1000)
        wall_ms.append((time.perf_counter() - w0) * 1000)
        c0 = time.process_time()
        s = collector.sample()  # the shared sample alone, same metrics
        for m in metrics_used:
            s.get(m)
        sample_cpu_ms.append((time.process_time() - c0) * 1000)
    gc.collect()
    rss_after = _rss_mb()

    live_ticks, live_cpu_ms, threads = 0, 0.0, 0
    if ns.live_seconds > 0:
        live = Engine(services, tick_s=1.0)
        service = AutomationService(live)
        base_threads = threading.active_count()
        c0 = time.process_time()
        service.start()
        time.sleep(ns.live_seconds)
        threads = threading.active_count() - base_threads
        live_ticks = live.ticks
        service.stop()
        live_cpu_ms = (time.process_time() - c0) * 1000

    per_tick = statistics.mean(cpu_ms)
    summary = {
        "rules": len(engine.rules), "rule_errors": len(result.errors), "metrics_read_per_tick": metrics_used,
        "ticks": ns.ticks,
        "cpu_ms_per_tick": {"mean": round(per_tick, 2), "p50": round(_pct(cpu_ms, 0.5), 2),
                            "p95": round(_pct(cpu_ms, 0.95), 2)},
        "wall_ms_per_tick": {"mean": round(statistics.mean(wall_ms), 2), "p50": round(_pct(wall_ms, 0.5), 2),
                             "p95": round(_pct(wall_ms, 0.95), 2)},
        "shared_sample_cpu_ms_per_tick": round(statistics.mean(sample_cpu_ms), 2),
        "rules_cpu_ms_per_tick": round(per_tick - statistics.mean(sample_cpu_ms), 2),
        "cpu_percent_of_one_core_at_10s_tick": round(per_tick / 10_000 * 100, 3),
        "rss_mb": {"before_engine": round(rss_before, 1), "after_load": round(rss_loaded, 1),
                   "after_ticks": round(rss_after, 1), "delta": round(rss_after - rss_before, 1)},
        "live": {"seconds": ns.live_seconds, "ticks": live_ticks,
                 "cpu_ms_per_tick_incl_scheduler": round(live_cpu_ms / live_ticks, 2) if live_ticks else None,
                 "engine_threads": threads},
        "processes": len(__import__("psutil").pids()),
        "cpu_count": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
