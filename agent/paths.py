"""Where the agent keeps its state: per-user OS directories, or all under `AGENT_HOME`.

Everything there is private to the user: `Paths.ensure()` sets the process umask to 077 (so every file and
folder the agent, its libraries and its children create is 0600/0700) and repairs an existing install once:
folders 0700, files 0600 (executable files 0700), symlinks left alone. Windows has no such modes; the
per-user profile folders are private there already.
"""

from __future__ import annotations

import logging
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

__all__ = ["APP_NAME", "Paths", "embedded_models_dir", "get_paths", "make_private", "private_umask"]

_LOGGER = logging.getLogger(__name__)

APP_NAME = "ambient-agent"
_REPAIRED = ".private-v1"  # marker: this install was made private once (repair runs again if a root is not)


def private_umask() -> None:
    """From now on this process creates files 0600 and folders 0700 (POSIX only)."""
    if os.name == "posix":
        os.umask(0o077)


def make_private(root: Path) -> int:
    """Take group and other permissions off `root` and everything under it; returns how many were changed."""
    if os.name != "posix" or not root.is_dir() or root.is_symlink():
        return 0
    changed = 0
    for here, dirs, files in os.walk(root):
        for name in [*dirs, *files, None]:
            path = Path(here) if name is None else Path(here, name)
            try:
                st = path.lstat()
            except OSError:
                continue
            if stat.S_ISLNK(st.st_mode) or not st.st_mode & 0o077 or st.st_uid != os.getuid():
                continue
            mode = stat.S_IMODE(st.st_mode) & 0o700
            try:
                os.chmod(path, mode | (0o700 if stat.S_ISDIR(st.st_mode) else 0o600))
                changed += 1
            except OSError as exc:
                _LOGGER.warning("cannot make %s private: %s", path, exc)
    return changed


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

    @property
    def roots(self) -> list[Path]:
        """The agent's own folders: the four, and a parent that is the agent's (AGENT_HOME, .../ambient-agent)."""
        dirs = [self.config, self.data, self.cache, self.logs]
        parents = {d.parent for d in dirs}
        if len(parents) == 1 or any(p.name == APP_NAME for p in parents):
            dirs += [p for p in parents if len(parents) == 1 or p.name == APP_NAME]
        return sorted(set(dirs), key=lambda p: len(p.parts))

    def ensure(self) -> Paths:
        """Create the folders (0700) under umask 077, and make an older install private the first time."""
        private_umask()
        for d in (self.config, self.data, self.cache, self.logs):
            d.mkdir(mode=0o700, parents=True, exist_ok=True)
        if os.name == "posix":
            marker = self.data / _REPAIRED
            if not marker.exists() or any(r.stat().st_mode & 0o077 for r in self.roots if r.is_dir()):
                changed = sum(make_private(r) for r in self.roots)
                if changed:
                    _LOGGER.warning("made %d existing files and folders private to you (mode 0600/0700)", changed)
                marker.touch(mode=0o600)
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
