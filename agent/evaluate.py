"""`agent eval router FILE.jsonl`: skill and argument accuracy, per-tier counts, latency percentiles."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from agent.errors import ConfigError
from agent.router.grounding import ungrounded_args
from agent.services import Services

__all__ = ["args_match", "evaluate_router", "format_report"]


def args_match(expected: dict[str, Any], got: dict[str, Any]) -> bool:
    """Subset match: strings case-insensitive and contained, numbers equal."""
    for key, want in expected.items():
        have = got.get(key)
        if isinstance(want, bool) or isinstance(have, bool):
            if want != have:
                return False
        elif isinstance(want, int | float):
            if not isinstance(have, int | float) or abs(float(have) - float(want)) > 1e-9:
                return False
        elif isinstance(want, str):
            if have is None or want.lower() not in str(have).lower():
                return False
        elif want != have:
            return False
    return True


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def evaluate_router(services: Services, file: str, *, with_replies: bool = True) -> dict[str, Any]:
    path = Path(file)
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ConfigError(f"not valid JSON: {exc}", file=path, line=n) from None
    router = services.router()
    router.route("warm up")  # load models before timing

    pipeline = services.pipeline()
    failures, tiers, lat = [], {}, {}  # type: ignore[var-annotated]
    ok_skill = ok_args = n_args = ok_reply = n_reply = n_routed = n_ungrounded = 0
    for row in rows:
        router.context.last = None  # each line stands alone
        intent = router.route(row["text"])
        tiers[intent.tier] = tiers.get(intent.tier, 0) + 1
        bucket = "llm" if "llm_args" in intent.timings else intent.tier  # a route that waited for the LLM
        lat.setdefault(bucket, []).append(intent.ms)
        skill_ok = intent.skill == row["skill"]
        ok_skill += skill_ok
        problem = [] if skill_ok else [f"skill {intent.skill}"]
        if "args" in row:
            n_args += 1
            good = skill_ok and args_match(row["args"], intent.args) and not intent.question
            ok_args += good
            if not good:
                problem.append(f"args {intent.args}" + (f" ({intent.question})" if intent.question else ""))
        if "reply_contains" in row and with_replies:
            n_reply += 1
            outcome = pipeline.handle(row["text"], source="eval", dry_run=False)
            good = row["reply_contains"].lower() in outcome.result.reply.lower()
            ok_reply += good
            if not good:
                problem.append(f"reply {outcome.result.reply!r}")
        if intent.skill != "chat" and not intent.question:
            n_routed += 1
            bad = ungrounded_args(intent.args, row["text"])
            if bad:
                n_ungrounded += 1
                problem.append("not said: " + ", ".join(f"{k}={intent.args[k]!r}" for k in bad))
        if problem:
            failures.append({"text": row["text"], "expected": row["skill"], "expected_args": row.get("args"),
                             "tier": intent.tier, "problems": problem})
    all_ms = [m for v in lat.values() for m in v]
    cheap = [m for tier, v in lat.items() if tier not in ("llm", "fallback") for m in v]
    return {
        "file": str(path), "n": len(rows),
        "skill_accuracy": ok_skill / len(rows) if rows else 0.0,
        "args_accuracy": ok_args / n_args if n_args else 1.0, "args_n": n_args,
        "reply_accuracy": ok_reply / n_reply if n_reply else 1.0, "reply_n": n_reply,
        "ungrounded": n_ungrounded, "routed_with_args_checked": n_routed,
        "tiers": tiers,
        "latency_ms": {
            "p50": _pct(all_ms, 50), "p90": _pct(all_ms, 90), "p99": _pct(all_ms, 99),
            "tier12_p50": _pct(cheap, 50), "tier12_p99": _pct(cheap, 99), "llm_p50": _pct(lat.get("llm", []), 50),
            "per_tier_p50": {k: round(statistics.median(v), 2) for k, v in lat.items()},
        },
        "failures": failures,
    }


def format_report(r: dict[str, Any]) -> str:
    lat = r["latency_ms"]
    lines = [
        f"router eval on {r['file']} ({r['n']} lines)",
        f"  skill accuracy  {r['skill_accuracy']:.1%}",
        f"  args accuracy   {r['args_accuracy']:.1%} of {r['args_n']}",
        f"  reply accuracy  {r['reply_accuracy']:.1%} of {r['reply_n']}",
        f"  not said        {r['ungrounded']} of {r['routed_with_args_checked']} routed requests carry an "
        "argument the utterance does not contain",
        "  tiers           " + ", ".join(f"{k}={v}" for k, v in sorted(r["tiers"].items())),
        f"  latency ms      p50 {lat['p50']:.1f}  p90 {lat['p90']:.1f}  p99 {lat['p99']:.1f}  "
        f"non-LLM p50 {lat['tier12_p50']:.1f} p99 {lat['tier12_p99']:.1f}  llm p50 {lat['llm_p50']:.1f}",
        "  per tier p50    " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(lat["per_tier_p50"].items())),
    ]
    if r["failures"]:
        lines.append(f"  failures ({len(r['failures'])}):")
        for f in r["failures"]:
            lines.append(f"    [{f['tier']}] {f['text']!r} expected {f['expected']} {f['expected_args'] or ''}: "
                         + "; ".join(f["problems"]))
    return "\n".join(lines)
