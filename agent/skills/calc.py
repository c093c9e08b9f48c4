"""`math.calc`: a safe arithmetic evaluator over a whitelisted AST. Never `eval`."""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable
from typing import Any

from pydantic import Field

from agent.errors import SkillError
from agent.events import SkillResult
from agent.skills.base import Args, Register, Skill, SkillContext
from agent.values import to_digits

__all__ = ["CalcError", "evaluate", "normalise", "register"]


class MathCalcArgs(Args):
    expression: str = Field(min_length=1, max_length=500)


class CalcError(SkillError):
    """Not arithmetic `evaluate` can compute; `reply` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message, skill="math.calc")


_BIN: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
}
_FUNCS: dict[str, Callable[..., float]] = {
    "sqrt": math.sqrt, "abs": abs, "round": round, "log": math.log, "log10": math.log10, "ln": math.log,
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "exp": math.exp, "floor": math.floor, "ceil": math.ceil,
}
_CONSTS = {"pi": math.pi, "e": math.e}
_N = r"(-?[\d.]+)"
_VERB_FORMS = [  # "subtract 17 from 90" and friends, before the operator words are replaced
    (rf"\b(?:subtract|take away|take)\s+{_N}\s+(?:from|off)\s+{_N}", r"(\2 - \1)"),
    (rf"\btake\s+{_N}\s+and\s+(?:subtract|take away)\s+{_N}", r"(\1 - \2)"),
    (rf"\badd\s+{_N}\s+(?:and|to|plus)\s+{_N}", r"(\1 + \2)"),
    (rf"\bmultiply\s+{_N}\s+(?:by|and|with|times)\s+{_N}", r"(\1 * \2)"),
    (rf"\bdivide\s+{_N}\s+(?:by|into)\s+{_N}", r"(\1 / \2)"),
    # sharing a bill: "3 friends share a 96 euro dinner", "split 96 between 3 people"
    (rf"^\D*?{_N}\s+(?:[a-z]+\s+)?(?:share|split)\b\D*?{_N}.*$", r"(\2 / \1)"),
    (rf"^\D*?\bsplit\b\D*?{_N}\D*?\b(?:between|among|by|into)\s+{_N}.*$", r"(\1 / \2)"),
]
_PHRASES = [
    (r"\bsquare root of\s+([\d.]+)", r"sqrt(\1)"),
    (r"([\d.]+)\s*(?:percent|%)\s+of\s+([\d.]+)", r"(\1/100*\2)"),
    (r"([\d.]+)\s+squared\b", r"(\1**2)"),
    (r"([\d.]+)\s+cubed\b", r"(\1**3)"),
    (r"\bto the power of\b|\braised to(?: the power of)?\b", "**"),
    (r"\bmultiplied by\b|\btimes\b|(?<=\d)\s*x\s*(?=\d)|×", "*"),
    (r"\bdivided by\b|\bover\b|÷", "/"),
    (r"\bplus\b|\badded to\b", "+"),
    (r"\bminus\b|\bless\b", "-"),
    (r"\bmod(?:ulo)?\b", "%"),
    (r"\^", "**"),
]


def normalise(text: str) -> str:
    """Spoken arithmetic to an expression: "fifteen times 24" → "15 * 24"."""
    s = to_digits(text.lower())
    s = re.sub(r"(?<=\d),(?=\d{3}\b)", "", s)
    s = re.sub(r"^\s*(?:what do (?:you|i) get if (?:you|i)|can you|please|what's|what is)\s+", "", s)
    for pattern, repl in _VERB_FORMS:
        s = re.sub(pattern, repl, s)
    for pattern, repl in _PHRASES:
        s = re.sub(pattern, f" {repl} " if not repl.startswith(("(", "sqrt")) else repl, s)
    s = re.sub(r"^\s*(what'?s|what is|calculate|compute|how much is|evaluate)\s+", "", s)
    s = re.sub(r"[?=!]+\s*$", "", s).strip()
    return re.sub(r"\s+", " ", s)


def _eval(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow) and (abs(right) > 1000 or abs(left) > 1e6 and right > 10):
            raise CalcError("that power is too large")
        try:
            return _BIN[type(node.op)](left, right)
        except ZeroDivisionError:
            raise CalcError("division by zero") from None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _eval(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Name) and node.id in _CONSTS:
        return _CONSTS[node.id]
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCS
            and not node.keywords and len(node.args) <= 2):
        try:
            return float(_FUNCS[node.func.id](*[_eval(a) for a in node.args]))
        except (ValueError, OverflowError, CalcError) as exc:
            raise CalcError(f"{node.func.id}: {exc.reply if isinstance(exc, CalcError) else exc}") from None
    raise CalcError("I can only do arithmetic")


def evaluate(expression: str) -> tuple[str, float]:
    """Return (normalised expression, value) or raise `CalcError`."""
    expr = normalise(expression)
    if not expr or len(expr) > 300:
        raise CalcError("I didn't find an expression to calculate")
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        raise CalcError(f"I couldn't read '{expression}' as arithmetic") from None
    try:
        value = _eval(tree)
    except OverflowError:
        raise CalcError("the result is too large") from None
    return expr, value


def _format(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}".replace(",", "") if abs(value) < 10000 else f"{int(value):,}"
    return f"{value:.6g}"


def _calc(args: MathCalcArgs, ctx: SkillContext) -> SkillResult:
    try:
        expr, value = evaluate(args.expression)
    except CalcError as exc:
        return SkillResult.error(f"Sorry, {exc.reply}.", expression=args.expression)
    shown = _format(value)
    said = re.sub(r"[?!.]+$", "", args.expression.strip())
    if re.match(r"(?i)^(?:add|subtract|take|multiply|divide|what do)\b", said):
        spoken = "That"
    elif re.search(r"[a-z%]", said, re.I):
        spoken = said  # "12% of 300", "15 times 24": say it back the way the user said it
    else:
        spoken = expr
    return SkillResult.ok(f"{spoken} is {shown}.", expression=expr, value=value)


# -- arguments from the words (the router's rule extractor for these skills) --------------------
def _extract_calc(t: str) -> dict[str, Any]:
    m = re.search(r"(?:calculate|compute|evaluate|what's|what is|how much is|work out|solve)\s+(.+)$", t)
    expr = m.group(1) if m else t
    return {"expression": expr.strip()}


def register(reg: Register) -> None:
    reg(Skill("math.calc", "calculate an arithmetic expression",
              args=MathCalcArgs, run=_calc, extract=_extract_calc, numeric=True))
