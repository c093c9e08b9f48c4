"""The vector side of the file index: a Chroma collection of chunk embeddings.

A local `PersistentClient` under `<data>/files/chroma` by default, or a Chroma server when `files.chroma_url`
is set. Telemetry is off, and Chroma never embeds anything itself: the collection has no embedding function
and every vector comes from our own embedder, so nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import numpy.typing as npt

from agent.errors import AgentError

__all__ = ["COLLECTION", "HNSW", "NAMES", "ChunkStore", "StoreError", "VectorHit", "open_store"]

_LOGGER = logging.getLogger(__name__)

COLLECTION = "agent-files"
NAMES = "agent-files-names"  # one vector per file: its name in words ("bike commute log")
# Chroma's HNSW graph answers only beyond `EXACT_MAX_VECTORS` (exact search below), so it is built with
# Chroma's default density (16 neighbours, ef_construction 100) and searched wide (ef 400). The denser graph used
# before (48 neighbours, ef_construction 400) made every stored chunk dearer as the store grew: Chroma's writes
# took 8.5 ms CPU a file at 10,000 files against 2.0 at 2,000 (random vectors, `upsert` and names), now 3.7.
# A collection made before keeps the parameters it was made with (Chroma ignores a new configuration).
HNSW = {"space": "cosine", "ef_construction": 100, "max_neighbors": 16, "ef_search": 400}
_DELETE_BATCH = 500
# Exact search: every vector held in memory (1.5 KB each) and compared with the query, up to this many vectors;
# beyond it Chroma's HNSW graph answers. On the bench corpus the graph missed the true nearest chunk for 13 % of
# paraphrased queries at 4,000 files (a lone distinctive chunk among thousands of near-duplicate ones), which
# exact search finds: paraphrase hit@1 0.43 -> 0.67 (held-out), 0.67 -> 0.93 (dev).
EXACT_MAX_VECTORS = 250_000
# Similarities are measured from the store's mean vector (cosine of the vectors minus their mean): the direction
# every file shares (anisotropy: all MiniLM vectors of a store lean the same way) says nothing about which file
# is meant. Below this many vectors the mean says more about those few files than about the store: plain cosine.
CENTRE_MIN_VECTORS = 1000
_FREE_RELOAD_S = 0.25  # a reload of the in-memory vectors faster than this is always done at once
_RELOAD_SHARE = 0.1  # slower ones take at most this share of the time while the store keeps changing
_LOAD_PAGE = 5000


class StoreError(AgentError):
    """The Chroma store cannot be opened or reached (carries where)."""

    def __init__(self, message: str, *, where: str) -> None:
        self.where = where
        super().__init__(f"file index at {where}: {message}")


@dataclass(frozen=True)
class VectorHit:
    id: str
    path: str
    chunk: int
    distance: float  # the chunk's text is in the manifest (`Manifest.chunk_text`)


def _chroma_settings() -> Any:
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False)


def open_store(directory: Path, url: str | None = None) -> ChunkStore:
    """The configured store: a server by `url`, else a persistent store in `directory`. Raises `StoreError`."""
    import chromadb

    where = url or str(directory)
    try:
        if url:
            parsed = urlparse(url if "://" in url else f"http://{url}")
            if not parsed.hostname:
                raise StoreError("the URL has no host", where=url)
            ssl = parsed.scheme == "https"
            client: Any = chromadb.HttpClient(host=parsed.hostname, port=parsed.port or (443 if ssl else 8000),
                                              ssl=ssl, settings=_chroma_settings())
        else:
            directory.mkdir(parents=True, exist_ok=True)
            client = chromadb.PersistentClient(path=str(directory), settings=_chroma_settings())
        collection = client.get_or_create_collection(
            COLLECTION, embedding_function=None, configuration={"hnsw": HNSW})
        names = client.get_or_create_collection(NAMES, embedding_function=None, configuration={"hnsw": HNSW})
    except StoreError:
        raise
    except Exception as exc:
        raise StoreError(f"{exc.__class__.__name__}: {exc}", where=where) from exc
    _LOGGER.info("file index store: %s", where)
    return ChunkStore(collection, where, names, None if url else directory.parent / "exact-search")


class _Exact:
    """A collection's vectors in memory for exact cosine search, reloaded when its `key` changes. With a
    `snapshot` path the loaded vectors are also saved there (as .npy, for that key), so a new process (`agent
    search`) maps them in milliseconds instead of reading every vector from Chroma (3 s at 16,000).

    While an index run keeps changing the store (every batch moves the key), a reload that took longer than
    `_FREE_RELOAD_S` is not repeated before ten times its duration has passed: searches meanwhile use the vectors
    of a moment ago (files deleted since are still dropped by the manifest and `allowed`; files added since are
    found by keywords and names until the next reload)."""

    def __init__(self, snapshot: Path | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.lock = threading.Lock()  # searches run on several threads (API, skills, the CLI)
        self.snapshot = snapshot
        self.clock = clock
        self.loaded_at = 0.0
        self.load_s = 0.0
        self.key: object = None
        self.vectors = _Vectors([], np.zeros((0, 0), dtype=np.float32))

    @property
    def ids(self) -> list[str]:
        return self.vectors.ids

    @property
    def matrix(self) -> npt.NDArray[np.float32]:
        return self.vectors.matrix

    def _set(self, ids: list[str], matrix: npt.NDArray[np.float32], key: object) -> None:
        self.vectors, self.key = _Vectors(ids, matrix), key

    def ready(self, col: Any, key: object) -> bool:
        """Whether exact search can answer (loading the vectors if `key` is new); False when there are too many."""
        with self.lock:
            if key == self.key:
                return True
            now = self.clock()
            if (self.key is not None and self.load_s > _FREE_RELOAD_S
                    and now - self.loaded_at < self.load_s / _RELOAD_SHARE):
                return True  # reloaded a moment ago, and reloading is slow: use those vectors
            if self._load_snapshot(key):
                return True
            ready = self._load(col, key)
            self.loaded_at, self.load_s = now, self.clock() - now
            return ready

    def _load(self, col: Any, key: object) -> bool:
        total = int(col.count())
        if total > EXACT_MAX_VECTORS:
            self._set([], np.zeros((0, 0), dtype=np.float32), None)
            return False
        rows: dict[str, Any] = {}
        for offset in range(0, total, _LOAD_PAGE):
            got = col.get(include=["embeddings"], limit=_LOAD_PAGE, offset=offset)
            rows.update(zip(got["ids"], got["embeddings"], strict=True))
        matrix = np.asarray(list(rows.values()), dtype=np.float32).reshape(len(rows), -1)
        if len(matrix):
            matrix /= np.clip(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9, None)
        self._set(list(rows), matrix, key)
        _LOGGER.debug("exact search: %d vectors loaded", len(rows))
        self._save_snapshot(key)
        return True

    def _snapshot_files(self, key: object) -> tuple[Path, Path] | None:
        if self.snapshot is None or key is None:
            return None
        tag = hashlib.sha256(repr(key).encode()).hexdigest()[:16]
        return (self.snapshot.with_name(f"{self.snapshot.name}-{tag}.vectors.npy"),
                self.snapshot.with_name(f"{self.snapshot.name}-{tag}.ids.npy"))

    def _load_snapshot(self, key: object) -> bool:
        files = self._snapshot_files(key)
        if files is None or not files[0].is_file() or not files[1].is_file():
            return False
        try:
            matrix = np.load(files[0], mmap_mode="r")
            ids = [str(i) for i in np.load(files[1])]
        except (OSError, ValueError):
            return False
        if len(ids) != len(matrix):
            return False
        self._set(ids, np.asarray(matrix, dtype=np.float32), key)
        return True

    def _save_snapshot(self, key: object) -> None:
        files = self._snapshot_files(key)
        if files is None:
            return
        try:
            files[0].parent.mkdir(parents=True, exist_ok=True)
            for stale in files[0].parent.glob(f"{files[0].name.split('-')[0]}-*.npy"):
                stale.unlink(missing_ok=True)
            for path, data in zip(files, (self.matrix, np.asarray(self.ids, dtype=str)), strict=True):
                partial = path.with_name(path.name + ".tmp")
                with partial.open("wb") as fh:
                    np.save(fh, data)
                partial.replace(path)
        except OSError as exc:  # a read-only or full disk: search still works, from memory
            _LOGGER.info("exact search: snapshot not saved (%s)", exc.strerror or exc)

    def top(self, vector: npt.NDArray[np.float32], n: int) -> list[tuple[str, float]]:
        """The `n` nearest (id, cosine distance; centred cosine from `CENTRE_MIN_VECTORS` on), nearest first."""
        vectors = self.vectors
        if not vectors.ids or n <= 0:
            return []
        sims = vectors.similarity(vector)
        n = min(n, len(sims))
        best = np.argpartition(-sims, n - 1)[:n]
        best = best[np.argsort(-sims[best], kind="stable")]
        return [(vectors.ids[i], 1.0 - float(sims[i])) for i in best]


class _Vectors:
    """Loaded vectors (unit rows), their ids, and the store's mean for centred cosines (see `CENTRE_MIN_VECTORS`).
    Never changed once made: a reload swaps the whole object, so a search in progress keeps a consistent set."""

    def __init__(self, ids: list[str], matrix: npt.NDArray[np.float32]) -> None:
        self.ids, self.matrix = ids, matrix
        self.mean: npt.NDArray[np.float32] | None = None
        if len(ids) >= CENTRE_MIN_VECTORS:
            mean = matrix.mean(axis=0, dtype=np.float64).astype(np.float32)
            # |v - mean|^2 = 1 - 2 v.mean + mean.mean for unit rows: no centred copy of the matrix is made
            self.row_mean = np.einsum("ij,j->i", matrix, mean)
            self.row_norm = np.sqrt(np.clip(1.0 - 2.0 * self.row_mean + float(mean @ mean), 1e-12, None))
            self.mean = mean

    def similarity(self, vector: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Cosine of `vector` with every row, centred on the store's mean when it has one."""
        query = np.asarray(vector, dtype=np.float32)
        # einsum, not BLAS: OpenBLAS's threads make this 5x slower on a busy 2-core machine (11 vs 2 ms)
        sims: npt.NDArray[np.float32] = np.einsum("ij,j->i", self.matrix, query)
        if self.mean is None:
            return sims
        # (v - mean).(q - mean) / |v - mean| |q - mean|, from v.q and the precomputed v.mean and |v - mean|
        numerator = sims - self.row_mean - float(self.mean @ query) + float(self.mean @ self.mean)
        scale = max(float(np.linalg.norm(query - self.mean)), 1e-9)
        return np.asarray(numerator / (self.row_norm * scale), dtype=np.float32)


class ChunkStore:
    """Chunks by deterministic id, with `path` and `chunk` metadata, and (in a second collection) one vector per
    file name; vectors are passed in, never computed."""

    def __init__(self, collection: Any, where: str, names: Any = None, snapshots: Path | None = None) -> None:
        self._col = collection
        self._names = names
        self.where = where
        self._exact_chunks = _Exact(snapshots / "chunks" if snapshots else None)
        self._exact_names = _Exact(snapshots / "names" if snapshots else None)

    def upsert_names(self, ids: Sequence[str], vectors: npt.NDArray[np.float32], paths: Sequence[str]) -> None:
        if ids and self._names is not None:
            self._names.upsert(ids=list(ids), embeddings=vectors, metadatas=[{"path": p} for p in paths])

    def query_names(self, vector: npt.NDArray[np.float32], n: int, generation: object = None
                    ) -> list[tuple[str, float]]:
        """(path, cosine distance) of the files whose names are nearest, nearest first. `generation`: a value
        that changes whenever the store does (`Manifest.generation`); exact search reloads when it changes."""
        if self._names is None:
            return []
        if self._exact_names.ready(self._names, self._key(self._names, generation)):
            top = self._exact_names.top(vector, n)
            if not top:
                return []
            got = self._names.get(ids=[i for i, _ in top], include=["metadatas"])
            paths = {i: str(m["path"]) for i, m in zip(got["ids"], got["metadatas"], strict=True)}
            return [(paths[i], d) for i, d in top if i in paths]
        total = int(self._names.count())
        if total == 0:
            return []
        found = self._names.query(query_embeddings=vector.reshape(1, -1), n_results=min(n, total),
                                  include=["metadatas", "distances"])
        return [(str(m["path"]), float(d)) for m, d in zip(found["metadatas"][0], found["distances"][0], strict=True)]

    @staticmethod
    def _key(col: Any, generation: object) -> object:
        """What the in-memory vectors are valid for: the manifest's generation, else the collection's size."""
        return ("generation", generation) if generation is not None else ("count", int(col.count()))

    def upsert(self, ids: Sequence[str], vectors: npt.NDArray[np.float32],
               metadatas: Sequence[dict[str, str | int | float]]) -> None:
        """Store chunk vectors with their `path` and `chunk`. Not their text: the manifest's keyword index holds
        it (Chroma's own full-text index of documents cost 1.1 ms CPU a file at 10,000 files, for nothing)."""
        if not ids:
            return
        self._col.upsert(ids=list(ids), embeddings=vectors, metadatas=list(metadatas))

    def delete_ids(self, ids: Sequence[str]) -> None:
        ids = list(ids)
        for start in range(0, len(ids), _DELETE_BATCH):
            for col in self._collections():
                col.delete(ids=ids[start:start + _DELETE_BATCH])

    def _collections(self) -> list[Any]:
        return [self._col] if self._names is None else [self._col, self._names]

    def clear(self) -> None:
        """Delete every chunk and name."""
        for col in self._collections():
            while ids := list(col.get(limit=_DELETE_BATCH, include=[])["ids"]):
                col.delete(ids=ids)

    def delete_path(self, path: str) -> None:
        for col in self._collections():
            col.delete(where={"path": path})

    def count(self) -> int:
        return int(self._col.count())

    def ids_for(self, path: str) -> list[str]:
        return list(self._col.get(where={"path": path}, include=[])["ids"])

    def query(self, vector: npt.NDArray[np.float32], n: int, generation: object = None) -> list[VectorHit]:
        """The `n` chunks nearest `vector`, nearest first (exact up to `EXACT_MAX_VECTORS`; see `query_names`)."""
        if self._exact_chunks.ready(self._col, self._key(self._col, generation)):
            top = self._exact_chunks.top(vector, n)
            if not top:
                return []
            got = self._col.get(ids=[i for i, _ in top], include=["metadatas"])
            found_ids = dict(zip(got["ids"], got["metadatas"], strict=True))
            return [VectorHit(i, str(found_ids[i]["path"]), int(found_ids[i]["chunk"]), dist)
                    for i, dist in top if i in found_ids]
        total = self.count()
        if total == 0:
            return []
        found = self._col.query(query_embeddings=vector.reshape(1, -1), n_results=min(n, total),
                                include=["metadatas", "distances"])
        return [VectorHit(cid, str(meta["path"]), int(meta["chunk"]), float(dist))
                for cid, meta, dist in zip(found["ids"][0], found["metadatas"][0], found["distances"][0], strict=True)]
