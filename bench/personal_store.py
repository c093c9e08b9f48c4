"""Personal tools benchmark: commit latency (synchronous FULL vs NORMAL), note search, reports.

    .venv/bin/python bench/personal_store.py [--notes 1000] [--expenses 10000] [--queries 30]

Prints one JSON summary:
- ms per committed single-row transaction with synchronous=FULL (what the stores use) and NORMAL, in WAL mode;
- note search p50/p90 over `--notes` notes: keyword only (FTS5 BM25) and hybrid (BM25 + MiniLM, fused by RRF),
  with the vectors already cached, in one resident process; and the one-time cost of embedding every note;
- expense report and CSV export time over `--expenses` rows; time report over a year of entries.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORDS = ("milk eggs dentist plumber passport wifi router blog rust python garden tomato invoice tax bank car "
         "tyres birthday gift mum dad meeting thursday friday budget report server backup disk keys locker gym "
         "yoga recipe pasta flight hotel visa insurance doctor pharmacy bread coffee").split()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def bench_commits(root: Path, n: int = 200) -> dict[str, float]:
    from agent.store.sqlite import Database

    out = {}
    for sync in ("FULL", "NORMAL"):
        db = Database.open(root / f"commit-{sync}.db", ["CREATE TABLE t (x TEXT)"], synchronous=sync)  # type: ignore[arg-type]
        started = time.perf_counter()
        for i in range(n):
            with db.transaction() as conn:
                conn.execute("INSERT INTO t VALUES (?)", (f"row {i}",))
        out[f"commit_ms_{sync.lower()}"] = round((time.perf_counter() - started) * 1000 / n, 3)
        db.close()
    return out


def bench_notes(root: Path, n: int, queries: int) -> dict[str, float]:
    from agent.config import load_settings
    from agent.paths import get_paths
    from agent.services import build_services
    from agent.skills.notes import NoteStore, search

    rng = random.Random(7)
    store = NoteStore(root / "notes.db")
    for _ in range(n):
        store.add(" ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 14))))
    paths = get_paths({"AGENT_HOME": str(root / "home")}).ensure()
    embedder = build_services(paths, load_settings(paths, env={"AGENT_HOME": str(root / "home")})).embedder()
    started = time.perf_counter()
    search(store, "warm up", 5, embedder, "minilm")  # embeds and caches every note once
    embed_all_s = time.perf_counter() - started
    qs = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3))) for _ in range(queries)]
    timings: dict[str, list[float]] = {"keyword": [], "hybrid": []}
    for q in qs:
        for mode, emb in (("keyword", None), ("hybrid", embedder)):
            t0 = time.perf_counter()
            search(store, q, 5, emb, "minilm")
            timings[mode].append((time.perf_counter() - t0) * 1000)
    return {"notes": n, "embed_all_notes_s": round(embed_all_s, 2),
            "search_keyword_p50_ms": _pct(timings["keyword"], 0.5),
            "search_keyword_p90_ms": _pct(timings["keyword"], 0.9),
            "search_hybrid_p50_ms": _pct(timings["hybrid"], 0.5), "search_hybrid_p90_ms": _pct(timings["hybrid"], 0.9)}


def bench_reports(root: Path, expenses: int) -> dict[str, float]:
    from agent.skills.finance import ExpenseStore, export_csv
    from agent.skills.periods import period_bounds
    from agent.skills.timetrack import TimeStore

    rng = random.Random(3)
    now = time.time()
    store = ExpenseStore(root / "finance.db")
    rows = [(now - rng.uniform(0, 365 * 86400), rng.randint(100, 20000), rng.choice(["USD", "EUR"]),
             rng.choice(["food", "transport", "groceries", "other"]), "x") for _ in range(expenses)]
    store.add_many(rows, "bench")
    t0 = time.perf_counter()
    store.totals(*period_bounds("year"))
    report_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    export_csv(store)
    export_ms = (time.perf_counter() - t0) * 1000
    ts = TimeStore(root / "timetrack.db")
    start = now - 365 * 86400
    for i in range(2000):  # about 5 entries a day for a year
        ts.start(f"project {i % 6}", now=start + i * 15000)
    ts.stop(now=start + 2000 * 15000)
    t0 = time.perf_counter()
    ts.report("year", now=now)
    return {"expenses": expenses, "expense_report_year_ms": round(report_ms, 2),
            "expense_export_ms": round(export_ms, 1),
            "time_entries": 2000, "time_report_year_ms": round((time.perf_counter() - t0) * 1000, 2)}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--notes", type=int, default=1000)
    p.add_argument("--expenses", type=int, default=10000)
    p.add_argument("--queries", type=int, default=30)
    ns = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        summary = {**bench_commits(root), **bench_notes(root, ns.notes, ns.queries),
                   **bench_reports(root, ns.expenses)}
    summary["note"] = "one process, vectors cached; commit times depend on the disk (fsync per commit with FULL)"
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
