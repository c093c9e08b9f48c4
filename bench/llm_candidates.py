"""Measure the embedded GGUF candidates for the router's LLM tier on an eval file.

For each model: (a) choosing the skill among the semantic tier's top-4 (+ chat) under a JSON-schema grammar,
(b) filling arguments under the skill's schema, (c) a short chat answer. Prints one JSON summary.

    .venv/bin/python bench/llm_candidates.py [../shared/eval/router_dev.jsonl]
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("AGENT_HOME", tempfile.mkdtemp(prefix="agent-bench-"))

from agent.evaluate import args_match  # noqa: E402
from agent.models.catalog import embedded_llms  # noqa: E402
from agent.models.llm import LocalLLM  # noqa: E402
from agent.router.llm_tier import LLMTier  # noqa: E402
from agent.router.slots import clean  # noqa: E402
from agent.services import build_services  # noqa: E402


def main() -> None:
    file = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/eval/router_dev.jsonl")
    rows = [json.loads(x) for x in file.read_text().splitlines() if x.strip()]
    services = build_services()
    router = services.router()
    assert router.semantic is not None
    skills = list(services.registry)
    out = {"file": str(file), "n": len(rows), "models": {}}
    for name, path in embedded_llms().items():
        if path is None:
            continue
        llm = LocalLLM(path, services.settings.llm)
        tier = LLMTier(llm, skills)
        tier.choose("warm up", ["time.now", "chat"])
        choose_ms, ok_choose, sem_ok = [], 0, 0
        fill_ms, ok_fill, n_fill = [], 0, 0
        for row in rows:
            t = clean(row["text"])
            ranked = router.semantic.match(t).ranked
            cands = [s for s, _ in ranked[:4]]
            sem_ok += ranked[0][0] == row["skill"]
            t0 = time.perf_counter()
            got = tier.choose(t, cands)
            choose_ms.append((time.perf_counter() - t0) * 1000)
            ok_choose += got == row["skill"]
            if row.get("args"):
                skill = services.registry.get(row["skill"])
                assert skill is not None
                t0 = time.perf_counter()
                filled = tier.fill_args(t, skill, {})
                fill_ms.append((time.perf_counter() - t0) * 1000)
                n_fill += 1
                ok_fill += args_match(row["args"], filled)
        t0 = time.perf_counter()
        answer = llm.chat([{"role": "user", "content": "Explain what a kernel is in one sentence."}], max_tokens=60)
        chat_ms = (time.perf_counter() - t0) * 1000
        out["models"][name] = {
            "load_ms": round(llm.load_ms), "size_mb": round(path.stat().st_size / 1e6, 1),
            "choose_accuracy": round(ok_choose / len(rows), 3),
            "semantic_top1_accuracy": round(sem_ok / len(rows), 3),
            "choose_p50_ms": round(statistics.median(choose_ms), 1),
            "choose_p90_ms": round(sorted(choose_ms)[int(0.9 * (len(choose_ms) - 1))], 1),
            "fill_accuracy": round(ok_fill / n_fill, 3) if n_fill else None,
            "fill_p50_ms": round(statistics.median(fill_ms), 1) if fill_ms else None,
            "chat_ms": round(chat_ms), "chat_sample": answer[:200],
        }
        llm.close()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
