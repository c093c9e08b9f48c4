"""`timer.set` and `reminder.add`: persistent timers and reminders (see `agent.scheduling`).

They fire as an `Alert` on the bus in the resident process (`agent run`), also when they were set from
a short-lived one (`agent ask`). Cancelling: `agent reminders cancel ID` or `agent.scheduling.cancel_reminder`.
"""

from __future__ import annotations

import logging
import math
import re
from datetime import datetime, timedelta

from agent.events import SkillResult
from agent.skills.base import Register, SkillContext
from agent.skills.catalog import ReminderAddArgs, TimerCancelArgs, TimerSetArgs, implement

__all__ = ["register"]

_LOGGER = logging.getLogger(__name__)

_JUST_PASSED_S = 30.0  # "in 2 seconds" routed slowly: still fire it, right away
_EXPLICIT_DAY = re.compile(
    r"\b(?:today|tonight|this (?:morning|afternoon|evening)|tomorrow|yesterday|monday|tuesday|wednesday|thursday|"
    r"friday|saturday|sunday|january|february|march|april|june|july|august|september|october|november|"
    r"december)\b|\d{4}-\d{2}-\d{2}", re.I)
_PRONOUNS = {"my": "your", "me": "you", "myself": "yourself", "i": "you", "mine": "yours", "i'm": "you're"}
_NOUN_START = re.compile(r"^(?:the|a|an|my|your|our|his|her|their)\b", re.I)


def _timer(args: TimerSetArgs, ctx: SkillContext) -> SkillResult:
    due = datetime.now().astimezone() + timedelta(seconds=args.seconds)
    from agent.scheduling import format_duration, open_scheduler

    label = (args.label or "").strip()
    if re.match(r"^\d{4}-\d{2}-\d{2}", label):  # a time the argument extractor put in the wrong slot
        label = ""
    with open_scheduler(ctx.paths, ctx.services) as scheduler:
        timer = scheduler.add("timer", label, due, seconds=args.seconds)
    reply = f"Timer set for {format_duration(args.seconds)}" + (f" ({label})." if label else ".")
    return SkillResult.ok(reply, id=timer.id, kind="timer", seconds=args.seconds, label=label or None,
                          due=due.isoformat(timespec="seconds"))


def _spoken(text: str) -> str:
    """ "call my mom" → "to call your mom"; "the dentist" → "about the dentist"."""
    flipped = re.sub(r"\b(?:my|me|myself|i|mine|i'm)\b", lambda m: _PRONOUNS[m.group(0).lower()], text, flags=re.I)
    if re.match(r"^(?:to|about|that)\b", flipped, re.I):
        return flipped
    return f"about {flipped}" if _NOUN_START.match(flipped) else f"to {flipped}"


def _resolve_past(due: datetime, now: datetime, utterance: str) -> tuple[datetime, bool] | SkillResult:
    """A due time in the past: just passed → now; a bare clock time earlier today → tomorrow; else ask."""
    from agent.scheduling import format_clock

    lag = (now - due).total_seconds()
    if lag <= 0:
        return due, False
    if lag <= _JUST_PASSED_S:
        return now, False
    if lag < 24 * 3600 and utterance.strip() and not _EXPLICIT_DAY.search(utterance):
        return due + timedelta(days=1), True  # "at 5pm" said at 5:40 PM means tomorrow; the reply says so
    when = format_clock(due, now)
    return SkillResult.error(f"{when[:1].upper()}{when[1:]} has already passed. When should I remind you?",
                             clarify="when", due=due.isoformat(timespec="seconds"))


def _reminder(args: ReminderAddArgs, ctx: SkillContext) -> SkillResult:
    now = datetime.now().astimezone()  # before the imports: "in 3 seconds" was counted from the routing
    from agent.scheduling import ReminderError, format_clock, format_duration, open_scheduler, parse_when

    try:
        due = parse_when(args.when, now)
    except ReminderError as exc:
        return SkillResult.error(f"Sorry, {exc.reply}. When should I remind you?", clarify="when", when=args.when)
    resolved = _resolve_past(due, now, ctx.utterance)
    if isinstance(resolved, SkillResult):
        return resolved
    due, rolled = resolved
    with open_scheduler(ctx.paths, ctx.services) as scheduler:
        reminder = scheduler.add("reminder", args.text, due)
    ahead = math.ceil((due - now).total_seconds() - 0.01)  # the router's time has whole seconds
    when = f"in {format_duration(ahead)}" if ahead < 3600 and not rolled else f"at {format_clock(due, now)}"
    return SkillResult.ok(f"I'll remind you {_spoken(args.text)} {when}.", id=reminder.id, kind="reminder",
                          text=args.text, due=due.isoformat(timespec="seconds"), moved_to_tomorrow=rolled)


def _cancel(args: TimerCancelArgs, ctx: SkillContext) -> SkillResult:
    """Cancel timer/reminder `id`, or the most recently created pending one (of `kind`, if given)."""
    from agent.scheduling import ReminderError, cancel_reminder, list_reminders

    target_id = args.id
    if target_id is None:
        pending = [r for r in list_reminders(ctx.paths) if args.kind is None or r.kind == args.kind]
        if not pending:
            what = f"{args.kind}s" if args.kind else "timers or reminders"
            return SkillResult.error(f"There are no pending {what} to cancel.")
        target_id = max(pending, key=lambda r: r.created).id
    try:
        cancelled = cancel_reminder(ctx.paths, target_id, ctx.services)
    except ReminderError as exc:
        return SkillResult.error(f"Sorry, {exc.reply}.")
    what = "timer" if cancelled.kind == "timer" else f"reminder {_spoken(cancelled.text)}"
    return SkillResult.ok(f"Cancelled the {what}.", id=cancelled.id, kind=cancelled.kind)


def register(reg: Register) -> None:
    reg(implement("timer.set", _timer))
    reg(implement("timer.cancel", _cancel))
    reg(implement("reminder.add", _reminder))
