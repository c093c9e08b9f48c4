"""Spoken and written values: numbers, durations and times. The one parser per kind of value.

Number words become digits with `text2num` (a maintained parser: "twenty-five" → 25, "one hundred and twenty"
→ 120, "four point five" → 4.5); on top of it this module reads what text2num leaves alone: fractions of a
unit ("two and a half minutes", "1/2 an hour", "a quarter of an hour", "an hour and a quarter", "three
quarters of an hour") and unit sums ("1 hour 30 minutes"). Times of day and relative days are read by
`parse_when`. Everything here is a pure function of its text (and `now`): no state, no I/O.

Documented derivations (what a skill may receive that the user did not say word for word):
number words → numbers; a duration phrase → seconds; a time phrase → an ISO local date-time.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache

from text_to_num import alpha2digit

__all__ = ["CURRENCY_WORDS", "UNIT_SECONDS", "duration_seconds", "durations_in", "find_duration", "numbers_in",
           "parse_amount", "parse_duration", "parse_number", "parse_when", "restore_case", "to_digits"]

UNIT_SECONDS = {"s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1, "m": 60, "min": 60, "mins": 60,
                "minute": 60, "minutes": 60, "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
                "d": 86400, "day": 86400, "days": 86400, "week": 604800, "weeks": 604800}
_UNIT = r"(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|[smhd])"
_NUM = r"\d+(?:\.\d+)?"
_FRACTION_WORDS = {"half": 0.5, "quarter": 0.25}
_NUMBER_WORD = (r"\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
                r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred")
_ORDINALS = {"1st": "first", "2nd": "second", "3rd": "third"}


@lru_cache(maxsize=2048)
def to_digits(text: str) -> str:
    """Number words as digits ("set a timer for five minutes" → "... 5 minutes"); other words unchanged.

    Ordinals stay words ("second", "first"), so "a thirty second timer" keeps its unit.
    """
    if not re.search(r"[a-zA-Z]", text):
        return text
    # "thirty second timer" is 30 seconds, not the 32nd: keep the unit a unit
    text = re.sub(r"\b(" + _NUMBER_WORD + r")[\s-]+second\b", r"\1 sec", text, flags=re.I)
    out = alpha2digit(text, "en", threshold=0)
    out = re.sub(r"(?<![\d.])\b(1st|2nd|3rd)\b", lambda m: _ORDINALS[m.group(1)], out)
    # text2num reads "a 100" for "a hundred": keep the number only
    return re.sub(r"\b(?:a|an) (\d+)\b(?= (?:dollars?|euros?|pounds?|bucks|percent|%))", r"\1", out)


def parse_number(text: str) -> float | None:
    """A whole phrase as a number: "24", "1,200", "twenty-four", "one and a half", "1/2"; else None."""
    t = text.strip().lower().replace(",", "")
    if not t:
        return None
    if re.fullmatch(r"\d+(?:\.\d+)?|\.\d+", t):
        return float(t)
    m = re.fullmatch(r"(\d+)/(\d+)", t)
    if m and int(m.group(2)):
        return int(m.group(1)) / int(m.group(2))
    d = re.sub(r"^(?:a|an)\s+(?=\d)", "", _fractions(to_digits(t)))
    return float(d) if re.fullmatch(_NUM, d) else None


def numbers_in(text: str) -> list[float]:
    """Every number the text says, as digits or words ("two and a half" counts as 2.5 and as 2)."""
    d = to_digits(text.lower())
    found = [float(x) for x in re.findall(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])|\d+(?=[a-z%$€£])", d)]
    found += [float(x) for x in re.findall(_NUM, _fractions(d))]
    found += [float(x.replace(",", "")) for x in re.findall(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", text)]
    return found


def _fractions(d: str) -> str:
    """Fractions of a unit or a number, on text whose numbers are already digits, as decimals."""
    s = re.sub(r"(?<![\d/])1/2(?![\d/])", "half", d)
    s = re.sub(r"(?<![\d/])1/4(?![\d/])", "quarter", s)
    s = re.sub(r"\b(\d+)/(\d+)(?:\s+of)?\s+(?:an?\s+)?(?=" + _UNIT + r"\b)",
               lambda m: f"{int(m[1]) / max(1, int(m[2])):g} ", s)
    # "2 and a half minutes", "2 minutes and a half", "an hour and a quarter" (before "a half minute" is read)
    s = re.sub(r"\b(" + _NUM + r")\s+and\s+an?\s+(half|quarter)\b",
               lambda m: f"{float(m[1]) + _FRACTION_WORDS[m[2]]:g}", s)
    s = re.sub(r"\b(?:a\s+|one\s+)?half(?:\s+of)?\s+an?\s+(" + _UNIT + r")\b", r"0.5 \1", s)
    s = re.sub(r"\b(?:a\s+)?half[\s-](hour|minute|day)\b", r"0.5 \1", s)
    s = re.sub(r"\b(?:a\s+)?quarter(?:\s+of)?\s+(?:an?\s+)?(hour|minute|day)\b", r"0.25 \1", s)
    s = re.sub(r"\b(\d+)\s+quarters?\s+of\s+an?\s+(hour|minute|day)\b", lambda m: f"{int(m[1]) * 0.25:g} {m[2]}", s)
    s = re.sub(r"\b(?:an?|one|another|an extra|one more)\s+(" + _UNIT + r")\b", r"1 \1", s)
    s = re.sub(r"\b(" + _NUM + r")\s+(" + _UNIT + r")\s+and\s+an?\s+(half|quarter)\b",
               lambda m: f"{float(m[1]) + _FRACTION_WORDS[m[3]]:g} {m[2]}", s)
    s = re.sub(r"\b(" + _NUM + r")\s+and\s+3\s+quarters?\b", lambda m: f"{float(m[1]) + 0.75:g}", s)
    return s


def _normalise(text: str) -> str:
    s = text.lower().replace("-", " ")
    s = re.sub(r"\b(\d+)\s*h\s*(\d{1,2})\b(?!\s*[a-z])", r"\1 hours \2 minutes", s)  # "1h30" is 1 h 30 min
    s = re.sub(r"(\d)(" + _UNIT + r")(?=\d|\b)", r"\1 \2 ", s)  # "90s", "5min", "1h30m"
    # "a couple of minutes" is two, "a few hours" three (as the common assistants read them)
    s = re.sub(r"\b(?:a\s+)?couple(?:\s+of)?\s+(?=(?:more\s+|extra\s+)?" + _UNIT + r"\b)", "2 ", s)
    s = re.sub(r"\ba\s+few\s+(?=(?:more\s+|extra\s+)?" + _UNIT + r"\b)", "3 ", s)
    s = _fractions(to_digits(s))
    # "an hour and ten" is 1 h 10 min, "a minute and thirty" 1 min 30 s: the smaller unit is implied
    implied = r"\s+and\s+(\d{1,2})(?=\s*(?:$|[,.!?;]|(?:for|on|to|please|thanks|then|so|timer|countdown)\b))"
    s = re.sub(r"\b(\d+(?:\.\d+)?\s+(?:hours?|hrs?))" + implied, r"\1 and \2 minutes", s)
    return re.sub(r"\b(\d+(?:\.\d+)?\s+(?:minutes?|mins?))" + implied, r"\1 and \2 seconds", s)


# "5 more minutes", "2 extra minutes", "3 whole hours": a word that qualifies the amount, not the unit
_PART = re.compile(r"(" + _NUM + r")\s*(?:(?:more|extra|additional|further|whole|full|straight)\s+)?(" + _UNIT + r")\b")
_JOIN = re.compile(r"^(?:\s|,|and|plus)*$")


def durations_in(text: str) -> list[int]:
    """Every separate duration the text names ("increase the 1 hour timer by 5 minutes" → [3600, 300])."""
    s = _normalise(text)
    out: list[int] = []
    total, end = 0.0, -1
    for m in _PART.finditer(s):
        if end >= 0 and not _JOIN.match(s[end:m.start()]):
            out.append(int(round(total)))
            total = 0.0
        total += float(m.group(1)) * UNIT_SECONDS[m.group(2)]
        end = m.end()
    if end >= 0:
        out.append(int(round(total)))
    return [d for d in out if d > 0]


def find_duration(text: str) -> tuple[int, str] | None:
    """The first run of duration parts in free text ("set a timer for 1 hour and 30 minutes") → (seconds, the
    normalised phrase it came from); None when the text names no duration."""
    s = _normalise(text)
    parts = list(_PART.finditer(s))
    if not parts:
        return None
    total, end = 0.0, parts[0].start()
    start = end
    for m in parts:
        if not _JOIN.match(s[end:m.start()]):
            break
        total += float(m.group(1)) * UNIT_SECONDS[m.group(2)]
        end = m.end()
    seconds = int(round(total))
    return (seconds, s[start:end]) if seconds > 0 else None


def parse_duration(text: str, *, whole: bool = False) -> int | None:
    """Seconds in a duration phrase: "five minutes", "2 and a half minutes", "an hour and a quarter",
    "1/2 an hour", "90s", "1h30m". With `whole`, the phrase must be nothing but the duration (a template slot)."""
    if not whole:
        found = find_duration(text)
        return found[0] if found else None
    seconds = duration_seconds(text)
    return int(round(seconds)) if seconds else None


def duration_seconds(text: str) -> float | None:
    """Seconds (unrounded) when the whole of `text` is a duration, else None."""
    s = _normalise(text).strip(" ,.")
    s = re.sub(r"^(?:for|of|about|in)\s+", "", s)
    if re.fullmatch(r"(?:second|minute|hour|day|week)s?", s):  # "another minute": the unit alone is one of it
        return float(UNIT_SECONDS[s])
    pos, total = 0, 0.0
    for m in _PART.finditer(s):
        if not _JOIN.match(s[pos:m.start()]):
            return None
        total += float(m.group(1)) * UNIT_SECONDS[m.group(2)]
        pos = m.end()
    if pos == 0 or s[pos:].strip(" ,.") or total <= 0:
        return None
    return total


# --- times ---------------------------------------------------------------------------------------------------

_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_CLOCK = r"(?P<h>\d{1,2})(?::(?P<m>\d{2})|\s(?P<m2>[0-5]\d)(?=\s*(?:a\.?m|p\.?m)))?\s*(?P<ap>a\.?m\.?|p\.?m\.?)?"


def _spoken_clock(s: str) -> str:
    """"half past 3" → "3:30", "quarter to 5" → "4:45", "at half 4" → "at 4:30", "3 o'clock" → "3" (after
    `to_digits`)."""
    s = re.sub(r"\b(?:a\s+)?(half|quarter|\d{1,2}(?:\s+minutes)?)\s+(past|after|to|before)\s+(\d{1,2})\b(?!:)",
               _past_to, s)
    # British "at half four" is 4:30 (never "half an hour", "half 4 hours" or "half past")
    s = re.sub(r"\b(at|by|around|about|until|till|before|after|from)\s+half\s+(\d{1,2})\b"
               r"(?!:|\.\d|\s*(?:and\b|hours?|hrs?|h\b|minutes?|mins?|seconds?|secs?|days?|weeks?|months?|years?|"
               r"past|after|of))",
               lambda m: f"{m[1]} {m[2]}:30" if int(m[2]) <= 12 else m[0], s)
    return re.sub(r"\b(\d{1,2})\s*o'?\s?clock\b", r"\1", s)


def _past_to(m: re.Match[str]) -> str:
    amount = {"half": 30, "quarter": 15}.get(m.group(1)) or int(m.group(1).split()[0])
    hour = int(m.group(3))
    if amount >= 60 or hour > 23:
        return m.group(0)
    if m.group(2) in ("to", "before"):
        return f"{(hour - 1) % 24 or 12}:{60 - amount:02d}"
    return f"{hour}:{amount:02d}"


def _clock(m: re.Match[str], now: datetime) -> datetime | None:
    hour = int(m.group("h"))
    minute = int(m.group("m") or m.group("m2") or 0)
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


def parse_when(text: str, now: datetime | None = None) -> tuple[datetime, str] | None:
    """Find a time in `text` ("in 20 minutes", "at 5pm", "tomorrow at 9", "on friday", "at noon");
    return (local datetime, `text` without the time phrase) or None. `now` is the clock (injected in tests)."""
    now = now or datetime.now().astimezone()
    text = re.sub(r"\barvo\b", "afternoon", text, flags=re.I)  # Australian English
    text = re.sub(r"\b(?:tmrw|tmrow|tmr|tmw|2moro|2morrow)\b", "tomorrow", text, flags=re.I)  # typed shorthand
    s = text
    digits = _normalise(text)
    m = re.search(r"\b(?:in|after)\s+((?:" + _NUM + r"\s*" + _UNIT + r"\b(?:\s*,?\s*(?:and\s+)?)?)+)", digits)
    if m:
        seconds = parse_duration(m.group(1), whole=True)
        if seconds:
            rest = _cut_phrase(s, m.group(0))
            return now + timedelta(seconds=seconds), rest
    s = _spoken_clock(to_digits(s))
    day_offset = 0
    date_m, date_offset = _calendar_day(s, now)
    day_m = re.search(r"\b((?:the\s+)?day after tomorrow|tomorrow|tonight|today|this evening|this afternoon|"
                      r"this morning|(?:the\s+)?end of (?:the\s+)?day|end of today|eod)\b", s)
    weekday_m = re.search(r"\b(?:on\s+|next\s+|this\s+|this coming\s+|coming\s+)?(" + "|".join(_WEEKDAYS) + r")\b", s)
    if date_m is not None:
        day_offset = date_offset
        weekday_m = None
    elif day_m and day_m.group(1).endswith("day after tomorrow"):
        day_offset = 2
    elif day_m and day_m.group(1) == "tomorrow":
        day_offset = 1
    elif weekday_m:
        day_offset = (_WEEKDAYS.index(weekday_m.group(1)) - now.weekday()) % 7 or 7
    part_m = _day_part(s, day_m is not None and day_m.group(1) not in ("tomorrow", "today")
                       and not day_m.group(1).endswith("day after tomorrow"))
    clock_m = (re.search(r"\bat\s+" + _CLOCK + r"\b", s) or re.search(r"\b" + _CLOCK + r"(?<=m)\b", s)
               or re.search(r"(?<![\d.:/$£€])\b" + _CLOCK.replace(")?\\s*(?P<ap>", ")\\s*(?P<ap>", 1)
                            + r"(?![\d.:/%])", s))  # "an alarm for 6:30": a clock with its minutes says when
    noon = re.search(r"\b(?:at\s+)?(noon|midday|midnight)\b", s)
    target: datetime | None = None
    if clock_m and (clock_m.group("ap") or s[clock_m.start():clock_m.start() + 2] == "at" or clock_m.group("m")):
        ref = now if day_offset == 0 else (now + timedelta(days=day_offset)).replace(hour=0, minute=0)
        target = _clock(clock_m, ref)
        if (target is not None and day_offset > 0 and not clock_m.group("ap") and 1 <= target.hour <= 5
                and not re.search(r"\b(?:wake|alarm|morning|early)\b", s, re.I)):
            target += timedelta(hours=12)  # "on friday at 3" is the afternoon
        if (target is not None and day_offset == 0 and not clock_m.group("ap") and target.hour >= 12
                and int(clock_m.group("h")) < 12 and re.search(r"\b(?:wake|alarm|morning|early)\b", s, re.I)):
            target -= timedelta(hours=12)  # "wake me at 7": the next 7 in the morning
            if target <= now:
                target += timedelta(days=1)
        later = (day_m and day_m.group(1) in ("tonight", "this evening")) or (
            part_m and part_m.group(1) in ("afternoon", "evening", "night"))
        if target is not None and later and target.hour < 12:
            target += timedelta(hours=12)
    elif noon:
        hour = 0 if noon.group(1) == "midnight" else 12
        target = (now + timedelta(days=day_offset)).replace(hour=hour, minute=0, second=0, microsecond=0)
        if target <= now:
            target += timedelta(days=1)
    elif day_m or weekday_m or part_m or date_m:
        default_hour = {"tonight": 20, "this evening": 19, "this afternoon": 15, "this morning": 9}.get(
            day_m.group(1) if day_m else "", 9)
        if day_m and re.search(r"end of|eod", day_m.group(1)):
            default_hour = 17
        if part_m:
            default_hour = {"morning": 9, "afternoon": 15, "evening": 19, "night": 21}[part_m.group(1)]
        target = (now + timedelta(days=day_offset)).replace(hour=default_hour, minute=0, second=0, microsecond=0)
    if target is None:
        return None
    if target <= now and not (day_m or weekday_m or date_m):
        target += timedelta(days=1)  # "at 5pm" said at 6pm means tomorrow
    rest = s
    for mm in (clock_m if target else None, noon, day_m, weekday_m, part_m, date_m):
        if mm is not None:
            rest = rest.replace(mm.group(0), " ")
    return target, re.sub(r"\s+", " ", rest).strip()


_ORDINAL_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
                  "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12}
_ORD = r"(?:(?P<d>\d{1,2})(?:st|nd|rd|th)|(?P<w>" + "|".join(_ORDINAL_WORDS) + r"))"
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_MONTH = (r"(?P<mo>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_ORD_OR_NUMBER = _ORD.replace("(?:st|nd|rd|th)", "(?:st|nd|rd|th)?")  # beside a month, "5" is a day too
_DATES = [
    re.compile(r"\b(?:on\s+)?(?:the\s+)?" + _ORD_OR_NUMBER + r"\s+(?:of\s+)?" + _MONTH + r"\b", re.I),
    re.compile(r"\b(?:on\s+)?" + _MONTH + r"\s+(?:the\s+)?" + _ORD_OR_NUMBER + r"\b(?!:)", re.I),
    re.compile(r"\bon\s+the\s+" + _ORD + r"(?:\s+of\s+(?P<rel>the|this|next)\s+month)?\b", re.I),
    re.compile(r"\bthe\s+" + _ORD + r"\s+of\s+(?P<rel>the|this|next)\s+month\b", re.I),
    re.compile(r"\bthe\s+" + _ORD + r"(?=\s+at\b|\s*$)", re.I),  # "1st"-"3rd" arrive as words
    # "a reminder for the 3rd to renew my passport", not "for the third time"
    re.compile(r"\b(?:for|by|until|till|before)\s+the\s+" + _ORD + r"\b(?=\s+(?:to|about|that|at|in the)\b|\s*,)",
               re.I),
    re.compile(r"\b(?P<nx>next week|next month|(?:this|the|at the|on the|over the) weekend)\b", re.I),
]


def _calendar_day(s: str, now: datetime) -> tuple[re.Match[str] | None, int]:
    """A day named by the calendar: "on the 15th", "the first of next month", "december 5th", "the 5th of
    january", "next week" (its Monday), "this weekend" (Saturday), "next month" (its first day). Returns the
    match and the days from today; a date that has passed this year (or month) is next year's (month's)."""
    today = now.date()
    for pattern in _DATES:
        m = pattern.search(s)
        if m is None:
            continue
        groups = m.groupdict()
        if groups.get("nx"):
            word = groups["nx"].lower()
            if word == "next week":
                return m, 7 - today.weekday()
            if word == "next month":
                first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
                return m, (first - today).days
            return m, (5 - today.weekday()) % 7 if today.weekday() != 6 else 0
        day = int(groups["d"]) if groups.get("d") else _ORDINAL_WORDS[groups["w"].lower()]
        if groups.get("mo"):
            month = _MONTHS.index(groups["mo"].lower()[:3]) + 1
            candidates = [(today.year, month), (today.year + 1, month)]
        else:
            nxt = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
            candidates = [(nxt.year, nxt.month)] if (groups.get("rel") or "").lower() == "next" else [
                (today.year, today.month), (nxt.year, nxt.month)]
        for year, month in candidates:
            try:
                when = date(year, month, day)
            except ValueError:
                continue
            if when >= today:
                return m, (when - today).days
        return None, 0
    return None, 0


def _day_part(s: str, said_by_day_word: bool) -> re.Match[str] | None:
    """"tomorrow morning", "friday evening", "in the afternoon": a part of the day that sets the hour. Not in
    "say good morning to mom", and not after "this evening" / "tonight" (the day word says it)."""
    if said_by_day_word:
        return None
    days = "|".join(["tomorrow", "today", *_WEEKDAYS])
    for m in re.finditer(r"\b(?:(?:in|on) the\s+)?(morning|afternoon|evening|night)\b", s):
        before = s[:m.start()].split()
        if m.group(0).startswith(("in ", "on ")) or (before and re.fullmatch(days, before[-1])):
            return m
    return None


def _cut_phrase(original: str, phrase_digits: str) -> str:
    """`original` without the words that became `phrase_digits` (matched on their digit form, word by word)."""
    words = original.split()
    target = phrase_digits.split()
    for i in range(len(words)):
        for j in range(i + 1, len(words) + 1):
            if _normalise(" ".join(words[i:j])).split() == target:
                return " ".join(words[:i] + words[j:])
    return re.sub(r"\s+", " ", _normalise(original).replace(phrase_digits, " ")).strip()


def restore_case(value: str, original: str) -> str:
    """`value` (read from lower-cased text) with the user's own spelling, when `original` contains it."""
    i = original.lower().find(value.lower()) if original else -1
    return original[i:i + len(value)] if i >= 0 else value


CURRENCY_WORDS = {"dollar": "USD", "dollars": "USD", "bucks": "USD", "buck": "USD", "usd": "USD",
                   "euro": "EUR", "euros": "EUR", "eur": "EUR", "pound": "GBP", "pounds": "GBP", "quid": "GBP",
                   "gbp": "GBP", "yen": "JPY", "francs": "CHF", "franc": "CHF", "cents": "USD"}
_CURRENCY_SIGNS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}


def parse_amount(text: str) -> tuple[float, str | None] | None:
    """The first money amount in `text`: "$12", "12 dollars", "twelve bucks", "45.50" → (amount, currency)."""
    text = to_digits(text)
    m = re.search(r"([$€£¥])\s*(\d+(?:[.,]\d{1,2})?)", text)
    if m:
        return float(m.group(2).replace(",", ".")), _CURRENCY_SIGNS[m.group(1)]
    m = re.search(r"(\d+(?:\.\d{1,2})?)\s*(" + "|".join(CURRENCY_WORDS) + r")\b"
                  r"(?:\s+(?:and\s+)?(\d{2}|\d(?=\s*(?:cents?|pence|p)\b))(?:\s*(?:cents?|pence|p)\b)?(?![\w.:%]|\s*(?:%|percent|"
                  + _UNIT + r")\b))?", text)
    if m:
        value = float(m.group(1))
        if m.group(2) == "cents":
            value /= 100
        elif m.group(3) and "." not in m.group(1):  # "seven pounds twenty", "5 dollars and 50 cents"
            value += int(m.group(3)) / 100
        return value, CURRENCY_WORDS[m.group(2)]
    # "twelve fifty" said as a price: a number, then two digits of cents
    m = re.search(r"(?<![\w.])(\d{1,3}) ([1-9]\d)(?![\w.:]|\s*(?:%|percent|" + _UNIT + r")\b)", text)
    if m:
        return int(m.group(1)) + int(m.group(2)) / 100, None
    m = re.search(r"(?<![\w.])(\d+(?:\.\d{1,2})?)(?![\w.:])", text)
    if m:
        return float(m.group(1)), None
    return None
