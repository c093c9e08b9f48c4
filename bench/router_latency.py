"""Router latency per tier, without the LLM: wall time and this thread's CPU time per request.

    .venv/bin/python bench/router_latency.py [FILE.jsonl ...] [--repeat N]

CPU time (`time.thread_time`) is what the route costs; wall time also holds whatever else the machine was
doing (both are printed, with the load average). Default files: the two dev sets beside the project and the
project's own unseen set. Each line is routed `--repeat` times (default 3) after one warm-up pass.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] if ordered else 0.0


def main() -> None:
    args = sys.argv[1:]
    repeat = 3
    if "--repeat" in args:
        i = args.index("--repeat")
        repeat = int(args[i + 1])
        del args[i:i + 2]
    files = [Path(a) for a in args] or [p for p in (ROOT.parent / "shared/eval/router_dev.jsonl",
                                                    ROOT.parent / "shared/eval/router_dev2.jsonl",
                                                    ROOT / "bench/unseen/router_unseen.jsonl") if p.exists()]
    os.environ["AGENT_HOME"] = tempfile.mkdtemp(prefix="agent-bench-latency-")
    os.environ["AGENT_ROUTER__USE_LLM"] = "false"
    from agent.services import build_services

    router = build_services().router()
    texts = [json.loads(line)["text"] for f in files for line in f.read_text().splitlines() if line.strip()]
    for text in texts:  # warm-up: models loaded, sentences compiled
        router.route(text)
    wall: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    for _ in range(repeat):
        for text in texts:
            router.context.last = None
            w0, c0 = time.perf_counter(), time.thread_time()
            intent = router.route(text)
            c1, w1 = time.thread_time(), time.perf_counter()
            wall.setdefault(intent.tier, []).append((w1 - w0) * 1000)
            cpu.setdefault(intent.tier, []).append((c1 - c0) * 1000)
    every_wall = [v for vs in wall.values() for v in vs]
    every_cpu = [v for vs in cpu.values() for v in vs]
    out = {
        "lines": len(texts), "repeat": repeat, "load_average": os.getloadavg(),
        "per_tier": {t: {"n": len(wall[t]), "wall_p50": round(statistics.median(wall[t]), 2),
                         "wall_p99": round(_pct(wall[t], 99), 2), "cpu_p50": round(statistics.median(cpu[t]), 2),
                         "cpu_p99": round(_pct(cpu[t], 99), 2)} for t in sorted(wall)},
        "all_non_llm": {"wall_p50": round(_pct(every_wall, 50), 2), "wall_p99": round(_pct(every_wall, 99), 2),
                        "cpu_p50": round(_pct(every_cpu, 50), 2), "cpu_p99": round(_pct(every_cpu, 99), 2)},
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
