"""Router benchmark: accuracy and latency per tier on the evaluation files, and the LLM tier's latency.

    .venv/bin/python bench/router_bench.py [FILE.jsonl ...]

Default files: ../shared/eval/router_dev.jsonl (if present), tests/data/router_holdout.jsonl,
tests/data/router_holdout2.jsonl. Runs `agent eval router` in-process with a fresh AGENT_HOME, once as shipped
(tiers 1-2, the LLM only filling missing arguments), once with every non-template line forced through the LLM
tier (re-ranking), to measure that tier. Prints one JSON summary.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _run(files: list[Path], env: dict[str, str]) -> dict[str, object]:
    home = tempfile.mkdtemp(prefix="agent-bench-router-")
    os.environ.update({"AGENT_HOME": home, **env})
    from agent.config import load_settings
    from agent.evaluate import evaluate_router
    from agent.paths import get_paths
    from agent.services import build_services

    paths = get_paths().ensure()
    services = build_services(paths, load_settings(paths))
    out: dict[str, object] = {}
    for f in files:
        r = evaluate_router(services, str(f), with_replies=True)
        out[f.name] = {k: r[k] for k in ("n", "skill_accuracy", "args_accuracy", "reply_accuracy", "tiers",
                                         "latency_ms")}
    for key in env:
        os.environ.pop(key, None)
    return out


def main() -> None:
    files = [Path(a) for a in sys.argv[1:]] or [
        p for p in (ROOT.parent / "shared/eval/router_dev.jsonl", ROOT / "tests/data/router_holdout.jsonl",
                    ROOT / "tests/data/router_holdout2.jsonl") if p.exists()
    ]
    shipped = _run(files, {})
    # every line through the LLM tier: re-ranking the semantic top-3 (+ chat) under the JSON-schema grammar
    rerank = _run(files[:1], {"AGENT_ROUTER__LLM_RERANK": "true", "AGENT_ROUTER__SEMANTIC_THRESHOLD": "2.0",
                              "AGENT_ROUTER__TIERS": '["semantic", "llm"]'})
    # the LLM alone, choosing among every skill name (the approach measured before the tiers existed)
    alone = _run(files[:1], {"AGENT_ROUTER__LLM_RERANK": "true", "AGENT_ROUTER__TIERS": '["llm"]'})
    print(json.dumps({"cpu_count": os.cpu_count(), "load_avg": os.getloadavg(), "shipped": shipped,
                      "llm_rerank_all_lines": rerank, "llm_alone": alone}, indent=2))


if __name__ == "__main__":
    main()
