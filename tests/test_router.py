"""The tiered router: templates with slot parsing, semantic match on the real embedder, the LLM tier on the
real embedded GGUF, clarifying questions, follow-ups, and degraded operation without the LLM."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.config import load_settings
from agent.errors import ModelError
from agent.events import ResultState
from agent.models.llm import LocalLLM
from agent.pipeline import Pipeline
from agent.router.llm_tier import LLMTier
from agent.router.router import Router
from agent.services import Services, build_services
from agent.skills.registry import load_registry
from tests.conftest import run_cli


@pytest.fixture
def rules_only(paths: object) -> Router:
    """Tier 1 alone: no embedder, no LLM."""
    settings = load_settings()
    settings.router.use_llm = False
    return Router(settings, load_registry(), None, None)


@pytest.mark.parametrize(
    ("text", "skill", "args"),
    [
        ("Um, uh, set a timer for FIVE minutes.", "timer.set", {"seconds": 300}),
        ("start a timer for an hour and a half", "timer.set", {"seconds": 5400}),
        ("what's twelve times twelve", "math.calc", {"expression": "12 times 12"}),
        ("show me the top three processes by memory", "system.top", {"sort": "memory", "limit": 3}),
        ("terminate process 31337", "process.kill", {"pid": 31337}),
        ("take a note: renew the car insurance", "notes.add", {"text": "renew the car insurance"}),
        ("I paid 18 euros for a taxi", "finance.expense_add", {"amount": 18.0, "currency": "EUR",
                                                               "category": "transport"}),
        ("make me a thirty two character password", "password.generate", {"length": 32}),
        ("skip this song", "music.control", {"action": "next"}),
        ("start tracking time on project hermes", "timetrack.start", {"project": "hermes"}),
        ("how's my battery", "system.status", {"metric": "battery"}),
    ],
)
def test_templates_and_slots(rules_only: Router, text: str, skill: str, args: dict[str, object]) -> None:
    intent = rules_only.route(text)
    assert intent.tier == "template"
    assert intent.skill == skill
    for key, value in args.items():
        assert intent.args[key] == value, (key, intent.args)
    assert intent.question is None


def test_reminder_gets_text_and_an_iso_time(rules_only: Router) -> None:
    intent = rules_only.route("remind me in twenty minutes to check the oven")
    assert intent.skill == "reminder.add"
    assert intent.args["text"] == "check the oven"
    assert "T" in intent.args["when"]


@pytest.mark.parametrize(
    ("text", "question"),
    [("set a timer", "How long should the timer run?"), ("remind me to call mom", "When should I remind you?"),
     ("kill", "Which process? give a name or a pid?")],
)
def test_invalid_arguments_ask_instead_of_guessing(rules_only: Router, text: str, question: str) -> None:
    intent = rules_only.route(text)
    assert intent.question is not None
    assert intent.question.lower() == question.lower()


def test_follow_up_reuses_the_previous_skill(rules_only: Router) -> None:
    first = rules_only.route("what's my cpu usage")
    assert first.args == {"metric": "cpu"}
    second = rules_only.route("and memory?")
    assert (second.skill, second.args, second.tier) == ("system.status", {"metric": "memory"}, "context")
    rules_only.route("how much disk space is left")
    third = rules_only.route("what about the battery")
    assert third.args == {"metric": "battery"}


def test_without_any_model_unknown_text_goes_to_chat(rules_only: Router) -> None:
    intent = rules_only.route("who painted the sistine chapel ceiling")
    assert intent.skill == "chat"
    assert intent.args["text"] == "who painted the sistine chapel ceiling"


@pytest.mark.slow
def test_semantic_tier_on_the_real_embedder(shared_services: Services) -> None:
    router = shared_services.router()
    assert router.semantic is not None
    intent = router.route("give me a health overview of this laptop")
    assert intent.tier == "semantic", intent
    assert intent.skill == "system.status"
    assert "semantic" in intent.timings


@pytest.mark.slow
def test_llm_tier_on_the_embedded_gguf(shared_services: Services) -> None:
    llm = shared_services.models.get()
    assert isinstance(llm, LocalLLM)
    tier = LLMTier(llm, list(shared_services.registry))
    candidates = ["timer.set", "reminder.add", "time.now"]
    choice = tier.choose("start a countdown", candidates)
    assert choice in [*candidates, "chat"]  # the grammar allows nothing else
    timer = shared_services.registry.get("timer.set")
    assert timer is not None
    args = tier.fill_args("count down ninety seconds", timer, {})
    assert set(args) <= {"seconds", "label"}
    assert isinstance(args.get("seconds", 0), int)


@pytest.mark.slow
def test_router_uses_the_llm_when_the_cheap_tiers_are_unsure(shared_services: Services) -> None:
    settings = shared_services.settings.model_copy(deep=True)
    settings.router.semantic_threshold = 2.0  # force the unsure band
    settings.router.llm_rerank = True
    router = Router(settings, shared_services.registry, shared_services.models, shared_services.router().semantic)
    assert router.semantic is not None
    intent = router.route("is the computer struggling right now")
    assert intent.tier == "llm"
    assert intent.skill in [s for s, _ in router.semantic.match("is the computer struggling right now").ranked[:3]] + [
        "chat"]
    assert intent.timings["llm"] > 0


def test_missing_model_file_degrades_to_tiers_one_and_two(agent_home: Path, tmp_path: Path) -> None:
    env = {"AGENT_LLM__MODEL_PATH": str(tmp_path / "nope.gguf")}
    route = run_cli("route", "--json", "set a timer for 2 minutes", env=env)
    assert route.returncode == 0, route.stderr
    assert json.loads(route.stdout)["args"]["seconds"] == 120
    chat = run_cli("ask", "--json", "who painted the sistine chapel ceiling", env=env)
    out = json.loads(chat.stdout)
    assert out["skill"] == "chat"
    assert out["state"] == "unsupported"
    assert "llm.model_path" in out["data"]["error"]
    doctor = json.loads(run_cli("doctor", "--json", env=env).stdout)
    row = next(r for r in doctor if r["name"] == "chat model")
    assert row["ok"] is False
    assert "nope.gguf" in row["detail"]


def test_corrupt_model_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\x00" * 4096)
    settings = load_settings()
    with pytest.raises(ModelError) as err:
        LocalLLM(bad, settings.llm)
    assert "broken.gguf" in str(err.value)
    assert "corrupt" in err.value.fix
    text = tmp_path / "notes.gguf"
    text.write_text("not a model")
    with pytest.raises(ModelError, match="not a GGUF"):
        LocalLLM(text, settings.llm)


def test_history_is_encrypted_listable_and_clearable(services: Services) -> None:
    services.settings.router.use_llm = False
    pipeline = Pipeline(services)
    pipeline.handle("what is seventeen times three")
    history = services.history()
    assert history is not None
    turns = history.recent(5)
    assert [t.skill for t in turns] == ["math.calc"]
    assert "51" in turns[0].reply
    raw = history.path.read_bytes() + b"".join(p.read_bytes() for p in history.path.parent.glob("history*"))
    assert b"seventeen" not in raw
    assert b"math.calc" not in raw
    assert history.clear() == 1
    assert history.recent(5) == []


def test_follow_up_works_across_processes() -> None:
    assert json.loads(run_cli("ask", "--json", "how much memory am I using").stdout)["args"]["metric"] == "memory"
    out = json.loads(run_cli("ask", "--json", "and the disk?").stdout)
    assert (out["skill"], out["args"], out["tier"]) == ("system.status", {"metric": "disk"}, "context")
    listed = run_cli("history")
    assert "and the disk?" in listed.stdout
    assert run_cli("history", "clear").returncode == 0
    assert "and the disk?" not in run_cli("history").stdout


def test_chat_without_llm_is_unsupported_not_fake(services: Services) -> None:
    services.settings.llm.enabled = False
    services.models.settings = services.settings
    outcome = Pipeline(services).handle("tell me about the roman empire")
    assert outcome.intent.skill == "chat"
    assert outcome.result.state is ResultState.UNSUPPORTED


def test_fresh_services_share_nothing(paths: object) -> None:
    a, b = build_services(), build_services()
    assert a.bus is not b.bus


@pytest.mark.slow
def test_chat_longer_than_the_context_is_an_honest_error(shared_services: Services) -> None:
    outcome = Pipeline(shared_services).run_skill("chat", {"text": "why " * 5000}, source="cli")
    assert outcome.result.state is ResultState.ERROR
    assert "context" in outcome.result.reply
