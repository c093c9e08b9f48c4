"""`agent rules check|list|run|trace|dnd`, `agent health` and `agent scan` (wired into `agent/cli.py`)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = ["add_parsers"]

ServicesFactory = Callable[[], Any]


def _say(text: object, file: Any = None) -> None:
    """The CLI's output (this module is part of `agent/cli.py`'s face)."""
    (file or sys.stdout).write(f"{text}\n")


def _stamp(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else "-"


def _engine(services: Any) -> Any:
    from agent.automation.engine import Engine

    engine = Engine(services)
    engine.load()
    return engine


def cmd_rules(ns: argparse.Namespace, services_factory: ServicesFactory) -> int:
    services = services_factory()
    action = ns.action
    if action == "check":
        return _check(services, [Path(p) for p in ns.paths])
    if action == "dnd":
        return _dnd(services, ns)
    if action == "list":
        return _list(services, ns.json)
    if not ns.paths:
        _say(f"error: agent rules {action} needs a rule ID", file=sys.stderr)
        return 2
    rule_id = ns.paths[0]
    if action == "trace":
        return _trace(services, rule_id, ns.n, ns.json)
    return _run(services, rule_id, ns.dry_run, ns.json)


def _check(services: Any, paths: list[Path]) -> int:
    from agent.automation.catalog import RuleCatalog
    from agent.automation.engine import default_rule_paths
    from agent.automation.loader import load_rules

    catalog = RuleCatalog(services.registry, services.executor)
    result = load_rules(paths or default_rule_paths(services), catalog, missing_ok=not paths)
    for problem in result.problems:
        _say(problem)
    errors = result.errors
    rules = len(result.rules) + len(result.invalid)
    summary = f"{len(result.rules)} of {rules} rules valid in {len(result.files)} file(s)"
    _say(("error: " if errors else "ok: ") + summary + (f", {len(errors)} error(s)" if errors else ""),
          file=sys.stderr if errors else sys.stdout)
    return 1 if errors else 0


def _list(services: Any, as_json: bool) -> int:
    engine = _engine(services)
    rows = engine.status()
    invalid = sorted({p.rule_id for p in engine.problems if p.rule_id and p.severity == "error"} - set(engine.rules))
    if as_json:
        _say(json.dumps({"rules": rows, "invalid": invalid, "problems": [str(p) for p in engine.problems]}))
        return 0
    for r in rows:
        state = "off" if not r["enabled"] else ("FIRING" if r["firing"] else "ok")
        _say(f"{r['id']:<28} {state:<7} {r['mode']:<8} {','.join(r['triggers']):<18} last run "
              f"{_stamp(r['last_run'])}  {Path(r['file']).name}:{r['line']}  {r['alias']}")
    for rule_id in invalid:
        _say(f"{rule_id:<28} INVALID (agent rules check shows why)")
    return 0


def _format_trace(t: dict[str, Any]) -> str:
    trig = t["trigger"]
    values = ", ".join(f"{k}={v}" for k, v in trig.get("values", {}).items() if k != "trigger")
    lines = [f"{_stamp(t['started'])}  {t['sequence']} by {trig['kind']}[{trig['index']}]"
             + (f" ({trig['id']})" if trig.get("id") else "") + (f" {values}" if values else "")
             + f"  → {t['result']}" + (" (dry run)" if t.get("dry_run") else "")]
    for c in t["conditions"]:
        lines.append(f"    {'pass' if c['result'] else 'FAIL'}  {c['path']}: {c['condition']}"
                     + (f" ({c['error']})" if c.get("error") else ""))
    for st in t["steps"]:
        lines.append(f"    {st['outcome']:<8} {st['path']} {st['action']}: {st['detail']}")
    return "\n".join(lines)


def _trace(services: Any, rule_id: str, n: int, as_json: bool) -> int:
    from agent.automation.store import AutomationStore

    traces = AutomationStore.for_data_dir(services.paths.data).traces(rule_id, n)
    if as_json:
        _say(json.dumps(traces, default=str))
        return 0
    if not traces:
        _say(f"no runs of {rule_id} recorded yet")
    for t in reversed(traces):
        _say(_format_trace(t))
    return 0


def _run(services: Any, rule_id: str, dry_run: bool, as_json: bool) -> int:
    engine = _engine(services)
    if rule_id not in engine.rules:
        _say(f"error: no valid rule {rule_id!r} (see: agent rules list)", file=sys.stderr)
        return 1
    trace = engine.run_rule(rule_id, dry_run=dry_run)
    while engine.busy():  # a `delay` in the actions: wait for it, as the resident engine would
        wake = engine.next_wake()
        time.sleep(max(0.05, (wake or time.time()) - time.time()))
        engine.advance()
    _say(json.dumps(trace.to_json(), default=str) if as_json else _format_trace(trace.to_json()))
    return 0 if trace.result in ("done", "dry_run") else 1


def _dnd(services: Any, ns: argparse.Namespace) -> int:
    from agent.automation.store import AutomationStore

    store = AutomationStore.for_data_dir(services.paths.data)
    if ns.paths:
        if ns.paths[0] not in ("on", "off"):
            _say("error: agent rules dnd [on|off]", file=sys.stderr)
            return 2
        store.put("dnd", ns.paths[0] == "on")
    _say(f"do not disturb: {'on' if store.get('dnd', False) else 'off'}")
    return 0


def cmd_health(ns: argparse.Namespace, services_factory: ServicesFactory) -> int:
    from agent.automation.health import format_health, health_snapshot
    from agent.automation.store import AutomationStore

    services = services_factory()
    snap = health_snapshot(AutomationStore.for_data_dir(services.paths.data))
    _say(json.dumps(snap, default=str) if ns.json else format_health(snap))
    return 0


def cmd_scan(ns: argparse.Namespace, services_factory: ServicesFactory) -> int:
    from agent.automation.store import AutomationStore

    services = services_factory()
    store = AutomationStore.for_data_dir(services.paths.data)
    if ns.ack:
        unknown = [fid for fid in ns.ack if not store.acknowledge(fid, ns.note or "")]
        for fid in ns.ack:
            _say(f"{fid}: {'unknown finding' if fid in unknown else 'acknowledged'}")
        return 1 if unknown else 0
    if ns.rebaseline:
        store.clear_baselines()
    outcome = services.pipeline().run_skill("security.scan", {}, source="cli")
    data = outcome.result.data
    if ns.json:
        _say(json.dumps(data, default=str))
        return 0
    _say(outcome.result.reply)
    for f in data.get("findings", []):
        flag = " (acknowledged)" if f["acknowledged"] else (" NEW" if f["new"] else "")
        _say(f"\n[{f['severity']}] {f['title']}{flag}\n    id: {f['id']}\n    evidence: {f['evidence']}\n"
              f"    fix: {f['fix']}")
    skipped = {k: v["detail"] for k, v in data.get("checks", {}).items() if v["status"] != "ok" and
               v["status"] != "findings"}
    for name, why in skipped.items():
        _say(f"\n(check {name}: {why})")
    return 0


def add_parsers(sub: Any, services_factory: ServicesFactory) -> None:
    r = sub.add_parser("rules", help="automation rules: check files, list, run one now, show its traces, dnd")
    r.add_argument("action", choices=["check", "list", "run", "trace", "dnd"])
    r.add_argument("paths", nargs="*", help="check: rule files or folders; run/trace: the rule ID; dnd: on|off")
    r.add_argument("--dry-run", action="store_true", help="run: show what would happen, do nothing")
    r.add_argument("-n", type=int, default=5, help="trace: how many runs")
    r.add_argument("--json", action="store_true")
    r.set_defaults(fn=lambda ns: cmd_rules(ns, services_factory))

    h = sub.add_parser("health", help="CPU, memory, disks, firing rules, recent alerts and open findings")
    h.add_argument("--json", action="store_true")
    h.set_defaults(fn=lambda ns: cmd_health(ns, services_factory))

    s = sub.add_parser("scan", help="run the security scan (read-only); --ack ID to stop a finding repeating")
    s.add_argument("--json", action="store_true")
    s.add_argument("--ack", nargs="+", metavar="ID", help="acknowledge findings by id")
    s.add_argument("--note", help="why (with --ack)")
    s.add_argument("--rebaseline", action="store_true", help="forget the port and autostart baselines first")
    s.set_defaults(fn=lambda ns: cmd_scan(ns, services_factory))
