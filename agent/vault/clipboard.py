"""The clipboard, for secrets: copy with the text on stdin (never in argv), read it back, clear it later.

Tools: wl-copy/wl-paste on Wayland, xclip or xsel on X11. No display or no tool is a
`ClipboardUnavailableError` ("no clipboard available: ..."); the secret is then not shown instead.

Clearing: after copying, a detached helper (`python -m agent.vault.clear_clipboard`, given only the SHA-256 of
the secret, on stdin) waits, then clears the clipboard only if it still holds that secret, so a one-shot
`agent ask` that exits at once still gets its clipboard cleared, and anything the user copied since is left alone.
The tools and the helper are started by `agent.safety.spawn` (argv lists, minimal environment).

Executor actions (in-process, allow-listed by `register_actions`):
- `clipboard.copy_secret` {secret, clear_after_s}: `secret` is masked in the audit log;
- `clipboard.read_secret` {}: the text comes back in the result's data only (never audited or logged).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.safety import spawn
from agent.vault.errors import ClipboardUnavailableError

if TYPE_CHECKING:
    from agent.safety.executor import Executor

__all__ = [
    "ClipboardTool",
    "clear",
    "clear_if_unchanged",
    "copy",
    "detect_tool",
    "digest",
    "paste",
    "register_actions",
    "schedule_clear",
    "tool_named",
    "wait_for",
]

_LOGGER = logging.getLogger(__name__)
_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class ClipboardTool:
    """How to copy (text on stdin), paste (text on stdout) and clear (empty stdin) with one program."""

    name: str
    copy: tuple[str, ...]
    paste: tuple[str, ...]
    clear: tuple[str, ...]


_WAYLAND = ClipboardTool("wl-clipboard", ("wl-copy",), ("wl-paste", "--no-newline"), ("wl-copy", "--clear"))
_X11 = (
    ClipboardTool("xclip", ("xclip", "-selection", "clipboard", "-in"), ("xclip", "-selection", "clipboard", "-out"),
                  ("xclip", "-selection", "clipboard", "-in")),
    ClipboardTool("xsel", ("xsel", "--clipboard", "--input"), ("xsel", "--clipboard", "--output"),
                  ("xsel", "--clipboard", "--clear")),
)


def tool_named(name: str) -> ClipboardTool:
    """The clipboard tool called `name` ("xclip", "xsel", "wl-clipboard")."""
    for tool in (_WAYLAND, *_X11):
        if tool.name == name:
            return tool
    raise ClipboardUnavailableError(f"no clipboard available: no clipboard tool called {name!r}")


def detect_tool(env: Mapping[str, str] | None = None,
                which: Callable[[str], str | None] = shutil.which) -> ClipboardTool:
    """The clipboard tool for this session, or `ClipboardUnavailableError` saying why there is none."""
    env = os.environ if env is None else env
    if env.get("WAYLAND_DISPLAY"):
        if which("wl-copy") and which("wl-paste"):
            return _WAYLAND
        if not env.get("DISPLAY"):
            raise ClipboardUnavailableError("no clipboard available: install wl-clipboard")
    if env.get("DISPLAY"):
        for tool in _X11:
            if which(tool.copy[0]):
                return tool
        raise ClipboardUnavailableError("no clipboard available: install xclip or xsel")
    raise ClipboardUnavailableError("no clipboard available: there is no display (DISPLAY and WAYLAND_DISPLAY "
                                    "are not set)")


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _run(argv: Sequence[str], data: bytes) -> None:
    """Run a copy/clear program with `data` on its stdin."""
    try:
        done = spawn.run(argv, timeout_s=_TIMEOUT_S, stdin=data)
    except FileNotFoundError:
        raise ClipboardUnavailableError(f"no clipboard available: {argv[0]} is not installed") from None
    if done.timed_out or done.returncode != 0:
        detail = "timed out" if done.timed_out else done.stderr[:500].decode("utf-8", "replace").strip()
        raise ClipboardUnavailableError(f"no clipboard available: {argv[0]} failed ({detail or done.returncode})")


def copy(text: str, tool: ClipboardTool) -> None:
    _run(tool.copy, text.encode("utf-8"))


def wait_for(text: str, tool: ClipboardTool, timeout_s: float = 2.0) -> bool:
    """Wait until the clipboard reads back `text`: xclip and wl-copy take the selection from a background
    process, a moment after the command returns."""
    deadline = time.monotonic() + timeout_s
    while True:
        if paste(tool) == text:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.03)


def clear(tool: ClipboardTool) -> None:
    _run(tool.clear, b"")


def paste(tool: ClipboardTool) -> str | None:
    """The clipboard text, or None when the clipboard is empty or cannot be read."""
    try:
        done = spawn.run(tool.paste, timeout_s=_TIMEOUT_S)
    except FileNotFoundError:
        return None
    return done.stdout.decode("utf-8", "replace") if done.returncode == 0 and not done.timed_out else None


def clear_if_unchanged(secret_digest: str, tool: ClipboardTool) -> bool:
    """Clear the clipboard if it still holds the text whose SHA-256 is `secret_digest`."""
    current = paste(tool)
    if current is None or digest(current) != secret_digest:
        return False
    clear(tool)
    return True


def schedule_clear(secret: str, after_s: float, tool: ClipboardTool) -> None:
    """Start the detached helper that clears the clipboard after `after_s` if it still holds `secret`."""
    helper = spawn.agent_module("agent.vault.clear_clipboard", f"{after_s:g}", tool.name)
    spawn.start(helper.argv, stdin=(digest(secret) + "\n").encode("ascii"), env=helper.env, cwd=helper.cwd)


# -- executor actions ---------------------------------------------------------------------------------
def _copy_action(args: dict[str, Any]) -> Any:
    from agent.safety.executor import ActionOutput

    secret = str(args.get("secret") or "")
    after = float(args.get("clear_after_s") or 0)
    if not secret:
        return ActionOutput(False, "nothing to copy", {"reason": "empty"})
    try:
        tool = detect_tool()
        copy(secret, tool)
        if not wait_for(secret, tool):
            return ActionOutput(False, "the clipboard did not take the text", {"reason": "not_kept"})
        if after > 0:
            schedule_clear(secret, after, tool)
    except ClipboardUnavailableError as exc:
        return ActionOutput(False, str(exc), {"reason": "no_clipboard"})
    message = f"copied a secret to the clipboard with {tool.name}" + (f"; clears in {after:g} s" if after else "")
    return ActionOutput(True, message, {"tool": tool.name, "clear_after_s": after})


def _read_action(args: dict[str, Any]) -> Any:
    from agent.safety.executor import ActionOutput

    try:
        tool = detect_tool()
    except ClipboardUnavailableError as exc:
        return ActionOutput(False, str(exc), {"reason": "no_clipboard"})
    text = paste(tool)
    return ActionOutput(True, f"read the clipboard with {tool.name}", {"text": text or "", "tool": tool.name})


def register_actions(executor: Executor) -> None:
    executor.register_action(
        "clipboard.copy_secret", _copy_action, destructive=False,
        describe=lambda a: f"copy a secret to the clipboard (clears in {float(a.get('clear_after_s') or 0):g} s)",
        secret_args=frozenset({"secret"}),
    )
    executor.register_action("clipboard.read_secret", _read_action, destructive=False,
                             describe=lambda a: "read the clipboard")
