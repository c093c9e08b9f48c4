"""The environment a child process gets: what a program needs to run on the desktop, nothing else.

Every program the agent starts (allow-listed commands, opened files and applications, the clipboard tools)
gets `child_env()`: the display and session bus, locale, PATH, HOME, the user and shell, XDG dirs, the
temporary dir and time zone (plus the few variables Windows programs need). Never the agent's own settings
(`AGENT_*`), tokens, keyring passphrases (`KEYRING_CRYPTFILE_PASSWORD`) or anything else in the agent's
environment; even a kept name is dropped when it looks like a secret.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

__all__ = ["KEPT", "child_env"]

KEPT = frozenset({
    "DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY", "DBUS_SESSION_BUS_ADDRESS", "DESKTOP_SESSION",
    "LANG", "LANGUAGE", "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "TZ", "TMPDIR",
    "PULSE_SERVER", "PULSE_RUNTIME_PATH", "PIPEWIRE_RUNTIME_DIR",
    # Windows: what programs and ShellExecute need to start at all
    "SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "COMSPEC", "PATHEXT", "USERPROFILE", "USERNAME", "APPDATA",
    "LOCALAPPDATA", "PROGRAMDATA", "PROGRAMFILES", "TEMP", "TMP",
})
_PREFIXES = ("XDG_", "LC_")
_SECRET = re.compile(r"TOKEN|SECRET|PASS|KEY|CREDENTIAL|COOKIE|AUTH(?!ORITY)", re.I)


def _kept(name: str) -> bool:
    upper = name.upper()
    return (upper in KEPT or upper.startswith(_PREFIXES)) and not _SECRET.search(upper)


def child_env(extra: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """A minimal environment for a child process, from `environ` (default: this process's) plus `extra`."""
    source = os.environ if environ is None else environ
    env = {k: v for k, v in source.items() if _kept(k)}
    env.update(extra or {})
    return env
