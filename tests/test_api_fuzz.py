"""Property-based fuzzing over the API's own OpenAPI schema: the schemathesis command line (examples, coverage and
fuzzing phases, valid and invalid inputs, hypothesis underneath) against a real server on a free loopback port,
with the token. No response may be a 5xx, and every response must match the schema documented for its status.

(schemathesis's pytest plugin does not run under pytest 9 yet, so its command line drives the run.)
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.api import ApiServer, load_token, start_server
from tests.test_api import home_services

MAX_EXAMPLES = 25  # per operation and phase


@pytest.fixture
def fuzz_server(tmp_path: Path) -> Iterator[tuple[ApiServer, str]]:
    # short answers, a small context (long generated prompts are refused at once instead of evaluated), and no
    # history (the chat skill would feed every earlier generated turn back to the model)
    services = home_services(tmp_path / "home", AGENT_LLM__MAX_TOKENS="8", AGENT_LLM__CONTEXT_SIZE="512",
                             AGENT_HISTORY__ENABLED="false")
    server = start_server(services, port=0, warm=True)
    assert server.warming is not None
    server.warming.join()  # the router is resident before the first case
    try:
        yield server, load_token(services.paths)
    finally:
        server.stop()


@pytest.mark.slow  # several hundred requests, some of them through the language model
def test_no_server_error_and_every_response_matches_the_schema(fuzz_server: tuple[ApiServer, str],
                                                                tmp_path: Path) -> None:
    server, token = fuzz_server
    st = Path(sys.executable).with_name("st")
    result = subprocess.run(
        [str(st), "run", f"{server.url}/api/openapi.json", "--header", f"Authorization: Bearer {token}",
         "--checks", "not_a_server_error,response_schema_conformance", "--max-examples", str(MAX_EXAMPLES),
         "--request-timeout", "120", "--no-color", "--warnings", "off"],
        capture_output=True, text=True, cwd=tmp_path, timeout=900, check=False)  # cwd: its .hypothesis folder
    summary = result.stdout[-3000:]
    assert result.returncode == 0, summary
    operations = re.search(r"Tested: (\d+)", result.stdout)
    cases = re.search(r"(\d+) generated, (\d+) passed", result.stdout)
    assert operations is not None, summary
    assert int(operations.group(1)) == 17, summary  # every documented operation (16 + GET /api/files/index)
    assert cases is not None, summary
    assert int(cases.group(1)) == int(cases.group(2)) > 200, summary
