"""The agent's exception tree. Every error carries the context a user needs to fix it.

    AgentError
    ├── ConfigError          a config file or variable is wrong (carries file and line)
    ├── ModelError           a model file is missing, corrupt or cannot load (carries which and how to get it)
    ├── SkillError           a skill failed or its arguments are invalid (carries the skill name)
    │   └── ArgumentError    arguments did not validate against the skill's model
    ├── ExecutorError        the executor refused or failed an action (carries the command id)
    │   ├── NotAllowedError  the command id is not in the allow-list, or an argument is invalid
    │   └── ConfirmationError a confirmation is missing, expired, or bound to another action
    ├── AuditError           the audit log is unreadable or its hash chain is broken (carries the line)
    ├── AudioError           a microphone, speaker or audio file cannot be used (carries which device or file)
    ├── StoreError           a data store is damaged, its disk is full, or it cannot be opened (carries path and fix)
    └── RuleError            an automation rule is malformed (carries file and line)
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "AgentError",
    "ArgumentError",
    "AudioError",
    "AuditError",
    "ConfigError",
    "ConfirmationError",
    "ExecutorError",
    "ModelError",
    "NotAllowedError",
    "RuleError",
    "SkillError",
    "StoreError",
]


class AgentError(Exception):
    """Base of every error the agent raises on purpose."""


class _Located(AgentError):
    def __init__(self, message: str, *, file: Path | str | None = None, line: int | None = None) -> None:
        self.file = str(file) if file is not None else None
        self.line = line
        where = ""
        if self.file:
            where = f"{self.file}:{line}: " if line else f"{self.file}: "
        super().__init__(f"{where}{message}")


class ConfigError(_Located):
    """A config file or `AGENT_*` variable is invalid."""


class RuleError(_Located):
    """An automation rule is malformed."""


class ModelError(AgentError):
    def __init__(self, message: str, *, model: str, fix: str) -> None:
        self.model = model
        self.fix = fix
        super().__init__(f"{model}: {message} ({fix})")


class SkillError(AgentError):
    def __init__(self, message: str, *, skill: str) -> None:
        self.skill = skill
        super().__init__(f"{skill}: {message}")


class ArgumentError(SkillError):
    """Arguments did not validate; `question` is what to ask the user."""

    def __init__(self, message: str, *, skill: str, question: str) -> None:
        self.question = question
        super().__init__(message, skill=skill)


class ExecutorError(AgentError):
    def __init__(self, message: str, *, command: str) -> None:
        self.command = command
        super().__init__(f"{command}: {message}")


class NotAllowedError(ExecutorError):
    """The command is not allow-listed, or an argument failed its validation."""


class ConfirmationError(ExecutorError):
    """A confirmation is missing, expired, or was granted for a different action."""


class AuditError(AgentError):
    def __init__(self, message: str, *, line: int | None = None) -> None:
        self.line = line
        super().__init__(f"audit log line {line}: {message}" if line else message)


class AudioError(AgentError):
    """A microphone, speaker or audio file cannot be opened or read."""

    def __init__(self, message: str, *, device: str) -> None:
        self.device = device
        super().__init__(f"{device}: {message}")


class StoreError(AgentError):
    """A data store (an SQLite file under the data dir) cannot be used.

    `problem` is "damaged" (not a database, malformed), "full" (the disk holding it is full) or "unavailable"
    (cannot be opened: permissions, a directory in its place...). The message says which file, what is wrong
    and the fix; it is what the user sees.
    """

    def __init__(self, message: str, *, path: Path | str, problem: str, fix: str) -> None:
        self.path = str(path)
        self.problem = problem
        self.fix = fix
        super().__init__(f"{message} Fix: {fix}")
