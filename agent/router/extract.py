"""Argument extraction per skill from cleaned text (rules first; the LLM fills what rules cannot)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from agent.router.slots import parse_amount
from agent.values import find_duration, parse_duration, parse_when, restore_case, to_digits

__all__ = ["EXTRACTORS", "extract_args"]

Extractor = Callable[[str], dict[str, Any]]

_METRICS = [
    ("battery", r"\b(battery|charge|charging|power left)\b"),
    ("temperature", r"\b(temp|temps|temperature|temperatures|hot|heat|thermal|fan)\b"),
    ("network", r"\b(network|internet|wifi|wi-fi|bandwidth|online|connected|connection|download speed)\b"),
    ("disk", r"\b(disk|disks|drive|drives|storage|ssd|hdd|hard drive|space left|free space|disk space)\b"),
    ("memory", r"\b(memory|ram|swap)\b"),
    ("cpu", r"\b(cpu|processor|cores?|load)\b"),
]


def _metric(t: str) -> dict[str, Any]:
    for name, pattern in _METRICS:
        if re.search(pattern, t):
            return {"metric": name}
    return {}


def _top(t: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if re.search(r"\b(memory|ram|mem)\b", t):
        out["sort"] = "memory"
    elif re.search(r"\b(cpu|processor|load)\b", t):
        out["sort"] = "cpu"
    m = re.search(r"\b(?:top|first|the|show|list)\s+(\d{1,2})\b|\b(\d{1,2})\s+(?:processes|programs|apps)", t)
    if m:
        out["limit"] = int(m.group(1) or m.group(2))
    return out


def _kill(t: str) -> dict[str, Any]:
    m = re.search(r"\b(?:pid|process|id)\s*#?\s*(\d+)\b", t) or re.search(r"\b(\d{2,7})\b", t)
    if m:
        return {"pid": int(m.group(1))}
    m = re.search(r"\b(?:kill|terminate|end|stop|quit|close|force quit|force-quit|shut down)\s+(?:the\s+)?"
                  r"(?:task\s+for\s+|process\s+(?:called|named)\s+|frozen\s+program\s+|program\s+)?"
                  r"([\w.+-]+)", t)
    if m and m.group(1) not in ("process", "program", "app", "it", "that", "the", "task"):
        return {"name": m.group(1).removesuffix(".exe")}
    return {}


_COMMAND_HINTS = [
    ("clear_old_temp", r"\b(temp|temporary|tmp)\b.*\b(files?|clean|clear|delete|remove)|\b(clean|clear)\w*\b.*\btemp"),
    ("uptime", r"\b(uptime|been up|since (?:the )?(?:last )?(?:boot|reboot|restart)|up for|running for)\b"),
    ("network_addresses", r"\b(ip|ip addresses?|network addresses|mac address|interfaces)\b"),
    ("listening_ports", r"\b(ports?|listening)\b"),
    ("who", r"\b(who is logged|who's logged|logged in|users? online)\b"),
    ("kernel_version", r"\b(kernel|uname|os version)\b"),
    ("folder_size", r"\b(size of|how big is)\b.*\b(folder|directory|dir)\b"),
    ("list_folder", r"\b(list|show|what's in|what is in|contents)\b.*\b(folder|directory|dir|files|downloads|"
                    r"documents|desktop|pictures|home)\b|\bls\b"),
    ("disk_usage", r"\b(disk usage|df|space each|drive usage|disk space usage|usage of (?:the )?disks?|disk usage)\b"),
    ("memory_usage", r"\b(free -h|memory usage command)\b"),
]
_FOLDERS = {"downloads": "~/Downloads", "documents": "~/Documents", "desktop": "~/Desktop",
            "pictures": "~/Pictures", "music": "~/Music", "videos": "~/Videos", "home": "~"}


def _command(t: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for cid, pattern in _COMMAND_HINTS:
        if re.search(pattern, t):
            out["command"] = cid
            break
    if out.get("command") in ("list_folder", "folder_size"):
        m = re.search(r"(~?/[\w./-]*)", t)
        if m:
            out["args"] = {"path": m.group(1)}
        else:
            for word, path in _FOLDERS.items():
                if re.search(rf"\b{word}\b", t):
                    out["args"] = {"path": path}
                    break
    return out


def _fix(t: str) -> dict[str, Any]:
    colon = re.search(r":\s*(\S.*)$", t)
    if colon:
        return {"command": colon.group(1).strip()}
    typed = re.search(r"\btyped\s+(.+?)\s+(?:and|but)\b", t)
    if typed:
        return {"command": typed.group(1).strip()}
    m = re.search(r"(?::|\bwith|\binstead of|\bfix(?: the typo in)?|\bfor|\bin)\s+([a-z0-9_.-]+(?:\s+\S+)*)\s*$", t)
    if m:
        cmd = re.sub(r"\s+(?:didn't work.*|fix it)$", "", m.group(1)).strip()
        return {"command": cmd}
    return {}


def _open(t: str) -> dict[str, Any]:
    m = re.search(r"\b(?:open|launch|start|run|bring up|fire up|go to|show me|load)\s+(?:up\s+)?(?:the\s+|my\s+)?"
                  r"(.+?)(?:\s+(?:app|application|program|please|for me))?$", t)
    if m:
        return {"target": m.group(1).strip()}
    return {}


def _query(t: str) -> dict[str, Any]:
    patterns = [
        r"\b(?:about|regarding|mentioning|on|concerning|for|with)\s+(?:the\s+|my\s+)?(.+)$",
        r"\b(?:find|search|look for|locate|where is|where's|where did i (?:save|put))\s+(?:my\s+|the\s+)?(.+)$",
    ]
    for p in patterns:
        m = re.search(p, t)
        if m:
            q = re.sub(r"^(?:files?|documents?|notes?|docs?)\s+(?:for|about|on)\s+", "", m.group(1))
            q = re.sub(r"\s+(?:in my (?:files|documents|notes)|from my (?:files|notes))$", "", q).strip()
            if q and q not in ("files", "notes", "documents", "my files"):
                return {"query": q}
    return {}


def _index(t: str) -> dict[str, Any]:
    m = re.search(r"(~?/[\w./-]+)", t)
    if m:
        return {"path": m.group(1)}
    for word, path in _FOLDERS.items():
        if re.search(rf"\b{word}\b", t):
            return {"path": path}
    m = re.search(r"\b(?:index|scan|reindex|re-index|crawl)\s+(?:my\s+|the\s+)?([\w.-]+)\s+(?:folder|directory|dir)", t)
    if m:
        return {"path": f"~/{m.group(1)}"}
    if re.search(r"\b(?:reindex|re-index|rebuild|update|refresh)\b|\b(?:my files|everything|all (?:my )?(?:files|"
                 r"folders))\b", t):
        return {"path": "my files"}  # the skill re-indexes every folder it already indexes
    return {}


def _calc(t: str) -> dict[str, Any]:
    m = re.search(r"(?:calculate|compute|evaluate|what's|what is|how much is|work out|solve)\s+(.+)$", t)
    expr = m.group(1) if m else t
    return {"expression": expr.strip()}


_NOT_LABELS = {"a", "an", "the", "my", "this", "that", "new", "another", "second", "seconds", "minute", "minutes",
               "hour", "hours", "sec", "secs", "min", "mins", "day", "days", "half", "quarter", "kitchen", "count",
               "all", "any", "every", "running", "current", "active", "pending", "your", "one", "some", "set",
               "start", "cancel", "stop", "pause", "resume", "add", "of", "on", "to", "for", "how", "long", "much"}


def _timer_label(t: str) -> dict[str, Any]:
    for m in re.finditer(r"\b([a-z][a-z'-]*)\s+(?:timer|countdown)\b", t):
        word = m.group(1)
        if word not in _NOT_LABELS and not re.fullmatch(r"\d.*", word) and parse_duration(f"1 {word}") is None:
            return {"label": word}
    named = re.search(r"\b(?:timer|countdown)\s+(?:for|called|named|labell?ed)\s+(?:the\s+|my\s+)?([a-z][a-z' -]*)$", t)
    if named and find_duration(named.group(1)) is None and named.group(1).split()[0] not in _NOT_LABELS:
        return {"label": named.group(1).strip()}
    return {}


def _timer(t: str) -> dict[str, Any]:
    seconds = parse_duration(t)
    return {"seconds": seconds, **_timer_label(t)} if seconds else _timer_label(t)


def _timer_ref(t: str) -> dict[str, Any]:
    m = re.search(r"\btimer\s+(?:number\s+|#\s*)?(\d+)\b", to_digits(t))
    return {"id": int(m.group(1))} if m else _timer_label(t)


def _timer_adjust(t: str) -> dict[str, Any]:
    out = _timer_ref(t)
    seconds = parse_duration(t)
    if seconds:
        less = re.search(r"\b(?:take|knock|shave|remove|subtract|minus|less|off|shorten|reduce|decrease|cut)\b", t)
        out["seconds"] = -seconds if less else seconds
    return out


def _timer_list(t: str) -> dict[str, Any]:
    if re.search(r"\breminders?\b", t) and not re.search(r"\btimers?\b", t):
        return {"kind": "reminder"}
    if re.search(r"\b(?:timers?|countdowns?)\b", t) and not re.search(r"\breminders?\b", t):
        return {"kind": "timer"}
    return {}


def _reminder(t: str, now: datetime | None = None) -> dict[str, Any]:
    found = parse_when(t, now)
    out: dict[str, Any] = {}
    rest = t
    if found:
        when, rest = found
        out["when"] = when.isoformat(timespec="seconds")
    rest = re.sub(r"^(?:set (?:a|an)?\s*reminders?|reminder:?|remind me|don't let me forget|please)\s*", "", rest)
    rest = re.sub(r"^(?:for|to|that|about|of)\s+", "", rest.strip(" :,"))
    rest = re.sub(r"\s+(?:to|at|on|for)$", "", rest).strip(" ,.")
    rest = re.sub(r"^remind me\s+(?:to\s+)?", "", rest)
    if rest:
        out["text"] = rest
    return out


def _note(t: str) -> dict[str, Any]:
    m = re.search(r"^(?:take|make|add|save|create|new)?\s*(?:a\s+)?(?:new\s+)?note\s*(?:saying|that says|that|to|:)?\s*"
                  r"(.+)$|^(?:note|jot down|write down|remember)(?:\s+that)?\s*:?\s*(.+)$", t)
    if m:
        text = (m.group(1) or m.group(2) or "").strip(" :")
        text = re.sub(r"^(?:that|saying)\s+", "", text)
        if text:
            return {"text": text}
    return {}


_NOT_PROJECTS = {"my", "the", "a", "this", "that", "current", "new", "work", "time", "it", "some"}


def _project(t: str) -> dict[str, Any]:
    patterns = (
        r"\b(?:project|client)\s+(?:called\s+|named\s+)?([\w-]+(?:\s+(?!and\b|now\b)[\w-]+)?)\s*$",
        r"\b(?:project|client)\s+(?:called\s+|named\s+)?([\w-]+)",
        r"\b(?:the|my)\s+([\w-]+(?:\s+[\w-]+)?)\s+(?:project|client)\b",
        r"\b(?:on|for)\s+(?:the\s+|my\s+)?([\w-]+(?:\s+[\w-]+)?)\s*$",
    )
    for p in patterns:
        m = re.search(p, t)
        if m and m.group(1).split()[0] not in _NOT_PROJECTS:
            return {"project": re.sub(r"\s+(?:project|client)$", "", m.group(1))}
    return {}


def _period(t: str) -> dict[str, Any]:
    for period in ("yesterday", "today", "week", "month", "year"):
        if re.search(rf"\b{period}\b", t):
            return {"period": period}
    return {}


def _password_gen(t: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    m = re.search(r"\b(\d{1,3})[\s-]*(?:character|char|letter|digit)s?\b|\blength\s+(?:of\s+)?(\d{1,3})\b", t)
    if m:
        out["length"] = int(m.group(1) or m.group(2))
    if re.search(r"\b(?:without|no)\s+(?:symbols|special characters|punctuation)\b", t):
        out["symbols"] = False
    return out


def _password_name(t: str) -> dict[str, Any]:
    m = re.search(r"\b(?:as|under(?: the name)?)\s+(?:my\s+)?([\w.-]+(?:\s+(?:login|account))?)$", t)
    if m:
        return {"name": re.sub(r"\s+(?:login|account)$", "", m.group(1))}
    m = re.search(r"\bmy\s+([\w.-]+)\s+(?:login|account|credentials)\b", t)
    if m:
        return {"name": m.group(1)}
    m = re.search(r"\b(?:my\s+|the\s+)?([\w.-]+)\s+password\b", t)
    if m and m.group(1) not in ("a", "new", "the", "my", "this", "that", "strong", "random", "secure", "save"):
        return {"name": m.group(1)}
    m = re.search(r"\bpassword\s+(?:for|of|to)\s+(?:my\s+|the\s+)?([\w. -]+?)$", t)
    if m:
        return {"name": m.group(1).strip()}
    m = re.search(r"\b(?:entry|login|credentials)\s+for\s+(?:my\s+|the\s+)?([\w. -]+?)$", t)
    return {"name": m.group(1).strip()} if m else {}


_CATEGORY_WORDS = {
    "food": r"lunch|dinner|breakfast|restaurant|coffee|food|pizza|snack|meal|takeout",
    "groceries": r"groceries|grocery|supermarket|market",
    "transport": r"taxi|uber|bus|train|gas|fuel|parking|metro|subway|ticket|petrol",
    "housing": r"rent|mortgage|electricity|water bill|utilities|internet bill",
    "entertainment": r"movie|cinema|concert|game|netflix|spotify|book",
    "health": r"pharmacy|doctor|dentist|medicine|pills|gym",
    "shopping": r"clothes|shoes|amazon|shopping",
}


def _expense(t: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    amount = parse_amount(t)
    if amount:
        out["amount"] = amount[0]
        if amount[1]:
            out["currency"] = amount[1]
    m = re.search(r"\b(?:on|for)\s+(?:a\s+|an\s+|the\s+|some\s+)?([a-z][\w -]*)$", t)
    if m:
        out["note"] = m.group(1).strip()
    for cat, words in _CATEGORY_WORDS.items():
        if re.search(rf"\b(?:{words})\b", t):
            out["category"] = cat
            break
    return out


_MUSIC = [
    ("volume_up", r"\b(louder|volume up|turn (?:it|the volume|the music) up|raise the volume|increase the volume|"
                  r"turn up)\b"),
    ("volume_down", r"\b(quieter|softer|volume down|turn (?:it|the volume|the music) down|lower the volume|"
                    r"decrease the volume|turn down)\b"),
    ("next", r"\b(next|skip|forward)\b"),
    ("previous", r"\b(previous|go back|last song|back a (?:song|track)|rewind)\b"),
    ("toggle", r"\b(toggle|play/pause|play pause)\b"),
    ("pause", r"\b(pause|stop the music|stop playing|stop music|hold the music|mute the music|silence the)\b"),
    ("play", r"\b(play|resume|unpause|continue)\b"),
]


def _music(t: str) -> dict[str, Any]:
    d = to_digits(t)
    level = re.search(r"\b(?:volume|sound|it)\b.*?\b(?:to|at)\s+(\d{1,3})\s*(?:%|percent)?\s*$", d) or re.search(
        r"^(?:volume|sound)\s+(\d{1,3})\s*(?:%|percent)?$", d)
    if level and int(level.group(1)) <= 100:
        return {"action": "volume", "level": int(level.group(1))}
    if re.search(r"\b(?:unmute|un-mute|sound back|audio back|back on)\b", t):
        return {"action": "unmute"}
    if re.search(r"\b(?:mute|silence)\b", t):
        return {"action": "mute"}
    for action, pattern in _MUSIC:
        if re.search(pattern, t):
            return {"action": action}
    return {}


def _note_delete(t: str) -> dict[str, Any]:
    m = re.search(r"\bnote\s*(?:number|#|no\.?)?\s*(\d+)\b", t)
    if m:
        return {"id": int(m.group(1))}
    m = re.search(r"\bnote\s+(?:that says|saying)\s+(.+)$", t)
    return {"query": m.group(1)} if m else _query(t)


def _limit(t: str) -> dict[str, Any]:
    m = re.search(r"\b(?:last|latest|first)\s+(\d{1,3})\b", t)
    return {"limit": int(m.group(1))} if m else {}


def _cancel(t: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    m = re.search(r"\b(?:timer|reminder|alarm|number|#)\s*(?:number\s*)?(\d+)\b", t)
    if m:
        out["id"] = int(m.group(1))
    if re.search(r"\b(?:timer|countdown|alarm)\b", t):
        out["kind"] = "timer"
    elif re.search(r"\breminder\b", t):
        out["kind"] = "reminder"
    return out


def _need(t: str) -> dict[str, Any]:
    if re.search(r"\binstall\b", t):
        return {"need": t.strip()}
    m = re.search(r"\b(?:for|to)\s+(.+)$", t) or re.search(r"\bneed\s+(?:a\s+|an\s+|some\s+)?(.+)$", t)
    if m is None:
        m = re.search(r"\b(?:recommend|suggest)\s+(?:me\s+)?(?:a\s+|an\s+|some\s+)?(.+)$", t)
    return {"need": (m.group(1) if m else t).strip()}


EXTRACTORS: dict[str, Extractor] = {
    "system.status": _metric, "system.top": _top, "process.kill": _kill, "command.run": _command,
    "command.fix": _fix, "apps.open": _open, "files.search": _query, "notes.search": _query,
    "files.index": _index, "math.calc": _calc, "timer.set": _timer, "reminder.add": _reminder,
    "notes.add": _note, "timetrack.start": _project, "timetrack.report": _period, "finance.report": _period,
    "password.generate": _password_gen, "password.get": _password_name, "password.save": _password_name,
    "finance.expense_add": _expense, "music.control": _music, "tools.recommend": _need,
    "notes.delete": _note_delete, "notes.list": _limit, "timer.cancel": _cancel,
    "timer.status": _timer_ref, "timer.pause": _timer_ref, "timer.resume": _timer_ref, "timer.adjust": _timer_adjust,
    "timer.list": _timer_list,
}
_NUMERIC = frozenset({"system.top", "process.kill", "password.generate", "finance.expense_add", "notes.delete",
                      "notes.list", "timer.cancel", "command.run", "math.calc"})
_FREE_TEXT = ("text", "query", "name", "target", "project", "need", "label", "note", "command", "expression")


def extract_args(skill: str, text: str, original: str = "") -> dict[str, Any]:
    """Best-effort arguments for `skill` from cleaned `text` (may be incomplete; validation decides).

    Free text (a note, a query, a name) is given back as the user spelled it in `original`.
    """
    fn = EXTRACTORS.get(skill)
    if fn is None:
        return {}
    if skill == "command.fix":
        return {k: restore_case(v, original) if isinstance(v, str) else v for k, v in fn(text).items()}
    args = fn(to_digits(text) if skill in _NUMERIC else text)
    for key in _FREE_TEXT:
        if isinstance(args.get(key), str) and original and skill not in _NUMERIC:
            args[key] = restore_case(args[key], original)
    return args

