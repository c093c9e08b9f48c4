"""Expenses: `finance.expense_add` and `finance.report` on one SQLite file (`finance.db`), CSV import/export.

Amounts are integer minor units (cents; yen have none, dinars have three), never floats. Reports total per
currency and per category and never add different currencies together. CSV import is all or nothing: every
row is validated first; if any row is bad, nothing is imported and every bad row is reported with its line.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import Field

from agent.events import SkillResult
from agent.skills.base import Args, PerAgent, PeriodArgs, Register, Skill, SkillContext
from agent.skills.extractors import extract_period
from agent.skills.periods import PERIOD_WORDS, period_bounds
from agent.store.sqlite import Database
from agent.values import CURRENCY_WORDS, parse_amount

__all__ = ["CSV_COLUMNS", "DB_NAME", "Expense", "ExpenseStore", "ImportReport", "export_csv", "format_money",
           "import_csv", "infer_category", "register", "to_minor"]

_LOGGER = logging.getLogger(__name__)

DB_NAME = "finance.db"
CSV_COLUMNS = ("date", "amount", "currency", "category", "note")
_REQUIRED = ("date", "amount", "currency")
_MAX_REPORTED_ERRORS = 50

MIGRATIONS = (
    """
    CREATE TABLE expenses (
        id INTEGER PRIMARY KEY,
        spent_at REAL NOT NULL,
        amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
        currency TEXT NOT NULL CHECK (length(currency) = 3 AND currency = upper(currency)),
        category TEXT NOT NULL CHECK (length(category) > 0),
        note TEXT,
        source TEXT NOT NULL,
        created REAL NOT NULL);
    CREATE INDEX expenses_spent_at ON expenses(spent_at);
    """,
)

# ISO 4217 currencies whose minor unit is not 1/100
_EXPONENT = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "UGX": 0, "PYG": 0, "XAF": 0, "XOF": 0,
             "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3, "IQD": 3, "LYD": 3}
_SYMBOL = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}

_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("groceries", r"groceries|grocery|supermarket|market|milk|bread|vegetables"),
    ("food", r"lunch|dinner|breakfast|brunch|restaurant|coffee|cafe|food|pizza|burger|sushi|ramen|noodles|sandwich|"
             r"bakery|snack|meal|takeout|takeaway|drinks?|beer"),
    ("transport", r"taxi|cab|uber|lyft|bus|train|tram|metro|subway|fuel|gas|petrol|parking|flight|toll|ticket"),
    ("housing", r"rent|mortgage|electricity|water bill|utilities|internet|phone bill|heating"),
    ("health", r"pharmacy|doctor|dentist|medicine|pills|gym|hospital"),
    ("entertainment", r"movie|cinema|concert|game|netflix|spotify|book|theatre|theater"),
    ("shopping", r"clothes|shoes|shirt|amazon|shopping|electronics"),
)


class ExpenseAddArgs(Args):
    amount: float = Field(gt=0, le=1e9)
    currency: str = Field("USD", min_length=3, max_length=3)
    category: str | None = None
    note: str | None = None


def infer_category(*texts: str | None) -> str | None:
    """The first category whose keywords appear in the texts ("lunch" → food, "taxi" → transport)."""
    joined = " ".join(t.lower() for t in texts if t)
    for category, words in _CATEGORIES:
        if re.search(rf"\b(?:{words})s?\b", joined):
            return category
    return None


def _exponent(currency: str) -> int:
    return _EXPONENT.get(currency, 2)


def to_minor(amount: Decimal | float | str, currency: str, *, strict: bool = False) -> tuple[int, bool]:
    """(integer minor units, whether it was rounded). `strict`: more decimals than the currency has is an error."""
    value = Decimal(str(amount)) if not isinstance(amount, Decimal) else amount
    quantum = Decimal(1).scaleb(-_exponent(currency))
    minor = value.quantize(quantum, rounding=ROUND_HALF_UP)
    if strict and minor != value:
        raise ValueError(f"{currency} amounts have at most {_exponent(currency)} decimals")
    return int(minor.scaleb(_exponent(currency))), minor != value


def format_money(minor: int, currency: str) -> str:
    """1250, USD → "$12.50"; 1250, CHF → "12.50 CHF"; 500, JPY → "¥500"."""
    exp = _exponent(currency)
    number = f"{Decimal(minor).scaleb(-exp):,.{exp}f}"
    symbol = _SYMBOL.get(currency)
    return f"{symbol}{number}" if symbol else f"{number} {currency}"


def _plain(minor: int, currency: str) -> str:
    exp = _exponent(currency)
    return f"{Decimal(minor).scaleb(-exp):.{exp}f}"


@dataclass(frozen=True)
class Expense:
    id: int
    spent_at: float
    amount_minor: int
    currency: str
    category: str
    note: str | None
    source: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "date": datetime.fromtimestamp(self.spent_at).isoformat(timespec="seconds"),
                "amount": _plain(self.amount_minor, self.currency), "amount_minor": self.amount_minor,
                "currency": self.currency, "category": self.category, "note": self.note, "source": self.source}


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    bad_rows: int = 0
    errors: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


class ExpenseStore:
    """The expenses database; every change is one committed transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = Database.open(path, MIGRATIONS)

    def add(self, amount_minor: int, currency: str, category: str, note: str | None = None, *,
            spent_at: float | None = None, source: str = "skill") -> Expense:
        now = time.time()
        spent = now if spent_at is None else spent_at
        with self.db.transaction() as conn:
            cur = conn.execute("INSERT INTO expenses(spent_at, amount_minor, currency, category, note, source, "
                               "created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                               (spent, amount_minor, currency, category, note, source, now))
        return Expense(int(cur.lastrowid or 0), spent, amount_minor, currency, category, note, source)

    def add_many(self, rows: list[tuple[float, int, str, str, str | None]], source: str) -> int:
        """All rows in one transaction: all are stored, or none."""
        now = time.time()
        with self.db.transaction() as conn:
            conn.executemany("INSERT INTO expenses(spent_at, amount_minor, currency, category, note, source, "
                             "created) VALUES (?, ?, ?, ?, ?, ?, ?)", [(*r, source, now) for r in rows])
        return len(rows)

    def between(self, lo: float = float("-inf"), hi: float = float("inf")) -> list[Expense]:
        rows = self.db.query("SELECT * FROM expenses WHERE spent_at >= ? AND spent_at < ? ORDER BY spent_at, id",
                             (lo, hi))
        return [Expense(int(r["id"]), float(r["spent_at"]), int(r["amount_minor"]), str(r["currency"]),
                        str(r["category"]), r["note"], str(r["source"])) for r in rows]

    def totals(self, lo: float, hi: float) -> dict[str, dict[str, int]]:
        """{currency: {category: minor units}}, summed as integers, never across currencies."""
        out: dict[str, dict[str, int]] = {}
        for r in self.db.query("SELECT currency, category, sum(amount_minor) AS s FROM expenses "
                               "WHERE spent_at >= ? AND spent_at < ? GROUP BY currency, category "
                               "ORDER BY currency, s DESC", (lo, hi)):
            out.setdefault(str(r["currency"]), {})[str(r["category"])] = int(r["s"])
        return out


# -- CSV -------------------------------------------------------------------------------------------------
def _parse_row(row: dict[str, str]) -> tuple[float, int, str, str, str | None]:
    """One CSV row to (spent_at, minor, currency, category, note); ValueError says what is wrong."""
    raw_date = (row.get("date") or "").strip()
    try:
        spent_at = datetime.fromisoformat(raw_date).timestamp()
    except ValueError:
        raise ValueError(f"date {raw_date!r} is not YYYY-MM-DD or an ISO date-time") from None
    currency = (row.get("currency") or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise ValueError(f"currency {currency!r} is not a 3-letter code such as USD")
    raw_amount = (row.get("amount") or "").strip()
    if not re.fullmatch(r"\d+(?:\.\d+)?", raw_amount):
        raise ValueError(f"amount {raw_amount!r} is not a positive number like 12.50")
    try:
        minor, _ = to_minor(Decimal(raw_amount), currency, strict=True)
    except (ValueError, InvalidOperation) as exc:
        raise ValueError(f"amount {raw_amount!r}: {exc}") from None
    if minor <= 0:
        raise ValueError("amount must be more than zero")
    note = (row.get("note") or "").strip() or None
    category = (row.get("category") or "").strip().lower() or infer_category(note) or "other"
    return spent_at, minor, currency, category, note


def import_csv(store: ExpenseStore, text: str, source: str = "import") -> ImportReport:
    """Validate every row; import all of them in one transaction, or none if any row is bad."""
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in _REQUIRED if c not in header]
    if missing:
        report.errors.append(f"line 1: the header needs columns {', '.join(_REQUIRED)}; missing {', '.join(missing)}")
        return report
    reader.fieldnames = header
    report.ignored_columns = [h for h in header if h not in CSV_COLUMNS]
    good: list[tuple[float, int, str, str, str | None]] = []
    for row in reader:
        if not any((v or "").strip() for k, v in row.items() if k is not None):
            continue
        report.rows += 1
        try:
            if None in row:
                raise ValueError("more fields than the header has")
            good.append(_parse_row(row))
        except ValueError as exc:
            report.bad_rows += 1
            if len(report.errors) < _MAX_REPORTED_ERRORS:
                report.errors.append(f"line {reader.line_num}: {exc}")
    if not report.errors and good:
        report.imported = store.add_many(good, source)
    return report


def export_csv(store: ExpenseStore, period: str | None = None) -> str:
    """Expenses as CSV in the import format (so an export imports back unchanged); all of them by default."""
    lo, hi = period_bounds(period) if period else (float("-inf"), float("inf"))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for e in store.between(lo, hi):
        writer.writerow([datetime.fromtimestamp(e.spent_at).isoformat(timespec="seconds"),
                         _plain(e.amount_minor, e.currency), e.currency, e.category, e.note or ""])
    return out.getvalue()


# -- skills ----------------------------------------------------------------------------------------------
_STORE: PerAgent[ExpenseStore] = PerAgent(lambda services: ExpenseStore(services.paths.data / DB_NAME))


def store_for(ctx: SkillContext) -> ExpenseStore:
    return _STORE.get(ctx)


def _add(args: ExpenseAddArgs, ctx: SkillContext) -> SkillResult:
    currency = args.currency.upper()
    if not currency.isalpha():
        return SkillResult.error(f"{args.currency} is not a currency code.", currency=args.currency)
    minor, rounded = to_minor(args.amount, currency)
    if minor <= 0:
        return SkillResult.error("That amount rounds to nothing.", amount=args.amount)
    if args.category:
        category, how = args.category.strip().lower(), "given"
    else:
        inferred = infer_category(args.note, ctx.utterance)
        category, how = (inferred, "inferred") if inferred else ("other", "default")
    expense = store_for(ctx).add(minor, currency, category, args.note)
    money = format_money(minor, currency)
    what = f" for {args.note}" if args.note and args.note.lower() != category else ""
    return SkillResult.ok(f"Recorded {money}{what} under {category}.", **expense.to_json(),
                          category_source=how, rounded=rounded)


def _report(args: PeriodArgs, ctx: SkillContext) -> SkillResult:
    store = store_for(ctx)
    lo, hi = period_bounds(args.period)
    totals = store.totals(lo, hi)
    when = PERIOD_WORDS[args.period]
    currencies = {cur: {"total_minor": sum(cats.values()), "total": _plain(sum(cats.values()), cur),
                        "categories": {c: {"minor": m, "amount": _plain(m, cur)} for c, m in cats.items()}}
                  for cur, cats in totals.items()}
    data = {"period": args.period, "from": datetime.fromtimestamp(lo).isoformat(timespec="seconds"),
            "to": datetime.fromtimestamp(hi).isoformat(timespec="seconds"), "currencies": currencies}
    if not totals:
        return SkillResult.ok(f"You recorded no expenses {when}.", **data)
    parts = []
    for cur, cats in sorted(totals.items(), key=lambda kv: -sum(kv[1].values())):
        shown = [f"{format_money(m, cur)} on {c}" for c, m in list(cats.items())[:3]]
        more = f" and {len(cats) - 3} more" if len(cats) > 3 else ""
        parts.append(f"{format_money(sum(cats.values()), cur)} ({', '.join(shown)}{more})")
    return SkillResult.ok(f"{when[0].upper()}{when[1:]} you spent " + " and ".join(parts) + ".", **data)


# -- arguments from the words (the router's rule extractor for these skills) --------------------
_X_CATEGORY_WORDS = {
    "food": r"lunch|dinner|breakfast|brunch|restaurant|coffee|food|pizza|snack|meal|takeout|takeaway|cafe",
    "groceries": r"groceries|grocery|supermarket|market",
    "transport": r"transport|transportation|taxi|cab|uber|lyft|bus|train|gas|fuel|parking|metro|subway|ticket"
                 r"|petrol|tolls?",
    "housing": r"housing|rent|mortgage|electricity|electric bill|water bill|utilities|internet bill|heating",
    "entertainment": r"entertainment|movies?|cinema|concert|games?|netflix|spotify|books?",
    "health": r"health|pharmacy|doctor|dentist|medicine|pills|gym|prescription",
    "shopping": r"clothes|shoes|amazon|shopping",
}


def _extract_expense(t: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    amount = parse_amount(t)
    if amount:
        out["amount"] = amount[0]
        if amount[1]:
            out["currency"] = amount[1]
    named = re.search(_NAMED_CATEGORY, t)
    if named:  # "category coffee", "under travel": the user's own category
        out["category"] = named.group(1)
    elif re.search(r"(?:^|[,;:])\s*(?:other|misc|miscellaneous)\s*(?:[,;:]|$)", t):  # "250 eur, other, a gift"
        out["category"] = "other"
    else:
        for cat, words in _X_CATEGORY_WORDS.items():
            if re.search(rf"\b(?:{words})\b", t):
                out["category"] = cat
                break
    note = _what_for(t)
    if note:
        out["note"] = note
    return out


_CURRENCY_WORD_LIST = sorted(CURRENCY_WORDS, key=len, reverse=True)
_NAMED_CATEGORY = (r"\b(?:category|categor(?:ize|ise)d? (?:it )?(?:as|under)|(?:put |file |log )?(?:it )?under(?: the)?"
                   r"(?: category)?)\s+([a-z][a-z-]*)")
_CATEGORY_NAMES = r"food|groceries|transport|transportation|housing|utilities|health|entertainment|shopping|other|misc"
_NOT_THE_THING = [
    _NAMED_CATEGORY.replace("([a-z][a-z-]*)", r"[a-z][a-z-]*"),
    r"[$€£¥]\s*\d[\d.,]*|\b\d[\d.,]*\b|\b(?:" + "|".join(_CURRENCY_WORD_LIST) + r"|cents?|pence)\b",
    r"^(?:(?:i|we|so|and|just|already|also|today|yesterday)\s+)*(?:spent|paid|dropped|blew|shelled out|bought|got|"
    r"log|logged|record|recorded|add|added|put down|put|note down|note|enter|track|write|make|expense)\b",
    r"\b(?:an?\s+|another\s+|new\s+)?(?:expense|purchase|payment|charge|spending)s?(?:\s+of)?\b",
    r"[,;:]\s*(?:" + _CATEGORY_NAMES + r")\s*(?=[,;:]|$)|^\s*(?:" + _CATEGORY_NAMES + r")\b"
    r"|(?<!\bon )(?<!\bfor )(?<!\bat )(?<!\bin )\b(?:" + _CATEGORY_NAMES + r")\s*$",
    r"\b(?:it|that|this)\b(?=\s*$)|\b(?:was|cost|costs|came to|total)\b(?=\s*[,;:]?\s*$)",
]
_EDGE_WORDS = r"on|for|at|in|to|of|a|an|the|some|my|was|is|cost|costs|and|with|from|me|it"


def _what_for(t: str) -> str | None:
    """What the money went on: the words left once the amount, the currency, the category, the bookkeeping verb
    and the edge words are taken out ("15 bucks for an uber, transport" → "uber", "electric bill was 86.40" →
    "electric bill", "log an expense: 250 EUR, other, gift for Sam" → "gift for sam")."""
    rest = t
    for pattern in _NOT_THE_THING:
        rest = re.sub(pattern, " ", rest.strip(" ,.;:"))
    rest = re.sub(r"\s*[,;:]\s*", ", ", re.sub(r"\s+", " ", rest)).strip(" ,.;:")
    edge = re.compile(rf"^(?:(?:{_EDGE_WORDS})\b[\s,]*)+|(?:[\s,]+\b(?:{_EDGE_WORDS}))+$")
    for _ in range(3):
        rest = edge.sub("", rest).strip(" ,.;:")
    rest = re.sub(r"^(?:[\w'-]+,\s*)*", lambda m: "" if len(rest.split(",")) > 2 else m.group(0), rest).strip(" ,")
    if not rest or len(rest.split()) > 6 or not re.search(r"[a-z]", rest):
        return None
    return rest


def register(reg: Register) -> None:
    reg(Skill("finance.expense_add", "record an expense",
              args=ExpenseAddArgs, run=_add, extract=_extract_expense, numeric=True))
    reg(Skill("finance.report", "what you spent, per category", args=PeriodArgs, run=_report, extract=extract_period))
