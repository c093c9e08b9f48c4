"""Index folders incrementally: walk, skip what did not change, (re)chunk and embed what did, drop what is gone.

Resumable by construction: chunk ids are deterministic (sha256 of path and chunk number), a file's manifest
entry is committed only after its chunks are in Chroma, and paths whose chunks may be half-written are
recorded as pending first and cleaned at the start of the next run. Interrupt a run at any point (Ctrl-C, kill)
and the next one continues where it stopped, without duplicate chunks.
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agent.config import FilesSettings
from agent.errors import AgentError
from agent.files.chunk import chunk_text
from agent.files.embedding import BASE_TAG, embedder_tag
from agent.files.extract import SkipFile, extract_text, is_supported
from agent.files.manifest import FileEntry, Manifest
from agent.files.secrets import holds_private_key, secret_dir, secret_file
from agent.files.store import ChunkStore, open_store
from agent.models.embedder import Embedder

__all__ = ["JUNK_DIRS", "FileIndex", "IndexPathError", "IndexReport", "Progress", "ProgressFn", "chunk_id",
           "name_words"]

_LOGGER = logging.getLogger(__name__)

JUNK_DIRS = frozenset({
    ".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".nox", ".mypy_cache",
    ".pytest_cache", ".ruff_cache", ".cache", ".idea", ".gradle", "site-packages", "bower_components",
})
# Chunks are embedded in length order within a batch: 256 chunks per batch pad 5% (64 padded 17%).
_BATCH_CHUNKS = 256
_FIRST_BATCH_CHUNKS = 16  # the first files are searchable a second or two after the walk
_BATCH_FILES = 256
_EMBED_BATCH = 16  # the embedder's lock is held per batch: keep it short so searches can interleave
_MAX_CHUNKS = 1000  # per file; the rest of a huge file is not indexed
_MAX_SKIP_LIST = 100


class IndexPathError(AgentError):
    """The folder or file to index does not exist or is not readable (carries the path)."""

    def __init__(self, message: str, *, path: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


def chunk_id(path: str, index: int) -> str:
    return hashlib.sha256(f"{path}\x00{index}".encode()).hexdigest()[:32]


@dataclass
class Progress:
    """Where an index run is. `done` of `total` candidate files; rates over the run so far."""

    done: int = 0
    total: int = 0
    indexed: int = 0
    unchanged: int = 0
    skipped: int = 0
    removed: int = 0
    chunks: int = 0
    elapsed_s: float = 0.0
    path: str = ""

    @property
    def files_per_s(self) -> float:
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        rate = self.files_per_s
        return (self.total - self.done) / rate if rate > 0 else None


ProgressFn = Callable[[Progress], None]


@dataclass
class IndexReport:
    """What an index run did."""

    root: str
    indexed: int = 0  # files (re)chunked and stored in this run
    unchanged: int = 0
    skipped: int = 0
    removed: int = 0
    chunks: int = 0  # chunks stored in this run
    seconds: float = 0.0
    first_file_s: float | None = None  # when the run's first new or changed file became searchable
    skipped_files: list[dict[str, str]] = field(default_factory=list)

    @property
    def files(self) -> int:
        """Files now indexed from this run's folder (new, changed and unchanged)."""
        return self.indexed + self.unchanged

    def skip(self, path: str, reason: str) -> None:
        self.skipped += 1
        if len(self.skipped_files) < _MAX_SKIP_LIST:
            self.skipped_files.append({"path": path, "reason": reason})

    def to_json(self) -> dict[str, Any]:
        secs = max(self.seconds, 1e-9)
        return {"root": self.root, "files": self.files, "indexed": self.indexed, "unchanged": self.unchanged,
                "skipped": self.skipped, "removed": self.removed, "chunks": self.chunks,
                "seconds": round(self.seconds, 3), "files_per_s": round(self.files / secs, 2),
                "chunks_per_s": round(self.chunks / secs, 2),
                "first_file_s": None if self.first_file_s is None else round(self.first_file_s, 3),
                "skipped_files": self.skipped_files}


@dataclass
class _Pending:
    path: str
    entry: FileEntry
    name: str
    chunks: list[str]
    old: FileEntry | None


@dataclass
class _Names:
    ids: list[str]
    vectors: Any
    paths: list[str]


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_SEPARATORS = re.compile(r"[\W_]+")


def name_words(name: str) -> str:
    """A file name as words for its name vector: "bike-commute_log2024.md" → "bike commute log"; numbers and
    single letters dropped ("IMG_0042.jpg" → "IMG"), so a name without words gets no vector."""
    stem = name.rsplit(".", 1)[0] if "." in name.strip(".") else name
    words = _SEPARATORS.split(_CAMEL.sub(" ", stem))
    return " ".join(w for w in (re.sub(r"\d+", "", w) for w in words) if len(w) > 1)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class FileIndex:
    """The file index: a Chroma store of chunk vectors plus a SQLite manifest and keyword index.

    Data lives under `directory` (`<data>/files`): `chroma/` and `manifest.sqlite`. One index run at a
    time (a lock); searches may run while an index runs.
    """

    def __init__(self, directory: Path, settings: FilesSettings, embedder: Callable[[], Embedder],
                 store: ChunkStore | None = None) -> None:
        self.directory = directory.resolve()
        self._private = {self.directory, self.directory.parent}  # never index the agent's own data
        self.settings = settings
        self._embedder = embedder
        self._store = store
        self.manifest = Manifest(self.directory / "manifest.sqlite")
        self._lock = threading.RLock()
        self._run_embedder: Embedder | None = None
        self._pause: Callable[[], None] | None = None
        self._started = 0.0

    @property
    def store(self) -> ChunkStore:
        if self._store is None:
            self._store = open_store(self.directory / "chroma", self.settings.chroma_url)
        return self._store

    def embedder(self) -> Embedder:
        return self._embedder()

    def roots(self) -> list[str]:
        return self.manifest.roots()

    # -- public operations ------------------------------------------------------------------------------

    def index(self, path: Path | str, progress: ProgressFn | None = None, embedder: Embedder | None = None,
              pause: Callable[[], None] | None = None) -> IndexReport:
        """Index a folder (remembered as a root, for the watcher) or one file; raise `IndexPathError`.
        `embedder`: use this one for the run (the background job's own, at a lower priority); `pause`: called
        between embedding batches (it may block while a turn runs, or raise to stop the run)."""
        root = Path(path).expanduser()
        if not root.exists():
            raise IndexPathError("no such folder or file", path=str(root))
        root = root.resolve()
        with self._lock:
            self._run_embedder, self._pause = embedder, pause
            try:
                return self._index(root, progress)
            finally:
                self._run_embedder = self._pause = None

    def _index(self, root: Path, progress: ProgressFn | None) -> IndexReport:
        started = self._started = time.perf_counter()
        report = IndexReport(str(root))
        self._recover()
        self._check_model()
        if root.is_dir():
            self.manifest.add_root(str(root))
            candidates = self._walk(root, report)
        else:
            candidates = [root] if self._eligible(root, root.parent, report) else []
        seen = {str(p) for p in candidates}
        gone = [e for e in self.manifest.entries_under(str(root)) if e.path not in seen]
        self._remove(gone, report)
        self._sync(candidates, report, progress, started)
        report.seconds = time.perf_counter() - started
        _LOGGER.info("indexed %s: %s", root, {k: v for k, v in report.to_json().items() if k != "skipped_files"})
        return report

    def update_paths(self, paths: Iterable[Path], root: Path) -> IndexReport:
        """Bring changed paths under `root` up to date (what the watcher calls): new, modified, deleted."""
        with self._lock:
            started = self._started = time.perf_counter()
            report = IndexReport(str(root))
            self._recover()
            candidates: list[Path] = []
            for path in sorted(set(paths)):
                if path.is_dir():
                    if self._eligible_dir(path, root):
                        found = self._walk(path, report)
                        seen = {str(p) for p in found}
                        self._remove([e for e in self.manifest.entries_under(str(path)) if e.path not in seen],
                                     report)
                        candidates.extend(found)
                elif path.is_file():
                    if self._eligible(path, root, report):
                        candidates.append(path)
                    else:
                        self._remove([e for e in [self.manifest.get(str(path))] if e], report)
                else:
                    self._remove(self.manifest.entries_under(str(path)), report)
            self._sync(list(dict.fromkeys(candidates)), report, None, started)  # a folder and its files
            report.seconds = time.perf_counter() - started
            return report

    def stats(self) -> dict[str, Any]:
        return {"files": self.manifest.file_count(), "chunks": self.manifest.chunk_count(),
                "roots": self.manifest.roots(), "store": self.store.where}

    # -- walking ----------------------------------------------------------------------------------------

    def _excluded(self, rel: str, name: str) -> bool:
        return any(fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(name, pat) for pat in self.settings.exclude)

    def _skip_dir(self, name: str, rel: str, full: Path) -> bool:
        return (name.startswith(".") or name in JUNK_DIRS or self._excluded(rel, name)
                or full in self._private or secret_dir(name))

    def allowed(self, path: str) -> bool:
        """Whether an indexed file may still be shown: it exists, and neither the default secret list nor
        `files.exclude` (as configured now) covers it. Search checks each result with this."""
        file = Path(path)
        if not file.is_file() or secret_file(file.name) or secret_dir(str(file.parent)):
            return False
        roots = [Path(r) for r in self.manifest.roots() if file.is_relative_to(r)]
        root = max(roots, key=lambda r: len(r.parts)) if roots else file.parent
        rel = file.relative_to(root)
        if self._excluded(str(rel), file.name):
            return False
        return not any(self._excluded("/".join(rel.parts[:i + 1]), part) for i, part in enumerate(rel.parts[:-1]))

    def skips_dir(self, path: Path, root: Path) -> bool:
        """Whether a folder under `root` is left out (hidden, junk, secret, excluded, the agent's own data)."""
        return self._skip_dir(path.name, str(path.relative_to(root)), path)

    def _eligible_dir(self, path: Path, root: Path) -> bool:
        try:
            parts = path.relative_to(root).parts
        except ValueError:
            return False
        return not any(self._skip_dir(p, "/".join(parts[:i + 1]), root.joinpath(*parts[:i + 1]))
                       for i, p in enumerate(parts))

    def _eligible(self, path: Path, root: Path, report: IndexReport) -> bool:
        """Whether a file is indexed: not hidden, not junk, not excluded, a supported type, not too large."""
        if path.name.startswith(".") or path.is_symlink() or not self._eligible_dir(path.parent, root):
            return False
        rel = str(path.relative_to(root)) if path.is_relative_to(root) else path.name
        if self._excluded(rel, path.name):
            return False
        if secret_file(path.name) or secret_dir(str(path.parent)):
            report.skip(str(path), "may hold secrets")
            return False
        if not is_supported(path):
            report.skip(str(path), f"unsupported type {path.suffix or '(none)'}")
            return False
        try:
            size = path.stat().st_size
        except OSError as exc:
            report.skip(str(path), f"unreadable: {exc.strerror}")
            return False
        if size > self.settings.max_file_mb * 1024 * 1024:
            report.skip(str(path), f"larger than {self.settings.max_file_mb:g} MB")
            return False
        return True

    def _walk(self, root: Path, report: IndexReport) -> list[Path]:
        found: list[Path] = []
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=self._walk_error):
            here = Path(dirpath)
            rel_dir = here.relative_to(root)
            dirnames[:] = sorted(d for d in dirnames
                                 if not self._skip_dir(d, str(rel_dir / d), here / d))
            for name in sorted(filenames):
                path = here / name
                if self._eligible(path, root, report):
                    found.append(path)
        return found

    @staticmethod
    def _walk_error(exc: OSError) -> None:
        _LOGGER.warning("cannot read folder %s: %s", exc.filename, exc.strerror)

    # -- syncing ----------------------------------------------------------------------------------------

    def _recover(self) -> None:
        """Drop the chunks of files an interrupted run may have half-written; they are indexed again."""
        pending = self.manifest.pending()
        if not pending:
            return
        _LOGGER.info("cleaning %d file(s) left by an interrupted index run", len(pending))
        for path in pending:
            self.store.delete_path(path)
        self.manifest.remove(pending)

    def _check_model(self) -> None:
        """Vectors of two models must not be mixed: when the embedder changed, index everything again."""
        tag = embedder_tag(self._run_embedder or self.embedder())
        stored = self.manifest.meta("embedder") or (BASE_TAG if self.manifest.file_count() else None)
        if stored == tag:
            return
        if stored is not None:
            _LOGGER.info("the file index was made with %s, now %s: indexing every file again", stored, tag)
            self.store.clear()
            self.manifest.clear_files()
        self.manifest.set_meta("embedder", tag)

    def _remove(self, entries: list[FileEntry], report: IndexReport) -> None:
        if not entries:
            return
        self.store.delete_ids([chunk_id(e.path, i) for e in entries for i in range(-1, e.chunks)])
        self.manifest.remove(e.path for e in entries)
        report.removed += len(entries)

    def _sync(self, candidates: list[Path], report: IndexReport, progress: ProgressFn | None,
              started: float) -> None:
        """Prepare and embed batches on this thread while the previous batch is written on another (Chroma and
        SQLite wait on the disk); a batch's files count as done once written. The first batch is small, so
        the first files are searchable within seconds."""
        state = Progress(total=len(candidates))
        batch: list[_Pending] = []
        limit = _FIRST_BATCH_CHUNKS
        inflight: tuple[Future[None], list[_Pending], int] | None = None

        def tick(path: str, n: int = 1) -> None:
            state.done += n
            state.indexed, state.unchanged, state.skipped = report.indexed, report.unchanged, report.skipped
            state.removed, state.chunks = report.removed, report.chunks
            state.elapsed_s, state.path = time.perf_counter() - started, path
            if progress is not None:
                progress(state)

        def drain() -> None:
            nonlocal inflight
            if inflight is None:
                return
            future, written, chunks = inflight
            inflight = None
            future.result()
            if report.first_file_s is None:
                report.first_file_s = time.perf_counter() - self._started
            report.indexed += len(written)
            report.chunks += chunks
            for b in written:
                tick(b.path)

        if progress is not None:
            progress(state)
        with ThreadPoolExecutor(1, thread_name_prefix="files-writer") as writer:
            try:
                for path in candidates:
                    item = self._prepare(path, report)
                    if item is None:
                        tick(str(path))
                        continue
                    batch.append(item)
                    if sum(len(b.chunks) for b in batch) >= limit or len(batch) >= _BATCH_FILES:
                        payload = self._embed_batch(batch)
                        drain()
                        inflight = (writer.submit(self._write, batch, *payload), batch, len(payload[0]))
                        if limit == _FIRST_BATCH_CHUNKS:
                            drain()  # the first files are searchable now, not after the next batch
                        batch, limit = [], _BATCH_CHUNKS
                if batch:
                    payload = self._embed_batch(batch)
                    drain()
                    inflight = (writer.submit(self._write, batch, *payload), batch, len(payload[0]))
                drain()
            finally:  # interrupted (Ctrl-C, a stopped job): the batch being written is still committed
                if inflight is not None:
                    inflight[0].exception()

    def _prepare(self, path: Path, report: IndexReport) -> _Pending | None:
        """Decide one file: unchanged (None), skipped (None), or chunks to store."""
        key = str(path)
        old = self.manifest.get(key)
        try:
            st = path.stat()
            if old and old.mtime_ns == st.st_mtime_ns and old.size == st.st_size:
                report.unchanged += 1
                return None
            digest = _sha256(path)
            if old and old.sha256 == digest:
                self.manifest.touch(key, st.st_mtime_ns, st.st_size)
                report.unchanged += 1
                return None
            text = extract_text(path)
            if holds_private_key(text):
                raise SkipFile("holds a private key")
        except SkipFile as skip:
            report.skip(key, skip.reason)
        except OSError as exc:
            report.skip(key, f"unreadable: {exc.strerror or exc}")
        else:
            chunks = chunk_text(text, self.settings.chunk_chars, self.settings.chunk_overlap)
            if len(chunks) > _MAX_CHUNKS:
                _LOGGER.info("%s: only the first %d chunks are indexed", key, _MAX_CHUNKS)
                chunks = chunks[:_MAX_CHUNKS]
            entry = FileEntry(key, digest, st.st_mtime_ns, st.st_size, len(chunks))
            return _Pending(key, entry, path.name, chunks, old)
        if old:  # it was indexed, and now cannot be: forget it
            self._remove([old], report)
        return None

    def _embed_batch(self, batch: list[_Pending]) -> tuple[list[str], Any, list[dict[str, Any]],
                                                            list[tuple[str, str, int, str, str]], _Names]:
        """A batch's chunk ids, vectors, metadata and keyword rows (id, path, number, name, text), and its files'
        name vectors. The text is stored once, in the manifest's keyword index."""
        ids: list[str] = []
        inputs: list[str] = []
        metas: list[dict[str, Any]] = []
        rows: list[tuple[str, str, int, str, str]] = []
        for b in batch:
            for i, chunk in enumerate(b.chunks):
                cid = chunk_id(b.path, i)
                ids.append(cid)
                inputs.append(f"{b.name}\n{chunk}")
                metas.append({"path": b.path, "chunk": i})  # what search and deletion read; each key is indexed
                rows.append((cid, b.path, i, b.name, chunk))
        named = [(b.path, words) for b in batch if b.chunks and (words := name_words(b.name))]
        if not inputs:
            return ids, None, metas, rows, _Names([], None, [])
        vectors = self._embed(inputs + [w for _, w in named])
        names = _Names([chunk_id(p, -1) for p, _ in named], vectors[len(inputs):], [p for p, _ in named])
        return ids, vectors[:len(inputs)], metas, rows, names

    def _write(self, batch: list[_Pending], ids: list[str], vectors: Any, metas: list[dict[str, Any]],
               rows: list[tuple[str, str, int, str, str]], names: _Names) -> None:
        """Store a batch of files: mark pending, replace their chunks in Chroma, then commit the manifest."""
        self.manifest.mark_pending(b.path for b in batch)
        stale = [chunk_id(b.old.path, i) for b in batch if b.old for i in range(len(b.chunks), b.old.chunks)]
        self.store.delete_ids(stale)
        if ids:
            self.store.upsert(ids, vectors, metas)
        if names.ids:
            self.store.upsert_names(names.ids, names.vectors, names.paths)
        self.manifest.commit_files([b.entry for b in batch], rows, done_pending=[b.path for b in batch])

    def _embed(self, texts: list[str]) -> Any:
        """Embed in length order (less padding per batch), returned in the original order."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        embedder = self._run_embedder or self.embedder()
        parts = []
        for start in range(0, len(order), _EMBED_BATCH):
            if self._pause is not None and start:
                self._pause()  # the background job waits here while a turn runs
            parts.append(embedder.embed([texts[i] for i in order[start:start + _EMBED_BATCH]],
                                        batch_size=_EMBED_BATCH))
        vectors = np.vstack(parts)
        out = vectors.copy()
        out[order] = vectors
        return out
