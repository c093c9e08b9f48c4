"""The `agent` command line. See README "Command line" for the contract other tools rely on."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from agent import __version__
from agent.config import load_settings
from agent.errors import AgentError, AuditError
from agent.logs import setup_logging
from agent.paths import get_paths

__all__ = ["main"]

_LOGGER = logging.getLogger(__name__)


def _services() -> Any:
    from agent.services import build_services

    paths = get_paths().ensure()
    settings = load_settings(paths)
    setup_logging(paths, settings.log_level, settings.console_log_level, log_text=settings.log_text)
    return build_services(paths, settings)


def cmd_ask(ns: argparse.Namespace) -> int:

    if ns.audio:  # the whole voice pipeline on a recording
        from agent.speech.cli import ask_audio

        return ask_audio(_services(), ns)
    if not ns.text:
        print("error: give TEXT to ask, or --audio FILE.wav", file=sys.stderr)
        return 2
    outcome = _services().pipeline().handle(" ".join(ns.text), yes=ns.yes, dry_run=ns.dry_run)
    if ns.json:
        print(json.dumps(outcome.to_json(), ensure_ascii=False, default=str))
    else:
        print(outcome.result.reply)
        if outcome.result.confirmation:
            print(f"(confirm with: agent confirm {outcome.result.confirmation})")
    return 0


def cmd_confirm(ns: argparse.Namespace) -> int:

    outcome = _services().pipeline().confirm(ns.token, granted=not ns.no)
    print(json.dumps(outcome.to_json(), default=str) if ns.json else outcome.result.reply)
    return 0


def _route_json(router: Any, text: str) -> dict[str, Any]:
    intent = router.route(text)
    return {"input": text, "skill": intent.skill, "args": intent.args, "tier": intent.tier,
            "confidence": round(intent.confidence, 3), "ms": round(intent.ms, 2),
            "question": intent.question, "timings_ms": {k: round(v, 2) for k, v in intent.timings.items()}}


def cmd_route(ns: argparse.Namespace) -> int:
    router = _services().router()
    if ns.text:
        print(json.dumps(_route_json(router, " ".join(ns.text)), default=str))
        return 0
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(_route_json(router, line.strip()), default=str), flush=True)
    return 0


def cmd_audit(ns: argparse.Namespace) -> int:
    services = _services()
    if ns.action == "verify":
        try:
            n = services.audit.verify()
        except AuditError as exc:
            print(f"TAMPERED: {exc}", file=sys.stderr)
            return 1
        print(f"ok: {n} records, keyed chain intact ({services.audit.path})")
        return 0
    for record in services.audit.tail(ns.n):
        print(json.dumps(record, ensure_ascii=False) if ns.json else
              f"{record['seq']:>6} {record['ts']} {record['event']:<22} {json.dumps(record['data'])[:150]}")
    return 0


def cmd_doctor(ns: argparse.Namespace) -> int:
    from agent.doctor import repair_stores, run_checks

    services = _services()
    if ns.repair:
        moved = repair_stores(services)
        for store, dest in moved:
            print(f"repaired {store}: the damaged file was moved to {dest} (nothing deleted); a fresh one starts empty")
        if not moved:
            print("no damaged store: nothing to repair")
    rows = run_checks(services)
    if ns.json:
        print(json.dumps([r.__dict__ for r in rows]))
        return 0
    width = max(len(r.name) for r in rows)
    for r in rows:
        state = r.state or ("ok" if r.ok else "MISSING")
        print(f"{r.name:<{width}}  {state:<7}  {r.detail}" + ("" if r.ok else f"\n{'':<{width}}  fix: {r.fix}"))
    return 0


def cmd_run(ns: argparse.Namespace) -> int:
    from agent.app import run_agent

    return run_agent(_services())


def cmd_api(ns: argparse.Namespace) -> int:
    from agent.api import load_token, serve

    services = _services()
    if ns.action == "token":
        print(load_token(services.paths))
        return 0
    return serve(services, host=ns.host, port=ns.port, announce=lambda api: print(
        f"API serving on {api.url} (docs: {api.url}/api/docs; token: agent api token); Ctrl-C stops", flush=True))


def cmd_models(ns: argparse.Namespace) -> int:
    from agent.models.catalog import list_models

    services = _services()
    if ns.action == "list":
        for m in list_models(services.settings):
            print(f"{m.kind:<9} {m.name:<28} {'ok' if m.available else 'missing':<8} {m.size_mb:>7} MB  {m.path}")
        return 0
    started = time.perf_counter()
    llm = services.models.load(ns.model)
    print(f"loaded {llm.name} in {(time.perf_counter() - started) * 1000:.0f} ms")
    return 0


def cmd_history(ns: argparse.Namespace) -> int:
    services = _services()
    history = services.history()
    if history is None:
        if services.history_error is not None:
            print(f"error: history is off: {services.history_error}", file=sys.stderr)
            return 1
        print("history is off (history.enabled: false)")
        return 0
    if ns.action == "clear":
        print(f"cleared {history.clear()} turns")
        return 0
    for turn in history.recent(ns.n):
        if ns.json:
            print(json.dumps(turn.__dict__, default=str))
        else:
            stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(turn.ts))
            print(f"{stamp}  you: {turn.text}\n{'':16}  agent [{turn.skill}, {turn.state}]: {turn.reply}")
    return 0


def cmd_reminders(ns: argparse.Namespace) -> int:
    from agent.scheduling import cancel_reminder, list_reminders

    paths = get_paths().ensure()
    if ns.action == "cancel":
        if ns.id is None:
            print("error: which one? give its ID (see: agent reminders list)", file=sys.stderr)
            return 2
        done = cancel_reminder(paths, ns.id)
        print(json.dumps(done.to_json()) if ns.json else f"cancelled {done.kind} {done.id}")
        return 0
    rows = list_reminders(paths, include_done=ns.all)
    if ns.json:
        print(json.dumps([r.to_json() for r in rows]))
    else:
        print("\n".join(r.describe() for r in rows) if rows else "no pending reminders or timers")
    return 0


def cmd_index(ns: argparse.Namespace) -> int:
    from agent.files.cli import run_index

    return run_index(_services(), ns)


def cmd_search(ns: argparse.Namespace) -> int:
    from agent.files.cli import run_search

    return run_search(_services(), ns)


def cmd_eval(ns: argparse.Namespace) -> int:
    from agent.evaluate import evaluate_router, format_report

    services = _services()
    report = evaluate_router(services, ns.file, with_replies=not ns.no_replies)
    print(json.dumps(report, default=str) if ns.json else format_report(report))
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="agent", description="An ambient desktop agent, all local.")
    p.add_argument("--version", action="version", version=f"agent {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    a = sub.add_parser("ask", help="run the pipeline once on TEXT")
    a.add_argument("text", nargs="*")
    a.add_argument("--json", action="store_true", help="print one JSON object")
    a.add_argument("--dry-run", action="store_true", help="route and validate, execute nothing")
    a.add_argument("--yes", action="store_true", help="confirm a destructive action up front")
    a.set_defaults(fn=cmd_ask)
    from agent.speech.cli import add_ask_options

    add_ask_options(a)  # --audio FILE.wav (voice pipeline on a recording), --speak, --reply-wav, --no-tts

    c = sub.add_parser("confirm", help="grant (or --no: refuse) a pending confirmation")
    c.add_argument("token")
    c.add_argument("--no", action="store_true")
    c.add_argument("--json", action="store_true")
    c.set_defaults(fn=cmd_confirm)

    r = sub.add_parser("route", help="the routing decision only; with no TEXT, one utterance per stdin line")
    r.add_argument("text", nargs="*")
    r.add_argument("--json", action="store_true", help="JSON output (the default and only format)")
    r.set_defaults(fn=cmd_route)

    d = sub.add_parser("doctor", help="what works on this machine, and the fix for what does not")
    d.add_argument("--json", action="store_true")
    d.add_argument("--repair", action="store_true",
                   help="move each damaged store aside under a dated name (never deleted) and start it fresh")
    d.set_defaults(fn=cmd_doctor)

    au = sub.add_parser("audit", help="the audit log")
    au.add_argument("action", choices=["verify", "tail"])
    au.add_argument("-n", type=int, default=20)
    au.add_argument("--json", action="store_true")
    au.set_defaults(fn=cmd_audit)

    m = sub.add_parser("models", help="list models, or load one (an embedded name or a GGUF path)")
    m.add_argument("action", choices=["list", "load"])
    m.add_argument("model", nargs="?")
    m.set_defaults(fn=cmd_models)

    h = sub.add_parser("history", help="list (or clear) the encrypted conversation history")
    h.add_argument("action", nargs="?", choices=["list", "clear"], default="list")
    h.add_argument("-n", type=int, default=20)
    h.add_argument("--json", action="store_true")
    h.set_defaults(fn=cmd_history)

    rm = sub.add_parser("reminders", help="list pending reminders and timers, or cancel one by ID")
    rm.add_argument("action", nargs="?", choices=["list", "cancel"], default="list")
    rm.add_argument("id", nargs="?", type=int)
    rm.add_argument("--all", action="store_true", help="also those that fired or were cancelled")
    rm.add_argument("--json", action="store_true")
    rm.set_defaults(fn=cmd_reminders)

    e = sub.add_parser("eval", help="evaluate a component on a JSONL file")
    e.add_argument("what", choices=["router"])
    e.add_argument("file")
    e.add_argument("--json", action="store_true")
    e.add_argument("--no-replies", action="store_true", help="skip running skills for reply_contains checks")
    e.set_defaults(fn=cmd_eval)

    from agent.files.cli import add_parsers as add_files_parsers

    add_files_parsers(sub, cmd_index, cmd_search)

    from agent.personal_cli import add_parsers as add_personal_parsers

    add_personal_parsers(sub, _services)  # agent notes / timetrack / expenses

    from agent.vault.cli import add_parsers as add_vault_parsers

    add_vault_parsers(sub, _services)  # agent vault list / delete

    from agent.automation.cli import add_parsers as add_automation_parsers

    add_automation_parsers(sub, _services)  # agent rules / health / scan

    from agent.speech.cli import add_parsers as add_speech_parsers

    add_speech_parsers(sub, _services)  # agent transcribe / say / listen / devices

    from agent.autostart import add_parsers as add_autostart_parsers

    add_autostart_parsers(sub, _services)  # agent autostart enable / disable / status

    run = sub.add_parser("run", help="start the resident agent")
    run.set_defaults(fn=cmd_run)

    api = sub.add_parser("api", help="serve the local HTTP API alone (foreground), or print its token")
    api.add_argument("action", nargs="?", choices=["serve", "token"], default="serve")
    api.add_argument("--host", help="a loopback address (default: api.host)")
    api.add_argument("--port", type=int, help="default: api.port; 0 picks a free one (see <data>/api/server.json)")
    api.set_defaults(fn=cmd_api)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    ns = _parser().parse_args(argv)
    fn: Callable[[argparse.Namespace], int] = ns.fn
    try:
        return fn(ns)
    except AgentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
