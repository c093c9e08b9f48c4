"""The local API on a real uvicorn server on a free loopback port, driven with httpx and a real WebSocket client;
the real pipeline, executor, rule engine (APScheduler) and security scan behind it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from agent.api import load_token, server_file, start_api, start_server, token_file
from agent.api.auth import KEYRING_ENTRY, tokens_match
from agent.api.events import EventHub
from agent.api.guards import check_bind_host, host_of, is_loopback
from agent.automation import AutomationService, Engine
from agent.bus import Bus
from agent.config import load_settings
from agent.errors import ConfigError
from agent.events import Alert, Notice
from agent.paths import Paths, get_paths
from agent.services import Services, build_services
from tests.automation_support import write_rules
from tests.conftest import run_cli

ASK_KEYS = {"input", "skill", "args", "tier", "state", "reply", "timings_ms", "confirmation", "data"}


@dataclass
class Api:
    url: str
    port: int
    token: str
    services: Services
    client: httpx.Client

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/api/events"

    def ws(self, query: str = "", **kwargs: Any) -> ClientConnection:
        return connect(self.ws_url + query, additional_headers=kwargs.pop("headers", self.auth), open_timeout=10,
                       **kwargs)


def home_services(home: Path, **env: str) -> Services:
    full = {"AGENT_HOME": str(home), "AGENT_AUTOMATION__DESKTOP_NOTIFY": "false", **env}
    paths = get_paths(full).ensure()
    return build_services(paths, load_settings(paths, env=full))


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    home = tmp_path_factory.mktemp("api-home")
    services = home_services(home, AGENT_LLM__MAX_TOKENS="24")
    rules = home / "test-rules"
    write_rules(rules, """
        - id: api_ping
          alias: API test rule
          triggers: [{event: custom.api_ping}]
          actions: [{notify: {title: "ping from a rule", body: "it fired"}}]
    """)
    automation = AutomationService(Engine(services, rule_paths=[rules], tick_s=60))
    automation.start()
    services.automation = automation
    server = start_server(services, port=0, metrics_interval_s=0.2)
    client = httpx.Client(base_url=server.url, timeout=120)
    try:
        yield Api(server.url, server.port, load_token(services.paths), services, client)
    finally:
        client.close()
        server.stop()
        automation.stop()
        services.automation = None


def next_of(ws: ClientConnection, kind: str, timeout: float = 10.0, **match: Any) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no {kind} message {match} in {timeout} s"
        message = json.loads(ws.recv(timeout=left))
        if message["type"] == kind and all(message.get(k) == v for k, v in match.items()):
            return message


# -- auth ---------------------------------------------------------------------------------------------------
def _call(api: Api, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    path = path.replace("{id}", "abcd1234" if "confirm" in path else "api_ping")
    body = {"text": "hi"} if method == "post" else None
    return api.client.request(method.upper(), path, headers=headers, json=body)


def test_health_needs_no_token_and_everything_else_does(api: Api) -> None:
    health = api.client.get("/api/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert health.json()["uptime_s"] >= 0
    assert api.client.get("/api/openapi.json").status_code == 401
    schema = api.client.get("/api/openapi.json", headers=api.auth).json()
    operations = [(m, p) for p, ops in schema["paths"].items() for m in ops if p != "/api/health"]
    assert len(operations) == 16, operations
    for method, path in operations:
        for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": f"Basic {api.token}"}):
            response = _call(api, method, path, headers)
            assert response.status_code == 401, (method, path, headers, response.text)
            assert "bearer token" in response.json()["error"]
            assert response.headers["www-authenticate"] == "Bearer"
    assert api.client.get("/api/docs").status_code == 401
    docs = api.client.get("/api/docs", params={"token": api.token})
    assert docs.status_code == 200
    assert "/api/chat/stream" in docs.text
    assert "<script" not in docs.text  # nothing loaded from elsewhere
    assert api.client.get("/api/ready", params={"token": api.token}).status_code == 401  # query only for docs/WS
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        with pytest.raises(InvalidStatus) as refused:
            connect(api.ws_url, additional_headers=headers, open_timeout=10)
        assert refused.value.response.status_code == 403


# -- the pipeline -------------------------------------------------------------------------------------------
def test_ask_returns_the_same_json_as_agent_ask(api: Api) -> None:
    response = api.client.post("/api/ask", json={"text": "what is 6 times 7"}, headers=api.auth)
    assert response.status_code == 200, response.text
    out = response.json()
    assert set(out) == ASK_KEYS
    assert (out["skill"], out["tier"], out["state"]) == ("math.calc", "template", "ok")
    assert "42" in out["reply"]
    assert out["data"]["value"] == 42
    dry = api.client.post("/api/ask", json={"text": "what is 6 times 7", "dry_run": True}, headers=api.auth).json()
    assert (dry["state"], dry["data"]) == ("ok", {"dry_run": True})


def test_confirmation_flow_refused(api: Api) -> None:
    asked = api.client.post("/api/ask", json={"text": "clean out the old temp files please"}, headers=api.auth).json()
    assert (asked["skill"], asked["state"]) == ("command.run", "needs_confirmation"), asked
    assert asked["args"]["command"] == "clear_old_temp"
    token = asked["confirmation"]
    assert token
    refused = api.client.post(f"/api/confirm/{token}", json={"granted": False}, headers=api.auth)
    assert refused.status_code == 200, refused.text
    assert refused.json()["state"] == "refused"
    again = api.client.post(f"/api/confirm/{token}", json={"granted": False}, headers=api.auth)
    assert again.status_code == 404
    assert "no pending confirmation" in again.json()["error"]
    events = [r["event"] for r in api.services.audit.records() if r["data"].get("command") == "clear_old_temp"]
    assert events == ["confirmation.asked", "confirmation.refused"]  # nothing ran


# -- browser and network guards ----------------------------------------------------------------------------
def test_no_cors_grant_for_other_origins_and_loopback_host_names_only(api: Api) -> None:
    evil = {"Origin": "http://evil.example"}
    for response in (api.client.get("/api/health", headers=evil),
                     api.client.post("/api/ask", json={"text": "what time is it"}, headers={**api.auth, **evil}),
                     api.client.options("/api/ask", headers={**evil, "Access-Control-Request-Method": "POST",
                                                             "Access-Control-Request-Headers": "authorization"})):
        assert response.status_code == 403, response.text
        assert not any(h.lower().startswith("access-control-") for h in response.headers)
    preflight = api.client.options("/api/ask", headers={"Origin": f"http://localhost:{api.port}",
                                                        "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 405  # not answered, even for a loopback page
    assert not any(h.lower().startswith("access-control-") for h in preflight.headers)
    for host in ("evil.example", f"evil.example:{api.port}", "attacker.localhost.evil.example", "10.0.0.1"):
        refused = api.client.get("/api/health", headers={"Host": host})
        assert refused.status_code == 400, host
        assert "not allowed" in refused.json()["error"]
    for host in (f"localhost:{api.port}", f"127.0.0.1:{api.port}", f"[::1]:{api.port}", "127.0.0.2"):
        assert api.client.get("/api/health", headers={"Host": host}).status_code == 200, host
    with pytest.raises(InvalidStatus):
        connect(api.ws_url, additional_headers={**api.auth, **evil}, open_timeout=10)


def test_body_limits_and_invalid_input_are_clear_json_errors(api: Api) -> None:
    limit = api.services.settings.api.max_body_bytes
    big = json.dumps({"text": "x" * (limit + 10)}).encode()
    declared = api.client.post("/api/ask", content=big, headers={**api.auth, "Content-Type": "application/json"})
    assert declared.status_code == 413
    assert str(limit) in declared.json()["error"]
    chunked = api.client.post("/api/ask", content=iter([big[:limit // 2], big[limit // 2:]]),
                              headers={**api.auth, "Content-Type": "application/json"})
    assert chunked.status_code == 413
    cases: list[tuple[bytes, str]] = [
        (b'{"text": ', "JSON"), (b'{"text": "hi", "rm": true}', "rm"), (b'{"text": "   "}', "blank"),
        (b'{"text": "\\ud800"}', "text"), (b'{"text": "a\\u0000b"}', "NUL"), (b'{"text": 5}', "text"),
        (b"[]", "body"), (json.dumps({"text": "y" * 2001}).encode(), "2000"),
    ]
    for body, word in cases:
        response = api.client.post("/api/ask", content=body, headers={**api.auth, "Content-Type": "application/json"})
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"].startswith("invalid input")
        assert word in response.text, response.text
    assert api.client.get("/api/alerts", params={"limit": 0}, headers=api.auth).status_code == 422
    assert api.client.get("/api/alerts", params={"since": "nan"}, headers=api.auth).status_code == 422
    assert api.client.get("/api/rules/..%2Fetc/trace", headers=api.auth).status_code in (404, 422)
    missing = api.client.get("/api/nope", headers=api.auth)
    assert missing.status_code == 404
    assert "no such endpoint" in missing.json()["error"]
    wrong_method = api.client.get("/api/ask", headers=api.auth)
    assert wrong_method.status_code == 405
    assert "not allowed" in wrong_method.json()["error"]


# -- live events and metrics --------------------------------------------------------------------------------
def test_websocket_delivers_a_rule_alert_and_metrics_count_it(api: Api) -> None:
    with api.ws() as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "hello"  # subscribed from here on
        api.services.bus.publish(Notice("custom.api_ping", {}, source="test"))  # the rule's trigger
        alert = next_of(ws, "Alert", title="ping from a rule")
        assert (alert["message"], alert["source"]) == ("it fired", "rule:api_ping")
    alerts = api.client.get("/api/alerts", headers=api.auth).json()
    assert any(a["title"] == "ping from a rule" and a["rule"] == "api_ping" for a in alerts["alerts"])
    trace = api.client.get("/api/rules/api_ping/trace", headers=api.auth).json()
    assert (trace["traces"][0]["trigger"]["kind"], trace["traces"][0]["result"]) == ("event", "done")
    text = api.client.get("/api/metrics", headers=api.auth).text
    assert 'agent_rule_firings_total{rule="api_ping"} 1.0' in text
    assert 'agent_alerts_total{severity="warning"}' in text


def test_websocket_streams_pipeline_events_and_metric_samples(api: Api) -> None:
    with api.ws("?types=Utterance,Intent,Reply,metrics") as ws:
        hello = json.loads(ws.recv(timeout=10))
        assert hello["types"] == ["Intent", "Reply", "Utterance", "metrics"]
        api.client.post("/api/ask", json={"text": "what is 2 plus 3"}, headers=api.auth)
        assert next_of(ws, "Utterance")["source"] == "api"
        assert next_of(ws, "Intent")["skill"] == "math.calc"
        assert "5" in next_of(ws, "Reply")["text"]
        sample = next_of(ws, "metrics")
        assert sample["rss_bytes"] > 10_000_000
        assert 0 <= sample["memory_percent"] <= 100
    text = api.client.get("/api/metrics", headers=api.auth).text
    for line in ('agent_router_decisions_total{tier="template"}',
                 'agent_skill_runs_total{skill="math.calc",state="ok"}', 'agent_stage_seconds_count{stage="route"}',
                 'agent_skill_seconds_count{skill="math.calc"}', 'agent_utterances_total{source="api"}',
                 "agent_process_memory_rss_bytes ", "agent_process_cpu_percent ", "process_cpu_seconds_total",
                 'agent_api_requests_total{method="POST",route="/api/ask",status="200"}'):
        assert line in text, line


def test_a_slow_client_loses_its_oldest_events_not_the_publisher() -> None:
    async def scenario() -> list[dict[str, Any]]:
        bus = Bus()
        dropped: list[int] = []
        hub = EventHub(bus, metrics_interval_s=0, queue_size=3, on_drop=lambda: dropped.append(1))
        await hub.start()
        client = hub.connect(frozenset({"Alert"}))
        for i in range(10):  # the bus publishes from another thread; nobody reads meanwhile
            await asyncio.to_thread(bus.publish, Alert(f"a{i}", "m"))
        bus.publish(Notice("ignored"))  # filtered out by the client's types
        await asyncio.sleep(0.05)
        got = [await client.next() for _ in range(4)]
        await hub.stop()
        assert len(dropped) == 7
        return got

    got = asyncio.run(scenario())
    assert got[0] == {"type": "dropped", "count": 7}
    assert [m["title"] for m in got[1:]] == ["a7", "a8", "a9"]


# -- models, skills, rules, scan, ready ---------------------------------------------------------------------
def test_ready_models_skills_rules_and_scan(api: Api, tmp_path: Path) -> None:
    ready = api.client.get("/api/ready", headers=api.auth).json()
    assert ready["rules"] == {"running": True, "loaded": 1, "firing": 0}
    assert set(ready["audio"]) == {"available", "inputs", "outputs", "detail"}
    skills = api.client.get("/api/skills", headers=api.auth).json()
    calc = next(s for s in skills["skills"] if s["name"] == "math.calc")
    assert skills["count"] > 20
    assert calc["implemented"]
    assert "expression" in calc["args"]["properties"]
    models = api.client.get("/api/models", headers=api.auth).json()
    assert any(m["name"] == "smollm2-135m-instruct" and m["available"] for m in models["models"])
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"not a model")
    for name, status in (("model.gguf", 404), ("/nowhere/model.gguf", 404), (str(fake), 422),
                         ("no-such-model", 404), ("/etc/passwd", 422), ("../x.gguf", 422), (str(tmp_path), 422)):
        response = api.client.post("/api/models/load", json={"model": name}, headers=api.auth)
        assert response.status_code == status, (name, response.text)
    assert api.client.get("/api/models", headers=api.auth).json()["error"] is None  # refused before unloading
    rules = api.client.get("/api/rules", headers=api.auth).json()
    assert (rules["running"], [r["id"] for r in rules["rules"]]) == (True, ["api_ping"])
    reload = api.client.post("/api/rules/reload", headers=api.auth).json()
    assert reload == {"running": True, "rules": 1, "errors": []}
    assert api.client.get("/api/rules/nope/trace", headers=api.auth).status_code == 404
    scan = api.client.post("/api/scan", headers=api.auth).json()
    assert set(scan) == ASK_KEYS
    assert (scan["skill"], scan["state"]) == ("security.scan", "ok")
    assert "ports" in scan["data"]["checks"]


@pytest.mark.slow  # the embedded SmolLM2 answers
def test_chat_streams_token_by_token(api: Api) -> None:
    loaded = api.client.post("/api/models/load", json={"model": "smollm2-135m-instruct"}, headers=api.auth)
    assert loaded.status_code == 200
    assert loaded.json()["loaded"].startswith("SmolLM2")
    body = {"messages": [{"role": "user", "content": "Tell me about the moon in two sentences."}]}
    chunks: list[bytes] = []
    with api.client.stream("POST", "/api/chat/stream", json=body, headers=api.auth) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        chunks.extend(response.iter_raw())
    events = [block for block in b"".join(chunks).decode().split("\n\n") if block.strip()]
    tokens = [json.loads(e[len("data: "):])["token"] for e in events if e.startswith("data: ")]
    assert len(tokens) >= 5, events
    assert len(chunks) >= 3  # sent piece by piece, not as one body
    done = events[-1]
    assert done.startswith("event: done\n")
    final = json.loads(done.split("data: ", 1)[1])
    assert (final["reply"], final["pieces"]) == ("".join(tokens).strip(), len(tokens))
    whole = api.client.post("/api/chat", json=body, headers=api.auth)
    assert whole.status_code == 200
    assert whole.json()["reply"]
    bad = api.client.post("/api/chat", json={"messages": [{"role": "assistant", "content": "hi"}]},
                          headers=api.auth)
    assert bad.status_code == 422
    assert "user" in bad.json()["error"]


# -- token, addresses, serving ------------------------------------------------------------------------------
class MemoryKeyring:
    """Fake: this machine has no Secret Service or KWallet for a real native keyring."""

    def __init__(self) -> None:
        self.stored: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, entry: str) -> str | None:
        return self.stored.get((service, entry))

    def set_password(self, service: str, entry: str, value: str) -> None:
        self.stored[(service, entry)] = value


def test_token_is_created_once_kept_private_and_prefers_the_keyring(paths: Paths) -> None:
    token = load_token(paths, backend=None)
    path = token_file(paths)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert path.read_text().strip() == token
    assert len(token) >= 40
    path.chmod(0o644)
    assert load_token(paths, backend=None) == token  # the same on every start
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # and private again
    keyring = MemoryKeyring()
    assert load_token(paths, backend=keyring) == token
    assert keyring.stored[("ambient-agent", KEYRING_ENTRY)] == token  # copied into the keyring
    keyring.stored[("ambient-agent", KEYRING_ENTRY)] = "k" * 43
    assert load_token(paths, backend=keyring) == "k" * 43  # the keyring wins; the file follows
    assert path.read_text().strip() == "k" * 43
    assert [tokens_match(token, token), tokens_match(token, token[:-1]), tokens_match(token, None)] == [
        True, False, False]


def test_loopback_addresses_only_unless_overridden() -> None:
    for host in ("127.0.0.1", "127.0.0.2", "::1", "localhost", "[::1]", "::ffff:127.0.0.1"):
        assert is_loopback(host), host
        check_bind_host(host, False)
    for host in ("0.0.0.0", "::", "192.168.1.5", "example.com", "localhost.evil.example"):
        assert not is_loopback(host), host
        with pytest.raises(ConfigError, match="allow_non_loopback"):
            check_bind_host(host, False)
        check_bind_host(host, True)
    assert [host_of(h) for h in ("[::1]:8765", "localhost:80", "127.0.0.1", "::1")] == [
        "::1", "localhost", "127.0.0.1", "::1"]


def test_resident_component_port_file_and_busy_port(agent_home: Path) -> None:
    services = home_services(agent_home, AGENT_API__PORT="0")
    assert start_api(home_services(agent_home, AGENT_API__ENABLED="false")) is None
    stop = start_api(services)
    assert stop is not None
    assert services.api is not None
    try:
        info = json.loads(server_file(services).read_text())
        assert stat.S_IMODE(server_file(services).stat().st_mode) == 0o600
        assert info["pid"] == os.getpid()
        assert httpx.get(info["url"] + "/api/health", timeout=30).status_code == 200
        with pytest.raises(ConfigError, match="cannot listen"):
            start_server(services, port=info["port"])
        with pytest.raises(ConfigError, match="loopback"):
            start_server(services, host="0.0.0.0", port=0)
    finally:
        stop()
    assert services.api is None
    assert not server_file(services).exists()
    with pytest.raises(httpx.ConnectError):
        httpx.get(info["url"] + "/api/health", timeout=5)


@pytest.mark.slow  # a second agent process; it warms the router's embedding model in the background
def test_agent_api_cli_serves_alone_and_stops_on_sigterm(agent_home: Path) -> None:
    with subprocess.Popen([sys.executable, "-m", "agent", "api", "--port", "0"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True,
                          env={**os.environ, "AGENT_HOME": str(agent_home)}) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.startswith("API serving on http://127.0.0.1:"), line
            url = line.split()[3]
            token = run_cli("api", "token", env={"AGENT_HOME": str(agent_home)}).stdout.strip()
            ready = httpx.get(url + "/api/ready", headers={"Authorization": f"Bearer {token}"}, timeout=60)
            assert ready.status_code == 200
            assert ready.json()["rules"]["running"] is False
            assert json.loads((agent_home / "data" / "api" / "server.json").read_text())["url"] == url
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
    assert not (agent_home / "data" / "api" / "server.json").exists()
