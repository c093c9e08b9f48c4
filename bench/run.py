"""Run every benchmark, one after another, and print their JSON summaries keyed by name.

    .venv/bin/python bench/run.py [NAME ...]      # e.g. `bench/run.py router files`

Each benchmark is its own script (runnable alone) and uses its own temporary AGENT_HOME. Results are also
written to $AGENT_BENCH_OUT (default: a temp file whose path is printed at the end). The figures and the
machine they were taken on are summarised by hand in BENCHMARKS.md.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
BENCHES: dict[str, list[str]] = {
    "router": ["router_bench.py"],
    "router_latency": ["router_latency.py"],
    "llm_candidates": ["llm_candidates.py"],
    "files": ["files_bench.py", "--docs", "1000"],
    "files_embed": ["files_embed_bench.py"],
    "files_write": ["files_write_bench.py", "--files", "4000"],
    "timers": ["timers.py"],
    "personal_store": ["personal_store.py"],
    "personal_tools": ["personal_tools.py"],
    "automation": ["automation_bench.py"],
    "voice": ["voice_bench.py"],
    "resident": ["resident_bench.py"],
    "api": ["api_bench.py"],
}


def main() -> int:
    wanted = sys.argv[1:] or list(BENCHES)
    results: dict[str, object] = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
    }
    failed = 0
    for name in wanted:
        script, *args = BENCHES[name]
        if not (ROOT / script).exists():
            results[name] = {"skipped": f"{script} not present"}
            continue
        started = time.monotonic()
        proc = subprocess.run([sys.executable, str(ROOT / script), *args], capture_output=True, text=True,
                              timeout=3600, check=False, cwd=ROOT.parent)
        entry: dict[str, object] = {"seconds": round(time.monotonic() - started, 1), "load_avg": os.getloadavg()}
        try:
            entry["result"] = json.loads(proc.stdout)
        except json.JSONDecodeError:
            entry["stdout_tail"] = proc.stdout[-2000:]
        if proc.returncode != 0:
            failed += 1
            entry["error"] = proc.stderr[-2000:]
        results[name] = entry
        print(f"{name}: rc={proc.returncode} in {entry['seconds']} s", file=sys.stderr)
    out = Path(os.environ.get("AGENT_BENCH_OUT") or tempfile.mkstemp(prefix="agent-bench-", suffix=".json")[1])
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    print(f"results written to {out}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
