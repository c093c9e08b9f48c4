"""Report periods in local time, shared by `timetrack.report` and `finance.report`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

__all__ = ["PERIOD_WORDS", "Period", "period_bounds"]

Period = Literal["today", "yesterday", "week", "month", "year"]

PERIOD_WORDS: dict[str, str] = {
    "today": "today", "yesterday": "yesterday", "week": "this week", "month": "this month", "year": "this year",
}


def period_bounds(period: str, now: float | None = None) -> tuple[float, float]:
    """[start, end) in epoch seconds: calendar day, week (from Monday), month or year, in local time.

    The end is the end of the calendar period (not now), so entries dated later today still count.
    """
    current = datetime.fromtimestamp(now) if now is not None else datetime.now()
    day = current.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "today":
        start, end = day, day + timedelta(days=1)
    elif period == "yesterday":
        start, end = day - timedelta(days=1), day
    elif period == "week":
        start = day - timedelta(days=day.weekday())
        end = start + timedelta(days=7)
    elif period == "month":
        start = day.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
    elif period == "year":
        start, end = day.replace(month=1, day=1), day.replace(year=day.year + 1, month=1, day=1)
    else:
        raise ValueError(f"unknown period {period!r}: use today, yesterday, week, month or year")
    return start.timestamp(), end.timestamp()
