"""`llm.server_url`: the agent on a real OpenAI-compatible server (llama-cpp-python's, serving the embedded
SmolLM2 GGUF on a free loopback port)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

from agent.config import load_settings
from agent.events import ResultState
from agent.models.catalog import embedded_llms
from agent.models.llm import ServerLLM
from agent.pipeline import Pipeline
from agent.services import build_services


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    model = embedded_llms()["smollm2-135m-instruct"]
    assert model is not None
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1", "--port", str(port),
         "--n_ctx", "2048", "--verbose", "False"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            try:
                with urllib.request.urlopen(url + "/v1/models", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                raise AssertionError(f"llama.cpp server did not start: {err[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stderr:
            proc.stderr.close()


@pytest.mark.slow
def test_completion_under_a_schema_and_chat(server_url: str) -> None:
    llm = ServerLLM(server_url, load_settings().llm)
    schema = {"type": "object", "properties": {"skill": {"type": "string", "enum": ["time.now", "chat"]}},
              "required": ["skill"]}
    out = json.loads(llm.complete("Request: what time is it\nJSON:", schema=schema, max_tokens=20))
    assert out["skill"] in ("time.now", "chat")
    assert llm.chat([{"role": "user", "content": "Say hello."}], max_tokens=20)


@pytest.mark.slow
def test_agent_configured_with_a_server(server_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_LLM__SERVER_URL", server_url)
    services = build_services(settings=load_settings())
    assert isinstance(services.models.get(), ServerLLM)
    pipeline = Pipeline(services)
    assert pipeline.handle("set a timer for two minutes").intent.args["seconds"] == 120
    chat = pipeline.handle("say something nice about mornings")
    assert chat.intent.skill == "chat"
    assert chat.result.state is ResultState.OK
    assert chat.result.reply


def test_a_server_that_is_down_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_LLM__SERVER_URL", f"http://127.0.0.1:{_free_port()}")
    services = build_services(settings=load_settings())
    services.settings.router.use_llm = False
    outcome = Pipeline(services).handle("who discovered penicillin")
    assert outcome.intent.skill == "chat"
    assert outcome.result.state is ResultState.ERROR
    assert "server" in outcome.result.reply.lower()
