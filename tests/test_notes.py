"""Notes on a real SQLite file, searched with real FTS5 and the real MiniLM embedder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.config import load_settings
from agent.events import ResultState, SkillResult
from agent.paths import Paths
from agent.pipeline import Pipeline
from agent.services import Services, build_services
from agent.skills.notes import DB_NAME, NoteStore, search, strip_prefix
from tests.conftest import run_cli


@pytest.mark.parametrize(("said", "stored"), [
    ("take a note: buy milk", "buy milk"),
    ("Take a note buy milk", "buy milk"),
    ("note that the wifi password changed", "the wifi password changed"),
    ("note: call bob", "call bob"),
    ("make a note to renew my passport", "renew my passport"),
    ("add a note saying dinner at 8", "dinner at 8"),
    ("note to self: water the plants", "water the plants"),
    ("take a note tomorrow is a holiday", "tomorrow is a holiday"),
    ("buy milk", "buy milk"),
    ("make notes for the talk", "make notes for the talk"),
    ("notes from the meeting", "notes from the meeting"),
])
def test_strip_prefix(said: str, stored: str) -> None:
    assert strip_prefix(said) == stored


def test_store_round_trip_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    store = NoteStore(path)
    first = store.add("buy milk and eggs")
    store.add("dentist appointment on tuesday")
    assert store.db.pragma("journal_mode") == "wal"
    store.db.close()
    again = NoteStore(path)
    assert [n.text for n in again.latest()] == ["dentist appointment on tuesday", "buy milk and eggs"]
    assert again.get(first.id) == first
    assert again.db.version() == 1
    assert [n.id for n in again.keyword("eggs", 5)] == [first.id]
    assert again.keyword("the", 5) == []  # only stopwords, and no note contains "the"
    assert again.delete(first.id)
    assert not again.delete(first.id)
    assert again.keyword("eggs", 5) == []  # the FTS index follows deletes


def test_hybrid_search_finds_meaning_and_caches_vectors(services: Services, tmp_path: Path) -> None:
    embedder = services.embedder()
    store = NoteStore(tmp_path / DB_NAME)
    for text in ["buy milk and eggs", "dentist appointment tuesday at 3pm", "the wifi password changed",
                 "renew my passport before june", "call the plumber about the leak"]:
        store.add(text)  # no vectors yet: the first hybrid search fills the cache
    hits = search(store, "tooth doctor", 3, embedder, "minilm")
    assert hits[0].note.text == "dentist appointment tuesday at 3pm"
    assert hits[0].keyword_rank is None
    assert hits[0].semantic_rank == 1
    assert int(store.db.query("SELECT count(*) FROM note_vectors WHERE model = 'minilm'")[0][0]) == 5
    keyword_only = search(store, "tooth doctor", 3, None, "minilm")
    assert keyword_only == []
    both = search(store, "wifi password", 3, embedder, "minilm")
    assert both[0].note.text == "the wifi password changed"
    assert both[0].keyword_rank == 1
    assert both[0].semantic_rank == 1
    assert all(h.note.text != "buy milk and eggs" for h in both)  # unrelated notes are not "found"


def test_add_and_search_through_the_pipeline(services: Services) -> None:
    pipeline = Pipeline(services)
    added = pipeline.handle("take a note: buy milk and eggs")
    assert added.intent.skill == "notes.add"
    assert added.result.state is ResultState.OK
    assert added.result.data["text"] == "buy milk and eggs"
    assert added.result.data["embedded"] is True
    pipeline.handle("take a note: dentist appointment tuesday at 3pm")
    found = pipeline.handle("what did I write about the dentist")
    assert found.intent.skill == "notes.search"
    assert found.result.state is ResultState.OK
    assert found.result.data["mode"] == "hybrid"
    assert found.result.data["hits"][0]["text"] == "dentist appointment tuesday at 3pm"
    assert "dentist appointment" in found.result.reply
    none = pipeline.run_skill("notes.search", {"query": "volcano eruption"})
    assert none.result.state is ResultState.OK
    assert none.result.data["hits"] == []
    assert none.result.reply == "I found no notes about volcano eruption."


def test_keyword_fallback_says_so_without_the_embedder(paths: Paths) -> None:
    paths.config_file.write_text("embedder:\n  model_path: /nonexistent/model.onnx\n")
    services = build_services(paths, load_settings(paths))
    pipeline = Pipeline(services)
    added = pipeline.run_skill("notes.add", {"text": "dentist on tuesday"})
    assert added.result.state is ResultState.OK
    assert added.result.data["embedded"] is False
    found = pipeline.run_skill("notes.search", {"query": "dentist"})
    assert found.result.data["mode"] == "keyword"
    assert "not found" in found.result.data["embedder_unavailable"]
    assert found.result.data["hits"][0]["text"] == "dentist on tuesday"


def _skill(services: Services, name: str, args: dict[str, object]) -> SkillResult:
    """Call a skill through its public contract (the pipeline itself is tested above)."""
    skill = services.registry.get(name)
    assert skill is not None
    assert skill.run is not None
    return skill.run(skill.args.model_validate(args), services.context())


def test_notes_survive_a_restart(paths: Paths) -> None:
    first = build_services(paths, load_settings(paths))
    _skill(first, "notes.add", {"text": "locker number is 42"})
    second = build_services(paths, load_settings(paths))  # a new process, in effect
    listed = _skill(second, "notes.list", {})
    assert listed.data["total"] == 1
    assert listed.data["notes"][0]["text"] == "locker number is 42"
    found = _skill(second, "notes.search", {"query": "which locker"})
    assert found.data["hits"][0]["text"] == "locker number is 42"


def test_delete_asks_first_then_deletes(services: Services) -> None:
    pipeline = Pipeline(services)
    note_id = pipeline.run_skill("notes.add", {"text": "secret: the safe code is 1234"}).result.data["id"]
    asked = pipeline.run_skill("notes.delete", {"id": note_id})
    assert asked.result.state is ResultState.NEEDS_CONFIRMATION
    assert "the safe code is 1234" in asked.result.reply
    store = NoteStore(services.paths.data / DB_NAME)
    assert store.get(note_id) is not None  # nothing happened yet
    done = pipeline.confirm(asked.result.confirmation or "")
    assert done.result.state is ResultState.OK, done.result.reply
    assert store.get(note_id) is None
    assert store.db.query("SELECT count(*) FROM note_vectors")[0][0] == 0  # vectors went with it
    action = [r for r in services.audit.records() if r["event"] == "exec.action"]
    assert action[0]["data"]["args"]["text"] == "***"  # the audit keeps the confirmed summary, not the full text
    missing = pipeline.run_skill("notes.delete", {"id": note_id})
    assert missing.result.state is ResultState.ERROR
    assert missing.result.reply == f"There is no note {note_id}."


def test_delete_by_query_with_yes(services: Services) -> None:
    pipeline = Pipeline(services)
    pipeline.run_skill("notes.add", {"text": "buy milk"})
    pipeline.run_skill("notes.add", {"text": "dentist on friday"})
    done = pipeline.run_skill("notes.delete", {"query": "dentist"}, yes=True)
    assert done.result.state is ResultState.OK
    assert done.result.data["text"] == "dentist on friday"
    assert [n["text"] for n in pipeline.run_skill("notes.list", {}).result.data["notes"]] == ["buy milk"]


def test_delete_the_latest_note(services: Services) -> None:
    pipeline = Pipeline(services)
    assert pipeline.run_skill("notes.delete", {"latest": True}, yes=True).result.reply == "You have no notes to delete."
    pipeline.run_skill("notes.add", {"text": "buy milk"})
    pipeline.run_skill("notes.add", {"text": "last thing I said"})
    done = pipeline.run_skill("notes.delete", {"latest": True}, yes=True)
    assert done.result.state is ResultState.OK
    assert done.result.data["text"] == "last thing I said"  # the newest, not a search for "last"
    assert [n["text"] for n in pipeline.run_skill("notes.list", {}).result.data["notes"]] == ["buy milk"]


def test_cli_ask_list_and_delete(agent_home: Path) -> None:
    added = run_cli("ask", "--json", "take a note: Call Bob about the Q3 report")
    assert added.returncode == 0, added.stderr
    out = json.loads(added.stdout)
    assert (out["skill"], out["state"]) == ("notes.add", "ok")
    assert out["data"]["text"] == "Call Bob about the Q3 report"  # the user's own capitals
    listed = run_cli("notes", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    notes = json.loads(listed.stdout)["data"]["notes"]
    assert [n["text"] for n in notes] == ["Call Bob about the Q3 report"]
    deleted = run_cli("notes", "delete", str(notes[0]["id"]), "--yes")
    assert deleted.returncode == 0, deleted.stderr
    assert deleted.stdout.strip() == f"Deleted note {notes[0]['id']}."
    assert NoteStore(agent_home / "data" / DB_NAME).count() == 0
