"""`apps.open`: open an application, a file or folder, or a web address, the way the desktop would.

- Web addresses (with or without a scheme) and existing files and folders ("downloads folder" is the XDG
  download dir) go to the platform opener: `xdg-open` on Linux, `open` on macOS, `os.startfile` on Windows.
- Applications on Linux are found in the desktop entries (XDG_DATA_HOME and XDG_DATA_DIRS `applications/`),
  matched fuzzily on Name, GenericName, Keywords, the desktop id and the program, or by category for
  "the terminal", "the browser" (the default one first), "the file manager"...; the entry's Exec line is
  split into argv (field codes dropped), never handed to a shell. On macOS `open -a NAME`.
- Both go through the executor as in-process actions (`open_uri`, `launch_app`): validated, audited, not
  destructive (no confirmation). They start the program detached instead of waiting for it, because the
  generic `xdg-open` runs the opened program in the foreground and the executor kills a command's whole
  process group on timeout. `agent.safety.spawn` starts them (own session, minimal environment).
- What the desktop opener would *run* asks first: a file with an exec bit, a script (shebang or script
  extension), a `.desktop` entry, an AppImage, an installer or a native binary, and any file just downloaded
  (in the download folder and recent, or marked with its origin by the browser). Those go through the
  destructive action `open_file_confirmed`, bound to the exact file (path, inode, size, mtime), which
  `open_uri` refuses. Addresses other than http(s) and mailto are refused.
"""

from __future__ import annotations

import logging
import os
import platform
import re
import stat
import time
from pathlib import Path
from typing import Any

from pydantic import Field

from agent.events import ResultState, SkillResult
from agent.safety import spawn
from agent.safety.executor import ActionOutput, Executor
from agent.skills.base import Args, Register, Skill, SkillContext
from agent.skills.desktop_entries import (
    DesktopEntry,
    category_for,
    default_browser_ids,
    exec_argv,
    load_entries,
    match_app,
    spoken_name,
)
from agent.userdirs import user_folder

__all__ = ["classify", "open_plan", "register", "register_actions", "risk"]

_LOGGER = logging.getLogger(__name__)

OPEN_URI = "open_uri"
LAUNCH_APP = "launch_app"
OPEN_CONFIRMED = "open_file_confirmed"
_EARLY_EXIT_S = 0.5
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$|^mailto:[^\s@]+@[^\s@]+$", re.I)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:[^\s]", re.I)
_RECENT_DOWNLOAD_S = 7 * 24 * 3600
# what a desktop opener may run rather than show: scripts, launchers, packages and installers, binaries
_RUNNABLE_EXT = frozenset("""desktop appimage sh bash zsh fish csh ksh command tool run bin py pyw pl rb php lua tcl
js mjs jar exe msi msix appx bat cmd com scr ps1 psm1 vbs vbe wsf wsh hta cpl lnk reg deb rpm apk snap flatpak
flatpakref flatpakrepo pkg mpkg dmg app xpi crx""".split())
_MAGIC = (b"#!", b"\x7fELF", b"MZ", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")  # script, ELF, PE, Mach-O
_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,24})(?::\d{1,5})?(?:[/?#]\S*)?$", re.I)
# top-level domains people say; two-letter ones that are also file extensions (.md, .py, .sh, .rs) are left out
_TLDS = frozenset("""com org net edu gov io dev app ai co uk de fr es it nl be ch at se no dk fi pl ru ua jp cn kr in
au nz ca us br mx ar za ie pt gr cz hu ro tr il me tv info biz xyz tech site online blog wiki page gg ly so fm to
cc eu asia cloud news shop store""".split())
_FOLDER_WORDS = {"desktop": "desktop", "download": "downloads", "downloads": "downloads", "documents": "documents",
                 "document": "documents", "docs": "documents", "music": "music", "pictures": "pictures",
                 "photos": "pictures", "videos": "videos", "templates": "templates", "public": "public"}
_XDG_OPEN_CODES = {1: "the address was rejected", 2: "the file does not exist",
                   3: "no application is set up to open it here", 4: "the application that opens it failed"}
_ALWAYS_FOLDER = {"desktop", "downloads", "documents", "pictures", "videos", "home"}


# -- what the target is -------------------------------------------------------------------------------
class AppsOpenArgs(Args):
    target: str = Field(min_length=1, max_length=1000)


def _known_folder(text: str, home: Path) -> Path | None:
    m = re.fullmatch(r"(?:my\s+|the\s+)?([a-z]+)(\s+(?:folder|directory|dir))?", text)
    if not m:
        return None
    word, said_folder = m.group(1), bool(m.group(2))
    if word == "home" and (said_folder or word in _ALWAYS_FOLDER):
        return home
    if word in _FOLDER_WORDS and (said_folder or word in _ALWAYS_FOLDER):
        return user_folder(_FOLDER_WORDS[word])
    return None


def classify(target: str, home: Path | None = None) -> tuple[str, str]:
    """("url" | "path" | "missing" | "app", value): what `target` names. Pure apart from file existence."""
    home = home or Path.home()
    t = target.strip().strip("'\"").rstrip(".")
    low = t.lower()
    if _URL.match(t):
        return "url", t
    if _SCHEME.match(t) and not re.match(r"^[a-z]:[\\/]", t, re.I) and not _DOMAIN.match(low):
        return "refused", t  # file:, ftp:, javascript:, smb:, a desktop's custom schemes...
    folder = _known_folder(low, home)
    if folder is not None:
        return ("path" if folder.exists() else "missing"), str(folder)
    if t.startswith(("/", "~", "./", "../")):
        path = Path(t).expanduser().resolve()
        return ("path" if path.exists() else "missing"), str(path)
    if "/" in t or "." in t:
        path = home / t
        if path.exists():
            return "path", str(path)
    m = _DOMAIN.match(low)
    if m and m.group(1) in _TLDS:
        return "url", "https://" + t
    return "app", t


# -- is it safe to open without asking ---------------------------------------------------------------
def _downloaded(path: Path, st: os.stat_result, now: float) -> bool:
    with_origin = False
    if hasattr(os, "getxattr"):  # browsers mark downloads with where they came from
        try:
            with_origin = bool(os.getxattr(path, "user.xdg.origin.url"))
        except OSError:
            with_origin = False
    downloads = user_folder("downloads").resolve()
    recent = now - max(st.st_mtime, st.st_ctime) < _RECENT_DOWNLOAD_S
    return with_origin or (downloads in path.parents and recent)


def risk(path: Path, *, now: float | None = None) -> str | None:
    """Why opening the existing `path` needs a confirmation (it would run, or was just downloaded), or None."""
    now = time.time() if now is None else now
    try:
        st = path.stat()
    except OSError:
        return None
    if stat.S_ISDIR(st.st_mode):
        return None
    reasons = []
    if st.st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH):
        reasons.append("it is executable")
    suffix = path.name.lower().rsplit(".", 1)[-1] if "." in path.name else ""
    if suffix in _RUNNABLE_EXT:
        reasons.append(f"a .{suffix} file can run a program")
    else:
        try:
            with open(path, "rb") as f:
                head = f.read(4)
        except OSError:
            head = b""
        if head.startswith(_MAGIC):
            reasons.append("it is a script or a program")
    if _downloaded(path, st, now):
        reasons.append("it was just downloaded")
    return " and ".join(reasons) or None


def _fingerprint(path: str) -> str:
    """The exact file a confirmation was given for: a swapped or edited file no longer matches."""
    st = os.stat(path)
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"


# -- how to open it on this platform -----------------------------------------------------------------
def open_plan(system: str) -> dict[str, Any]:
    """How to open things on `system` (platform.system()): a pure function, tested for each platform."""
    if system == "Darwin":
        return {"opener": ["open"], "app": ["open", "-a"], "desktop_entries": False, "startfile": False}
    if system == "Windows":  # ShellExecute, what `start` does, without going through cmd's parser
        return {"opener": [], "app": [], "desktop_entries": False, "startfile": True}
    return {"opener": ["xdg-open"], "app": [], "desktop_entries": True, "startfile": False}


def _spawn(argv: list[str]) -> tuple[bool, str, dict[str, Any]]:
    """Start `argv` detached (own session, no shell, no inherited terminal); report an immediate failure."""
    try:
        started = spawn.start(argv, wait_s=_EARLY_EXIT_S)
    except FileNotFoundError:
        return False, f"{argv[0]} is not installed", {"argv": argv}
    if started.returncode is None:
        return True, f"started {argv[0]} (pid {started.pid})", {"argv": argv, "pid": started.pid}
    data = {"argv": argv, "pid": started.pid, "returncode": started.returncode}
    if started.returncode != 0:
        return False, f"{argv[0]} exited at once with status {started.returncode}", data
    return True, f"ran {argv[0]} (pid {started.pid})", data


def _uri_problem(uri: str) -> str | None:
    if not uri or len(uri) > 4096 or any(c in uri for c in "\x00\n\r") or uri.startswith("-"):
        return "that address is empty, too long or malformed"
    if _URL.match(uri) or (os.path.isabs(uri) and os.path.exists(uri)):
        return None
    return "only web (http, https) and mail addresses or existing absolute paths can be opened"


def _open_uri(args: dict[str, Any]) -> ActionOutput:
    uri = str(args.get("uri", ""))
    problem = _uri_problem(uri)
    if problem:
        return ActionOutput(False, f"refused: {problem}")
    if not _URL.match(uri) and (why := risk(Path(uri))):
        return ActionOutput(False, f"refused: {why}; it opens only after a confirmation")
    return _hand_to_opener(uri)


def _open_confirmed(args: dict[str, Any]) -> ActionOutput:
    """Open a file the user confirmed: only that exact file, unchanged since the question."""
    uri = str(args.get("uri", ""))
    if not os.path.isabs(uri) or _uri_problem(uri):
        return ActionOutput(False, "refused: not an existing absolute path")
    if _fingerprint(uri) != args.get("fingerprint"):
        return ActionOutput(False, "refused: the file changed since you confirmed; ask again")
    return _hand_to_opener(uri)


def _hand_to_opener(uri: str) -> ActionOutput:
    plan = open_plan(platform.system())
    if plan["startfile"]:
        spawn.start_file(uri)
        return ActionOutput(True, f"opened {uri}", {"uri": uri})
    ok, message, data = _spawn([*plan["opener"], uri])
    code = data.get("returncode")
    if not ok and plan["opener"] == ["xdg-open"] and code in _XDG_OPEN_CODES:
        message = f"{_XDG_OPEN_CODES[code]} (xdg-open status {code})"
    return ActionOutput(ok, message, {"uri": uri, **data})


def _entry(desktop_id: str) -> DesktopEntry | None:
    return next((e for e in load_entries() if e.id == desktop_id), None)


def _terminal_prefix() -> list[str] | None:
    terminals = [e for e in load_entries() if "TerminalEmulator" in e.categories and not e.terminal]
    return [*exec_argv(terminals[0]), "-e"] if terminals else None


def _launch_app(args: dict[str, Any]) -> ActionOutput:
    app = str(args.get("app", ""))
    plan = open_plan(platform.system())
    if not plan["desktop_entries"]:
        if plan["startfile"]:
            spawn.start_file(app)
            return ActionOutput(True, f"started {app}", {"app": app})
        ok, message, data = _spawn([*plan["app"], app])
        return ActionOutput(ok, message, {"app": app, **data})
    entry = _entry(app)  # the argv comes from the installed entry, never from the caller
    if entry is None:
        return ActionOutput(False, f"no desktop entry {app!r}")
    argv = exec_argv(entry)
    if not argv:
        return ActionOutput(False, f"{entry.name} has no command to run")
    if entry.terminal:
        prefix = _terminal_prefix()
        if prefix is None:
            return ActionOutput(False, f"{entry.name} runs in a terminal, and I found no terminal emulator")
        argv = [*prefix, *argv]
    ok, message, data = _spawn(argv)
    return ActionOutput(ok, message, {"app": app, "name": entry.name, **data})


def register_actions(executor: Executor) -> None:
    executor.register_action(OPEN_URI, _open_uri, destructive=False,
                             describe=lambda a: f"open {a.get('uri')}")
    executor.register_action(LAUNCH_APP, _launch_app, destructive=False,
                             describe=lambda a: f"launch {a.get('app')}")
    executor.register_action(OPEN_CONFIRMED, _open_confirmed, destructive=True,
                             describe=lambda a: f"open {a.get('uri')} ({a.get('why')})")


# -- the skill ----------------------------------------------------------------------------------------
def _reply(result_state: ResultState, shown: str, message: str, data: dict[str, Any]) -> SkillResult:
    if result_state is ResultState.OK:
        return SkillResult.ok(f"Opening {shown}.", **data)
    return SkillResult(result_state, f"I couldn't open {shown}: {message}.", data)


def _open_app(name: str, ctx: SkillContext) -> SkillResult:
    if not open_plan(platform.system())["desktop_entries"]:
        result = ctx.executor.run(LAUNCH_APP, {"app": name})
        return _reply(result.state, name, result.message, {"kind": "app", **result.data})
    entries = load_entries()
    match = match_app(name, entries, default_browser_ids())
    data: dict[str, Any] = {"kind": "app", "target": name, "closest": match.closest, "entries": len(entries)}
    if match.entry is None:
        closest = ", ".join(match.closest) or "none at all"
        category = category_for(name)
        if category is not None:
            data["category"] = category
            return SkillResult.error(f"I found no {spoken_name(name)} application installed (category {category}). "
                                     f"Closest names: {closest}.", **data)
        return SkillResult.error(f"I found no application called {name}. Closest: {closest}.", **data)
    data.update(desktop_id=match.entry.id, name=match.entry.name, score=round(match.score, 2), why=match.why)
    result = ctx.executor.run(LAUNCH_APP, {"app": match.entry.id})
    data.update(result.data)
    return _reply(result.state, match.entry.name, result.message, data)


def _open(args: AppsOpenArgs, ctx: SkillContext) -> SkillResult:
    kind, value = classify(args.target)
    if kind == "missing":
        return SkillResult.error(f"{value} doesn't exist.", kind=kind, target=args.target, path=value)
    if kind == "refused":
        return SkillResult.refused(f"I only open web (http, https) and mail addresses, not {value.split(':')[0]}: "
                                   "addresses.", kind=kind, target=args.target)
    if kind == "app":
        return _open_app(value, ctx)
    shown = value.removeprefix("https://") if kind == "url" else value.replace(str(Path.home()), "~", 1)
    why = risk(Path(value)) if kind == "path" else None
    if why:
        result = ctx.executor.run(OPEN_CONFIRMED, {"uri": value, "why": why, "fingerprint": _fingerprint(value)},
                                  yes=ctx.yes, confirmation=ctx.confirmation,
                                  intent={"skill": "apps.open", "args": args.model_dump()})
        if result.state is ResultState.NEEDS_CONFIRMATION:
            return SkillResult(ResultState.NEEDS_CONFIRMATION, f"{shown} could run a program: {why}. Open it anyway?",
                               {"kind": kind, "target": args.target, "uri": value, "why": why},
                               confirmation=result.confirmation)
    else:
        result = ctx.executor.run(OPEN_URI, {"uri": value})
    return _reply(result.state, shown, result.message,
                  {"kind": kind, "target": args.target, "uri": value, **result.data})


# -- arguments from the words (the router's rule extractor for these skills) --------------------
def _extract_open(t: str) -> dict[str, Any]:
    m = re.search(r"\b(?:open|launch|start|run|bring up|fire up|go to|show me|load)\s+(?:up\s+)?(?:the\s+|my\s+)?"
                  r"(.+?)(?:\s+(?:app|application|program|please|for me))?$", t)
    if m:
        return {"target": m.group(1).strip()}
    return {}


def register(reg: Register) -> None:
    reg(Skill("apps.open", "open an application, file or web address",
              args=AppsOpenArgs, changes_system=True, run=_open, extract=_extract_open, actions=register_actions))
