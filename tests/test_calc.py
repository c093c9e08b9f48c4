from __future__ import annotations

import pytest

from agent.skills.calc import CalcError, evaluate


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("15 times 24", 360), ("fifteen times twenty four", 360), ("120 divided by 8", 15),
        ("2 + 3 * 4", 14), ("(2 + 3) * 4", 20), ("2 to the power of 10", 1024), ("square root of 81", 9),
        ("18 percent of 250", 45), ("7 squared", 49), ("10 minus 15", -5), ("1,200 plus 5", 1205),
        ("what is 9 x 9", 81), ("-3 * -3", 9), ("17 mod 5", 2), ("subtract 17 from 90", 73),
        ("take 50 and subtract 8", 42), ("add 34 and 58", 92), ("multiply 6 by 7", 42), ("divide 1000 by 25", 40),
    ],
)
def test_arithmetic(text: str, value: float) -> None:
    assert evaluate(text)[1] == pytest.approx(value)


@pytest.mark.parametrize(
    "text",
    ["__import__('os').system('id')", "open('/etc/passwd')", "().__class__", "x + 1", "2 ** 100000",
     "1 / 0", "lambda: 1", "[1, 2]", ""],
)
def test_anything_but_arithmetic_is_rejected(text: str) -> None:
    with pytest.raises(CalcError):
        evaluate(text)
