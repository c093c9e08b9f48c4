"""The files search's second stage (the sentence cross-check of the best files) on and off, on a kept
`files_bench.py --keep` run: hit@1/hit@5 per kind of distinctive query, search latency, and which queries changed.

    .venv/bin/python bench/files_rerank_probe.py --work /tmp/files-bench-XXXX --docs 10000 \
        [--files 2 3] [--weights 0.5 1.0] [--max-sentences 16]

`--docs` must be the kept run's (its corpus is deterministic: the queries are made again in a scratch folder).
Every set here (SEMANTIC, HELDOUT, heldout2) has been read while tuning: these are development figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--docs", type=int, required=True)
    ap.add_argument("--files", type=int, nargs="*", default=[2])
    ap.add_argument("--weights", type=float, nargs="*", default=[0.5])
    ap.add_argument("--max-sentences", type=int, default=16)
    ap.add_argument("--dump", default="")
    ns = ap.parse_args()
    import files_bench as fb

    scratch = Path(tempfile.mkdtemp(prefix="probe-q-"))
    try:
        queries = fb.make_corpus(scratch, ns.docs, heldout2=fb.load_heldout2(fb.HELDOUT2))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    os.environ["AGENT_HOME"] = str(Path(ns.work) / "home")
    from agent.files import index_for, search_files
    from agent.services import build_services

    services = build_services()
    index = index_for(services)
    search_files(index, "warm up", 5)
    from agent.files import search as search_mod

    search_mod.MAX_SENTENCES = ns.max_sentences

    settings = [(0, 0.0)] + [(n, w) for n in ns.files for w in ns.weights]
    rows = []
    for n, w in settings:
        search_mod.CROSS_CHECK_FILES, search_mod.SENTENCE_WEIGHT = n, w
        per: dict[str, list[tuple[int, int]]] = {}
        ms, cross = [], []
        changed = []
        for q in queries:
            resp = search_files(index, q["query"], 5)
            ms.append(resp.ms)
            cross.append(resp.timings_ms.get("cross_check", 0.0))
            names = [Path(h.path).name for h in resp.results]
            a1, a5 = int(names[:1] == [q["expect"]]), int(q["expect"] in names)
            per.setdefault(q["kind"], []).append((a1, a5))
            changed.append((q["kind"], q["query"], q["expect"], names[:2], a1))
        for query in (fb.GENERIC_QUERIES * 4):
            resp = search_files(index, query, 5)
            ms.append(resp.ms)
            cross.append(resp.timings_ms.get("cross_check", 0.0))
        hits = {k: f"{sum(a for a, _ in v)}/{len(v)} ({sum(b for _, b in v)})" for k, v in sorted(per.items())}
        para = sum(a for k, v in per.items() if "paraphrase" in k for a, _ in v)
        rows.append({"files": n, "weight": w, "paraphrase_hit1_total": para, "hits": hits,
                     "ms_p50": round(float(np.percentile(ms, 50)), 1), "ms_p99": round(float(np.percentile(ms, 99)), 1),
                     "cross_ms_p50": round(float(np.percentile(cross, 50)), 1),
                     "cross_ms_p99": round(float(np.percentile(cross, 99)), 1), "outcomes": changed})
        print(json.dumps({k: v for k, v in rows[-1].items() if k != "outcomes"}), flush=True)
    base = {o[1]: o for o in rows[0]["outcomes"]}
    for r in rows[1:]:
        diffs = [(("GAIN" if o[4] else "LOSS"), o[0], o[1], o[2], base[o[1]][3], "->", o[3])
                 for o in r["outcomes"] if o[4] != base[o[1]][4]]
        print(f"files={r['files']} weight={r['weight']}: {len(diffs)} changes")
        for d in diffs:
            print("   ", d)
    if ns.dump:
        Path(ns.dump).write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
