"""The automation engine: YAML rules → validated models → compiled triggers, conditions and actions.

    loader   rule files with line/column marks → `Rule`s, every problem as `file:line:col: path: message`
    schema   the pinned rule language (pydantic, extra keys forbidden)
    triggers metric / schedule / process / file / event / hotkey / voice runtimes (edges with values)
    conditions  checker callables (and/or/not, time, metric, state, process_running, trigger)
    actions  speak, notify, skill, command, log, delay, choose/if, stop (a resumable interpreter)
    engine   modes, notification policy, state across reloads and restarts, traces (driven by a Clock)
    effects  what actions do: Speak/Alert on the bus, notify-send and commands via the executor, skills via
             the pipeline
    service  the engine on APScheduler + watchdog (hot reload, file triggers) for the resident agent
    security the security scan; health the `agent health` snapshot; store the SQLite state

Default rules: the repository's top-level `rules/` folder (found next to the package; the editable install that
`make setup` does keeps it there); the user's own rules: `<config dir>/rules/*.yaml`.
"""

from agent.automation.engine import Clock, Engine, ManualClock, SystemClock, default_rule_paths
from agent.automation.loader import LoadedRule, LoadResult, Problem, load_rules
from agent.automation.metrics import METRICS, MetricCollector, Sample
from agent.automation.security import Finding, ScanReport, run_scan
from agent.automation.service import AutomationService, start_automation
from agent.automation.store import AutomationStore

__all__ = [
    "METRICS",
    "AutomationService",
    "AutomationStore",
    "Clock",
    "Engine",
    "Finding",
    "LoadResult",
    "LoadedRule",
    "ManualClock",
    "MetricCollector",
    "Problem",
    "Sample",
    "ScanReport",
    "SystemClock",
    "default_rule_paths",
    "load_rules",
    "run_scan",
    "start_automation",
]
