"""Argument extractors more than one skill family uses (a search query, a report period, folder names)."""

from __future__ import annotations

import re
from typing import Any

from agent.values import parse_number

__all__ = ["FOLDERS", "extract_period", "extract_query"]


FOLDERS = {"downloads": "~/Downloads", "documents": "~/Documents", "desktop": "~/Desktop",
           "pictures": "~/Pictures", "music": "~/Music", "videos": "~/Videos", "home": "~"}


_N = r"(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|twenty)"
_LIMIT = re.compile(r"[,\s]+(?:(?:just|only|give me)\s+)?(?:the\s+)?(?:top|first|best)\s+" + _N
                    + r"(?:\s+(?:results?|hits?|matches|files|only))?\s*$|[,\s]+(?:just\s+|only\s+)?" + _N
                    + r"\s+(?:results?|hits?|matches)(?:\s+only)?\s*$"
                    + r"|[,\s]+(?:just|only)\s+(?:show|give|list|return|find)\s+(?:me\s+)?(?:the\s+)?"
                    + r"(?:top\s+|first\s+)?"
                    + _N.replace("(", "(?P<n3>", 1) + r"(?:\s+(?:results?|hits?|matches|files|notes|of them))?\s*$")


def extract_limit(t: str) -> tuple[dict[str, Any], str]:
    """"..., top 3" / "..., 5 results only": how many results, and the request without it."""
    m = _LIMIT.search(t)
    number = parse_number(m.group(1) or m.group(2) or m.group("n3")) if m else None
    if m is None or number is None:
        return {}, t
    return {"limit": int(number)}, t[: m.start()]


def extract_query(t: str) -> dict[str, Any]:
    limit, t = extract_limit(t)
    return {**_query(t), **limit}


def _query(t: str) -> dict[str, Any]:
    patterns = [
        r"\b(?:that|which|where)\s+(?:i\s+|we\s+)?(?:mentions?|mentioned|talks? about|contains?|has|have|had|says?|"
        r"said|is about|are about|was about|covers|discusses|includes|lists|wrote about)\s+"
        r"(?:the\s+|my\s+|a\s+|an\s+)?(.+)$",
        r"^(?:which|what)\s+(?:files?|documents?|docs?|pdfs?|notes?)\s+(?:has|have|had|holds|contains?|includes|lists|"
        r"mentions|talks about|is about)\s+(?:the\s+|my\s+|a\s+|an\s+)?(.+)$",
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


def extract_period(t: str) -> dict[str, Any]:
    for period in ("yesterday", "today", "week", "month", "year"):
        if re.search(rf"\b{period}(?:'s)?\b", t):  # "today's expenses"
            return {"period": period}
    return {}
