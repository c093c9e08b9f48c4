"""Safety: the one executor, confirmations bound to exact actions, and the hash-chained audit log."""

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
