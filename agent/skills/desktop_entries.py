"""Freedesktop desktop entries: find, parse, match a spoken name, and turn Exec into an argv.

Directories, most important first: $XDG_DATA_HOME/applications (default ~/.local/share/applications),
then each of $XDG_DATA_DIRS (default /usr/local/share:/usr/share) + /applications. The first file with a
given desktop id wins; `Hidden=true` removes the id, `NoDisplay=true` keeps it out of name matching, a
`TryExec` program that is not installed drops the entry (as the specification says).
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DesktopEntry",
    "Match",
    "application_dirs",
    "category_for",
    "default_browser_ids",
    "exec_argv",
    "load_entries",
    "match_app",
    "parse_entry",
    "spoken_name",
]

_LOGGER = logging.getLogger(__name__)

_DROP_CODES = frozenset("fFuUdDnNvm")
_ESCAPES = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
_FILLERS = re.compile(r"^(?:(?:the|my|a|an)\s+)+|\s+(?:app|application|program|window|please)$")
CATEGORY_WORDS: dict[str, str] = {
    "terminal": "TerminalEmulator", "terminal emulator": "TerminalEmulator", "console": "TerminalEmulator",
    "command line": "TerminalEmulator", "command prompt": "TerminalEmulator", "shell": "TerminalEmulator",
    "browser": "WebBrowser", "web browser": "WebBrowser", "internet": "WebBrowser", "web": "WebBrowser",
    "file manager": "FileManager", "files": "FileManager", "file explorer": "FileManager",
    "file browser": "FileManager", "text editor": "TextEditor", "editor": "TextEditor", "notepad": "TextEditor",
    "calculator": "Calculator", "email": "Email", "mail": "Email", "e-mail": "Email", "email client": "Email",
    "settings": "Settings", "system settings": "Settings", "control panel": "Settings", "calendar": "Calendar",
    "music player": "Audio", "video player": "Video", "media player": "Player", "image viewer": "Viewer",
}
ALIASES: dict[str, str] = {
    "vs code": "code", "vscode": "code", "visual studio code": "code", "code editor": "code",
    "chrome": "google-chrome", "google chrome": "google-chrome", "libre office": "libreoffice",
}


@dataclass(frozen=True)
class DesktopEntry:
    """One application's desktop entry (the `[Desktop Entry]` group, unlocalised keys)."""

    id: str  # e.g. "org.gnome.Terminal.desktop"
    path: str
    name: str
    exec: str
    generic_name: str = ""
    keywords: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    icon: str = ""
    terminal: bool = False
    no_display: bool = False


def application_dirs(env: dict[str, str] | None = None) -> list[Path]:
    env = dict(os.environ) if env is None else env
    home = Path(env.get("HOME") or Path.home())
    data_home = Path(env.get("XDG_DATA_HOME") or home / ".local/share")
    data_dirs = [Path(d) for d in (env.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share").split(":") if d]
    return [d / "applications" for d in (data_home, *data_dirs)]


def _unescape(value: str) -> str:
    """The string escapes of the specification: \\s \\n \\t \\r and a doubled backslash."""
    return re.sub(r"\\([sntr\\])", lambda m: _ESCAPES[m.group(1)], value)


def _list(value: str) -> tuple[str, ...]:
    return tuple(v.strip().replace("\\;", ";") for v in re.split(r"(?<!\\);", value) if v.strip())


def parse_entry(path: Path, desktop_id: str) -> tuple[DesktopEntry | None, bool]:
    """(the application entry or None, hidden): only `Type=Application` entries with an Exec line."""
    keys: dict[str, str] = {}
    group = None
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None, False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1]
            continue
        if group == "Desktop Entry" and "=" in line:
            key, _, value = line.partition("=")
            keys.setdefault(key.strip(), value.strip())
    hidden = keys.get("Hidden", "").lower() == "true"
    try_exec = keys.get("TryExec", "")
    if (hidden or keys.get("Type") != "Application" or not keys.get("Exec") or not keys.get("Name")
            or (try_exec and shutil.which(_unescape(try_exec)) is None)):
        return None, hidden
    return DesktopEntry(
        desktop_id, str(path), _unescape(keys["Name"]), _unescape(keys["Exec"]),
        _unescape(keys.get("GenericName", "")), _list(_unescape(keys.get("Keywords", ""))),
        _list(keys.get("Categories", "")), keys.get("Icon", ""), keys.get("Terminal", "").lower() == "true",
        keys.get("NoDisplay", "").lower() == "true",
    ), False


def load_entries(dirs: list[Path] | None = None) -> list[DesktopEntry]:
    """Every installed application entry; the first directory that has a desktop id wins."""
    seen: set[str] = set()
    entries = []
    for base in dirs if dirs is not None else application_dirs():
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.desktop")):
            desktop_id = str(path.relative_to(base)).replace(os.sep, "-")
            if desktop_id in seen:
                continue
            seen.add(desktop_id)
            entry, _hidden = parse_entry(path, desktop_id)
            if entry is not None:
                entries.append(entry)
    return entries


def exec_argv(entry: DesktopEntry) -> list[str]:
    """The Exec line as argv, without field codes (%f %u ... dropped, %c the name, %k the file, %% a %)."""
    try:
        words = shlex.split(entry.exec, posix=True)
    except ValueError:
        _LOGGER.warning("unparsable Exec in %s: %r", entry.path, entry.exec)
        return []
    argv: list[str] = []
    for word in words:
        if len(word) == 2 and word[0] == "%" and word[1] in _DROP_CODES:
            continue
        if word == "%i":
            argv.extend(["--icon", entry.icon] if entry.icon else [])
            continue
        fixed = re.sub(r"%(.)", lambda m: {"%": "%", "c": entry.name, "k": entry.path}.get(m.group(1), ""), word)
        if fixed:
            argv.append(fixed)
    return argv


def default_browser_ids(env: dict[str, str] | None = None) -> list[str]:
    """Desktop ids set as the default for web links in mimeapps.list files (most important first)."""
    env = dict(os.environ) if env is None else env
    home = Path(env.get("HOME") or Path.home())
    config_home = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    config_dirs = [Path(d) for d in (env.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(":") if d]
    files = [d / "mimeapps.list" for d in (config_home, *config_dirs)]
    files += [d / name for d in application_dirs(env) for name in ("mimeapps.list", "defaults.list")]
    ids: list[str] = []
    for f in files:
        try:
            text = f.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        group = None
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("["):
                group = line
            elif group in ("[Default Applications]", "[Added Associations]") and "=" in line:
                key, _, value = line.partition("=")
                if key.strip() in ("x-scheme-handler/https", "x-scheme-handler/http", "text/html"):
                    ids += [v for v in _list(value) if v not in ids]
    return ids


@dataclass(frozen=True)
class Match:
    """The best entry for a spoken name (None below the threshold), why, and the closest names."""

    entry: DesktopEntry | None
    score: float
    why: str
    closest: list[str]


def _norm(text: str) -> str:
    text = re.sub(r"[^\w\s+.-]", " ", text.lower())
    text = re.sub(r"\s+", " ", text).strip()
    prev = None
    while prev != text:
        prev, text = text, _FILLERS.sub("", text).strip()
    return text


def _names(e: DesktopEntry) -> list[str]:
    stem = e.id.removesuffix(".desktop").lower()
    program = os.path.basename(exec_argv(e)[0]).lower() if exec_argv(e) else ""
    return [n for n in (e.name.lower(), stem, stem.rsplit(".", 1)[-1], program) if n]


def _similarity(q: str, e: DesktopEntry) -> float:
    pool = [*_names(e), e.generic_name.lower(), *(k.lower() for k in e.keywords), *e.name.lower().split()]
    return max((difflib.SequenceMatcher(None, q, p).ratio() for p in pool if p), default=0.0)


def _score(q: str, e: DesktopEntry) -> tuple[float, str]:
    target = ALIASES.get(q, q)
    if target in _names(e):
        return 1.0, "name"
    if q == e.generic_name.lower() or q in (k.lower() for k in e.keywords):
        return 0.85, "generic name or keyword"
    words = q.split()
    name_words = set(re.split(r"[\s.-]+", e.name.lower()))
    if words and all(w in name_words for w in words):
        return 0.8, "words of the name"
    ratio = _similarity(q, e)
    return (ratio * 0.8, "similar name") if ratio >= 0.8 else (0.0, "")


def spoken_name(query: str) -> str:
    """A spoken app name without fillers: "the Terminal app" → "terminal"."""
    return _norm(query)


def category_for(query: str) -> str | None:
    """The desktop category a spoken kind of app means ("the terminal" → TerminalEmulator), if any."""
    return CATEGORY_WORDS.get(_norm(query))


def _by_category(q: str, entries: list[DesktopEntry], browsers: list[str]) -> Match | None:
    category = CATEGORY_WORDS.get(q)
    if category is None:
        return None
    members = [e for e in entries if category in e.categories]
    if not members:
        return None
    rank = {d: i for i, d in enumerate(browsers)}
    members.sort(key=lambda e: (rank.get(e.id, len(rank)), q not in e.name.lower(), e.name.lower()))
    why = "default browser" if members[0].id in rank else f"category {category}"
    return Match(members[0], 0.9, why, [e.name for e in members[:3]])


def match_app(query: str, entries: list[DesktopEntry], browsers: list[str] | None = None,
              threshold: float = 0.6) -> Match:
    """The entry a spoken name means: exact names and aliases, then category words ("the terminal"),
    keywords, words of the name, and finally similar spelling."""
    q = _norm(query)
    visible = [e for e in entries if not e.no_display]
    scored = sorted(((*_score(q, e), e) for e in visible), key=lambda t: (-t[0], t[2].name.lower()))
    if scored and scored[0][0] >= 0.95:
        return Match(scored[0][2], scored[0][0], scored[0][1], [t[2].name for t in scored[:3]])
    by_category = _by_category(q, visible, browsers or [])
    if by_category is not None:
        return by_category
    closest = sorted(visible, key=lambda e: -_similarity(q, e))
    names = list(dict.fromkeys(e.name for e in closest))[:3]
    if scored and scored[0][0] >= threshold:
        return Match(scored[0][2], scored[0][0], scored[0][1], names)
    return Match(None, scored[0][0] if scored else 0.0, "", names)
