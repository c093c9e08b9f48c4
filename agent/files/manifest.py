"""The keyword side of the file index and its bookkeeping, in one SQLite file (WAL).

    files    path → sha256, mtime_ns, size, chunks: what is indexed, committed only after the file's chunks
             are stored in Chroma (so an interrupted run re-does that file and no more)
    pending  paths whose Chroma chunks may be half-written: cleaned before the next run
    roots    the folders the user indexed (the watcher keeps these current)
    jobs     background index jobs asked for and not finished (the resident agent resumes them on start)
    meta     key → value: `embedder`, the model that made the stored vectors; `generation`, bumped by every change
    chunks   one row per chunk (its Chroma id, path, number); its rowid is the chunk's row in `fts`
    fts      FTS5 over the same chunks (file name and text), ranked with BM25
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NoReturn

from agent.store import faults

__all__ = ["FileEntry", "KeywordHit", "Manifest", "fts_terms"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL,
    chunks INTEGER NOT NULL, indexed_at REAL NOT NULL, name TEXT NOT NULL, stem TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS files_name ON files(name);
CREATE INDEX IF NOT EXISTS files_stem ON files(stem);
CREATE TABLE IF NOT EXISTS pending (path TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS roots (path TEXT PRIMARY KEY, added_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (root TEXT PRIMARY KEY, asked_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, cid TEXT NOT NULL, path TEXT NOT NULL, chunk INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_path ON chunks(path, chunk);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(name, body, tokenize = 'porter unicode61 remove_diacritics 2');
"""
_STOP = frozenset(
    "a an and are as at be by can did do does find for from get have how i in is it its look me my of on or "
    "our search show that the their them there this to was we what where which who why will with you your "
    "about file files document documents folder".split())
_TOKEN = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class FileEntry:
    path: str
    sha256: str
    mtime_ns: int
    size: int
    chunks: int


@dataclass(frozen=True)
class KeywordHit:
    id: str
    path: str
    chunk: int
    text: str
    rank: float  # BM25 (lower is better, as SQLite returns it)
    coverage: float = 1.0  # the share of the query's words this chunk (or its file name) contains
    rowid: int = 0


def fts_terms(query: str, *, drop_stopwords: bool = True) -> list[str]:
    """The query's words, lower-cased; common words dropped unless nothing else is left."""
    words = [w.lower() for w in _TOKEN.findall(query)]
    if not drop_stopwords:
        return words
    kept = [w for w in words if w not in _STOP]
    return kept or words


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


class Manifest:
    """Thread-safe: one connection per thread; writers take a lock and a transaction."""

    def __init__(self, path: Path) -> None:
        """Open (or create) the manifest; `StoreError` when it is damaged, its disk is full or it cannot be opened."""
        self.path = path
        self._local = threading.local()
        self._write = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._write:
                self._db().executescript(f"BEGIN IMMEDIATE;{_SCHEMA}COMMIT;")
        except (sqlite3.Error, OSError) as exc:
            self.close()
            self._fault(exc)

    def _fault(self, exc: BaseException) -> NoReturn:
        err = faults.classify(self.path, exc)
        if err is None:
            raise exc
        raise faults.report(err) from exc

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")  # a committed file entry survives a power cut
            self._local.db = db
        return db

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        with self._write:
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    with suppress(sqlite3.Error):
                        db.execute("ROLLBACK")
                    raise
                try:
                    db.execute("COMMIT")
                except sqlite3.Error:
                    if db.in_transaction:
                        with suppress(sqlite3.Error):
                            db.execute("ROLLBACK")
                    raise
            except (sqlite3.Error, OSError) as exc:
                self._fault(exc)

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    # -- files ------------------------------------------------------------------------------------------

    def get(self, path: str) -> FileEntry | None:
        row = self._db().execute("SELECT path, sha256, mtime_ns, size, chunks FROM files WHERE path = ?",
                                 (path,)).fetchone()
        return FileEntry(*row) if row else None

    def entries_under(self, root: str) -> list[FileEntry]:
        prefix = root.rstrip("/") + "/"
        rows = self._db().execute(
            "SELECT path, sha256, mtime_ns, size, chunks FROM files WHERE path = ? OR substr(path, 1, ?) = ?",
            (root, len(prefix), prefix)).fetchall()
        return [FileEntry(*r) for r in rows]

    def file_count(self) -> int:
        return int(self._db().execute("SELECT count(*) FROM files").fetchone()[0])

    def chunk_count(self) -> int:
        return int(self._db().execute("SELECT coalesce(sum(chunks), 0) FROM files").fetchone()[0])

    def touch(self, path: str, mtime_ns: int, size: int) -> None:
        """The file's stat changed but its content did not."""
        with self._tx() as db:
            db.execute("UPDATE files SET mtime_ns = ?, size = ? WHERE path = ?", (mtime_ns, size, path))

    def mark_pending(self, paths: Iterable[str]) -> None:
        with self._tx() as db:
            db.executemany("INSERT OR IGNORE INTO pending(path) VALUES (?)", [(p,) for p in paths])

    def pending(self) -> list[str]:
        return [r[0] for r in self._db().execute("SELECT path FROM pending").fetchall()]

    def commit_files(self, entries: Sequence[FileEntry], chunks: Sequence[tuple[str, str, int, str, str]],
                     done_pending: Iterable[str] = ()) -> None:
        """Record files and their keyword rows (id, path, chunk, name, text) in one transaction."""
        now = time.time()
        with self._tx() as db:
            self._drop_chunks(db, [e.path for e in entries])
            for cid, path, number, name, text in chunks:
                rowid = db.execute("INSERT INTO chunks(cid, path, chunk) VALUES (?, ?, ?)",
                                   (cid, path, number)).lastrowid
                db.execute("INSERT INTO fts(rowid, name, body) VALUES (?, ?, ?)", (rowid, name, text))
            db.executemany(
                "INSERT OR REPLACE INTO files(path, sha256, mtime_ns, size, chunks, indexed_at, name, stem) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(e.path, e.sha256, e.mtime_ns, e.size, e.chunks, now, Path(e.path).name.lower(),
                  Path(e.path).stem.lower()) for e in entries])
            db.executemany("DELETE FROM pending WHERE path = ?", [(p,) for p in done_pending])
            self._bump(db)

    def remove(self, paths: Iterable[str]) -> None:
        rows = [(p,) for p in paths]
        with self._tx() as db:
            self._drop_chunks(db, [p for (p,) in rows])
            db.executemany("DELETE FROM files WHERE path = ?", rows)
            db.executemany("DELETE FROM pending WHERE path = ?", rows)
            self._bump(db)

    @staticmethod
    def _bump(db: sqlite3.Connection) -> None:
        db.execute("INSERT INTO meta(key, value) VALUES ('generation', '1') ON CONFLICT(key) DO UPDATE "
                   "SET value = CAST(value AS INTEGER) + 1")

    def generation(self) -> int:
        """A number that changes whenever a file's chunks are stored or removed, by any process: after the
        vector store was written, so a reader that sees a new number sees the new vectors."""
        found = self.meta("generation")
        return int(found) if found else 0

    @staticmethod
    def _drop_chunks(db: sqlite3.Connection, paths: Sequence[str]) -> None:
        for path in paths:
            db.execute("DELETE FROM fts WHERE rowid IN (SELECT id FROM chunks WHERE path = ?)", (path,))
            db.execute("DELETE FROM chunks WHERE path = ?", (path,))

    # -- roots ------------------------------------------------------------------------------------------

    def add_root(self, path: str) -> None:
        with self._tx() as db:
            db.execute("INSERT OR IGNORE INTO roots(path, added_at) VALUES (?, ?)", (path, time.time()))

    def roots(self) -> list[str]:
        return [r[0] for r in self._db().execute("SELECT path FROM roots ORDER BY path").fetchall()]

    def meta(self, key: str) -> str | None:
        row = self._db().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def clear_files(self) -> None:
        """Forget every indexed file (not the roots): the next run indexes them all again."""
        with self._tx() as db:
            for table in ("fts", "chunks", "files", "pending"):
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            self._bump(db)

    # -- background jobs --------------------------------------------------------------------------------

    def start_job(self, root: str) -> None:
        with self._tx() as db:
            db.execute("INSERT OR IGNORE INTO jobs(root, asked_at) VALUES (?, ?)", (root, time.time()))

    def finish_job(self, root: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM jobs WHERE root = ?", (root,))

    def unfinished_jobs(self) -> list[str]:
        return [r[0] for r in self._db().execute("SELECT root FROM jobs ORDER BY asked_at").fetchall()]

    # -- keyword search ---------------------------------------------------------------------------------

    def keyword(self, query: str, n: int) -> list[KeywordHit]:
        """Chunks matching any of the query's words, best BM25 first (the file name weighs more), each with
        the share of the query's words it contains (a chunk that matches one common word of five is weak)."""
        terms = list(dict.fromkeys(fts_terms(query)))
        if not terms:
            return []
        hits = self._match(" OR ".join(_quote(t) for t in terms), n)
        if len(terms) == 1 or not hits:
            return hits
        rowids = [h.rowid for h in hits]
        marks = ",".join("?" * len(rowids))
        found: dict[int, int] = {}
        for term in terms:  # the same tokenizer (porter stems) decides what a match is
            for (rowid,) in self._db().execute(f"SELECT rowid FROM fts WHERE fts MATCH ? AND rowid IN ({marks})",
                                               (_quote(term), *rowids)):
                found[rowid] = found.get(rowid, 0) + 1
        return [replace(h, coverage=found.get(h.rowid, 0) / len(terms)) for h in hits]

    def phrase(self, query: str, n: int) -> list[KeywordHit]:
        """Chunks containing the query's words as one exact phrase (in the text or the file name)."""
        terms = fts_terms(query, drop_stopwords=False)
        if not terms:
            return []
        return self._match(_quote(" ".join(terms)), n)

    def _match(self, expression: str, n: int) -> list[KeywordHit]:
        rows = self._db().execute(
            "SELECT c.cid, c.path, c.chunk, m.body, m.r, m.rowid FROM (SELECT rowid, body, bm25(fts, 4.0, 1.0) AS r "
            "FROM fts WHERE fts MATCH ? ORDER BY r LIMIT ?) AS m JOIN chunks AS c ON c.id = m.rowid ORDER BY m.r",
            (expression, n)).fetchall()
        return [KeywordHit(r[0], r[1], int(r[2]), r[3], float(r[4]), rowid=int(r[5])) for r in rows]

    def phrase_files(self, query: str, limit: int) -> list[str]:
        """Files containing the exact phrase, best first, at most `limit + 1` (so callers can see "too many")."""
        terms = fts_terms(query, drop_stopwords=False)
        if not terms:
            return []
        # ORDER BY/LIMIT keep the subquery from being flattened (bm25 only works directly on the FTS query)
        rows = self._db().execute(
            "SELECT c.path, min(m.r) AS best FROM (SELECT rowid, bm25(fts, 4.0, 1.0) AS r FROM fts "
            "WHERE fts MATCH ? ORDER BY r LIMIT 5000) AS m JOIN chunks AS c ON c.id = m.rowid "
            "GROUP BY c.path ORDER BY best LIMIT ?", (_quote(" ".join(terms)), limit + 1)).fetchall()
        return [r[0] for r in rows]

    def files_named(self, name: str) -> list[str]:
        """Indexed files whose name (or name without extension) is `name`, case-insensitively."""
        name = name.strip().lower()
        if not name or "/" in name:
            return []
        rows = self._db().execute("SELECT path FROM files WHERE name = ? OR stem = ? ORDER BY path",
                                  (name, name)).fetchall()
        return [r[0] for r in rows]

    def chunk_text(self, path: str, chunk: int = 0) -> str:
        row = self._db().execute("SELECT f.body FROM chunks AS c JOIN fts AS f ON f.rowid = c.id "
                                 "WHERE c.path = ? AND c.chunk = ? LIMIT 1", (path, chunk)).fetchone()
        return str(row[0]) if row else ""

    def has(self, paths: Iterable[str]) -> set[str]:
        """Which of `paths` are indexed (committed)."""
        wanted = list(set(paths))
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            part = wanted[start:start + 500]
            rows = self._db().execute(f"SELECT path FROM files WHERE path IN ({','.join('?' * len(part))})",
                                      part).fetchall()
            found.update(r[0] for r in rows)
        return found
