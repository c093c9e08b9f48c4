"""Logging: a rotating file in the logs dir plus a concise console log on stderr.

The log records skills, states, timings and ids, never what the user said or the argument values: code that
wants to mention user text logs it at DEBUG through `said(text)`, which gives only its length unless the
`log_text` option is on (and then the log says so at the top, in plain words). The log file is private (0600).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys

from agent.paths import Paths

__all__ = ["log_text_enabled", "said", "setup_logging"]

_LOGGER = logging.getLogger(__name__)
_STATE = {"log_text": False}


def said(text: object) -> str:
    """How user text appears in the log: as written only when `log_text` is on, else just its length."""
    value = str(text)
    return value if _STATE["log_text"] else f"<{len(value)} chars>"


def log_text_enabled() -> bool:
    return _STATE["log_text"]


def setup_logging(paths: Paths, level: str = "INFO", console_level: str = "WARNING", *,
                  log_text: bool = False) -> None:
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_agent", False):
            root.removeHandler(h)
            h.close()
    paths.logs.mkdir(mode=0o700, parents=True, exist_ok=True)
    log_file = paths.logs / "agent.log"
    file_handler = logging.handlers.RotatingFileHandler(log_file, maxBytes=2_000_000, backupCount=5,
                                                        encoding="utf-8")
    if os.name == "posix":
        os.chmod(log_file, 0o600)
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
    _STATE["log_text"] = log_text
    if log_text:
        _LOGGER.warning("log_text is ON: everything said or typed to the agent, and the argument values, are "
                        "written to %s in plain text at DEBUG level. Turn it off (log_text: false) when done.",
                        log_file)
