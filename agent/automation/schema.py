"""The rule language, pinned: pydantic models with `extra="forbid"` for every rule, trigger, condition and action.

A rule file is a YAML list of rules. Triggers, conditions and actions are each a mapping whose *kind key*
(`metric`, `schedule`, `notify`, `and`, ...) says what it is; a callable discriminator picks the model, so a
validation error names the exact kind and key. The loader (`loader.py`) maps errors back to `file:line:col`.
"""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from agent.values import duration_seconds

__all__ = [
    "KIND_KEYS",
    "TAG_MODELS",
    "Action",
    "Condition",
    "Duration",
    "Rule",
    "Trigger",
    "parse_duration",
]

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_duration(value: Any) -> float:
    """Seconds from a number or a text like `90`, `30s`, `5m`, `1h30m`, `2d`."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a text like '5m', '1h30m'")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    if isinstance(value, str):
        text = value.strip().lower()
        try:
            return parse_duration(float(text))
        except ValueError:
            pass
        seconds = duration_seconds(text)
        if seconds is not None:
            return seconds
    raise ValueError(f"not a duration: {value!r} (use seconds or a text like '30s', '5m', '1h30m')")


def _parse_time(value: Any) -> time:
    if isinstance(value, int) and not isinstance(value, bool):  # YAML 1.1 reads 08:00 as a sexagesimal number
        return time(value // 60 % 24, value % 60)
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*", value)
        if m and int(m.group(1)) < 24 and int(m.group(2)) < 60:
            return time(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))
    if isinstance(value, time):
        return value
    raise ValueError(f"not a time of day: {value!r} (use 'HH:MM')")


Duration = Annotated[float, BeforeValidator(parse_duration)]
TimeOfDay = Annotated[time, BeforeValidator(_parse_time)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Scalar = str | int | float | bool


def _weekdays(value: Any) -> Any:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",")]
    if isinstance(value, list):
        return [v.lower()[:3] if isinstance(v, str) else v for v in value]
    return value


Weekdays = Annotated[list[Weekday], BeforeValidator(_weekdays)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


# -- triggers ------------------------------------------------------------------------------------------------
class ForSpec(_Strict):
    checks: int = Field(ge=1, le=10_000, description="consecutive checks over the threshold")


class WithinSpec(_Strict):
    checks: int = Field(ge=1, le=10_000)
    of: int = Field(ge=1, le=10_000)

    @model_validator(mode="after")
    def _fits(self) -> WithinSpec:
        if self.checks > self.of:
            raise ValueError("'checks' cannot be more than 'of'")
        return self


class _Threshold(_Strict):
    above: float | None = None
    below: float | None = None

    @model_validator(mode="after")
    def _one_side(self) -> _Threshold:
        if (self.above is None) == (self.below is None):
            raise ValueError("give exactly one of 'above' or 'below'")
        return self


class MetricTrigger(_Threshold):
    id: str | None = None
    metric: str
    clear_below: float | None = None
    clear_above: float | None = None
    for_: ForSpec | None = Field(None, alias="for")
    within: WithinSpec | None = None

    @model_validator(mode="after")
    def _hysteresis(self) -> MetricTrigger:
        if self.above is not None:
            if self.clear_above is not None:
                raise ValueError("'clear_above' goes with 'below'; with 'above' use 'clear_below'")
            if self.clear_below is not None and self.clear_below > self.above:
                raise ValueError("'clear_below' must not be higher than 'above'")
        if self.below is not None:
            if self.clear_below is not None:
                raise ValueError("'clear_below' goes with 'above'; with 'below' use 'clear_above'")
            if self.clear_above is not None and self.clear_above < self.below:
                raise ValueError("'clear_above' must not be lower than 'below'")
        if self.for_ is not None and self.within is not None:
            raise ValueError("give 'for' or 'within', not both")
        return self


class ScheduleSpec(_Strict):
    cron: str | None = Field(None, description="five fields: minute hour day month weekday")
    every: Duration | None = Field(None, gt=0)
    jitter: Duration | None = None
    at: TimeOfDay | None = None
    weekday: Weekdays | None = None
    missed: Literal["skip", "run_once"] = "skip"

    @model_validator(mode="after")
    def _one_kind(self) -> ScheduleSpec:
        if sum(x is not None for x in (self.cron, self.every, self.at)) != 1:
            raise ValueError("give exactly one of 'cron', 'every' or 'at'")
        if self.jitter is not None and self.every is None:
            raise ValueError("'jitter' goes with 'every'")
        if self.weekday is not None and self.at is None:
            raise ValueError("'weekday' goes with 'at' (use a cron expression otherwise)")
        if self.cron is not None:
            from apscheduler.triggers.cron import CronTrigger

            try:
                CronTrigger.from_crontab(self.cron, timezone="UTC")
            except ValueError as exc:
                raise ValueError(f"bad cron expression {self.cron!r}: {exc}") from None
        return self


class ScheduleTrigger(_Strict):
    id: str | None = None
    schedule: ScheduleSpec


class ProcessSpec(_Strict):
    name: str = Field(min_length=1, description="process name or glob, e.g. firefox or 'python*'")
    event: Literal["started", "stopped"] | None = None
    count_above: int | None = Field(None, ge=0)
    count_below: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _one_kind(self) -> ProcessSpec:
        if sum(x is not None for x in (self.event, self.count_above, self.count_below)) != 1:
            raise ValueError("give exactly one of 'event', 'count_above' or 'count_below'")
        return self


class ProcessTrigger(_Strict):
    id: str | None = None
    process: ProcessSpec


FileEvent = Literal["created", "modified", "deleted"]


def _all_file_events() -> list[FileEvent]:
    return ["created", "modified", "deleted"]


class FileSpec(_Strict):
    path: str = Field(min_length=1)
    events: list[FileEvent] = Field(default_factory=_all_file_events, min_length=1)
    pattern: str = "*"
    recursive: bool = False
    debounce: Duration = 2.0


class FileTrigger(_Strict):
    id: str | None = None
    file: FileSpec


class EventSpec(_Strict):
    type: str = Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
    data: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)


def _event_shorthand(value: Any) -> Any:
    return {"type": value} if isinstance(value, str) else value


class EventTrigger(_Strict):
    id: str | None = None
    event: Annotated[EventSpec, BeforeValidator(_event_shorthand)]


_KEY_TOKEN = re.compile(r"^(<[a-z0-9_]+>|[a-z0-9]|[`\-=\[\];',./\\])$")


class HotkeyTrigger(_Strict):
    id: str | None = None
    hotkey: str

    @field_validator("hotkey")
    @classmethod
    def _combo(cls, value: str) -> str:
        parts = [p.strip().lower() for p in value.split("+")]
        if not parts or not all(_KEY_TOKEN.match(p) for p in parts):
            raise ValueError(f"not a key combination: {value!r} (write it like '<ctrl>+<alt>+h')")
        return "+".join(parts)


class VoiceTrigger(_Strict):
    id: str | None = None
    voice: list[str] = Field(min_length=1)

    @field_validator("voice", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("voice")
    @classmethod
    def _templates(cls, value: list[str]) -> list[str]:
        from agent.automation.sentences import compile_template

        for template in value:
            compile_template(template)  # raises ValueError with the problem
        return value


# -- conditions ----------------------------------------------------------------------------------------------
class AndCondition(_Strict):
    and_: list[Condition] = Field(alias="and", min_length=1)


class OrCondition(_Strict):
    or_: list[Condition] = Field(alias="or", min_length=1)


class NotCondition(_Strict):
    not_: list[Condition] = Field(alias="not", min_length=1)


class TimeSpec(_Strict):
    after: TimeOfDay | None = None
    before: TimeOfDay | None = None
    weekday: Weekdays | None = None

    @model_validator(mode="after")
    def _something(self) -> TimeSpec:
        if self.after is None and self.before is None and not self.weekday:
            raise ValueError("give 'after', 'before' or 'weekday'")
        return self


class TimeCondition(_Strict):
    time: TimeSpec


class MetricCondition(_Threshold):
    metric: str


class StateSpec(_Strict):
    on_battery: bool | None = None
    idle: Duration | None = Field(None, description="the user has been idle at least this long")
    active: Duration | None = Field(None, description="the user was active within this long")
    do_not_disturb: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> StateSpec:
        if all(v is None for v in (self.on_battery, self.idle, self.active, self.do_not_disturb)):
            raise ValueError("give 'on_battery', 'idle', 'active' or 'do_not_disturb'")
        return self


class StateCondition(_Strict):
    state: StateSpec


class ProcessRunningCondition(_Strict):
    process_running: str = Field(min_length=1)


def _listify(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class TriggerCondition(_Strict):
    trigger: Annotated[list[str], BeforeValidator(_listify)] = Field(min_length=1)


# -- actions -------------------------------------------------------------------------------------------------
class SpeakAction(_Strict):
    speak: str = Field(min_length=1)


class NotifySpec(_Strict):
    title: str = Field(min_length=1)
    body: str = ""
    urgency: Literal["low", "normal", "critical"] = "normal"


class NotifyAction(_Strict):
    notify: NotifySpec


class SkillSpec(_Strict):
    name: str = Field(min_length=1)
    args: dict[str, Any] = Field(default_factory=dict)


class SkillAction(_Strict):
    skill: SkillSpec


class CommandSpec_(_Strict):
    id: str = Field(min_length=1)
    args: dict[str, str | int] = Field(default_factory=dict)


class CommandAction(_Strict):
    command: CommandSpec_


class LogSpec(_Strict):
    message: str
    level: Literal["debug", "info", "warning", "error"] = "info"


def _log_shorthand(value: Any) -> Any:
    return {"message": value} if isinstance(value, str) else value


class LogAction(_Strict):
    log: Annotated[LogSpec, BeforeValidator(_log_shorthand)]


class DelayAction(_Strict):
    delay: Duration


class ChooseOption(_Strict):
    conditions: list[Condition] = Field(min_length=1)
    actions: list[Action] = Field(min_length=1)


class ChooseAction(_Strict):
    choose: list[ChooseOption] = Field(min_length=1)
    default: list[Action] = Field(default_factory=list)


class IfAction(_Strict):
    if_: list[Condition] = Field(alias="if", min_length=1)
    then: list[Action] = Field(min_length=1)
    else_: list[Action] = Field(default_factory=list, alias="else")


class StopAction(_Strict):
    stop: str = Field(min_length=1, description="why the run stops here")


# -- the union types: a callable discriminator picks the model by kind key -----------------------------------
_TRIGGERS: dict[str, type[BaseModel]] = {
    "metric": MetricTrigger, "schedule": ScheduleTrigger, "process": ProcessTrigger, "file": FileTrigger,
    "event": EventTrigger, "hotkey": HotkeyTrigger, "voice": VoiceTrigger,
}
_CONDITIONS: dict[str, type[BaseModel]] = {
    "and": AndCondition, "or": OrCondition, "not": NotCondition, "time": TimeCondition,
    "metric": MetricCondition, "state": StateCondition, "process_running": ProcessRunningCondition,
    "trigger": TriggerCondition,
}
_ACTIONS: dict[str, type[BaseModel]] = {
    "speak": SpeakAction, "notify": NotifyAction, "skill": SkillAction, "command": CommandAction,
    "log": LogAction, "delay": DelayAction, "choose": ChooseAction, "if": IfAction, "stop": StopAction,
}

KIND_KEYS: dict[str, tuple[str, ...]] = {
    "trigger": tuple(_TRIGGERS), "condition": tuple(_CONDITIONS), "action": tuple(_ACTIONS),
}
"""The kind keys of each union, for error messages and suggestions."""

TAG_MODELS: dict[str, type[BaseModel]] = {
    **{f"trigger:{k}": m for k, m in _TRIGGERS.items()},
    **{f"condition:{k}": m for k, m in _CONDITIONS.items()},
    **{f"action:{k}": m for k, m in _ACTIONS.items()},
}
"""Discriminator tag → model. Tags appear in pydantic error locations; the loader strips them."""


def _kind_of(family: str) -> Any:
    keys = KIND_KEYS[family]

    def pick(value: Any) -> str | None:
        if isinstance(value, dict):
            for key in keys:
                if key in value:
                    return f"{family}:{key}"
        elif isinstance(value, BaseModel):
            for tag, model in TAG_MODELS.items():
                if tag.startswith(family + ":") and type(value) is model:
                    return tag
        return None

    return pick


def _discriminator(family: str) -> Discriminator:
    return Discriminator(_kind_of(family), custom_error_type=f"unknown_{family}",
                         custom_error_message=f"unknown {family} kind; use one of: {', '.join(KIND_KEYS[family])}")


Trigger = Annotated[
    Annotated[MetricTrigger, Tag("trigger:metric")]
    | Annotated[ScheduleTrigger, Tag("trigger:schedule")]
    | Annotated[ProcessTrigger, Tag("trigger:process")]
    | Annotated[FileTrigger, Tag("trigger:file")]
    | Annotated[EventTrigger, Tag("trigger:event")]
    | Annotated[HotkeyTrigger, Tag("trigger:hotkey")]
    | Annotated[VoiceTrigger, Tag("trigger:voice")],
    _discriminator("trigger"),
]
Condition = Annotated[
    Annotated[AndCondition, Tag("condition:and")]
    | Annotated[OrCondition, Tag("condition:or")]
    | Annotated[NotCondition, Tag("condition:not")]
    | Annotated[TimeCondition, Tag("condition:time")]
    | Annotated[MetricCondition, Tag("condition:metric")]
    | Annotated[StateCondition, Tag("condition:state")]
    | Annotated[ProcessRunningCondition, Tag("condition:process_running")]
    | Annotated[TriggerCondition, Tag("condition:trigger")],
    _discriminator("condition"),
]
Action = Annotated[
    Annotated[SpeakAction, Tag("action:speak")]
    | Annotated[NotifyAction, Tag("action:notify")]
    | Annotated[SkillAction, Tag("action:skill")]
    | Annotated[CommandAction, Tag("action:command")]
    | Annotated[LogAction, Tag("action:log")]
    | Annotated[DelayAction, Tag("action:delay")]
    | Annotated[ChooseAction, Tag("action:choose")]
    | Annotated[IfAction, Tag("action:if")]
    | Annotated[StopAction, Tag("action:stop")],
    _discriminator("action"),
]


class Rule(_Strict):
    """One rule. `repeat` and `quiet_hours` are its notification policy."""

    id: str = Field(pattern=r"^[a-z0-9_][a-z0-9_.-]*$", max_length=100)
    alias: str = ""
    description: str = ""
    enabled: bool = True
    mode: Literal["single", "restart", "queued", "parallel"] = "single"
    max: int = Field(10, ge=1, le=100, description="most queued or parallel runs")
    triggers: list[Trigger] = Field(min_length=1)
    conditions: list[Condition] = Field(default_factory=list)
    actions: list[Action] = Field(min_length=1)
    on_clear: list[Action] = Field(default_factory=list)
    variables: dict[str, Scalar] = Field(default_factory=dict)
    repeat: Duration | None = Field(None, gt=0, description="run the actions again this often while firing")
    quiet_hours: TimeSpec | None = Field(None, description="no speech and no desktop notification then")


for _model in (AndCondition, OrCondition, NotCondition, ChooseOption, ChooseAction, IfAction, Rule):
    _model.model_rebuild()

WEEKDAYS = _WEEKDAYS
