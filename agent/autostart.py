"""Start the agent at login: `agent autostart enable|disable|status`.

    Linux (and other XDG desktops)  $XDG_CONFIG_HOME/autostart/ambient-agent.desktop
    macOS                           ~/Library/LaunchAgents/<label>.plist (RunAtLoad)
    Windows                         HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run, value "ambient-agent"

`autostart_plan` chooses where and what from the platform name and the environment (a pure function, tested
for all three). Enabling and disabling are in-process executor actions (`autostart_enable`,
`autostart_disable`): allow-listed and audited like every other change the agent makes.
"""

from __future__ import annotations

import argparse
import json
import logging
import plistlib
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath
from typing import TYPE_CHECKING, Any

from agent.safety.executor import ActionOutput

if TYPE_CHECKING:
    from agent.safety.executor import Executor

__all__ = ["AutostartPlan", "add_parsers", "autostart_plan", "current_plan", "disable", "enable", "register_actions",
           "shell_line", "status"]

_LOGGER = logging.getLogger(__name__)

APP_ID = "ambient-agent"
LABEL = "io.github.ambient-agent"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"


@dataclass(frozen=True)
class AutostartPlan:
    """Where the login entry goes and what it holds. `kind`: desktop-file, launch-agent or registry."""

    kind: str
    location: str  # a file path, or the registry key
    content: str  # the file's text, or the registry value (a command line)
    value_name: str = ""  # registry only


def _desktop_exec(argv: list[str]) -> str:
    """The Exec line of a desktop entry: each argument quoted as the spec asks."""

    def quote(arg: str) -> str:
        if not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`%'):
            return arg
        escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`").replace("$", "\\$")
        return f'"{escaped.replace("%", "%%")}"'

    return " ".join(quote(a) for a in argv)


def autostart_plan(system: str, env: dict[str, str], home: Path, argv: list[str]) -> AutostartPlan:
    """The login entry for `system` (as `platform.system()` names it) that runs `argv` (e.g. python -m agent
    run), with the agent's own `AGENT_HOME` kept when one is set."""
    agent_home = env.get("AGENT_HOME")
    if system == "Darwin":
        plist: dict[str, Any] = {"Label": LABEL, "ProgramArguments": argv, "RunAtLoad": True,
                                 "ProcessType": "Interactive", "KeepAlive": False}
        if agent_home:
            plist["EnvironmentVariables"] = {"AGENT_HOME": agent_home}
        text = plistlib.dumps(plist).decode()
        return AutostartPlan("launch-agent", str(home / "Library" / "LaunchAgents" / f"{LABEL}.plist"), text)
    if system == "Windows":
        exe = PureWindowsPath(argv[0])
        if exe.name.lower() == "python.exe":  # pythonw: no console window at login
            argv = [str(exe.with_name("pythonw.exe")), *argv[1:]]
        command = " ".join(f'"{a}"' if " " in a else a for a in argv)  # AGENT_HOME: set it as a user variable
        return AutostartPlan("registry", "HKCU\\" + RUN_KEY, command, value_name=APP_ID)
    config = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    exec_line = _desktop_exec(["env", f"AGENT_HOME={agent_home}", *argv] if agent_home else argv)
    text = "\n".join([
        "[Desktop Entry]", "Type=Application", "Name=Ambient agent",
        "Comment=Local desktop assistant: tray icon, hotkey prompt, voice and rules",
        f"Exec={exec_line}", "Terminal=false", "X-GNOME-Autostart-enabled=true", f"X-Ambient-Agent={APP_ID}", ""])
    return AutostartPlan("desktop-file", str(config / "autostart" / f"{APP_ID}.desktop"), text)


def current_plan() -> AutostartPlan:
    import os
    import platform

    return autostart_plan(platform.system(), dict(os.environ), Path.home(), [sys.executable, "-m", "agent", "run"])


def status(plan: AutostartPlan | None = None) -> dict[str, Any]:
    plan = plan or current_plan()
    if plan.kind == "registry":
        current = _read_registry(plan)
        return {"enabled": current is not None, "kind": plan.kind, "location": plan.location,
                "current": current, "up_to_date": current == plan.content}
    path = Path(plan.location)
    current = path.read_text(encoding="utf-8") if path.is_file() else None
    return {"enabled": current is not None, "kind": plan.kind, "location": plan.location,
            "up_to_date": current == plan.content}


def enable(plan: AutostartPlan | None = None) -> AutostartPlan:
    plan = plan or current_plan()
    if plan.kind == "registry":
        _write_registry(plan)
    else:
        path = Path(plan.location)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(plan.content, encoding="utf-8")
        tmp.replace(path)
    _LOGGER.info("autostart enabled: %s", plan.location)
    return plan


def disable(plan: AutostartPlan | None = None) -> bool:
    """Remove the login entry; False when there was none."""
    plan = plan or current_plan()
    if plan.kind == "registry":
        return _delete_registry(plan)
    path = Path(plan.location)
    if not path.exists():
        return False
    path.unlink()
    _LOGGER.info("autostart disabled: %s", plan.location)
    return True


# -- Windows registry (winreg exists only there) ---------------------------------------------------------------
def _winreg() -> Any:
    import importlib

    return importlib.import_module("winreg")


def _read_registry(plan: AutostartPlan) -> str | None:
    winreg = _winreg()
    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
            return str(winreg.QueryValueEx(key, plan.value_name)[0])
    except OSError:
        return None


def _write_registry(plan: AutostartPlan) -> None:
    winreg = _winreg()
    with winreg.CreateKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
        winreg.SetValueEx(key, plan.value_name, 0, winreg.REG_SZ, plan.content)


def _delete_registry(plan: AutostartPlan) -> bool:
    winreg = _winreg()
    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
            winreg.DeleteValue(key, plan.value_name)
    except OSError:
        return False
    return True


# -- executor actions ----------------------------------------------------------------------------------------
def _enable_action(args: dict[str, Any]) -> ActionOutput:
    plan = enable()
    return ActionOutput(True, f"the agent starts at login ({plan.location})", {"location": plan.location,
                                                                             "kind": plan.kind})


def _disable_action(args: dict[str, Any]) -> ActionOutput:
    plan = current_plan()
    removed = disable(plan)
    message = "the agent no longer starts at login" if removed else "autostart was not enabled"
    return ActionOutput(True, message, {"location": plan.location, "removed": removed})


def register_actions(executor: Executor) -> None:
    executor.register_action("autostart_enable", _enable_action, destructive=False,
                             describe=lambda a: "start the agent at login")
    executor.register_action("autostart_disable", _disable_action, destructive=False,
                             describe=lambda a: "stop starting the agent at login")


def shell_line(plan: AutostartPlan) -> str:
    """A readable one-line form of what runs at login, for `agent autostart status`."""
    if plan.kind == "desktop-file":
        for line in plan.content.splitlines():
            if line.startswith("Exec="):
                return line[5:]
    if plan.kind == "launch-agent":
        return shlex.join(plistlib.loads(plan.content.encode())["ProgramArguments"])
    return plan.content


# -- `agent autostart enable|disable|status` ------------------------------------------------------------------
def add_parsers(sub: Any, services: Callable[[], Any]) -> None:
    """Wire `agent autostart` into the CLI (agent/cli.py); `services` builds the resident objects."""
    p = sub.add_parser("autostart", help="start the agent at login: enable, disable, or show the status")
    p.add_argument("action", nargs="?", choices=["enable", "disable", "status"], default="status")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=lambda ns: _cmd(ns, services))


def _cmd(ns: argparse.Namespace, services: Callable[[], Any]) -> int:
    if ns.action == "status":
        plan = current_plan()
        info = {**status(plan), "runs": shell_line(plan)}
        _say(json.dumps(info) if ns.json else
             f"autostart: {'on' if info['enabled'] else 'off'} ({info['location']})"
             + ("" if not info["enabled"] or info["up_to_date"] else " - out of date: run `agent autostart enable`"))
        return 0
    result = services().executor.run(f"autostart_{ns.action}", {})
    _say(json.dumps({"ok": result.ok, "message": result.message, **result.data}) if ns.json else result.message)
    return 0 if result.ok else 1


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
