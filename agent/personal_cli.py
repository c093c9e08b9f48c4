"""`agent notes`, `agent timetrack`, `agent expenses` (wired in `agent.cli`).

    agent notes [list|delete ID] [-n N] [--json] [--yes]
    agent timetrack report [--period today|yesterday|week|month|year] [--csv FILE] [--json]
    agent expenses [report|import FILE.csv|export FILE.csv] [--period ...] [--json]

Listing, reports and deleting run the same skills the pipeline runs (deleting asks for confirmation through
the executor unless `--yes`); the CSV files are the ones the user names on the command line.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.events import ResultState, SkillResult

__all__ = ["add_parsers"]

_PERIODS = ["today", "yesterday", "week", "month", "year"]

Services = Callable[[], Any]


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")


def _run_skill(services: Any, name: str, args: dict[str, Any], *, yes: bool = False) -> SkillResult:
    result: SkillResult = services.pipeline().run_skill(name, args, source="cli", yes=yes).result
    return result


def _show(result: SkillResult, as_json: bool) -> int:
    if as_json:
        _say(json.dumps({"state": result.state.value, "reply": result.reply, "data": result.data,
                         "confirmation": result.confirmation}, ensure_ascii=False, default=str))
    else:
        _say(result.reply)
        if result.confirmation:
            _say(f"(confirm with: agent confirm {result.confirmation})")
    return 0 if result.state in (ResultState.OK, ResultState.NEEDS_CONFIRMATION) else 1


def _notes(ns: argparse.Namespace, services: Services) -> int:
    if ns.action == "delete":
        if ns.id is None:
            sys.stderr.write("error: which note? give its ID (see: agent notes list)\n")
            return 2
        return _show(_run_skill(services(), "notes.delete", {"id": ns.id}, yes=ns.yes), ns.json)
    result = _run_skill(services(), "notes.list", {"limit": ns.n})
    if ns.json or result.state is not ResultState.OK:
        return _show(result, ns.json)
    for note in result.data.get("notes", []):
        _say(f"{note['id']:>5}  {note['created_at'].replace('T', ' ')[:16]}  {note['text']}")
    if not result.data.get("notes"):
        _say(result.reply)
    return 0


def _timetrack(ns: argparse.Namespace, services: Services) -> int:
    from agent.skills.timetrack import TimeStore, report_csv

    s = services()
    code = _show(_run_skill(s, "timetrack.report", {"period": ns.period}), ns.json)
    if ns.csv:
        text = report_csv(TimeStore(s.paths.data / "timetrack.db"), ns.period)
        Path(ns.csv).expanduser().write_text(text, encoding="utf-8")
        n = text.count("\n") - 1
        (sys.stderr if ns.json else sys.stdout).write(f"wrote {n} {'entry' if n == 1 else 'entries'} to {ns.csv}\n")
    return code


def _expenses(ns: argparse.Namespace, services: Services) -> int:
    from agent.skills.finance import ExpenseStore, export_csv, import_csv

    s = services()
    if ns.action == "report":
        return _show(_run_skill(s, "finance.report", {"period": ns.period or "month"}), ns.json)
    if ns.file is None:
        sys.stderr.write(f"error: {ns.action} needs a FILE.csv\n")
        return 2
    store = ExpenseStore(s.paths.data / "finance.db")
    path = Path(ns.file).expanduser()
    if ns.action == "export":
        text = export_csv(store, ns.period)
        path.write_text(text, encoding="utf-8")
        n = text.count("\n") - 1
        _say(f"exported {n} {'expense' if n == 1 else 'expenses'} to {path}")
        return 0
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        sys.stderr.write(f"error: cannot read {path}: {exc}\n")
        return 2
    report = import_csv(store, text, source=f"import:{path.name}")
    if ns.json:
        _say(json.dumps(report.__dict__))
    elif report.errors:
        _say(f"imported nothing: {report.bad_rows} of {report.rows} rows are bad (fix them and import again)")
        for error in report.errors:
            _say(f"  {path.name}:{error.removeprefix('line ')}")
    else:
        _say(f"imported {report.imported} expenses from {path}")
    return 1 if report.errors else 0


def add_parsers(sub: Any, services: Services) -> None:
    """Add the three sub-commands to `agent`'s sub-parsers; `services` builds the resident objects."""
    n = sub.add_parser("notes", help="list your notes, or delete one by ID (asks first unless --yes)")
    n.add_argument("action", nargs="?", choices=["list", "delete"], default="list")
    n.add_argument("id", nargs="?", type=int)
    n.add_argument("-n", type=int, default=50, help="how many of the latest notes to list")
    n.add_argument("--json", action="store_true")
    n.add_argument("--yes", action="store_true", help="delete without asking")
    n.set_defaults(fn=lambda ns: _notes(ns, services))

    t = sub.add_parser("timetrack", help="time tracked per project, optionally as CSV")
    t.add_argument("action", nargs="?", choices=["report"], default="report")
    t.add_argument("--period", choices=_PERIODS, default="today")
    t.add_argument("--csv", metavar="FILE", help="also write the period's entries to FILE as CSV")
    t.add_argument("--json", action="store_true")
    t.set_defaults(fn=lambda ns: _timetrack(ns, services))

    e = sub.add_parser("expenses", help="expense report, or CSV import/export (import is all or nothing)")
    e.add_argument("action", nargs="?", choices=["report", "import", "export"], default="report")
    e.add_argument("file", nargs="?", help="FILE.csv with columns date,amount,currency[,category,note]")
    e.add_argument("--period", choices=_PERIODS, default=None, help="report: default month; export: default all")
    e.add_argument("--json", action="store_true")
    e.set_defaults(fn=lambda ns: _expenses(ns, services))
