from __future__ import annotations

from datetime import datetime

import pytest

from agent.router.slots import clean
from agent.values import parse_amount, parse_duration, parse_number, parse_when

NOW = datetime(2026, 3, 10, 14, 0)  # a Tuesday, 2 pm


@pytest.mark.parametrize(
    ("text", "value"),
    [("twenty four", 24), ("twenty-four", 24), ("one hundred and five", 105), ("a hundred", 100),
     ("one and a half", 1.5), ("2300", 2300), ("1,200", 1200), ("two thousand three hundred", 2300)],
)
def test_numbers_as_words(text: str, value: float) -> None:
    assert parse_number(text) == value


def test_clean_removes_fillers_and_punctuation_keeps_meaning() -> None:
    assert clean("Um, uh, set a timer for FIVE minutes, please!") == "set a timer for five minutes"
    assert clean("Could you please open log.txt?") == "open log.txt"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5 minutes", 300), ("90 seconds", 90), ("1 hour 30 minutes", 5400), ("2 hrs", 7200)],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("an hour and a half timer", 5400), ("half an hour", 1800), ("a minute", 60), ("two and a half hours", 9000)],
)
def test_spoken_durations(text: str, seconds: int) -> None:
    assert parse_duration(clean(text)) == seconds
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "expected", "rest"),
    [
        ("remind me at 5pm to call mom", datetime(2026, 3, 10, 17, 0), "remind me to call mom"),
        ("in 20 minutes check the oven", datetime(2026, 3, 10, 14, 20), "check the oven"),
        ("tomorrow at 9 send the report", datetime(2026, 3, 11, 9, 0), "send the report"),
        ("at 17:30 leave", datetime(2026, 3, 10, 17, 30), "leave"),
        ("at 3 call bob", datetime(2026, 3, 10, 15, 0), "call bob"),
        ("on friday pay rent", datetime(2026, 3, 13, 9, 0), "pay rent"),
        ("at noon lunch", datetime(2026, 3, 11, 12, 0), "lunch"),
        ("tonight at 7 buy bread", datetime(2026, 3, 10, 19, 0), "buy bread"),
    ],
)
def test_times(text: str, expected: datetime, rest: str) -> None:
    found = parse_when(text, NOW)
    assert found is not None
    assert found[0] == expected
    assert found[1] == rest


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [("spent 12 dollars on lunch", 12, "USD"), ("$9.99 netflix", 9.99, "USD"), ("30 euros taxi", 30, "EUR"),
     ("45.50 for groceries", 45.5, None), ("£5 coffee", 5, "GBP")],
)
def test_amounts(text: str, amount: float, currency: str | None) -> None:
    assert parse_amount(text) == (amount, currency)
