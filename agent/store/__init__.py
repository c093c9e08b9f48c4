"""Local persistence helpers shared by the skill families (see `agent.store.sqlite`)."""

from agent.store.sqlite import Database, Migration

__all__ = ["Database", "Migration"]
