"""Issue 15: a command that loaded the language model exits without "Exception ignored in Llama.__del__"."""

from __future__ import annotations

import pytest

from tests.conftest import run_cli


@pytest.mark.slow  # loads the embedded llama.cpp model
@pytest.mark.parametrize("argv", [("ask", "tell me a joke about cats"),
                                  ("models", "load", "smollm2-135m-instruct")])
def test_no_traceback_at_exit_after_the_model_loaded(argv: tuple[str, ...]) -> None:
    result = run_cli(*argv, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    assert "Exception ignored" not in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
