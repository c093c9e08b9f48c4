"""Prometheus metrics for `GET /api/metrics`, on a registry of their own (one per API app).

Pipeline numbers come from the bus, so they count every input (voice, prompt, API, rules), not only the API:

    agent_utterances_total{source}              requests into the pipeline
    agent_router_decisions_total{tier}          router decisions (template, semantic, llm, context, fallback)
    agent_stage_seconds{stage}                  latency per stage: load (API only), route, skill
    agent_skill_runs_total{skill,state}         skill results
    agent_skill_seconds{skill}                  skill latency (routed requests)
    agent_alerts_total{severity}                alerts (rule notifications, reminders, component failures)
    agent_rule_firings_total{rule}              rule firings since the engine started (when it runs)
    agent_api_requests_total{method,route,status} and agent_api_request_seconds{route}
    agent_process_cpu_percent, agent_process_memory_rss_bytes, agent_process_threads, plus the standard
    process_* metrics

A routed request publishes `Intent`, runs its skill and publishes `SkillResult` in one thread; the skill's
latency is the time between the two, matched per thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import psutil
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from agent.events import Alert, Event, Intent, SkillResult, Utterance, VoiceTimings

if TYPE_CHECKING:
    from agent.services import Services

__all__ = ["AgentMetrics"]

_LOGGER = logging.getLogger(__name__)
_FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class _AgentCollector(Collector):
    """Read at scrape time: the rule engine's firings and this process's CPU and memory."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.process = psutil.Process()
        self.process.cpu_percent(None)  # the first reading is always 0: start the interval now

    def collect(self) -> Iterator[Metric]:
        with self.process.oneshot():
            cpu = self.process.cpu_percent(None)
            rss = self.process.memory_info().rss
            threads = self.process.num_threads()
        yield GaugeMetricFamily("agent_process_cpu_percent", "CPU use of the agent since the last scrape (100 = "
                                "one core)", value=cpu)
        yield GaugeMetricFamily("agent_process_memory_rss_bytes", "resident memory of the agent", value=rss)
        yield GaugeMetricFamily("agent_process_threads", "threads of the agent", value=threads)
        loaded = GaugeMetricFamily("agent_model_loaded", "1 for the resident language model", labels=["model"])
        name = self.services.models.loaded()
        if name:
            loaded.add_metric([name], 1)
        yield loaded
        yield from self._rules()

    def _rules(self) -> Iterator[Metric]:
        service = self.services.automation
        engine = service.engine if service is not None else None
        firings = CounterMetricFamily("agent_rule_firings", "rule firings since the engine started", labels=["rule"])
        firing = GaugeMetricFamily("agent_rules_firing", "rules whose trigger is firing now")
        loaded = GaugeMetricFamily("agent_rules_loaded", "rules the running engine has")
        rows: list[dict[str, Any]] = []
        if engine is not None:
            try:
                rows = engine.status()
            except Exception:
                _LOGGER.exception("cannot read the rule engine's status")
        for row in rows:
            firings.add_metric([str(row["id"])], float(row["fired"]))
        firing.add_metric([], sum(1 for r in rows if r["firing"]))
        loaded.add_metric([], len(rows))
        yield firings
        yield firing
        yield loaded


class AgentMetrics:
    def __init__(self, services: Services) -> None:
        # no `*_created` series: they double the output and nobody reads them here
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry()
        r = self.registry
        self.http_requests = Counter("agent_api_requests", "API requests", ["method", "route", "status"], registry=r)
        self.http_seconds = Histogram("agent_api_request_seconds", "API request latency", ["route"], registry=r,
                                      buckets=_FAST)
        self.utterances = Counter("agent_utterances", "requests into the pipeline", ["source"], registry=r)
        self.router_tiers = Counter("agent_router_decisions", "router decisions by tier", ["tier"], registry=r)
        self.stage_seconds = Histogram("agent_stage_seconds", "pipeline latency per stage", ["stage"], registry=r,
                                       buckets=_FAST)
        self.skill_runs = Counter("agent_skill_runs", "skill results", ["skill", "state"], registry=r)
        self.skill_seconds = Histogram("agent_skill_seconds", "skill latency", ["skill"], registry=r, buckets=_FAST)
        self.alerts = Counter("agent_alerts", "alerts published", ["severity"], registry=r)
        self.ws_clients = Gauge("agent_api_websocket_clients", "connected event-stream clients", registry=r)
        self.ws_dropped = Counter("agent_api_websocket_dropped_events", "events dropped for slow clients", registry=r)
        r.register(_AgentCollector(services))
        ProcessCollector(registry=r)
        self._local = threading.local()

    def attach(self, subscribe: Callable[[type[Event], Callable[[Event], None]], Callable[[], None]]
               ) -> Callable[[], None]:
        """Count pipeline events from the bus (`bus.subscribe`); returns the detach function."""
        detach = [subscribe(kind, self._on_event) for kind in (Utterance, Intent, SkillResult, Alert, VoiceTimings)]

        def detach_all() -> None:
            for d in detach:
                d()

        return detach_all

    def _on_event(self, event: Event) -> None:
        if isinstance(event, Utterance):
            self.utterances.labels(event.source).inc()
        elif isinstance(event, Intent):
            self.router_tiers.labels(event.tier).inc()
            self.stage_seconds.labels("route").observe(event.ms / 1000)
            self._local.pending = (event.skill, time.perf_counter())
        elif isinstance(event, SkillResult):
            pending = getattr(self._local, "pending", None)
            self._local.pending = None
            skill = pending[0] if pending else (event.skill or "unrouted")
            self.skill_runs.labels(skill, event.state.value).inc()
            if pending:
                seconds = time.perf_counter() - pending[1]
                self.stage_seconds.labels("skill").observe(seconds)
                self.skill_seconds.labels(skill).observe(seconds)
        elif isinstance(event, Alert):
            self.alerts.labels(event.severity).inc()
        elif isinstance(event, VoiceTimings):  # spoken requests: stt, tts_first_audio, eos_to_first_audio, ...
            for stage, ms in event.timings_ms.items():
                if stage not in ("route", "skill", "load"):  # already observed from the pipeline's events
                    self.stage_seconds.labels("voice_" + stage).observe(ms / 1000)

    def observe_load(self, ms: float) -> None:
        self.stage_seconds.labels("load").observe(ms / 1000)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.http_requests.labels(method, route, str(status)).inc()
        self.http_seconds.labels(route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
