"""`security.scan` (run the security scan) and `health.alerts` (recent alerts and open findings)."""

from __future__ import annotations

import logging
import time
from datetime import datetime

from agent.automation.security import run_scan
from agent.automation.store import AutomationStore
from agent.events import Notice, SkillResult
from agent.skills.base import NoArgs, Register, Skill, SkillContext

__all__ = ["register"]

_LOGGER = logging.getLogger(__name__)


def _store(ctx: SkillContext) -> AutomationStore:
    return AutomationStore.for_data_dir(ctx.paths.data)


def _scan(args: NoArgs, ctx: SkillContext) -> SkillResult:
    store = _store(ctx)
    try:
        report = run_scan(ctx.executor, store)
    finally:
        store.close()
    attention = report.attention()
    for f in attention:
        ctx.bus.publish(Notice("security.finding", {"id": f.id, "severity": f.severity, "title": f.title,
                                                    "evidence": f.evidence, "fix": f.fix, "new": f.id in report.new},
                               source="security.scan"))
    high = sum(1 for f in attention if f.severity in ("high", "critical"))
    top = next((f.title for f in attention if f.severity in ("high", "critical")), "")
    ctx.bus.publish(Notice("security.scan_done", {"findings": len(attention), "new": len(report.new), "high": high,
                                                  "serious": high > 0, "top": top}, source="security.scan"))
    if not attention:
        reply = "Security scan done: nothing needs your attention."
    else:
        worst = attention[0].title.rstrip(".")
        more = f" and {len(attention) - 1} more" if len(attention) > 1 else ""
        reply = f"Security scan: {len(attention)} thing{'s' if len(attention) > 1 else ''} to look at: {worst}{more}."
    if report.baselines_created:
        reply += " I recorded a baseline to compare future scans with."
    return SkillResult.ok(reply, **report.to_json())


def _alerts(args: NoArgs, ctx: SkillContext) -> SkillResult:
    store = _store(ctx)
    try:
        alerts = store.alerts(limit=10, since=time.time() - 24 * 3600)
        findings = [f for f in store.findings() if not f["acknowledged"]]
    finally:
        store.close()
    if alerts:
        shown = "; ".join(f"{a['title']} at {datetime.fromtimestamp(a['ts']):%H:%M}" for a in alerts[:3])
        reply = f"{len(alerts)} alert{'s' if len(alerts) != 1 else ''} in the last day: {shown}."
    else:
        reply = "No alerts in the last day."
    if findings:
        reply += f" {len(findings)} security finding{'s' if len(findings) != 1 else ''} still open."
    return SkillResult.ok(reply, alerts=alerts, findings=findings)


def register(reg: Register) -> None:
    reg(Skill("security.scan", "check the machine for security problems", run=_scan))
    reg(Skill("health.alerts", "recent health and security alerts", run=_alerts))
