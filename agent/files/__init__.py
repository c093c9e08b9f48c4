"""Local file index and search: extraction, chunking, a Chroma vector store, a SQLite keyword index,
incremental indexing, hybrid search and a folder watcher. Everything lives under `<data>/files`.

    errors:  IndexPathError (no such folder), StoreError (the Chroma store cannot be opened or reached)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.files.embedding import index_embedder
from agent.files.indexer import FileIndex, IndexPathError, IndexReport, Progress, ProgressFn
from agent.files.search import Hit, SearchResponse
from agent.files.search import search as search_files
from agent.files.store import StoreError
from agent.per_agent import PerAgent

if TYPE_CHECKING:
    from agent.services import Services

__all__ = [
    "FileIndex",
    "Hit",
    "IndexPathError",
    "IndexReport",
    "Progress",
    "ProgressFn",
    "SearchResponse",
    "StoreError",
    "index_for",
    "search_files",
    "use_index",
]

_INDEX: PerAgent[FileIndex] = PerAgent(
    lambda services: FileIndex(services.paths.data / "files", services.settings.files, index_embedder(services)))


def index_for(services: Services) -> FileIndex:
    """The agent's one `FileIndex`, opened on first use, with the file index's own (quantized) embedder."""
    return _INDEX.get(services)


def use_index(services: Services, index: FileIndex) -> None:
    """Make `index` the agent's file index (another store or embedder: tests, tools)."""
    _INDEX.set(services, index)
