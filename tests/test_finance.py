"""Expenses on a real SQLite file: integer minor units, per-currency reports, all-or-nothing CSV import."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from agent.config import load_settings
from agent.events import ResultState
from agent.paths import Paths
from agent.pipeline import Pipeline
from agent.services import Services, build_services
from agent.skills.finance import (
    DB_NAME,
    ExpenseStore,
    export_csv,
    format_money,
    import_csv,
    infer_category,
    to_minor,
)
from tests.conftest import run_cli


@pytest.mark.parametrize(("amount", "currency", "minor", "rounded"), [
    (12, "USD", 1200, False), (45.5, "USD", 4550, False), (0.1 + 0.2, "USD", 30, True), (19.99, "EUR", 1999, False),
    (500, "JPY", 500, False), (1.234, "BHD", 1234, False), (12.345, "USD", 1235, True), ("0.005", "USD", 1, True),
])
def test_to_minor(amount: float | str, currency: str, minor: int, rounded: bool) -> None:
    assert to_minor(amount, currency) == (minor, rounded)


def test_strict_amounts_and_formatting() -> None:
    with pytest.raises(ValueError, match="at most 2 decimals"):
        to_minor(Decimal("12.345"), "USD", strict=True)
    with pytest.raises(ValueError, match="at most 0 decimals"):
        to_minor(Decimal("1.5"), "JPY", strict=True)
    assert format_money(1250, "USD") == "$12.50"
    assert format_money(123456789, "EUR") == "€1,234,567.89"
    assert format_money(500, "JPY") == "¥500"
    assert format_money(1250, "CHF") == "12.50 CHF"


@pytest.mark.parametrize(("note", "category"), [
    ("lunch", "food"), ("a taxi to the airport", "transport"), ("weekly groceries", "groceries"),
    ("coffees", "food"), ("pharmacy", "health"), ("netflix", "entertainment"), ("a present for mum", None),
])
def test_infer_category(note: str, category: str | None) -> None:
    assert infer_category(note) == category


@pytest.mark.clock
def test_expenses_through_the_pipeline(services: Services) -> None:
    pipeline = Pipeline(services)
    lunch = pipeline.handle("I spent 12 dollars on lunch")
    assert lunch.intent.skill == "finance.expense_add"
    assert lunch.result.state is ResultState.OK
    assert lunch.result.reply == "Recorded $12.00 for lunch under food."
    assert (lunch.result.data["amount_minor"], lunch.result.data["currency"]) == (1200, "USD")
    groceries = pipeline.handle("add an expense of 45.50 for groceries")
    assert groceries.result.data["amount_minor"] == 4550
    assert groceries.result.data["category"] == "groceries"
    taxi = pipeline.run_skill("finance.expense_add", {"amount": 30, "currency": "eur", "note": "taxi home"})
    assert (taxi.result.data["category"], taxi.result.data["category_source"]) == ("transport", "inferred")
    gift = pipeline.run_skill("finance.expense_add", {"amount": 20, "note": "a present for mum"})
    assert gift.result.data["category"] == "other"
    assert gift.result.data["category_source"] == "default"
    report = pipeline.handle("how much did I spend this month")
    assert report.intent.skill == "finance.report"
    assert report.result.reply == ("This month you spent $77.50 ($45.50 on groceries, $20.00 on other, "
                                   "$12.00 on food) and €30.00 (€30.00 on transport).")
    currencies = report.result.data["currencies"]
    assert currencies["USD"]["total_minor"] == 7750  # never added to the euros
    assert currencies["EUR"]["total_minor"] == 3000
    assert currencies["USD"]["categories"]["food"] == {"minor": 1200, "amount": "12.00"}
    store = ExpenseStore(services.paths.data / DB_NAME)
    assert {r[0] for r in store.db.query("SELECT typeof(amount_minor) FROM expenses")} == {"integer"}
    nothing = pipeline.run_skill("finance.report", {"period": "yesterday"})
    assert nothing.result.reply == "You recorded no expenses yesterday."


@pytest.mark.clock
def test_expenses_survive_a_restart(paths: Paths) -> None:
    for services, name, args in ((build_services(paths, load_settings(paths)), "finance.expense_add",
                                  {"amount": 8.99, "currency": "GBP", "note": "a movie"}),
                                 (build_services(paths, load_settings(paths)), "finance.report", {"period": "today"})):
        skill = services.registry.get(name)
        assert skill is not None
        assert skill.run is not None
        result = skill.run(skill.args.model_validate(args), services.context())
    assert result.reply == "Today you spent £8.99 (£8.99 on entertainment)."


GOOD_CSV = """date,amount,currency,category,note
2026-03-01,12.50,USD,food,lunch with ana
2026-03-02T18:30:00,45,usd,,weekly groceries
2026-03-03,1500,JPY,,"ramen, late"
"""

BAD_CSV = """date,amount,currency,category,note
2026-03-01,12.50,USD,food,lunch
2026-03-32,3,USD,,bad date
2026-03-03,abc,USD,,not a number
2026-03-04,4.005,USD,,too precise
2026-03-05,5,US,,short currency

2026-03-06,"7","EUR",,"a note
over two lines"
2026-03-07,0,EUR,,zero
"""


def test_import_is_all_or_nothing(tmp_path: Path) -> None:
    store = ExpenseStore(tmp_path / DB_NAME)
    bad = import_csv(store, BAD_CSV)
    assert bad.imported == 0
    assert bad.rows == 7
    assert bad.bad_rows == 5
    assert [e.split(":")[0] for e in bad.errors] == ["line 3", "line 4", "line 5", "line 6", "line 10"]
    assert "2026-03-32" in bad.errors[0]
    assert "'abc'" in bad.errors[1]
    assert "at most 2 decimals" in bad.errors[2]
    assert store.between() == []  # nothing imported, not even the good rows
    good = import_csv(store, GOOD_CSV)
    assert (good.rows, good.imported, good.errors) == (3, 3, [])
    rows = [(e.amount_minor, e.currency, e.category, e.note) for e in store.between()]
    assert rows == [(1250, "USD", "food", "lunch with ana"), (4500, "USD", "groceries", "weekly groceries"),
                    (1500, "JPY", "food", "ramen, late")]
    header = import_csv(store, "when,amount\n2026-01-01,3\n")
    assert header.errors == ["line 1: the header needs columns date, amount, currency; missing date, currency"]


def test_export_imports_back_unchanged(tmp_path: Path) -> None:
    first = ExpenseStore(tmp_path / "a" / DB_NAME)
    assert import_csv(first, GOOD_CSV).imported == 3
    exported = export_csv(first)
    second = ExpenseStore(tmp_path / "b" / DB_NAME)
    assert import_csv(second, exported).imported == 3
    assert export_csv(second) == exported
    assert exported.splitlines()[0] == "date,amount,currency,category,note"
    assert exported.splitlines()[3] == '2026-03-03T00:00:00,1500,JPY,food,"ramen, late"'


@pytest.mark.clock
def test_cli_import_report_export(agent_home: Path, tmp_path: Path) -> None:
    bad, good, out = tmp_path / "bad.csv", tmp_path / "good.csv", tmp_path / "out.csv"
    bad.write_text(BAD_CSV)
    good.write_text(GOOD_CSV.replace("2026-03-0", "2026-01-0"))
    refused = run_cli("expenses", "import", str(bad))
    assert refused.returncode == 1
    lines = refused.stdout.splitlines()
    assert lines[0] == "imported nothing: 5 of 7 rows are bad (fix them and import again)"
    assert lines[1].startswith("  bad.csv:3: date '2026-03-32'")
    imported = run_cli("expenses", "import", str(good), "--json")
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["imported"] == 3
    exported = run_cli("expenses", "export", str(out))
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.strip() == f"exported 3 expenses to {out}"
    assert out.read_text() == export_csv(ExpenseStore(agent_home / "data" / DB_NAME))
