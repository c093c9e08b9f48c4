"""The intent catalogue: every skill name the router targets, with its argument model.

Skill families (system, notes, ...) import their argument models from here so the router and the skill
share one schema. Skills a plugin has not implemented still appear in the registry (without a handler),
so the router recognises them and the pipeline answers `unsupported` honestly.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from agent.skills.base import Args, NoArgs, Register, Skill, SkillHandler

__all__ = [
    "AppsOpenArgs",
    "ChatArgs",
    "CommandFixArgs",
    "CommandRunArgs",
    "ExpenseAddArgs",
    "HelpArgs",
    "FilesIndexArgs",
    "FilesSearchArgs",
    "MathCalcArgs",
    "MusicControlArgs",
    "NameArgs",
    "NoteAddArgs",
    "NoteDeleteArgs",
    "NotesListArgs",
    "PasswordGenerateArgs",
    "PeriodArgs",
    "ProcessKillArgs",
    "ProjectArgs",
    "QueryArgs",
    "ReminderAddArgs",
    "SystemStatusArgs",
    "SystemTopArgs",
    "TextArgs",
    "TimerAdjustArgs",
    "TimerCancelArgs",
    "TimerListArgs",
    "TimerRefArgs",
    "TimerSetArgs",
    "ToolsRecommendArgs",
    "catalogue_entry",
    "implement",
    "register_catalogue",
]

Metric = Literal["cpu", "memory", "disk", "battery", "temperature", "network"]


class SystemStatusArgs(Args):
    metric: Metric | None = None


class SystemTopArgs(Args):
    sort: Literal["cpu", "memory"] = "cpu"
    limit: int = Field(5, ge=1, le=50)


class ProcessKillArgs(Args):
    name: str | None = Field(None, min_length=1, max_length=128)
    pid: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _one_target(self) -> ProcessKillArgs:
        if self.name is None and self.pid is None:
            raise ValueError("which process? give a name or a pid")
        return self


class CommandRunArgs(Args):
    command: str = Field(min_length=1, description="an allow-listed command id")
    args: dict[str, str | int] = Field(default_factory=dict)


class CommandFixArgs(Args):
    command: str = Field(min_length=1, max_length=1000)


class AppsOpenArgs(Args):
    target: str = Field(min_length=1, max_length=1000)


class QueryArgs(Args):
    query: str = Field(min_length=1, max_length=1000)
    limit: int = Field(5, ge=1, le=50)


FilesSearchArgs = QueryArgs


class FilesIndexArgs(Args):
    path: str = Field(min_length=1, max_length=4096)


class MathCalcArgs(Args):
    expression: str = Field(min_length=1, max_length=500)


class TimerSetArgs(Args):
    seconds: int = Field(ge=1, le=7 * 24 * 3600)
    label: str | None = None


class TimerCancelArgs(Args):
    id: int | None = Field(None, ge=1, description="the timer or reminder number; default: the latest pending")
    kind: Literal["timer", "reminder"] | None = None
    label: str | None = Field(None, min_length=1, max_length=200, description="the timer's label or reminder's words")
    all: bool = False


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


class TimerListArgs(Args):
    kind: Literal["timer", "reminder"] | None = None


class ReminderAddArgs(Args):
    text: str = Field(min_length=1, max_length=1000)
    when: str = Field(min_length=1, description="ISO 8601 local date-time")


class TextArgs(Args):
    text: str = Field(min_length=1, max_length=10_000)


class ProjectArgs(Args):
    project: str = Field(min_length=1, max_length=200)


class PeriodArgs(Args):
    period: Literal["today", "yesterday", "week", "month", "year"] = "today"


class PasswordGenerateArgs(Args):
    length: int = Field(20, ge=8, le=256)
    symbols: bool = True
    digits: bool = True
    uppercase: bool = True


class NameArgs(Args):
    name: str = Field(min_length=1, max_length=200)


class ExpenseAddArgs(Args):
    amount: float = Field(gt=0, le=1e9)
    currency: str = Field("USD", min_length=3, max_length=3)
    category: str | None = None
    note: str | None = None


class MusicControlArgs(Args):
    action: Literal["play", "pause", "toggle", "next", "previous", "volume_up", "volume_down", "volume", "mute",
                    "unmute"]
    level: int | None = Field(None, ge=0, le=100, description="the volume in percent, with action 'volume'")

    @model_validator(mode="after")
    def _level(self) -> MusicControlArgs:
        if self.action == "volume" and self.level is None:
            raise ValueError("what volume? say a level from 0 to 100")
        return self


class NoteAddArgs(Args):
    text: str = Field(min_length=1, max_length=10_000)
    list: str | None = Field(None, min_length=1, max_length=100, description="a named list: 'shopping'")


class HelpArgs(Args):
    topic: Literal["skills", "identity", "model", "machine"] = "skills"
    about: str | None = Field(None, max_length=200, description="what the user wants to do, in their words")


class ToolsRecommendArgs(Args):
    need: str = Field(min_length=1, max_length=500)


class NotesListArgs(Args):
    limit: int = Field(10, ge=1, le=200)


class NoteDeleteArgs(Args):
    id: int | None = Field(None, ge=1, description="the note number")
    query: str | None = Field(None, min_length=1, max_length=1000, description="delete the best match instead")

    @model_validator(mode="after")
    def _one_target(self) -> NoteDeleteArgs:
        if self.id is None and self.query is None:
            raise ValueError("which note? give its number or what it is about")
        return self


class ChatArgs(Args):
    text: str = Field(min_length=1, max_length=20_000)


# name, description, argument model, changes the system
_CATALOGUE: tuple[tuple[str, str, type[Args], bool], ...] = (
    ("system.status", "CPU, memory, disk, battery, temperature or network status", SystemStatusArgs, False),
    ("system.top", "the processes using the most CPU or memory", SystemTopArgs, False),
    ("process.kill", "stop a running process by name or pid (asks first)", ProcessKillArgs, True),
    ("command.run", "run an allow-listed command (disk usage, list a folder, uptime...)", CommandRunArgs, True),
    ("command.fix", "suggest the correct spelling of a mistyped shell command", CommandFixArgs, False),
    ("apps.open", "open an application, file or web address", AppsOpenArgs, True),
    ("files.search", "search the contents of indexed files", QueryArgs, False),
    ("files.index", "index a folder so its files can be searched", FilesIndexArgs, False),
    ("files.status", "how far the background indexing of a folder is", NoArgs, False),
    ("time.now", "the current time and date", NoArgs, False),
    ("math.calc", "calculate an arithmetic expression", MathCalcArgs, False),
    ("timer.set", "start a countdown timer", TimerSetArgs, False),
    ("timer.cancel", "cancel a timer or reminder", TimerCancelArgs, False),
    ("timer.status", "how much time is left on a timer (or on all of them)", TimerRefArgs, False),
    ("timer.pause", "pause a running timer", TimerRefArgs, False),
    ("timer.resume", "resume a paused timer", TimerRefArgs, False),
    ("timer.adjust", "add time to a timer, or take time off it", TimerAdjustArgs, False),
    ("timer.list", "list the pending timers or reminders", TimerListArgs, False),
    ("reminder.add", "remind you of something at a time", ReminderAddArgs, False),
    ("notes.add", "take a note, or add something to the shopping list", NoteAddArgs, False),
    ("notes.search", "find notes you took", QueryArgs, False),
    ("notes.list", "list your latest notes", NotesListArgs, False),
    ("notes.delete", "delete a note (asks first)", NoteDeleteArgs, True),
    ("timetrack.start", "start tracking time on a project", ProjectArgs, False),
    ("timetrack.stop", "stop tracking time", NoArgs, False),
    ("timetrack.report", "how much time you tracked, per project", PeriodArgs, False),
    ("timetrack.pause", "pause time tracking (resume continues the same project)", NoArgs, False),
    ("timetrack.resume", "resume time tracking on the paused project", NoArgs, False),
    ("password.generate", "generate a strong password", PasswordGenerateArgs, False),
    ("password.get", "copy a saved password to the clipboard", NameArgs, False),
    ("password.save", "save a password in the encrypted vault", NameArgs, False),
    ("finance.expense_add", "record an expense", ExpenseAddArgs, False),
    ("finance.report", "what you spent, per category", PeriodArgs, False),
    ("music.control", "play, pause or skip music; raise, lower, set or mute the volume", MusicControlArgs, True),
    ("security.scan", "check the machine for security problems", NoArgs, False),
    ("health.alerts", "recent health and security alerts", NoArgs, False),
    ("tools.recommend", "recommend software tools for a need", ToolsRecommendArgs, False),
    ("agent.help", "what the agent can do, and what it is (name, model, machine)", HelpArgs, False),
    ("agent.stop", "stop speaking", NoArgs, False),
    ("agent.mute", "stop listening", NoArgs, False),
    ("chat", "anything else, answered by the language model", ChatArgs, False),
)


def register_catalogue(register: Register) -> None:
    """Register every catalogue name without a handler (a plugin with a handler replaces it)."""
    from agent.router.examples import EXAMPLES

    for name, description, args, changes in _CATALOGUE:
        register(Skill(name, description, tuple(EXAMPLES.get(name, ())), args, changes, None))


def catalogue_entry(name: str) -> tuple[str, type[Args], bool]:
    """A catalogue name's description, argument model and whether it changes the system."""
    for n, description, args, changes in _CATALOGUE:
        if n == name:
            return description, args, changes
    raise KeyError(f"{name} is not in the catalogue")


def implement(name: str, run: SkillHandler) -> Skill:
    """A catalogue skill with its handler: what a built-in family registers."""
    from agent.router.examples import EXAMPLES

    for n, description, args, changes in _CATALOGUE:
        if n == name:
            return Skill(n, description, tuple(EXAMPLES.get(n, ())), args, changes, run)
    raise KeyError(f"{name} is not in the catalogue")
