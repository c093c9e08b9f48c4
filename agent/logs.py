"""Logging: a rotating file in the logs dir plus a concise console log on stderr."""

from __future__ import annotations

import logging
import logging.handlers
import sys

from agent.paths import Paths

__all__ = ["setup_logging"]


def setup_logging(paths: Paths, level: str = "INFO", console_level: str = "WARNING") -> None:
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_agent", False):
            root.removeHandler(h)
            h.close()
    paths.logs.mkdir(parents=True, exist_ok=True)
    file_handler = logging.handlers.RotatingFileHandler(
        paths.logs / "agent.log", maxBytes=2_000_000, backupCount=5, encoding="utf-8"
    )
    file_handler.setLevel(level)
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s"))
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(console_level)
    console.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    handlers: list[logging.Handler] = [file_handler, console]
    for h in handlers:
        setattr(h, "_agent", True)  # noqa: B010 - marks our handlers so a second setup replaces them
        root.addHandler(h)
    root.setLevel(min(logging.getLevelName(level), logging.getLevelName(console_level)))
