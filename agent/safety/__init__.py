"""Safety: the one executor, confirmations bound to exact actions and conversations, the keyed audit log, the
minimal child environment and the agent's own keys."""

from agent.safety.audit import AuditLog
from agent.safety.confirm import ConfirmationStore, Pending
from agent.safety.executor import ActionOutput, ExecResult, Executor, PreparedAction

__all__ = [
    "ActionOutput",
    "AuditLog",
    "ConfirmationStore",
    "ExecResult",
    "Executor",
    "Pending",
    "PreparedAction",
]
