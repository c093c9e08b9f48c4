from __future__ import annotations

import pytest

from agent.errors import AgentError
from agent.events import SkillResult
from agent.skills.base import Args, NoArgs, Skill, SkillContext
from agent.skills.registry import Registry, load_registry

CATALOGUE = {
    "system.status", "system.top", "process.kill", "command.run", "command.fix", "apps.open", "files.search",
    "files.index", "time.now", "math.calc", "timer.set", "reminder.add", "notes.add", "notes.search",
    "timetrack.start", "timetrack.stop", "timetrack.report", "password.generate", "password.get",
    "password.save", "finance.expense_add", "finance.report", "music.control", "security.scan", "health.alerts",
    "tools.recommend", "agent.help", "agent.stop", "agent.mute", "chat",
}


def test_builtins_load_through_the_entry_point() -> None:
    from importlib.metadata import entry_points

    eps = {ep.value for ep in entry_points(group="agent.skills")}
    assert "agent.skills.builtin:register_skills" in eps
    reg = load_registry()
    assert CATALOGUE <= set(reg.names())
    for name in ("system.status", "time.now", "math.calc", "agent.help", "chat", "command.run"):
        skill = reg.get(name)
        assert skill is not None, name
        assert skill.run is not None, name
        assert skill.plugin == "builtin"
        assert skill.examples, f"{name} has no examples for the router"


def test_an_external_plugin_registers_the_same_way() -> None:
    class EchoArgs(Args):
        word: str

    def run(args: EchoArgs, ctx: SkillContext) -> SkillResult:
        return SkillResult.ok(args.word)

    def register_skills(register: object) -> None:
        register(Skill("demo.echo", "say a word back", ("echo hello",), EchoArgs, False, run))  # type: ignore[operator]

    reg = load_registry()
    reg.load_plugin("demo", register_skills)
    skill = reg.get("demo.echo")
    assert skill is not None
    assert skill.plugin == "demo"
    assert skill.args is EchoArgs


def test_a_handler_replaces_a_declared_entry_but_two_handlers_clash() -> None:
    reg = Registry()
    reg.register(Skill("x.y", "declared only"))
    reg.register(Skill("x.y", "real", run=lambda a, c: SkillResult.ok("hi")))
    assert reg.get("x.y") is not None
    assert reg.get("x.y").description == "real"
    reg.register(Skill("x.y", "declared again"))  # ignored: the real one stays
    assert reg.get("x.y").description == "real"  # type: ignore[union-attr]
    with pytest.raises(AgentError, match="registered twice"):
        reg.register(Skill("x.y", "another", run=lambda a, c: SkillResult.ok("no")))


@pytest.mark.parametrize("name", ["System.Status", "system status", "system..status", ""])
def test_skill_names_are_dotted_lowercase(name: str) -> None:
    with pytest.raises(ValueError, match="dotted"):
        Skill(name, "bad", args=NoArgs)


DICE_MODULE = '''
from pydantic import Field

from agent.events import SkillResult
from agent.skills.base import Args, Register, Skill, SkillContext


class RollArgs(Args):
    sides: int = Field(6, ge=2, le=100)


def _roll(args: RollArgs, ctx: SkillContext) -> SkillResult:
    return SkillResult.ok(f"You rolled a {args.sides}-sided die.", sides=args.sides)


def register_skills(register: Register) -> None:
    register(Skill("dice.roll", "roll a die", args=RollArgs, run=_roll))
'''

DICE_SENTENCES = '''
language: en
intents:
  dice.roll:
    data:
      - sentences:
          - "(roll|throw) [a|the] (die|dice)"
          - "(roll|throw) a {sides}[ |-]sided (die|dice)"
lists:
  sides: {range: {from: 2, to: 100}}
examples:
  dice.roll:
    - "roll a die"
    - "I need a random dice throw"
'''


def test_the_readme_worked_example_adds_a_skill_with_one_module_and_one_sentence_file(
        services, tmp_path, monkeypatch) -> None:
    """README "Add a skill": a module and the YAML file beside it are the whole skill; it registers like a
    plugin, its examples come from the YAML, and the router matches its sentences and fills its argument."""
    import importlib
    import sys

    from agent.pipeline import Pipeline
    from agent.router.router import Router

    package = tmp_path / "mydice"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "dice.py").write_text(DICE_MODULE)
    (package / "dice.yaml").write_text(DICE_SENTENCES)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("mydice.dice")
    try:
        services.registry.load_plugin("mydice", module.register_skills)
        skill = services.registry.get("dice.roll")
        assert skill is not None
        assert skill.examples == ("roll a die", "I need a random dice throw")
        router = Router(services.settings, services.registry)
        intent = router.route("throw a 20-sided dice")
        assert (intent.skill, intent.args, intent.tier) == ("dice.roll", {"sides": 20}, "template")
        outcome = Pipeline(services).run_skill("dice.roll", intent.args)
        assert outcome.result.reply == "You rolled a 20-sided die."
    finally:
        sys.modules.pop("mydice.dice", None)
        sys.modules.pop("mydice", None)
