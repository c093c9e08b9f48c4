"""Notes: `notes.add`, `notes.search`, `notes.list`, `notes.delete` on one SQLite file (`notes.db`).

Search is hybrid, like file search: SQLite FTS5 BM25 over the note text, plus cosine similarity with the
project's sentence embedder (vectors cached in the database per embedder model), fused by reciprocal rank.
Without the embedder it falls back to keywords only and says so in `data["mode"]`. Deleting goes through the
executor as the destructive in-process action `notes.delete`, so it asks first.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, model_validator

from agent.errors import ModelError
from agent.events import ResultState, SkillResult
from agent.safety.executor import ActionOutput, Executor
from agent.skills.base import Args, PerAgent, QueryArgs, Register, Skill, SkillContext
from agent.skills.extractors import extract_query
from agent.store.sqlite import Database
from agent.values import restore_case, to_digits

__all__ = ["DB_NAME", "Note", "NoteHit", "NoteStore", "register", "register_actions", "search", "strip_prefix"]

_LOGGER = logging.getLogger(__name__)

DB_NAME = "notes.db"
RRF_K = 60
MIN_SIMILARITY = 0.3  # MiniLM cosine below this is unrelated text; such notes are not "found"

MIGRATIONS = (
    """
    CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL CHECK (length(text) > 0), created REAL NOT NULL);
    CREATE VIRTUAL TABLE notes_fts USING fts5(text, content='notes', content_rowid='id',
                                              tokenize='porter unicode61 remove_diacritics 2');
    CREATE TRIGGER notes_ai AFTER INSERT ON notes BEGIN
        INSERT INTO notes_fts(rowid, text) VALUES (new.id, new.text);
    END;
    CREATE TRIGGER notes_ad AFTER DELETE ON notes BEGIN
        INSERT INTO notes_fts(notes_fts, rowid, text) VALUES ('delete', old.id, old.text);
    END;
    CREATE TRIGGER notes_au AFTER UPDATE ON notes BEGIN
        INSERT INTO notes_fts(notes_fts, rowid, text) VALUES ('delete', old.id, old.text);
        INSERT INTO notes_fts(rowid, text) VALUES (new.id, new.text);
    END;
    CREATE TABLE note_vectors (
        note_id INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
        model TEXT NOT NULL, dim INTEGER NOT NULL, vector BLOB NOT NULL,
        PRIMARY KEY (note_id, model));
    """,
)

_PREFIX = re.compile(
    r"^\s*(?:(?:hey|ok|okay)\s+)?(?:please\s+)?(?:"
    r"(?:take|make|add|save|create|write|jot)\s+(?:down\s+)?(?:a\s+|an?\s+)?(?:new\s+|quick\s+)?note\b"
    r"(?:\s+(?:saying|that says|that|to say|to self|about|to)\b)?"
    r"|new\s+note\b|note\s+to\s+self|note(?=\s*:)|note\s+that|(?:jot|write)\s+down(?:\s+that)?|remember\s+that"
    r")\s*[:,-]?\s*", re.I)
_STOPWORDS = frozenset(
    "a an and are about did do does for from i in is it me my of on or the to was what when where which who with "
    "write wrote note notes".split())


class NoteAddArgs(Args):
    text: str = Field(min_length=1, max_length=10_000)
    list: str | None = Field(None, min_length=1, max_length=100, description="a named list: 'shopping'")


class NoteDeleteArgs(Args):
    id: int | None = Field(None, ge=1, description="the note number")
    query: str | None = Field(None, min_length=1, max_length=1000, description="delete the best match instead")
    latest: bool = Field(False, description="delete the latest note")

    @model_validator(mode="after")
    def _one_target(self) -> NoteDeleteArgs:
        if self.id is None and self.query is None and not self.latest:
            raise ValueError("which note? give its number or what it is about")
        return self


class NotesListArgs(Args):
    limit: int = Field(10, ge=1, le=200)


def strip_prefix(text: str) -> str:
    """"take a note: buy milk" → "buy milk" (the router extracts the text; this is the safety net)."""
    stripped = _PREFIX.sub("", text, count=1).strip()
    return stripped or text.strip()


@dataclass(frozen=True)
class Note:
    id: int
    text: str
    created: float

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "created_at": datetime.fromtimestamp(self.created).isoformat(timespec="seconds")}


@dataclass(frozen=True)
class NoteHit:
    note: Note
    score: float
    keyword_rank: int | None
    semantic_rank: int | None
    similarity: float | None

    def to_json(self) -> dict[str, Any]:
        sim = None if self.similarity is None else round(self.similarity, 3)
        return {**self.note.to_json(), "score": round(self.score, 5), "keyword_rank": self.keyword_rank,
                "semantic_rank": self.semantic_rank, "similarity": sim}


def _note(row: sqlite3.Row) -> Note:
    return Note(int(row["id"]), str(row["text"]), float(row["created"]))


def _fts_expression(query: str) -> str | None:
    words = re.findall(r"\w+", query.lower())
    terms = [w for w in words if w not in _STOPWORDS] or words
    if not terms:
        return None
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in dict.fromkeys(terms))


class NoteStore:
    """The notes database: each write is one committed transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = Database.open(path, MIGRATIONS)

    def add(self, text: str, *, vector: np.ndarray | None = None, model: str = "", now: float | None = None) -> Note:
        created = time.time() if now is None else now
        with self.db.transaction() as conn:
            cur = conn.execute("INSERT INTO notes(text, created) VALUES (?, ?)", (text, created))
            note_id = int(cur.lastrowid or 0)
            if vector is not None:
                self._put_vector(conn, note_id, model, vector)
        return Note(note_id, text, created)

    @staticmethod
    def _put_vector(conn: sqlite3.Connection, note_id: int, model: str, vector: np.ndarray) -> None:
        v = np.asarray(vector, dtype=np.float32)
        conn.execute("INSERT OR REPLACE INTO note_vectors(note_id, model, dim, vector) VALUES (?, ?, ?, ?)",
                     (note_id, model, int(v.shape[0]), v.tobytes()))

    def get(self, note_id: int) -> Note | None:
        rows = self.db.query("SELECT id, text, created FROM notes WHERE id = ?", (note_id,))
        return _note(rows[0]) if rows else None

    def latest(self, limit: int = 10) -> list[Note]:
        rows = self.db.query("SELECT id, text, created FROM notes ORDER BY created DESC, id DESC LIMIT ?", (limit,))
        return [_note(r) for r in rows]

    def count(self) -> int:
        return int(self.db.query("SELECT count(*) FROM notes")[0][0])

    def delete(self, note_id: int) -> bool:
        with self.db.transaction() as conn:
            return conn.execute("DELETE FROM notes WHERE id = ?", (note_id,)).rowcount > 0

    def keyword(self, query: str, limit: int) -> list[Note]:
        """Notes matching any query word (stemmed), best BM25 first."""
        expression = _fts_expression(query)
        if expression is None:
            return []
        rows = self.db.query(
            "SELECT n.id, n.text, n.created FROM notes_fts f JOIN notes n ON n.id = f.rowid "
            "WHERE notes_fts MATCH ? ORDER BY bm25(notes_fts) LIMIT ?", (expression, limit))
        return [_note(r) for r in rows]

    def missing_vectors(self, model: str) -> list[Note]:
        rows = self.db.query("SELECT id, text, created FROM notes WHERE id NOT IN "
                             "(SELECT note_id FROM note_vectors WHERE model = ?)", (model,))
        return [_note(r) for r in rows]

    def put_vectors(self, model: str, notes: list[Note], vectors: np.ndarray) -> None:
        with self.db.transaction() as conn:
            for note, vector in zip(notes, vectors, strict=True):
                self._put_vector(conn, note.id, model, vector)

    def vectors(self, model: str) -> tuple[list[Note], np.ndarray]:
        rows = self.db.query("SELECT n.id, n.text, n.created, v.dim, v.vector FROM note_vectors v "
                             "JOIN notes n ON n.id = v.note_id WHERE v.model = ? ORDER BY n.id", (model,))
        if not rows:
            return [], np.zeros((0, 0), dtype=np.float32)
        matrix = np.vstack([np.frombuffer(r["vector"], dtype=np.float32) for r in rows])
        return [_note(r) for r in rows], matrix


def _embedder(ctx: SkillContext) -> tuple[Any | None, str]:
    """(embedder, "") or (None, why it is unavailable)."""
    try:
        return ctx.services.embedder(), ""
    except ModelError as exc:
        return None, str(exc)


def _model_key(ctx: SkillContext) -> str:
    path = ctx.settings.embedder.model_path
    return f"onnx:{path}" if path is not None else "minilm-l6-v2-int8"


def search(store: NoteStore, query: str, limit: int, embedder: Any | None, model: str) -> list[NoteHit]:
    """Keyword (BM25) and semantic rankings fused by reciprocal rank; keywords only when `embedder` is None."""
    pool = max(limit * 4, 20)
    keyword = store.keyword(query, pool)
    semantic: list[tuple[Note, float]] = []
    if embedder is not None:
        missing = store.missing_vectors(model)
        if missing:
            store.put_vectors(model, missing, embedder.embed([n.text for n in missing]))
        notes, matrix = store.vectors(model)
        if notes:
            sims = matrix @ embedder.embed([query])[0]
            order = np.argsort(-sims)[:pool]
            semantic = [(notes[i], float(sims[i])) for i in order if sims[i] >= MIN_SIMILARITY]
    fused: dict[int, dict[str, Any]] = {}
    for rank, note in enumerate(keyword, start=1):
        fused.setdefault(note.id, {"note": note, "score": 0.0})
        fused[note.id].update(score=fused[note.id]["score"] + 1 / (RRF_K + rank), keyword_rank=rank)
    for rank, (note, sim) in enumerate(semantic, start=1):
        fused.setdefault(note.id, {"note": note, "score": 0.0})
        fused[note.id].update(score=fused[note.id]["score"] + 1 / (RRF_K + rank), semantic_rank=rank,
                              similarity=sim)
    hits = [NoteHit(f["note"], f["score"], f.get("keyword_rank"), f.get("semantic_rank"), f.get("similarity"))
            for f in fused.values()]
    hits.sort(key=lambda h: (-h.score, -h.note.created))
    return hits[:limit]


_STORE: PerAgent[NoteStore] = PerAgent(lambda services: NoteStore(services.paths.data / DB_NAME))


def _store(ctx: SkillContext) -> NoteStore:
    return _STORE.get(ctx)


def _quote(text: str, n: int = 80) -> str:
    return f"“{text if len(text) <= n else text[: n - 1] + '…'}”"


def _add(args: NoteAddArgs, ctx: SkillContext) -> SkillResult:
    text = strip_prefix(restore_case(args.text, ctx.utterance))
    if args.list:
        text = f"{args.list[:1].upper()}{args.list[1:]} list: {text}"
    embedder, why = _embedder(ctx)
    vector = embedder.embed([text])[0] if embedder is not None else None
    note = _store(ctx).add(text, vector=vector, model=_model_key(ctx))
    stop = "" if text.endswith((".", "!", "?")) else "."
    return SkillResult.ok(f"Noted: {text}{stop}", **note.to_json(), embedded=vector is not None,
                          **({"embedder_unavailable": why} if why else {}))


def _search(args: QueryArgs, ctx: SkillContext) -> SkillResult:
    store = _store(ctx)
    embedder, why = _embedder(ctx)
    hits = search(store, args.query, args.limit, embedder, _model_key(ctx))
    data: dict[str, Any] = {"query": args.query, "mode": "hybrid" if embedder is not None else "keyword",
                            "hits": [h.to_json() for h in hits], "total_notes": store.count()}
    if why:
        data["embedder_unavailable"] = why
    if not hits:
        reply = "You have no notes yet." if data["total_notes"] == 0 else f"I found no notes about {args.query}."
        return SkillResult(ResultState.OK, reply, data)
    more = f" and {len(hits) - 1} more" if len(hits) > 1 else ""
    return SkillResult(ResultState.OK, f"Best match: {_quote(hits[0].note.text)}{more}.", data)


def _list(args: NotesListArgs, ctx: SkillContext) -> SkillResult:
    store = _store(ctx)
    notes, total = store.latest(args.limit), store.count()
    data = {"notes": [n.to_json() for n in notes], "total": total}
    if not notes:
        return SkillResult.ok("You have no notes yet.", **data)
    word = "note" if total == 1 else "notes"
    return SkillResult.ok(f"You have {total} {word}. The latest: {_quote(notes[0].text)}.", **data)


def _delete(args: NoteDeleteArgs, ctx: SkillContext) -> SkillResult:
    store = _store(ctx)
    if args.id is not None:
        note = store.get(args.id)
        if note is None:
            return SkillResult.error(f"There is no note {args.id}.", id=args.id)
    elif args.latest and args.query is None:
        newest = store.latest(1)
        if not newest:
            return SkillResult.error("You have no notes to delete.")
        note = newest[0]
    else:
        embedder, _ = _embedder(ctx)
        hits = search(store, args.query or "", 1, embedder, _model_key(ctx))
        if not hits:
            return SkillResult.error(f"I found no note about {args.query} to delete.", query=args.query)
        note = hits[0].note
    result = ctx.executor.run("notes.delete", {"id": note.id, "db": str(store.path), "text": note.text},
                              yes=ctx.yes, confirmation=ctx.confirmation,
                              intent={"skill": "notes.delete", "args": {"id": note.id}})
    data = {"id": note.id, "text": note.text}
    if result.state is ResultState.NEEDS_CONFIRMATION:
        return SkillResult(ResultState.NEEDS_CONFIRMATION, f"This will {result.summary}. Should I go ahead?", data,
                           confirmation=result.confirmation)
    if result.state is ResultState.OK:
        return SkillResult.ok(f"Deleted note {note.id}.", **data)
    return SkillResult(result.state, f"I couldn't delete note {note.id}: {result.message}.", data)


def _delete_action(args: dict[str, Any]) -> ActionOutput:
    path = Path(str(args.get("db", "")))
    if path.name != DB_NAME or not path.is_file():
        return ActionOutput(False, f"not a notes database: {path}")
    store = NoteStore(path)
    try:
        deleted = store.delete(int(args["id"]))
    finally:
        store.db.close()
    return ActionOutput(deleted, f"deleted note {args['id']}" if deleted else f"there is no note {args['id']}")


def register_actions(executor: Executor) -> None:
    executor.register_action(
        "notes.delete", _delete_action, destructive=True,
        describe=lambda a: f"delete note {a.get('id')} ({_quote(str(a.get('text', '')), 60)})",
        secret_args=frozenset({"text"}))


# -- arguments from the words (the router's rule extractor for these skills) --------------------
def _extract_note(t: str) -> dict[str, Any]:
    m = re.search(r"^(?:take|make|add|save|create|new)?\s*(?:a\s+)?(?:new\s+)?note\s*(?:saying|that says|that|to|:)?\s*"
                  r"(.+)$|^(?:note|jot down|write down|remember)(?:\s+that)?\s*:?\s*(.+)$", t)
    if m:
        text = (m.group(1) or m.group(2) or "").strip(" :")
        text = re.sub(r"^(?:that|saying)\s+", "", text)
        if text:
            return {"text": text}
    return {}


def _extract_note_delete(t: str) -> dict[str, Any]:
    m = re.search(r"\bnote\s*(?:number|#|no\.?)?\s*(\d+)\b", t)
    if m:
        return {"id": int(m.group(1))}
    m = re.search(r"\bnote\s+(?:that says|saying)\s+(.+)$", t)
    return {"query": m.group(1)} if m else extract_query(t)


def _extract_limit(t: str) -> dict[str, Any]:
    m = re.search(r"\b(?:last|latest|first|newest|most recent|recent)\s+(\d{1,3})\b|\b(\d{1,3})\s+(?:most recent|"
                  r"latest|last|newest|recent)\b", to_digits(t))
    return {"limit": int(m.group(1) or m.group(2))} if m else {}


def register(reg: Register) -> None:
    reg(Skill("notes.add", "take a note, or add something to the shopping list",
              args=NoteAddArgs, run=_add, extract=_extract_note, actions=register_actions))
    reg(Skill("notes.search", "find notes you took",
              args=QueryArgs, run=_search, extract=extract_query, actions=register_actions))
    reg(Skill("notes.list", "list your latest notes",
              args=NotesListArgs, run=_list, extract=_extract_limit, numeric=True, actions=register_actions))
    reg(Skill("notes.delete", "delete a note (asks first)",
              args=NoteDeleteArgs, changes_system=True, run=_delete, extract=_extract_note_delete, numeric=True,
              actions=register_actions))
