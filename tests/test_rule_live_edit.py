"""Issue 15: a rule file that becomes invalid while the agent runs keeps its last valid version running, with an
alert naming file:line; the new version replaces it once valid. A real engine + scheduler + file watcher and a
real API server; the file is edited on disk as a user would."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent.api import load_token, start_server
from agent.automation import AutomationService, Engine
from agent.config import load_settings
from agent.events import Alert, Event, Notice
from agent.paths import get_paths
from agent.services import Services, build_services
from tests.automation_support import write_rules
from tests.conftest import wait_for

RULES = """
    - id: ping_one
      triggers: [{event: custom.ping_one}]
      actions: [{notify: {title: "one", body: "first version"}}]
    - id: ping_two
      triggers: [{event: custom.ping_two}]
      actions: [{notify: {title: "two", body: "fired"}}]
"""


@pytest.fixture
def running(agent_home: Path) -> Iterator[tuple[Services, httpx.Client, Path, list[Alert]]]:
    env = {"AGENT_HOME": str(agent_home), "AGENT_AUTOMATION__DESKTOP_NOTIFY": "false"}
    paths = get_paths(env).ensure()
    services = build_services(paths, load_settings(paths, env=env))
    seen: list[Alert] = []

    def on_alert(event: Event) -> None:
        if isinstance(event, Alert):
            seen.append(event)

    services.bus.subscribe(Alert, on_alert)
    folder = agent_home / "test-rules"
    rules = write_rules(folder, RULES)
    automation = AutomationService(Engine(services, rule_paths=[folder], tick_s=60))
    automation.start()
    services.automation = automation
    server = start_server(services, port=0, metrics_interval_s=0)
    client = httpx.Client(base_url=server.url, timeout=60,
                          headers={"Authorization": f"Bearer {load_token(paths)}"})
    try:
        yield services, client, rules, seen
    finally:
        client.close()
        server.stop()
        automation.stop()


def _ids(client: httpx.Client) -> list[str]:
    return [r["id"] for r in client.get("/api/rules").json()["rules"]]


def _fires(services: Services, seen: list[Alert], event: str, title: str) -> Alert:
    before = len(seen)
    services.bus.publish(Notice(event, {}, source="test"))
    assert wait_for(lambda: any(a.title == title for a in seen[before:]), timeout=10), seen[before:]
    return next(a for a in seen[before:] if a.title == title)


def test_an_invalid_edit_keeps_the_last_valid_rules_running(
        running: tuple[Services, httpx.Client, Path, list[Alert]]) -> None:
    services, client, rules, seen = running
    assert _ids(client) == ["ping_one", "ping_two"]
    assert _fires(services, seen, "custom.ping_one", "one").message == "first version"

    # a half-saved edit: an unclosed flow sequence on line 4
    text = rules.read_text().splitlines()
    text[3] = "  triggers: [{event: custom.ping_one}"
    rules.write_text("\n".join(text) + "\n")
    assert wait_for(lambda: any(a.title == "Some rules could not load" for a in seen), timeout=15)
    alert = next(a for a in seen if a.title == "Some rules could not load")
    assert f"{rules}:" in alert.message
    assert "not valid YAML" in alert.message
    assert "The last valid version of ping_one, ping_two keeps running" in alert.message
    listed: dict[str, Any] = client.get("/api/rules").json()
    assert [r["id"] for r in listed["rules"]] == ["ping_one", "ping_two"]
    assert any(p.startswith(f"{rules}:") for p in listed["problems"])
    assert _fires(services, seen, "custom.ping_one", "one").message == "first version"  # still running
    _fires(services, seen, "custom.ping_two", "two")

    # the fixed file replaces it: ping_one changed, ping_two gone
    write_rules(rules.parent, RULES.replace("first version", "second version").split("    - id: ping_two")[0])
    assert wait_for(lambda: _ids(client) == ["ping_one"], timeout=15), _ids(client)
    assert _fires(services, seen, "custom.ping_one", "one").message == "second version"
    time.sleep(0.2)
    assert client.get("/api/rules").json()["problems"] == []
