"""Local file index and search: extraction, chunking, a Chroma vector store, a SQLite keyword index,
incremental indexing, hybrid search and a folder watcher. Everything lives under `<data>/files`.

    errors:  IndexPathError (no such folder), StoreError (the Chroma store cannot be opened or reached)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

from agent.config import FilesSettings
from agent.files.indexer import FileIndex, IndexPathError, IndexReport, Progress, ProgressFn
from agent.files.search import Hit, SearchResponse
from agent.files.search import search as search_files
from agent.files.store import StoreError
from agent.models.embedder import Embedder

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
    "shared_index",
]

_KEY = "files.index"
_LOCK = threading.Lock()


def shared_index(shared: MutableMapping[str, Any], data_dir: Path, settings: FilesSettings,
                 embedder: Callable[[], Embedder]) -> FileIndex:
    """The process's one `FileIndex` (kept in the services' shared dict), opened on first use."""
    with _LOCK:
        index = shared.get(_KEY)
        if not isinstance(index, FileIndex):
            index = FileIndex(data_dir / "files", settings, embedder)
            shared[_KEY] = index
        return index


def index_for(services: Any) -> FileIndex:
    """The process's `FileIndex` for `services`, with the file index's own (quantized) embedder."""
    from agent.files.embedding import index_embedder

    return shared_index(services.shared, services.paths.data, services.settings.files, index_embedder(services))
