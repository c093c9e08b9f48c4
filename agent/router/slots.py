"""Slot parsing for spoken text: fillers, numbers as words, durations, times, amounts."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from agent.textnum import words_to_digits

__all__ = ["clean", "parse_amount", "parse_duration", "parse_when"]

_FILLERS = re.compile(r"\b(?:um+|uh+|er+m?|hmm+|ah+|you know|okay so|ok so|so um|well)\b[,]?\s*", re.I)
_POLITE = re.compile(r"^(?:hey|hi|ok|okay)?\s*(?:agent|computer|assistant)?[,]?\s*"
                     r"(?:(?:can|could|would) you(?: please)?|please|i'd like you to|i want you to)?\s*", re.I)

_UNIT_SECONDS = {"s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1, "m": 60, "min": 60, "mins": 60,
                 "minute": 60, "minutes": 60, "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
                 "day": 86400, "days": 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*-?\s*(seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|[smh])\b")
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def clean(text: str) -> str:
    """Lower-case, drop fillers and polite openings, numbers as digits, tidy punctuation."""
    s = text.strip().lower()
    s = s.replace("’", "'").replace("“", '"').replace("”", '"')
    s = _FILLERS.sub("", s)
    s = re.sub(r"[!?]+", " ", s)
    s = re.sub(r"\.(?=\s|$)", " ", s)
    s = re.sub(r"\s+,", ",", s)
    s = _POLITE.sub("", s, count=1)
    s = re.sub(r"\b(a|an)\s+(half|quarter)\s+(hour|minute)\b", lambda m: f"0.{5 if m[2] == 'half' else 25} {m[3]}", s)
    s = re.sub(r"\bhalf an? (hour|minute)\b", r"0.5 \1", s)
    s = re.sub(r"\b(a|an|one)\s+(hour|minute|second|day)\s+and\s+a\s+half\b", r"1.5 \2s", s)
    s = re.sub(r"\b(a|an|one)\s+(hour|minute|second|day)\b", r"1 \2", s)
    s = words_to_digits(s)
    s = re.sub(r"\b(\d+)\s+and\s+a\s+half\s+(hours?|minutes?)", lambda m: f"{float(m[1]) + 0.5:g} {m[2]}", s)
    s = re.sub(r"\bplease\b", "", s)
    return re.sub(r"\s+", " ", s).strip(" ,")


def parse_duration(text: str) -> int | None:
    """Total seconds of every "N unit" in `text` ("1 hour 30 minutes" → 5400), or None."""
    total = 0.0
    found = False
    for m in _DURATION.finditer(text.lower()):
        total += float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
        found = True
    return int(round(total)) if found and total > 0 else None


def _clock(m: re.Match[str], now: datetime) -> datetime | None:
    hour = int(m.group("h"))
    minute = int(m.group("m") or 0)
    ampm = (m.group("ap") or "").replace(".", "")
    if hour > 23 or minute > 59:
        return None
    if ampm.startswith("p") and hour < 12:
        hour += 12
    elif ampm.startswith("a") and hour == 12:
        hour = 0
    t = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if not ampm and hour <= 12 and t <= now:  # "at 5": the next 5 o'clock, am or pm
        later = t + timedelta(hours=12)
        t = later if later > now and hour < 12 else t
    return t


_CLOCK = r"(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<ap>a\.?m\.?|p\.?m\.?)?"


def parse_when(text: str, now: datetime | None = None) -> tuple[datetime, str] | None:
    """Find a time in `text`; return (local datetime, `text` without the time phrase) or None."""
    now = now or datetime.now().astimezone()
    s = text
    m = re.search(r"\b(?:in|after)\s+((?:\d+(?:\.\d+)?\s*(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?)"
                  r"(?:\s+and)?\s*)+)", s)
    if m:
        seconds = parse_duration(m.group(1))
        if seconds:
            return now + timedelta(seconds=seconds), _cut(s, m)
    day_offset = 0
    day_m = re.search(r"\b(tomorrow|tonight|today|this evening|this afternoon|this morning)\b", s)
    weekday_m = re.search(r"\b(?:on\s+)?(" + "|".join(_WEEKDAYS) + r")\b", s)
    base = now
    if day_m and day_m.group(1) == "tomorrow":
        day_offset = 1
    elif weekday_m:
        day_offset = (_WEEKDAYS.index(weekday_m.group(1)) - now.weekday()) % 7 or 7
    clock_m = re.search(r"\bat\s+" + _CLOCK + r"\b", s) or re.search(r"\b" + _CLOCK.replace(
        r"?\s*(?P<ap>", r"?\s*(?P<ap>", 1) + r"(?<=m)\b", s)
    noon = re.search(r"\b(?:at\s+)?(noon|midday|midnight)\b", s)
    target: datetime | None = None
    if clock_m and (clock_m.group("ap") or s[clock_m.start():clock_m.start() + 2] == "at"):
        ref = base if day_offset == 0 else (base + timedelta(days=day_offset)).replace(hour=0, minute=0)
        target = _clock(clock_m, ref)
        if target is not None and day_m and day_m.group(1) in ("tonight", "this evening") and target.hour < 12:
            target += timedelta(hours=12)
    elif noon:
        hour = 0 if noon.group(1) == "midnight" else 12
        target = (base + timedelta(days=day_offset)).replace(hour=hour, minute=0, second=0, microsecond=0)
        if target <= now:
            target += timedelta(days=1)
    elif day_m or weekday_m:
        default_hour = {"tonight": 20, "this evening": 19, "this afternoon": 15, "this morning": 9}.get(
            day_m.group(1) if day_m else "", 9)
        target = (base + timedelta(days=day_offset)).replace(hour=default_hour, minute=0, second=0, microsecond=0)
    if target is None:
        return None
    if target <= now and not (day_m or weekday_m):
        target += timedelta(days=1)  # "at 5pm" said at 6pm means tomorrow
    rest = s
    for mm in (clock_m if target else None, noon, day_m, weekday_m):
        if mm is not None:
            rest = rest.replace(mm.group(0), " ")
    return target, re.sub(r"\s+", " ", rest).strip()


def _cut(s: str, m: re.Match[str]) -> str:
    return re.sub(r"\s+", " ", s[: m.start()] + " " + s[m.end():]).strip()


_CURRENCY_WORDS = {"dollar": "USD", "dollars": "USD", "bucks": "USD", "buck": "USD", "usd": "USD",
                   "euro": "EUR", "euros": "EUR", "eur": "EUR", "pound": "GBP", "pounds": "GBP", "quid": "GBP",
                   "gbp": "GBP", "yen": "JPY", "francs": "CHF", "franc": "CHF", "cents": "USD"}
_CURRENCY_SIGNS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}


def parse_amount(text: str) -> tuple[float, str | None] | None:
    """The first money amount in `text`: "$12", "12 dollars", "45.50", "€3" → (amount, currency or None)."""
    m = re.search(r"([$€£¥])\s*(\d+(?:[.,]\d{1,2})?)", text)
    if m:
        return float(m.group(2).replace(",", ".")), _CURRENCY_SIGNS[m.group(1)]
    m = re.search(r"(\d+(?:\.\d{1,2})?)\s*(" + "|".join(_CURRENCY_WORDS) + r")\b", text)
    if m:
        value = float(m.group(1))
        if m.group(2) == "cents":
            value /= 100
        return value, _CURRENCY_WORDS[m.group(2)]
    m = re.search(r"(?<![\w.])(\d+(?:\.\d{1,2})?)(?![\w.:])", text)
    if m:
        return float(m.group(1)), None
    return None
