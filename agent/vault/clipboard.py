"""The clipboard, for secrets: copy with the text on stdin (never in argv), read it back, clear it later.

Tools: wl-copy/wl-paste on Wayland, xclip or xsel on X11. No display or no tool is a
`ClipboardUnavailableError` ("no clipboard available: ..."); the secret is then not shown instead.

Clearing: after copying, a small detached helper (stdlib-only Python, given only the SHA-256 of the secret,
on stdin) waits, then clears the clipboard only if it still holds that secret, so a one-shot `agent ask`
that exits at once still gets its clipboard cleared, and anything the user copied since is left alone.

Executor actions (in-process, allow-listed by `register_actions`):
- `clipboard.copy_secret` {secret, clear_after_s}: `secret` is masked in the audit log;
- `clipboard.read_secret` {}: the text comes back in the result's data only (never audited or logged).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.safety.childenv import child_env
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
    """Run a copy/clear program. Its output goes to files, not pipes: xclip and wl-copy stay in the background
    to serve the selection, and a pipe they inherit would never reach end-of-file."""
    program = shutil.which(argv[0])
    if program is None:
        raise ClipboardUnavailableError(f"no clipboard available: {argv[0]} is not installed")
    with tempfile.TemporaryFile() as err:
        proc = subprocess.run(  # noqa: S603 - fixed argv, the text goes on stdin
            [program, *argv[1:]], input=data, stdout=subprocess.DEVNULL, stderr=err,
            timeout=_TIMEOUT_S, check=False, start_new_session=True, env=child_env(),
        )
        if proc.returncode != 0:
            err.seek(0)
            detail = err.read(500).decode("utf-8", "replace").strip()
            raise ClipboardUnavailableError(f"no clipboard available: {argv[0]} failed ({detail or proc.returncode})")


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
    program = shutil.which(tool.paste[0])
    if program is None:
        return None
    try:
        proc = subprocess.run(  # noqa: S603 - fixed argv
            [program, *tool.paste[1:]], stdin=subprocess.DEVNULL, capture_output=True, timeout=_TIMEOUT_S,
            check=False, env=child_env(),
        )
    except subprocess.TimeoutExpired:
        return None
    return proc.stdout.decode("utf-8", "replace") if proc.returncode == 0 else None


def clear_if_unchanged(secret_digest: str, tool: ClipboardTool) -> bool:
    """Clear the clipboard if it still holds the text whose SHA-256 is `secret_digest`."""
    current = paste(tool)
    if current is None or digest(current) != secret_digest:
        return False
    clear(tool)
    return True


# The clearing helper: stdlib only (it starts in ~20 ms, no agent imports), run as `python -I -S -c`.
# argv: seconds, paste argv (JSON), clear argv (JSON); stdin: the SHA-256 of the secret.
_HELPER = """
import hashlib, json, os, subprocess, sys, time
after, paste, clear = float(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])
digest = sys.stdin.readline().strip()
if os.fork():
    os._exit(0)
os.setsid()
time.sleep(after)
try:
    out = subprocess.run(paste, stdin=subprocess.DEVNULL, capture_output=True, timeout=5)
    if out.returncode == 0 and hashlib.sha256(out.stdout).hexdigest() == digest:
        subprocess.run(clear, input=b"", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=5)
finally:
    os._exit(0)
"""


def schedule_clear(secret: str, after_s: float, tool: ClipboardTool) -> None:
    """Start the detached helper that clears the clipboard after `after_s` if it still holds `secret`."""
    def resolve(argv: tuple[str, ...]) -> str:
        program = shutil.which(argv[0])
        if program is None:
            raise ClipboardUnavailableError(f"no clipboard available: {argv[0]} is not installed")
        return json.dumps([program, *argv[1:]])

    proc = subprocess.Popen(  # noqa: S603 - fixed code and argv, the digest goes on stdin
        [sys.executable, "-I", "-S", "-c", _HELPER, f"{after_s:g}", resolve(tool.paste), resolve(tool.clear)],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        env=child_env(),
    )
    assert proc.stdin is not None
    proc.stdin.write((digest(secret) + "\n").encode("ascii"))
    proc.stdin.close()
    proc.wait(timeout=_TIMEOUT_S)  # the helper forks and its first process exits at once


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
