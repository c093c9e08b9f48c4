"""`command.fix`: suggest the command the user meant to type. It never runs anything.

The program name is matched against the executables on PATH (scanned once, rescanned when a PATH
directory changes), shell builtins and a list of common commands; the first sub-command of well-known
tools (git, docker, npm, pip, apt, systemctl, kubectl, cargo, make, ...) against a curated table. Distance
is Damerau-Levenshtein (optimal string alignment); ties go to the more common command. Only the words
that were wrong change; the rest of the line is kept exactly as typed.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import shlex
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from agent.events import SkillResult
from agent.safety.executor import Executor
from agent.skills.base import Args, Register, Skill, SkillContext

__all__ = ["Fix", "allow_listed", "distance", "path_executables", "register", "suggest"]

_LOGGER = logging.getLogger(__name__)

# most common first: the order breaks ties between equally close candidates
COMMON: tuple[str, ...] = (
    "ls", "cd", "git", "grep", "cat", "python", "python3", "sudo", "echo", "vim", "nano", "cp", "mv", "rm",
    "mkdir", "pip", "pip3", "npm", "docker", "ssh", "make", "find", "less", "tail", "head", "top", "htop", "ps",
    "kill", "curl", "wget", "tar", "chmod", "chown", "man", "which", "code", "node", "cargo", "go", "kubectl",
    "systemctl", "apt", "apt-get", "journalctl", "df", "du", "free", "history", "clear", "exit", "touch",
    "diff", "sort", "uniq", "wc", "awk", "sed", "xargs", "ln", "pwd", "env", "export", "source", "alias", "jq",
    "tmux", "screen", "rsync", "scp", "ping", "ip", "ss", "mount", "umount", "zip", "unzip", "gzip", "yarn",
    "pnpm", "brew", "dnf", "pacman", "snap", "flatpak", "poetry", "conda", "uv", "java", "gcc", "rustc", "ruby",
    "perl", "php", "emacs", "more", "tree", "file", "stat", "date", "whoami", "uname", "uptime", "kill", "pkill",
)
_RANK = {name: i for i, name in reversed(list(enumerate(COMMON)))}
BUILTINS = frozenset({"cd", "export", "source", "alias", "history", "exit", "echo", "type", "unset", "set",
                      "jobs", "fg", "bg", "pwd", "read", "eval", "exec", "ulimit", "umask", "wait", "unalias"})
_PIP = ("install", "uninstall", "download", "freeze", "list", "show", "check", "config", "search", "cache",
        "wheel", "hash", "completion", "debug", "help", "inspect", "index")
SUBCOMMANDS: dict[str, tuple[str, ...]] = {
    "git": ("add", "am", "apply", "archive", "bisect", "blame", "branch", "bundle", "checkout", "cherry-pick",
            "clean", "clone", "commit", "config", "describe", "diff", "fetch", "format-patch", "gc", "grep",
            "help", "init", "log", "merge", "mv", "notes", "pull", "push", "rebase", "reflog", "remote", "reset",
            "restore", "revert", "rm", "shortlog", "show", "stash", "status", "submodule", "switch", "tag",
            "worktree"),
    "docker": ("attach", "build", "buildx", "commit", "compose", "container", "cp", "create", "exec", "image",
               "images", "info", "inspect", "kill", "load", "login", "logout", "logs", "network", "pause", "port",
               "ps", "pull", "push", "rename", "restart", "rm", "rmi", "run", "save", "search", "start", "stats",
               "stop", "system", "tag", "top", "unpause", "update", "version", "volume", "wait"),
    "npm": ("access", "adduser", "audit", "cache", "ci", "config", "dedupe", "doctor", "exec", "help", "init",
            "install", "link", "list", "login", "logout", "ls", "outdated", "pack", "prune", "publish", "rebuild",
            "restart", "root", "run", "run-script", "search", "start", "stop", "test", "uninstall", "unpublish",
            "update", "version", "view", "whoami", "i", "un", "t"),
    "pip": _PIP,
    "pip3": _PIP,
    "apt": ("install", "remove", "purge", "update", "upgrade", "full-upgrade", "autoremove", "search", "show",
            "list", "edit-sources", "satisfy", "reinstall", "policy", "depends", "rdepends"),
    "apt-get": ("install", "remove", "purge", "update", "upgrade", "dist-upgrade", "autoremove", "autoclean",
                "clean", "source", "build-dep", "check", "download", "changelog", "satisfy"),
    "systemctl": ("start", "stop", "restart", "reload", "status", "enable", "disable", "is-active", "is-enabled",
                  "is-failed", "list-units", "list-unit-files", "list-timers", "daemon-reload", "mask", "unmask",
                  "cat", "edit", "show", "kill", "reset-failed", "reboot", "poweroff", "suspend", "hibernate",
                  "isolate", "set-default", "get-default"),
    "kubectl": ("get", "describe", "create", "apply", "delete", "edit", "exec", "logs", "port-forward", "proxy",
                "run", "expose", "scale", "rollout", "set", "label", "annotate", "config", "cluster-info", "top",
                "cordon", "uncordon", "drain", "taint", "explain", "version", "api-resources", "patch", "replace",
                "wait", "cp", "attach", "auth", "debug", "diff", "kustomize"),
    "cargo": ("add", "bench", "build", "check", "clean", "clippy", "doc", "fetch", "fix", "fmt", "init",
              "install", "metadata", "new", "publish", "remove", "run", "search", "test", "tree", "uninstall",
              "update", "vendor", "version"),
    "make": ("all", "build", "clean", "install", "test", "check", "lint", "run", "dist", "uninstall", "help"),
    "go": ("build", "clean", "doc", "env", "fix", "fmt", "generate", "get", "install", "list", "mod", "run",
           "test", "tool", "version", "vet", "work"),
    "yarn": ("add", "remove", "install", "run", "build", "test", "start", "upgrade", "init", "info", "list",
             "why", "workspace", "workspaces", "global", "cache"),
    "brew": ("install", "uninstall", "update", "upgrade", "list", "search", "info", "doctor", "cleanup",
             "services", "tap", "untap", "outdated", "reinstall"),
    "dnf": ("install", "remove", "update", "upgrade", "search", "info", "list", "autoremove", "clean",
            "makecache", "history", "check-update", "reinstall", "downgrade"),
    "snap": ("install", "remove", "refresh", "list", "find", "info", "revert", "run", "services", "start",
             "stop", "restart", "enable", "disable"),
    "conda": ("create", "install", "remove", "update", "list", "activate", "deactivate", "env", "info", "search",
              "clean", "config"),
    "poetry": ("add", "remove", "install", "update", "lock", "run", "shell", "build", "publish", "init", "new",
               "show", "check", "config", "env", "version"),
    "uv": ("add", "remove", "run", "sync", "lock", "pip", "venv", "tool", "python", "init", "build", "publish",
           "tree"),
}
_GLUE_OK = frozenset({"cd", "ls", "cat", "less", "vim", "nano", "rm", "mkdir", "cp", "mv"})
_PREAMBLE = re.compile(r"^(?:(?:my|the|this)\s+)?(?:shell\s+)?(?:command|typo|line)\s*(?:in\s*)?:?\s*", re.I)
_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


class CommandFixArgs(Args):
    command: str = Field(min_length=1, max_length=1000)


def distance(a: str, b: str, limit: int = 99) -> int:
    """Damerau-Levenshtein distance (optimal string alignment); anything above `limit` returns limit + 1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return min(prev[-1], limit + 1)


def _max_distance(word: str) -> int:
    return 1 if len(word) <= 4 else 2


def _dir_stamp(path: str) -> tuple[tuple[str, float], ...]:
    stamp = []
    for d in path.split(os.pathsep):
        try:
            stamp.append((d, os.stat(d).st_mtime))
        except OSError:
            continue
    return tuple(stamp)


@functools.lru_cache(maxsize=4)
def _scan(stamp: tuple[tuple[str, float], ...]) -> frozenset[str]:
    names: set[str] = set()
    for d, _ in stamp:
        try:
            with os.scandir(d) as it:
                for entry in it:
                    try:
                        if entry.is_file() and os.access(entry.path, os.X_OK):
                            names.add(entry.name)
                    except OSError:
                        continue
        except OSError:
            continue
    return frozenset(names)


def path_executables(path: str | None = None) -> frozenset[str]:
    """The program names on PATH (cached until a PATH directory changes)."""
    return _scan(_dir_stamp(os.environ.get("PATH", "") if path is None else path))


def _closest(word: str, pool: set[str] | frozenset[str], installed: frozenset[str]) -> list[tuple[int, str]]:
    """Candidates within reach of `word`, best first: distance, then how common, then installed."""
    limit = _max_distance(word)
    scored = []
    for name in pool:
        if name == word:
            continue
        d = distance(word.lower(), name.lower(), limit)
        if d <= limit:
            scored.append((d, _RANK.get(name, 10_000), name not in installed and name not in BUILTINS, name))
    scored.sort()
    return [(d, name) for d, _, _, name in scored]


@dataclass(frozen=True)
class Fix:
    """The corrected line (None when nothing needed fixing or nothing is close) and the alternatives."""

    original: str
    suggestion: str | None
    candidates: list[str]
    changed: list[tuple[str, str]]  # (typed, corrected) words
    installed: bool  # the suggested program is on PATH (or a shell builtin)
    unknown: str | None = None  # a program name nothing came close to


def _split_glued(word: str, known: set[str] | frozenset[str]) -> str | None:
    """"cd.." → "cd ..", "ls-la" → "ls -la"."""
    m = re.match(r"^([a-z]+)([-.~/].*)$", word)
    if m and m.group(1) in _GLUE_OK and m.group(1) in known:
        return f"{m.group(1)} {m.group(2)}"
    return None


def _sub_options(words: list[str], idx: list[int], pos: int) -> tuple[int, list[str]] | None:
    """(word index, corrected sub-commands best first) when the first sub-command is a typo."""
    program = words[idx[pos]].split()[0]
    if program not in SUBCOMMANDS:
        return None
    sub_pos = next((p for p in range(pos + 1, len(idx)) if not words[idx[p]].startswith("-")), None)
    if sub_pos is None or words[idx[sub_pos]] in SUBCOMMANDS[program]:
        return None
    table = frozenset(SUBCOMMANDS[program])
    ranked = _closest(words[idx[sub_pos]], table, table)
    return (idx[sub_pos], [name for _, name in ranked]) if ranked else None


def _programs(prog: str, known: set[str], installed: frozenset[str]) -> list[str] | None:
    """The program word itself when it is fine, else its corrections best first; None if nothing is close."""
    if "/" in prog or prog in known:
        return [prog]
    glued = _split_glued(prog, known)
    if glued:
        return [glued]
    ranked = [name for _, name in _closest(prog, known, installed)]
    return ranked[:5] or None


def suggest(command: str, path: str | None = None) -> Fix:
    """Fix the program name and the first sub-command of `command`; never runs anything."""
    text = _PREAMBLE.sub("", command.strip()).strip()
    installed = path_executables(path)
    known = set(installed) | BUILTINS | set(COMMON)
    words = re.split(r"(\s+)", text)
    idx = [i for i, w in enumerate(words) if w and not w.isspace()]
    pos = 0
    while pos < len(idx) and (words[idx[pos]] == "sudo" or _ASSIGN.match(words[idx[pos]])):
        pos += 1
    if pos >= len(idx):
        return Fix(command, None, [], [], True)
    prog = words[idx[pos]]
    programs = _programs(prog, known, installed)
    if programs is None:
        return Fix(command, None, [], [], False, unknown=prog)
    lines: list[tuple[str, list[tuple[str, str]]]] = []
    for name in programs:
        w = list(words)
        w[idx[pos]] = name
        changes = [(prog, name)] if name != prog else []
        subs = _sub_options(w, idx, pos)
        options = subs[1][: 1 if len(programs) > 1 else 5] if subs else [None]
        for sub in options:
            v = list(w)
            if subs and sub is not None:
                v[subs[0]] = sub
            lines.append(("".join(v), changes + ([(w[subs[0]], sub)] if subs and sub else [])))
    best, changes = lines[0]
    program = best.split()[pos] if best.split() else prog
    ok = program in installed or program in BUILTINS
    if not changes:
        return Fix(command, None, [], [], ok)
    candidates = list(dict.fromkeys(line for line, c in lines if c))
    return Fix(command, best, candidates, changes, ok)


def allow_listed(line: str, executor: Executor) -> dict[str, Any] | None:
    """The allow-listed command id (and its arguments) whose argv template is exactly `line`, if any."""
    try:
        argv = shlex.split(line)
    except ValueError:
        return None
    for spec in executor.commands():
        if len(spec.argv) != len(argv) or spec.destructive:
            continue
        args: dict[str, str] = {}
        for template, word in zip(spec.argv, argv, strict=True):
            m = re.fullmatch(r"\{([a-z_][a-z0-9_]*)\}", template)
            if m:
                args[m.group(1)] = word
            elif template != word:
                break
        else:
            return {"command": spec.id, "args": args}
    return None


def _fix(args: CommandFixArgs, ctx: SkillContext) -> SkillResult:
    fix = suggest(args.command)
    data: dict[str, Any] = {"command": args.command, "suggestion": fix.suggestion, "candidates": fix.candidates,
                            "changed": [list(c) for c in fix.changed], "installed": fix.installed, "runnable": None}
    if fix.unknown:
        return SkillResult.ok(f"I don't know a command close to '{fix.unknown}'.", **data)
    if fix.suggestion is None:
        return SkillResult.ok(f"'{args.command}' looks right to me.", **data)
    reply = f"Did you mean: {fix.suggestion}?"
    if not fix.installed:
        reply += " It isn't installed here, though."
    runnable = allow_listed(fix.suggestion, ctx.executor)
    if runnable is not None:
        data["runnable"] = runnable
        reply += f" I can run that for you: say 'run {runnable['command']}'."
    return SkillResult.ok(reply, **data)


# -- arguments from the words (the router's rule extractor for these skills) --------------------
def _extract_fix(t: str) -> dict[str, Any]:
    colon = re.search(r":\s*(\S.*)$", t)
    if colon:
        return {"command": colon.group(1).strip()}
    typed = re.search(r"\b(?:typed|typing|type|ran|entered|wrote)\s+(.+?)\s*"
                      r"(?:,|\band\b|\bbut\b|\binstead of\b|\bby mistake\b)", t)
    if typed:
        return {"command": typed.group(1).strip()}
    m = re.search(r"(?::|\bwith|\binstead of|\bfix(?: the typo in)?|\bfor|\bin)\s+([a-z0-9_.-]+(?:\s+\S+)*)\s*$", t)
    if m:
        cmd = re.sub(r"\s+(?:didn't work.*|fix it)$", "", m.group(1)).strip()
        return {"command": cmd}
    return {}


def register(reg: Register) -> None:
    reg(Skill("command.fix", "suggest the correct spelling of a mistyped shell command",
              args=CommandFixArgs, run=_fix, extract=_extract_fix, verbatim=True))
