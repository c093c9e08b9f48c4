"""Where the agent keeps its state: per-user OS directories, or all under `AGENT_HOME`."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

__all__ = ["APP_NAME", "Paths", "embedded_models_dir", "get_paths"]

APP_NAME = "ambient-agent"


@dataclass(frozen=True)
class Paths:
    """The four state directories. Nothing is ever written outside them."""

    config: Path
    data: Path
    cache: Path
    logs: Path

    @property
    def config_file(self) -> Path:
        return self.config / "config.yaml"

    @property
    def audit_log(self) -> Path:
        return self.data / "audit.jsonl"

    def ensure(self) -> Paths:
        for d in (self.config, self.data, self.cache, self.logs):
            d.mkdir(parents=True, exist_ok=True)
        return self


def get_paths(env: dict[str, str] | None = None) -> Paths:
    """OS directories, or `AGENT_HOME/{config,data,cache,logs}` when that variable is set."""
    env = dict(os.environ) if env is None else env
    home = env.get("AGENT_HOME")
    if home:
        root = Path(home).expanduser().resolve()
        return Paths(root / "config", root / "data", root / "cache", root / "logs")
    return Paths(
        Path(platformdirs.user_config_dir(APP_NAME)),
        Path(platformdirs.user_data_dir(APP_NAME)),
        Path(platformdirs.user_cache_dir(APP_NAME)),
        Path(platformdirs.user_log_dir(APP_NAME)),
    )


def embedded_models_dir() -> Path:
    """Where `make run`/`make test` put the embedded models (inside the virtual environment)."""
    return Path(sys.prefix) / "share" / APP_NAME / "models"
