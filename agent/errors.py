"""The agent's exception tree. Every error carries the context a user needs to fix it.

    AgentError
    ├── ConfigError           a config file or variable is wrong (carries file and line)
    ├── ModelError            a model file is missing, corrupt or cannot load (carries which and how to get it)
    ├── SkillError            a skill cannot do what was asked (carries the skill name and the reply)
    │   ├── CalcError         not arithmetic it can compute (agent.skills.calc)
    │   └── ReminderError     a reminder or timer cannot be parsed, found or changed (agent.scheduling)
    ├── ExecutorError         the executor refused an action (carries the command id)
    │   ├── NotAllowedError   the command id is not in the allow-list, or an argument is invalid
    │   └── ConfirmationError a confirmation is missing, expired, or bound to another action
    ├── AuditError            the audit log is unreadable or its hash chain is broken (carries the line)
    ├── AudioError            a microphone, speaker or audio file cannot be used (carries which device or file)
    ├── StoreError            a data store is damaged, its disk is full, or it cannot be opened (carries path and fix)
    ├── NotifyError           a notification backend could not deliver (agent.notify; the next one is tried)
    ├── AlreadyRunningError   another resident agent holds the lock (agent.instance; carries pid and lock file)
    ├── Unavailable           a component cannot run here; the user was already told why (agent.components)
    ├── IndexPathError        a folder to index does not exist or is not readable (agent.files; carries the path)
    ├── files.StoreError      the file index's vector store cannot be opened (agent.files.store; carries where)
    └── VaultError            the vault cannot do what was asked (agent.vault.errors has its own subtree)

Automation rules are not raised: every problem of a rule file is collected as a `Problem` with file, line and
column (`agent.automation.loader`)."""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "AgentError",
    "AudioError",
    "AuditError",
    "ConfigError",
    "ConfirmationError",
    "ExecutorError",
    "ModelError",
    "NotAllowedError",
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


class ModelError(AgentError):
    def __init__(self, message: str, *, model: str, fix: str) -> None:
        self.model = model
        self.fix = fix
        super().__init__(f"{model}: {message} ({fix})")


class SkillError(AgentError):
    """A skill cannot do what was asked; `reply` is the message without the skill name, to tell the user."""

    def __init__(self, message: str, *, skill: str) -> None:
        self.skill = skill
        self.reply = message
        super().__init__(f"{skill}: {message}")


class ExecutorError(AgentError):
    """Base of the executor's refusals (never raised itself)."""

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
