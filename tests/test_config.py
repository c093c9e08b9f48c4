from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import load_settings
from agent.errors import ConfigError
from agent.paths import Paths
from tests.conftest import run_cli


def _write(paths: Paths, text: str) -> Path:
    paths.config_file.write_text(text, encoding="utf-8")
    return paths.config_file


def test_defaults_without_a_file(paths: Paths) -> None:
    s = load_settings(paths, env={})
    assert s.llm.context_size == 2048
    assert s.executor.timeout_s == 15.0
    assert s.commands == []


def test_yaml_overrides_defaults_and_env_overrides_yaml(paths: Paths) -> None:
    _write(paths, "log_level: DEBUG\nllm:\n  context_size: 4096\n  temperature: 0.5\n")
    s = load_settings(paths, env={})
    assert (s.log_level, s.llm.context_size, s.llm.temperature) == ("DEBUG", 4096, 0.5)
    s = load_settings(paths, env={"AGENT_LLM__CONTEXT_SIZE": "8192", "AGENT_LOG_LEVEL": "ERROR"})
    assert s.llm.context_size == 8192  # env wins over the file
    assert s.llm.temperature == 0.5  # the file still wins over the default
    assert s.log_level == "ERROR"


def test_unknown_top_level_key_names_key_file_and_line(paths: Paths) -> None:
    path = _write(paths, "log_level: INFO\n\nspeek_replies: true\n")
    with pytest.raises(ConfigError) as err:
        load_settings(paths, env={})
    assert "speek_replies" in str(err.value)
    assert err.value.line == 3
    assert err.value.file == str(path)
    assert f"{path}:3" in str(err.value)


def test_unknown_nested_key_names_its_dotted_path_and_line(paths: Paths) -> None:
    _write(paths, "llm:\n  context_size: 1024\n  n_ctxx: 5\n")
    with pytest.raises(ConfigError) as err:
        load_settings(paths, env={})
    assert "llm.n_ctxx" in str(err.value)
    assert err.value.line == 3


def test_invalid_value_is_reported_with_line(paths: Paths) -> None:
    _write(paths, "executor:\n  timeout_s: -1\n")
    with pytest.raises(ConfigError) as err:
        load_settings(paths, env={})
    assert "executor.timeout_s" in str(err.value)
    assert err.value.line == 2


def test_invalid_env_value_names_the_variable(paths: Paths) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(paths, env={"AGENT_LLM__CONTEXT_SIZE": "lots"})
    assert "AGENT_LLM__CONTEXT_SIZE" in str(err.value)


def test_yaml_syntax_error_has_a_line(paths: Paths) -> None:
    _write(paths, "llm:\n  context_size: 10\n bad: [\n")
    with pytest.raises(ConfigError) as err:
        load_settings(paths, env={})
    assert err.value.line is not None


def test_user_commands_are_validated(paths: Paths) -> None:
    _write(paths, "commands:\n  - id: greet\n    argv: [echo, '{who}']\n    args:\n      who: {type: str}\n"
                  "  - id: Bad Id\n    argv: [true]\n")
    with pytest.raises(ConfigError) as err:
        load_settings(paths, env={})
    assert "commands.1.id" in str(err.value)
    assert err.value.line == 6


def test_explicit_config_path_must_exist(paths: Paths, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(paths, env={"AGENT_CONFIG": str(tmp_path / "nope.yaml")})


def test_bytes_that_are_not_utf8_name_file_and_line(paths: Paths) -> None:
    """Issue 15: a config saved as Latin-1 crashed with a traceback; through the real CLI it is one clear line."""
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_bytes(b"log_level: INFO\nllm:\n  model_path: ~/mod\xe8les/x.gguf\n")
    result = run_cli("ask", "what time is it", timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == (f"error: {paths.config_file}:3: byte 0xe8 at column 20 is not UTF-8 text "
                                     "(save the file as UTF-8)")


def test_a_key_given_twice_is_an_error_with_both_lines(paths: Paths) -> None:
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_text("llm:\n  context_size: 2048\n  threads: 2\n  context_size: 4096\n")
    with pytest.raises(ConfigError, match=r"config.yaml:4: key 'llm.context_size' is given twice \(first on line 2\)"):
        load_settings(paths)
    result = run_cli("doctor", timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "key 'llm.context_size' is given twice" in result.stderr
