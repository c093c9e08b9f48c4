"""`timer.set` and `reminder.add`: persistent timers and reminders (see `agent.scheduling`).

They fire as an `Alert` on the bus in the resident process (`agent run`), also when they were set from
a short-lived one (`agent ask`). Cancelling: `agent reminders cancel ID` or `agent.scheduling.cancel_reminder`.
"""

from __future__ import annotations

import logging
import math
import re
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field, model_validator

from agent.events import SkillResult
from agent.scheduling import Reminder, format_clock, format_duration, list_reminders
from agent.skills.base import Args, Register, Skill, SkillContext
from agent.values import find_duration, parse_duration, parse_when, to_digits

__all__ = ["register"]

_LOGGER = logging.getLogger(__name__)

_JUST_PASSED_S = 30.0  # "in 2 seconds" routed slowly: still fire it, right away
_EXPLICIT_DAY = re.compile(
    r"\b(?:today|tonight|this (?:morning|afternoon|evening)|tomorrow|yesterday|monday|tuesday|wednesday|thursday|"
    r"friday|saturday|sunday|january|february|march|april|june|july|august|september|october|november|"
    r"december)\b|\d{4}-\d{2}-\d{2}", re.I)
_PRONOUNS = {"my": "your", "me": "you", "myself": "yourself", "i": "you", "mine": "yours", "i'm": "you're"}
_NOUN_START = re.compile(r"^(?:the|a|an|my|your|our|his|her|their)\b", re.I)


class ReminderAddArgs(Args):
    text: str = Field(min_length=1, max_length=1000)
    when: str = Field(min_length=1, description="ISO 8601 local date-time")


class TimerRefArgs(Args):
    """Which timer: by number, by label ("the pizza timer"), or the only / latest one."""

    id: int | None = Field(None, ge=1)
    label: str | None = Field(None, min_length=1, max_length=200)


class TimerAdjustArgs(TimerRefArgs):
    seconds: int = Field(ge=-7 * 24 * 3600, le=7 * 24 * 3600, description="added; negative removes")

    @model_validator(mode="after")
    def _not_zero(self) -> TimerAdjustArgs:
        if self.seconds == 0:
            raise ValueError("by how much? say how much time to add or take off")
        return self


class TimerCancelArgs(Args):
    id: int | None = Field(None, ge=1, description="the timer or reminder number; default: the latest pending")
    kind: Literal["timer", "reminder"] | None = None
    label: str | None = Field(None, min_length=1, max_length=200, description="the timer's label or reminder's words")
    all: bool = False


class TimerListArgs(Args):
    kind: Literal["timer", "reminder"] | None = None


class TimerSetArgs(Args):
    seconds: int = Field(ge=1, le=7 * 24 * 3600)
    label: str | None = None


def _timer(args: TimerSetArgs, ctx: SkillContext) -> SkillResult:
    due = datetime.now().astimezone() + timedelta(seconds=args.seconds)
    from agent.scheduling import format_duration, open_scheduler

    label = (args.label or "").strip()
    if re.match(r"^\d{4}-\d{2}-\d{2}", label):  # a time the argument extractor put in the wrong slot
        label = ""
    with open_scheduler(ctx.paths, ctx.services.scheduler) as scheduler:
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
    with open_scheduler(ctx.paths, ctx.services.scheduler) as scheduler:
        reminder = scheduler.add("reminder", args.text, due)
    ahead = math.ceil((due - now).total_seconds() - 0.01)  # the router's time has whole seconds
    when = f"in {format_duration(ahead)}" if ahead < 3600 and not rolled else f"at {format_clock(due, now)}"
    return SkillResult.ok(f"I'll remind you {_spoken(args.text)} {when}.", id=reminder.id, kind="reminder",
                          text=args.text, due=due.isoformat(timespec="seconds"), moved_to_tomorrow=rolled)


def _labelled(reminders: list[Reminder], label: str | None) -> list[Reminder]:
    if not label:
        return reminders
    want = label.lower().strip()
    return [r for r in reminders if r.text and (want in r.text.lower() or r.text.lower() in want)]


def _pick(args: TimerRefArgs, ctx: SkillContext, *, paused: bool | None = None) -> Reminder | SkillResult:
    """The timer a request means: by number, by label, else the only one (in the right state), else ask."""
    timers = [r for r in list_reminders(ctx.paths) if r.kind == "timer"]
    if args.id is not None:
        chosen = [r for r in timers if r.id == args.id]
        return chosen[0] if chosen else SkillResult.error(f"There is no running timer {args.id}.")
    if not timers:
        return SkillResult.error("You have no timers running.")
    named = _labelled(timers, args.label)
    if not named:
        return SkillResult.error(f"I can't find a {args.label} timer.", clarify="label")
    fitting = [r for r in named if paused is None or r.paused == paused] or named
    if len(fitting) == 1 or args.label:
        return max(fitting, key=lambda r: r.created)
    names = ", ".join(f"the {r.name}" for r in fitting[:4])
    return SkillResult.error(f"Which timer: {names}?", clarify="label", timers=[r.id for r in fitting])


def _cancel(args: TimerCancelArgs, ctx: SkillContext) -> SkillResult:
    """Cancel timer/reminder `id`, by label, all of a kind, or the most recently created pending one."""
    from agent.scheduling import ReminderError, cancel_reminder

    pending = [r for r in list_reminders(ctx.paths) if args.kind is None or r.kind == args.kind]
    if args.id is not None:
        targets = [args.id]
    else:
        pending = _labelled(pending, args.label)
        if not pending:
            what = f"{args.label} " if args.label else ""
            kinds = f"{args.kind}s" if args.kind else "timers or reminders"
            return SkillResult.error(f"There are no pending {what}{kinds} to cancel.")
        chosen = pending if args.all else [max(pending, key=lambda r: r.created)]
        targets = [r.id for r in chosen]
    cancelled: list[Reminder] = []
    for target_id in targets:
        try:
            cancelled.append(cancel_reminder(ctx.paths, target_id, ctx.services.scheduler))
        except ReminderError as exc:
            return SkillResult.error(f"Sorry, {exc.reply}.")
    if len(cancelled) > 1:
        return SkillResult.ok(f"Cancelled {len(cancelled)} {cancelled[0].kind}s.", ids=[r.id for r in cancelled],
                              kind=cancelled[0].kind)
    one = cancelled[0]
    what = one.name if one.kind == "timer" and one.text else (
        "timer" if one.kind == "timer" else f"reminder {_spoken(one.text)}")
    return SkillResult.ok(f"Cancelled the {what}.", id=one.id, kind=one.kind)


def _status(args: TimerRefArgs, ctx: SkillContext) -> SkillResult:
    timers = [r for r in list_reminders(ctx.paths) if r.kind == "timer"]
    if args.id is None and not args.label and len(timers) > 1:
        now = datetime.now().astimezone()
        parts = [f"the {r.name} has {format_duration(math.ceil(r.remaining(now)))} left"
                 + (" (paused)" if r.paused else "") for r in sorted(timers, key=lambda r: r.remaining(now))]
        return SkillResult.ok("; ".join(parts)[:1].upper() + "; ".join(parts)[1:] + ".",
                              timers=[r.to_json() for r in timers])
    picked = _pick(args, ctx)
    if isinstance(picked, SkillResult):
        return picked
    left = math.ceil(picked.remaining())
    state = ", paused" if picked.paused else ""
    return SkillResult.ok(f"The {picked.name} has {format_duration(left)} left{state}.", id=picked.id,
                          remaining_s=left, paused=picked.paused, label=picked.text or None)


def _pause_or_resume(args: TimerRefArgs, ctx: SkillContext, *, pause: bool) -> SkillResult:
    from agent.scheduling import ReminderError, open_scheduler

    picked = _pick(args, ctx, paused=not pause)
    if isinstance(picked, SkillResult):
        return picked
    try:
        with open_scheduler(ctx.paths, ctx.services.scheduler) as scheduler:
            changed = scheduler.pause(picked.id) if pause else scheduler.resume(picked.id)
    except ReminderError as exc:
        return SkillResult.error(f"Sorry, {exc.reply}.")
    left = math.ceil(changed.remaining())
    if pause:
        return SkillResult.ok(f"Paused the {changed.name} with {format_duration(left)} left.",
                              id=changed.id, remaining_s=left)
    return SkillResult.ok(f"Resumed the {changed.name}: {format_duration(left)} to go.", id=changed.id,
                          remaining_s=left, due=changed.due.isoformat(timespec="seconds"))


def _pause(args: TimerRefArgs, ctx: SkillContext) -> SkillResult:
    return _pause_or_resume(args, ctx, pause=True)


def _resume(args: TimerRefArgs, ctx: SkillContext) -> SkillResult:
    return _pause_or_resume(args, ctx, pause=False)


def _adjust(args: TimerAdjustArgs, ctx: SkillContext) -> SkillResult:
    from agent.scheduling import ReminderError, open_scheduler

    picked = _pick(args, ctx)
    if isinstance(picked, SkillResult):
        return picked
    try:
        with open_scheduler(ctx.paths, ctx.services.scheduler) as scheduler:
            changed = scheduler.adjust(picked.id, args.seconds)
    except ReminderError as exc:
        return SkillResult.error(f"Sorry, {exc.reply}.")
    verb = "Added" if args.seconds > 0 else "Took"
    change = format_duration(abs(args.seconds))
    where = "to" if args.seconds > 0 else "off"
    left = math.ceil(changed.remaining())
    return SkillResult.ok(f"{verb} {change} {where} the {changed.name}: {format_duration(left)} left.",
                          id=changed.id, remaining_s=left, seconds=args.seconds)


def _list(args: TimerListArgs, ctx: SkillContext) -> SkillResult:
    now = datetime.now().astimezone()
    pending = [r for r in list_reminders(ctx.paths) if args.kind is None or r.kind == args.kind]
    kinds = f"{args.kind}s" if args.kind else "timers or reminders"
    if not pending:
        return SkillResult.ok(f"You have no {kinds} pending.", items=[])
    parts = []
    for r in pending[:8]:
        if r.kind == "timer":
            parts.append(f"the {r.name}, {format_duration(math.ceil(r.remaining(now)))} left"
                         + (" (paused)" if r.paused else ""))
        else:
            parts.append(f"{r.text} {format_clock(r.due, now)}")
    more = f", and {len(pending) - 8} more" if len(pending) > 8 else ""
    return SkillResult.ok(f"You have {len(pending)}: " + "; ".join(parts) + more + ".",
                          items=[r.to_json() for r in pending])


# -- arguments from the words (the router's rule extractor for these skills) --------------------
_X_NOT_LABELS = {"a", "an", "the", "my", "this", "that", "new", "another", "second", "seconds", "minute", "minutes",
               "hour", "hours", "sec", "secs", "min", "mins", "day", "days", "half", "quarter", "kitchen", "count",
               "all", "any", "every", "running", "current", "active", "pending", "your", "one", "some", "set",
               "start", "cancel", "stop", "pause", "resume", "add", "of", "on", "to", "for", "how", "long", "much",
               "please", "thanks", "now", "timer", "timers", "countdown", "left", "more", "extra", "break"}


def _extract_timer_label(t: str) -> dict[str, Any]:
    for m in re.finditer(r"\b([a-z][a-z'-]*)\s+(?:timer|countdown)\b", t):
        word = m.group(1)
        if word not in _X_NOT_LABELS and not re.fullmatch(r"\d.*", word) and parse_duration(f"1 {word}") is None:
            return {"label": word}
    named = re.search(r"\b(?:timer|countdown)\s+(?:for|called|named|labell?ed)\s+(?:the\s+|my\s+)?([a-z][a-z' -]*)$", t)
    if named and find_duration(named.group(1)) is None and named.group(1).split()[0] not in _X_NOT_LABELS:
        return {"label": named.group(1).strip()}
    # "... and call it oven", "an hour and a quarter for the roast", "the pasta needs 12 min", "pasta's going in"
    for pattern in (r"\b(?:call|name|label)\s+it\s+(?:the\s+)?([a-z][a-z'-]*(?:\s+[a-z][a-z'-]*)?)\s*$",
                    r"\b(?:labell?ed|named|called|titled)\s+(?:the\s+)?([a-z][a-z'-]*(?:\s+[a-z][a-z'-]*)?)\s*$",
                    r"^(?:an?\s+)?\d+(?:\.\d+)?\s*(?:minutes?|mins?|hours?|hrs?|seconds?|secs?)\s+([a-z][a-z'-]*)\s*$",
                    r"\b(?:minutes?|mins?|hours?|hrs?|seconds?|secs?|quarter|half)\s+for\s+(?:the|my|our)\s+"
                    r"([a-z][a-z'-]*)\b",
                    r"^(?:ok\s+|so\s+|ok so\s+)*(?:the|my|our)\s+([a-z][a-z'-]*)\s+(?:needs|has|takes|goes)\b",
                    r"^(?:ok\s+|so\s+)*(?:the\s+|my\s+)?([a-z][a-z-]*)(?:'s| is)\s+(?:going in|in the oven|on|in|"
                    r"steeping|resting|baking|boiling|cooking)\b",
                    r"\bleave\s+(?:the\s+|my\s+)?([a-z][a-z'-]*)\s+to\s+(?:rest|rise|cool|steep|soak|set)\b"):
        said = re.search(pattern, t)
        if said and said.group(1).split()[0] not in _X_NOT_LABELS and find_duration(said.group(1)) is None:
            return {"label": said.group(1).strip()}
    return {}


def _extract_timer(t: str) -> dict[str, Any]:
    seconds = parse_duration(t)
    return {"seconds": seconds, **_extract_timer_label(t)} if seconds else _extract_timer_label(t)


def _extract_timer_ref(t: str) -> dict[str, Any]:
    m = re.search(r"\btimer\s+(?:number\s+|#\s*)?(\d+)\b"
                  r"(?!\s*(?:s|sec|secs|seconds?|m|min|mins|minutes?|h|hrs?|hours?)\b)", to_digits(t))
    return {"id": int(m.group(1))} if m else _extract_timer_label(t)


_LESS = re.compile(r"\b(?:take|knock|shave|remove|subtract|minus|less|off|shorten|reduce|decrease|cut)\b")
_MORE = re.compile(r"\b(?:add|adds|added|more|extra|another|plus|extend|increase|lengthen|longer|give it|give the|"
                   r"needs|could use|bump|top up)\b")


def _extract_timer_adjust(t: str) -> dict[str, Any]:
    """A duration is a change only when the words say so: "put on a twelve minute timer" starts one."""
    out = _extract_timer_ref(t)
    seconds = parse_duration(t)
    if seconds and (_LESS.search(t) or _MORE.search(t)):
        out["seconds"] = -seconds if _LESS.search(t) else seconds
    return out


def _extract_timer_list(t: str) -> dict[str, Any]:
    if re.search(r"\breminders?\b", t) and not re.search(r"\btimers?\b", t):
        return {"kind": "reminder"}
    if re.search(r"\b(?:timers?|countdowns?)\b", t) and not re.search(r"\breminders?\b", t):
        return {"kind": "timer"}
    return {}


def _extract_reminder(t: str, now: datetime | None = None) -> dict[str, Any]:
    found = parse_when(t, now)
    out: dict[str, Any] = {}
    rest = t
    if found:
        when, rest = found
        out["when"] = when.isoformat(timespec="seconds")
    rest = re.sub(r"^(?:set (?:a|an)?\s*reminders?|reminder:?|remind me|don't let me forget|please)\s*", "", rest)
    rest = re.sub(r"^(?:for|to|that|about|of)\s+", "", rest.strip(" :,"))
    rest = re.sub(r"\s+(?:to|at|on|for|by|before|until)$", "", rest).strip(" ,.")
    rest = re.sub(r"^remind me\s+(?:to\s+)?", "", rest)
    rest = re.sub(r"(?:[\s,]+(?:remind me|please|pls|thanks|thank you|ok|okay|for me|will you|ok\?))+$", "", rest)
    if rest:
        out["text"] = rest
    return out


def _extract_cancel(t: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    m = re.search(r"\b(?:timer|reminder|alarm|number|#)\s*(?:number\s*)?(\d+)\b", t)
    if m:
        out["id"] = int(m.group(1))
    if re.search(r"\b(?:timer|countdown|alarm)\b", t):
        out["kind"] = "timer"
    elif re.search(r"\breminder\b", t):
        out["kind"] = "reminder"
    return out


def register(reg: Register) -> None:
    reg(Skill("timer.set", "start a countdown timer", args=TimerSetArgs, run=_timer, extract=_extract_timer))
    reg(Skill("timer.cancel", "cancel a timer or reminder",
              args=TimerCancelArgs, run=_cancel, extract=_extract_cancel, numeric=True))
    reg(Skill("timer.status", "how much time is left on a timer (or on all of them)",
              args=TimerRefArgs, run=_status, extract=_extract_timer_ref))
    reg(Skill("timer.pause", "pause a running timer", args=TimerRefArgs, run=_pause, extract=_extract_timer_ref))
    reg(Skill("timer.resume", "resume a paused timer", args=TimerRefArgs, run=_resume, extract=_extract_timer_ref))
    reg(Skill("timer.adjust", "add time to a timer, or take time off it",
              args=TimerAdjustArgs, run=_adjust, extract=_extract_timer_adjust))
    reg(Skill("timer.list", "list the pending timers or reminders",
              args=TimerListArgs, run=_list, extract=_extract_timer_list))
    reg(Skill("reminder.add", "remind you of something at a time",
              args=ReminderAddArgs, run=_reminder, extract=_extract_reminder))
